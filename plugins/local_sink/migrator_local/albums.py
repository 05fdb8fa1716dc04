"""Album, folder and collection folders of links, and "Not in any album".

Containers arrive after every document of the run. An album folder `<source>/Albums/<title> [<id>]/`
holds `album.json` and one numbered link per member, in the source's order. Collections are built in
`finish()` (a child may arrive before its parent): `<source>/Collections/<title> [<id>]/` holds
numbered links to album folders and numbered real subfolders for child collections.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from migrator import Container, Context, Stored, StoredRecord

from . import layout
from .fsops import Tree, Writer, is_file, list_names, lstat, remove_entry
from .index import ALL, Index
from .links import Linker


def _is_dir(path: Path | None) -> bool:
    st = lstat(path) if path is not None else None
    return st is not None and stat.S_ISDIR(st.st_mode)


def sidecar_json(container: Container, missing: list[str]) -> bytes:
    """The folder's sidecar: what a person needs, plus the full record for replay."""
    data: dict[str, Any] = {"title": container.title, "description": container.description,
                            "ids": container.members, "container": container.to_json()}
    if missing:
        data["not_in_backup"] = missing
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def digest(container: Container) -> str:
    return hashlib.sha256(json.dumps(container.to_json(), sort_keys=True).encode()).hexdigest()


class Albums:
    def __init__(self, tree: Tree, writer: Writer, linker: Linker, index: Index, context: Context) -> None:
        self.tree, self.writer, self.linker, self.index, self.context = tree, writer, linker, index, context
        self.collections: dict[str, dict[str, Container]] = {}
        self.folders: dict[tuple[str, str], Path] = {}  # (source, album id) → folder, this run
        self.members: dict[str, set[str]] = {}  # source → ids of documents in some album, this run
        self.sources: set[str] = set()  # sources whose containers this run listed
        self.seen: set[tuple[str, str]] = set()  # (source, "kind:id") of the albums this run stored

    # -- store_container ------------------------------------------------------------------------
    def store(self, container: Container, previous: StoredRecord | None) -> Stored:
        self.sources.add(container.source)
        if container.member_kind == "container":
            return self._note_collection(container, previous)
        return self._album(container, previous)

    def _note_collection(self, container: Container, previous: StoredRecord | None) -> Stored:
        self.collections.setdefault(container.source, {})[container.id] = container
        fresh = digest(container)
        known = self.index.container(container.source, container.kind, container.id)
        before = known.get("digest") if known else previous.data.get("digest") if previous else None
        status = "new" if known is None and previous is None else "unchanged" if before == fresh else "updated"
        ref = f"{layout.source_dir(container.source)}/Collections/{layout.container_dir(container)}"
        return Stored(ref=ref, status=status, data={"digest": fresh})

    def _album(self, container: Container, previous: StoredRecord | None) -> Stored:
        parts = (layout.source_dir(container.source), layout.kind_dir(container.kind), layout.container_dir(container))
        known = self.index.container(container.source, container.kind, container.id)
        self._note_members(container, known)
        if self._as_built(container, parts, known):  # a rerun with nothing new: no link is touched
            missing, status = list(known["missing"]), "unchanged"
        else:
            missing, status = self._build_album(container, parts, previous)
        self.seen.add((container.source, f"{container.kind}:{container.id}"))
        self.folders[(container.source, container.id)] = self.tree.root.joinpath(*parts)
        self.members.setdefault(container.source, set()).update(container.members)
        rel = "/".join(parts)
        listed = ", ".join(map(str, missing[:10]))
        warnings = [f"{len(missing)} member(s) not in the backup yet: {listed}"] if missing else []
        return Stored(ref=rel, status=status, data={"dir": rel}, warnings=warnings)

    def _build_album(self, container: Container, parts: tuple[str, ...],
                     previous: StoredRecord | None) -> tuple[list[str], str]:
        existed = self._follow_rename(container, parts, previous)
        folder = self.tree.folder(*parts)
        built = self.index.seq  # the documents' names this build sees
        entries, missing = self._document_links(container)
        changed = self.linker.reconcile(folder, entries, keep={layout.sidecar_name(container.kind)})
        changed |= self.writer.write_if_changed(folder, layout.sidecar_name(container.kind),
                                                sidecar_json(container, missing))
        self.index.put_container(container.source, container.kind, container.id, self.tree.rel(folder),
                                 list(container.members), digest=digest(container), built=built,
                                 links=len(entries), missing=missing)
        return missing, "new" if not existed else "updated" if changed else "unchanged"

    def _as_built(self, container: Container, parts: tuple[str, ...], known: dict[str, Any] | None) -> bool:
        """The album folder is as the last run built it: same record, no member stored under a new name
        since, and as many entries as it made (one listing: a link removed by hand is put back)."""
        if not known or known.get("digest") != digest(container) or known.get("dir") != "/".join(parts):
            return False
        built, links, missing = known.get("built"), known.get("links"), known.get("missing")
        if not isinstance(built, int) or not isinstance(links, int) or not isinstance(missing, list):
            return False
        folder = self.tree.root.joinpath(*parts)
        if not _is_dir(folder) or len(list_names(folder)) != links + 1:
            return False
        return not self.index.moved_since(container.source, built) & set(container.members)

    def _note_members(self, container: Container, known: dict[str, Any] | None) -> None:
        """Documents that joined or left this album: their "Not in any album" links change in finish()."""
        before = set(known.get("members", [])) if known else set()
        if before != set(container.members):
            self.index.mark_changed(container.source, before ^ set(container.members))

    def _follow_rename(self, container: Container, parts: tuple[str, ...], previous: StoredRecord | None) -> bool:
        """A renamed album's folder follows its title; True when the folder existed before."""
        target = self.tree.root.joinpath(*parts)
        known = self.index.container(container.source, container.kind, container.id) or {}
        old_ref = known.get("dir") or (previous.data.get("dir") if previous else None)
        old = self.tree.resolve(old_ref)
        if old is not None and old != target and _is_dir(old) and lstat(target) is None:
            self.tree.folder(*parts[:-1])
            os.rename(old, target)
        return _is_dir(target)

    def _document_links(self, container: Container) -> tuple[dict[str, Path], list[str]]:
        entries: dict[str, Path] = {}
        missing: list[str] = []
        for position, member in enumerate(container.members, 1):
            path = self.document_path(container.source, member)
            if path is None:
                missing.append(member)
            else:
                entries[layout.numbered(position, len(container.members), path.name)] = path
        return entries, missing

    def document_path(self, source: str, doc_id: str) -> Path | None:
        """Where a document's file is: from the state store, else from the index."""
        record = self.context.stored(source, doc_id)
        refs = [record.ref] if record is not None and record.done and record.ref else []
        entry = self.index.get(source, doc_id)
        refs += [entry.ref] if entry is not None else []
        for ref in refs:
            path = self.tree.resolve(ref)
            if path is not None and is_file(path):
                return path
        return None

    # -- finish ---------------------------------------------------------------------------------
    def finish(self) -> None:
        self._vanished_albums()
        for source, ids in sorted(self.index.changed().items()):
            self._not_in_album(source, ids)
            self.index.clear_changed(source)
        for source, collections in self.collections.items():
            self._collection_roots(source, collections)

    def _vanished_albums(self) -> None:
        """Albums the index knows but this run's listing did not give: their members may be in none now."""
        for source in self.sources:
            for key in self.index.container_keys(source) - {k for s, k in self.seen if s == source}:
                if not key.startswith("collection:"):
                    kind, _, cid = key.partition(":")
                    self.index.mark_changed(source, (self.index.container(source, kind, cid) or {}).get("members", []))

    def _not_in_album(self, source: str, ids: set[str]) -> None:
        """Refresh the links of the documents in `ids` (all of them for ALL) in "Not in any album"."""
        in_album = self.members[source] if source in self.members else self.index.album_members(source)
        parts = (layout.source_dir(source), layout.NOT_IN_ALBUM)
        if ALL in ids or not _is_dir(self.tree.root.joinpath(*parts)):
            self._rebuild_not_in_album(parts, source, in_album)
            return
        folder = self.tree.folder(*parts)
        for doc_id in sorted(ids):
            entry = self.index.get(source, doc_id)
            path = self.tree.resolve(entry.ref) if entry is not None else None
            if path is None:
                continue
            if doc_id not in in_album and is_file(path):
                self.linker.place(path, folder / path.name)
            else:
                remove_entry(folder / path.name)

    def _rebuild_not_in_album(self, parts: tuple[str, str], source: str, in_album: set[str]) -> None:
        """The whole folder, links placed as the index is read (only their names are held)."""
        wanted: set[str] = set()
        folder = self.tree.root.joinpath(*parts)
        for doc_id, entry in self.index.of_source(source):
            path = self.tree.resolve(entry.ref)
            if doc_id not in in_album and path is not None and is_file(path):
                if not wanted:
                    folder = self.tree.folder(*parts)  # checked (and made) once
                self.linker.place(path, folder / path.name)
                wanted.add(path.name)
        if _is_dir(folder):
            for name in list_names(folder):
                if name not in wanted:
                    remove_entry(folder / name)

    def _collection_roots(self, source: str, collections: dict[str, Container]) -> None:
        children = {m for c in collections.values() for m in c.members if m in collections and m != c.id}
        for container in collections.values():
            if container.id not in children:
                parts = (layout.source_dir(source), "Collections", layout.container_dir(container))
                self._follow_rename(container, parts, None)
                self._collection(parts, container, collections, {container.id})

    def _collection(self, parts: tuple[str, ...], container: Container, collections: dict[str, Container],
                    path_ids: set[str]) -> None:
        folder = self.tree.folder(*parts)
        entries: dict[str, Path] = {}
        keep = {layout.sidecar_name(container.kind)}
        count = len(container.members)
        for position, member in enumerate(container.members, 1):
            child = collections.get(member)
            if child is not None and member not in path_ids:  # a cycle is cut, not followed
                name = layout.numbered(position, count, layout.container_dir(child))
                self._collection((*parts, name), child, collections, path_ids | {member})
                keep.add(name)
            elif (album := self._album_folder(container.source, member)) is not None:
                entries[layout.numbered(position, count, album.name)] = album
        self.linker.reconcile(folder, entries, keep)
        self.writer.write_if_changed(folder, layout.sidecar_name(container.kind), sidecar_json(container, []))
        self.index.put_container(container.source, container.kind, container.id, self.tree.rel(folder),
                                 list(container.members), digest=digest(container))

    def _album_folder(self, source: str, album_id: str) -> Path | None:
        if (source, album_id) in self.folders:
            return self.folders[(source, album_id)]
        refs = [c["dir"] for kind in ("album", "folder") if (c := self.index.container(source, kind, album_id))]
        record = self.context.stored(source, album_id, "album")
        refs += [record.ref] if record is not None and record.ref else []
        for ref in refs:
            path = self.tree.resolve(ref)
            if _is_dir(path) and path is not None and self.tree.inside(path):
                return path
        return None

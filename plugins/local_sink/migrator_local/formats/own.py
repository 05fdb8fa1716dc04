"""Backups written by the `local` sink: sidecars are the records, exactly as they were stored."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from migrator import Container, Document, Item
from migrator.errors import DocumentError
from migrator.folders import (
    Damaged,
    Folder,
    FolderFormat,
    Listed,
    an_object,
    damaged,
    is_dir,
    is_file,
    item_from_file,
    list_names,
    read_json,
)

from .. import layout
from ..fsops import Tree
from ..index import FORMAT, Index, read_sidecar, sidecars
from .check import container_from

SIDECARS = {layout.sidecar_name(kind) for kind in layout.KIND_DIRS}
_ID_IN_NAME = re.compile(r"\[([^\[\]]+)\]$")


class OwnBackup(FolderFormat):
    name = "migrator-local"
    # the records exactly as stored: where this sink adopted another tool's backup, its records win
    priority = 0

    def __init__(self, folder: Folder) -> None:
        super().__init__(folder)
        self.tree = Tree(folder.root)
        self.index = Index(self.tree)  # read only: one row per document listed, never written by the source
        self.index.open_to_read()
        self._containers: dict[str, Container] | None = None
        self._bad_containers: list[tuple[Path, Damaged]] = []

    @classmethod
    def detect(cls, folder: Folder) -> bool:
        return next(sidecars(Tree(folder.root)), None) is not None

    def documents(self) -> Iterator[Listed]:
        for stem, path in sidecars(self.tree):
            try:
                doc = _named_record(stem, path)
            except Damaged as exc:
                yield damaged(self.tree, *_origin(stem), path, exc)
                continue
            entry = self.index.get(doc.source, doc.id)
            size = entry.size if entry and entry.stem == stem else None
            # the stem alone: the source holds every listed entry, a Path each would double that memory
            yield Listed(doc.source, doc.id, doc.title, size, partial(self._load, stem))
        yield from self._damaged_files()

    def _damaged_files(self) -> Iterator[Listed]:
        """The index and the album and collection files that cannot be read, as failing entries."""
        if self.index.problem is not None:
            problem = Damaged(str(self.index.problem), "remove it (a cache: the local sink rebuilds it from the "
                                                      "sidecars), then rerun")
            yield damaged(self.tree, FORMAT, "index", self.index.problem_path, problem)
        self.containers_found()
        for path, exc in self._bad_containers:
            top, *_ = self.tree.rel(path).split("/")
            match = _ID_IN_NAME.search(path.parent.name)
            yield damaged(self.tree, top, f"{path.stem}:{match[1] if match else path.parent.name}", path, exc)

    def _load(self, stem: str) -> Item:
        sidecar = self.tree.root / f"{stem}.json"
        try:
            doc = read_sidecar(sidecar)
        except Damaged as exc:
            raise DocumentError(f"{self.tree.rel(sidecar)} {exc}: {exc.step}")
        entry = self.index.get(doc.source, doc.id)
        entry = entry if entry is not None and entry.stem == stem else None
        ext = entry.ext if entry is not None else layout.ext_for(doc)
        path = self.tree.root / f"{stem}.{ext}" if ext else None
        info = doc.file
        if path is None or not is_file(path):
            if (entry is not None and entry.ext is None) or info is None or info.size is None:
                return Item(doc, None)  # stored without an original
            raise DocumentError(f"{self.tree.root / stem}.{ext}: the original is missing")
        size = entry.size if entry is not None and entry.size is not None else (info.size if info else None)
        same_file = info is not None and size == info.size
        return item_from_file(doc, path, size, md5=info.md5 if same_file and info else None,
                              sha256=(entry.sha256 if entry else None) or (info.sha256 if same_file and info else None))

    def containers(self) -> Iterator[Container]:
        found = self.containers_found()
        yield from sorted(found.values(), key=lambda c: (c.member_kind == "container", c.position is None,
                                                         c.position or 0))

    def containers_found(self) -> dict[str, Container]:
        """The readable container files by key (read once); the others go to `_bad_containers`."""
        if self._containers is None:
            self._containers, self._bad_containers = {}, []
            for top in sorted(list_names(self.tree.root)):
                if top.startswith(".") or not is_dir(self.tree.root / top):
                    continue
                for kind_dir in sorted(list_names(self.tree.root / top)):
                    folder = self.tree.root / top / kind_dir
                    if not layout.is_year_bucket(kind_dir) and kind_dir != layout.NOT_IN_ALBUM and is_dir(folder):
                        self._walk(folder)
        return self._containers

    def _walk(self, folder: Path) -> None:
        for current, dirs, files in os.walk(folder):  # symlinked folders are not followed
            dirs.sort()
            # only the container's own file: the numbered links are its members, read in their year folders
            for name in sorted(n for n in files + dirs if n in SIDECARS):
                path = Path(current) / name
                try:
                    container = _read_container(path)
                except Damaged as exc:
                    self._bad_containers.append((path, exc))
                    continue
                self._containers.setdefault(container.key, container)


def _read_container(path: Path) -> Container:
    data = an_object(read_json(path), "a container file")
    if "container" not in data:
        raise Damaged('holds no "container" record')
    return container_from(data["container"])


def _named_record(stem: str, path: Path) -> Document:
    """The sidecar's record, which must be the one its path names (a copy or a hand edit could hide another)."""
    doc = read_sidecar(path)
    if (layout.source_dir(doc.source), layout.token(doc.id)) != _origin(stem):
        source, doc_id = _origin(stem)
        raise Damaged(f"holds the record of {doc.source}:{doc.id}, not the {source}:{doc_id} its path names")
    return doc


def _origin(stem: str) -> tuple[str, str]:
    """(source, id) as a sidecar's path names them: `<source>/<year>/<date> <title> [<id>]`."""
    top, _bucket, name = stem.split("/", 2)
    match = _ID_IN_NAME.search(name)
    return top, match[1] if match else name

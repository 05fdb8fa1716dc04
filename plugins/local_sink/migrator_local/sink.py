"""The `local` sink: a backup folder people can browse for years, and replay with the `local` source."""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from migrator import Container, Document, FileInfo, Item, Option, Sink, Stored, StoredRecord
from migrator.errors import DocumentError, ServiceStopped, UsageError
from migrator.paths import creatable_folder_problem
from migrator.records import dumps
from migrator.state import RunLock

from . import layout, xmp
from .adopt import Announced, Known, OldBackups, verify
from .albums import Albums
from .fsops import CHUNK, Tree, Writer, check_name, clean_parts, copy_into, digests, is_file, remove, set_mtime
from .index import INDEX, META, DocEntry, Index, write_marker
from .links import Linker, probe
from .viewer import Viewer


@dataclass
class Place:
    """Where a document lives: `<source>/<bucket>/<name>` plus extensions."""

    parts: tuple[str, str, str]
    entry: DocEntry | None = None  # what was stored there before, if known
    indexed: DocEntry | None = None  # the index's row for the document

    @property
    def stem(self) -> str:
        return "/".join(self.parts)

    @property
    def name(self) -> str:
        return self.parts[2]


@dataclass
class FileResult:
    ext: str | None
    size: int | None
    md5: str | None
    sha256: str | None
    status: str  # "new" | "updated" | "unchanged" | "none"
    warnings: list[str] = field(default_factory=list)
    record: Document | None = None  # what the sidecars say, when not the item's own record (a kept original)


def path_option() -> Option:
    return Option("path", Path, None, "the backup folder", required=True)


class LocalSink(Sink):
    name = "local"
    description = "a backup folder: originals with JSON and XMP sidecars, albums as folders of links"
    options = [path_option(), Option("xmp", bool, True, "write an XMP sidecar beside each original"),
               Option("xmp_name", str, "full", "the XMP sidecar's name: full = `x.jpg.xmp` (digiKam, darktable, "
                      "Immich), stem = `x.xmp` (Lightroom, Immich); changing it renames the XMPs already written",
                      choices=layout.XMP_NAMES),
               Option("viewer", bool, True, "write an offline viewer of the backup, index.html at its root, "
                      "refreshed at the end of each run (false: leave it as it is)")]

    @classmethod
    def sandbox(cls, workdir: Path) -> contextlib.AbstractContextManager[dict[str, Any]]:
        @contextlib.contextmanager
        def folder() -> Iterator[dict[str, Any]]:
            yield {"path": str(workdir / "backup")}

        return folder()

    @classmethod
    def sandbox_summary(cls, workdir: Path) -> list[str]:
        backup = workdir / "backup"
        files = sum(1 for p in backup.rglob("*") if p.is_file()) if backup.is_dir() else 0
        return [f"backup {backup}: {files} files"]

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        path = Path(self.config["path"]).expanduser()
        problem = creatable_folder_problem(path)
        if problem:
            raise UsageError(f"local.path {path} {problem}: choose another folder, or fix that one")
        try:
            self._open(path)
        except OSError as exc:
            raise UsageError(f"local.path {path}: {exc.strerror or exc} ({exc.filename})") from exc
        except sqlite3.Error as exc:
            raise UsageError(f"local.path {path}: cannot open {META}/{INDEX}: {exc}") from exc

    def _open(self, path: Path) -> None:
        if not self.context.dry_run:
            path.mkdir(parents=True, exist_ok=True)
        self.tree, self.writer = Tree(path), Writer()
        self.index = Index(self.tree, self.writer)
        self.old = OldBackups(self.tree, self.context.folder_formats)
        if self.context.dry_run:
            return
        self.lock = RunLock(self.tree.folder(META) / "folder", "the backup folder", "one run per folder at a time",
                            shown=self.tree.root)
        self.lock.acquire()
        write_marker(self.tree, self.writer)
        self.index.open()
        if self.index.problem is not None:
            self.context.log.info("%s %s: rebuilt from the sidecars", self.tree.rel(self.index.problem_path),
                                  self.index.problem)
        tops = self.index.folders_to_sweep()  # all after an interrupted run; else only folders new to the index
        for part in clean_parts(self.tree.root, tops):
            self.context.log.info("removed %s, left by an interrupted run", part)
        self.index.swept(tops)
        self._follow_xmp_rule()
        self.linker = Linker(probe(self.tree.folder(META)), self.writer)
        if self.linker.mode != "symlink":
            self.context.log.info("no symlinks on this disk: album folders use %ss", self.linker.mode)
        self.albums = Albums(self.tree, self.writer, self.linker, self.index, self.context)
        wanted = self.config.get("viewer", True)
        self.viewer = Viewer(self.tree, self.index, say=self.context.notice) if wanted else None
        if self.viewer is None:
            Viewer.forget(self.tree)

    def location(self) -> str | None:
        return str(Path(self.config["path"]).expanduser())

    def account(self) -> str:
        tree = getattr(self, "tree", None)
        return str(tree.root) if tree else str(Path(self.config["path"]).expanduser().resolve())

    def close(self) -> None:
        writer = getattr(self, "writer", None)
        if writer is None:
            return
        writer.abandon()  # a clean stop leaves no .part behind
        self.index.close()
        with contextlib.suppress(AttributeError):
            self.lock.release()

    def abandon(self) -> None:
        writer = getattr(self, "writer", None)
        if writer is not None:
            writer.abandon()  # the process exits next: no .part file stays behind

    def finish(self) -> None:
        try:
            self.albums.finish()
        except (OSError, DocumentError, sqlite3.Error) as exc:  # link folders are a view: report, keep the result
            self.context.warn(f"local: could not rebuild the album link folders: {exc}")
        if getattr(self, "viewer", None) is not None:
            self._update_viewer()

    def _update_viewer(self) -> None:
        """The viewer is a view, like the link folders: a failure is reported, the run's result stands."""
        try:
            outcome = self.viewer.update()
        except (OSError, sqlite3.Error) as exc:
            self.context.warn(f"local: could not update the viewer (index.html): {exc}; the next run tries again")
            return
        if outcome.warning:
            self.context.warn(f"local: {outcome.warning}")
        if outcome.files:
            self.context.log.info("viewer: %d document(s) refreshed, %d file(s) written%s", outcome.documents,
                                  outcome.files, " (rebuilt whole)" if outcome.full else "")

    # -- documents ------------------------------------------------------------------------------
    def store(self, item: Item, previous: StoredRecord | None) -> Stored:
        with disk_errors(f"{item.document.key} → {self.tree.root}"):
            return self._store(item, previous)

    def _store(self, item: Item, previous: StoredRecord | None) -> Stored:
        """The original and sidecars, durable (files and their folder synced) before the index row and
        before returning: the core marks the document done only then."""
        doc = item.document
        place = self._place(item, previous)
        folder = self.tree.folder(*place.parts[:2])
        with self.writer.grouped():
            if item.original is None:
                result = FileResult(None, None, None, None, "none")
            else:
                result = self._original(item, folder, place)
            described = Item(result.record, item.original) if result.record else item
            created, changed = self._sidecars(folder, place.name, described, result.ext)
        original = folder / f"{place.name}.{result.ext}" if result.ext else None
        if original is not None:
            self._set_date(original, item, result.warnings)
        entry = DocEntry(place.stem, result.ext, result.size, result.sha256, result.md5)
        if entry != place.indexed:  # a new row, or a new name: its links are refreshed in finish()
            self.index.put(doc.source, doc.id, entry)
        status = _status(result.status, created, changed)
        if self.viewer is not None and (status != "unchanged" or entry != place.indexed):
            self.viewer.touched(doc.source, doc.id)
        return Stored(ref=entry.ref, status=status, size=result.size,
                      sha256=result.sha256, data={"stem": place.stem, "ext": result.ext}, warnings=result.warnings,
                      local_copy=original if original is not None and is_file(original) else None)

    def _place(self, item: Item, previous: StoredRecord | None) -> Place:
        """The name a document got when first stored (names never follow later title changes)."""
        doc = item.document
        entry = self.index.get(doc.source, doc.id)
        for stem in ((previous.data.get("stem") if previous else None), entry.stem if entry else None):
            parts = tuple(stem.split("/")) if isinstance(stem, str) else ()
            if len(parts) == 3 and all(_valid(p) for p in parts):
                return Place(parts, entry if entry and entry.stem == stem else _entry_of(stem, previous), entry)
        return Place((layout.source_dir(doc.source), layout.bucket(doc), layout.doc_stem(doc)), None, entry)

    # -- the original ---------------------------------------------------------------------------
    def _original(self, item: Item, folder: Path, place: Place) -> FileResult:
        announced = Announced.of(item)
        ext = layout.ext_for(item.document)
        entry = place.entry
        current_ext = entry.ext if entry and entry.ext else ext
        current = folder / f"{place.name}.{current_ext}"
        if is_file(current):
            known = Known(entry.size, entry.md5, entry.sha256) if entry else None
            verdict = verify(current, announced, known)
            if verdict.ok:
                return self._keep(item, current, Known(verdict.size, verdict.md5, verdict.sha256), "unchanged")
            kept = self._kept_original(item, folder / f"{place.name}.json", current,
                                       known if known and known.size == verdict.size else Known(verdict.size))
            return kept or self._replace(item, folder, place.name, current, ext)
        adopted = self._adopt(item, folder, place.name, ext, announced)
        if adopted is not None:
            return adopted
        return self._result(ext, self._download(item, folder, f"{place.name}.{ext}"), "new")

    def _keep(self, item: Item, path: Path, known: Known, status: str, warnings: list[str] | None = None) -> FileResult:
        """`path` holds the original (hashed only if nothing knows its sha256: later sinks verify it by it)."""
        if known.sha256 is None:
            _, md5, sha256 = digests(path)
            known = Known(known.size, md5, sha256)
        return self._result(path.suffix[1:], known, status, warnings)

    def _kept_original(self, item: Item, sidecar: Path, current: Path, known: Known) -> FileResult | None:
        """A stand-in (a source's `source_metadata["fallback"]`: a smaller rendition where the service withholds
        the original, e.g. a free Flickr account) never takes the place of a file that was not one itself: the
        file stays, byte for byte, and its sidecars take the new metadata but keep describing that file."""
        doc = item.document
        stand_in = doc.source_metadata.get("fallback")
        if not stand_in:
            return None
        before = _sidecar_record(sidecar)
        was = before.get("source_metadata") if before else None
        if not isinstance(was, dict) or was.get("fallback"):
            return None  # no record of what the file is, or itself a stand-in: replaced (the old file is kept aside)
        file = before.get("file")  # it described the file that stays
        reason = doc.source_metadata.get("fallback_reason") or "the source withholds the original"
        warning = (f"kept the original {current.name}: the source now offers only its {stand_in!r} rendition "
                   f"({reason}); its metadata is kept up to date")
        result = self._keep(item, current, known, "unchanged", [warning])
        keys = FileInfo.__dataclass_fields__
        result.record = _describing(doc, FileInfo(**{k: v for k, v in file.items() if k in keys})
                                    if isinstance(file, dict) else doc.file)
        return result

    @staticmethod
    def _result(ext: str, known: Known, status: str, warnings: list[str] | None = None) -> FileResult:
        return FileResult(ext, known.size, known.md5, known.sha256, status, list(warnings or []))

    def _download(self, item: Item, folder: Path, name: str,
                  keep: Callable[[Known], bool] | None = None) -> Known:
        def fill(out: IO[bytes]) -> Known:
            with item.original.open() as stream:
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                    self.context.add_bytes(len(chunk))
                return Known(stream.bytes_read, stream.md5, stream.sha256)  # verified by the reader at its end

        return self.writer.write(folder, name, fill, keep)

    def _replace(self, item: Item, folder: Path, name: str, current: Path, ext: str) -> FileResult:
        """A different original: the new one takes the name, the old one stays as `<name>.<when>.<ext>`."""
        size, md5, sha256 = digests(current)
        warnings: list[str] = []

        def keep(new: Known) -> bool:
            if new.sha256 == sha256:
                return False  # same bytes after all: leave the file untouched
            warnings.append(f"the original changed; the previous one is kept as {_rotate(current).name}")
            self.writer.renamed_in(folder)
            return True

        known = self._download(item, folder, f"{name}.{ext}", keep)
        if known.sha256 == sha256:
            return self._keep(item, current, Known(size, md5, sha256), "unchanged")
        return self._result(ext, known, "updated", warnings)

    def _adopt(self, item: Item, folder: Path, name: str, ext: str, announced: Announced) -> FileResult | None:
        """An older tool's copy of this original: link it in instead of downloading."""
        doc = item.document
        raw_ext = (doc.file.ext or "") if doc.file else ""
        for path in self.old.candidates(doc.source, doc.id, [raw_ext, ext]):
            verdict = verify(path, announced)
            if not (verdict.ok or verdict.bigger):
                continue
            target = folder / f"{name}.{layout.clean_ext(path.suffix[1:]) or ext}"
            _link_or_copy(self.writer, path, target)
            warnings = [f"kept {self.tree.rel(path)} ({verdict.size} bytes): the source now offers only "
                        f"{announced.size} bytes, maybe a smaller rendition"] if verdict.bigger else []
            result = self._keep(item, target, Known(verdict.size, verdict.md5, verdict.sha256), "new", warnings)
            if verdict.bigger and doc.source_metadata.get("fallback"):  # the old tool's file is no stand-in
                result.record = _describing(doc, FileInfo(doc.file.name if doc.file else None, result.ext,
                                                          result.size, result.md5, result.sha256))
            return result
        return None

    # -- sidecars and dates ---------------------------------------------------------------------
    def _sidecars(self, folder: Path, name: str, item: Item, ext: str | None) -> tuple[bool, bool]:
        """Write the JSON (and XMP) sidecars when they differ: (JSON created, anything changed).

        The JSON is `<name>.json`; the XMP is named by the `xmp_name` option (see `_xmp_name`)."""
        doc = item.document
        created = not is_file(folder / f"{name}.json")
        changed = self.writer.write_if_changed(folder, f"{name}.json", dumps(doc).encode("utf-8"))
        if ext and self.config.get("xmp", True):
            wanted, _other = layout.xmp_names(name, ext, self._xmp_rule)
            changed |= self.writer.write_if_changed(folder, wanted, xmp.build(doc))
        return created, changed

    @property
    def _xmp_rule(self) -> str:
        return self.config.get("xmp_name", "full")

    def _follow_xmp_rule(self) -> None:
        """When `xmp_name` differs from the rule the folder was written with (an older backup: full), every XMP
        is renamed to the new rule, once: an original never has two of ours. Where both names exist, the other
        one is left alone (it may be a photo manager's own sidecar). A run stopped midway renames the rest
        next time: the rule is noted only once all are done."""
        if (self.index.setting("xmp_name") or "full") == self._xmp_rule:
            return
        renamed = 0
        for source in self.index.sources():
            for _doc_id, entry in self.index.of_source(source):
                path = self.tree.root / entry.stem
                if not entry.ext:
                    continue
                wanted, other = layout.xmp_names(path.name, entry.ext, self._xmp_rule)
                if is_file(path.parent / other) and not (path.parent / wanted).exists():
                    (path.parent / other).rename(path.parent / wanted)
                    self.writer.renamed_in(path.parent)
                    renamed += 1
        self.index.keep_setting("xmp_name", self._xmp_rule)
        if renamed:
            self.context.log.info("renamed %d XMP sidecars to the local.xmp_name=%s rule", renamed, self._xmp_rule)

    def _set_date(self, path: Path, item: Item, warnings: list[str]) -> None:
        timestamp = layout.timestamp(item.document)
        if timestamp is not None and not set_mtime(path, timestamp):
            warnings.append(f"cannot set the file date of {path.name} to {item.document.taken_at}")

    # -- containers -----------------------------------------------------------------------------
    def store_container(self, container: Container, previous: StoredRecord | None) -> Stored:
        with disk_errors(f"{container.kind} {container.key} → {self.tree.root}"):
            stored = self.albums.store(container, previous)
        if self.viewer is not None and stored.status != "unchanged":
            self.viewer.container_touched()
        return stored


@contextlib.contextmanager
def disk_errors(what: str) -> Iterator[None]:
    """A file system failure fails one record (a rerun retries it); a full disk stops the run cleanly."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise ServiceStopped(f"disk full: cannot write {exc.filename or what} (for {what}); free some space "
                                 "on that disk, then rerun") from exc
        raise DocumentError(f"{what}: {exc.strerror or exc} ({exc.filename})") from exc
    except sqlite3.Error as exc:  # the index
        index = f"{META}/{INDEX}"
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            raise ServiceStopped(f"disk full: cannot write {index} (for {what}); free some space on that disk, "
                                 "then rerun") from exc
        raise DocumentError(f"{what}: {index}: {exc} (if this repeats, remove {index}: it is rebuilt from "
                            "the sidecars)") from exc


def _describing(doc: Document, file: FileInfo | None) -> Document:
    """The record as the sidecars keep it beside a real original that a stand-in did not replace."""
    metadata = {k: v for k, v in doc.source_metadata.items() if k not in ("fallback", "fallback_reason")}
    return replace(doc, source_metadata=metadata, file=file)


def _sidecar_record(path: Path) -> dict[str, Any] | None:
    """The JSON sidecar's record as written, None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _status(original: str, sidecar_created: bool, changed: bool) -> str:
    if original == "new" or (original == "none" and sidecar_created):
        return "new"
    return "updated" if original == "updated" or changed else "unchanged"


def _valid(part: str) -> bool:
    """A stored name is reused only if it is still a safe name (state files can be edited by hand)."""
    try:
        check_name(part)
    except DocumentError:
        return False
    return part == layout.safe_component(part)


def _entry_of(stem: str, previous: StoredRecord | None) -> DocEntry | None:
    if previous is None:
        return None
    ext = previous.data.get("ext")
    return DocEntry(stem, ext if isinstance(ext, str) and ext == layout.clean_ext(ext) else None,
                    previous.size, previous.sha256)


def _rotate(current: Path) -> Path:
    """Rename `<name>.<ext>` to a free `<name>.<YYYYMMDD-HHMMSS>.<ext>` beside it."""
    stem, dot, ext = current.name.rpartition(".")
    when = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        candidate = current.with_name(f"{stem}.{when}{f'-{n}' if n else ''}{dot}{ext}")
        if not candidate.exists() and not candidate.is_symlink():
            current.rename(candidate)
            for old, new in ((current.name, candidate.name), (stem, candidate.name.rpartition(".")[0])):
                xmp_file = current.with_name(f"{old}.xmp")  # under either xmp_name rule
                if is_file(xmp_file):  # the old version keeps the metadata it had
                    xmp_file.rename(candidate.with_name(f"{new}.xmp"))
            return candidate
    raise FileExistsError(current)


def _link_or_copy(writer: Writer, source: Path, target: Path) -> None:
    """A hard link shares the bytes with the old tool's file without touching it; else a copy."""
    remove(target)
    try:
        target.hardlink_to(source)
    except OSError:
        copy_into(writer, source, target.parent, target.name)

"""Originals already on disk: this sink's own files and older tools' backups in the same folder.

Where another tool keeps its originals is known by the folder formats installed plugins register
(`migrator.folders`). A file is adopted when a format names it for the document's id and its size or hash
matches what the record announces; it is hard-linked (or copied) into our layout, never moved, changed or
deleted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from migrator import Item
from migrator.folders import Folder, FolderFormat, Originals

from .fsops import digests, is_file, lstat

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Announced:
    """What the source says the original is; any part may be unknown."""

    size: int | None
    md5: str | None
    sha256: str | None

    @classmethod
    def of(cls, item: Item) -> Announced:
        original, info = item.original, item.document.file
        size = original.size if original is not None else None
        if size is None and info is not None:
            size = info.size
        md5 = (original.md5 if original else None) or (info.md5 if info else None)
        sha256 = (original.sha256 if original else None) or (info.sha256 if info else None)
        return cls(size, (md5 or "").lower() or None, (sha256 or "").lower() or None)

    @property
    def known(self) -> bool:
        return self.size is not None or self.md5 is not None or self.sha256 is not None


@dataclass(frozen=True)
class Known:
    """What the index remembers of a file we wrote (trusted only while the size on disk still matches)."""

    size: int | None = None
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    size: int = 0
    md5: str | None = None
    sha256: str | None = None
    bigger: bool = False  # the file on disk is larger than announced: maybe the announced one is a fallback


def verify(path: Path, announced: Announced, known: Known | None = None) -> Verdict:
    """Does the regular file at `path` hold the announced original? Reads it only when a hash must be checked
    and the index does not already know it (re-reading a large video library on each refresh would hurt)."""
    st = lstat(path)
    if st is None or not is_file(path) or not announced.known:
        return Verdict(False)
    size = st.st_size
    if announced.size is not None and size != announced.size:
        return Verdict(False, size, bigger=size > announced.size)
    known = known if known is not None and known.size == size else Known()
    if announced.md5 in (None, known.md5) and announced.sha256 in (None, known.sha256):
        return Verdict(True, size, known.md5, known.sha256)
    _, md5, sha256 = digests(path)
    ok = announced.md5 in (None, md5) and announced.sha256 in (None, sha256)
    return Verdict(ok, size, md5, sha256)


class OldBackups:
    """Finds other tools' originals in the backup folder, asking each format that keeps some."""

    def __init__(self, folder: Folder, formats: Sequence[type[FolderFormat]]) -> None:
        self.folder = folder
        self.finders: list[Originals] = [fmt.originals(folder) for fmt in formats if fmt.originals is not None]

    def candidates(self, source: str, doc_id: str, exts: list[str]) -> list[Path]:
        if not _ID.fullmatch(doc_id):
            return []  # an id that is not a plain token never names an old tool's file
        found = [path for finder in self.finders for path in finder.candidates(source, doc_id, exts)]
        # lstat + realpath: a planted symlink never makes an outside file look like an old backup
        return [path for path in found if is_file(path) and self.folder.inside(path)]

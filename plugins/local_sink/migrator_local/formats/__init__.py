"""Backup folders the `local` source can replay: its own, flip's, flickrmirrorer's.

Each format lists documents (cheaply, loading lazily) and containers as normalized records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from migrator import Container, Document, Item, Original
from migrator.errors import DocumentError

from ..fsops import Tree, is_file, lstat
from .check import Damaged


@dataclass
class Listed:
    source: str
    id: str
    title: str
    size: int | None
    load: Callable[[], Item]


class Format(Protocol):
    name: str

    def documents(self) -> Iterator[Listed]: ...

    def containers(self) -> Iterator[Container]: ...


def item_from_file(doc: Document, path: Path, size: int | None = None, md5: str | None = None,
                   sha256: str | None = None) -> Item:
    """The document with its original on disk; a file whose size differs from the record fails."""
    st = lstat(path)
    if st is None or not is_file(path):
        raise DocumentError(f"{path}: the original is missing (or not a regular file)")
    if size is not None and st.st_size != size:
        raise DocumentError(f"{path}: {st.st_size} bytes on disk but the record says {size}: not replayed")
    return Item(doc, Original.from_file(path, f"{doc.key} ({path.name})", size=st.st_size, md5=md5, sha256=sha256))


def damaged(tree: Tree, source: str, doc_id: str, path: Path, problem: Damaged) -> Listed:
    """A listed document whose backup file cannot be read: loading it fails, naming the file and the way out
    (listing it keeps it from vanishing silently; `source`/`id` come from its name where possible, so the
    fixed file takes its place on the next run)."""
    message = f"{tree.rel(path)} {problem}: {problem.step}"

    def load() -> Item:
        raise DocumentError(message)

    return Listed(source, doc_id, "", None, load)

"""Backups written by the `local` sink: sidecars are the records, exactly as they were stored."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from migrator import Container, Item
from migrator.errors import DocumentError

from .. import layout
from ..fsops import Tree, Writer, is_file, list_names
from ..index import Index, read_sidecar, sidecars
from . import Listed, item_from_file


class OwnBackup:
    name = "migrator-local"

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.index = Index(tree, Writer())  # read-only here: never saved by the source
        self.index.load()

    @classmethod
    def detect(cls, tree: Tree) -> bool:
        return next(sidecars(tree), None) is not None

    def documents(self) -> Iterator[Listed]:
        for stem, path in sidecars(self.tree):
            doc = read_sidecar(path)
            if doc is None:
                continue
            entry = self.index.get(doc.source, doc.id)
            size = entry.size if entry and entry.stem == stem else None
            yield Listed(doc.source, doc.id, doc.title, size, partial(self._load, stem, path))

    def _load(self, stem: str, sidecar: Path) -> Item:
        doc = read_sidecar(sidecar)
        if doc is None:
            raise DocumentError(f"{sidecar}: not a readable record any more")
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
        found: dict[str, Container] = {}
        for top in sorted(list_names(self.tree.root)):
            if top.startswith("."):
                continue
            for kind_dir in sorted(list_names(self.tree.root / top)):
                if not layout.is_year_bucket(kind_dir) and kind_dir != layout.NOT_IN_ALBUM:
                    self._walk(self.tree.root / top / kind_dir, found)
        yield from sorted(found.values(), key=lambda c: (c.member_kind == "container", c.position is None,
                                                         c.position or 0))

    def _walk(self, folder: Path, found: dict[str, Container]) -> None:
        for current, dirs, files in os.walk(folder):  # symlinked folders are not followed
            dirs.sort()
            for name in sorted(files):
                path = Path(current) / name
                if not name.endswith(".json") or not is_file(path):
                    continue
                container = _read_container(path)
                if container is not None:
                    found.setdefault(container.key, container)


def _read_container(path: Path) -> Container | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        return Container.from_json(data["container"]) if isinstance(data, dict) and "container" in data else None
    except (OSError, ValueError, TypeError, KeyError):
        return None

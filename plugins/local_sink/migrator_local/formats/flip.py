"""flip's folder: `<docid>.<ext>` beside `<docid>.json` (compact JSON of flip's Doc struct).

Keys: docid, originalurl, originalsize, ext, media, title, description, date ("YYYY-MM-DD HH:MM:SS",
taken), albums (titles, or null), family, friends, public. Album ids, order and descriptions were never
saved, so albums get stable synthetic ids `flip-album:<title>` and the folder's order.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from migrator import AlbumRef, Container, Document, FileInfo, Item, Visibility
from migrator.dates import wall_clock
from migrator.errors import DocumentError

from ..fsops import Tree, is_file, list_names
from . import Listed, item_from_file

SOURCE = "ipernity"
MEDIA = ("photo", "video", "audio", "other")
_NAME = re.compile(r"([A-Za-z0-9_-]{1,64})\.json")
_EXT = re.compile(r"[A-Za-z0-9]{1,16}")


def album_id(title: str) -> str:
    return f"flip-album:{title}"


def taken(date: Any) -> tuple[str | None, str | None]:
    """flip's `date` (ipernity's date taken; zeros: unknown parts) → local ISO time and its granularity."""
    return wall_clock(date)


def _natural(name: str) -> tuple[int, str]:
    return (len(name), name) if name.isdigit() else (1 << 30, name)


def document(raw: dict[str, Any], albums: dict[str, dict[str, int]]) -> Document:
    """One flip record; `albums` maps album title → {docid: 1-based position}."""
    doc_id = str(raw["docid"])
    taken_at, granularity = taken(raw.get("date"))
    titles = [t for t in raw.get("albums") or [] if isinstance(t, str)]
    ext = str(raw.get("ext") or "") or None
    size = raw.get("originalsize")
    return Document(
        source=SOURCE, id=doc_id, media=raw.get("media") if raw.get("media") in MEDIA else "other",
        title=str(raw.get("title") or ""), description=str(raw.get("description") or ""),
        taken_at=taken_at, taken_granularity=granularity,
        visibility=Visibility(public=bool(raw.get("public")), friends=bool(raw.get("friends")),
                              family=bool(raw.get("family"))),
        albums=[AlbumRef(album_id(t), t, albums.get(t, {}).get(doc_id)) for t in dict.fromkeys(titles)],
        file=FileInfo(ext=ext, size=size if isinstance(size, int) and size > 0 else None,
                      content_type=mimetypes.guess_type(f"x.{ext}")[0] if ext else None),
        source_metadata={"flip": raw},
    )


class FlipBackup:
    name = "flip"

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.records: dict[str, Path] = {}
        self.albums: dict[str, dict[str, int]] = {}  # title → {docid: position}, in file order
        for name in sorted(list_names(tree.root), key=_natural):
            raw = _read(tree.root / name) if _NAME.fullmatch(name) else None
            if raw is not None and str(raw["docid"]) == name[:-5]:
                self.records[name[:-5]] = tree.root / name
                for title in dict.fromkeys(t for t in raw.get("albums") or [] if isinstance(t, str)):
                    members = self.albums.setdefault(title, {})
                    members.setdefault(name[:-5], len(members) + 1)

    @classmethod
    def detect(cls, tree: Tree) -> bool:
        return any(_NAME.fullmatch(n) and _read(tree.root / n) for n in list_names(tree.root))

    def documents(self) -> Iterator[Listed]:
        for doc_id, path in self.records.items():
            raw = _read(path) or {}
            size = raw.get("originalsize")
            yield Listed(SOURCE, doc_id, str(raw.get("title") or ""), size if isinstance(size, int) else None,
                         partial(self._load, path))

    def _load(self, path: Path) -> Item:
        raw = _read(path)
        if raw is None:
            raise DocumentError(f"{path}: not a readable flip record any more")
        doc = document(raw, self.albums)
        ext = str(raw.get("ext") or "")
        if not _EXT.fullmatch(ext):
            raise DocumentError(f"{path}: the extension {ext!r} cannot name a file")
        return item_from_file(doc, self.tree.root / f"{doc.id}.{ext}", doc.file.size if doc.file else None)

    def containers(self) -> Iterator[Container]:
        for title, members in self.albums.items():
            yield Container(kind="album", source=SOURCE, id=album_id(title), title=title, members=list(members),
                            source_metadata={"flip": {"title": title}})


def _read(path: Path) -> dict[str, Any] | None:
    """A flip record, or None for any other JSON file (ours, other tools', damaged ones)."""
    if not is_file(path):
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and "docid" in data and "originalurl" in data:
        return data
    return None

"""flip's folder: `<docid>.<ext>` beside `<docid>.json` (compact JSON of flip's Doc struct).

Keys: docid, originalurl, originalsize, ext, media, title, description, date ("YYYY-MM-DD HH:MM:SS",
taken), albums (titles, or null), family, friends, public. Album ids, order and descriptions were never
saved, so albums get stable synthetic ids `flip-album:<title>` and the folder's order.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from migrator import AlbumRef, Container, Document, FileInfo, Item, Visibility
from migrator.dates import wall_clock
from migrator.errors import DocumentError
from migrator.folders import (
    NEXT_STEP,
    Damaged,
    Folder,
    FolderFormat,
    Listed,
    Originals,
    check,
    damaged,
    is_file,
    item_from_file,
    kind_of,
    list_names,
    read_json,
    short,
)

SOURCE = "ipernity"
LAST_DOC = "ipernity_last_doc"
MEDIA = ("photo", "video", "audio", "other")
_NAME = re.compile(r"([A-Za-z0-9_-]{1,64})\.json")
_EXT = re.compile(r"[A-Za-z0-9]{1,16}")
_TEXT = {"type": ["string", "null"]}
_FLAG = {"type": ["boolean", "null"]}
# flip's Go struct `Doc`; null where Go writes a string or a flag reads as its zero value.
RECORD = {"type": "object", "properties": {
    "docid": {"type": "string", "minLength": 1}, "originalurl": _TEXT, "originalsize": {"type": ["integer", "null"]},
    "ext": _TEXT, "media": _TEXT, "title": _TEXT, "description": _TEXT, "date": _TEXT,
    "albums": {"type": ["array", "null"], "items": {"type": "string"}}, "family": _FLAG, "friends": _FLAG,
    "public": _FLAG}}


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
    titles = list(raw.get("albums") or [])
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


class FlipOriginals(Originals):
    """flip left `<docid>.<ext>` beside `<docid>.json` at the top of the folder."""

    def candidates(self, source: str, doc_id: str, exts: Sequence[str]) -> list[Path]:
        if source != SOURCE:
            return []
        return [self.folder.root / f"{doc_id}.{ext}" for ext in dict.fromkeys(exts) if _EXT.fullmatch(ext or "")]


class FlipBackup(FolderFormat):
    name = "flip"
    priority = 50  # flip saved less than ipernity said (no album ids, no tags)
    originals = FlipOriginals

    def __init__(self, folder: Folder) -> None:
        super().__init__(folder)
        self.listed: dict[str, tuple[str, int | None] | Damaged] = {}  # docid → (title, size), in file order
        self.albums: dict[str, dict[str, int]] = {}  # title → {docid: position}, in file order
        for name in sorted(list_names(folder.root), key=_natural):
            if not _NAME.fullmatch(name):
                continue
            try:
                raw = _read(folder.root / name)
            except Damaged as exc:
                self.listed[name[:-5]] = exc
                continue
            if raw is not None:
                self._note(name[:-5], raw)

    def _note(self, doc_id: str, raw: dict[str, Any]) -> None:
        size = raw.get("originalsize")
        self.listed[doc_id] = (str(raw.get("title") or ""), size if isinstance(size, int) else None)
        for title in dict.fromkeys(raw.get("albums") or []):
            members = self.albums.setdefault(title, {})
            members.setdefault(doc_id, len(members) + 1)

    @classmethod
    def detect(cls, folder: Folder) -> bool:
        """A readable flip record, or flip's position file beside files named like records."""
        names = [n for n in list_names(folder.root) if _NAME.fullmatch(n)]
        if names and is_file(folder.root / LAST_DOC):
            return True
        return any(_quiet_read(folder.root / n) for n in names)

    def documents(self) -> Iterator[Listed]:
        for doc_id, found in self.listed.items():
            path = self.folder.root / f"{doc_id}.json"
            if isinstance(found, Damaged):
                yield damaged(self.folder, SOURCE, doc_id, path, found)
            else:
                yield Listed(SOURCE, doc_id, found[0], found[1], partial(self._load, path))

    def _load(self, path: Path) -> Item:
        try:
            raw = _read(path)
        except Damaged as exc:
            raise DocumentError(f"{self.folder.rel(path)} {exc}: {exc.step}")
        if raw is None:
            raise DocumentError(f"{self.folder.rel(path)} is not a flip record any more: {NEXT_STEP}")
        doc = document(raw, self.albums)
        ext = str(raw.get("ext") or "")
        if not _EXT.fullmatch(ext):
            raise DocumentError(f"{self.folder.rel(path)}: the extension {ext!r} cannot name a file: {NEXT_STEP}")
        return item_from_file(doc, self.folder.root / f"{doc.id}.{ext}", doc.file.size if doc.file else None)

    def containers(self) -> Iterator[Container]:
        for title, members in self.albums.items():
            yield Container(kind="album", source=SOURCE, id=album_id(title), title=title, members=list(members),
                            source_metadata={"flip": {"title": title}})


def _read(path: Path) -> dict[str, Any] | None:
    """A flip record; None for another tool's JSON file. A file named `<digits>.json`, or holding flip's
    keys, is flip's: `Damaged` says what is wrong with it."""
    try:
        return record(read_json(path), path.name[:-5])
    except Damaged:
        if path.name[:-5].isdigit():
            raise
        return None


def record(data: Any, doc_id: str) -> dict[str, Any]:
    """The flip record `<doc_id>.json` holds, checked: `document()` can read every field of it."""
    if not isinstance(data, dict) or not ("docid" in data or "originalurl" in data):
        raise Damaged(f"holds {'an object without docid' if isinstance(data, dict) else kind_of(data)}, "
                      "not a flip record")
    problem = check(data, RECORD, RECORD)
    if problem is None and "docid" not in data:
        problem = "docid is missing"
    if problem is None and data["docid"] != doc_id:
        problem = f"docid is {short(data['docid'])}, not the {doc_id!r} of its name"
    if problem is not None:
        raise Damaged(f"has a bad field: {problem}")
    return data


def _quiet_read(path: Path) -> dict[str, Any] | None:
    try:
        return _read(path)
    except Damaged:
        return None

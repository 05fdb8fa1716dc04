"""A flickrmirrorer mirror: `photostream/<file>` + `<file>.metadata` (the raw people.getPhotos item),
`Albums/<quoted title> - <id>/metadata` (photosets.getList item, `photos` = ordered member ids) and
`Collections/<quoted title> - <id>/metadata` (collections.getTree node, children nested as folders).
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from migrator import AlbumRef, Container, Document, FileInfo, Geo, Item, Visibility
from migrator.dates import FLICKR_GRANULARITY, utc_from_epoch
from migrator.errors import DocumentError
from migrator.licenses import FLICKR, canonical

from .. import layout
from ..fsops import Tree, is_file, list_names
from . import Listed, item_from_file

SOURCE = "flickr"
METADATA = ".metadata"


def content(value: Any) -> str:
    """Flickr wraps some texts as {"_content": ...}."""
    if isinstance(value, dict):
        value = value.get("_content", "")
    return "" if value is None else str(value)


utc = utc_from_epoch


def tags(raw: dict[str, Any]) -> list[str]:
    """Normalized tags, with machine tags in their raw `ns:pred=value` form instead of their normalized twin."""
    machine = str(raw.get("machine_tags") or "").split()
    squeezed = {"".join(ch for ch in m.lower() if ch.isalnum()) for m in machine}
    plain = [t for t in str(raw.get("tags") or "").split() if t not in machine and t not in squeezed]
    return plain + list(dict.fromkeys(machine))


def taken(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    text = str(raw.get("datetaken") or "")
    if str(raw.get("datetakenunknown", "0")) == "1" or len(text) != 19 or text.startswith("0000"):
        return None, None
    return text.replace(" ", "T"), FLICKR_GRANULARITY.get(str(raw.get("datetakengranularity", "0")))


def geo(raw: dict[str, Any]) -> Geo | None:
    try:
        lat, lng = float(raw.get("latitude") or 0), float(raw.get("longitude") or 0)
        accuracy = int(raw["accuracy"]) if str(raw.get("accuracy") or "").isdigit() else None
    except (TypeError, ValueError):
        return None
    if (lat, lng) == (0, 0) or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return Geo(lat, lng, accuracy)


def document(raw: dict[str, Any], path: Path, albums: dict[str, list[AlbumRef]]) -> Document:
    taken_at, granularity = taken(raw)
    ext = layout.clean_ext(path.suffix[1:]) or str(raw.get("originalformat") or "") or None
    media = raw.get("media") if raw.get("media") in ("photo", "video") else "other"
    return Document(
        source=SOURCE, id=str(raw["id"]), media=media, title=content(raw.get("title")),
        description=content(raw.get("description")), tags=tags(raw), taken_at=taken_at,
        taken_granularity=granularity, posted_at=utc(raw.get("dateupload")), updated_at=utc(raw.get("lastupdate")),
        visibility=Visibility(public=_flag(raw.get("ispublic")), friends=_flag(raw.get("isfriend")),
                              family=_flag(raw.get("isfamily"))),
        license=canonical(FLICKR, raw.get("license")), geo=geo(raw), albums=list(albums.get(str(raw["id"]), [])),
        file=FileInfo(name=path.name, ext=ext, size=path.stat().st_size,
                      content_type=mimetypes.guess_type(path.name)[0]),
        source_metadata={"people.getPhotos": raw},
    )


def _flag(value: Any) -> bool:
    return str(value).strip() not in ("", "0", "False", "false", "None")


class MirrorBackup:
    name = "flickrmirrorer"

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.stream = tree.root / "photostream"
        self.album_records = [(path, raw) for path in _metadata_dirs(tree.root / "Albums")
                              if (raw := _read(path)) is not None]
        self.albums: dict[str, list[AlbumRef]] = {}
        for _, raw in self.album_records:
            for position, member in enumerate(raw.get("photos") or [], 1):
                ref = AlbumRef(str(raw.get("id")), content(raw.get("title")), position)
                self.albums.setdefault(str(member), []).append(ref)

    @classmethod
    def detect(cls, tree: Tree) -> bool:
        return any(n.endswith(METADATA) for n in list_names(tree.root / "photostream"))

    def documents(self) -> Iterator[Listed]:
        for name in sorted(list_names(self.stream)):
            meta = self.stream / name
            raw = _read(meta) if name.endswith(METADATA) else None
            if raw is None or "id" not in raw:
                continue
            media = self.stream / name[: -len(METADATA)]
            size = media.stat().st_size if is_file(media) else None
            yield Listed(SOURCE, str(raw["id"]), content(raw.get("title")), size, partial(self._load, meta, media))

    def _load(self, meta: Path, media: Path) -> Item:
        raw = _read(meta)
        if raw is None or not is_file(media) or not self.tree.inside(media):
            raise DocumentError(f"{media}: the file or its metadata is missing")
        return item_from_file(document(raw, media, self.albums), media)

    def containers(self) -> Iterator[Container]:
        for _, raw in self.album_records:
            yield Container(kind="album", source=SOURCE, id=str(raw.get("id")), title=content(raw.get("title")),
                            description=content(raw.get("description")),
                            members=[str(m) for m in raw.get("photos") or []],
                            updated_at=utc(raw.get("date_update")), source_metadata={"photosets.getList": raw})
        yield from self._collections(self.tree.root / "Collections", None)

    def _collections(self, folder: Path, parent: str | None) -> Iterator[Container]:
        for path in _metadata_dirs(folder):
            raw = _read(path)
            if raw is None:
                continue
            members = [str(s.get("id")) for s in raw.get("set") or [] if isinstance(s, dict)]
            members += [str(c.get("id")) for c in raw.get("collection") or [] if isinstance(c, dict)]
            yield Container(kind="collection", source=SOURCE, id=str(raw.get("id")), title=content(raw.get("title")),
                            description=content(raw.get("description")), members=members, member_kind="container",
                            parent=parent, source_metadata={"collections.getTree": raw})
            yield from self._collections(path.parent, str(raw.get("id")))


def _metadata_dirs(folder: Path) -> list[Path]:
    """`<dir>/metadata` of each real sub-folder (album links inside collections are symlinks: skipped)."""
    found = []
    for name in sorted(list_names(folder)):
        sub = folder / name
        if not os.path.islink(sub) and sub.is_dir() and is_file(sub / "metadata"):
            found.append(sub / "metadata")
    return found


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

"""A flickrmirrorer mirror: `photostream/<file>` + `<file>.metadata` (the raw people.getPhotos item),
`Albums/<quoted title> - <id>/metadata` (photosets.getList item, `photos` = ordered member ids) and
`Collections/<quoted title> - <id>/metadata` (collections.getTree node, children nested as folders).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from migrator import AlbumRef, Container, Document, FileInfo, Geo, Item, Visibility
from migrator.dates import FLICKR_GRANULARITY, utc_from_epoch
from migrator.errors import DocumentError
from migrator.licenses import FLICKR, canonical

from .. import layout
from ..fsops import Tree, is_dir, is_file, list_names
from . import Listed, damaged, item_from_file
from .check import Damaged, kind_of, read_json, short

SOURCE = "flickr"
METADATA = ".metadata"
_STREAM_ID = re.compile(r"(\d+)[._]")
_FOLDER_ID = re.compile(r" - ([^ ]+)$")


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
        self.album_records: list[tuple[Path, dict[str, Any]]] = []
        self.collection_records: list[tuple[Path, dict[str, Any], str | None]] = []
        self.bad: list[tuple[Path, Damaged]] = []  # album and collection files that cannot be read
        for path in _metadata_files(tree.root / "Albums"):
            self._note(path, self.album_records.append, album_problem)
        self._note_collections(tree.root / "Collections", None)
        self.albums: dict[str, list[AlbumRef]] = {}
        for _, raw in self.album_records:
            for position, member in enumerate(raw.get("photos") or [], 1):
                ref = AlbumRef(str(raw["id"]), content(raw.get("title")), position)
                self.albums.setdefault(str(member), []).append(ref)

    def _note(self, path: Path, keep: Callable[..., None], problem_of: Callable[[Any], str | None],
              *extra: Any) -> dict[str, Any] | None:
        try:
            raw = checked(read_json(path), problem_of)
        except Damaged as exc:
            self.bad.append((path, exc))
            return None
        keep((path, raw, *extra))
        return raw

    def _note_collections(self, folder: Path, parent: str | None) -> None:
        for path in _metadata_files(folder):
            raw = self._note(path, self.collection_records.append, collection_problem, parent)
            if raw is not None:
                self._note_collections(path.parent, str(raw["id"]))

    @classmethod
    def detect(cls, tree: Tree) -> bool:
        return any(n.endswith(METADATA) for n in list_names(tree.root / "photostream"))

    def documents(self) -> Iterator[Listed]:
        for name in sorted(list_names(self.stream)):
            if not name.endswith(METADATA):
                continue
            meta, media = self.stream / name, self.stream / name[: -len(METADATA)]
            match = _STREAM_ID.match(media.name)
            try:
                raw = checked(read_json(meta), photo_problem)
                if match and str(raw["id"]) != match[1]:
                    raise Damaged(f"holds the metadata of photo {short(raw['id'])}, not of the {match[1]} its "
                                  "name says")
            except Damaged as exc:
                yield damaged(self.tree, SOURCE, match[1] if match else media.name, meta, exc)
                continue
            size = media.stat().st_size if is_file(media) else None
            yield Listed(SOURCE, str(raw["id"]), content(raw.get("title")), size, partial(self._load, meta, media))
        for path, exc in self.bad:
            match = _FOLDER_ID.search(path.parent.name)
            kind = "album" if self.tree.rel(path).startswith("Albums/") else "collection"
            yield damaged(self.tree, SOURCE, f"{kind}:{match[1] if match else path.parent.name}", path, exc)

    def _load(self, meta: Path, media: Path) -> Item:
        try:
            raw = checked(read_json(meta), photo_problem)
        except Damaged as exc:
            raise DocumentError(f"{self.tree.rel(meta)} {exc}: {exc.step}")
        if not is_file(media) or not self.tree.inside(media):
            raise DocumentError(f"{self.tree.rel(media)}: the file is missing (or not a regular file)")
        return item_from_file(document(raw, media, self.albums), media)

    def containers(self) -> Iterator[Container]:
        for _, raw in self.album_records:
            yield album(raw)
        for _, raw, parent in self.collection_records:
            yield collection(raw, parent)


def album(raw: dict[str, Any]) -> Container:
    return Container(kind="album", source=SOURCE, id=str(raw["id"]), title=content(raw.get("title")),
                     description=content(raw.get("description")), members=[str(m) for m in raw.get("photos") or []],
                     updated_at=utc(raw.get("date_update")), source_metadata={"photosets.getList": raw})


def collection(raw: dict[str, Any], parent: str | None) -> Container:
    members = [str(s["id"]) for s in raw.get("set") or []] + [str(c["id"]) for c in raw.get("collection") or []]
    return Container(kind="collection", source=SOURCE, id=str(raw["id"]), title=content(raw.get("title")),
                     description=content(raw.get("description")), members=members, member_kind="container",
                     parent=parent, source_metadata={"collections.getTree": raw})


# -- checks: what the readers above rely on ---------------------------------------------------------
def checked(data: Any, problem_of: Callable[[Any], str | None]) -> dict[str, Any]:
    problem = problem_of(data)
    if problem is not None:
        raise Damaged(problem)
    return data


def photo_problem(raw: Any) -> str | None:
    """What keeps a people.getPhotos item from being read, or None."""
    return _problem(raw, ("title", "description", "tags", "machine_tags", "datetaken"),
                    ("ispublic", "isfriend", "isfamily", "dateupload", "lastupdate", "datetakengranularity",
                     "datetakenunknown", "latitude", "longitude", "accuracy", "license", "media", "originalformat"))


def album_problem(raw: Any) -> str | None:
    problem = _problem(raw, ("title", "description"), ("date_update",))
    photos = raw.get("photos") if isinstance(raw, dict) else None
    if problem is None and photos is not None and not (isinstance(photos, list) and all(map(_is_id, photos))):
        problem = "has a bad field: photos is not a list of photo ids"
    return problem


def collection_problem(raw: Any) -> str | None:
    problem = _problem(raw, ("title", "description"), ())
    for key in ("set", "collection"):
        value = raw.get(key) if isinstance(raw, dict) else None
        if problem is None and value is not None and not (
                isinstance(value, list) and all(isinstance(v, dict) and _is_id(v.get("id")) for v in value)):
            problem = f"has a bad field: {key} is not a list of objects with an id"
    return problem


def _problem(raw: Any, texts: tuple[str, ...], scalars: tuple[str, ...]) -> str | None:
    if not isinstance(raw, dict):
        return f"holds {kind_of(raw)}, not Flickr's metadata object"
    if not _is_id(raw.get("id")):
        return f"has a bad field: id is {short(raw.get('id'))}, not a Flickr id"
    for key in texts:
        value = raw.get(key)
        value = value.get("_content") if isinstance(value, dict) and set(value) == {"_content"} else value
        if not _scalar(value):
            return f"has a bad field: {key} is {kind_of(value)}, not a text"
    for key in scalars:
        if not _scalar(raw.get(key)):
            return f"has a bad field: {key} is {kind_of(raw.get(key))}, not a text or a number"
    return None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float))


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (isinstance(value, int) and not isinstance(value, bool))


def _metadata_files(folder: Path) -> list[Path]:
    """`<dir>/metadata` of each real sub-folder (album links inside collections are symlinks: skipped)."""
    return [folder / name / "metadata" for name in sorted(list_names(folder)) if is_dir(folder / name)]

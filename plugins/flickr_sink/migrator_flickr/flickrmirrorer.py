"""A flickrmirrorer mirror: `photostream/<file>` + `<file>.metadata` (the raw people.getPhotos item),
`Albums/<quoted title> - <id>/metadata` (photosets.getList item, `photos` = ordered member ids) and
`Collections/<quoted title> - <id>/metadata` (collections.getTree node, children nested as folders).
"""

from __future__ import annotations

import mimetypes
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from migrator import AlbumRef, Container, Document, FileInfo, Item
from migrator.errors import DocumentError
from migrator.folders import (
    Damaged,
    Folder,
    FolderFormat,
    Listed,
    Originals,
    damaged,
    is_dir,
    is_file,
    item_from_file,
    kind_of,
    list_names,
    read_json,
    short,
)

from . import mapping
from .mapping import SOURCE, text

METADATA = ".metadata"
_STREAM_ID = re.compile(r"(\d+)[._]")
_FOLDER_ID = re.compile(r" - ([^ ]+)$")
_EXT = re.compile(r"[A-Za-z0-9]{1,16}")


def document(raw: dict[str, Any], path: Path, albums: dict[str, list[AlbumRef]]) -> Document:
    """A photo from its people.getPhotos item, through the Flickr mapper; the file names its format."""
    suffix = path.suffix[1:].lower()
    ext = suffix if _EXT.fullmatch(suffix) else text(raw.get("originalformat")) or None
    file = FileInfo(name=path.name, ext=ext, size=path.stat().st_size, content_type=mimetypes.guess_type(path.name)[0])
    return mapping.document(raw, None, None, None, albums.get(text(raw["id"]), []), file)


class MirrorOriginals(Originals):
    """flickrmirrorer left `photostream/<id>.<ext>` (videos: `<id>_<secret>.<ext>`); the folder is listed
    once, by the first thread that asks."""

    def __init__(self, folder: Folder) -> None:
        super().__init__(folder)
        self._stream: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def candidates(self, source: str, doc_id: str, exts: Sequence[str]) -> list[Path]:
        if source != SOURCE:
            return []
        return [self.folder.root / "photostream" / name for name in self._photostream().get(doc_id, [])]

    def _photostream(self) -> dict[str, list[str]]:
        with self._lock:
            if self._stream is None:
                self._stream = {}
                for name in sorted(list_names(self.folder.root / "photostream")):
                    match = _STREAM_ID.match(name)
                    if match and not name.endswith(METADATA):
                        self._stream.setdefault(match[1], []).append(name)
            return self._stream


class MirrorBackup(FolderFormat):
    name = "flickrmirrorer"
    priority = 50  # Flickr's own answers, but only the listing's part of them
    originals = MirrorOriginals

    def __init__(self, folder: Folder) -> None:
        super().__init__(folder)
        self.stream = folder.root / "photostream"
        self.album_records: list[tuple[Path, dict[str, Any]]] = []
        self.collection_records: list[tuple[Path, dict[str, Any], str | None]] = []
        self.bad: list[tuple[Path, Damaged]] = []  # album and collection files that cannot be read
        for path in _metadata_files(folder.root / "Albums"):
            self._note(path, self.album_records.append, album_problem)
        self._note_collections(folder.root / "Collections", None)
        self.albums: dict[str, list[AlbumRef]] = {}
        for _, raw in self.album_records:
            for position, member in enumerate(raw.get("photos") or [], 1):
                ref = AlbumRef(str(raw["id"]), text(raw.get("title")), position)
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
    def detect(cls, folder: Folder) -> bool:
        return any(n.endswith(METADATA) for n in list_names(folder.root / "photostream"))

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
                yield damaged(self.folder, SOURCE, match[1] if match else media.name, meta, exc)
                continue
            size = media.stat().st_size if is_file(media) else None
            yield Listed(SOURCE, str(raw["id"]), text(raw.get("title")), size, partial(self._load, meta, media))
        for path, exc in self.bad:
            match = _FOLDER_ID.search(path.parent.name)
            kind = "album" if self.folder.rel(path).startswith("Albums/") else "collection"
            yield damaged(self.folder, SOURCE, f"{kind}:{match[1] if match else path.parent.name}", path, exc)

    def _load(self, meta: Path, media: Path) -> Item:
        try:
            raw = checked(read_json(meta), photo_problem)
        except Damaged as exc:
            raise DocumentError(f"{self.folder.rel(meta)} {exc}: {exc.step}")
        if not is_file(media) or not self.folder.inside(media):
            raise DocumentError(f"{self.folder.rel(media)}: the file is missing (or not a regular file)")
        return item_from_file(document(raw, media, self.albums), media)

    def containers(self) -> Iterator[Container]:
        # the folders' order is their names', not the account's: no positions
        for _, raw in self.album_records:
            yield mapping.album(raw, [text(m) for m in raw.get("photos") or []], None)
        for _, raw, parent in self.collection_records:
            yield mapping.collection(raw, parent, None)


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

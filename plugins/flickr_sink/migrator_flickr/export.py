"""Flickr's data export ("Your Flickr data", account settings), read as a folder format of the `local` source.

The folder holds the export's ZIP archives as downloaded (read in place, streamed: nothing is unpacked), or
their contents unpacked (at the top or one sub-folder per archive), or a mix. Archives are told apart by what
they hold, not by their names: `photo_<id>.json` (one per photo or video), `albums.json` and the other account
files, and the originals, named `<title slug>_<id>_o.<ext>`, `<id>_<secret>_o.<ext>` or, for videos,
`<title slug>_<id>.<ext>`. The photo id is the only link between an original and its JSON.

Each photo becomes the document the `flickr` source makes of it (source `flickr`, the Flickr id, through the same
mapper), so a backup begun from the export and continued with `migrator run flickr local`, or the other way
round, holds every photo once. The raw `photo_<id>.json` is kept as `source_metadata["flickr_export"]`.
What the export cannot say: whether a "friend & family" photo is friends-only, family-only or both (Flickr
merges them: the record says both), how precise a taken date is, and collections; `migrator_flickr.hybrid`
asks Flickr's listing calls for those when credentials are given. Its dates carry no time zone: they are
read as UTC, as the API's are.

Reconciliation: a photo whose original is missing, a media file without its JSON and an unreadable entry each
stay a listed document that fails with the reason and the next step, so the run report and `migrator status`
name it by id and title, and a rerun once the missing archive is added picks it up. Album entries that name no
photo of the export and counts that disagree are warnings in the run report.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from migrator import AlbumRef, Comment, Container, Document, FileInfo, Item, Note, Original
from migrator.answers import as_int, text
from migrator.errors import DocumentError, IntegrityError
from migrator.folders import (
    MAX_BYTES,
    Damaged,
    Folder,
    FolderFormat,
    Listed,
    damaged,
    is_dir,
    is_file,
    list_names,
    parse_json,
)
from migrator.licenses import ALL_RIGHTS_RESERVED

from . import hybrid, mapping
from .mapping import SOURCE

PHOTO_JSON = re.compile(r"photo_(\d+)\.json", re.I)
ACCOUNT_FILES = ("albums.json", "account_profile.json")
EXPORT_ZIP = re.compile(r"\d{5,}_[0-9a-f]+_part\d+\.zip|data-download-\d+\.zip|data_\d+_[0-9a-f]+_\d+\.zip", re.I)
_ID_FIRST = re.compile(r"(\d+)_[0-9a-f]+_o", re.I)  # <id>_<secret>_o
_SLUG_FIRST = re.compile(r".*_(\d+)_o", re.I)  # <slug>_<id>_o
_VIDEO = re.compile(r".*_(\d+)", re.I)  # <slug>_<id> (videos)
VIDEO_EXTS = {"mp4", "mov", "avi", "m4v", "3gp", "mpg", "mpeg", "wmv", "mts", "m2ts", "webm"}
UNPROCESSED_VIDEO = "video_encoding.jpg"
SAFETY = {"safe": 1, "moderate": 2, "restricted": 3}
LICENSES = {"all rights reserved": ALL_RIGHTS_RESERVED, "no known copyright restrictions": "no-known-copyright",
            "united states government work": "us-government-work", "public domain dedication (cc0)": "CC0-1.0",
            "cc0 1.0": "CC0-1.0", "public domain mark": "public-domain-mark"}
_CC = re.compile(r"cc (by(?:-nc)?(?:-sa|-nd)?) (\d\.\d)")
log = logging.getLogger("migrator.local")
REREQUEST = ("add the archive that holds it to the folder and rerun; if none has it, request the export again "
             "(Flickr's later exports were found complete) or download it from its page")


# -- the files of an export -------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One file of the export: an entry of a ZIP archive, or a file of the unpacked folder."""

    path: Path  # the archive, or the file itself
    entry: str | None  # the name inside the archive; None for a file
    size: int

    @property
    def name(self) -> str:
        return (self.entry or self.path.name).rsplit("/", 1)[-1]

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.entry}" if self.entry else f"{self.path.parent.name}/{self.path.name}"

    def open(self) -> IO[bytes]:
        if self.entry is None:
            return open(self.path, "rb")
        with zipfile.ZipFile(self.path) as archive:  # the entry keeps the file open until it is closed
            return ZipStream(archive.open(self.entry), self.where)

    def read(self, archive: zipfile.ZipFile | None = None) -> bytes:
        """The whole file (a metadata file: small), from `archive` when it is this entry's, opened already."""
        if self.size > MAX_BYTES:
            raise Damaged(f"is {self.size} bytes, too big for a metadata file")
        try:
            if archive is not None:
                return archive.read(self.entry)
            with self.open() as stream:
                return stream.read()
        except (OSError, zipfile.BadZipFile, zlib.error, IntegrityError, EOFError) as exc:
            raise Damaged(f"cannot be read ({exc})") from None


class ZipStream:
    """An archive entry's stream whose damage (a bad CRC, a cut archive) fails the document, not the run."""

    def __init__(self, raw: IO[bytes], where: str) -> None:
        self.raw, self.where = raw, where

    def read(self, n: int = -1) -> bytes:
        try:
            return self.raw.read(n)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise IntegrityError(f"{self.where} is damaged ({exc}): download that archive again") from None

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> ZipStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def inventory(root: Path) -> tuple[list[Member], list[tuple[Path, str]]]:
    """Every file of the export under `root` (ZIP entries, files at the top and one folder down), and the
    archives that cannot be opened with why."""
    members: list[Member] = []
    broken: list[tuple[Path, str]] = []
    for name in sorted(list_names(root)):
        path = root / name
        if name.startswith("."):
            continue
        if is_dir(path):
            members += [Member(path / n, None, (path / n).stat().st_size) for n in sorted(list_names(path))
                        if not n.startswith(".") and is_file(path / n)]
        elif is_file(path) and name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(path) as archive:
                    members += [Member(path, i.filename, i.file_size) for i in archive.infolist() if not i.is_dir()]
            except (zipfile.BadZipFile, OSError) as exc:
                broken.append((path, f"is not a readable ZIP archive ({exc})"))
        elif is_file(path):
            members.append(Member(path, None, path.stat().st_size))
    return members, broken


def contents(members: list[Member]) -> Iterator[tuple[Member, bytes | Damaged]]:
    """Each member's bytes, or why they cannot be read; each archive is opened once (a metadata archive
    holds a JSON file per photo: opening it per file would read its directory thousands of times)."""
    by_archive: dict[Path, list[Member]] = {}
    for member in members:
        by_archive.setdefault(member.path, []).append(member)
    for path, group in by_archive.items():
        try:
            archive = zipfile.ZipFile(path) if group[0].entry is not None else None
        except (zipfile.BadZipFile, OSError) as exc:  # changed since the inventory
            yield from ((member, Damaged(f"cannot be read ({exc})")) for member in group)
            continue
        try:
            for member in group:
                try:
                    yield member, member.read(archive)
                except Damaged as exc:
                    yield member, exc
        finally:
            if archive is not None:
                archive.close()


def media_ids(name: str) -> list[str]:
    """The photo ids a media file's name can mean, likeliest first (`12_34_o.jpg` may be either)."""
    stem, _, ext = name.rpartition(".")
    found = [m[1] for m in (_ID_FIRST.fullmatch(stem), _SLUG_FIRST.fullmatch(stem)) if m]
    if not found and ext.lower() in VIDEO_EXTS and (m := _VIDEO.fullmatch(stem)):
        found.append(m[1])
    return list(dict.fromkeys(found))


# -- the export's fields, through the Flickr mapper --------------------------------------------------
def utc_text(value: Any) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` (no zone: read as UTC, as the API's dates are) → the record's `...Z` form."""
    try:
        moment = datetime.strptime(text(value).strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment.year > 1 else None


def epoch(value: Any) -> int | None:
    found = utc_text(value)
    return int(datetime.strptime(found, "%Y-%m-%dT%H:%M:%S%z").timestamp()) if found else None


def license_id(value: Any) -> str | None:
    """The export spells licenses out (`CC BY-NC-SA 2.0`, `All Rights Reserved`): the canonical id."""
    name = text(value).strip().lower()
    found = _CC.fullmatch(name)
    return f"CC-{found[1].upper()}-{found[2]}" if found else LICENSES.get(name)


def first_geo(value: Any) -> dict[str, Any]:
    """`geo`: a list of one object (older exports: the object), millionths of a degree as text."""
    block = value[0] if isinstance(value, list) and value else value
    if not isinstance(block, dict):
        return {}
    try:
        lat, lng = int(str(block.get("latitude"))) / 1e6, int(str(block.get("longitude"))) / 1e6
    except (TypeError, ValueError):
        return {}
    return {"latitude": lat, "longitude": lng, "accuracy": block.get("accuracy")}


def visibility_flags(privacy: Any) -> dict[str, int]:
    """"friend & family" stands for friends-only and family-only too (Flickr merges them): both set."""
    value = text(privacy).strip().lower()
    friends = value in ("friend & family", "friends & family", "friends")
    family = value in ("friend & family", "friends & family", "family")
    return {"ispublic": int(value == "public"), "isfriend": int(friends), "isfamily": int(family)}


def listing_item(raw: dict[str, Any], media: str) -> dict[str, Any]:
    """The export's fields in the shape of a people.getPhotos item, so the `flickr` source's mapper reads them."""
    return {"id": text(raw.get("id")), "title": text(raw.get("name")), "description": text(raw.get("description")),
            "dateupload": epoch(raw.get("date_imported")), "datetaken": text(raw.get("date_taken")),
            "media": media, "rotation": raw.get("rotation"), **visibility_flags(raw.get("privacy")),
            **first_geo(raw.get("geo"))}


def comments(raw: dict[str, Any]) -> list[Comment]:
    return [Comment(id=text(c.get("id")), author=text(c.get("user")), posted_at=utc_text(c.get("date")),
                    text=text(c.get("comment"))) for c in _objects(raw.get("comments"))]


def notes(raw: dict[str, Any]) -> list[Note]:
    """Flickr never documented this list's shape; the likely key names are read."""
    def pick(note: dict[str, Any], *keys: str) -> Any:
        return next((note[k] for k in keys if k in note), None)

    return [Note(id=text(n.get("id")), author=text(pick(n, "author", "user", "authorname")),
                 text=text(pick(n, "note", "text")), x=as_int(n.get("x")), y=as_int(n.get("y")),
                 width=as_int(pick(n, "w", "width")), height=as_int(pick(n, "h", "height")))
            for n in _objects(raw.get("notes"))]


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# what a listing item replaces of the export's own fields (the export merges friends and family, has no
# taken-date precision and no last update)
API_FIELDS = ("ispublic", "isfriend", "isfamily", "datetaken", "datetakengranularity", "datetakenunknown",
              "lastupdate")
FROM_API = ["visibility", "taken_at", "taken_granularity", "updated_at"]


def document(raw: dict[str, Any], media: Member, position: int | None, albums: list[AlbumRef],
             listed: dict[str, Any] | None = None) -> Document:
    """A photo of the export, as the `flickr` source maps it; `listed` (its people.getPhotos item, from
    `hybrid`) gives what the export lacks: who may see it, the taken date's precision, the last update."""
    ext = media.name.rpartition(".")[2].lower() if "." in media.name else None
    kind = "video" if ext in VIDEO_EXTS else "photo"
    own = listing_item(raw, kind)
    item = own if listed is None else {**own, **{k: listed[k] for k in API_FIELDS if k in listed}}
    file = FileInfo(name=media.name, ext=ext, size=media.size, content_type=mimetypes.guess_type(media.name)[0])
    doc = mapping.document(item, None, None, position, albums, file)
    tags, bookkeeping = mapping.split_tags([text(t.get("tag")) for t in _objects(raw.get("tags"))])
    metadata: dict[str, Any] = {"flickr_export": raw}
    if bookkeeping:
        metadata["migrator_tags"] = bookkeeping
        metadata["origin"] = mapping.origin(bookkeeping)
    if listed is not None:
        metadata["people.getPhotos"] = listed
        metadata["from_api"] = {"fields": list(FROM_API), "call": "flickr.people.getPhotos"}
    return mapping.writable(replace(
        doc, tags=tags, safety=SAFETY.get(text(raw.get("safety")).strip().lower(), 1),
        license=license_id(raw.get("license")), comments=comments(raw), notes=notes(raw), source_metadata=metadata))


# -- the folder format ------------------------------------------------------------------------------
@dataclass
class Photo:
    """One photo id of the export: its JSON (or why it cannot be read) and its original, either may lack."""

    id: str
    json: Member | None = None
    raw: dict[str, Any] | None = None
    problem: Damaged | None = None
    media: Member | None = None

    @property
    def title(self) -> str:
        return text(self.raw.get("name")) if self.raw else ""


class FlickrExport(FolderFormat):
    name = "flickr-export"
    priority = 60  # Flickr's own export, less than the API says (friends and family merged, no precision)

    @classmethod
    def detect(cls, folder: Folder) -> bool:
        names = list_names(folder.root)
        return any(EXPORT_ZIP.fullmatch(n) or PHOTO_JSON.fullmatch(n) or n in ACCOUNT_FILES for n in names) or any(
            n in ACCOUNT_FILES for d in names if is_dir(folder.root / d) for n in list_names(folder.root / d))

    def __init__(self, folder: Folder) -> None:
        super().__init__(folder)
        self._read: bool = False
        self.photos: dict[str, Photo] = {}
        self.album_list: list[dict[str, Any]] = []
        self.broken: list[tuple[Path, str]] = []
        self.problems: list[str] = []  # for the run report: what the export holds that does not add up
        # filled by `hybrid` from Flickr's listings: photo id -> people.getPhotos item, the albums (their
        # order) and collections, album id -> its photos where albums.json lists too few
        self.listing: dict[str, dict[str, Any]] = {}
        self.api_containers: list[Container] | None = None
        self.album_photos: dict[str, list[str]] = {}

    # -- reading the export --------------------------------------------------------------------------
    def read(self) -> None:
        """Inventory and parse the export once: every JSON read, every original matched to its photo."""
        if self._read:
            return
        self._read = True
        members, self.broken = inventory(self.folder.root)
        wanted = [m for m in members if PHOTO_JSON.fullmatch(m.name) or m.name == "albums.json"]
        for member, data in contents(wanted):
            found = PHOTO_JSON.fullmatch(member.name)
            if found:
                self._photo_json(found[1], member, data)
            else:
                self._albums(member, data)
        for member in (m for m in members if not m.name.lower().endswith(".json")):
            self._media(member)
        hybrid.fill(self)
        self._check_albums()

    def _photo_json(self, photo_id: str, member: Member, data: bytes | Damaged) -> None:
        photo = self.photos.setdefault(photo_id, Photo(photo_id))
        if photo.json is not None:
            self.problems.append(f"photo {photo_id}: two JSON files ({photo.json.where}, {member.where}); "
                                 "the first is read")
            return
        photo.json = member
        try:
            if isinstance(data, Damaged):
                raise data
            raw = parse_json(data)
            if not isinstance(raw, dict):
                raise Damaged("holds no photo object")
            if text(raw.get("id")) != photo_id:
                raise Damaged(f"holds photo {text(raw.get('id'))!r}, not the {photo_id} its name says")
        except Damaged as exc:
            photo.problem = exc
            return
        photo.raw = raw

    def _albums(self, member: Member, data: bytes | Damaged) -> None:
        try:
            if isinstance(data, Damaged):
                raise data
            raw = parse_json(data)
        except Damaged as exc:
            self.problems.append(f"{member.where} {exc}: albums are left out; {REREQUEST}")
            return
        known = {text(a.get("id")) for a in self.album_list}
        more = [a for a in _objects(raw.get("albums") if isinstance(raw, dict) else None)
                if text(a.get("id")) and text(a.get("id")) not in known]
        self.album_list += more

    def _media(self, member: Member) -> None:
        candidates = media_ids(member.name)
        if not candidates:
            self.problems.append(f"{member.where}: a file whose name holds no Flickr photo id; left out")
            return
        photo_id = next((c for c in candidates if c in self.photos), candidates[0])
        photo = self.photos.setdefault(photo_id, Photo(photo_id))
        if photo.media is not None:
            self.problems.append(f"photo {photo_id}: two originals ({photo.media.where}, {member.where}); "
                                 "the first is kept")
            return
        photo.media = member

    def _check_albums(self) -> None:
        for album in self.album_list:
            listed = [text(p) for p in album.get("photos") or []] if isinstance(album.get("photos"), list) else []
            members = self.album_members(album)
            unknown = [p for p in listed if p not in members]
            label = f"album {text(album.get('id'))} {text(album.get('title'))!r}"
            if unknown:
                self.problems.append(f"{label} lists {len(unknown)} photo(s) the export does not hold: "
                                     f"{', '.join(unknown[:10])}")
            count = as_int(album.get("photo_count"))
            if count is not None and count != len(listed):
                self.problems.append(f"{label}: albums.json counts {count} photos but lists {len(listed)}")

    def album(self, album_id: str) -> dict[str, Any] | None:
        return next((a for a in self.album_list if text(a.get("id")) == album_id), None)

    def album_members(self, album: dict[str, Any]) -> list[str]:
        """The album's photos in its order, those the export holds ("0" and unknown ids dropped)."""
        photos = album.get("photos") if isinstance(album.get("photos"), list) else []
        photos = self.album_photos.get(text(album.get("id")), photos)
        return list(dict.fromkeys(text(p) for p in photos if text(p) in self.photos))

    # -- the FolderFormat API ----------------------------------------------------------------------
    def documents(self) -> Iterator[Listed]:
        self.read()
        self._tell_reconciliation()
        albums = self._places()
        for position, photo in enumerate(self._ordered(), 1):
            if photo.problem is not None:
                yield damaged(self.folder, SOURCE, photo.id, photo.json.path, _Entry(photo.json, photo.problem))
                continue
            size = photo.media.size if photo.media else None
            load = partial(self._load, photo, position, albums.get(photo.id, []))
            title = photo.title if photo.raw else text(self.listing.get(photo.id, {}).get("title")) or photo.media.name
            yield Listed(SOURCE, photo.id, title, size, load)
        for path, problem in self.broken:
            yield damaged(self.folder, SOURCE, f"export:{path.name}", path,
                          Damaged(problem, "download that archive again, then rerun"))

    def _ordered(self) -> list[Photo]:
        """Oldest upload first, as the `flickr` source lists the photostream; originals without a JSON (no
        upload date) last, so that they do not move the others."""
        def key(photo: Photo) -> tuple[bool, int, int]:
            return photo.raw is None, epoch(photo.raw.get("date_imported")) or 0 if photo.raw else 0, int(photo.id)

        return sorted(self.photos.values(), key=key)

    def _places(self) -> dict[str, list[AlbumRef]]:
        places: dict[str, list[AlbumRef]] = {}
        for album in self.album_list:
            for place, photo_id in enumerate(self.album_members(album), 1):
                places.setdefault(photo_id, []).append(AlbumRef(text(album.get("id")), text(album.get("title")), place))
        return places

    def _load(self, photo: Photo, position: int, albums: list[AlbumRef]) -> Item:
        listed = self.listing.get(photo.id)
        if photo.raw is None:
            if listed is None:
                raise DocumentError(f"{photo.media.where}: the export holds no photo_{photo.id}.json for this "
                                    "original, so none of its metadata; add the archive that holds it and rerun, or "
                                    "give Flickr credentials (flickr.* options) to read it from Flickr's listing")
            raw = {"id": photo.id, "name": text(listed.get("title"))}
        else:
            raw = photo.raw
        if photo.media is None:
            if text(raw.get("original")).endswith(UNPROCESSED_VIDEO):
                raise DocumentError(f"flickr:{photo.id} {photo.title!r}: Flickr never finished processing this "
                                    f"video, so the export has no file for it; download it from "
                                    f"{text(raw.get('photopage'))}")
            raise DocumentError(f"flickr:{photo.id} {photo.title!r}: the export holds no original for it "
                                f"({text(raw.get('photopage'))}): {REREQUEST}")
        if photo.raw is None:  # an orphan the API's listing describes
            doc = mapping.document(listed, None, None, position, albums, FileInfo(
                name=photo.media.name, size=photo.media.size, ext=photo.media.name.rpartition(".")[2].lower()))
            doc.source_metadata["from_api"] = {"fields": ["all: the export has no JSON for it"],
                                               "call": "flickr.people.getPhotos"}
        else:
            doc = document(raw, photo.media, position, albums, listed)
        label = f"flickr:{photo.id} ({photo.media.where})"
        return Item(doc, Original(photo.media.open, label, size=photo.media.size))

    def containers(self) -> Iterator[Container]:
        self.read()
        api = {c.id: c for c in self.api_containers or [] if c.kind == "album"}
        for position, album in enumerate(self.album_list, 1):
            shaped = {"id": text(album.get("id")), "title": album.get("title"), "description": album.get("description"),
                      "date_create": album.get("created"), "date_update": album.get("last_updated")}
            container = mapping.album(shaped, self.album_members(album), position)
            known = api.get(container.id)
            metadata: dict[str, Any] = {"flickr_export": album}
            if known is not None:  # the API's place among the albums and, where the export's list falls short,
                metadata["from_api"] = {"fields": ["position"], "call": "flickr.photosets.getList"}
                container.position = known.position
            container.source_metadata = metadata
            yield container
        for container in self.api_containers or []:
            if container.kind == "collection":
                yield container

    def _tell_reconciliation(self) -> None:
        """One summary of what the export holds, and each thing that does not add up, for the run report."""
        with_json = sum(p.raw is not None for p in self.photos.values())
        with_media = sum(p.media is not None for p in self.photos.values())
        matched = sum(p.raw is not None and p.media is not None for p in self.photos.values())
        unreadable = sum(p.problem is not None for p in self.photos.values())
        summary = (f"flickr export: {with_json + unreadable} photo JSON files ({unreadable} unreadable), "
                   f"{with_media} originals, {len(self.album_list)} albums; {matched} complete, "
                   f"{with_json - matched} without their original, {with_media - matched} originals without JSON")
        self.say(summary, trouble=bool(with_json + unreadable - matched or with_media - matched or self.broken))
        for problem in self.problems:
            self.say(f"flickr export: {problem}", trouble=True)

    def say(self, message: str, trouble: bool = False) -> None:
        """A warning in the run report (`trouble`, in a run), else a log line."""
        if trouble and self.context is not None:
            self.context.warn(message)
        else:
            log.log(logging.WARNING if trouble else logging.INFO, message)


class _Entry(Damaged):
    """A damaged JSON entry, named by its archive and entry (the core names files by path)."""

    def __init__(self, member: Member, problem: Damaged) -> None:
        super().__init__(f"({member.where}) {problem}", problem.step)

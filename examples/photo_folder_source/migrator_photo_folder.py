"""`photofolder`: the photos under a folder, each subfolder an album, dates taken from EXIF (stdlib only)."""

import contextlib
import re
import struct
from pathlib import Path

from migrator import AlbumRef, Container, Document, Entry, FileInfo, Item, Option, Original, Source, hookimpl
from migrator.errors import UsageError

PHOTOS = {".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".heic", ".webp"}


def exif_taken(path: Path) -> str | None:
    """DateTimeOriginal, else DateTime, of a JPEG's EXIF as `YYYY-MM-DDTHH:MM:SS`; None without one."""
    with open(path, "rb") as file:
        head = file.read(1 << 16)
    tiff, found = head[head.find(b"Exif\0\0") + 6:], {}
    order = "<" if tiff[:2] == b"II" else ">"

    def walk(offset: int, top: bool) -> None:  # IFD0, and the EXIF IFD it points to (tag 0x8769)
        for n in range(struct.unpack_from(order + "H", tiff, offset)[0]):
            tag, kind, count, value = struct.unpack_from(order + "HHII", tiff, offset + 2 + 12 * n)
            if tag == 0x8769 and top:
                walk(value, False)
            elif tag in (0x9003, 0x0132) and count == 20:  # "YYYY:MM:DD HH:MM:SS\0"; a year 0000 is unknown
                found[tag] = re.fullmatch(rb"([1-9]\d{3}):(\d\d):(\d\d) (\d\d:\d\d:\d\d)", tiff[value:value + 19])
    with contextlib.suppress(struct.error):  # a damaged EXIF block: no date, but not a failed document
        if head[:2] == b"\xff\xd8" and b"Exif\0\0" in head:
            walk(struct.unpack_from(order + "I", tiff, 4)[0], True)
    return date.expand(rb"\1-\2-\3T\4").decode() if (date := found.get(0x9003) or found.get(0x0132)) else None


class PhotoFolder(Source):
    name = "photofolder"
    description = "the photos under a folder; subfolders are albums, dates taken from EXIF"
    options = [Option("path", Path, None, "the folder to read", required=True)]

    root = property(lambda self: self.config["path"])

    def account(self) -> str:  # called once, before anything is listed: the place to refuse a wrong path
        if not self.root.is_dir():
            raise UsageError(f"photofolder.path {self.root} is not a folder: give the folder of your photos")
        return str(self.root.resolve())

    def _albums(self) -> dict[str, list[Path]]:  # each folder ("." for the top one) and its photos, sorted
        albums: dict[str, list[Path]] = {}
        for path in sorted(p for p in self.root.rglob("*") if p.suffix.lower() in PHOTOS and p.is_file()):
            albums.setdefault(path.parent.relative_to(self.root).as_posix(), []).append(path)
        return albums

    def entries(self):  # an id is the photo's path in the folder: "2019/Beach day.jpg"
        for folder, photos in self._albums().items():
            for position, path in enumerate(photos, 1):
                stat = path.stat()  # size and mtime: this marker changes whenever the file does
                yield Entry(self.name, path.relative_to(self.root).as_posix(), lambda p=path, f=folder, n=position:
                            self._load(p, f, n), updated_at=f"{stat.st_mtime_ns}:{stat.st_size}", title=path.stem)

    def _load(self, path: Path, folder: str, position: int) -> Item:
        stat = path.stat()  # size and mtime go into the record too: a rewritten file is a changed record
        doc = Document(self.name, path.relative_to(self.root).as_posix(), title=path.stem, taken_at=exif_taken(path),
                       albums=[AlbumRef(folder, Path(folder).name, position)] if folder != "." else [],
                       file=FileInfo(path.name, path.suffix[1:].lower(), stat.st_size),
                       source_metadata={"mtime_ns": stat.st_mtime_ns})
        return Item(doc, Original.from_file(path, doc.key, size=stat.st_size))

    def containers(self):
        yield from (Container("album", self.name, folder, title=Path(folder).name,
                              members=[p.relative_to(self.root).as_posix() for p in photos])
                    for folder, photos in self._albums().items() if folder != ".")


@hookimpl
def register_sources(register):
    register(PhotoFolder)

"""Real, small media files for the sandbox's documents, made without an imaging library.

The pictures and clips in ``assets/`` (written once by ``tools/make_sandbox_media.py``) are taken as they
are; each document's file adds an EXIF block (JPEG and PNG: DateTimeOriginal = the date taken,
Orientation = the rotation) and a padding block derived from the document's key.  The padding makes
every document's bytes distinct and the file exactly as long as the ground truth says, so thumbnails,
orientation and EXIF can be tested on files Pillow or a browser really decode.  Templates are read once
and cached: a 100,000-document account costs one concatenation per document.
"""

from __future__ import annotations

import math
import random
import struct
import zlib
from functools import cache
from importlib import resources

REAL_EXTENSIONS = ("jpg", "png", "gif", "mp4", "mov")
ORIENTATION = {0: 1, 90: 6, 180: 3, 270: 8}  # clockwise rotation -> EXIF Orientation
_ASPECTS = {"4x3": 4 / 3, "3x4": 3 / 4, "1x1": 1.0, "3x2": 3 / 2}
_PALETTES = 2
_MIN_FILLER = 8  # bytes of key-derived filler every file carries, so no two documents share bytes


@cache
def _asset(name: str) -> bytes:
    return (resources.files(__package__) / "assets" / name).read_bytes()


def _aspect(w: int, h: int) -> str:
    if not (w and h):
        return "4x3"
    return min(_ASPECTS, key=lambda name: abs(math.log(_ASPECTS[name] * h / w)))


def _template(ext: str, aspect: str, orientation: int, palette: int) -> bytes:
    if ext == "jpg":
        return _asset(f"photo-{aspect}-o{orientation}-p{palette}.jpg")
    if ext == "png":
        return _asset(f"photo-{aspect}-o{orientation}.png")
    if ext == "gif":
        return _asset(f"photo-{aspect}.gif")
    return _asset(f"video.{ext}")


def tiff_exif(taken: str, orientation: int) -> bytes:
    """A little-endian TIFF block: IFD0 with Orientation (and a pointer to the Exif IFD holding
    DateTimeOriginal when ``taken``, ``YYYY-MM-DD HH:MM:SS``, is given)."""
    entries = [struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)]
    exif_ifd = b""
    if taken:
        value = taken.replace("-", ":").encode("ascii")[:19] + b"\x00"
        ifd0_len = 2 + 12 * 2 + 4
        exif_off = 8 + ifd0_len
        entries.append(struct.pack("<HHII", 0x8769, 4, 1, exif_off))
        value_off = exif_off + 2 + 12 + 4
        exif_ifd = (struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, len(value), value_off)
                    + struct.pack("<I", 0) + value)
    ifd0 = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd0 + exif_ifd


def _jpeg_segments(marker: int, payload: bytes) -> bytes:
    """``payload`` in as many segments of ``marker`` as it needs (a segment holds at most 65533 bytes)."""
    out = bytearray()
    for start in range(0, max(1, len(payload)), 65533):
        part = payload[start:start + 65533]
        out += bytes([0xFF, marker]) + struct.pack(">H", len(part) + 2) + part
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class _Layout:
    """Where one format carries the EXIF block and the padding, and what the padding costs."""

    def __init__(self, template: bytes, ext: str) -> None:
        self.ext = ext
        if ext == "jpg":  # after SOI and the JFIF APP0
            cut = 2 + 2 + struct.unpack(">H", template[4:6])[0] if template[2:4] == b"\xff\xe0" else 2
        elif ext == "png":  # after the signature and IHDR
            cut = 8 + 12 + struct.unpack(">I", template[8:12])[0]
        elif ext == "gif":  # a comment extension just before the trailer
            cut = len(template) - 1
        else:  # MP4 and QuickTime: a free box after the last box
            cut = len(template)
        self.head, self.tail = template[:cut], template[cut:]

    def exif(self, taken: str, orientation: int) -> bytes:
        if self.ext == "jpg":
            return _jpeg_segments(0xE1, b"Exif\x00\x00" + tiff_exif(taken, orientation))
        if self.ext == "png":
            return _png_chunk(b"eXIf", tiff_exif(taken, orientation))
        return b""

    def overhead(self, filler: int) -> int:
        if self.ext == "jpg":
            return 4 * max(1, math.ceil(filler / 65533))
        if self.ext == "png":
            return 12
        if self.ext == "gif":
            return 3 + max(1, math.ceil(filler / 255))
        return 8

    def padding(self, total: int, rng: random.Random) -> bytes:
        """A block of exactly ``total`` bytes holding pseudo-random filler."""
        if self.ext == "jpg":
            segments = max(1, math.ceil(total / 65537))
            return _jpeg_segments(0xFE, rng.randbytes(total - 4 * segments))
        if self.ext == "png":
            return _png_chunk(b"saNd", rng.randbytes(total - 12))  # private, ancillary, safe to copy
        if self.ext == "gif":
            blocks = math.ceil((total - 3) / 256)
            filler = rng.randbytes(total - 3 - blocks)
            sizes = [len(filler) // blocks + (1 if i < len(filler) % blocks else 0) for i in range(blocks)]
            out, at = bytearray(b"\x21\xfe"), 0
            for n in sizes:
                out += bytes([n]) + filler[at:at + n]
                at += n
            return bytes(out + b"\x00")
        return struct.pack(">I", total) + b"free" + rng.randbytes(total - 8)


@cache
def _layout(ext: str, aspect: str, orientation: int, palette: int) -> _Layout:
    return _Layout(_template(ext, aspect, orientation, palette), ext)


def _parts(key: str, ext: str, w: int, h: int, taken: str, rotation: int) -> tuple[_Layout, bytes, int]:
    """The document's template layout, its EXIF block and the fewest bytes its file can take."""
    orientation = ORIENTATION.get(rotation % 360, 1) if ext in ("jpg", "png") else 1
    palette = zlib.crc32(key.encode()) % _PALETTES if ext == "jpg" else 0
    layout = _layout(ext, _aspect(w, h), orientation, palette)
    exif = layout.exif(taken, orientation)
    fewest = len(layout.head) + len(exif) + len(layout.tail) + layout.overhead(_MIN_FILLER) + _MIN_FILLER
    return layout, exif, fewest


def smallest(key: str, ext: str, w: int = 0, h: int = 0, taken: str = "", rotation: int = 0) -> int:
    """The fewest bytes a real file for these arguments takes (0: no real file for ``ext``)."""
    if ext not in REAL_EXTENSIONS:
        return 0
    return _parts(key, ext, w, h, taken, rotation)[2]


def real_file(key: str, size: int, ext: str, w: int = 0, h: int = 0, taken: str = "",
              rotation: int = 0) -> bytes | None:
    """A real ``ext`` file of exactly ``size`` bytes for ``key``, or None when ``ext`` has no template
    or ``size`` is below :func:`smallest` (the benchmark's tiny originals keep stub bytes).

    ``w``/``h`` choose the picture's aspect ratio, ``taken`` (``YYYY-MM-DD HH:MM:SS`` or "") and
    ``rotation`` (degrees clockwise) go into EXIF; the pixels are stored turned the way a camera
    stores them, so applying the Orientation tag shows the picture upright."""
    if ext not in REAL_EXTENSIONS:
        return None
    layout, exif, fewest = _parts(key, ext, w, h, taken, rotation)
    if size < fewest:
        return None
    pad = size - len(layout.head) - len(exif) - len(layout.tail)
    return layout.head + exif + layout.padding(pad, random.Random("content:" + key)) + layout.tail

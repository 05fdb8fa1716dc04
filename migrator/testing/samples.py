"""Records and originals the conformance suite feeds to sinks: tiny valid JPEGs and broken streams."""

from __future__ import annotations

import hashlib
import io
import struct
from typing import IO

from ..errors import TransientError
from ..records import AlbumRef, Document, FileInfo, Geo, Item, Original, VerifyingReader, Visibility

SOURCE = "conformance"

# Text a service really sends back: separators, traversal, NFD, emoji, controls, nothing, far too much.
HOSTILE_TEXT = {
    "slashes": "a/b\\c/../d",
    "dotdot": "..",
    "traversal": "../../etc/passwd",
    "nfd": "Cafe\u0301 nai\u0308ve",
    "emoji": "Sunset \U0001f305 \U0001f3f3\ufe0f\u200d\U0001f308 \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "controls": "bell\x07 nul\x00 esc\x1b[31m del\x7f\nnew line\ttab",
    "empty": "",
    "long": "x" * 300,
    "long_multibyte": "\u65e5\u672c\u8a9e" * 100,
    "bidi": "\u202egpj.exe",
    "markup": "<b>bold</b> &amp; \"double\" 'single'",
    "device": "CON",
    "dots_spaces": " . ",
}

_LONG_ID = ("a very long id " * 14)[:199]

# Document ids a sink must keep whole and apart (the rule: `migrator.records.check_id`): separators,
# `=` and quotes (tag syntax), case and Unicode forms that differ, and the longest id allowed, twice,
# differing only in the last character. Pairs like "a/b", "a_b" and "a b" catch a sink that replaces
# characters; the two long ones, a sink that cuts ids short.
HOSTILE_IDS = {
    "space": "two words",
    "padded": " padded ",
    "slash": "a/b",
    "underscore": "a_b",
    "blank": "a b",
    "path": "2019/Holidays/IMG 0001.jpg",
    "backslash": "a\\b",
    "dotdot": "..",
    "equals": "key=value",
    "quotes": "it's \"quoted\"",
    "colon": "service:123",
    "percent": "a%2Fb",
    "dash": "-rf",
    "upper": "IMG_0001",
    "lower": "img_0001",
    "nfc": "caf\u00e9",
    "nfd": "cafe\u0301",
    "emoji": "\U0001f305 sunset",
    "cjk": "\u65e5\u672c\u8a9e",
    "long": _LONG_ID + "1",
    "long_twin": _LONG_ID + "2",
}


def jpeg(label: str = "", width: int = 8, height: int = 8) -> bytes:
    """A valid baseline greyscale JPEG (flat grey), made unique by `label` in a comment segment."""

    def segment(marker: int, payload: bytes) -> bytes:
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload

    out = bytearray(b"\xff\xd8")
    out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    out += segment(0xFE, f"migrator conformance {label}".encode()[:60000])
    out += segment(0xDB, b"\x00" + bytes([1] * 64))
    out += segment(0xC0, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00")
    out += segment(0xC4, b"\x00\x01" + b"\x00" * 15 + b"\x00")  # DC table: one 1-bit code for symbol 0
    out += segment(0xC4, b"\x10\x01" + b"\x00" * 15 + b"\x00")  # AC table: the same (end of block)
    out += segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    full, rest = divmod(2 * ((width + 7) // 8) * ((height + 7) // 8), 8)
    out += bytes(full) + (bytes([(0xFF >> rest) & 0xFF]) if rest else b"")
    return bytes(out + b"\xff\xd9")


def mp4(label: str = "", size: int = 2048) -> bytes:
    """A small MP4-shaped blob (ftyp + mdat) that file sniffers take for a video."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isommp41"
    payload = b"".join(hashlib.sha256(f"{label}:{i}".encode()).digest() for i in range(size // 32 + 1))[:size]
    return ftyp + struct.pack(">I", 8 + size) + b"mdat" + payload


class TrackedOriginal(Original):
    """An Original that remembers every stream it handed out, to check a sink read it to the end."""

    def __init__(self, opener, label: str, size: int | None = None, md5: str | None = None,
                 sha256: str | None = None) -> None:
        super().__init__(opener, label, size, md5, sha256)
        self.readers: list[VerifyingReader] = []
        self.data = b""  # the bytes a good stream yields

    def open(self) -> VerifyingReader:
        reader = super().open()
        self.readers.append(reader)
        return reader

    @property
    def fully_read(self) -> bool:
        """Some stream reached its end (the size and hash checks ran) with every announced byte read."""
        return any(r.sha256 is not None and (self.size is None or r.bytes_read == self.size) for r in self.readers)


class _Reset:
    """A download whose connection drops after the first chunk, as `migrator.http` reports it."""

    def __init__(self, data: bytes) -> None:
        self._data, self._sent = data, False

    def read(self, n: int = 1 << 16) -> bytes:
        if self._sent:
            raise TransientError("conformance: download interrupted (ConnectionResetError)")
        self._sent = True
        return self._data[: min(n, max(1, len(self._data) // 2))]

    def close(self) -> None:
        pass


def _exploding() -> IO[bytes]:
    raise AssertionError("the original was opened although the document was unchanged since the sink stored it")


KINDS = {"photo": ("jpg", "image/jpeg"), "video": ("mp4", "video/mp4"), "audio": ("mp3", "audio/mpeg"),
         "other": ("pdf", "application/pdf")}


def document(doc_id: str, *, media: str = "photo", data: bytes | None = None, source: str = SOURCE,
             **fields) -> Document:
    """A fully filled document record (announcing `data` as its original); `fields` override attributes."""
    ext, content_type = KINDS[media]
    values = dict(
        source=source, id=doc_id, media=media, title=f"Conformance {doc_id}",
        description=f"Described <b>{doc_id}</b>", tags=["conformance", "two words"],
        taken_at="2019-05-01T10:20:30", taken_granularity="second", posted_at="2019-05-02T08:00:00Z",
        updated_at="2019-05-03T09:00:00Z", visibility=Visibility(public=True), safety=1, license="CC-BY-2.0",
        geo=Geo(48.8566, 2.3522, 16), position=1,
        file=FileInfo(name=f"{doc_id}.{ext}", ext=ext, size=len(data) if data is not None else None,
                      md5=hashlib.md5(data, usedforsecurity=False).hexdigest() if data is not None else None,
                      content_type=content_type),
    )
    values.update(fields)
    return Document(**values)


def item(doc_id: str, *, media: str = "photo", stream: str = "ok", data: bytes | None = None,
         albums: list[AlbumRef] | None = None, **fields) -> Item:
    """A document with its original. `stream`: "ok", "short" (bytes missing at the end), "corrupt" (same
    size, other bytes than the announced md5), "reset" (the connection drops), "reuse-only" (opening it is
    a test failure) or "none" (no original)."""
    if data is None:
        data = jpeg(doc_id) if media == "photo" else mp4(doc_id) if media == "video" else \
            f"%PDF-1.4 {doc_id}\n".encode() * 20
    doc = document(doc_id, media=media, data=None if stream == "none" else data, albums=list(albums or []),
                   **fields)
    if stream == "none":
        return Item(doc, None)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    openers = {
        "ok": lambda: io.BytesIO(data),
        "short": lambda: io.BytesIO(data[: len(data) // 2]),
        "corrupt": lambda: io.BytesIO(data[:-1] + bytes([data[-1] ^ 0xFF])),
        "reset": lambda: _Reset(data),
        "reuse-only": _exploding,
    }
    original = TrackedOriginal(openers[stream], f"{doc.key} {doc.title[:40]!r}", size=len(data), md5=md5)
    original.data = data
    return Item(doc, original)

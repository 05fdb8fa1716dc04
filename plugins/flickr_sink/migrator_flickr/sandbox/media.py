"""Media helpers: content sniffing, tiny image/video synthesis, EXIF dates and a
streaming multipart/form-data reader for the upload endpoint.

Seeded originals are real files: colour JPEGs and H.264 clips from ``assets/`` (written once by
``tools/make_sandbox_media.py``), each made distinct by an EXIF block and a comment or ``free`` box;
derived sizes and video stills are flat-grey JPEGs of the exact size (:func:`make_jpeg`)."""

from __future__ import annotations

import hashlib
import math
import os
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import BinaryIO

# --------------------------------------------------------------------------------------------
# Sniffing


VIDEO_FORMATS = {"mp4", "mov", "m4v", "3gp", "avi", "wmv", "mpg", "mts", "m2ts"}
PHOTO_FORMATS = {"jpg", "png", "gif", "tiff", "heic"}

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}


def sniff(head: bytes) -> tuple[str, str] | None:
    """Return ``(media, format)`` for bytes Flickr would accept, ``None`` otherwise.

    Decided on content only (flickrapi always sends the file name ``dummy name``)."""
    if head[:3] == b"\xff\xd8\xff":
        return "photo", "jpg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "photo", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "photo", "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "photo", "tiff"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "photo", "heic"
        if brand in _AUDIO_BRANDS or brand == b"avif":
            return None
        if brand == b"qt  ":
            return "video", "mov"
        if brand.startswith(b"3g"):
            return "video", "3gp"
        if brand == b"M4V ":
            return "video", "m4v"
        return "video", "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "video", "mov"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "avi"
    if head[:8] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11":
        return "video", "wmv"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "video", "mpg"
    if head[:1] == b"\x47" and (len(head) < 189 or head[188:189] == b"\x47"):
        return "video", "mts"
    if len(head) > 196 and head[4:5] == b"\x47" and head[196:197] == b"\x47":
        return "video", "m2ts"
    return None


def image_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG/PNG/GIF header, if it can be read."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        w, h = struct.unpack(">II", head[16:24])
        return w, h
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        w, h = struct.unpack("<HH", head[6:10])
        return w, h
    if head[:2] == b"\xff\xd8":
        for marker, payload in _jpeg_segments(head):
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                if len(payload) >= 5:
                    h, w = struct.unpack(">HH", payload[1:5])
                    return w, h
    return None


def _jpeg_segments(data: bytes):
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in (0xD9, 0xDA):
            return
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        yield marker, data[i + 4 : i + 2 + length]
        i += 2 + length


def exif_date_taken(head: bytes) -> str | None:
    """DateTimeOriginal (or DateTimeDigitized) of a JPEG as ``YYYY-MM-DD HH:MM:SS``."""
    if head[:2] != b"\xff\xd8":
        return None
    for marker, payload in _jpeg_segments(head):
        if marker == 0xE1 and payload[:6] == b"Exif\x00\x00":
            try:
                return _tiff_date(payload[6:])
            except (struct.error, IndexError, ValueError):
                return None
    return None


def _tiff_date(t: bytes) -> str | None:
    bo = {b"II": "<", b"MM": ">"}.get(t[:2])
    if bo is None:
        return None

    def ifd(offset: int) -> dict[int, tuple[int, int, bytes]]:
        (count,) = struct.unpack(bo + "H", t[offset : offset + 2])
        entries = {}
        for k in range(count):
            e = t[offset + 2 + 12 * k : offset + 14 + 12 * k]
            tag, typ, cnt = struct.unpack(bo + "HHI", e[:8])
            entries[tag] = (typ, cnt, e[8:12])
        return entries

    (ifd0_off,) = struct.unpack(bo + "I", t[4:8])
    ifd0 = ifd(ifd0_off)
    candidates = []
    if 0x8769 in ifd0:
        (exif_off,) = struct.unpack(bo + "I", ifd0[0x8769][2])
        exif = ifd(exif_off)
        candidates += [exif.get(0x9003), exif.get(0x9004)]
    candidates.append(ifd0.get(0x0132))
    for entry in candidates:
        if not entry:
            continue
        typ, cnt, raw = entry
        if typ != 2:
            continue
        if cnt <= 4:
            s = raw[:cnt]
        else:
            (off,) = struct.unpack(bo + "I", raw)
            s = t[off : off + cnt]
        text = s.rstrip(b"\x00").decode("ascii", "replace")
        m = re.match(r"^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$", text)
        if m and m.group(1) != "0000":
            y, mo, d, hh, mi, ss = m.groups()
            return f"{y}-{mo}-{d} {hh}:{mi}:{ss}"
    return None


# --------------------------------------------------------------------------------------------
# Synthesis (seeded accounts, derived sizes, video stills)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def make_exif(date_taken: str | None, orientation: int | None = None) -> bytes:
    """An APP1 Exif payload: IFD0 with Orientation (when given) and a pointer to an Exif IFD holding
    DateTimeOriginal (``YYYY:MM:DD HH:MM:SS``, when given)."""
    entries = [struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)] if orientation else []
    exif_ifd = b""
    if date_taken:
        value = date_taken.replace("-", ":").encode("ascii")[:19] + b"\x00"
        exif_off = 8 + 2 + 12 * (len(entries) + 1) + 4
        entries.append(struct.pack("<HHII", 0x8769, 4, 1, exif_off))
        exif_ifd = (struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, len(value), exif_off + 18)
                    + struct.pack("<I", 0) + value)
    ifd0 = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd0 + exif_ifd


def make_jpeg(width: int = 8, height: int = 8, comment: str | bytes | None = None,
              exif_date: str | None = None) -> bytes:
    """A valid baseline greyscale JPEG of the given size (flat grey).

    Every 8x8 block is coded as DC difference 0 followed by end-of-block, two bits
    per block, so even a few hundred pixels wide it stays tiny."""
    width = max(1, min(int(width), 65535))
    height = max(1, min(int(height), 65535))
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if exif_date:
        out += _segment(0xE1, make_exif(exif_date))
    if comment is not None:
        c = comment.encode("utf-8") if isinstance(comment, str) else bytes(comment)
        out += _segment(0xFE, c[:60000])
    out += _segment(0xDB, b"\x00" + bytes([1] * 64))
    out += _segment(0xC0, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00")
    # DC table 0 and AC table 0, each with a single 1-bit code for symbol 0.
    out += _segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00")
    out += _segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00")
    out += _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    nbits = 2 * blocks
    full, rest = divmod(nbits, 8)
    scan = bytearray(full)
    if rest:
        scan.append((0xFF >> rest) & 0xFF)
    out += scan
    out += b"\xff\xd9"
    return bytes(out)


@cache
def _asset(name: str) -> bytes:
    return (resources.files(__package__) / "assets" / name).read_bytes()


_PHOTO_SIZES = ((320, 240), (240, 320), (400, 300), (128, 96))  # the pictures in assets/ (two palettes each)


def make_photo(seed_text: str, width: int, height: int, date_taken: str | None = None,
               orientation: int = 1) -> bytes:
    """A real colour JPEG (a small landscape, from ``assets/``) with EXIF and a comment naming ``seed_text``.

    The picture is the asset of ``width`` x ``height`` when there is one, else the one of the closest
    aspect ratio; ``date_taken`` (``YYYY-MM-DD HH:MM:SS``) becomes DateTimeOriginal and ``orientation``
    the EXIF Orientation.  Distinct ``seed_text`` give distinct bytes."""
    w, h = min(_PHOTO_SIZES, key=lambda s: (abs(math.log(s[0] * max(1, height) / (s[1] * max(1, width)))),
                                            abs(s[0] - width)))
    template = _asset(f"photo-{w}x{h}-p{zlib.crc32(seed_text.encode()) % 2}.jpg")
    cut = 4 + struct.unpack(">H", template[4:6])[0] if template[2:4] == b"\xff\xe0" else 2  # after JFIF
    extra = _segment(0xE1, make_exif(date_taken, orientation)) + _segment(0xFE, seed_text.encode()[:60000])
    return template[:cut] + extra + template[cut:]


def make_video(seed_text: str, size: int = 4096, brand: bytes = b"isom") -> bytes:
    """A real one-second H.264 clip (MP4, or QuickTime for the ``qt  `` brand) followed by a ``free`` box of
    ``size`` bytes derived from ``seed_text``: distinct per seed, and as many sizes as ``size`` values (a
    mirror may tell files apart by size, so a rendition must not share its original's length)."""
    clip = _asset("video.mov" if brand == b"qt  " else "video.mp4")
    filler = max(32, size)
    payload = bytearray()
    counter = 0
    while len(payload) < filler:
        payload += hashlib.sha256(f"{seed_text}:{counter}".encode()).digest()
        counter += 1
    return clip + struct.pack(">I", 8 + filler) + b"free" + bytes(payload[:filler])


# --------------------------------------------------------------------------------------------
# Request bodies


class BodyError(Exception):
    """Malformed or truncated request body."""


class LimitedReader:
    """Reads exactly ``length`` bytes from a socket file."""

    def __init__(self, fp: BinaryIO, length: int) -> None:
        self.fp = fp
        self.remaining = length

    def read(self, n: int = 65536) -> bytes:
        if self.remaining <= 0:
            return b""
        data = self.fp.read(min(n, self.remaining))
        if not data:
            raise BodyError("connection closed before the end of the body")
        self.remaining -= len(data)
        return data

    def drain(self) -> None:
        while self.remaining > 0:
            self.read(1 << 16)


class ChunkedReader:
    """Decodes ``Transfer-Encoding: chunked``."""

    def __init__(self, fp: BinaryIO) -> None:
        self.fp = fp
        self.left = 0
        self.done = False

    def read(self, n: int = 65536) -> bytes:
        if self.done:
            return b""
        if self.left == 0:
            line = self.fp.readline(1024)
            if not line:
                raise BodyError("connection closed inside chunked body")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers
                    t = self.fp.readline(1024)
                    if t in (b"\r\n", b"\n", b""):
                        break
                self.done = True
                return b""
            self.left = size
        data = self.fp.read(min(n, self.left))
        if not data:
            raise BodyError("connection closed inside chunk")
        self.left -= len(data)
        if self.left == 0:
            self.fp.readline(16)
        return data

    def drain(self) -> None:
        while self.read(1 << 16):
            pass


def read_all(reader, limit: int = 8 << 20) -> bytes:
    chunks = []
    total = 0
    while True:
        data = reader.read(65536)
        if not data:
            break
        total += len(data)
        if total > limit:
            reader.drain()
            raise BodyError("form body too large")
        chunks.append(data)
    return b"".join(chunks)


@dataclass
class UploadedFile:
    field: str
    filename: str | None
    path: str
    size: int = 0
    sha256: str = ""
    head: bytes = b""
    truncated: bool = False  # stopped writing because it exceeded the size cap


@dataclass
class MultipartResult:
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, UploadedFile] = field(default_factory=dict)


_HEAD_KEEP = 256 * 1024


def _parse_disposition(value: str) -> dict[str, str]:
    out = {}
    for m in re.finditer(r';\s*([\w*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', value):
        v = m.group(2).strip()
        if v.startswith('"') and v.endswith('"'):
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[m.group(1).lower()] = v
    return out


def parse_multipart(reader, boundary: bytes, file_dir: str, max_file_bytes: int | None = None,
                    is_file: Callable[[str, str | None], bool] | None = None) -> MultipartResult:
    """Stream a multipart body; file parts go to ``file_dir`` chunk by chunk.

    The memory used is bounded by the read size plus the kept file head
    (used for sniffing and EXIF), whatever the size of the file.  On error no
    temporary file is left behind."""
    result = MultipartResult()
    try:
        _parse_multipart(result, reader, boundary, file_dir, max_file_bytes, is_file)
    except BaseException:
        for f in result.files.values():
            _unlink(f.path)
        raise
    return result


def _parse_multipart(result: MultipartResult, reader, boundary: bytes, file_dir: str,
                     max_file_bytes: int | None, is_file) -> None:
    delim = b"\r\n--" + boundary
    buf = b"\r\n"
    eof = False

    def fill() -> bool:
        nonlocal buf, eof
        if eof:
            return False
        data = reader.read(65536)
        if not data:
            eof = True
            return False
        buf += data
        return True

    def at_end_after_delimiter() -> bool:
        nonlocal buf
        while len(buf) < 2 and fill():
            pass
        if buf[:2] == b"--":
            reader.drain()  # epilogue
            return True
        if buf[:2] != b"\r\n":
            raise BodyError("garbage after multipart boundary")
        buf = buf[2:]
        return False

    # Skip the preamble up to the first delimiter.
    while True:
        i = buf.find(delim)
        if i >= 0:
            buf = buf[i + len(delim):]
            break
        buf = buf[-len(delim):]
        if not fill():
            raise BodyError("no multipart boundary found")

    while True:
        if at_end_after_delimiter():
            return
        # headers
        while b"\r\n\r\n" not in buf:
            if len(buf) > 64 * 1024 or not fill():
                raise BodyError("bad part headers")
        head_end = buf.index(b"\r\n\r\n")
        raw_headers = buf[:head_end].decode("utf-8", "replace")
        buf = buf[head_end + 4:]
        headers = {}
        for line in raw_headers.split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        disp = _parse_disposition(headers.get("content-disposition", ""))
        name = disp.get("name", "")
        filename = disp.get("filename")
        to_file = is_file(name, filename) if is_file else filename is not None
        part = _PartWriter(name, filename, file_dir if to_file else None, max_file_bytes)
        try:
            while True:
                i = buf.find(delim)
                if i >= 0:
                    part.write(buf[:i])
                    buf = buf[i + len(delim):]
                    break
                keep = len(delim) - 1
                if len(buf) > keep:
                    part.write(buf[:-keep])
                    buf = buf[-keep:]
                if not fill():
                    raise BodyError("multipart body ended inside a part")
        except BaseException:
            part.abort()
            raise
        part.finish(result)


class _PartWriter:
    """Receives one part's bytes: to a temporary file (hashing as it goes) or to memory."""

    def __init__(self, name: str, filename: str | None, file_dir: str | None, max_bytes: int | None) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.text: list[bytes] = []
        self.text_len = 0
        self.file: UploadedFile | None = None
        self.fh = None
        self.digest = None
        if file_dir is not None:
            fd, path = _mkstemp(file_dir)
            self.fh = os.fdopen(fd, "wb")
            self.file = UploadedFile(field=name, filename=filename, path=path)
            self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        f = self.file
        if f is None:
            self.text_len += len(chunk)
            if self.text_len > 4 << 20:
                raise BodyError("form field too large")
            self.text.append(chunk)
            return
        if len(f.head) < _HEAD_KEEP:
            f.head += chunk[: _HEAD_KEEP - len(f.head)]
        f.size += len(chunk)
        if self.max_bytes is not None and f.size > self.max_bytes:
            f.truncated = True  # keep counting, stop storing
        else:
            self.fh.write(chunk)
            self.digest.update(chunk)

    def abort(self) -> None:
        if self.fh is not None:
            self.fh.close()
            _unlink(self.file.path)

    def finish(self, result: MultipartResult) -> None:
        if self.file is None:
            result.fields.append((self.name, b"".join(self.text).decode("utf-8", "replace")))
            return
        self.fh.close()
        self.file.sha256 = "" if self.file.truncated else self.digest.hexdigest()
        old = result.files.get(self.name)
        if old is not None:
            _unlink(old.path)
        result.files[self.name] = self.file


def _mkstemp(directory: str) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

"""Names on disk: every path component built from remote data goes through here.

A component is NFC, has no separators, control or bidi characters, is not a Windows device name, does not
start with a dot or end in a dot or space, and fits in 255 UTF-8 bytes. Text inside sidecars is never
touched; only names are.
"""

from __future__ import annotations

import calendar
import hashlib
import mimetypes
import re
import time
import unicodedata
from dataclasses import dataclass

from migrator import Container, Document

MAX_COMPONENT = 255  # bytes, the limit of ext4, APFS, NTFS (in UTF-16 units) and most others
# A stem leaves room for ".<ext>.part", ".<YYYYMMDD-HHMMSS>.<ext>" and an album number prefix.
MAX_STEM = 200
MAX_EXT = 16
UNDATED = "undated"
NOT_IN_ALBUM = "Not in any album"
KIND_DIRS = {"album": "Albums", "folder": "Folders", "collection": "Collections"}
SIDECAR_EXTS = ("json", "xmp", "part")  # an original may not use these: it would clash with a sidecar

_FORBIDDEN = set('<>:"/\\|?*')  # separators, and what Windows and FAT refuse in a name
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3"}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}Z?")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _clean_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if ch in _FORBIDDEN:
        return "_"
    if category == "Cs":  # a lone surrogate cannot be encoded into a file name
        return "\ufffd"
    if category == "Cc" or ch in _BIDI or category in ("Zl", "Zp"):
        return " "  # newlines, tabs, NUL, direction overrides (they disguise extensions)
    return ch


def text_of(value: object) -> str:
    """Record fields are strings by contract; a source that breaks it must not break the backup."""
    return value if isinstance(value, str) else "" if value is None else str(value)


def truncate_utf8(text: str, limit: int) -> str:
    """The longest prefix of `text` that fits in `limit` UTF-8 bytes, cut between characters."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def _trim(text: str) -> str:
    return text.strip(" .")


def safe_text(text: str, limit: int = MAX_COMPONENT) -> str:
    """`text` made safe as (part of) a file name; may be empty."""
    text = unicodedata.normalize("NFC", text_of(text))
    text = "".join(_clean_char(ch) for ch in text)
    text = _trim(re.sub(r"\s+", " ", text))
    return _trim(truncate_utf8(text, limit))


def guard_device(name: str) -> str:
    """Windows treats `CON`, `con.txt`, `LPT1 .jpg` as devices: prefix such names."""
    base = name.split(".", 1)[0].rstrip(" ").upper()
    return f"_{name}" if base in _DEVICES else name


def safe_component(text: str, fallback: str = "_", limit: int = MAX_COMPONENT) -> str:
    """A whole path component: safe text, never empty, never a device name, at most `limit` bytes."""
    name = guard_device(safe_text(text, limit - 1) or fallback)
    return truncate_utf8(name, limit)


def token(value: str, limit: int = 64) -> str:
    """An id as it appears in names; ids that needed cleaning get a hash so two never collide."""
    value = text_of(value)
    if _TOKEN.fullmatch(value):
        return guard_device(value)
    digest = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return guard_device(f"{safe_text(value, limit - 12) or '_'}~{digest}")


def _ext_candidates(doc: Document) -> list[str]:
    info = doc.file
    if info is None:
        return []
    found = [text_of(info.ext)]
    name, content_type = text_of(info.name), text_of(info.content_type)
    if "." in name:
        found.append(name.rsplit(".", 1)[1])
    if content_type:
        found.append((mimetypes.guess_extension(content_type.split(";")[0].strip()) or "").lstrip("."))
    return found


def clean_ext(raw: str) -> str:
    """Letters and digits only, lowercased: `/../../sh` becomes `sh`."""
    ext = "".join(ch for ch in unicodedata.normalize("NFC", text_of(raw)) if ch.isascii() and ch.isalnum()).lower()
    ext = ext[:MAX_EXT]
    return f"{ext}_" if ext in SIDECAR_EXTS else ext


def ext_for(doc: Document) -> str:
    """The extension of a document's original: the record's ext, else its file name's, else its type's."""
    for raw in _ext_candidates(doc):
        ext = clean_ext(raw)
        if ext:
            return ext
    return "bin"


@dataclass(frozen=True)
class DocDate:
    """The date a document is filed under: taken, else posted, with the precision the record has."""

    year: str | None
    label: str | None  # "2019-05-01", "2019-05" or "2019"


def doc_date(doc: Document) -> DocDate:
    taken = _DATE.fullmatch(text_of(doc.taken_at))
    posted = _DATE.fullmatch(text_of(doc.posted_at))
    match = taken or posted
    if match is None:
        return DocDate(None, None)
    year, month, day = match.groups()
    granularity = doc.taken_granularity if taken else "second"
    if granularity in ("year", "circa"):
        return DocDate(year, year)
    if granularity == "month":
        return DocDate(year, f"{year}-{month}")
    return DocDate(year, f"{year}-{month}-{day}")


def source_dir(source: str) -> str:
    return token(source)


def bucket(doc: Document) -> str:
    return doc_date(doc).year or UNDATED


def doc_stem(doc: Document) -> str:
    """`<date> <title> [<id>]`, the title shortened so the stem fits MAX_STEM bytes."""
    label = doc_date(doc).label
    tail = f"[{token(doc.id)}]"
    head = f"{label} " if label else ""
    room = MAX_STEM - len((head + tail).encode("utf-8")) - 1
    title = safe_text(doc.title, max(room, 0))
    return guard_device(f"{head}{title} {tail}" if title else f"{head}{tail}")


def container_dir(container: Container) -> str:
    """`<title> [<id>]`: the id keeps albums with equal titles apart and the name stable."""
    tail = f"[{token(container.id)}]"
    room = MAX_STEM - len(tail.encode("utf-8")) - 1
    title = safe_text(container.title, max(room, 0))
    return guard_device(f"{title} {tail}" if title else tail)


def kind_dir(kind: str) -> str:
    return KIND_DIRS.get(kind) or safe_component(f"{kind.capitalize()}s")


def sidecar_name(kind: str) -> str:
    """`album.json`, `collection.json`, ... inside a container's folder."""
    return f"{safe_component(kind.lower(), 'container')}.json"


XMP_NAMES = ("full", "stem")  # `x.jpg.xmp` (digiKam, darktable, Immich) or `x.xmp` (Lightroom, Immich)


def xmp_names(name: str, ext: str, rule: str) -> tuple[str, str]:
    """(the XMP name the rule gives the original `<name>.<ext>`, the name the other rule gives it)."""
    full, stem = f"{name}.{ext}.xmp", f"{name}.xmp"
    return (stem, full) if rule == "stem" else (full, stem)


def numbered(position: int, count: int, name: str) -> str:
    """`007 name`: zero-padded so a file manager sorts links in the source's order."""
    width = max(3, len(str(count)))
    return truncate_utf8(f"{position:0{width}d} {name}", MAX_COMPONENT)


def is_year_bucket(name: str) -> bool:
    return name == UNDATED or (len(name) == 4 and name.isdigit())


def timestamp(doc: Document) -> float | None:
    """The file date: taken (local wall clock, as cameras record it), else posted (UTC)."""
    try:
        taken, posted = text_of(doc.taken_at), text_of(doc.posted_at)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", taken):
            return time.mktime(time.strptime(taken, "%Y-%m-%dT%H:%M:%S"))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", posted):
            return float(calendar.timegm(time.strptime(posted, "%Y-%m-%dT%H:%M:%SZ")))
    except (OverflowError, ValueError):  # out of range for this platform's clock
        return None
    return None

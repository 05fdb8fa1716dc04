"""The normalized records that flow from a source to every sink: the public contract.

Text is kept exactly as the service gave it (no trimming, no unicode normalization, HTML kept).
Each record has a JSON form carrying a `schema` version; `migrator/schema/*.json` describes it.
Version 2 added `Document.rotation`; version 1 records read as rotation 0.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any, ClassVar, Literal

from .checkpoints import checkpoint
from .errors import IntegrityError

SCHEMA_VERSION = 2
ROTATIONS = (0, 90, 180, 270)  # degrees clockwise that the viewer turns the stored image
MEDIA = ("photo", "video", "audio", "other")
Media = Literal["photo", "video", "audio", "other"]
CHUNK = 1 << 16
ID_MAX = 200  # characters: the longest document or container id every sink must keep whole


def check_id(value: object) -> str:
    """The id rule for documents and containers; returns the id or raises ValueError saying what is wrong.

    An id is any non-empty `str` of at most ID_MAX characters without control characters (newline, NUL...)
    or lone surrogates. Spaces, `/`, `=`, quotes and any other Unicode are allowed and significant: ids
    are compared exactly (case, Unicode form and spaces count). The same document keeps its id on every
    listing. A sink keeps distinct ids distinct and finds each id again, also after a lost state
    (`migrator.testing.HOSTILE_IDS` are the ids the conformance suite stores).
    """
    if not isinstance(value, str):
        raise ValueError(f"an id must be a str, not {type(value).__name__} ({value!r})")
    if not value:
        raise ValueError("an id must not be empty")
    if len(value) > ID_MAX:
        raise ValueError(f"id {value[:40]!r}... has {len(value)} characters, more than {ID_MAX}")
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise ValueError(f"id {value!r} holds the control character or lone surrogate {bad!r}")
    return value


@dataclass
class Visibility:
    public: bool = False
    friends: bool = False
    family: bool = False


@dataclass
class Geo:
    latitude: float
    longitude: float
    accuracy: int | None = None


@dataclass
class AlbumRef:
    """A document's membership in a container: `position` is its 1-based place in that album."""

    id: str
    title: str
    position: int | None = None


@dataclass
class Comment:
    id: str
    author: str
    posted_at: str | None
    text: str
    parent_id: str | None = None


@dataclass
class Note:
    id: str
    author: str
    text: str
    x: int | None = None
    y: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class FileInfo:
    name: str | None = None
    ext: str | None = None
    size: int | None = None
    md5: str | None = None
    sha256: str | None = None
    content_type: str | None = None


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def plain(value: Any) -> Any:
    """A fresh JSON-like copy of `value`: dataclasses become dicts, lists and dicts are copied.

    What dataclasses.asdict does for records, without its deepcopy of every leaf: JSON values are
    strings, numbers, booleans and None, which need no copy. This runs several times per document."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    names = _field_names(type(value)) if hasattr(value, "__dataclass_fields__") else None
    if names is None:
        return value  # not JSON: json.dumps reports it, as it did before
    return {name: plain(getattr(value, name)) for name in names}


def _build(cls: type, data: dict[str, Any] | None) -> Any:
    if data is None:
        return None
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Document:
    """One photo, video, audio or other file, with everything known about it."""

    kind: ClassVar[str] = "document"
    source: str
    id: str
    media: Media = "photo"
    title: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    taken_at: str | None = None
    taken_granularity: str | None = None
    posted_at: str | None = None
    updated_at: str | None = None
    visibility: Visibility = field(default_factory=Visibility)
    safety: int = 1
    license: str | None = None
    geo: Geo | None = None
    rotation: int = 0  # one of ROTATIONS: how the service shows the image, turned clockwise from the file
    position: int | None = None
    albums: list[AlbumRef] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    file: FileInfo | None = None
    source_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "kind": self.kind, **plain(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        check_schema_version(data)
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["visibility"] = _build(Visibility, data.get("visibility")) or Visibility()
        values["geo"] = _build(Geo, data.get("geo"))
        values["albums"] = [_build(AlbumRef, a) for a in data.get("albums") or []]
        values["comments"] = [_build(Comment, c) for c in data.get("comments") or []]
        values["notes"] = [_build(Note, n) for n in data.get("notes") or []]
        values["file"] = _build(FileInfo, data.get("file"))
        return cls(**values)


@dataclass
class Container:
    """An album, collection or folder: ordered member ids (documents, or containers for collections)."""

    kind: str  # "album" | "collection" | "folder"
    source: str
    id: str
    title: str = ""
    description: str = ""
    members: list[str] = field(default_factory=list)
    member_kind: str = "document"  # "document" | "container"
    parent: str | None = None
    position: int | None = None
    updated_at: str | None = None
    source_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.kind}:{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, **plain(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Container:
        check_schema_version(data)
        return _build(cls, data)


def rotation(value: Any) -> int:
    """A service's rotation (degrees clockwise, any whole number) as one of ROTATIONS; else 0."""
    try:
        degrees = int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return degrees % 360 if degrees % 90 == 0 else 0


def check_schema_version(data: dict[str, Any]) -> None:
    version = data.get("schema")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"unsupported record schema version {version!r} (this migrator reads up to {SCHEMA_VERSION})")


def dumps(record: Document | Container) -> str:
    """The canonical JSON text of a record: UTF-8, stable key order, one line per field and per key of
    an object field (e.g. each key of source_metadata), deeper values compact on their line.

    json's indent= output is written by its pure-Python encoder, the largest CPU cost of storing a
    document; this layout uses the C encoder for every value and stays easy to read and to diff."""
    return _pretty(record.to_json(), 2, "") + "\n"


def _pretty(value: Any, depth: int, indent: str) -> str:
    if depth == 0 or not isinstance(value, dict) or not value:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    inner = indent + "  "
    lines = [f"{inner}{json.dumps(key, ensure_ascii=False)}: {_pretty(value[key], depth - 1, inner)}"
             for key in sorted(value)]
    return "{\n" + ",\n".join(lines) + "\n" + indent + "}"


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of `document` or `container` records, as shipped in migrator/schema/."""
    text = resources.files("migrator").joinpath("schema", f"{kind}.schema.json").read_text("utf-8")
    return json.loads(text)


# --- originals ---------------------------------------------------------------------------------


class VerifyingReader:
    """Wraps a byte stream; at end of stream checks the size and hashes announced by the source."""

    def __init__(self, raw: IO[bytes], label: str, size: int | None = None, md5: str | None = None,
                 sha256: str | None = None, on_read: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._on_read = on_read  # told the position after each chunk (the core counts bytes by it)
        self._label = label
        self._expect = (size, (md5 or "").lower() or None, (sha256 or "").lower() or None)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self.bytes_read = 0
        self.sha256: str | None = None
        self.md5: str | None = None

    def read(self, n: int = CHUNK) -> bytes:
        if n is None or n < 0:
            n = CHUNK  # never slurp a whole original
        chunk = self._raw.read(n)
        if chunk:
            if not self.bytes_read:
                checkpoint("stream:first-chunk")
            self.bytes_read += len(chunk)
            self._md5.update(chunk)
            self._sha256.update(chunk)
            if self._on_read is not None:
                self._on_read(self.bytes_read)
        elif self.sha256 is None:
            self._finish()
            checkpoint("stream:complete")
        return chunk

    def _finish(self) -> None:
        size, md5, sha256 = self._expect
        self.md5, self.sha256 = self._md5.hexdigest(), self._sha256.hexdigest()
        if size is not None and self.bytes_read != size:
            raise IntegrityError(f"{self._label}: got {self.bytes_read} bytes, expected {size}")
        if md5 and self.md5 != md5:
            raise IntegrityError(f"{self._label}: md5 {self.md5} does not match the announced {md5}")
        if sha256 and self.sha256 != sha256:
            raise IntegrityError(f"{self._label}: sha256 does not match the announced one")

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Original:
    """The bytes of a document's original, handed out as a fresh chunked stream on each `open()`.

    Once a sink confirms a complete copy on this disk (`Stored.local_copy`), the core calls `read_from`:
    later sinks then read that file instead of fetching from the network again.
    """

    def __init__(self, opener: Callable[[], IO[bytes]], label: str, size: int | None = None,
                 md5: str | None = None, sha256: str | None = None) -> None:
        self._opener = opener
        self.label = label
        self.size, self.md5, self.sha256 = size, md5, sha256
        self.path: Path | None = None
        # set by the run loop: told how far each stream got, so a document's bytes count once however many
        # sinks read them (plugins leave it alone)
        self.on_read: Callable[[int], None] | None = None

    @classmethod
    def from_file(cls, path: Path, label: str, size: int | None = None, md5: str | None = None,
                  sha256: str | None = None) -> Original:
        original = cls(lambda: open(path, "rb"), label, size, md5, sha256)
        original.path = Path(path)
        return original

    def open(self) -> VerifyingReader:
        """A stream that raises IntegrityError at its end if size or hash are off."""
        raw = open(self.path, "rb") if self.path else self._opener()
        return VerifyingReader(raw, self.label, self.size, self.md5, self.sha256, self.on_read)

    def read_from(self, path: Path, sha256: str | None = None) -> None:
        self.path = Path(path)
        if sha256:
            self.sha256 = sha256


@dataclass
class Item:
    """A loaded document with its original (None for documents without bytes)."""

    document: Document
    original: Original | None = None


@dataclass
class Entry:
    """One listed document, not yet loaded: the core decides from state whether to `load()` it.

    `source`/`id` name the origin service and id (they key the state). `updated_at` is compared with
    what the sinks stored. `bookmark` is a sortable value: entries come in ascending bookmark order and
    the core advances the source's bookmark over the contiguous prefix of completed entries.
    """

    source: str
    id: str
    load: Callable[[], Item]
    updated_at: str | None = None
    bookmark: str | None = None
    size: int | None = None
    title: str = ""

    @property
    def key(self) -> str:
        return f"{self.source}:{self.id}"

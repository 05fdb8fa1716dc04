"""Backup folders other tools left behind, read as records: the API of a folder format.

A plugin that knows a tool's folder (say a Google Takeout export) subclasses `FolderFormat` and registers
the class through the `register_folder_formats` hook. The `local` source replays every registered format
it detects in its folder; the `local` sink asks each format's `Originals` for a file it can link in instead
of downloading it again. Readers touch the folder only through the strict helpers below: a symlink never
leads them outside, and a damaged file becomes one failing document (`damaged`), never a crash.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .errors import DocumentError
from .records import Container, Document, Item, Original

NEXT_STEP = "fix or remove it, then rerun"
MAX_BYTES = 64 << 20  # no metadata file is this big; reading one would only exhaust memory


# -- the folder, read safely ------------------------------------------------------------------------
def lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def is_dir(path: Path) -> bool:
    """A real folder, not a symlink to one."""
    st = lstat(path)
    return st is not None and stat.S_ISDIR(st.st_mode)


def is_file(path: Path) -> bool:
    """A regular file, not a symlink to one."""
    st = lstat(path)
    return st is not None and stat.S_ISREG(st.st_mode)


def list_names(folder: Path) -> Iterable[str]:
    """The names in `folder`; none when it is missing or not a folder."""
    try:
        return [entry.name for entry in os.scandir(folder)]
    except (FileNotFoundError, NotADirectoryError):
        return []


class Folder:
    """The backup folder being read (symlinks in its own path resolved once)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))

    def inside(self, path: Path) -> bool:
        """Does `path`, its symlinks followed, stay inside the folder?"""
        real = os.path.realpath(path)
        return real == str(self.root) or real.startswith(str(self.root) + os.sep)

    def rel(self, path: Path) -> str:
        return Path(path).relative_to(self.root).as_posix()


# -- damaged files ----------------------------------------------------------------------------------
class Damaged(ValueError):
    """A backup file that cannot be read as what its name says it is; `step` is what the user can do."""

    def __init__(self, problem: str, step: str = NEXT_STEP) -> None:
        super().__init__(problem)
        self.step = step


def read_json(path: Path) -> Any:
    """The JSON value in `path`, a regular file (never followed through a symlink)."""
    st = lstat(path)
    if st is None:
        raise Damaged("is missing")
    if stat.S_ISLNK(st.st_mode):
        raise Damaged("is a symbolic link, not a file (a dangling one)" if not path.exists() else
                      "is a symbolic link, not a file: replace it with the file itself")
    if not stat.S_ISREG(st.st_mode):
        raise Damaged("is a folder, not a file" if stat.S_ISDIR(st.st_mode) else "is not a regular file")
    if st.st_size > MAX_BYTES:
        raise Damaged(f"is {st.st_size} bytes, too big for a metadata file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Damaged(f"cannot be read ({exc.strerror or exc})")
    return parse_json(data)


def parse_json(data: bytes) -> Any:
    """The JSON value of a file's bytes (a byte order mark, as Windows editors write it, is fine)."""
    if not data.strip():
        raise Damaged("is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Damaged(f"is not UTF-8 text (byte {exc.start})")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Damaged(f"is not valid JSON, truncated? ({exc.msg}: line {exc.lineno} column {exc.colno})")
    except RecursionError:
        raise Damaged("is nested too deeply to be a metadata file")
    problem = unwritable(value)
    if problem is not None:
        raise Damaged(problem)
    return value


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def unwritable(value: Any) -> str | None:
    """What in `value` no sink could write back: a lone surrogate (not UTF-8) or an infinite number."""
    try:  # the usual case, at C speed: the walk below only says what is wrong
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return None
    except (ValueError, UnicodeEncodeError):
        pass
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and not _encodable(item):
            return "holds text that is not valid Unicode (a lone surrogate escape)"
        if isinstance(item, float) and not math.isfinite(item):
            return "holds a number too large for any reader (like 1e999)"
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def an_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Damaged(f"holds {kind_of(value)}, not {what}")
    return value


def kind_of(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a text", list: "a list",
             dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- a JSON Schema subset (what migrator's own schemas and the readers' record shapes use) -----------
_NAMES = {"string": "a text", "object": "an object", "array": "a list", "boolean": "true or false",
          "integer": "an integer", "number": "a number", "null": "null"}
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "object": (dict,), "array": (list,), "boolean": (bool,),
                                       "integer": (int,), "number": (int, float), "null": (type(None),)}


def check(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str = "",
          complete: bool = True) -> str | None:
    """The first way `value` breaks `schema` ("title is an object, not a string"), or None.

    `complete` False skips `required` and `additionalProperties`: a hand-written file may leave out what
    has a default and add notes of its own."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    name = where or "the record"
    problem = _check_scalar(value, schema, name)
    if problem is not None:
        return problem
    if isinstance(value, dict):
        return _check_object(value, schema, root, where, complete)
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            problem = check(item, schema["items"], root, f"{where}[{n}]", complete)
            if problem is not None:
                return problem
    return None


def _check_scalar(value: Any, schema: dict[str, Any], name: str) -> str | None:
    if "const" in schema and value != schema["const"]:
        return f"{name} is {value!r}, not {schema['const']!r}"
    if "enum" in schema and not any(value == v and type(value) is type(v) for v in schema["enum"]):
        return f"{name} is {short(value)}, not one of {', '.join(map(str, schema['enum']))}"
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(isinstance(value, _TYPES[t]) and not (isinstance(value, bool) and t in ("integer", "number"))
                   for t in types):
            return f"{name} is {kind_of(value)}, not {' or '.join(_NAMES.get(t, t) for t in types)}"
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"{name} is {short(value)}, not in the expected form"
        if len(value) < schema.get("minLength", 0):
            return f"{name} is empty"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
            return f"{name} is {value}, out of range"
    return None


def _check_object(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], where: str,
                  complete: bool) -> str | None:
    props = schema.get("properties", {})
    prefix = f"{where}." if where else ""
    if complete:
        for key in schema.get("required", []):
            if key not in value:
                return f"{prefix}{key} is missing"
        if schema.get("additionalProperties") is False:
            for key in value:
                if key not in props:
                    return f"{prefix}{key} is not a field of this record"
    for key, sub in props.items():
        if key in value:
            problem = check(value[key], sub, root, f"{prefix}{key}", complete)
            if problem is not None:
                return problem
    return None


# -- what a format hands out ------------------------------------------------------------------------
@dataclass
class Listed:
    """One document of the folder, listed cheaply; `load()` reads its record and opens its original."""

    source: str
    id: str
    title: str
    size: int | None
    load: Callable[[], Item]


def item_from_file(doc: Document, path: Path, size: int | None = None, md5: str | None = None,
                   sha256: str | None = None) -> Item:
    """The document with its original on disk; a file whose size differs from the record fails."""
    st = lstat(path)
    if st is None or not is_file(path):
        raise DocumentError(f"{path}: the original is missing (or not a regular file)")
    if size is not None and st.st_size != size:
        raise DocumentError(f"{path}: {st.st_size} bytes on disk but the record says {size}: not replayed")
    return Item(doc, Original.from_file(path, f"{doc.key} ({path.name})", size=st.st_size, md5=md5, sha256=sha256))


def damaged(folder: Folder, source: str, doc_id: str, path: Path, problem: Damaged) -> Listed:
    """A listed document whose backup file cannot be read: loading it fails, naming the file and the way out
    (listing it keeps it from vanishing silently; `source`/`id` come from its name where possible, so the
    fixed file takes its place on the next run)."""
    message = f"{folder.rel(path)} {problem}: {problem.step}"

    def load() -> Item:
        raise DocumentError(message)

    return Listed(source, doc_id, "", None, load)


# -- the API a format implements --------------------------------------------------------------------
class Originals:
    """Finds the files a format keeps originals in, for the `local` sink to adopt.

    The sink checks every candidate itself (a regular file inside the folder, whose size or hash matches
    what the source announces) and links it in, never moving or changing it."""

    def __init__(self, folder: Folder) -> None:
        self.folder = folder

    def candidates(self, source: str, doc_id: str, exts: Sequence[str]) -> list[Path]:
        """Paths that may hold the original of `source:doc_id`; `exts` are the extensions it may have.
        Called from several threads at once."""
        return []


class FolderFormat:
    """A kind of backup folder the `local` source can replay. Subclass it and register the class.

    `priority`: lower is more faithful; when two formats in one folder list the same document, the first
    one's record wins. `originals`: the class that finds this format's originals for adoption, if any."""

    name: ClassVar[str] = ""
    priority: ClassVar[int] = 100
    originals: ClassVar[type[Originals] | None] = None

    def __init__(self, folder: Folder) -> None:
        self.folder = folder
        # the run's `migrator.api.Context`, set by the `local` source before it lists (None when a format is
        # driven directly): warnings for the run report, the API call count, other plugins' settings
        self.context: Any = None

    @classmethod
    def detect(cls, folder: Folder) -> bool:
        """Does `folder` hold a backup in this format? Cheap: called for every format on every run."""
        raise NotImplementedError

    def documents(self) -> Iterator[Listed]:
        """Every document, in a stable order; one the format cannot read is listed through `damaged`."""
        raise NotImplementedError

    def containers(self) -> Iterator[Container]:
        """Albums and collections, parents before children."""
        return iter(())

"""Reading backup files strictly: a file that cannot be read says what is wrong with it.

`read_json` turns every way a file can be damaged (a folder or a link in its place, bytes that are not
UTF-8, truncated JSON...) into `Damaged`; `check` compares a value with the subset of JSON Schema that
migrator's own schemas use, so a record read back from a sidecar is exactly as valid as one a source built.
"""

from __future__ import annotations

import json
import math
import re
import stat
from functools import cache
from pathlib import Path
from typing import Any

from migrator import Container, Document
from migrator.records import SCHEMA_VERSION, json_schema

from ..fsops import lstat

NEXT_STEP = "fix or remove it, then rerun"
MAX_BYTES = 64 << 20  # no metadata file is this big; reading one would only exhaust memory


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


# -- records ----------------------------------------------------------------------------------------
def document_from(data: Any) -> Document:
    """A document record as the local sink wrote it, checked against migrator's schema."""
    data = an_object(data, "a record")
    if data.get("kind") != "document":
        raise Damaged(f"is not a document record (its kind is {short(data.get('kind'))})")
    return _record(Document, data, "document")


def container_from(data: Any) -> Container:
    return _record(Container, an_object(data, "a record"), "container")


@cache
def _schema(kind: str) -> dict[str, Any]:
    return json_schema(kind)


def _record(cls: type, data: dict[str, Any], kind: str) -> Any:
    version = data.get("schema")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Damaged(f"has no record version (schema is {short(version)})")
    if version > SCHEMA_VERSION:
        raise Damaged(f"was written by a newer migrator (record version {version})", "update migrator, then rerun")
    schema = _schema(kind)
    data = drop_nulls(data, schema, schema)
    problem = check(data, schema, schema, complete=False)
    if problem is None:
        try:
            record = cls.from_json(data)
        except TypeError as exc:  # a field without a default is missing
            names = re.findall(r"'(\w+)'", str(exc))
            raise Damaged(f"lacks a required field ({', '.join(names) or exc})")
        problem = check(record.to_json(), schema, schema)
    if problem is not None:
        raise Damaged(f"has a bad field: {problem}")
    return record


# -- a JSON Schema subset -------------------------------------------------------------------------
_NAMES = {"string": "a text", "object": "an object", "array": "a list", "boolean": "true or false",
          "integer": "an integer", "number": "a number", "null": "null"}
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "object": (dict,), "array": (list,), "boolean": (bool,),
                                       "integer": (int,), "number": (int, float), "null": (type(None),)}


def kind_of(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a text", list: "a list",
             dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


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


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def drop_nulls(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """`value` without the nulls its schema does not allow: such a field then takes its default
    (`"title": null` reads as no title), and a missing required one is reported as missing."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: drop_nulls(v, props.get(k, {}), root) for k, v in value.items()
                if v is not None or k not in props or _allows_null(props[k], root)}
    if isinstance(value, list) and "items" in schema:
        return [drop_nulls(v, schema["items"], root) for v in value]
    return value


def _allows_null(schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    types = schema.get("type", [])
    return "null" in ([types] if isinstance(types, str) else types) or None in schema.get("enum", [])

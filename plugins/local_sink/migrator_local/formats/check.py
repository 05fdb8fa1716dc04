"""Records read back from this sink's sidecars, checked against migrator's own schemas, so a record read
back is exactly as valid as one a source built (`migrator.folders` reads the files strictly)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from migrator import Container, Document
from migrator.folders import Damaged, an_object, check, short
from migrator.records import SCHEMA_VERSION, json_schema


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

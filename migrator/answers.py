"""Defensive readers for the JSON answers of web services; every plugin reads answers with these.

Services send numbers as strings or as numbers, empty objects as `[]` or `""`, a one-item list as the
item itself, drop empty lists, and some wrap texts as `{"_content": ...}` (Flickr). Each reader takes
whatever arrived and returns the type asked for, or its empty value: none of them raises.
"""

from __future__ import annotations

import re
from typing import Any

TRUE_WORDS = frozenset({"true", "yes", "on"})


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is an object, else {} (services send [] or "" for empty objects)."""
    return value if isinstance(value, dict) else {}


def items(block: Any, key: str) -> list[dict[str, Any]]:
    """`block[key]` as a list of objects: a lone object becomes a list of one, a missing key or a
    non-list an empty list, and entries that are not objects are dropped."""
    value = obj(block).get(key)
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def as_int(value: Any) -> int | None:
    """A whole number sent as a number or as its decimal text; None for anything else ("1.5", "²", "")."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:  # also a text of more digits than Python converts
            return None
    return None


def as_float(value: Any) -> float | None:
    """A number sent as a number or as text; None for anything else (a boolean is no coordinate)."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def as_str(value: Any) -> str:
    """A scalar as text; "" for None, objects and lists."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def text(value: Any) -> str:
    """A text that may come wrapped as {"_content": ...}; "" when there is none."""
    if isinstance(value, dict):
        value = value.get("_content")
    return as_str(value)


def flag(value: Any) -> bool:
    """A yes/no field: true for a non-zero whole number (1, "1", True) and for "true", "yes", "on" in
    any case; false for everything else (0, "", "false", "no", None, junk)."""
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
        return True
    return as_int(value) not in (None, 0)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(value: Any) -> Any:
    """A parsed answer with lone surrogate escapes (half of a cut emoji) as U+FFFD, in keys and values:
    no sink could write them as UTF-8. Everything else is kept exactly."""
    if isinstance(value, (dict, list)) and "\\ud" not in repr(value):
        return value  # repr spells any surrogate as \udXXX: none there, nothing to walk through
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value

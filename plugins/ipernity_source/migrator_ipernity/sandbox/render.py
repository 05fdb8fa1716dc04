"""Turning handler payloads into ipernity-style JSON (reference §3).

Handlers build plain Python structures: ``int``/``float`` for numeric scalars
(ids, counts, flags, timestamps), ``bool`` for 0/1 flags, ``str`` for text,
``dict`` for objects and ``list`` for repeated elements.  :func:`render` applies
the ipernity conventions:

* numeric scalars become strings (``"0"``/``"1"`` for booleans) unless
  ``numeric_scalars`` is set;
* a key whose value is an empty list (or ``None``) is omitted;
* an empty object is rendered as ``[]``, ``""`` or ``{}`` (``empty_object_style``).
"""

from __future__ import annotations

import json
from typing import Any

# short messages (reference §4.1)
GLOBAL_ERRORS: dict[int, str] = {
    100: "API Key is missing",
    101: "API Key is invalid",
    102: "Invalid format",
    103: "Method not found",
    104: "Signature missing",
    105: "Signature is invalid",
    106: "Token missing",
    107: "Token invalid",
    108: "Account closed",
    109: "Action blocked",
    110: "Insufficient permissions",
    111: "IP not allowed",
    112: "Application Quota Error",
    113: "Client IP Quota Error",
    120: "HTTP POST required",
    500: "Service error",
    501: "Maintenance mode",
    503: "Service unavailable",
}

EMPTY_STYLES = {"[]": [], '""': "", "{}": {}}


class ApiError(Exception):
    """An ipernity error envelope: ``{"api": {"status": "error", "code", "message"}}``."""

    def __init__(self, code: int, message: str | None = None):
        self.code = int(code)
        self.message = message if message is not None else GLOBAL_ERRORS.get(self.code, "Error")
        super().__init__(f"{self.code} {self.message}")


def _scalar(value: Any, numeric: bool) -> Any:
    if isinstance(value, bool):
        return int(value) if numeric else ("1" if value else "0")
    if isinstance(value, int):
        return value if numeric else str(value)
    if isinstance(value, float):
        if numeric:
            return value
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def render(value: Any, numeric: bool = False, empty: str = "[]") -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v is None or (isinstance(v, list) and not v):
                continue
            out[k] = render(v, numeric, empty)
        if not out:
            return EMPTY_STYLES.get(empty, [])
        return out
    if isinstance(value, list):
        return [render(v, numeric, empty) for v in value]
    return _scalar(value, numeric)


def ok_body(payload: dict[str, Any], numeric: bool = False, empty: str = "[]") -> bytes:
    doc: dict[str, Any] = {}
    for k, v in payload.items():
        if v is None:
            continue
        doc[k] = render(v, numeric, empty)
    doc["api"] = {"status": "ok"}
    return json.dumps(doc).encode("ascii")


def error_body(err: ApiError, code_as_number: bool = False) -> bytes:
    code: Any = err.code if code_as_number else str(err.code)
    return json.dumps({"api": {"status": "error", "code": code, "message": err.message}}).encode("ascii")

"""ipernity legacy request signature (``api_sig``), reference §2.2.

The signed string is every parameter except ``api_sig`` and the upload ``file``,
sorted by name, written as ``name + value`` with raw (not URL-encoded) UTF-8
values, followed by the method name (nothing for an authorization link) and the
application secret.  ``api_sig`` is the lowercase hex MD5 of that string.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

EXCLUDED = frozenset({"api_sig", "file"})


def signature_base(params: Mapping[str, object], method: str | None, secret: str) -> str:
    parts = []
    for name in sorted(k for k in params if k not in EXCLUDED):
        value = params[name]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        parts.append(f"{name}{value}")
    return "".join(parts) + (method or "") + secret


def api_sig(params: Mapping[str, object], method: str | None, secret: str) -> str:
    """Signature of a method call (``method`` given) or of an auth link (``method`` None/"")."""
    return hashlib.md5(signature_base(params, method, secret).encode("utf-8")).hexdigest()


def link_sig(params: Mapping[str, object], secret: str) -> str:
    """Signature of an authorization link: no method name."""
    return api_sig(params, None, secret)


def sign(params: Mapping[str, object], method: str | None, secret: str) -> dict[str, str]:
    """Return a copy of ``params`` (values as str) with ``api_sig`` added."""
    out = {k: (v.decode("utf-8") if isinstance(v, bytes) else str(v))
           for k, v in params.items() if k != "api_sig"}
    out["api_sig"] = api_sig(out, method, secret)
    return out


def check(params: Mapping[str, object], method: str | None, secret: str) -> bool:
    given = str(params.get("api_sig", ""))
    return hmac.compare_digest(given.lower(), api_sig(params, method, secret))

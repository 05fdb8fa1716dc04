"""The sandbox's runtime behaviour switches (latency, faults, JSON quirks ...)."""

from __future__ import annotations

from typing import Any


class Knobs:
    """Runtime behaviour switches; change them at any time (thread-safe enough:
    each request reads the current values)."""

    _FIELDS = {
        "latency": 0.0,            # seconds added to every API call
        "file_latency": 0.0,       # seconds added to every file host request (a download is a request too)
        "bandwidth": None,         # bytes/s for the file host, None = unlimited
        "fault_rate": 0.0,         # fraction of API calls failing (HTTP 500 or 500/501/503)
        "rate_limit": 0.0,         # fraction of API calls answered with 113
        "quota_after": None,       # after N keyed calls every call gets 112 (counted from when set)
        "truncate_rate": 0.0,      # fraction of original downloads cut short
        "truncate_style": "mixed",  # "close" (full Content-Length, early close), "short", "mixed"
        "numeric_scalars": False,  # JSON numbers instead of strings
        "empty_object_style": "[]",  # how an empty object is rendered: "[]", '""' or "{}"
        "code_as_number": False,   # error code as a JSON number
        "frob_ttl": 600.0,         # seconds a frob stays valid (None = forever)
        "stall": False,            # API calls and downloads are held unanswered: a server that stopped answering
        "hang_seconds": 30.0,      # how long a stalled request is held before its connection drops
        "reset_api": 0,            # the next N API calls are dropped with a TCP reset, not carried out
        "truncate_api": 0,         # the next N API answers are cut in half (full Content-Length, then close)
        "fail_api": 0,             # the next N API calls answer HTTP 503, not carried out (a 5xx burst)
        "limit_api": 0,            # the next N API calls answer error 113, not carried out (a rate-limit burst)
    }

    def __init__(self, **values: Any):
        for name, default in self._FIELDS.items():
            object.__setattr__(self, name, default)
        object.__setattr__(self, "quota_generation", 0)
        for name, value in values.items():
            setattr(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._FIELDS:
            raise AttributeError(f"unknown sandbox knob {name!r}")
        if name == "empty_object_style" and value not in ("[]", '""', "{}"):
            raise ValueError("empty_object_style must be '[]', '\"\"' or '{}'")
        if name == "truncate_style" and value not in ("close", "short", "mixed"):
            raise ValueError("truncate_style must be 'close', 'short' or 'mixed'")
        object.__setattr__(self, name, value)
        if name == "quota_after":
            object.__setattr__(self, "quota_generation", self.quota_generation + 1)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._FIELDS}

    def __repr__(self) -> str:
        return "Knobs(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"

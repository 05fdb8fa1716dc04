"""Frobs, tokens and permission levels of the sandbox (reference §2.3-§2.5)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

TARGETS = ("doc", "blog", "network", "profile", "post")
LEVELS = ("none", "read", "write", "delete")
RANK = {name: i for i, name in enumerate(LEVELS)}


def level_ok(have: str | None, need: str) -> bool:
    return RANK.get(have or "none", 0) >= RANK.get(need, 99)


def perms_from_params(params: dict[str, str]) -> dict[str, str]:
    """``perm_doc=read`` ... -> ``{"doc": "read"}`` (unknown targets/levels ignored)."""
    out = {}
    for target in TARGETS:
        level = (params.get(f"perm_{target}") or "").strip().lower()
        if level in RANK and level != "none":
            if target == "profile" and level == "delete":
                level = "write"
            out[target] = level
    return out


@dataclass
class Frob:
    frob: str
    api_key: str
    created: float
    perms: dict[str, str] | None = None  # set on approval
    user_id: str | None = None
    denied: bool = False
    used: bool = False


@dataclass
class Token:
    token: str
    api_key: str
    user_id: str
    perms: dict[str, str] = field(default_factory=dict)
    revoked: bool = False


class AuthStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.frobs: dict[str, Frob] = {}
        self.tokens: dict[str, Token] = {}
        self._counter = 0

    def _serial(self) -> int:
        self._counter += 1
        return 100000 + self._counter

    def new_frob(self, api_key: str) -> Frob:
        with self._lock:
            value = f"{self._serial()}-{secrets.token_hex(4)}"
            frob = self.frobs[value] = Frob(value, api_key, time.time())
            return frob

    def live_frob(self, value: str, api_key: str, ttl: float | None) -> Frob | None:
        """The frob if it exists for this key, is unused and not expired."""
        with self._lock:
            frob = self.frobs.get(value)
            if frob is None or frob.used or frob.api_key != api_key:
                return None
            if ttl is not None and time.time() - frob.created > ttl:
                return None
            return frob

    def approve(self, value: str, user_id: str, perms: dict[str, str]) -> Frob:
        with self._lock:
            frob = self.frobs[value]
            frob.perms = dict(perms)
            frob.user_id = user_id
            frob.denied = False
            return frob

    def deny(self, value: str) -> None:
        with self._lock:
            frob = self.frobs.get(value)
            if frob:
                frob.denied = True
                frob.perms = None

    def exchange(self, value: str, api_key: str, ttl: float | None) -> Token | None:
        """Swap an approved frob for a token (single use)."""
        with self._lock:
            frob = self.live_frob(value, api_key, ttl)
            if frob is None or frob.denied or frob.perms is None or frob.user_id is None:
                return None
            frob.used = True
            return self.issue(api_key, frob.user_id, frob.perms)

    def issue(self, api_key: str, user_id: str, perms: dict[str, str], value: str | None = None) -> Token:
        with self._lock:
            if value is None:
                value = f"{self._serial()}-{secrets.token_hex(8)}"
            token = self.tokens[value] = Token(value, api_key, user_id, dict(perms))
            return token

    def lookup(self, value: str, api_key: str) -> Token | None:
        with self._lock:
            token = self.tokens.get(value)
            if token is None or token.revoked or token.api_key != api_key:
                return None
            return token

    def revoke(self, value: str) -> None:
        with self._lock:
            token = self.tokens.get(value)
            if token:
                token.revoked = True

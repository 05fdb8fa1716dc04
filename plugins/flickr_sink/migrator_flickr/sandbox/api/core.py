"""The method table, the dispatcher, the call context and the argument readers every handler shares.

Every handler takes a :class:`Call` and returns ``None`` (empty answer), a :class:`Node`, a list of nodes, or
a ``Node("rsp", ...)`` root, and raises :class:`ApiError` for ``stat="fail"`` answers.  Error codes and
messages follow Flickr's per-method lists (codes differ per method)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import model
from ..model import Account, Photo
from ..render import Node

if TYPE_CHECKING:  # pragma: no cover
    from ..knobs import Knobs
    from ..oauth import AccessToken

NONE, READ, WRITE, DELETE = 0, 1, 2, 3
PERM_WORDS = {0: "no", 1: "read", 2: "write", 3: "delete"}


class ApiError(Exception):
    def __init__(self, code: int, msg: str, extra: list[Node] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.extra = extra or []


@dataclass
class Call:
    account: Account
    knobs: Knobs
    params: dict[str, str]
    base: str  # "http://127.0.0.1:PORT"
    perms: int = NONE
    token: AccessToken | None = None
    consumer: str | None = None
    store: Any = None  # the OAuthStore (checkToken looks tokens up)
    now: int = field(default_factory=model.now)

    def arg(self, name: str, default: str | None = None) -> str | None:
        v = self.params.get(name)
        if v is None or v == "":
            return default
        return v

    def id_list(self, name: str) -> list[str]:
        """A comma-separated list argument (``photo_ids``, ``tickets`` ...), blanks dropped."""
        return [x.strip() for x in (self.arg(name) or "").split(",") if x.strip()]

    @property
    def owner(self) -> bool:
        return self.perms >= READ

    def visible(self, p: Photo) -> bool:
        return self.owner or bool(p.is_public)

    def photo(self, key: str = "photo_id", code: int = 1, msg: str = "Photo not found") -> Photo:
        pid = (self.params.get(key) or "").strip()
        p = self.account.photos.get(pid)
        if p is None or not self.visible(p):
            raise ApiError(code, msg)
        return p


METHODS: dict[str, tuple[Callable[[Call], Any], int]] = {}


def method(name: str, perms: int = NONE):
    def deco(fn):
        METHODS[name] = (fn, perms)
        return fn

    return deco


def dispatch(call: Call, name: str) -> Node:
    """Run one method; returns the ``rsp`` root node."""
    entry = METHODS.get(name)
    if entry is None:
        raise ApiError(112, f'Method "{name}" not found')
    fn, need = entry
    if need > call.perms:
        if call.token is None:
            raise ApiError(99, f"Insufficient permissions. Method requires {PERM_WORDS[need]} privileges; "
                               "none granted.")
        raise ApiError(99, f"Insufficient permissions. Method requires {PERM_WORDS[need]} privileges; "
                           f"{PERM_WORDS[call.perms]} granted.")
    result = fn(call)
    if result is None:
        return Node("rsp")
    if isinstance(result, Node):
        return result if result.tag == "rsp" else Node("rsp", children=[result])
    return Node("rsp", children=list(result))


# ----------------------------------------------------------------------------------------------
# Helpers


def int_arg(value: str | None, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def flag_arg(value: str | None) -> int | None:
    """Flickr 0/1 flags; anything else (e.g. "True") is ignored."""
    if value is None:
        return None
    v = str(value).strip()
    if v in ("0", "1"):
        return int(v)
    return None


def touch(p: Photo, call: Call) -> None:
    """Bump lastupdate: strictly increasing, so every edit is visible to a mirror."""
    p.last_update = max(call.now, p.last_update + 1)


def user_id_arg(call: Call, required: bool = False, unknown_code: int = 2) -> str | None:
    uid = call.arg("user_id")
    if uid is None:
        if required:
            raise ApiError(1, "Required arguments missing")
        return None
    if uid == "me":
        if not call.owner:
            raise ApiError(unknown_code, "Unknown user")
        return call.account.user.nsid
    if uid not in (call.account.user.nsid, call.account.user.username, call.account.user.path_alias):
        raise ApiError(unknown_code, "Unknown user")
    return call.account.user.nsid

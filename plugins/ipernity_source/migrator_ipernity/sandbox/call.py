"""The context one API method runs in: who calls (:class:`Viewer`), with which parameters, against
which sandbox (:class:`Call`).

The sandbox is seen through :class:`Host`, the few things the methods need from it, so that the
methods (:mod:`.api`) and the server (:mod:`.server`) both import this module and neither imports
the other back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .account import Account, Album, Doc, User
from .auth import AuthStore, Token, level_ok
from .knobs import Knobs
from .render import ApiError


class Host(Protocol):
    """What API methods use of the running sandbox (:class:`~.server.IpernitySandbox` provides it)."""

    account: Account
    knobs: Knobs
    api_key: str
    auth_store: AuthStore

    @property
    def base_url(self) -> str: ...

    def file_dir(self, doc_id: str) -> str: ...

    def file_url(self, doc: Doc, label: str | None = None) -> str: ...

    def icon_url(self, user_id: str) -> str: ...

    def edit_doc(self, doc_id: str | int, **fields: Any) -> Doc: ...


@dataclass
class Viewer:
    user: User | None = None
    token: Token | None = None

    def perm(self, target: str) -> str:
        if self.token is None:
            return "none"
        return self.token.perms.get(target, "none")


class Call:
    def __init__(self, sb: Host, method: str, params: dict[str, str], viewer: Viewer):
        self.sb = sb
        self.account = sb.account
        self.method = method
        self.params = params
        self.viewer = viewer
        self.owner_read = (viewer.user is not None and viewer.user.user_id == sb.account.user.user_id
                           and level_ok(viewer.perm("doc"), "read"))

    def get(self, name: str, default: str = "") -> str:
        value = self.params.get(name)
        return default if value is None else value.strip()

    def extras(self, allowed: tuple[str, ...]) -> set[str]:
        wanted = {x.strip().lower() for x in self.get("extra").split(",") if x.strip()}
        return wanted & set(allowed)

    def csv(self, name: str) -> list[str]:
        return [x.strip() for x in self.get(name).split(",") if x.strip()]

    # visibility -------------------------------------------------------------------
    def sees_doc(self, d: Doc) -> bool:
        return self.owner_read or bool(d.ispublic)

    def gets_original(self, d: Doc) -> bool:
        return self.owner_read or (bool(d.ispublic) and bool(d.can_download))

    def sees_album(self, a: Album) -> bool:
        return self.owner_read or bool(a.ispublic)

    def visible_docs(self, ids: list[str]) -> list[Doc]:
        out = []
        for i in ids:
            d = self.account.find_doc(i)
            if d is not None and self.sees_doc(d):
                out.append(d)
        return out

    def doc_param(self) -> Doc:
        d = self.account.find_doc(self.get("doc_id"))
        if d is None or not self.sees_doc(d):
            raise ApiError(1, "Document not found")
        return d

    def album_param(self, message: str = "Album not found") -> Album:
        try:
            a = self.account.album(self.get("album_id"))
        except KeyError:
            raise ApiError(1, message) from None
        if not self.sees_album(a):
            raise ApiError(1, message)
        return a

    def user_param(self, optional_with_token: bool = True) -> User:
        ident = self.get("user_id")
        if not ident:
            if optional_with_token and self.viewer.user is not None:
                return self.viewer.user
            raise ApiError(1, "User not found")
        u = self.account.user_by(ident)
        if u is None:
            raise ApiError(1, "User not found")
        return u

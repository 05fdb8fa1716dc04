"""``flickr.test.*``, ``flickr.auth.oauth.checkToken``, ``flickr.reflection.getMethods``: a client checks its set-up."""

from __future__ import annotations

import re

from ..oauth import AccessToken
from ..render import Node
from .core import METHODS, READ, ApiError, Call, method


@method("flickr.test.echo")
def test_echo(call: Call):
    return [Node(k, text=v) for k, v in call.params.items() if not k.startswith("oauth_")
            and k not in ("format", "nojsoncallback", "jsoncallback") and re.fullmatch(r"[A-Za-z_][\w.-]*", k)]


@method("flickr.test.login", READ)
def test_login(call: Call):
    u = call.account.user
    return Node("user", {"id": u.nsid}, children=[Node("username", text=u.username)])


@method("flickr.test.null", READ)
def test_null(call: Call):
    return None


@method("flickr.auth.oauth.checkToken")
def check_token(call: Call):
    tok_arg = call.arg("oauth_token")
    token = None
    if tok_arg:
        token = call.store.access_tokens.get(tok_arg) if call.store is not None else None
    elif not call.knobs.strict_checktoken:
        token = call.token
    if not isinstance(token, AccessToken) or token.revoked:
        raise ApiError(98, "Invalid token")
    u = call.account.user
    return Node("oauth", children=[Node("token", text=token.token), Node("perms", text=token.perms),
                                   Node("user", {"nsid": u.nsid, "username": u.username, "fullname": u.realname})])


@method("flickr.reflection.getMethods")
def reflection_methods(call: Call):
    return Node("methods", children=[Node("method", text=n) for n in sorted(METHODS)], arrays=("method",))

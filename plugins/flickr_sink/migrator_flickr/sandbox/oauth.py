"""OAuth 1.0a (HMAC-SHA1) as Flickr runs it: consumer key, request tokens,
user authorisation, access tokens, and signature checks on every request.

Signatures are checked with oauthlib's low-level helpers: the parameters are
collected from the Authorization header, the query string and the form body
(for uploads: every multipart text field, never the ``photo`` part), and the
base string uses the URL the client addressed (scheme, Host header, path)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from oauthlib.common import Request as OAuthRequest
from oauthlib.common import urldecode
from oauthlib.oauth1.rfc5849 import signature as oauth_signature

PERM_LEVELS = {"none": 0, "read": 1, "write": 2, "delete": 3}
PERM_NAMES = {v: k for k, v in PERM_LEVELS.items()}


class OAuthFailure(Exception):
    """A request that failed OAuth checks.

    ``code``/``msg`` are the Flickr REST error; ``problem`` is the
    ``oauth_problem`` used on the token endpoints (HTTP 401/400)."""

    def __init__(self, code: int, msg: str, problem: str, status: int = 401, **extra: str) -> None:
        super().__init__(f"{code}: {msg} ({problem})")
        self.code = code
        self.msg = msg
        self.problem = problem
        self.status = status
        self.extra = extra

    def form_body(self) -> str:
        from urllib.parse import urlencode

        return urlencode({"oauth_problem": self.problem, **self.extra})


@dataclass
class RequestToken:
    token: str
    secret: str
    consumer: str
    callback: str
    created: float
    perms: str | None = None
    verifier: str | None = None
    denied: bool = False


@dataclass
class AccessToken:
    token: str
    secret: str
    consumer: str
    perms: str
    nsid: str
    created: float
    revoked: bool = False


@dataclass
class Verified:
    consumer: str | None  # None: unsigned request
    token: AccessToken | RequestToken | None
    params: dict[str, str]


class OAuthStore:
    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"oauth:{seed}")
        self.lock = threading.Lock()
        self.api_key = f"{self._rng.getrandbits(128):032x}"
        self.api_secret = f"{self._rng.getrandbits(64):016x}"
        self.consumers: dict[str, str] = {self.api_key: self.api_secret}
        self.request_tokens: dict[str, RequestToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.signatures_seen: set[str] = set()  # every oauth_signature received, so tests can look for leaks

    # -- issuing ---------------------------------------------------------------------------------
    def _token_pair(self) -> tuple[str, str]:
        token = f"72157{self._rng.randrange(10**11, 10**12):012d}-{self._rng.getrandbits(64):016x}"
        secret = f"{self._rng.getrandbits(64):016x}"
        return token, secret

    def new_request_token(self, consumer: str, callback: str) -> RequestToken:
        with self.lock:
            token, secret = self._token_pair()
            rt = RequestToken(token=token, secret=secret, consumer=consumer, callback=callback, created=time.time())
            self.request_tokens[token] = rt
            return rt

    def authorize(self, request_token: str, perms: str = "write") -> str:
        if perms not in ("read", "write", "delete"):
            raise ValueError(f"perms must be read, write or delete, not {perms!r}")
        with self.lock:
            rt = self.request_tokens.get(request_token)
            if rt is None:
                raise KeyError(f"unknown request token {request_token!r}")
            rt.perms = perms
            rt.denied = False
            if rt.callback == "oob":
                n = self._rng.randrange(0, 10**9)
                rt.verifier = f"{n // 10**6:03d}-{(n // 1000) % 1000:03d}-{n % 1000:03d}"
            else:
                rt.verifier = f"{self._rng.getrandbits(64):016x}"
            return rt.verifier

    def deny(self, request_token: str) -> None:
        with self.lock:
            rt = self.request_tokens.get(request_token)
            if rt is not None:
                rt.denied = True
                rt.verifier = None

    def exchange(self, rt: RequestToken, verifier: str | None, nsid: str) -> AccessToken:
        with self.lock:
            if rt.denied or rt.verifier is None or verifier is None or verifier.strip() != rt.verifier:
                raise OAuthFailure(98, "Invalid verifier", "verifier_invalid")
            self.request_tokens.pop(rt.token, None)
            return self._issue(rt.consumer, rt.perms or "read", nsid)

    def _issue(self, consumer: str, perms: str, nsid: str) -> AccessToken:
        token, secret = self._token_pair()
        at = AccessToken(token=token, secret=secret, consumer=consumer, perms=perms, nsid=nsid, created=time.time())
        self.access_tokens[token] = at
        return at

    def grant(self, perms: str, nsid: str) -> AccessToken:
        if perms not in ("read", "write", "delete"):
            raise ValueError(f"perms must be read, write or delete, not {perms!r}")
        with self.lock:
            return self._issue(self.api_key, perms, nsid)

    def revoke(self, token: str) -> None:
        with self.lock:
            at = self.access_tokens.get(token)
            if at is not None:
                at.revoked = True

    # -- checking --------------------------------------------------------------------------------
    def verify(self, http_method: str, uri: str, headers: dict[str, str], body: Any, query: str,
               token_kind: str = "access", timestamp_window: float | None = None) -> Verified:
        """Check an incoming request.

        ``body``: the raw form-encoded body (str) or a list of (name, value)
        pairs (multipart text fields). ``token_kind``: ``"none"`` (request_token
        endpoint), ``"request"`` (access_token endpoint) or ``"access"``."""
        auth = None
        for k, v in headers.items():
            if k.lower() == "authorization" and v[:6].lower() == "oauth ":
                auth = v
        hdrs = {"Authorization": auth} if auth else {}
        if isinstance(body, (str, bytes)):
            body = form_pairs(body)
        try:
            params = oauth_signature.collect_parameters(uri_query=query, body=list(body), headers=hdrs,
                                                        exclude_oauth_signature=False, with_realm=False)
        except ValueError:
            raise OAuthFailure(96, "Invalid signature", "signature_invalid") from None
        oauth = {k: v for k, v in params if k.startswith("oauth_")}
        if not oauth:
            return Verified(consumer=None, token=None, params={})
        consumer = oauth.get("oauth_consumer_key")
        if not consumer or consumer not in self.consumers:
            raise OAuthFailure(100, "Invalid API Key (Key not found)", "consumer_key_unknown")
        sig = oauth.get("oauth_signature")
        if sig:
            with self.lock:
                self.signatures_seen.add(sig)
        if not sig:
            raise OAuthFailure(97, "Missing signature", "parameter_absent", 400,
                               oauth_parameters_absent="oauth_signature")
        if oauth.get("oauth_signature_method", "") != "HMAC-SHA1":
            raise OAuthFailure(96, "Invalid signature", "signature_method_rejected")
        for required in ("oauth_nonce", "oauth_timestamp"):
            if not oauth.get(required):
                raise OAuthFailure(96, "Invalid signature", "parameter_absent", 400,
                                   oauth_parameters_absent=required)
        if timestamp_window:
            try:
                skew = abs(time.time() - int(oauth["oauth_timestamp"]))
            except ValueError:
                skew = float("inf")
            if skew > timestamp_window:
                raise OAuthFailure(96, "Invalid signature", "timestamp_refused")
        token_obj: AccessToken | RequestToken | None = None
        token_secret = ""
        tok = oauth.get("oauth_token")
        if token_kind == "request":
            if not tok:
                raise OAuthFailure(98, "Invalid auth token", "parameter_absent", 400,
                                   oauth_parameters_absent="oauth_token")
            token_obj = self.request_tokens.get(tok)
            if token_obj is None or token_obj.consumer != consumer:
                raise OAuthFailure(98, "Invalid auth token", "token_rejected")
            token_secret = token_obj.secret
        elif token_kind == "access" and tok:
            token_obj = self.access_tokens.get(tok)
            if token_obj is None or token_obj.revoked or token_obj.consumer != consumer:
                raise OAuthFailure(98, "Invalid auth token", "token_rejected")
            token_secret = token_obj.secret
        signed = [(k, v) for k, v in params if k != "oauth_signature"]
        req = OAuthRequest(uri, http_method=http_method)
        req.params = signed
        req.signature = sig
        ok = oauth_signature.verify_hmac_sha1(req, self.consumers[consumer], token_secret)
        if not ok and token_kind == "none" and tok in self.request_tokens:
            # flickrapi keeps the previous request token in its client and signs a second
            # request_token call with it; accept that signature too.
            ok = oauth_signature.verify_hmac_sha1(req, self.consumers[consumer], self.request_tokens[tok].secret)
        if not ok:
            base = oauth_signature.signature_base_string(
                http_method, oauth_signature.base_string_uri(uri), oauth_signature.normalize_parameters(signed))
            raise OAuthFailure(96, "Invalid signature", "signature_invalid", debug_sbs=base)
        return Verified(consumer=consumer, token=token_obj, params=oauth)


def form_pairs(body: str | bytes) -> list[tuple[str, str]]:
    """Decode a form-encoded body the way oauthlib's client does before signing."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return []
    try:
        return list(urldecode(body))
    except ValueError:
        return parse_qsl(body, keep_blank_values=True)

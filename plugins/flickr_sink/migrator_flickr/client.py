"""flickrapi 2.4.0, wrapped: endpoints from options, no token cache on disk, pacing, backoff, errors.

flickrapi pitfalls this module exists for (reference flickr_api.md §1): its SQLite token cache is
world-readable, `token_valid()` deletes tokens, there is no retry anywhere, HTTP errors arrive as
FlickrError with code None, `walk*` is broken on Python ≥ 3.9, and uploads answer XML only.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import IO, Any

import requests
from flickrapi import FlickrAPI, FlickrError
from flickrapi.auth import FlickrAccessToken
from requests_toolbelt import MultipartEncoder

from migrator import Option
from migrator.checkpoints import checkpoint
from migrator.errors import AnswerLost, AuthorizationNeeded, ServiceStopped, UsageError
from migrator.http import Pacer
from migrator.tokens import load_token

REST_URL = "https://api.flickr.com/services/rest/"
UPLOAD_URL = "https://up.flickr.com/services/upload/"
OAUTH_URL = "https://www.flickr.com/services/oauth/"
RETRY_CODES = {105, 106}  # service unavailable, write operation failed (temporary)
AUTH_CODES = {96, 97, 98, 99}  # bad or missing signature (a wrong secret), invalid token, insufficient perms
AUTH_HINT = "run `migrator auth flickr` (or set FLICKR_OAUTH_TOKEN and FLICKR_OAUTH_TOKEN_SECRET)"
LEVELS = ("read", "write", "delete")

# Options the sink and the source share: one token and one pacing serve both.
CONNECTION_OPTIONS = [
    Option("api_key", str, None, "Flickr API key", secret=True, env=("FLICKR_API_KEY",)),
    Option("api_secret", str, None, "Flickr API secret", secret=True, env=("FLICKR_API_SECRET",)),
    Option("oauth_token", str, None, "OAuth token for headless use (else the one `migrator auth flickr` saved)",
           secret=True, env=("FLICKR_OAUTH_TOKEN",)),
    Option("oauth_token_secret", str, None, "OAuth token secret that goes with oauth_token", secret=True,
           env=("FLICKR_OAUTH_TOKEN_SECRET",)),
    Option("rest_url", str, REST_URL, "REST endpoint"),
    Option("upload_url", str, UPLOAD_URL, "upload endpoint"),
    Option("oauth_url", str, OAUTH_URL, "OAuth endpoints (request_token, authorize, access_token below it)"),
    Option("rate", float, 1.0, "API requests per second (Flickr allows 3,600 an hour per key; 0: unpaced)"),
    Option("backoff", float, 1.0, "first retry delay in seconds (doubles on each retry)"),
]


class FlickrCallError(Exception):
    """A Flickr error answer (stat=fail) the caller maps per method."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        super().__init__(f"{method}: error {code}: {message}")
        self.method, self.code, self.message = method, code, message


def http_status(exc: FlickrError) -> int | None:
    """flickrapi reports HTTP failures as 'Status code N received' with code None."""
    match = re.search(r"Status code (\d+)", str(exc))
    return int(match.group(1)) if match else None


def build_api(api_key: str, api_secret: str, rest_url: str = REST_URL, upload_url: str = UPLOAD_URL,
              oauth_url: str = OAUTH_URL, token: FlickrAccessToken | None = None, timeout: float = 120) -> FlickrAPI:
    """A FlickrAPI that never writes ~/.flickr and talks to the configured endpoints."""
    if token is not None:
        api = FlickrAPI(api_key, api_secret, token=token, format="parsed-json", timeout=timeout)
    else:
        api = FlickrAPI(api_key, api_secret, store_token=False, format="parsed-json", timeout=timeout)
    api.REST_URL = rest_url
    api.UPLOAD_URL = upload_url
    api.REPLACE_URL = upload_url.replace("/upload/", "/replace/")
    api.flickr_oauth.do_upload = types.MethodType(_do_upload, api.flickr_oauth)
    base = oauth_url if oauth_url.endswith("/") else oauth_url + "/"
    api.flickr_oauth.REQUEST_TOKEN_URL = base + "request_token"
    api.flickr_oauth.AUTHORIZE_URL = base + "authorize"
    api.flickr_oauth.ACCESS_TOKEN_URL = base + "access_token"
    return api


def _do_upload(self: Any, filename: str, url: str, params: dict[str, Any] | None = None,
               fileobj: IO[bytes] | None = None, timeout: float | None = None) -> bytes:
    """flickrapi's upload with the file's real extension in the multipart name.

    flickrapi 2.4.0 names every file part "dummy name", and Flickr then rejects some videos with
    error 5 (flickrapi issue #104). As there, `photo` stays out of the OAuth signature.
    """
    params = dict(params or {})
    signed = requests.Request("POST", url, data=params, auth=self.oauth).prepare()
    if fileobj is None:
        raise ValueError("pass an open file object")
    params["photo"] = (os.path.basename(filename), fileobj)
    body = MultipartEncoder(fields=params)
    headers = {"Authorization": signed.headers.get("Authorization"), "Content-Type": body.content_type}
    response = self.session.post(url, data=body, headers=headers, timeout=timeout or self.default_timeout)
    if response.status_code != 200:
        raise FlickrError(f"do_upload: Status code {response.status_code} received")
    return response.content


class FlickrClient:
    """Every request paced to `rate` per second; 429, 5xx, 105/106 and network errors backed off."""

    def __init__(self, api: FlickrAPI, rate: float = 1.0, count: Callable[[str], None] | None = None,
                 retries: int = 6, backoff: float = 1.0) -> None:
        self.api = api
        self.pacer = Pacer(rate)
        self._count = count or (lambda method: None)
        self.retries, self.backoff = retries, backoff
        self.lock = threading.Lock()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One REST method (parsed JSON). Raises FlickrCallError for answers the caller must map."""
        return self._with_retries(method, lambda: self._answered(method, self.api.do_flickr_call(method, **params)))

    @staticmethod
    def _answered(method: str, answer: Any) -> Any:
        checkpoint(f"flickr:answer:{method}")  # Flickr did the work; nothing here knows it yet
        return answer

    def _with_retries(self, method: str, attempt: Callable[[], Any]) -> Any:
        delay = self.backoff
        for n in range(self.retries + 1):
            self.pacer.wait()
            self._count(method)
            checkpoint(f"flickr:call:{method}")
            try:
                return attempt()
            except FlickrError as exc:
                code = exc.code if isinstance(exc.code, int) else None
                status = http_status(exc)
                if code in AUTH_CODES or status == 401:
                    raise AuthorizationNeeded(f"Flickr refused the credentials ({exc}): check flickr.api_secret, "
                                              f"then {AUTH_HINT}") from None
                if code == 100:
                    raise UsageError("Flickr says the API key is invalid: check flickr.api_key / FLICKR_API_KEY")
                transient = code in RETRY_CODES or (status is not None and (status == 429 or status >= 500))
                if not transient:
                    raise FlickrCallError(method, code, str(exc)) from None
                if n == self.retries:
                    raise ServiceStopped(f"Flickr keeps failing {method} ({exc}); rerun later") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if n == self.retries:
                    raise ServiceStopped(f"Flickr unreachable during {method} ({type(exc).__name__}); "
                                         "rerun later") from None
            except ValueError as exc:  # an unparsable body on HTTP 200
                if n == self.retries:
                    raise ServiceStopped(f"Flickr answered {method} with malformed data ({exc})") from None
            time.sleep(delay)
            delay = min(delay * 2, 60)
        raise AssertionError("unreachable")  # pragma: no cover

    def call_once(self, method: str, **params: Any) -> dict[str, Any]:
        """A call that creates something, sent once: a lost answer raises AnswerLost (look, then decide)."""
        self.pacer.wait()
        self._count(method)
        checkpoint(f"flickr:call:{method}")
        try:
            return self._answered(method, self.api.do_flickr_call(method, **params))
        except FlickrError as exc:
            code = exc.code if isinstance(exc.code, int) else None
            status = http_status(exc)
            if code in AUTH_CODES or status == 401:
                raise AuthorizationNeeded(f"Flickr refused the credentials ({exc}): {AUTH_HINT}") from None
            if code in RETRY_CODES or code is None:
                raise AnswerLost(f"Flickr's answer to {method} was lost ({_brief(exc)})") from None
            raise FlickrCallError(method, code, str(exc)) from None
        except (requests.ConnectionError, requests.Timeout, ValueError) as exc:
            raise AnswerLost(f"Flickr's answer to {method} was lost ({type(exc).__name__})") from None

    def upload_once(self, path: str, fileobj: IO[bytes], fields: dict[str, Any]) -> str:
        """One upload attempt (never retried here: a lost answer may mean the photo exists)."""
        self.pacer.wait()
        self._count("upload")
        checkpoint("flickr:call:upload")
        try:
            rsp = self._answered("upload", self.api.upload(filename=path, fileobj=fileobj, format="etree", **fields))
        except FlickrError as exc:
            code = exc.code if isinstance(exc.code, int) else None
            raise FlickrCallError("upload", code, str(exc)) from None
        photo_id = rsp.findtext("photoid")
        if not photo_id:
            raise FlickrCallError("upload", None, "the answer has no photoid")
        return photo_id.strip()

    def pages(self, method: str, list_key: str, item_key: str, per_page: int = 500,
              **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged listing; a short page before the last one is asked again once."""
        page = 1
        while True:
            data = self.call(method, page=page, per_page=per_page, **params).get(list_key) or {}
            items = data.get(item_key) or []
            pages = int(data.get("pages") or 1)
            if len(items) < per_page and page < pages:  # short page: one more try, then accept it
                data = self.call(method, page=page, per_page=per_page, **params).get(list_key) or {}
                items = data.get(item_key) or items
            yield from items
            if page >= pages or not items:
                return
            page += 1


def require_keys(config: dict[str, Any]) -> None:
    if not config.get("api_key") or not config.get("api_secret"):
        raise UsageError("Flickr needs an API key and secret: set FLICKR_API_KEY and FLICKR_API_SECRET "
                         "(get them at https://www.flickr.com/services/apps/create/), or try --sandbox")


def access_token(config: dict[str, Any], config_dir: Any, perms: str) -> FlickrAccessToken:
    """The token from the options, else the saved one; flickrapi only ever sees it in memory."""
    token, secret = config.get("oauth_token"), config.get("oauth_token_secret")
    saved: dict[str, Any] = {}
    if token or secret:
        if not (token and secret):
            raise UsageError("flickr.oauth_token and flickr.oauth_token_secret go together: set both")
    else:
        saved = load_token("flickr", config_dir) or {}
        token, secret = saved.get("oauth_token"), saved.get("oauth_token_secret")
    if not token or not secret:
        raise AuthorizationNeeded(f"Flickr: no authorization token yet: {AUTH_HINT}")
    level = str(saved.get("perms") or perms).lower()
    return FlickrAccessToken(str(token), str(secret), level if level in LEVELS else perms,
                             str(saved.get("fullname") or ""), str(saved.get("username") or ""),
                             str(saved.get("user_nsid") or ""))


def connect(config: dict[str, Any], context: Any, perms: str) -> FlickrClient:
    """A paced client for the configured endpoints and token."""
    require_keys(config)
    api = build_api(config["api_key"], config["api_secret"], config["rest_url"], config["upload_url"],
                    config["oauth_url"], access_token(config, context.config_dir, perms))
    return FlickrClient(api, rate=config["rate"], count=context.count_call, backoff=config["backoff"])


def machine_tag(source: str, doc_id: str) -> str:
    """`migrator:<source>=<value>`, the identity a photo carries so a lost state can find it again.

    The predicate follows Flickr's rules (a letter first, then [A-Za-z0-9_]). The value must survive
    what Flickr does to tags (lower case; a space splits tags; quotes are dropped): an id made of
    lower-case letters, digits and `_.-` stands as it is (ipernity's and Flickr's numeric ids), any
    other id is written `b32.` + the base32 of its UTF-8 bytes, or `sha.` + a digest where that would
    be long. Every id gets a value of its own, and the same one on every run.
    """
    return f"migrator:{_predicate(source)}={_tag_value(doc_id)}"


def legacy_machine_tag(source: str, doc_id: str) -> str | None:
    """The tag versions before 0.2 wrote (the id as it was) where Flickr kept it whole, for lookups."""
    if re.search(r'[\s"]', doc_id) or machine_tag(source, doc_id) == f"migrator:{_predicate(source)}={doc_id}":
        return None
    return f"migrator:{_predicate(source)}={doc_id}"


def _predicate(source: str) -> str:
    predicate = re.sub(r"[^A-Za-z0-9_]", "_", source) or "source"
    return predicate if predicate[0].isalpha() else "s" + predicate


def _tag_value(doc_id: str) -> str:
    if re.fullmatch(r"[a-z0-9_.\-]{1,100}", doc_id) and not doc_id.startswith(("b32.", "sha.")):
        return doc_id
    encoded = base64.b32encode(doc_id.encode("utf-8")).decode("ascii").rstrip("=").lower()
    if len(encoded) <= 160:
        return "b32." + encoded
    return "sha." + hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:40]


def _brief(exc: Exception) -> str:
    """An error's first line without HTML pages: flickrapi puts whole error bodies in its messages."""
    text = str(exc).split("\n", 1)[0]
    return text if len(text) < 120 and "<" not in text else type(exc).__name__


def quote_tags(tags: list[str]) -> str:
    """Space-separated tags for Flickr; any tag with a space is double-quoted so it stays whole."""
    out = []
    for tag in tags:
        tag = tag.replace('"', "'").strip()
        if not tag:
            continue
        out.append(f'"{tag}"' if " " in tag else tag)
    return " ".join(out)

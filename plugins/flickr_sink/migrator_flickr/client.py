"""flickrapi 2.4.0, wrapped: endpoints from options, no token cache on disk, pacing, backoff, errors.

flickrapi pitfalls this module exists for (reference flickr_api.md §1): its SQLite token cache is
world-readable, `token_valid()` deletes tokens, there is no retry anywhere, HTTP errors arrive as
FlickrError with code None, `walk*` is broken on Python ≥ 3.9, and uploads answer XML only.

Retries (see migrator.service): flickrapi's own session never retries, so the core policy is the only
layer. `call` repeats reads and idempotent updates (set*/edit*); `call_once` and `upload_once` send a
creating request once: a lost answer raises AnswerLost and the caller looks before creating again.
A 429 is the one failure they wait out and repeat, as Flickr refused the request without doing it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import threading
import types
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from migrator import Option
from migrator.answers import as_int, items, obj
from migrator.errors import AnswerLost, AuthorizationNeeded, UsageError
from migrator.http import DEFAULT_POLICY, TIMEOUT, RetryPolicy, retry_after
from migrator.service import LOST, ErrorTable, Kind, Page, Rule, ServiceCalls, Trouble, read_pages
from migrator.tokens import load_token

if TYPE_CHECKING:
    import requests
    from flickrapi import FlickrAPI, FlickrError
    from flickrapi.auth import FlickrAccessToken

# flickrapi, requests and the OAuth libraries are imported by the functions that use them: registering
# the plugin (every command does) must not cost a chain without Flickr their import time.

# flickrapi logs every failed answer at ERROR (whole HTML error pages) and, for refused signatures,
# the signed base string with the key and token: never shown, whatever the verbosity.
logging.getLogger("flickrapi").setLevel(logging.CRITICAL + 1)

REST_URL = "https://api.flickr.com/services/rest/"
UPLOAD_URL = "https://up.flickr.com/services/upload/"
OAUTH_URL = "https://www.flickr.com/services/oauth/"
AUTH_HINT = "run `migrator auth flickr` (or set FLICKR_OAUTH_TOKEN and FLICKR_OAUTH_TOKEN_SECRET)"
_KEEPS_FAILING = "Flickr keeps failing {method} ({reason}) after {attempts} tries; rerun later"
_REFUSED_CREDENTIALS = Rule(Kind.AUTHORIZATION, "Flickr refused the credentials ({error}): check "
                                                f"flickr.api_secret, then {AUTH_HINT}")
# Codes without a row are FlickrCallError, mapped by the caller per method (e.g. 1: not found).
ERRORS = ErrorTable({
    **dict.fromkeys((96, 97, 98, 99, "http401"), _REFUSED_CREDENTIALS),  # signature (a wrong secret), token, perms
    100: Rule(Kind.USAGE, "Flickr says the API key is invalid: check flickr.api_key / FLICKR_API_KEY"),
    "http429": Rule(Kind.REFUSED, _KEEPS_FAILING),  # rate-limited: Flickr did nothing
    **dict.fromkeys((105, 106, "http5xx", LOST), Rule(Kind.TRANSIENT, _KEEPS_FAILING)),  # unavailable, write failed
})
UPLOAD_ERRORS = ERRORS | {3: Rule(Kind.TRANSIENT, _KEEPS_FAILING)}  # "general upload failure": it may exist
LEVELS = ("read", "write", "delete")

# Flickr counts calls per key and hour (3,600): a run may spend a slice of that hour at once, then goes at
# `rate`. In any hour a run sends at most BURST + 3,600 * rate calls.
BURST = 300

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
    Option("rate", float, 1.0, "API requests per second once the burst is spent (Flickr allows 3,600 an hour "
           "per key; 0: unpaced)", min=0),
    Option("burst", int, BURST, "API requests a run may send at once before `rate` paces them (a small "
           "account's mirror or upload fits in it)", min=1, max=3600),
    Option("backoff", float, 1.0, "first retry delay in seconds (doubles on each retry)", min=0),
    Option("timeout", float, TIMEOUT, "seconds to wait for Flickr to connect or send more data, on every "
           "API call and upload"),
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
              oauth_url: str = OAUTH_URL, token: FlickrAccessToken | None = None,
              timeout: float = TIMEOUT) -> FlickrAPI:
    """A FlickrAPI that never writes ~/.flickr and talks to the configured endpoints."""
    from flickrapi import FlickrAPI

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
    api.flickr_oauth.session.hooks["response"].append(_note_retry_after)
    return api


_last = threading.local()  # the Retry-After of this thread's latest answer (flickrapi drops the headers)


def _note_retry_after(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    _last.retry_after = retry_after(response)


def _do_upload(self: Any, filename: str, url: str, params: dict[str, Any] | None = None,
               fileobj: IO[bytes] | None = None, timeout: float | None = None) -> bytes:
    """flickrapi's upload with the file's real extension in the multipart name.

    flickrapi 2.4.0 names every file part "dummy name", and Flickr then rejects some videos with
    error 5 (flickrapi issue #104). As there, `photo` stays out of the OAuth signature.
    """
    import requests
    from flickrapi import FlickrError
    from requests_toolbelt import MultipartEncoder

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
    """Every request paced to `rate` per second and tried under one retry policy (migrator.service)."""

    def __init__(self, api: FlickrAPI, rate: float = 1.0, count: Callable[[str], None] | None = None,
                 retries: int | None = None, backoff: float = DEFAULT_POLICY.first_delay,
                 policy: RetryPolicy | None = None, burst: int = 1) -> None:
        self.api = api
        attempts = DEFAULT_POLICY.attempts if retries is None else retries + 1
        self.policy = policy or RetryPolicy(attempts=attempts, first_delay=backoff)
        self.calls = ServiceCalls("Flickr", self.policy, rate, count, checkpoints="flickr", burst=burst)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A read or an idempotent update (set*/edit*), repeated under the policy when its answer is lost.
        Raises FlickrCallError for answers the caller must map."""
        return self._run(method, lambda: self.api.do_flickr_call(method, **params), creates=False)

    def call_once(self, method: str, **params: Any) -> dict[str, Any]:
        """A call that creates something: never repeated. A lost answer raises AnswerLost (look it up
        before calling again); only a 429, where Flickr did nothing, is waited out and retried."""
        return self._run(method, lambda: self.api.do_flickr_call(method, **params), creates=True)

    def _run(self, method: str, send: Callable[[], Any], creates: bool, errors: ErrorTable = ERRORS,
             rewind: Callable[[], None] | None = None) -> Any:
        def fresh() -> Any:
            _last.retry_after = None
            return send()

        return self.calls.request(method, fresh, lambda exc: self._trouble(method, exc, errors), creates=creates,
                                  before_retry=rewind)

    def _trouble(self, method: str, exc: Exception, errors: ErrorTable) -> Trouble | None:
        """What a failure means, from the error table; codes it does not know are FlickrCallError."""
        import requests
        from flickrapi import FlickrError
        from flickrapi.exceptions import IllegalArgumentException

        code, after = None, None
        if isinstance(exc, IllegalArgumentException):  # a ValueError that never reached Flickr
            return None
        if isinstance(exc, requests.RequestException):  # resets, timeouts, a body cut short
            key, reason = LOST, type(exc).__name__
        elif isinstance(exc, (ValueError, SyntaxError)):  # an unparsable body on HTTP 200 (JSON, or XML ParseError)
            key, reason = LOST, f"unreadable answer: {type(exc).__name__}"
        elif isinstance(exc, FlickrError):
            code = exc.code if isinstance(exc.code, int) else None
            status = http_status(exc)
            key, reason = (f"http{status}", f"HTTP {status}") if status is not None else (code, f"error {code}")
            if status == 429:
                reason, after = "HTTP 429, rate-limited", getattr(_last, "retry_after", None)
        else:
            return None
        trouble = errors.trouble(key, after=after, reason=reason, method=method, error=exc,
                                 attempts=self.policy.attempts)
        return trouble or Trouble(Kind.DOCUMENT, FlickrCallError(method, code, str(exc)), reason)

    def upload_once(self, path: str, fileobj: IO[bytes], fields: dict[str, Any]) -> str:
        """One upload (never repeated here: a lost answer may mean the photo exists). HTTP trouble and
        upload error 3 raise AnswerLost; the caller looks the photo up by its machine tag first."""
        start = fileobj.tell() if fileobj.seekable() else None
        rewind = (lambda: fileobj.seek(start)) if start is not None else None  # a 429 sends the file again
        rsp = self._run("upload", lambda: self.api.upload(filename=path, fileobj=fileobj, format="etree", **fields),
                        creates=True, errors=UPLOAD_ERRORS, rewind=rewind)
        photo_id = rsp.findtext("photoid")
        if not photo_id:
            raise AnswerLost("Flickr upload: the answer has no photoid; look before uploading again")
        return photo_id.strip()

    def pages(self, method: str, list_key: str, item_key: str, per_page: int = 500,
              **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged listing; a short page before the last one is asked again once."""

        def read(number: int) -> Page:
            block = obj(self.call(method, page=number, per_page=per_page, **params).get(list_key))
            return Page(number, block, items(block, item_key), as_int(block.get("pages")) or 1,
                        as_int(block.get("total")))

        for page in read_pages(read, per_page, tries=2):
            yield from page.items


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
        saved = load_token("flickr", config_dir, **token_place(config)) or {}
        token, secret = saved.get("oauth_token"), saved.get("oauth_token_secret")
    if not token or not secret:
        raise AuthorizationNeeded(f"Flickr: no authorization token yet: {AUTH_HINT}")
    from flickrapi.auth import FlickrAccessToken

    level = str(saved.get("perms") or perms).lower()
    return FlickrAccessToken(str(token), str(secret), level if level in LEVELS else perms,
                             str(saved.get("fullname") or ""), str(saved.get("username") or ""),
                             str(saved.get("user_nsid") or ""))


def token_place(config: dict[str, Any]) -> dict[str, Any]:
    """Which token file belongs to these options: the REST endpoint and API key (`migrator.tokens`); the
    file saved before tokens were kept per endpoint still counts for Flickr itself."""
    return {"endpoint": config["rest_url"], "key": config["api_key"], "legacy": config["rest_url"] == REST_URL}


def request_timeout(config: dict[str, Any]) -> float:
    """flickr.timeout, checked: a positive number of seconds."""
    timeout = config.get("timeout", TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise UsageError(f"flickr.timeout must be a number of seconds above 0, not {timeout!r}")
    return float(timeout)


def connect(config: dict[str, Any], context: Any, perms: str) -> FlickrClient:
    """A paced client for the configured endpoints and token."""
    require_keys(config)
    timeout = request_timeout(config)
    api = build_api(config["api_key"], config["api_secret"], config["rest_url"], config["upload_url"],
                    config["oauth_url"], access_token(config, context.config_dir, perms), timeout=timeout)
    return FlickrClient(api, rate=config["rate"], count=context.count_call, backoff=config["backoff"],
                        burst=config["burst"])


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



def quote_tags(tags: list[str]) -> str:
    """Space-separated tags for Flickr; any tag with a space is double-quoted so it stays whole."""
    out = []
    for tag in tags:
        tag = tag.replace('"', "'").strip()
        if not tag:
            continue
        out.append(f'"{tag}"' if " " in tag else tag)
    return " ".join(out)

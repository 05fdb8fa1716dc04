"""HTTP plumbing shared by plugins: one retry policy, sessions with timeouts, pacing, streamed downloads.

Retry layering (one policy per call, in one place):

* `Connections` (a urllib3 pool, for the hot paths: API calls and downloads) and `new_session`
  (a requests session, for code built on requests) never retry underneath: every failure reaches
  the caller once, so each request is counted and paced by the code that decides about it.
* `retrying()` runs one call under a `RetryPolicy` (attempts, doubling delays with a cap, Retry-After)
  and a classifier that says which failures are worth another attempt. Only reads and idempotent
  updates go through it; a call that creates something is sent once and a lost answer raises
  `AnswerLost`, which the caller resolves by looking before creating again.
* When the policy is used up, `retrying()` raises the caller's *non-transient* error (`ServiceStopped`
  for an API, `DocumentError` for one file), so the run loop's document-level retry (which retries
  `TransientError`s such as a download cut short) never multiplies the attempts made here.
* Downloads: opening is retried by the policy; a body cut short mid-stream cannot be resumed
  transparently, so it is a `TransientError` for the run loop, and a `Download` counts those failures
  together with failed opens against the same policy, across the run loop's retries of the document.
* `AnswerLost` is transient on purpose: the run loop tries the document again (a bounded number of
  times), and the plugin's look-up step finds what the lost request may have created.

Bound per call with the default policy: 6 requests, at most 31 s of waiting between them, and each
request at most the plugin's `timeout` per connect or read.

API clients use these through migrator.service (error tables, one paced request runner, paging).
"""

from __future__ import annotations

import email.utils
import functools
import json
import os
import re
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urlsplit

import urllib3

from . import __version__
from .errors import DocumentError, MigratorError, TransientError

if TYPE_CHECKING:
    import requests

T = TypeVar("T")
USER_AGENT = f"migrator/{__version__} (+https://github.com/migrator)"
TIMEOUT = 60.0  # seconds, for connecting and for each read: a silent server never hangs a run
RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one call is tried: `attempts` requests at most (the first included),
    waiting `first_delay`, then `factor` times longer each time, never more than `cap` seconds.

    A Retry-After from the server is honoured when it fits under the cap; a longer one ends the call
    at once (waiting less is pointless, waiting longer would stall the run)."""

    attempts: int = 6
    first_delay: float = 1.0
    factor: float = 2.0
    cap: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_delay < 0 or self.factor < 1 or self.cap < 0:
            raise ValueError(f"invalid retry policy {self}")

    def delay(self, retry: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number `retry` (1 = the second request); None: do not retry."""
        if retry >= self.attempts:
            return None
        backoff = min(self.first_delay * self.factor ** (retry - 1), self.cap)
        if retry_after is None:
            return backoff
        if retry_after > self.cap:
            return None
        return max(backoff, retry_after)

    def bounded(self) -> float:
        """The longest total wait of one call (tests and docs quote it)."""
        return sum(self.delay(n) or 0.0 for n in range(1, self.attempts))


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class Again:
    """A classifier's verdict: the failure is worth another attempt (after `after` seconds if the
    server said so)."""

    after: float | None = None


def retrying(attempt: Callable[[], T], classify: Callable[[Exception], Again | None],
             give_up: Callable[[Exception], MigratorError], policy: RetryPolicy | None = None,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """`attempt()` under `policy`. A failure `classify` does not call retryable propagates as is; when
    the policy is used up (or a Retry-After is too long), `give_up(last failure)` is raised. That
    error must not be transient: the run loop would otherwise repeat the whole policy. Without a
    `policy`, the module's DEFAULT_POLICY at the time of the call."""
    policy = policy or DEFAULT_POLICY
    retry = 0
    while True:
        try:
            return attempt()
        except Exception as exc:
            verdict = classify(exc)
            if verdict is None:
                raise
            retry += 1
            wait = policy.delay(retry, verdict.after)
            if wait is None:
                error = give_up(exc)
                if isinstance(error, TransientError):
                    raise TypeError("give_up must return a non-transient error") from exc
                raise error from None
        sleep(wait)


def retry_after(response: Any) -> float | None:
    """The Retry-After header in seconds (a number or an HTTP date), None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip() if response is not None else ""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class StatusError(Exception):
    """An answer whose HTTP status is worth another attempt (429, 5xx); `response` gives its Retry-After."""

    def __init__(self, response: Any) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _requests() -> Any:
    """requests, if something in this process imported it (an exception cannot come from it otherwise)."""
    return sys.modules.get("requests")


def transport_failure(exc: BaseException) -> bool:
    """Whether `exc` is a failure of the HTTP exchange itself (not of what the service answered): a
    retryable status, or any error of urllib3 or requests."""
    if isinstance(exc, (StatusError, urllib3.exceptions.HTTPError)):
        return True
    requests = _requests()
    return requests is not None and isinstance(exc, requests.RequestException)


def http_trouble(exc: Exception) -> Again | None:
    """The usual classifier: network errors, timeouts and HTTP 429/5xx (raised as StatusError or
    requests' HTTPError) retry."""
    requests = _requests()
    response = getattr(exc, "response", None)
    if isinstance(exc, StatusError) or (requests is not None and isinstance(exc, requests.HTTPError)):
        if response is not None and response.status_code in RETRY_STATUSES:
            return Again(retry_after(response))
        return None
    if isinstance(exc, urllib3.exceptions.LocationValueError):  # a bad URL: no attempt will do better
        return None
    if isinstance(exc, urllib3.exceptions.HTTPError):  # refused, reset, timed out, body cut short
        return Again()
    if requests is not None and isinstance(
            exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return Again()
    return None


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the service could not be reached or did not answer in time (no connection,
    a reset, a timeout), from urllib3 or requests."""
    errors = urllib3.exceptions
    if isinstance(exc, (errors.NewConnectionError, errors.TimeoutError, errors.ProtocolError, errors.ProxyError)):
        return True
    requests = _requests()
    return requests is not None and isinstance(exc, (requests.ConnectionError, requests.Timeout))


def failure_name(exc: BaseException) -> str:
    """A transport failure's name in words that do not depend on the HTTP library: `ConnectionError`,
    `Timeout`, else the exception's class."""
    errors = urllib3.exceptions
    if isinstance(exc, errors.TimeoutError) and not isinstance(exc, errors.NewConnectionError):  # a subclass
        return "Timeout"
    if unreachable(exc) and isinstance(exc, urllib3.exceptions.HTTPError):
        return "ConnectionError"
    return type(exc).__name__


def network_reason(exc: BaseException) -> str | None:
    """`Connection refused`, `Name or service not known`, `Read timed out`: the innermost reason of a
    connection failure (urllib3's and requests' texts nest pools, URLs and object addresses)."""
    if not unreachable(exc):
        return None
    reason = exc.args[0] if exc.args and not isinstance(exc, urllib3.exceptions.HTTPError) else exc
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the real one
    text = re.sub(r"<[^>]*>:?\s*", "", str(reason))  # "<urllib3.connection.HTTPConnection object at 0x…>: "
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno:
        return errno.group(1).strip()
    text = re.sub(r"^HTTP(S)?ConnectionPool\([^)]*\):\s*", "", text)  # urllib3's "HTTPConnectionPool(host=…): "
    return text.strip(" ()'\"") or None


def host_of(exc: BaseException) -> str | None:
    """The host:port a transport failure was about, when it says."""
    url = getattr(getattr(exc, "request", None), "url", None)  # requests
    if url:
        return urlsplit(url).netloc or None
    where = getattr(exc, "conn", None) or getattr(exc, "pool", None)  # urllib3: the connection or its pool
    host, port = getattr(where, "host", None), getattr(where, "port", None)
    return f"{host}:{port}" if host and port else host


class Answer:
    """One answer from `Connections`, with the part of requests.Response's interface the core and the
    plugins use (`status_code`, `headers`, `raw`, `content`, `json()`, `close()`)."""

    __slots__ = ("raw", "status_code", "headers", "url")

    def __init__(self, raw: urllib3.BaseHTTPResponse, url: str) -> None:
        self.raw, self.url = raw, url
        self.status_code, self.headers = raw.status, raw.headers

    @property
    def content(self) -> bytes:
        return self.raw.data

    def json(self) -> Any:
        return json.loads(self.raw.data)

    def close(self) -> None:
        """Give the connection back for the next request; drop it instead when the body was not read
        to the end (reading the rest might take long)."""
        if not self.raw.closed:
            self.raw.close()
        self.raw.release_conn()


class Connections:
    """HTTP(S) requests on one urllib3 connection pool: what API calls and downloads use.

    requests costs about twice the CPU of urllib3 per small request (preparing, hooks, settings merged
    per request), and a run makes two or more per document, so the hot paths talk to urllib3 directly.
    Like a `new_session` session it never retries underneath, puts `timeout` on every connect and read,
    sends migrator's User-Agent, and honours what requests takes from the environment: the proxy
    variables (HTTP(S)_PROXY, NO_PROXY) and the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE; else
    certifi's, as requests does)."""

    HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}

    def __init__(self, timeout: float | tuple[float, float] = TIMEOUT, maxsize: int = 16) -> None:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self._options = {"maxsize": maxsize, "retries": _REDIRECTS_ONLY, "headers": dict(self.HEADERS),
                         "timeout": urllib3.Timeout(connect=connect, read=read), "ca_certs": _ca_bundle()}
        self._direct = urllib3.PoolManager(**self._options)
        proxies = urllib.request.getproxies()
        self._proxies = {scheme: proxies[scheme] for scheme in ("http", "https") if scheme in proxies}
        self._via: dict[str, urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def get(self, url: str, stream: bool = False) -> Answer:
        """GET `url`, following redirects; with `stream` the body is left to be read from `answer.raw`
        (then `close()` it)."""
        return self._send("GET", url, preload_content=not stream)

    def post(self, url: str, data: Mapping[str, str]) -> Answer:
        """POST `data` form-encoded; the body is read in full."""
        headers = {**self.HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
        return self._send("POST", url, body=urlencode(data), headers=headers, redirect=False)

    def _send(self, method: str, url: str, **options: Any) -> Answer:
        try:
            return Answer(self._manager(url).request(method, url, **options), url)
        except urllib3.exceptions.MaxRetryError as exc:  # what failed, not the wrapper the redirect budget adds
            raise (exc.reason or exc) from None

    def close(self) -> None:
        self._direct.clear()
        for manager in self._via.values():
            manager.clear()

    def _manager(self, url: str) -> urllib3.PoolManager:
        if not self._proxies:
            return self._direct
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if proxy is None or _bypassed(parts.hostname or ""):
            return self._direct
        with self._lock:
            if proxy not in self._via:
                self._via[proxy] = urllib3.ProxyManager(proxy, **self._options)
            return self._via[proxy]


# No retries underneath (the one policy above decides), but redirects are followed as requests does.
_REDIRECTS_ONLY = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=10, raise_on_status=False)


@functools.lru_cache(maxsize=256)
def _bypassed(host: str) -> bool:
    return bool(urllib.request.proxy_bypass(host))


def _ca_bundle() -> str | None:
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        return bundle
    try:
        import certifi
    except ImportError:  # urllib3 then uses the system's store
        return None
    return certifi.where()


@functools.cache
def _session_class() -> type:
    import requests  # only code built on requests pays for importing it

    class TimeoutSession(requests.Session):
        def __init__(self, timeout: float | tuple[float, float]) -> None:
            super().__init__()
            self._timeout = timeout
            self._environment: dict[tuple[str, str, Any], dict[str, Any]] = {}

        def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any,
                                       cert: Any) -> dict[str, Any]:
            """requests reads the proxy and CA settings from the environment on every request, which costs
            more CPU than the rest of a small request; they do not change during a run, so once per host."""
            if proxies or verify is not None or cert is not None:
                return super().merge_environment_settings(url, proxies, stream, verify, cert)
            parts = urlsplit(url)
            key = (parts.scheme, parts.netloc, stream)
            settings = self._environment.get(key)
            if settings is None:
                settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
                self._environment[key] = settings
            return {**settings, "proxies": dict(settings["proxies"])}

        def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            kwargs.setdefault("timeout", self._timeout)
            return super().request(method, url, **kwargs)

    return TimeoutSession


def new_session(timeout: float | tuple[float, float] = TIMEOUT, **_legacy: Any) -> requests.Session:
    """A requests session with a timeout on every request and no retries underneath, for code built on
    requests (migrator's own hot paths use `Connections`).

    urllib3 gets `Retry(total=0, read=False)` (what requests does by default, spelled out): a
    connection error, timeout or 5xx comes back to the caller on the first request, and `retrying()`
    is the only layer that repeats it. `_legacy` swallows the old `retries`/`backoff`/`retry_post`
    keywords that callers outside the core may still pass; they no longer mean anything.
    """
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = _session_class()(timeout)
    adapter = HTTPAdapter(max_retries=Retry(total=0, read=False), pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class Pacer:
    """At most `rate` calls per second across threads, after a first `burst` that goes out at once.

    A token bucket (in its GCRA form): over any span of T seconds at most burst + rate*T calls start.
    rate <= 0: no pacing. burst 1 spaces every call evenly."""

    def __init__(self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = max(int(burst) - 1, 0) * self.interval  # how far ahead of schedule a call may go
        self._due = 0.0  # when the next call would be due if calls were spaced evenly
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            due = max(self._due, now)
            start = max(now, due - self.tolerance)
            self._due = due + self.interval
        if start > now:
            self._sleep(start - now)


class ResponseStream:
    """A file-like view of a streamed response body, read in chunks; connection errors become transient
    (the run loop retries the document), or final once the download's budget is used up."""

    def __init__(self, response: Answer | requests.Response, label: str,
                 failed: Callable[[str], MigratorError] | None = None) -> None:
        self._response = response
        self._raw = response.raw
        self._label = label
        self._failed = failed or TransientError

    def read(self, n: int = 1 << 16) -> bytes:
        try:
            return self._raw.read(n, decode_content=True)
        except Exception as exc:  # urllib3 ProtocolError, timeouts, resets and friends
            raise self._failed(f"{self._label}: download interrupted ({type(exc).__name__})") from None

    def close(self) -> None:
        self._response.close()


class Download:
    """Opens one original, as often as the run needs it, under one retry budget.

    Failed GETs (refused, reset, 429/5xx) are retried here under `policy`; a body cut short is a
    `TransientError` for the run loop. Both kinds count against the same `policy.attempts`, across
    every open of this document, so at most `policy.attempts` GETs fail for it in all; then the
    failure is a `DocumentError` (final for this run)."""

    def __init__(self, session: Connections | requests.Session, url: str, label: str, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session, self.url, self.label = session, url, label
        self.policy, self._sleep = policy or DEFAULT_POLICY, sleep
        self.failures = 0
        self._lock = threading.Lock()

    def __call__(self) -> IO[bytes]:
        return retrying(self._get, http_trouble, self._give_up, self._remaining(), self._sleep)

    def _remaining(self) -> RetryPolicy:
        with self._lock:
            left = self.policy.attempts - self.failures
        if left < 1:
            raise DocumentError(f"{self.label}: the download failed {self.failures} times; giving up for this run")
        return RetryPolicy(left, self.policy.first_delay * self.policy.factor ** self.failures,
                           self.policy.factor, self.policy.cap)

    def _failure(self) -> bool:
        """Count one failed GET; True when the budget is used up."""
        with self._lock:
            self.failures += 1
            return self.failures >= self.policy.attempts

    def _get(self) -> IO[bytes]:
        try:
            response = self.session.get(self.url, stream=True)
        except Exception as exc:
            if not transport_failure(exc):
                raise
            if http_trouble(exc) is None:  # e.g. an invalid URL: no retry helps
                raise DocumentError(f"{self.label}: cannot fetch the original ({type(exc).__name__})") from None
            self._failure()
            raise
        if response.status_code in RETRY_STATUSES:
            response.close()
            self._failure()
            raise StatusError(response)
        if response.status_code != 200:
            response.close()
            raise DocumentError(f"{self.label}: the file host answered HTTP {response.status_code} for the original")
        return ResponseStream(response, self.label, self._interrupted)  # type: ignore[return-value]

    def _interrupted(self, message: str) -> MigratorError:
        if self._failure():
            return DocumentError(f"{message}; failed {self.failures} times, giving up for this run")
        return TransientError(message)

    def _give_up(self, exc: Exception) -> MigratorError:
        response = getattr(exc, "response", None)
        what = f"HTTP {response.status_code}" if response is not None else type(exc).__name__
        return DocumentError(f"{self.label}: cannot fetch the original ({what}, {self.failures} attempts); "
                             "a rerun tries again")


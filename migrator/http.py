"""HTTP plumbing shared by plugins: one retry policy, sessions with timeouts, pacing, streamed downloads.

Retry layering (one policy per call, in one place):

* `new_session` sessions never retry underneath (urllib3 `Retry(total=0)`): every failure reaches
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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__
from .errors import DocumentError, MigratorError, TransientError

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


def retry_after(response: requests.Response | None) -> float | None:
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


def http_trouble(exc: Exception) -> Again | None:
    """The usual classifier: network errors, timeouts and HTTP 429/5xx (raised as HTTPError) retry."""
    if isinstance(exc, requests.HTTPError):
        response = exc.response
        if response is not None and response.status_code in RETRY_STATUSES:
            return Again(retry_after(response))
        return None
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return Again()
    return None


class _TimeoutSession(requests.Session):
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


def new_session(timeout: float | tuple[float, float] = TIMEOUT, **_legacy: Any) -> requests.Session:
    """A session with a timeout on every request and no retries underneath.

    urllib3 gets `Retry(total=0, read=False)` (what requests does by default, spelled out): a
    connection error, timeout or 5xx comes back to the caller on the first request, and `retrying()`
    is the only layer that repeats it. `_legacy` swallows the old `retries`/`backoff`/`retry_post`
    keywords that callers outside the core may still pass; they no longer mean anything.
    """
    session = _TimeoutSession(timeout)
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

    def __init__(self, response: requests.Response, label: str,
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

    def __init__(self, session: requests.Session, url: str, label: str, policy: RetryPolicy | None = None,
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
        except requests.RequestException as exc:
            if http_trouble(exc) is None:  # e.g. an invalid URL: no retry helps
                raise DocumentError(f"{self.label}: cannot fetch the original ({type(exc).__name__})") from None
            self._failure()
            raise
        if response.status_code in RETRY_STATUSES:
            response.close()
            self._failure()
            raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
        if response.status_code != 200:
            response.close()
            raise DocumentError(f"{self.label}: the file host answered HTTP {response.status_code} for the original")
        return ResponseStream(response, self.label, self._interrupted)  # type: ignore[return-value]

    def _interrupted(self, message: str) -> MigratorError:
        if self._failure():
            return DocumentError(f"{message}; failed {self.failures} times, giving up for this run")
        return TransientError(message)

    def _give_up(self, exc: Exception) -> MigratorError:
        what = f"HTTP {exc.response.status_code}" if isinstance(exc, requests.HTTPError) and exc.response is not None \
            else type(exc).__name__
        return DocumentError(f"{self.label}: cannot fetch the original ({what}, {self.failures} attempts); "
                             "a rerun tries again")


"""HTTP plumbing shared by plugins: sessions with timeouts and retries, pacing, streamed downloads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import IO, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__
from .errors import TransientError

USER_AGENT = f"migrator/{__version__} (+https://github.com/migrator)"
TIMEOUT = (15, 120)  # connect, read (seconds)
RETRY_STATUSES = (429, 500, 502, 503, 504)


class _TimeoutSession(requests.Session):
    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, **kwargs)


def new_session(retries: int = 5, backoff: float = 0.5, timeout: tuple[float, float] = TIMEOUT,
                retry_post: bool = True) -> requests.Session:
    """A session with a timeout on every call and urllib3 retries (backoff) on 429/5xx and resets.

    `retry_post=False` for non-idempotent calls such as uploads: the caller resolves those itself.
    """
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                  backoff_max=30, status_forcelist=RETRY_STATUSES, respect_retry_after_header=True,
                  allowed_methods=None if retry_post else Retry.DEFAULT_ALLOWED_METHODS,
                  raise_on_status=False)
    session = _TimeoutSession(timeout)
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class Pacer:
    """Spaces calls at most `rate` per second across threads (rate <= 0: no pacing)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


class ResponseStream:
    """A file-like view of a streamed response body, read in chunks; connection errors become transient."""

    def __init__(self, response: requests.Response, label: str) -> None:
        self._response = response
        self._raw = response.raw
        self._label = label

    def read(self, n: int = 1 << 16) -> bytes:
        try:
            return self._raw.read(n, decode_content=True)
        except (requests.RequestException, OSError, Exception) as exc:  # urllib3 ProtocolError and friends
            raise TransientError(f"{self._label}: download interrupted ({type(exc).__name__})") from None

    def close(self) -> None:
        self._response.close()


def open_url(session: requests.Session, url: str, label: str) -> IO[bytes]:
    """GET `url` streamed; raise TransientError on 5xx/429/network trouble, DocumentError otherwise."""
    from .errors import DocumentError

    try:
        response = session.get(url, stream=True)
    except requests.RequestException as exc:
        raise TransientError(f"{label}: cannot fetch the original ({type(exc).__name__})") from None
    if response.status_code in RETRY_STATUSES:
        response.close()
        raise TransientError(f"{label}: the file host answered HTTP {response.status_code}")
    if response.status_code != 200:
        response.close()
        raise DocumentError(f"{label}: the file host answered HTTP {response.status_code} for the original")
    return ResponseStream(response, label)  # type: ignore[return-value]

"""Talking to the ipernity REST API: signed calls, defensive JSON, error codes as migrator errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import requests

from migrator import http
from migrator.errors import (
    AuthorizationNeeded,
    DocumentError,
    MigratorError,
    QuotaExceeded,
    ServiceStopped,
    UsageError,
)
from migrator.http import TIMEOUT, Again, RetryPolicy, http_trouble, new_session, retrying

RETRY_CODES = {"113", "500", "501", "503"}  # IP rate limit, service error, maintenance, unavailable
AUTH_CODES = {"106", "107", "110"}  # token missing, invalid, insufficient permissions
QUOTA_CODES = {"112", "101"}  # application quota; a key disabled mid-run (how ipernity ends a key)
AUTH_HINT = "run `migrator auth ipernity` (or set IPERNITY_AUTH_TOKEN)"


def api_sig(params: dict[str, Any], method: str | None, secret: str) -> str:
    """ipernity's request signature: md5 of sorted name+value pairs, the method name, the secret."""
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("api_sig", "file"))
    return hashlib.md5(f"{text}{method or ''}{secret}".encode(), usedforsecurity=False).hexdigest()


class ApiError(Exception):
    def __init__(self, method: str, code: str, message: str) -> None:
        super().__init__(f"{method}: error {code} {message}")
        self.method, self.code, self.message = method, code, message


class IpernityClient:
    """Signs every call (api_key, auth_token when present). Every method used is a read, so a failed
    call is simply repeated under the core retry policy: one layer, `policy.attempts` requests at most."""

    def __init__(self, api_url: str, api_key: str, api_secret: str, token: str | None = None,
                 count: Callable[[str], None] | None = None, policy: RetryPolicy | None = None,
                 timeout: float = TIMEOUT) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.api_key, self.api_secret, self.token = api_key, api_secret, token
        self.session = new_session(timeout=timeout)
        self._count = count or (lambda method: None)
        self.policy = policy or http.DEFAULT_POLICY

    def signed(self, method: str | None, params: dict[str, Any]) -> dict[str, str]:
        data = {k: str(v) for k, v in params.items() if v is not None}
        data["api_key"] = self.api_key
        if self.token and method is not None:
            data["auth_token"] = self.token
        data["api_sig"] = api_sig(data, method, self.api_secret)
        return data

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One API method; transient errors are retried, the rest raised as migrator errors."""
        malformed = 0

        def classify(exc: Exception) -> Again | None:
            nonlocal malformed
            if isinstance(exc, ValueError):  # a body cut short looks malformed: worth one more read, not six
                malformed += 1
                return Again() if malformed == 1 else None
            return _retryable(exc)

        try:
            return retrying(lambda: self._once(method, params), classify,
                            lambda exc: self._give_up(method, exc), self.policy)
        except ApiError as exc:
            raise self._translate(exc) from None
        except ValueError as exc:  # before RequestException: requests' JSONDecodeError is both
            raise DocumentError(f"ipernity answered {method} with malformed data ({_brief(exc)})") from None

    def _give_up(self, method: str, exc: Exception) -> MigratorError:
        if isinstance(exc, ApiError):  # only the retryable codes get here
            return ServiceStopped(f"ipernity is unavailable for {method} ({exc.message}, error {exc.code}) after "
                                  f"{self.policy.attempts} tries; rerun later")
        if isinstance(exc, ValueError):  # before RequestException: requests' JSONDecodeError is both
            return DocumentError(f"ipernity answered {method} with malformed data ({_brief(exc)})")
        return ServiceStopped(f"ipernity did not answer {method} ({_brief(exc)}) after {self.policy.attempts} "
                              "tries; the service may be down: rerun later")

    def _once(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._count(method)
        response = self.session.post(self.api_url + method, data=self.signed(method, params))
        if response.status_code >= 500 or response.status_code == 429:
            raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
        if response.status_code != 200:
            raise ApiError(method, f"http{response.status_code}", f"HTTP status {response.status_code}")
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("api"), dict):
            raise ValueError(f"{method}: answer without an api block")
        api = data["api"]
        if api.get("status") != "ok":
            raise ApiError(method, str(api.get("code", "?")), str(api.get("message", "")))
        return data

    def _translate(self, exc: ApiError) -> MigratorError:
        if exc.code in AUTH_CODES:
            return AuthorizationNeeded(f"ipernity refused the token ({exc.message}, error {exc.code}): {AUTH_HINT}")
        if exc.code == "112":
            return QuotaExceeded(f"ipernity: the API key's request quota is used up (error 112 {exc.message}); "
                                 "rerun later, or with a new key (IPERNITY_API_KEY/IPERNITY_API_SECRET)")
        if exc.code == "101":
            return QuotaExceeded("ipernity: the API key is invalid or disabled (error 101); ipernity disables "
                                 "keys after a quota of calls: rerun with a new key from "
                                 "https://www.ipernity.com/apps/key (IPERNITY_API_KEY/IPERNITY_API_SECRET)")
        if exc.code in ("100", "104", "105"):
            return UsageError(f"ipernity rejected the request ({exc.message}, error {exc.code}): check "
                              "ipernity.api_key and ipernity.api_secret")
        if exc.code in RETRY_CODES:
            return ServiceStopped(f"ipernity is unavailable ({exc.message}, error {exc.code}) even after retries")
        return DocumentError(str(exc))

    def pages(self, method: str, list_key: str, item_key: str, per_page: int = 100,
              **params: Any) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each page's collection object and its items, until `pages` (or an empty page) says stop."""
        page = 1
        while True:
            data = self.call(method, per_page=per_page, page=page, **params)
            collection = obj(data.get(list_key))
            if list_key == "album" and "docs" in collection:  # album.docs.getList nests docs in album
                collection = obj(collection.get("docs"))
            items = items_of(collection, item_key)
            yield collection, items
            pages = as_int(collection.get("pages"))
            if pages is None:
                total, size = as_int(collection.get("total")) or 0, as_int(collection.get("per_page")) or per_page
                pages = -(-total // max(size, 1))
            if not items or page >= pages:
                return
            page += 1


def _retryable(exc: Exception) -> Again | None:
    if isinstance(exc, ApiError):
        return Again() if exc.code in RETRY_CODES else None
    if isinstance(exc, requests.RequestException):  # 429/5xx (with any Retry-After), resets, timeouts
        return http_trouble(exc) or Again()
    return None


# -- defensive JSON (reference §3.3: strings or numbers, [] or "" for empty objects, omitted lists) ----
def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items_of(collection: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = collection.get(key)
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:  # "²", "--5", "1.5", 5000 digits: no count ipernity sends
            return None
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def as_str(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def flag(value: Any) -> bool:
    return as_int(value) == 1 or (isinstance(value, str) and value.strip().lower() == "true")


def _brief(exc: Exception) -> str:
    text = str(exc)
    return type(exc).__name__ + (f": {text[:120]}" if text else "")


def dumps_compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

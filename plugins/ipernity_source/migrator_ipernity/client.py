"""Talking to the ipernity REST API: signed calls, defensive JSON, error codes as migrator errors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from migrator import http
from migrator.answers import as_int, items, obj
from migrator.errors import DocumentError
from migrator.http import TIMEOUT, Connections, RetryPolicy, StatusError, http_trouble, transport_failure
from migrator.service import LOST, ErrorTable, Kind, Page, Rule, ServiceCalls, Trouble, brief, read_pages

AUTH_HINT = "run `migrator auth ipernity` (or set IPERNITY_AUTH_TOKEN)"
_UNAVAILABLE = "ipernity is unavailable for {method} ({message}, error {code}) after {attempts} tries; rerun later"
_KEY_PAGE = "https://www.ipernity.com/apps/key (IPERNITY_API_KEY/IPERNITY_API_SECRET)"
ERRORS = ErrorTable({
    "113": Rule(Kind.REFUSED, _UNAVAILABLE),  # the IP's rate limit
    **dict.fromkeys(("500", "501", "503"), Rule(Kind.TRANSIENT, _UNAVAILABLE)),  # error, maintenance, unavailable
    **dict.fromkeys(("106", "107", "110"),  # token missing, invalid, insufficient permissions
                    Rule(Kind.AUTHORIZATION, "ipernity refused the token ({message}, error {code}): " + AUTH_HINT)),
    "112": Rule(Kind.QUOTA, "ipernity: the API key's request quota is used up (error 112 {message}); rerun later, "
                            "or with a new key (IPERNITY_API_KEY/IPERNITY_API_SECRET)"),
    "101": Rule(Kind.QUOTA, "ipernity: the API key is invalid or disabled (error 101); ipernity disables keys "
                            f"after a quota of calls: rerun with a new key from {_KEY_PAGE}"),
    **dict.fromkeys(("100", "104", "105"), Rule(Kind.USAGE, "ipernity rejected the request ({message}, error "
                                                          "{code}): check ipernity.api_key and ipernity.api_secret")),
    LOST: Rule(Kind.TRANSIENT, "ipernity did not answer {method} ({reason}) after {attempts} tries; the service "
                               "may be down: rerun later"),  # also HTTP 429 and 5xx, with their Retry-After
}, default=Rule(Kind.DOCUMENT, "{method}: error {code} {message}"))
# auth.getToken's error 2 ("frob invalid or already used") is what a frob nobody approved gets
METHOD_ERRORS = {"auth.getToken": ERRORS | {"2": Rule(Kind.AUTHORIZATION, "ipernity: access was not approved; run "
                                                                          "`migrator auth ipernity` again")}}
items_of = items  # the name this module gave it before migrator.answers


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
                 timeout: float = TIMEOUT, rate: float = 0.0) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.api_key, self.api_secret, self.token = api_key, api_secret, token
        self.connections = Connections(timeout=timeout)
        self.policy = policy or http.DEFAULT_POLICY
        self.calls = ServiceCalls("ipernity", self.policy, rate, count)

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

        def classify(exc: Exception) -> Trouble | None:
            nonlocal malformed
            if isinstance(exc, ApiError):
                return METHOD_ERRORS.get(method, ERRORS).trouble(exc.code, method=method, message=exc.message,
                                                                 attempts=self.policy.attempts)
            if transport_failure(exc):  # 429/5xx (with any Retry-After), resets, timeouts
                verdict = http_trouble(exc)
                return ERRORS.trouble(LOST, after=verdict.after if verdict else None, reason=brief(exc), method=method,
                                      attempts=self.policy.attempts)
            if isinstance(exc, ValueError):  # JSON that does not parse
                malformed += 1  # a body cut short looks malformed: worth one more read, not six
                error = DocumentError(f"ipernity answered {method} with malformed data ({brief(exc)})")
                return Trouble(Kind.TRANSIENT if malformed == 1 else Kind.DOCUMENT, error)
            return None

        return self.calls.request(method, lambda: self._once(method, params), classify)

    def _once(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self.connections.post(self.api_url + method, data=self.signed(method, params))
        if response.status_code >= 500 or response.status_code == 429:
            raise StatusError(response)
        if response.status_code != 200:
            raise ApiError(method, f"http{response.status_code}", f"HTTP status {response.status_code}")
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("api"), dict):
            raise ValueError(f"{method}: answer without an api block")
        api = data["api"]
        if api.get("status") != "ok":
            raise ApiError(method, str(api.get("code", "?")), str(api.get("message", "")))
        return data

    def pages(self, method: str, list_key: str, item_key: str, per_page: int = 100,
              **params: Any) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each page's collection object and its items, until `pages` (or an empty page) says stop."""

        def read(number: int) -> Page:
            collection = obj(self.call(method, per_page=per_page, page=number, **params).get(list_key))
            if list_key == "album" and "docs" in collection:  # album.docs.getList nests docs in album
                collection = obj(collection.get("docs"))
            pages = as_int(collection.get("pages"))
            if pages is None:
                total, size = as_int(collection.get("total")) or 0, as_int(collection.get("per_page")) or per_page
                pages = -(-total // max(size, 1))
            return Page(number, collection, items(collection, item_key), pages)

        for page in read_pages(read, per_page):
            yield page.block, page.items

"""Immich's REST API on the core's service layer: the key header, the endpoints, the error table.

Reads and idempotent updates (`PUT /assets/{id}`, the tag upsert, adding album members, which answer
per id) are repeated under the core's retry policy; the two creating calls, the upload and
`POST /albums`, are sent once (`create`, `upload`): a lost answer raises AnswerLost and the sink
looks before creating again (by checksum for assets, by members and name for albums).
Error bodies differ by version (v1/v2: `{"message": str | [str], "error", "statusCode"}`, v3:
`{"message", "errors"?}`); both are read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from migrator import Option
from migrator.answers import as_int, as_str, obj
from migrator.errors import UsageError
from migrator.http import DEFAULT_POLICY, TIMEOUT, RetryPolicy, retry_after
from migrator.service import LOST, ErrorTable, Kind, Rule, ServiceCalls, Trouble, brief

KEY_HINT = ("create an API key in Immich (Account Settings > API Keys) with the permissions the README lists, "
            "then set MIGRATOR_IMMICH_API_KEY (or -o immich.api_key=...)")
_AGAIN = "Immich keeps failing {method} ({reason}) after {attempts} tries; rerun later"
ERRORS = ErrorTable({
    "http401": Rule(Kind.AUTHORIZATION, "Immich refused the API key ({message}): " + KEY_HINT),
    "http403": Rule(Kind.AUTHORIZATION, "the Immich API key may not {method} ({message}): give the key the "
                                        "permissions the README lists, or " + KEY_HINT),
    "http429": Rule(Kind.REFUSED, _AGAIN),
    "http507": Rule(Kind.STOPPED, "the Immich server has no space left ({message}): free space on its "
                                  "storage, then rerun"),
    "http5xx": Rule(Kind.TRANSIENT, _AGAIN),
    LOST: Rule(Kind.TRANSIENT, _AGAIN),
})
# An upload answered 404 with an empty body has been seen in the wild (reference §7.2): its outcome is unknown.
UPLOAD_ERRORS = ERRORS | {"http404": Rule(Kind.TRANSIENT, _AGAIN)}

CONNECTION_OPTIONS = [
    Option("url", str, None, "the Immich server's address, e.g. https://photos.example.org (its API is below "
                             "/api)", env=("IMMICH_URL",)),
    Option("api_key", str, None, "an Immich API key (Account Settings > API Keys)", secret=True,
           env=("IMMICH_API_KEY",)),
    Option("timeout", float, TIMEOUT, "seconds to wait for Immich to connect or send more data (an upload's "
                                      "whole body must be accepted within it per read)", min=1),
    Option("backoff", float, 1.0, "first retry delay in seconds (doubles on each retry)", min=0),
]


class ImmichError(Exception):
    """An answer Immich refused for good; the caller maps it per method."""

    def __init__(self, method: str, status: int, message: str) -> None:
        super().__init__(f"{method}: HTTP {status}: {message}")
        self.method, self.status, self.message = method, status, message


class _Status(Exception):
    """A non-2xx answer, before it is classified."""

    def __init__(self, status: int, message: str, after: float | None) -> None:
        super().__init__(f"HTTP {status}" + (f": {message}" if message else ""))
        self.status, self.message, self.after = status, message, after


def api_base(url: str) -> str:
    """The API root from what a user types: the web address or the address ending in /api."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"immich.url must be the server's address, like https://photos.example.org, not {url!r}")
    return url if url.endswith("/api") else url + "/api"


def error_message(body: bytes) -> str:
    """The message of an Immich error body, v1/v2 or v3 shape; the start of the text otherwise."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return " ".join(body[:200].decode("utf-8", "replace").split())
    answer = obj(answer)
    message = answer.get("message")
    if isinstance(message, list):
        message = "; ".join(as_str(m) for m in message)
    text = as_str(message)
    details = [as_str(obj(e).get("message")) for e in answer.get("errors") or [] if isinstance(e, dict)]
    return "; ".join(t for t in [text, *details] if t)


class ImmichClient:
    def __init__(self, url: str, api_key: str, *, timeout: float = TIMEOUT, backoff: float = 1.0,
                 count: Callable[[str], None] | None = None, policy: RetryPolicy | None = None) -> None:
        from migrator.http import new_session

        self.base = api_base(url)
        self.session = new_session(timeout=timeout)
        self.session.headers["x-api-key"] = api_key
        self.session.headers["Accept"] = "application/json"
        self.policy = policy or RetryPolicy(attempts=DEFAULT_POLICY.attempts, first_delay=backoff)
        self.calls = ServiceCalls("Immich", self.policy, 0.0, count, checkpoints="immich")

    def close(self) -> None:
        self.session.close()

    # -- sending ------------------------------------------------------------------------------------
    def _send(self, verb: str, path: str, body: Any = None, params: dict[str, Any] | None = None,
              data: Any = None, headers: dict[str, str] | None = None) -> Any:
        response = self.session.request(verb, self.base + path, json=body, params=params, data=data,
                                        headers=headers)
        content = response.content  # read in full: a body cut short is a lost answer
        if not 200 <= response.status_code < 300:
            raise _Status(response.status_code, error_message(content), retry_after(response))
        return json.loads(content) if content.strip() else None

    def _classify(self, method: str, exc: Exception, table: ErrorTable) -> Trouble | None:
        import requests

        fields = {"method": method, "attempts": self.policy.attempts}
        if isinstance(exc, _Status):
            trouble = table.trouble(f"http{exc.status}", reason=f"HTTP {exc.status}", after=exc.after,
                                    message=exc.message or f"HTTP {exc.status}", **fields)
            return trouble or Trouble(Kind.DOCUMENT, ImmichError(method, exc.status, exc.message), f"HTTP {exc.status}")
        if isinstance(exc, (requests.RequestException, ValueError)):  # resets, timeouts, an unreadable body
            return table.trouble(LOST, reason=brief(exc), **fields)
        return None

    def _request(self, method: str, send: Callable[[], Any], creates: bool, table: ErrorTable = ERRORS,
                 rewind: Callable[[], None] | None = None) -> Any:
        return self.calls.request(method, send, lambda exc: self._classify(method, exc, table), creates=creates,
                                  before_retry=rewind)

    def read(self, method: str, verb: str, path: str, body: Any = None, **params: Any) -> Any:
        """A read, or an update that sets a value (repeating it changes nothing): retried under the policy."""
        return self._request(method, lambda: self._send(verb, path, body, params or None), creates=False)

    def create(self, method: str, path: str, body: Any) -> Any:
        """A POST that creates something: sent once; a lost answer raises AnswerLost."""
        return self._request(method, lambda: self._send("POST", path, body), creates=True)

    def upload(self, fields: list[tuple[str, Any]], fileobj: IO[bytes]) -> dict[str, Any]:
        """`POST /assets`, streamed (requests_toolbelt writes the text fields first, then the files); sent once."""
        from requests_toolbelt import MultipartEncoder

        start = fileobj.tell()

        def send() -> Any:
            fileobj.seek(start)
            body = MultipartEncoder(fields=fields)
            return self._send("POST", "/assets", data=body, headers={"Content-Type": body.content_type})

        return obj(self._request("upload", send, creates=True, table=UPLOAD_ERRORS))  # send() rewinds the file

    # -- endpoints ------------------------------------------------------------------------------------
    def version(self) -> tuple[int, int, int]:
        answer = obj(self.read("server.version", "GET", "/server/version"))
        return as_int(answer.get("major")) or 0, as_int(answer.get("minor")) or 0, as_int(answer.get("patch")) or 0

    def media_types(self) -> dict[str, list[str]]:
        answer = obj(self.read("server.media-types", "GET", "/server/media-types"))
        return {kind: [as_str(e).lower() for e in answer.get(kind) or []] for kind in ("image", "video", "sidecar")}

    def me(self) -> dict[str, Any]:
        return obj(self.read("users.me", "GET", "/users/me"))

    def check(self, refs: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """bulk-upload-check for (client id, base64 SHA-1) pairs: one result per pair, in order."""
        body = {"assets": [{"id": ref, "checksum": checksum} for ref, checksum in refs]}
        return [obj(r) for r in obj(self.read("assets.check", "POST", "/assets/bulk-upload-check", body))
                .get("results") or []]

    def update_asset(self, asset_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return obj(self.read("assets.update", "PUT", f"/assets/{asset_id}", fields))

    def upsert_tags(self, values: list[str]) -> list[dict[str, Any]]:
        return [obj(t) for t in self.read("tags.upsert", "PUT", "/tags", {"tags": values}) or []]

    def tag_assets(self, tag_ids: list[str], asset_ids: list[str]) -> None:
        self.read("tags.assign", "PUT", "/tags/assets", {"tagIds": tag_ids, "assetIds": asset_ids})

    def untag_asset(self, tag_id: str, asset_id: str) -> None:
        self.read("tags.unassign", "DELETE", f"/tags/{tag_id}/assets", {"ids": [asset_id]})

    def albums(self, **filters: Any) -> list[dict[str, Any]]:
        return [obj(a) for a in self.read("albums.list", "GET", "/albums", **filters) or []]

    def create_album(self, name: str, description: str) -> dict[str, Any]:
        return obj(self.create("albums.create", "/albums", {"albumName": name, "description": description}))

    def update_album(self, album_id: str, fields: dict[str, Any]) -> None:
        self.read("albums.update", "PATCH", f"/albums/{album_id}", fields)

    def add_to_album(self, album_id: str, asset_ids: list[str]) -> list[dict[str, Any]]:
        return [obj(r) for r in self.read("albums.add", "PUT", f"/albums/{album_id}/assets", {"ids": asset_ids})
                or []]

    def album_assets(self, album_id: str) -> Iterator[dict[str, Any]]:
        """The album's assets through `POST /search/metadata` (v3 albums no longer list them; v2 agrees)."""
        page: int | None = 1
        while page:
            answer = obj(obj(self.read("search.metadata", "POST", "/search/metadata",
                                       {"albumIds": [album_id], "page": page, "size": 1000})).get("assets"))
            yield from (obj(a) for a in answer.get("items") or [])
            page = as_int(answer.get("nextPage"))

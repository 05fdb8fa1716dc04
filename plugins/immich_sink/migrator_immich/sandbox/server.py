"""The HTTP side of the Immich sandbox: routes, API-key auth, version profiles, faults.

Faithful to the subset the sink uses (see the package docstring and the reference it follows):
`x-api-key` auth with per-route permissions, per-user SHA-1 dedup (trash included), the v1/v2 upload
shape (`deviceAssetId`/`deviceId` required) against v3's (they are gone; `duration` an integer), each
version's error bodies and correlation headers, albums, tags, search, trash.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .world import IMAGE_TYPES, SIDECAR_TYPES, VIDEO_TYPES, World, now

REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 413: "Payload Too Large", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 507: "Insufficient Storage"}
OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
VISIBILITIES = ("archive", "timeline", "hidden", "locked")


class HttpError(Exception):
    def __init__(self, status: int, message: Any, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(str(message))
        self.status, self.message, self.errors = status, message, errors


class Knobs:
    """Faults, set while the sandbox runs.

    `latency` seconds before each answer; `fault_rate` the share of requests answered 500/502/503 (not
    carried out); `burst(n, status)` the next n requests fail so ("reset" drops the connection);
    `lose_answer(route, n, how)` carries the next n calls of a route out, then loses the answer ("reset",
    or an HTTP status); `invalid_keys` answers every key 401; `max_body_bytes` a proxy's 413 above it;
    `quota_bytes` the user's storage quota (400 "Quota has been exceeded!"); `disk_full` a 500 on every
    upload, nothing stored; `refuse_extensions` uploads refused as an unsupported file type though the
    media-type list names them."""

    def __init__(self, seed: int = 0) -> None:
        self.latency = 0.0
        self.fault_rate = 0.0
        self.invalid_keys = False
        self.max_body_bytes: int | None = None
        self.quota_bytes: int | None = None
        self.disk_full = False
        self.refuse_extensions: set[str] = set()
        self._rng = random.Random(seed)
        self._bursts: deque[int | str] = deque()
        self._losses: dict[str, deque[str]] = {}
        self._lock = threading.Lock()

    def burst(self, n: int, status: int | str = 503) -> None:
        with self._lock:
            self._bursts.extend([status] * n)

    def lose_answer(self, route: str, n: int = 1, how: int | str = "reset") -> None:
        with self._lock:
            self._losses.setdefault(route, deque()).extend([str(how)] * n)

    def take_fault(self) -> int | str | None:
        with self._lock:
            if self._bursts:
                return self._bursts.popleft()
            if self.fault_rate and self._rng.random() < self.fault_rate:
                return self._rng.choice((500, 502, 503))
        return None

    def take_loss(self, route: str) -> str | None:
        with self._lock:
            queue = self._losses.get(route)
            return queue.popleft() if queue else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], sandbox: ImmichSandbox) -> None:
        self.sandbox = sandbox
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients drop connections on purpose
        pass


# (verb, path pattern, route name, permission, handler, versions): the API subset
ROUTES: list[tuple[str, re.Pattern[str], str, str | None, str, tuple[int, ...] | None]] = []


def route(verb: str, pattern: str, name: str, permission: str | None,
          majors: tuple[int, ...] | None = None) -> Callable:
    """Register a handler; `permission` "" is a route without auth, None one that needs `all`; `majors`
    the server versions that have it (None: every one)."""

    def register(fn: Callable) -> Callable:
        ROUTES.append((verb, re.compile(f"^/api{pattern}$"), name, permission, fn.__name__, majors))
        return fn
    return register


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ImmichSandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write (flushed after each request)

    @property
    def sb(self) -> ImmichSandbox:
        return self.server.sandbox  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    # -- plumbing -----------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self) -> dict[str, Any]:
        try:
            value = json.loads(self._body() or b"{}")
        except ValueError:
            raise HttpError(400, "Unexpected token in JSON") from None
        if not isinstance(value, dict):
            raise HttpError(400, ["body must be an object"])
        return value

    def _answer(self, status: int, payload: Any = None, close: bool = False) -> None:
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self.send_response(status, REASONS.get(status))
        self.send_header("x-immich-cid" if self.sb.major < 3 else "X-Correlation-ID", self.cid)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _error(self, exc: HttpError) -> None:
        if self.sb.major >= 3:
            payload: dict[str, Any] = {"message": "Validation failed" if exc.errors else exc.message}
            if exc.errors:
                payload["errors"] = exc.errors
        else:
            payload = {"message": exc.message, "error": REASONS.get(exc.status, "Error"), "statusCode": exc.status,
                       "correlationId": self.cid}
        self._answer(exc.status, payload, close=True)

    def _raw(self, status: int, text: str) -> None:
        """An answer from a proxy in front of the server (HTML)."""
        data = text.encode("utf-8")
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    def _lost(self, how: int | str) -> None:
        if str(how) == "reset":
            self._reset()
        else:
            self._raw(int(how), f"<html><body><h1>{how} {REASONS.get(int(how), 'Error')}</h1></body></html>")

    # -- dispatch -----------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        sb = self.sb
        self.cid = sb.correlation()  # one per request: in the header, and (before v3) in an error's body
        parts = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        match = None
        for verb, pattern, name, permission, handler, majors in ROUTES:
            found = pattern.match(parts.path)
            if found and verb == self.command and (majors is None or sb.major in majors):
                match = (name, permission, handler, found.groups())
                break
        if sb.knobs.latency:
            time.sleep(sb.knobs.latency)
        if match is None:
            self._body()
            self._error(HttpError(404, f"Cannot {self.command} {parts.path}"))
            return
        name, permission, handler, groups = match
        sb.count(name)
        fault = sb.knobs.take_fault()
        if fault is not None:
            self._body()
            self._lost(fault)
            return
        try:
            self.user = self._authenticate(permission) if permission != "" else None
            status, payload = getattr(self, handler)(*groups)
        except _ProxyRefusal:
            self._raw(413, "<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 "
                           "Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>")
            return
        except HttpError as exc:
            self._error(exc)
            return
        loss = sb.knobs.take_loss(name)
        if loss is not None:  # the call was carried out (and saved); its answer never arrives
            sb.lost_answers.append((name, loss))
            self._lost(loss)
            return
        self._answer(status, payload)

    def _authenticate(self, permission: str | None) -> str:
        key = self.headers.get("x-api-key") or self.query.get("apiKey")
        if not key:
            raise HttpError(401, "Authentication required")
        found = None if self.sb.knobs.invalid_keys else self.sb.world.key(key)
        if found is None:
            raise HttpError(401, "Invalid API key")
        scopes = found["permissions"]
        if permission and "all" not in scopes and permission not in scopes:
            raise HttpError(403, f"Missing required permission: {permission}")
        if permission is None and "all" not in scopes:  # unscoped routes need `all` since 1.137
            raise HttpError(403, "Missing required permission: all")
        return str(found["userId"])

    # -- server --------------------------------------------------------------------------------------
    @route("GET", "/server/version", "server.version", "")
    def version_answer(self) -> tuple[int, Any]:
        major, minor, patch = self.sb.version_tuple
        answer: dict[str, Any] = {"major": major, "minor": minor, "patch": patch}
        if major >= 3:
            answer["prerelease"] = None
        return 200, answer

    @route("GET", "/server/ping", "server.ping", "")
    def server_ping(self) -> tuple[int, Any]:
        return 200, {"res": "pong"}

    @route("GET", "/server/media-types", "server.media-types", "")
    def media_types(self) -> tuple[int, Any]:
        return 200, {"image": list(IMAGE_TYPES), "video": list(VIDEO_TYPES), "sidecar": list(SIDECAR_TYPES)}

    @route("GET", "/server/about", "server.about", "server.about")
    def about(self) -> tuple[int, Any]:
        return 200, {"version": f"v{self.sb.version}", "versionUrl": "", "licensed": False}

    @route("GET", "/users/me", "users.me", "user.read")
    def me(self) -> tuple[int, Any]:
        user = dict(self.sb.world.data["users"][self.user])
        user["quotaUsageInBytes"] = self.sb.world.usage(self.user)
        user["quotaSizeInBytes"] = self.sb.knobs.quota_bytes
        return 200, user

    # -- assets ---------------------------------------------------------------------------------------
    @route("POST", "/assets", "upload", "asset.upload")
    def upload(self) -> tuple[int, Any]:
        sb, world = self.sb, self.sb.world
        checksum_header = self.headers.get("x-immich-checksum")
        if checksum_header:  # answered before the body is read; the connection is then closed
            known = world.by_checksum(self.user, _checksum(checksum_header))
            if known is not None:
                self.close_connection = True
                return 200, {"id": known["id"], "status": "duplicate"}
        length = int(self.headers.get("Content-Length") or 0)
        if sb.knobs.max_body_bytes is not None and length > sb.knobs.max_body_bytes:
            self._body()
            raise _ProxyRefusal()
        fields, files = _multipart(self.headers.get("Content-Type") or "", self._body())
        self._check_upload(fields, files)
        data = files["assetData"][1]
        name = fields.get("filename") or files["assetData"][0]
        ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext in sb.knobs.refuse_extensions:
            raise HttpError(400, f"Unsupported file type {name}")
        checksum = base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode("ascii")
        with sb.lock:
            known = world.by_checksum(self.user, checksum)
            if known is not None:
                return 200, {"id": known["id"], "status": "duplicate"}
            if sb.knobs.quota_bytes is not None and world.usage(self.user) + len(data) > sb.knobs.quota_bytes:
                raise HttpError(400, "Quota has been exceeded!")
            if sb.knobs.disk_full:
                raise HttpError(500, "Internal server error")
            asset_id = world.next_id()
            world.file(asset_id).write_bytes(data)
            if "sidecarData" in files:
                world.file(asset_id).with_suffix(".xmp").write_bytes(files["sidecarData"][1])
            created = fields["fileCreatedAt"]
            world.data["assets"][asset_id] = {
                "id": asset_id, "ownerId": self.user, "checksum": checksum, "originalFileName": name,
                "type": "VIDEO" if ext in VIDEO_TYPES else "IMAGE", "size": len(data),
                "fileCreatedAt": created, "fileModifiedAt": fields["fileModifiedAt"], "localDateTime": created,
                "visibility": fields.get("visibility") or "timeline", "isFavorite": fields.get("isFavorite") == "true",
                "deviceAssetId": fields.get("deviceAssetId") if sb.major < 3 else None,
                "deviceId": fields.get("deviceId") if sb.major < 3 else None, "deletedAt": None,
                "createdAt": now(), "updatedAt": now(), "sidecar": "sidecarData" in files, "tags": [],
                "exif": {"description": "", "dateTimeOriginal": None, "timeZone": None, "latitude": None,
                         "longitude": None, "rating": None},
                "metadata": json.loads(fields["metadata"]) if fields.get("metadata") else []}
            sb.saved()
        return 201, {"id": asset_id, "status": "created"}

    def _check_upload(self, fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> None:
        if "assetData" not in files:
            raise HttpError(400, "assetData is required" if self.sb.major < 3 else "Validation failed",
                            _zod("assetData", "required") if self.sb.major >= 3 else None)
        problems: list[str] = []
        zod: list[dict[str, Any]] = []
        if self.sb.major < 3:
            for name in ("deviceAssetId", "deviceId"):
                if not fields.get(name):
                    problems += [f"{name} must be a string", f"{name} should not be empty"]
        for name in ("fileCreatedAt", "fileModifiedAt"):
            value = fields.get(name, "")
            if not ISO.match(value) or (self.sb.major >= 3 and not OFFSET.search(value)):
                problems.append(f"{name} must be a Date instance")
                zod += _zod(name, "invalid_format")
        if "duration" in fields and self.sb.major >= 3 and not fields["duration"].isdigit():
            zod += _zod("duration", "invalid_type")
        if fields.get("visibility") and fields["visibility"] not in VISIBILITIES:
            problems.append("visibility must be one of the following values: " + ", ".join(VISIBILITIES))
            zod += _zod("visibility", "invalid_value")
        if "metadata" in fields:
            with contextlib.suppress(ValueError):
                json.loads(fields["metadata"])
                fields["metadata"] = fields["metadata"]
        if self.sb.major >= 3 and zod:
            raise HttpError(400, "Validation failed", zod)
        if problems:
            raise HttpError(400, problems)

    @route("POST", "/assets/bulk-upload-check", "assets.check", "asset.upload")
    def bulk_check(self) -> tuple[int, Any]:
        results = []
        for entry in self._json().get("assets") or []:
            known = self.sb.world.by_checksum(self.user, _checksum(str(entry.get("checksum", ""))))
            if known is None:
                results.append({"id": entry.get("id"), "action": "accept"})
            else:
                results.append({"id": entry.get("id"), "action": "reject", "reason": "duplicate",
                                "assetId": known["id"], "isTrashed": known["deletedAt"] is not None})
        return 200, {"results": results}

    @route("GET", "/assets/([0-9a-f-]+)", "assets.get", "asset.read")
    def get_asset(self, asset_id: str) -> tuple[int, Any]:
        asset = self.sb.world.owned("assets", asset_id, self.user)
        if asset is None:
            raise HttpError(400, "Not found or no asset.read access")
        return 200, self.sb.asset_dto(asset)

    @route("PUT", "/assets/([0-9a-f-]+)", "assets.update", "asset.update")
    def update_asset(self, asset_id: str) -> tuple[int, Any]:
        body = self._json()
        with self.sb.lock:
            asset = self.sb.world.owned("assets", asset_id, self.user)
            if asset is None:
                raise HttpError(400, "Not found or no asset.update access")
            _apply_update(asset, body, self.sb.major)
            asset["updatedAt"] = now()
            self.sb.saved()
        return 200, self.sb.asset_dto(asset)

    @route("DELETE", "/assets", "assets.delete", "asset.delete")
    def delete_assets(self) -> tuple[int, Any]:
        body = self._json()
        with self.sb.lock:
            for asset_id in body.get("ids") or []:
                asset = self.sb.world.owned("assets", asset_id, self.user)
                if asset is None:
                    continue
                if body.get("force"):
                    self.sb.purge(asset_id)
                else:
                    asset["deletedAt"] = now()
            self.sb.saved()
        return 204, None

    @route("POST", "/trash/restore/assets", "trash.restore", "asset.delete")
    def restore(self) -> tuple[int, Any]:
        count = 0
        with self.sb.lock:
            for asset_id in self._json().get("ids") or []:
                asset = self.sb.world.owned("assets", asset_id, self.user)
                if asset is not None and asset["deletedAt"] is not None:
                    asset["deletedAt"], count = None, count + 1
            self.sb.saved()
        return 200, {"count": count}

    @route("POST", "/assets/exist", "assets.exist", None, majors=(1, 2))
    def exist(self) -> tuple[int, Any]:
        body = self._json()
        wanted = set(body.get("deviceAssetIds") or [])
        found = [a["deviceAssetId"] for a in self.sb.world.data["assets"].values()
                 if a["ownerId"] == self.user and a["deviceId"] == body.get("deviceId")
                 and a["deviceAssetId"] in wanted]
        return 200, {"existingIds": found}

    @route("POST", "/search/metadata", "search.metadata", "asset.read")
    def search(self) -> tuple[int, Any]:
        body = self._json()
        page, size = body.get("page", 1), body.get("size", 250)
        if self.sb.major >= 3 and not (isinstance(page, int) and isinstance(size, int)):
            raise HttpError(400, "Validation failed", _zod("page", "invalid_type"))
        page, size = int(page), min(int(size), 1000)
        hits = [a for a in self.sb.world.data["assets"].values() if _matches(a, body, self.user, self.sb)]
        chunk = hits[(page - 1) * size: page * size]
        more = len(hits) > page * size
        return 200, {"albums": {"total": 0, "count": 0, "items": [], "facets": []},
                     "assets": {"total": len(hits), "count": len(chunk), "items": [self.sb.asset_dto(a) for a in chunk],
                                "facets": [], "nextPage": str(page + 1) if more else None}}

    # -- albums ---------------------------------------------------------------------------------------
    @route("GET", "/albums", "albums.list", "album.read")
    def list_albums(self) -> tuple[int, Any]:
        albums = [a for a in self.sb.world.data["albums"].values() if a["ownerId"] == self.user]
        if self.query.get("assetId"):
            albums = [a for a in albums if self.query["assetId"] in a["assets"]]
        elif self.sb.major >= 3 and "name" in self.query:
            albums = [a for a in albums if a["albumName"] == self.query["name"]]
        return 200, [self.sb.album_dto(a, with_assets=False) for a in albums]

    @route("GET", "/albums/([0-9a-f-]+)", "albums.get", "album.read")
    def get_album(self, album_id: str) -> tuple[int, Any]:
        album = self.sb.world.owned("albums", album_id, self.user)
        if album is None:
            raise HttpError(400, "Not found or no album.read access")
        return 200, self.sb.album_dto(album, with_assets=self.query.get("withoutAssets") != "true")

    @route("POST", "/albums", "albums.create", "album.create")
    def create_album(self) -> tuple[int, Any]:
        body = self._json()
        name = body.get("albumName")
        if not isinstance(name, str):
            raise HttpError(400, ["albumName must be a string"], _zod("albumName", "invalid_type"))
        with self.sb.lock:
            album_id = self.sb.world.next_id()
            mine = [i for i in dict.fromkeys(body.get("assetIds") or []) if self.sb.world.owned("assets", i, self.user)]
            album = {"id": album_id, "ownerId": self.user, "albumName": name,
                     "description": str(body.get("description") or ""), "assets": mine, "createdAt": now(),
                     "updatedAt": now(), "order": "desc", "albumThumbnailAssetId": mine[0] if mine else None}
            self.sb.world.data["albums"][album_id] = album
            self.sb.saved()
        return 201, self.sb.album_dto(album, with_assets=True)

    @route("PATCH", "/albums/([0-9a-f-]+)", "albums.update", "album.update")
    def update_album(self, album_id: str) -> tuple[int, Any]:
        body = self._json()
        with self.sb.lock:
            album = self.sb.world.owned("albums", album_id, self.user)
            if album is None:
                raise HttpError(400, "Not found or no album.update access")
            for name in ("albumName", "description"):
                if isinstance(body.get(name), str):
                    album[name] = body[name]
            if body.get("order") is not None:
                if body["order"] not in ("asc", "desc"):
                    raise HttpError(400, ["order must be one of the following values: asc, desc"])
                album["order"] = body["order"]
            album["updatedAt"] = now()
            self.sb.saved()
        return 200, self.sb.album_dto(album, with_assets=False)

    @route("PUT", "/albums/([0-9a-f-]+)/assets", "albums.add", "albumAsset.create")
    def add_assets(self, album_id: str) -> tuple[int, Any]:
        body = self._json()
        results = []
        with self.sb.lock:
            album = self.sb.world.owned("albums", album_id, self.user)
            if album is None:
                raise HttpError(400, "Not found or no albumAsset.create access")
            for asset_id in body.get("ids") or []:
                if self.sb.world.owned("assets", asset_id, self.user) is None:
                    results.append({"id": asset_id, "success": False, "error": "no_permission"})
                elif asset_id in album["assets"]:
                    results.append({"id": asset_id, "success": False, "error": "duplicate"})
                else:
                    album["assets"].append(asset_id)
                    album["albumThumbnailAssetId"] = album["albumThumbnailAssetId"] or asset_id
                    results.append({"id": asset_id, "success": True})
            album["updatedAt"] = now()
            self.sb.saved()
        return 200, results

    # -- tags -----------------------------------------------------------------------------------------
    @route("GET", "/tags", "tags.list", "tag.read")
    def list_tags(self) -> tuple[int, Any]:
        return 200, [self.sb.tag_dto(t) for t in self.sb.world.data["tags"].values() if t["ownerId"] == self.user]

    @route("PUT", "/tags", "tags.upsert", "tag.create")
    def upsert_tags(self) -> tuple[int, Any]:
        values = self._json().get("tags") or []
        with self.sb.lock:
            leaves = [self.sb.upsert_tag(self.user, str(v)) for v in dict.fromkeys(values)]
            self.sb.saved()
        return 200, [self.sb.tag_dto(t) for t in leaves]

    @route("PUT", "/tags/assets", "tags.assign", "tag.asset")
    def tag_assets(self) -> tuple[int, Any]:
        body = self._json()
        count = 0
        with self.sb.lock:
            tags = [t for t in body.get("tagIds") or [] if self.sb.world.owned("tags", t, self.user)]
            for asset_id in body.get("assetIds") or []:
                asset = self.sb.world.owned("assets", asset_id, self.user)
                for tag_id in tags if asset is not None else []:
                    if tag_id not in asset["tags"]:
                        asset["tags"].append(tag_id)
                        count += 1
            self.sb.saved()
        return 200, {"count": count}


    @route("DELETE", "/tags/([0-9a-f-]+)/assets", "tags.unassign", "tag.asset")
    def untag_assets(self, tag_id: str) -> tuple[int, Any]:
        body = self._json()
        results = []
        with self.sb.lock:
            if self.sb.world.owned("tags", tag_id, self.user) is None:
                raise HttpError(400, "Not found or no tag.asset access")
            for asset_id in body.get("ids") or []:
                asset = self.sb.world.owned("assets", asset_id, self.user)
                if asset is None or tag_id not in asset["tags"]:
                    results.append({"id": asset_id, "success": False, "error": "not_found"})
                else:
                    asset["tags"].remove(tag_id)
                    results.append({"id": asset_id, "success": True})
            self.sb.saved()
        return 200, results


class _ProxyRefusal(HttpError):
    def __init__(self) -> None:
        super().__init__(413, "Request Entity Too Large")


def _zod(path: str, code: str) -> list[dict[str, Any]]:
    return [{"code": code, "path": [path], "message": f"Invalid input: {path}"}]


def _checksum(value: str) -> str:
    """Immich's rule: 28 characters are base64, anything else hex; kept as base64."""
    if len(value) == 28:
        return value
    try:
        return base64.b64encode(bytes.fromhex(value)).decode("ascii")
    except ValueError:
        return value


def _apply_update(asset: dict[str, Any], body: dict[str, Any], major: int) -> None:
    exif = asset["exif"]
    if "description" in body:
        if not isinstance(body["description"], str):
            raise HttpError(400, ["description must be a string"], _zod("description", "invalid_type"))
        exif["description"] = body["description"]
    if body.get("dateTimeOriginal") is not None:
        value = str(body["dateTimeOriginal"])
        if not ISO.match(value):
            raise HttpError(400, ["dateTimeOriginal must be a valid ISO 8601 date string"],
                            _zod("dateTimeOriginal", "invalid_format"))
        exif["dateTimeOriginal"] = value
        offset = OFFSET.search(value)
        exif["timeZone"] = ("UTC" if offset.group(1) == "Z" else "UTC" + offset.group(1)) if offset else None
        asset["localDateTime"] = value
    for name, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        if body.get(name) is not None:
            value = body[name]
            if not isinstance(value, (int, float)) or (major >= 3 and not low <= value <= high):
                raise HttpError(400, [f"{name} must be a number"], _zod(name, "too_big"))
            exif[name] = value
    if "rating" in body:
        if body["rating"] is not None and (not isinstance(body["rating"], int) or not -1 <= body["rating"] <= 5):
            raise HttpError(400, ["rating must not be greater than 5"], _zod("rating", "too_big"))
        exif["rating"] = body["rating"]
    if "isFavorite" in body:
        asset["isFavorite"] = bool(body["isFavorite"])
    if body.get("visibility") is not None:
        if body["visibility"] not in VISIBILITIES:
            raise HttpError(400, ["visibility must be one of the following values"],
                            _zod("visibility", "invalid_value"))
        asset["visibility"] = body["visibility"]


def _matches(asset: dict[str, Any], body: dict[str, Any], user: str, sb: ImmichSandbox) -> bool:
    if asset["ownerId"] != user or (asset["deletedAt"] is not None and not body.get("withDeleted")):
        return False
    if body.get("checksum") and asset["checksum"] != _checksum(str(body["checksum"])):
        return False
    if body.get("originalFileName") and str(body["originalFileName"]).lower() not in asset["originalFileName"].lower():
        return False
    if body.get("visibility") and asset["visibility"] != body["visibility"]:
        return False
    for album_id in body.get("albumIds") or []:
        album = sb.world.data["albums"].get(album_id)
        if album is None or asset["id"] not in album["assets"]:
            return False
    return all(t in asset["tags"] for t in body.get("tagIds") or [])


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Text fields and files (name → (file name, bytes)) of a multipart/form-data body."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or boundary is None:
        raise HttpError(400, "Multipart: Boundary not found")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in body.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        content = content[:-2] if content.endswith(b"\r\n") else content
        disposition = next((line for line in head.decode("utf-8", "replace").split("\r\n")
                            if line.lower().startswith("content-disposition")), "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if name is None:
            continue
        if filename is not None:
            files[name.group(1)] = (filename.group(1), content)
        else:
            fields[name.group(1)] = content.decode("utf-8", "replace")
    return fields, files


class ImmichSandbox:
    """An Immich server on 127.0.0.1 for one world (see the package docstring)."""

    def __init__(self, version: str = "3.1.0", *, world: World | None = None, storage: Path | None = None,
                 save_file: Path | None = None, api_key: str = "sandbox-immich-key", host: str = "127.0.0.1",
                 port: int = 0, seed: int = 0) -> None:
        import tempfile

        self.version = version
        self.api_key = api_key
        self._own_storage = storage is None and world is None
        storage = storage or (world.storage if world else Path(tempfile.mkdtemp(prefix="immich-sandbox-")))
        self.save_file = save_file
        if world is None and save_file is not None and save_file.exists():
            world = World.load(save_file, storage)
        self.world = world or World.new(storage, api_key)
        self.knobs = Knobs(seed)
        self.lock = threading.RLock()
        self.host, self.port = host, port
        self.calls: Counter[str] = Counter()
        self.lost_answers: list[tuple[str, str]] = []
        self._cid = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> ImmichSandbox:
        if self._server is None:
            self._server = _Server((self.host, self.port), self)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"immich-sandbox-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._own_storage:
            import shutil

            shutil.rmtree(self.world.storage, ignore_errors=True)

    def __enter__(self) -> ImmichSandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        major, minor, patch = (int(p) for p in (self.version.split(".") + ["0", "0"])[:3])
        return major, minor, patch

    @property
    def major(self) -> int:
        return self.version_tuple[0]

    def cli_options(self, **overrides: Any) -> list[str]:
        values = {"url": self.url, "api_key": self.api_key, "backoff": 0.05, **overrides}
        return [arg for k, v in values.items() for arg in ("-o", f"immich.{k}={v}")]

    # -- bookkeeping ----------------------------------------------------------------------------------
    def count(self, name: str) -> None:
        with self.lock:
            self.calls[name] += 1

    def reset_counters(self) -> None:
        with self.lock:
            self.calls.clear()

    def correlation(self) -> str:
        with self.lock:
            self._cid += 1
            return f"sbx{self._cid:05d}"

    def saved(self) -> None:
        """Every change is on disk before it is answered: a killed client finds what it was told."""
        if self.save_file is not None:
            self.world.save(self.save_file)

    def purge(self, asset_id: str) -> None:
        self.world.data["assets"].pop(asset_id, None)
        for album in self.world.data["albums"].values():
            if asset_id in album["assets"]:
                album["assets"].remove(asset_id)
        for path in (self.world.file(asset_id), self.world.file(asset_id).with_suffix(".xmp")):
            path.unlink(missing_ok=True)

    def upsert_tag(self, owner: str, value: str) -> dict[str, Any]:
        parent = None
        tag: dict[str, Any] = {}
        parts = value.split("/")
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            tag = next((t for t in self.world.data["tags"].values() if t["ownerId"] == owner and t["value"] == path),
                       {})
            if not tag:
                tag = {"id": self.world.next_id(), "ownerId": owner, "name": parts[depth - 1], "value": path,
                       "parentId": parent, "createdAt": now(), "updatedAt": now()}
                self.world.data["tags"][tag["id"]] = tag
            parent = tag["id"]
        return tag

    # -- answers --------------------------------------------------------------------------------------
    def asset_dto(self, asset: dict[str, Any]) -> dict[str, Any]:
        dto = {k: asset[k] for k in ("id", "ownerId", "checksum", "originalFileName", "type", "fileCreatedAt",
                                     "fileModifiedAt", "localDateTime", "createdAt", "updatedAt", "visibility",
                                     "isFavorite")}
        dto.update({"isArchived": asset["visibility"] == "archive", "isTrashed": asset["deletedAt"] is not None,
                    "isOffline": False, "hasMetadata": True, "thumbhash": None, "libraryId": None,
                    "originalPath": f"upload/{asset['id']}", "exifInfo": dict(asset["exif"]),
                    "tags": [self.tag_dto(self.world.data["tags"][t]) for t in asset["tags"]
                             if t in self.world.data["tags"]]})
        if self.major < 3:
            dto.update({"deviceAssetId": asset["deviceAssetId"] or "", "deviceId": asset["deviceId"] or "",
                        "duration": "0:00:00.00000"})
        else:
            dto.update({"duration": None, "isEdited": False, "width": None, "height": None})
        return dto

    def album_dto(self, album: dict[str, Any], with_assets: bool) -> dict[str, Any]:
        owner = self.world.data["users"][album["ownerId"]]
        dates = sorted(self.world.data["assets"][i]["localDateTime"] for i in album["assets"]
                       if i in self.world.data["assets"])
        dto: dict[str, Any] = {k: album[k] for k in ("id", "albumName", "description", "createdAt", "updatedAt",
                                                     "order", "albumThumbnailAssetId")}
        dto.update({"assetCount": len(album["assets"]), "shared": False, "hasSharedLink": False,
                    "isActivityEnabled": True, "startDate": dates[0] if dates else None,
                    "endDate": dates[-1] if dates else None,
                    "albumUsers": [{"role": "owner", "user": {"id": owner["id"], "email": owner["email"]}}]
                    if self.major >= 3 else []})
        if self.major < 3:
            dto.update({"ownerId": album["ownerId"], "owner": {"id": owner["id"], "email": owner["email"]},
                        "assets": [self.asset_dto(self.world.data["assets"][i]) for i in album["assets"]]
                        if with_assets else []})
        return dto

    def tag_dto(self, tag: dict[str, Any]) -> dict[str, Any]:
        return {k: tag[k] for k in ("id", "name", "value", "parentId", "createdAt", "updatedAt")}

    # -- ground truth for tests -----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything the server holds, readable: assets (with tag paths and album names), albums, tags."""
        with self.lock:
            data = json.loads(json.dumps(self.world.data))
        tags = data["tags"]
        for asset in data["assets"].values():
            asset["tagValues"] = sorted(tags[t]["value"] for t in asset["tags"] if t in tags)
        return {"assets": list(data["assets"].values()), "albums": list(data["albums"].values()),
                "tags": list(tags.values())}

    def read_original(self, asset_id: str) -> bytes:
        return self.world.file(asset_id).read_bytes()

    def read_sidecar(self, asset_id: str) -> bytes | None:
        path = self.world.file(asset_id).with_suffix(".xmp")
        return path.read_bytes() if path.exists() else None


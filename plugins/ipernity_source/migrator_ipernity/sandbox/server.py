"""The sandbox HTTP server: ipernity REST API, authorize page and file host.

Routes (all on one ``ThreadingHTTPServer`` bound to 127.0.0.1):

* ``GET|POST /api/<method>`` and ``/api/<method>/<format>`` - the REST API (JSON only;
  ``xml``/``php``/other formats answer error 102 in JSON);
* ``GET|POST /apps/authorize`` - the desktop/web authorization page;
* ``GET|HEAD /files/<a>/<b>/<doc_id>.<secret>.<ext>`` - originals; renditions are
  ``<doc_id>.<secret>.<label>.<ext>``; no auth, exact ``Content-Length``, ``Range``
  supported, 404 on a wrong secret or path.

Request checks run in this order (reference §11): injected faults (knobs
``rate_limit`` -> 113, ``fault_rate`` -> HTTP 500 or 500/501/503), format (102),
api_key (100/101; ``api.methods.getList`` works without a key), quota
(``quota_after`` -> 112), method (103), POST-only (120), signature (104/105),
token (106/107), permission level (110), then the method itself (codes 1/2).

Transport faults (knobs, none of them carries the call out): ``stall`` holds API calls and
downloads without an answer for ``hang_seconds`` (a server that stopped answering; stopping the
sandbox releases them), ``reset_api`` drops the next N API calls with a TCP reset, ``fail_api`` and
``limit_api`` answer the next N with HTTP 503 or error 113; and ``truncate_api`` cuts the next N API
answers in half (the call was carried out).
"""

from __future__ import annotations

import collections
import email.parser
import email.policy
import hashlib
import html
import mimetypes
import os
import pickle
import random
import socket
import struct
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import media as real_media
from . import signing
from .account import EXTENSIONS, Account, Doc, Original, build_account, format_date, make_content
from .api import METHODS, THUMB_LABELS, rendition_size
from .auth import RANK, TARGETS, AuthStore, level_ok, perms_from_params
from .call import Call, Viewer
from .knobs import Knobs
from .render import ApiError, error_body, ok_body

_MEDIA_LABELS = {"flv": "flv", "mp4": "mp4", "hd": "mp4", "mp3": "mp3"}


def _options(values: dict[str, str]) -> list[str]:
    return [arg for name, value in values.items() for arg in ("-o", f"ipernity.{name}={value}")]


def _rendition(doc: Doc, label: str, ext: str) -> bytes:
    """A thumbnail or transcode: upright (no EXIF rotation, no date), real where the format has a template."""
    key = f"{doc.original.content_key}:{label}"
    w, h = doc.original.w, doc.original.h  # the picture as shown, which a rendition is
    size = rendition_size(doc.doc_id, label) + real_media.smallest(key, ext, w, h)  # sizes stay apart
    return make_content(key, size, ext, w, h)


class IpernitySandbox:
    """A local, faithful emulation of the ipernity API for one account.

    >>> with IpernitySandbox(seed=0) as sb:          # doctest: +SKIP
    ...     token = sb.grant_token()
    ...     sb.api_url, sb.api_key, sb.api_secret
    """

    def __init__(self, seed: int = 0, account: Account | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, callback_url: str | None = None, save_file: str | Path | None = None,
                 **knobs: Any):
        self.seed = seed
        self.save_file = Path(save_file) if save_file is not None else None
        saved = self._saved()
        self.account = saved["account"] if saved else account if account is not None else build_account(seed)
        self.account.reindex()
        self.knobs = Knobs(**knobs)
        self.api_key = hashlib.md5(f"ipernity-sandbox-key:{seed}".encode()).hexdigest()
        self.api_secret = hashlib.md5(f"ipernity-sandbox-secret:{seed}".encode()).hexdigest()[:16]
        self.callback_url = callback_url
        self.auth_store = AuthStore()
        if saved:
            self.auth_store.frobs, self.auth_store.tokens = saved["frobs"], saved["tokens"]
            self.auth_store._counter = saved["counter"]
        self.calls: collections.Counter[str] = collections.Counter()
        self.downloads: collections.Counter[str] = collections.Counter()
        self.lock = threading.RLock()
        self._rng = random.Random(f"ipernity-sandbox-runtime:{seed}")
        if saved:
            self._rng.setstate(saved["rng"])
        self._quota_used = 0
        self._quota_generation = self.knobs.quota_generation
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.signatures_seen: set[str] = set()  # every api_sig received, so tests can look for leaks
        self.stalled = 0  # requests held by the ``stall`` knob so far
        self._stopping = threading.Event()  # releases stalled requests when the sandbox stops

    # -- what survives a restart -------------------------------------------------------
    def _saved(self) -> dict[str, Any] | None:
        """What `save` wrote last (the file is the sandbox's own, written only by `save`)."""
        if self.save_file is None or not self.save_file.exists():
            return None
        with open(self.save_file, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own file in the user's folder, see save()

    def save(self) -> None:
        """With `save_file`: write the account, the frobs and tokens, and the id generator, whole and
        atomically (a new file, then a rename). Every change is saved before it is answered, so a process
        killed at any moment restarts with at least what its clients were told."""
        if self.save_file is None:
            return
        with self.lock:
            store = self.auth_store
            data = pickle.dumps({"account": self.account, "frobs": store.frobs, "tokens": store.tokens,
                                 "counter": store._counter, "rng": self._rng.getstate()})
        self.save_file.parent.mkdir(parents=True, exist_ok=True)
        part = self.save_file.with_name(self.save_file.name + ".part")
        part.write_bytes(data)  # no fsync: the rename is atomic for a killed process; power cuts are not ours
        os.replace(part, self.save_file)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> IpernitySandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer((self._host, self._port), _Handler)
        server.daemon_threads = True
        server.sandbox = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="ipernity-sandbox",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        self._stopping.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> IpernitySandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    @property
    def auth_url(self) -> str:
        return self.base_url + "/apps/authorize"

    @staticmethod
    def file_dir(doc_id: str) -> str:
        n = int(doc_id)
        return f"{n // 1_000_000 % 100}/{n // 1000 % 1000:03d}"

    def file_url(self, doc: Doc, label: str | None = None) -> str:
        """URL of the original (``label`` None) or of a thumbnail/transcode."""
        prefix = f"{self.base_url}/files/{self.file_dir(doc.doc_id)}/{doc.doc_id}"
        if label is None:
            return f"{prefix}.{doc.original.secret}.{doc.original.ext}"
        if label in _MEDIA_LABELS:
            return f"{prefix}.{doc.media_secret}.{label}.{_MEDIA_LABELS[label]}"
        return f"{prefix}.{doc.thumb_secret}.{label}.jpg"

    def icon_url(self, user_id: str) -> str:
        return f"{self.base_url}/files/icons/{user_id}.jpg"

    # -- auth helpers ------------------------------------------------------------------
    def sign(self, params: dict[str, Any], method: str | None) -> dict[str, str]:
        """``params`` plus ``api_sig`` (method None for an authorization link)."""
        return signing.sign(params, method, self.api_secret)

    def authorize_link(self, frob: str | None = None, perm_doc: str | None = "read",
                       **perms: str) -> str:
        params: dict[str, str] = {"api_key": self.api_key}
        if frob:
            params["frob"] = frob
        if perm_doc:
            params["perm_doc"] = perm_doc
        params.update({k: v for k, v in perms.items() if v})
        return self.auth_url + "?" + urlencode(self.sign(params, None))

    @staticmethod
    def _perm_dict(perm_doc: str | None, perms: dict[str, str | None]) -> dict[str, str]:
        raw = {"perm_doc": perm_doc or ""}
        for name, value in perms.items():
            if not name.startswith("perm_") or name[5:] not in TARGETS:
                raise TypeError(f"unknown permission {name!r}")
            raw[name] = value or ""
        for name, value in raw.items():
            if value and value not in RANK:
                raise ValueError(f"invalid permission level {value!r} for {name}")
        return perms_from_params(raw)

    def grant_token(self, perm_doc: str | None = "read", **perms: str | None) -> str:
        """Mint a token for the account owner (what the whole frob dance ends with)."""
        granted = self._perm_dict(perm_doc, perms)
        token = self.auth_store.issue(self.api_key, self.account.user.user_id, granted).token
        self.save()
        return token

    # -- pointing migrator at it -----------------------------------------------------------
    def endpoint_options(self) -> list[str]:
        """``-o ipernity.*`` arguments naming this sandbox's API and authorize page (no credentials)."""
        return _options({"api_url": self.api_url, "auth_url": self.auth_url})

    def app_options(self) -> list[str]:
        """The endpoints plus the registered application's key and secret: what ``migrator auth`` needs."""
        return self.endpoint_options() + _options({"api_key": self.api_key, "api_secret": self.api_secret})

    def cli_options(self, token: str | None = None) -> list[str]:
        """``-o ipernity.*`` arguments pointing a ``migrator run`` at this sandbox: :meth:`app_options`
        and ``token`` (a fresh ``perm_doc=read`` token when None)."""
        token = self.grant_token(perm_doc="read") if token is None else token
        return self.app_options() + _options({"auth_token": token})

    def approve(self, frob: str, perm_doc: str | None = "read", **perms: str | None) -> None:
        """What the owner clicking "approve" on the authorize page does."""
        if frob not in self.auth_store.frobs:
            raise KeyError(frob)
        self.auth_store.approve(frob, self.account.user.user_id, self._perm_dict(perm_doc, perms))
        self.save()

    def deny(self, frob: str) -> None:
        self.auth_store.deny(frob)
        self.save()

    def revoke_token(self, token: str) -> None:
        self.auth_store.revoke(token)
        self.save()

    # -- counters ----------------------------------------------------------------------
    def reset_counters(self) -> None:
        with self.lock:
            self.calls.clear()
            self.downloads.clear()
            self._quota_used = 0

    # -- ground-truth edits ------------------------------------------------------------
    def _touch(self, previous: int) -> int:
        return max(int(time.time()), previous + 1)

    def edit_doc(self, doc_id: str | int, **fields: Any) -> Doc:
        """Change a document (title, description, tags, visibility, ispublic/isfriend/
        isfamily, safety, license, geo, created_at, ...); bumps ``last_update_at``."""
        with self.lock:
            doc = self.account.doc(doc_id)
            explicit_update = fields.pop("last_update_at", None)
            for name, value in fields.items():
                if name in ("ispublic", "isfriend", "isfamily"):
                    doc.visibility = {**doc.visibility, name: int(value)}
                elif name == "visibility":
                    if isinstance(value, dict):
                        doc.visibility = {k: int(value.get(k, doc.visibility.get(k, 0)))
                                          for k in ("ispublic", "isfriend", "isfamily")}
                    else:
                        pub, fr, fa = value
                        doc.visibility = {"ispublic": int(pub), "isfriend": int(fr), "isfamily": int(fa)}
                elif name == "tags":
                    doc.tags = self._normalise_tags(value, doc.tags)
                elif name in ("doc_id", "album_ids", "original"):
                    raise TypeError(f"{name} cannot be edited")
                elif name in Doc.__dataclass_fields__:
                    setattr(doc, name, value)
                else:
                    raise TypeError(f"unknown document field {name!r}")
            self.account.touch()  # posted_at may have changed: doc.getList's cached order is stale
            if explicit_update is not None:
                doc.last_update_at = int(explicit_update)
            else:
                doc.last_update_at = self._touch(doc.last_update_at)
            self.save()
            return doc

    def _normalise_tags(self, tags: Iterable[Any], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
        known = {t["tag"]: t for t in previous}
        next_id = max((int(t.get("id", 0)) for d in self.account.docs for t in d.tags), default=500000)
        out = []
        for t in tags:
            entry = {"tag": t} if isinstance(t, str) else dict(t)
            text = entry["tag"]
            if text in known and "id" not in entry:
                out.append(dict(known[text]))
                continue
            if "id" not in entry:
                next_id += 1
                entry["id"] = str(next_id)
            entry.setdefault("type", "machine" if ":" in text and "=" in text else "keyword")
            entry.setdefault("user_id", self.account.user.user_id)
            entry.setdefault("added_at", int(time.time()))
            out.append(entry)
        return out

    def edit_album(self, album_id: str | int, **fields: Any) -> Any:
        """Change an album (title, description, doc_ids order, cover_doc_id, ...)."""
        with self.lock:
            album = self.account.album(album_id)
            for name, value in fields.items():
                if name == "album_id" or not hasattr(album, name):
                    raise TypeError(f"cannot edit album field {name!r}")
                setattr(album, name, [str(v) for v in value] if name == "doc_ids" else value)
            if "last_update_at" not in fields:
                album.last_update_at = self._touch(album.last_update_at)
            self.account.reindex()
            self.save()
            return album

    def delete_doc(self, doc_id: str | int) -> None:
        with self.lock:
            doc = self.account.doc(doc_id)
            for album in self.account.albums_of(doc.doc_id):
                album.last_update_at = self._touch(album.last_update_at)
            self.account.docs.remove(doc)
            self.account.reindex()
            self.save()

    def add_doc(self, **fields: Any) -> Doc:
        """Post a new document now (after every other one) and return it.

        Besides Doc fields, accepts ``filename``, ``ext``, ``size`` (original bytes)
        and ``albums`` (album ids to append the document to)."""
        with self.lock:
            acc = self.account
            last_id = max((int(d.doc_id) for d in acc.docs), default=1_000_000)
            doc_id = str(last_id + self._rng.randrange(1, 5000))
            now = int(time.time())
            posted = max(now, max((d.posted_at for d in acc.docs), default=0) + 1)
            media = fields.pop("media", "photo")
            ext = fields.pop("ext", EXTENSIONS.get(media, ("bin",))[0])
            size = int(fields.pop("size", 1024 + self._rng.randrange(0, 29 * 1024)))
            filename = fields.pop("filename", f"new upload {doc_id}.{ext}")
            albums = [str(a) for a in fields.pop("albums", [])]
            key = f"{self.seed}:{doc_id}:added"
            w, h = ((1600, 1200) if media == "photo" else (1280, 720) if media == "video" else (0, 0))
            taken = format_date(posted)
            original = Original(filename=filename, ext=ext, bytes=size,
                                md5=hashlib.md5(make_content(key, size, ext, w, h, taken)).hexdigest(),
                                secret=f"{self._rng.getrandbits(32):08x}", content_key=key,
                                w=w, h=h, length=30 if media in ("video", "audio") else 0, taken=taken)
            doc = Doc(doc_id=doc_id, media=media, title=f"New upload {doc_id}", description="",
                      tags=[], posted_at=posted, created_at=format_date(posted),
                      last_update_at=posted,
                      visibility={"ispublic": 1, "isfriend": 1, "isfamily": 1}, safety=1, license=0,
                      original=original, thumb_secret=f"{self._rng.getrandbits(32):08x}",
                      media_secret=f"{self._rng.getrandbits(32):08x}")
            acc.docs.append(doc)
            explicit_update = "last_update_at" in fields
            if fields:
                self.edit_doc(doc_id, **fields)
            if not explicit_update:
                doc.last_update_at = posted
            for album_id in albums:
                acc.album(album_id).doc_ids.append(doc_id)
            acc.reindex()
            self.save()
            return doc

    # -- request processing ------------------------------------------------------------
    def _random(self) -> float:
        with self.lock:
            return self._rng.random()

    def _randrange(self, stop: int) -> int:
        with self.lock:
            return self._rng.randrange(stop) if stop > 0 else 0

    def _render_ok(self, payload: dict[str, Any]) -> bytes:
        k = self.knobs
        return ok_body(payload, bool(k.numeric_scalars), k.empty_object_style)

    def take_fault(self, name: str) -> bool:
        """Consume one of the counted faults ``reset_api`` / ``truncate_api``; True if this request gets it."""
        with self.lock:
            left = int(getattr(self.knobs, name) or 0)
            if left <= 0:
                return False
            setattr(self.knobs, name, left - 1)
            return True

    def dispatch(self, http_method: str, method: str, fmt: str, params: dict[str, str]) -> tuple[int, bytes]:
        """Answer one API call: ``(HTTP status, body)``."""
        k = self.knobs
        with self.lock:
            self.calls[method] += 1
            if params.get("api_sig"):
                self.signatures_seen.add(params["api_sig"])
        if k.latency:
            time.sleep(float(k.latency))
        try:
            if self.take_fault("fail_api"):
                return 503, b"<html><body><h1>503 Service Unavailable</h1></body></html>"
            if self.take_fault("limit_api") or (k.rate_limit and self._random() < float(k.rate_limit)):
                raise ApiError(113)
            if k.fault_rate and self._random() < float(k.fault_rate):
                kind = self._randrange(4)
                if kind == 0:
                    return 500, b"<html><body><h1>500 Internal Server Error</h1></body></html>"
                raise ApiError((500, 501, 503)[kind - 1])
            if fmt not in ("", "json"):
                raise ApiError(102)
            api_key = params.get("api_key", "")
            token_value = params.get("auth_token", "")
            if not api_key:
                if method != "api.methods.getList" or "api_sig" in params or token_value:
                    raise ApiError(100)
            elif api_key != self.api_key:
                raise ApiError(101)
            if api_key:
                with self.lock:
                    if k.quota_generation != self._quota_generation:
                        self._quota_generation = k.quota_generation
                        self._quota_used = 0
                    self._quota_used += 1
                    used = self._quota_used
                if k.quota_after is not None and used > int(k.quota_after):
                    raise ApiError(112)
            spec = METHODS.get(method)
            if spec is None:
                raise ApiError(103)
            if spec.post and http_method != "POST":
                raise ApiError(120)
            if spec.sign or token_value or "api_sig" in params:
                if not params.get("api_sig"):
                    raise ApiError(104)
                if not signing.check(params, method, self.api_secret):
                    raise ApiError(105)
            viewer = Viewer()
            if token_value:
                token = self.auth_store.lookup(token_value, api_key)
                if token is None:
                    raise ApiError(107)
                viewer = Viewer(user=self.account.users.get(token.user_id), token=token)
            elif spec.token:
                raise ApiError(106)
            if spec.token and spec.perm and not level_ok(viewer.perm(spec.perm[0]), spec.perm[1]):
                raise ApiError(110)
            with self.lock:
                payload = spec.handler(Call(self, method, params, viewer))
                if method in ("auth.getFrob", "auth.getToken") or (spec.perm and spec.perm[1] != "read"):
                    self.save()  # a change (a frob, a token, an edit): saved before it is answered
                return 200, self._render_ok(payload)
        except ApiError as err:
            return 200, error_body(err, bool(k.code_as_number))

    # -- authorize page ----------------------------------------------------------------
    def _check_link(self, params: dict[str, str]) -> tuple[str | None, dict[str, str]]:
        """Validate an authorization link; returns (error message or None, perms)."""
        if not params.get("api_key"):
            return "API Key is missing", {}
        if params["api_key"] != self.api_key:
            return "API Key is invalid", {}
        if not params.get("api_sig"):
            return "Signature missing", {}
        if not signing.check(params, None, self.api_secret):
            return "Signature is invalid", {}
        perms = perms_from_params(params)
        if not perms:
            return "No permission requested (perm_doc, perm_blog, ...)", {}
        frob = params.get("frob")
        if frob and self.auth_store.live_frob(frob, self.api_key, self.knobs.frob_ttl) is None:
            return "The frob is invalid, expired or already used", {}
        return None, perms


def _page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>"
        + html.escape(title)
        + "</title></head><body><h1>"
        + html.escape(title)
        + "</h1>"
        + body
        + "<p><small>ipernity sandbox - a local emulation, no real account involved.</small></p>"
        + "</body></html>"
    ).encode("utf-8")


def _parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str]]:
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    out = []
    if not message.is_multipart():
        return out
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        if name == "file" or part.get_filename() is not None:
            out.append((str(name), ""))  # binary payloads are not parameters we use
            continue
        out.append((str(name), data.decode("utf-8", "replace")))
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ipernity-sandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    @property
    def sb(self) -> IpernitySandbox:
        return self.server.sandbox  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence access log
        pass

    # -- plumbing ----------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _params(self, query: str, http_method: str) -> dict[str, str]:
        pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace")
        if http_method == "POST":
            body = self._body()
            ctype = self.headers.get("Content-Type", "")
            if ctype.lower().startswith("multipart/form-data"):
                pairs += _parse_multipart(ctype, body)
            elif body:
                pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True,
                                   encoding="utf-8", errors="replace")
        params: dict[str, str] = {}
        for name, value in pairs:
            params[name] = value
        return params

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None,
              head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_HEAD(self) -> None:  # noqa: N802
        self._route("HEAD")

    def _route(self, http_method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        try:
            if path.startswith("/api/"):
                rest = path[len("/api/"):].strip("/")
                method, _, fmt = rest.partition("/")
                params = self._params(url.query, http_method)
                if self._stalled_or_reset():
                    return
                status, body = self.sb.dispatch(http_method, method, fmt, params)
                ctype = "application/json; charset=utf-8" if status == 200 else "text/html; charset=utf-8"
                if self.sb.take_fault("truncate_api"):
                    self._send_truncated(status, body, ctype)
                    return
                self._send(status, body, ctype, head=http_method == "HEAD")
            elif path.rstrip("/") == "/apps/authorize":
                self._authorize(http_method, self._params(url.query, http_method))
            elif path.startswith("/files/") and http_method in ("GET", "HEAD"):
                if self.sb.knobs.stall:
                    self._hang()
                    return
                if self.sb.knobs.file_latency:
                    time.sleep(float(self.sb.knobs.file_latency))
                self._file(path, http_method == "HEAD")
            elif path in ("", "/"):
                self._index()
            else:
                self._send(404, b"not found", "text/plain", head=http_method == "HEAD")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- injected transport faults ---------------------------------------------------------
    def _stalled_or_reset(self) -> bool:
        """``stall`` holds the call unanswered; ``reset_api`` drops it. Neither is carried out."""
        if self.sb.knobs.stall:
            self._hang()
            return True
        if self.sb.take_fault("reset_api"):
            self._reset()
            return True
        return False

    def _hang(self) -> None:
        """Hold the connection without a byte until ``hang_seconds`` pass or the sandbox stops, then drop it."""
        with self.sb.lock:
            self.sb.stalled += 1
        self.sb._stopping.wait(max(0.0, float(self.sb.knobs.hang_seconds or 0)))
        self._reset()

    def _reset(self) -> None:
        """Drop the connection with a TCP reset (SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _send_truncated(self, status: int, body: bytes, ctype: str) -> None:
        """The full Content-Length, half the body, then the connection closes."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self._reset()

    # -- pages -------------------------------------------------------------------------
    def _index(self) -> None:
        sb = self.sb
        body = (f"<p>API endpoint: <code>{html.escape(sb.api_url)}</code></p>"
                f"<p>Authorize page: <code>{html.escape(sb.auth_url)}</code></p>"
                f"<p>Account: {html.escape(sb.account.user.username)} - "
                f"{len(sb.account.docs)} documents, {len(sb.account.albums)} albums</p>")
        self._send(200, _page("ipernity sandbox", body), "text/html; charset=utf-8")

    def _authorize(self, http_method: str, params: dict[str, str]) -> None:
        sb = self.sb
        decision = params.pop("decision", "")
        error, perms = sb._check_link(params)
        if error:
            self._send(400, _page("Authorization failed", f"<p>{html.escape(error)}</p>"),
                       "text/html; charset=utf-8")
            return
        user = sb.account.user
        if http_method != "POST":
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items())
            listing = "".join(f"<li>{html.escape(t)}: {html.escape(lvl)}</li>" for t, lvl in perms.items())
            body = (f"<p>The application <b>ipernity sandbox app</b> asks to access the account of "
                    f"<b>{html.escape(user.realname)}</b> ({html.escape(user.username)}) with:</p>"
                    f"<ul>{listing}</ul>"
                    f'<form method="post" action="/apps/authorize">{hidden}'
                    '<button type="submit" name="decision" value="approve">Approve</button> '
                    '<button type="submit" name="decision" value="deny">Deny</button></form>')
            self._send(200, _page("Authorize application", body), "text/html; charset=utf-8")
            return
        frob = params.get("frob")
        if decision == "deny":
            if frob:
                sb.deny(frob)
            self._send(200, _page("Access denied", "<p>The application was not authorized.</p>"),
                       "text/html; charset=utf-8")
            return
        if not frob:  # web flow: the frob is created here and handed to the callback
            frob = sb.auth_store.new_frob(sb.api_key).frob
            sb.auth_store.approve(frob, user.user_id, perms)
            sb.save()
            if sb.callback_url:
                sep = "&" if "?" in sb.callback_url else "?"
                self._send(302, b"", "text/plain",
                           {"Location": f"{sb.callback_url}{sep}{urlencode({'frob': frob})}"})
                return
            body = f"<p>Authorized. Frob: <code>{html.escape(frob)}</code></p>"
        else:
            sb.auth_store.approve(frob, user.user_id, perms)
            sb.save()
            body = "<p>Authorized. You can go back to the application now.</p>"
        self._send(200, _page("Application authorized", body), "text/html; charset=utf-8")

    # -- file host ---------------------------------------------------------------------
    def _file(self, path: str, head: bool) -> None:
        sb = self.sb
        parts = path[len("/files/"):].split("/")
        name = parts[-1]
        if parts[0] == "icons" and len(parts) == 2 and name.endswith(".jpg"):
            self._send_bytes(make_content("icon:" + name, 512, "jpg"), "image/jpeg", head, None)
            return
        pieces = name.split(".")
        with sb.lock:
            doc = sb.account.find_doc(pieces[0]) if pieces[0].isdigit() else None
            if doc is None or "/".join(parts[:-1]) != sb.file_dir(doc.doc_id):
                doc = None
            data = None
            original = False
            if doc is not None and len(pieces) == 3:
                if pieces[1] == doc.original.secret and pieces[2] == doc.original.ext:
                    data, original = doc.original.content(), True
            elif doc is not None and len(pieces) == 4:
                secret, label, ext = pieces[1:]
                if label in THUMB_LABELS and secret == doc.thumb_secret and ext == "jpg":
                    data = _rendition(doc, label, "jpg")
                elif (label in _MEDIA_LABELS and secret == doc.media_secret
                      and ext == _MEDIA_LABELS[label]
                      and (doc.media == "video") == (label != "mp3") and doc.media in ("video", "audio")):
                    data = _rendition(doc, label, ext)
            if data is None:
                self._send(404, b"not found", "text/plain", head=head)
                return
            if original and not head:
                sb.downloads[doc.doc_id] += 1
        ctype = mimetypes.guess_type("x." + pieces[-1])[0] or "application/octet-stream"
        self._send_bytes(data, ctype, head, doc if original else None)

    def _send_bytes(self, data: bytes, ctype: str, head: bool, original_of: Doc | None) -> None:
        sb = self.sb
        status, start, end = 200, 0, len(data)
        extra = {"Accept-Ranges": "bytes"}
        spec = self.headers.get("Range", "")
        if spec.startswith("bytes=") and "," not in spec:
            first, _, last = spec[len("bytes="):].partition("-")
            try:
                if first:
                    start = int(first)
                    end = min(len(data), int(last) + 1) if last else len(data)
                else:
                    start = max(0, len(data) - int(last))
            except ValueError:
                start, end = 0, len(data)
            if start >= len(data) or start >= end:
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"}, head)
                return
            status = 206
            extra["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        body = data[start:end]
        declared = len(body)
        knobs = sb.knobs
        if (original_of is not None and not head and knobs.truncate_rate and body
                and sb._random() < float(knobs.truncate_rate)):
            cut = sb._randrange(len(body))
            style = knobs.truncate_style
            if style == "mixed":
                style = "close" if sb._randrange(2) == 0 else "short"
            body = body[:cut]
            if style == "short":
                declared = len(body)
            self.close_connection = True
            extra["Connection"] = "close"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(declared))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        bandwidth = knobs.bandwidth
        if not bandwidth:
            self.wfile.write(body)
        else:
            rate = max(1.0, float(bandwidth))
            chunk = max(256, int(rate / 20))
            for offset in range(0, len(body), chunk):  # each piece waits its share first: files arrive at rate
                piece = body[offset:offset + chunk]
                time.sleep(len(piece) / rate)
                self.wfile.write(piece)
                self.wfile.flush()
        self.wfile.flush()

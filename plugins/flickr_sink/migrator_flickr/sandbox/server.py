"""The loopback HTTP server: REST, upload/replace, OAuth endpoints, the
authorisation page and a file host for originals and derived sizes."""

from __future__ import annotations

import contextlib
import html
import json
import os
import pickle
import re
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from . import api, media, model, render
from .knobs import Knobs
from .model import Account
from .oauth import PERM_LEVELS, AccessToken, OAuthFailure, OAuthStore, RequestToken, form_pairs

REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 403: "Forbidden", 404: "Not Found"}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, sandbox: FlickrSandbox) -> None:
        self.sandbox = sandbox
        self.open_sockets: set[socket.socket] = set()
        self.sock_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        with self.sock_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sock_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.sock_lock:
            socks = list(self.open_sockets)
            self.open_sockets.clear()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):  # quiet: clients drop connections on purpose
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FlickrSandbox/1.0"
    sys_version = ""
    timeout = 120
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write (flushed after each request)

    @property
    def sb(self) -> FlickrSandbox:
        return self.server.sandbox  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- plumbing --------------------------------------------------------------------------------
    def _reader(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            return media.ChunkedReader(self.rfile)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return media.LimitedReader(self.rfile, max(0, length))

    def _send(self, status: int, body: bytes | str, ctype: str = "text/plain; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        loss, self._loss = self._loss, None
        if loss is not None:  # the call was carried out; its answer never arrives
            self._lose(loss, data, ctype)
            return
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    _loss: str | None = None  # how the answer being sent is lost (Knobs.lose_answer), per request

    def _lose(self, how: str, data: bytes, ctype: str) -> None:
        """Lose a committed call's answer the way ``how`` says."""
        if how == "reset":
            self._reset()
        elif how == "hang":
            self._hang()
        elif how == "truncate":
            self._truncated(data, ctype)
        else:
            status = int(how)
            self._send(status, f"<html><body><h1>{status} {REASONS.get(status, 'Error')}</h1></body></html>",
                       "text/html; charset=utf-8")

    def _truncated(self, data: bytes, ctype: str) -> None:
        """The full Content-Length, half the body, then the connection closes."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self._reset()

    def _hang(self) -> None:
        """Hold the connection without sending a byte, then drop it: a server that stopped answering.
        Waits on the sandbox's stop event, so stopping the sandbox never waits for a hang."""
        self.sb._stopping.wait(max(0.0, float(self.sb.knobs.hang_seconds or 0)))
        self._reset()

    def _reset(self) -> None:
        """Drop the connection with a TCP reset."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _uri(self, path: str) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}{path}"

    def _transport_fault(self, target: str, reader=None, fmt: str = "rest", callback: str | None = None,
                         method: str | None = None) -> bool:
        """Inject latency / 429 / 5xx / resets / hangs. True if an answer was already sent (or never will be)."""
        sb = self.sb
        delay = sb.knobs.delay()
        status = sb.knobs.pick_fault(target, time.monotonic(), method)
        if status is None:
            if delay:
                time.sleep(delay)
            return False
        if status == "hang":
            if reader is not None:  # the request arrived whole; only the answer never comes
                try:
                    reader.drain()
                except media.BodyError:
                    pass
            self._hang()
            return True
        if status == "reset" or status == 0:
            if reader is not None:
                try:
                    reader.read(32 * 1024)
                except media.BodyError:
                    pass
            self._reset()
            return True
        if reader is not None:
            try:
                reader.drain()
            except media.BodyError:
                self.close_connection = True
        if delay:
            time.sleep(delay)
        status = int(status)
        if status < 200:
            msg = {105: "Service currently unavailable", 106: "Write operation failed"}.get(
                status, "Service currently unavailable")
            if target == "upload":
                self._send(200, render.fail_xml(status, msg), "text/xml; charset=utf-8")
            else:
                self._send_fail(status, msg, fmt, callback)
            return True
        headers = {}
        if status == 429:
            headers["Retry-After"] = str(sb.knobs.retry_after)
        text = f"<html><body><h1>{status} {REASONS.get(status, 'Error')}</h1></body></html>"
        self._send(status, text, "text/html; charset=utf-8", headers)
        return True

    def _send_fail(self, code: int, msg: str, fmt: str, callback: str | None, extra=None) -> None:
        if fmt == "json":
            obj = render.fail_json_obj(code, msg)
            self._send(200, render.dump_json(obj, callback),
                       "text/javascript; charset=utf-8" if callback else "application/json; charset=utf-8")
        else:
            body = render.fail_xml(code, msg)
            if extra:
                frag = "\n".join("\t" + render.to_xml_fragment(n) for n in extra)
                body = body.replace("\n</rsp>", "\n" + frag + "\n</rsp>")
            self._send(200, body, "text/xml; charset=utf-8")

    # -- verbs -----------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        self._route()

    def do_POST(self) -> None:  # noqa: N802
        self._route()

    def do_HEAD(self) -> None:  # noqa: N802
        self._route()

    def _route(self) -> None:
        self._loss = None
        path, _, query = self.path.partition("?")
        try:
            if path in ("/services/rest", "/services/rest/"):
                return self._rest(path, query)
            if path in ("/services/upload", "/services/upload/"):
                return self._upload(path, query, replace=False)
            if path in ("/services/replace", "/services/replace/"):
                return self._upload(path, query, replace=True)
            if path.startswith("/services/oauth/"):
                return self._oauth(path, query)
            if path == "/":
                return self._index()
            if self._files(path):
                return None
            self._drain()
            self._send(404, "not found\n")
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True

    def _drain(self) -> None:
        try:
            self._reader().drain()
        except media.BodyError:
            self.close_connection = True

    # -- REST ------------------------------------------------------------------------------------
    def _rest(self, path: str, query: str) -> None:
        sb = self.sb
        reader = self._reader()
        ctype = (self.headers.get("Content-Type") or "").lower()
        body_pairs: list[tuple[str, str]] = []
        try:
            if ctype.startswith("multipart/form-data"):
                boundary = _boundary(self.headers.get("Content-Type") or "")
                res = media.parse_multipart(reader, boundary, sb.storage_dir, is_file=lambda n, f: False)
                body_pairs = res.fields
            else:
                body_pairs = form_pairs(media.read_all(reader))
        except (media.BodyError, ValueError):
            self.close_connection = True
            self._send(400, "bad request body\n")
            return
        params: dict[str, str] = {}
        for k, v in parse_qsl(query, keep_blank_values=True) + body_pairs:
            params[k] = v
        name = params.get("method", "")
        sb._record(name or "(none)")
        fmt = params.get("format") or "rest"
        callback = None
        if fmt == "json" and params.get("nojsoncallback") != "1":
            callback = params.get("jsoncallback") or "jsonFlickrApi"
            if not re.fullmatch(r"[A-Za-z_$][\w$.]*", callback):
                callback = "jsonFlickrApi"
        if self._transport_fault("rest", None, fmt if fmt in ("rest", "json") else "rest", callback, name):
            return
        if fmt not in ("rest", "json"):
            self._send_fail(111, f'Format "{fmt}" not found', "rest", None)
            return
        try:
            verified = sb.oauth.verify(self.command, self._uri(path), dict(self.headers.items()), body_pairs,
                                       query, "access", sb.knobs.timestamp_window)
        except OAuthFailure as exc:
            self._auth_failure(exc, fmt, callback)
            return
        api_key = params.get("api_key")
        if verified.consumer is None:
            if not api_key or api_key not in sb.oauth.consumers:
                self._send_fail(100, "Invalid API Key (Key not found)", fmt, callback)
                return
        elif api_key and api_key != verified.consumer:
            self._send_fail(100, "Invalid API Key (Key not found)", fmt, callback)
            return
        token = verified.token if isinstance(verified.token, AccessToken) else None
        call = api.Call(account=sb.account, knobs=sb.knobs, params=params, base=sb.base_url,
                        perms=PERM_LEVELS[token.perms] if token else 0, token=token,
                        consumer=verified.consumer or api_key, store=sb.oauth)
        self._loss = sb.take_loss(name)
        try:
            with sb.lock:
                sb._settle()
                try:
                    root = api.dispatch(call, name)
                finally:
                    if api.METHODS.get(name, (None, api.NONE))[1] >= api.WRITE:  # before the answer
                        sb.record(("rest", name, params, token.token if token else None, call.perms, call.consumer,
                                   call.now))
        except api.ApiError as exc:
            self._send_fail(exc.code, exc.msg, fmt, callback, exc.extra)
            return
        if fmt == "json":
            text = render.dump_json(render.ok_json_obj(root), callback)
            self._send(200, text, "text/javascript; charset=utf-8" if callback else "application/json; charset=utf-8")
        else:
            self._send(200, render.ok_xml(root), "text/xml; charset=utf-8")

    def _auth_failure(self, exc: OAuthFailure, fmt: str, callback: str | None, upload: bool = False) -> None:
        if self.sb.knobs.auth_failure_mode == "401":
            self._send(exc.status, exc.form_body(), "text/plain; charset=utf-8")
        elif upload:
            self._send(200, render.fail_xml(exc.code, exc.msg), "text/xml; charset=utf-8")
        else:
            self._send_fail(exc.code, exc.msg, fmt, callback)

    # -- upload / replace ------------------------------------------------------------------------
    def _upload(self, path: str, query: str, replace: bool) -> None:
        sb = self.sb
        sb._record("replace" if replace else "upload")
        reader = self._reader()
        if self._transport_fault("upload", reader, method="replace" if replace else "upload"):
            return
        ctype = self.headers.get("Content-Type") or ""
        files: dict[str, media.UploadedFile] = {}
        try:
            if ctype.lower().startswith("multipart/form-data"):
                cap = max(int(sb.knobs.max_photo_bytes), int(sb.knobs.max_video_bytes))
                res = media.parse_multipart(reader, _boundary(ctype), sb.storage_dir, max_file_bytes=cap,
                                            is_file=lambda n, f: n == "photo" or f is not None)
                fields, files = res.fields, res.files
            else:
                fields = form_pairs(media.read_all(reader))
        except (media.BodyError, ValueError):
            self.close_connection = True
            self._send(200, render.fail_xml(3, "General upload failure"), "text/xml; charset=utf-8")
            return
        photo = files.pop("photo", None)
        for extra in files.values():
            _unlink(extra.path)
        keep = False
        try:
            keep = self._upload_checked(path, query, fields, photo, replace)
        finally:
            if photo is not None and not keep:
                _unlink(photo.path)

    def _upload_checked(self, path: str, query: str, fields: list[tuple[str, str]],
                        photo: media.UploadedFile | None, replace: bool) -> bool:
        sb = self.sb
        xml = "text/xml; charset=utf-8"
        try:
            verified = sb.oauth.verify("POST", self._uri(path), dict(self.headers.items()), fields, query,
                                       "access", sb.knobs.timestamp_window)
        except OAuthFailure as exc:
            self._auth_failure(exc, "rest", None, upload=True)
            return False
        fdict = dict(fields)
        api_key = fdict.get("api_key")
        if verified.consumer is None:
            if not api_key or api_key not in sb.oauth.consumers:
                self._send(200, render.fail_xml(100, "Invalid API Key (Key not found)"), xml)
            else:
                self._send(200, render.fail_xml(97, "Missing signature"), xml)
            return False
        if api_key and api_key != verified.consumer:
            self._send(200, render.fail_xml(100, "Invalid API Key (Key not found)"), xml)
            return False
        token = verified.token if isinstance(verified.token, AccessToken) else None
        if token is None or PERM_LEVELS[token.perms] < PERM_LEVELS["write"]:
            have = token.perms if token else "none"
            self._send(200, render.fail_xml(99, f"Insufficient permissions. Method requires write privileges; "
                                                f"{have} granted."), xml)
            return False
        inc = None
        if photo is not None:
            inc = api.Incoming(fields=fdict, path=photo.path, size=photo.size, sha256=photo.sha256,
                               head=photo.head, filename=photo.filename, truncated=photo.truncated)
        call = api.Call(account=sb.account, knobs=sb.knobs, params=fdict, base=sb.base_url,
                        perms=PERM_LEVELS[token.perms], token=token, consumer=verified.consumer, store=sb.oauth)
        self._loss = sb.take_loss("replace" if replace else "upload")
        try:
            with sb.lock:
                sb._settle()
                try:
                    if replace:
                        if inc is None:
                            raise api.ApiError(2, "No photo specified")
                        root = api.do_replace(call, inc)
                    else:
                        root = api.do_upload(call, inc, sb._settle)
                finally:  # before the answer
                    sb.record(("upload", replace, fdict, inc, token.token, call.perms, call.consumer, call.now))
        except api.ApiError as exc:
            body = render.fail_xml(exc.code, exc.msg)
            if exc.extra:
                frag = "\n".join("\t" + render.to_xml_fragment(n) for n in exc.extra)
                body = body.replace("\n</rsp>", "\n" + frag + "\n</rsp>")
            self._send(200, body, xml)
            return False
        self._send(200, render.ok_xml(root), xml)
        return True

    # -- OAuth -----------------------------------------------------------------------------------
    def _oauth(self, path: str, query: str) -> None:
        sb = self.sb
        name = path[len("/services/oauth/"):].strip("/")
        reader = self._reader()
        try:
            raw = media.read_all(reader)
        except media.BodyError:
            self.close_connection = True
            self._send(400, "bad body\n")
            return
        sb._record_oauth(name)
        if name == "authorize":
            return self._authorize_page(query, raw)
        if "oauth" in sb.knobs.fault_targets and self._transport_fault("oauth"):
            return
        form = "text/plain; charset=utf-8"
        if name == "request_token":
            try:
                v = sb.oauth.verify(self.command, self._uri(path), dict(self.headers.items()), raw, query, "none",
                                    sb.knobs.timestamp_window)
            except OAuthFailure as exc:
                self._send(exc.status, exc.form_body(), form)
                return
            if v.consumer is None:
                self._send(401, urlencode({"oauth_problem": "parameter_absent",
                                           "oauth_parameters_absent": "oauth_consumer_key"}), form)
                return
            cb = v.params.get("oauth_callback")
            if not cb:
                self._send(400, urlencode({"oauth_problem": "parameter_absent",
                                           "oauth_parameters_absent": "oauth_callback"}), form)
                return
            rt = sb.oauth.new_request_token(v.consumer, cb)
            sb.save()
            self._send(200, urlencode({"oauth_callback_confirmed": "true", "oauth_token": rt.token,
                                       "oauth_token_secret": rt.secret}), form)
            return
        if name == "access_token":
            try:
                v = sb.oauth.verify(self.command, self._uri(path), dict(self.headers.items()), raw, query,
                                    "request", sb.knobs.timestamp_window)
                if not isinstance(v.token, RequestToken):
                    raise OAuthFailure(98, "Invalid auth token", "token_rejected")
                at = sb.oauth.exchange(v.token, v.params.get("oauth_verifier"), sb.account.user.nsid)
                sb.save()
            except OAuthFailure as exc:
                self._send(exc.status, exc.form_body(), form)
                return
            u = sb.account.user
            self._send(200, urlencode({"fullname": u.realname, "oauth_token": at.token,
                                       "oauth_token_secret": at.secret, "user_nsid": u.nsid,
                                       "username": u.username}), form)
            return
        self._send(404, "unknown oauth endpoint\n")

    def _authorize_page(self, query: str, raw: bytes) -> None:
        sb = self.sb
        params = dict(parse_qsl(query, keep_blank_values=True))
        if self.command == "POST":
            params.update(dict(form_pairs(raw)))
        token = params.get("oauth_token", "")
        perms = params.get("perms", "read")
        rt = sb.oauth.request_tokens.get(token)
        page = "text/html; charset=utf-8"
        if rt is None:
            self._send(400, _html("Flickr sandbox: invalid request", "<p class='error'>Oops! The request token "
                                  "is unknown, expired or already used.</p>"), page)
            return
        if perms not in ("read", "write", "delete"):
            self._send(400, _html("Flickr sandbox: invalid permission", f"<p class='error'>Unknown permission "
                                  f"{html.escape(perms)!s}.</p>"), page)
            return
        if self.command == "POST":
            if params.get("decision") == "deny":
                sb.oauth.deny(token)
                sb.save()
                self._send(200, _html("Flickr sandbox: access denied",
                                      "<p id='denied'>You did not authorise the application.</p>"), page)
                return
            verifier = sb.oauth.authorize(token, perms)
            sb.save()
            if rt.callback != "oob":
                sep = "&" if "?" in rt.callback else "?"
                loc = rt.callback + sep + urlencode({"oauth_token": token, "oauth_verifier": verifier})
                self._send(302, _html("Redirecting", f"<a href='{html.escape(loc)}'>continue</a>"), page,
                           {"Location": loc})
                return
            self._send(200, _html("Flickr sandbox: authorised", (
                "<p>You have authorised the application. Enter this code in it:</p>"
                f"<p class='code'><span id='verifier'>{html.escape(verifier)}</span></p>")), page)
            return
        u = sb.account.user
        body = (
            f"<p>The application with key <code>{html.escape(rt.consumer)}</code> would like to access the "
            f"sandbox account <b>{html.escape(u.username)}</b> ({html.escape(u.nsid)}) with "
            f"<b id='perms'>{html.escape(perms)}</b> permission.</p>"
            "<form method='post' action='/services/oauth/authorize'>"
            f"<input type='hidden' name='oauth_token' value='{html.escape(token)}'>"
            f"<input type='hidden' name='perms' value='{html.escape(perms)}'>"
            "<button type='submit' name='decision' value='allow' id='allow'>OK, I'LL AUTHORIZE IT</button> "
            "<button type='submit' name='decision' value='deny' id='deny'>NO THANKS</button>"
            "</form>"
        )
        self._send(200, _html("Flickr sandbox: authorise application", body), page)

    # -- file host -------------------------------------------------------------------------------
    _STATIC = re.compile(r"^/(\d+)/(\d+)_([0-9a-f]+)(_[a-z])?\.(\w+)$")
    _PLAY = re.compile(r"^/photos/([^/]+)/(\d+)/play/(orig|site|mobile|hd)/([0-9a-f]+)/?$")
    _VIDEO = re.compile(r"^/video/(\d+)_([0-9a-f]+)(?:_(site|mobile|hd))?\.(\w+)$")
    _PAGE = re.compile(r"^/photos/([^/]+)/(\d+)/?")

    def _files(self, path: str) -> bool:
        sb = self.sb
        m_static = self._STATIC.match(path)
        m_play = self._PLAY.match(path)
        m_video = self._VIDEO.match(path)
        if not (m_static or m_play or m_video):
            m_page = self._PAGE.match(path)
            if m_page:
                self._drain()
                with sb.lock:
                    p = sb.account.photos.get(m_page.group(2))
                    title = p.title if p else None
                if title is None:
                    self._send(404, _html("Not found", "<p>This photo is not available.</p>"), "text/html")
                else:
                    self._send(200, _html(title or "(untitled)", f"<p>Photo {m_page.group(2)}</p>"),
                               "text/html; charset=utf-8")
                return True
            return False
        self._drain()
        if self._transport_fault("files"):
            sb._record_file(self.command, path, -1)
            return True
        status = self._serve_file(path, m_static, m_play, m_video)
        sb._record_file(self.command, path, status)
        return True

    def _serve_file(self, path, m_static, m_play, m_video) -> int:
        sb = self.sb
        k = sb.knobs
        with sb.lock:
            if m_play:
                _nsid, pid, kind, secret = m_play.groups()
                p = sb.account.photos.get(pid)
                ok = p is not None and p.media == "video"
                if ok and kind == "orig":
                    ok = secret == p.originalsecret and not k.video_without_original
                elif ok:
                    ok = secret == p.secret
                if not ok:
                    self._send(404, "not found\n")
                    return 404
                if k.free_account and kind in ("orig", "hd"):  # the original, and 1280 px: above the cap
                    return self._forbidden()
                target = (f"/video/{p.id}_{p.originalsecret}.{p.original_format}" if kind == "orig"
                          else f"/video/{p.id}_{p.secret}_{kind}.mp4")
                self._send(302, "", "text/plain", {"Location": sb.base_url + target})
                return 302
            if m_video:
                pid, secret, kind, ext = m_video.groups()
                p = sb.account.photos.get(pid)
                if p is None or p.media != "video":
                    self._send(404, "not found\n")
                    return 404
                if kind is None:
                    if secret != p.originalsecret or ext != p.original_format:
                        self._send(404, "not found\n")
                        return 404
                    if k.originals_403 or k.free_account:
                        self._send(403, "<html><body>403 Forbidden</body></html>", "text/html")
                        return 403
                    source = (p.path, p.blob)
                    ctype = "video/quicktime" if ext == "mov" else "video/mp4"
                else:
                    if secret != p.secret or ext != "mp4":
                        self._send(404, "not found\n")
                        return 404
                    if k.free_account and kind == "hd":
                        return self._forbidden()
                    source = (None, media.make_video(f"{p.id}:{kind}", size=1024))
                    ctype = "video/mp4"
            else:
                _server, pid, secret, suffix, ext = m_static.groups()
                p = sb.account.photos.get(pid)
                if p is None:
                    self._send(404, "not found\n")
                    return 404
                suffix = suffix or ""
                if suffix == "_o":
                    want_ext = "jpg" if p.media == "video" else p.original_format
                    if secret != p.originalsecret or ext != want_ext:
                        self._send(404, "not found\n")
                        return 404
                    if k.originals_403 or k.free_account:
                        self._send(403, "<html><body>403 Forbidden</body></html>", "text/html")
                        return 403
                    if p.media == "video":
                        source = (None, media.make_jpeg(p.width, p.height, comment=f"still {p.id}"))
                        ctype = "image/jpeg"
                    else:
                        source = (p.path, p.blob)
                        ctype = _IMAGE_TYPES.get(p.original_format, "application/octet-stream")
                else:
                    dims = api.derived_dims(p, suffix)
                    if secret != p.secret or ext != "jpg" or dims is None:
                        self._send(404, "not found\n")
                        return 404
                    if k.free_account and max(dims) > api.FREE_MAX_EDGE:
                        return self._forbidden()
                    source = (None, media.make_jpeg(dims[0], dims[1], comment=f"{p.id}{suffix}"))
                    ctype = "image/jpeg"
        return self._stream(source, ctype)

    def _forbidden(self) -> int:
        """The file host's refusal of what a free account may not have."""
        self._send(403, "<html><body>403 Forbidden</body></html>", "text/html")
        return 403

    def _stream(self, source: tuple[str | None, bytes | None], ctype: str) -> int:
        path, blob = source
        if blob is not None:
            size = len(blob)
        elif path and os.path.exists(path):
            size = os.path.getsize(path)
        else:
            self._send(404, "not found\n")
            return 404
        start, end = 0, size - 1
        status = 200
        rng = self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", (rng or "").strip())
        if m and size:
            a, b = m.groups()
            if a:
                start = int(a)
                end = min(int(b), size - 1) if b else size - 1
            elif b:
                start = max(0, size - int(b))
            if start > end or start >= size:
                self._send(416, "", "text/plain", {"Content-Range": f"bytes */{size}"})
                return 416
            status = 206
        length = end - start + 1 if size else 0
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD" or not length:
            return status
        if blob is not None:
            self.wfile.write(blob[start:end + 1])
        else:
            with open(path, "rb") as fh:
                fh.seek(start)
                left = length
                while left > 0:
                    chunk = fh.read(min(1 << 16, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        return status

    def _index(self) -> None:
        self._drain()
        sb = self.sb
        with sb.lock:
            counts = sb.account.counts()
            sets = len(sb.account.photosets)
            user = sb.account.user
        body = (f"<p>Account <b>{html.escape(user.username)}</b> ({html.escape(user.nsid)}): "
                f"{counts['items']} items ({counts['videos']} videos, {counts['nonpublic']} non-public), "
                f"{sets} sets.</p><ul>"
                + "".join(f"<li>{html.escape(k)}: <code>{html.escape(v)}</code></li>" for k, v in sb.urls.items())
                + "</ul>")
        self._send(200, _html("Flickr sandbox", body), "text/html; charset=utf-8")


_IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "tiff": "image/tiff",
                "heic": "image/heic"}


def _html(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title></head>"
            "<body><h1>" + html.escape(title) + "</h1>" + body + "</body></html>")


def _boundary(ctype: str) -> bytes:
    m = re.search(r'boundary=("?)([^";]+)\1', ctype, re.I)
    if not m:
        raise ValueError("no multipart boundary")
    return m.group(2).encode("latin-1")


def _unlink(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def _journal_entries(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The journal's entries in order; one cut short by a kill (its call was never answered) ends it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    at = 0
    while at + 4 <= len(data):
        (size,) = struct.unpack(">I", data[at:at + 4])
        if at + 4 + size > len(data):
            return
        yield pickle.loads(data[at + 4:at + 4 + size])  # noqa: S301 - written by FlickrSandbox.record
        at += 4 + size


def _options(values: dict[str, Any]) -> list[str]:
    return [arg for name, value in values.items() for arg in ("-o", f"flickr.{name}={value}")]


class FlickrSandbox:
    """A Flickr API emulator on 127.0.0.1 (see the package docstring)."""

    def __init__(self, seed: int = 0, account: Account | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 storage_dir: str | None = None, save_file: str | Path | None = None, **knobs: Any) -> None:
        self.seed = seed
        self.account = account if account is not None else Account.empty(seed=seed)
        self.knobs = Knobs(seed=seed, **knobs)
        self.oauth = OAuthStore(seed=seed)
        self.save_file = Path(save_file) if save_file is not None else None
        self._journal: Any = None
        self._journaled = 0  # journal entries written (or replayed) since the account was new
        self.lock = threading.RLock()
        self.host = host
        self.port = port
        self._own_storage = storage_dir is None
        self.storage_dir = storage_dir or ""
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._count_lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.call_log: list[tuple[float, str]] = []
        self.oauth_calls: Counter[str] = Counter()
        self.file_log: list[tuple[float, str, int]] = []
        self.file_requests: list[tuple[str, str, int]] = []  # (HTTP method, path, status) per file request
        self.lost_answers: list[tuple[str, str]] = []  # (method, how) of every answer lost on purpose
        self._stopping = threading.Event()
        if self.save_file is not None:
            self._restore()

    # -- what survives a restart -----------------------------------------------------------------
    # With `save_file`, the account is a snapshot (`save`) plus a journal of the write calls answered since
    # (`record`): each is appended before its answer is sent, so a process killed at any moment restarts
    # with at least what its clients were told. Replaying a call repeats it exactly: calls are journaled
    # in the order the lock let them run, the id generators are part of the snapshot, and the journal keeps
    # each call's clock. Rare changes (tokens, finished async tickets) take a whole snapshot instead.
    @property
    def journal_file(self) -> Path | None:
        return self.save_file.with_name(self.save_file.name + ".journal") if self.save_file else None

    def save(self) -> None:
        """Write the whole account and the OAuth tokens atomically (a new file, then a rename), then empty
        the journal; the snapshot names the last journal entry it holds, so a kill in between is harmless."""
        if self.save_file is None:
            return
        with self.lock:
            oauth = self.oauth
            data = pickle.dumps({"account": self.account, "request_tokens": oauth.request_tokens,
                                 "access_tokens": oauth.access_tokens, "rng": oauth._rng.getstate(),
                                 "applied": self._journaled})
            self.save_file.parent.mkdir(parents=True, exist_ok=True)
            part = self.save_file.with_name(self.save_file.name + ".part")
            part.write_bytes(data)  # no fsync: a rename is atomic for a killed process; power cuts are not ours
            os.replace(part, self.save_file)
            self._close_journal()
            assert self.journal_file is not None
            self.journal_file.write_bytes(b"")

    def record(self, call: tuple[Any, ...]) -> None:
        """Append an answered write call to the journal (see above)."""
        if self.save_file is None:
            return
        with self.lock:
            if self._journal is None:
                assert self.journal_file is not None
                self._journal = open(self.journal_file, "ab")  # noqa: SIM115 - open until the next snapshot
            self._journaled += 1
            entry = pickle.dumps((self._journaled, call))
            self._journal.write(struct.pack(">I", len(entry)) + entry)
            self._journal.flush()

    def _close_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _restore(self) -> None:
        """The saved account with its journal replayed, if any (the files are the sandbox's own: only `save`
        and `record` write them). From now on the account keeps the files it stops using until the next
        start, which deletes them: a kill between deleting a file and journaling would lose the file."""
        assert self.save_file is not None and self.journal_file is not None
        if self.save_file.exists():
            with open(self.save_file, "rb") as fh:
                saved = pickle.load(fh)  # noqa: S301 - our own file in the user's folder, see save()
            self.account = saved["account"]
            self.oauth.request_tokens, self.oauth.access_tokens = saved["request_tokens"], saved["access_tokens"]
            self.oauth._rng.setstate(saved["rng"])
            self._journaled = saved["applied"]
        for number, call in _journal_entries(self.journal_file):
            if number > self._journaled:
                self._replay(call)
                self._journaled = number
        for photo in self.account.photos.values():  # monotonic clocks restart with the process
            photo.visible_at = 0.0
            if photo.path and self.storage_dir:  # the folder may have moved since
                photo.path = str(Path(self.storage_dir) / Path(photo.path).name)
        for ticket in self.account.tickets.values():
            ticket.created = ticket.ready_at = 0.0
        self.account.keep_retired_files = True

    def _replay(self, entry: tuple[Any, ...]) -> None:
        kind, *rest = entry
        if kind == "rest":
            name, params, token, perms, consumer, now = rest
        else:
            replace, params, inc, token, perms, consumer, now = rest
        call = api.Call(account=self.account, knobs=self.knobs, params=params, base=self.base_url, perms=perms,
                        token=self.oauth.access_tokens.get(token) if token else None, consumer=consumer,
                        store=self.oauth, now=now)
        with contextlib.suppress(api.ApiError):  # it failed the same way the first time
            if kind == "rest":
                api.dispatch(call, name)
            elif replace and inc is not None:
                api.do_replace(call, inc)
            elif not replace:
                api.do_upload(call, inc, lambda: None)

    def _sweep(self) -> None:
        """Delete the uploads no photo or ticket uses (left by a kill, or retired by a replace)."""
        used = {p.path for p in self.account.photos.values()}
        used |= {(t.pending or {}).get("path") for t in self.account.tickets.values()}
        for path in Path(self.storage_dir).glob("upload-*"):
            if str(path) not in used:
                _unlink(str(path))

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FlickrSandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        if self._own_storage:
            self.storage_dir = tempfile.mkdtemp(prefix="flickr-sandbox-")
        else:
            os.makedirs(self.storage_dir, exist_ok=True)
        if self.save_file is not None:
            with self.lock:
                self._sweep()
                self._settle()
                self.save()  # the journal replayed into a new snapshot
        self._server = _HTTPServer((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"flickr-sandbox-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        srv = self._server
        if srv is None:
            return
        self._server = None
        self._stopping.set()  # release held ("hang") connections first
        srv.shutdown()
        srv.close_all()
        srv.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._own_storage and self.storage_dir:
            shutil.rmtree(self.storage_dir, ignore_errors=True)
        if self.save_file is not None:
            self.save()  # the journal folded into the snapshot: the next start replays nothing

    def __enter__(self) -> FlickrSandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- URLs ------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        return self.base_url + "/services/rest/"

    @property
    def upload_url(self) -> str:
        return self.base_url + "/services/upload/"

    @property
    def replace_url(self) -> str:
        return self.base_url + "/services/replace/"

    @property
    def oauth_url(self) -> str:
        return self.base_url + "/services/oauth/"

    @property
    def request_token_url(self) -> str:
        return self.oauth_url + "request_token"

    @property
    def authorize_url(self) -> str:
        return self.oauth_url + "authorize"

    @property
    def access_token_url(self) -> str:
        return self.oauth_url + "access_token"

    @property
    def static_url(self) -> str:
        """Stand-in for live.staticflickr.com: ``{static_url}{server}/{id}_{secret}_o.{fmt}``."""
        return self.base_url + "/"

    @property
    def urls(self) -> dict[str, str]:
        return {"rest": self.rest_url, "upload": self.upload_url, "replace": self.replace_url,
                "request_token": self.request_token_url, "authorize": self.authorize_url,
                "access_token": self.access_token_url, "static": self.static_url}

    @property
    def api_key(self) -> str:
        return self.oauth.api_key

    @property
    def api_secret(self) -> str:
        return self.oauth.api_secret

    # -- tokens ----------------------------------------------------------------------------------
    def grant_token(self, perms: str = "write") -> tuple[str, str]:
        """Issue an access token directly (what a completed OAuth dance yields)."""
        at = self.oauth.grant(perms, self.account.user.nsid)
        self.save()
        return at.token, at.secret

    # -- pointing migrator at it -----------------------------------------------------------------
    def endpoint_options(self) -> list[str]:
        """``-o flickr.*`` arguments naming this sandbox's REST, upload and OAuth endpoints (no credentials)."""
        return _options({"rest_url": self.rest_url, "upload_url": self.upload_url, "oauth_url": self.oauth_url})

    def app_options(self) -> list[str]:
        """The endpoints plus the registered application's key and secret: what ``migrator auth`` needs."""
        return _options({"api_key": self.api_key, "api_secret": self.api_secret}) + self.endpoint_options()

    def cli_options(self, perms: str = "write", **overrides: Any) -> list[str]:
        """``-o flickr.*`` arguments pointing a ``migrator run`` at this sandbox: :meth:`app_options` and
        an access token with ``perms`` granted now.

        No pacing (``rate=0``) and short retry pauses (``backoff=0.05``), so test runs stay quick;
        ``overrides`` sets other option values (``backoff=0.01``, ``rate=1`` ...)."""
        token, secret = self.grant_token(perms)
        return self.app_options() + _options({"oauth_token": token, "oauth_token_secret": secret, "rate": 0,
                                              "backoff": 0.05, **overrides})

    def authorize(self, request_token: str, perms: str = "write") -> str:
        """The user's click on the authorise page; returns the verifier."""
        verifier = self.oauth.authorize(request_token, perms)
        self.save()
        return verifier

    def revoke_token(self, token: str) -> None:
        """Later calls with this token fail with 98 (invalid auth token)."""
        self.oauth.revoke(token)
        self.save()

    # -- flickrapi helpers -----------------------------------------------------------------------
    def configure_flickrapi(self, flickr: Any) -> Any:
        """Point a ``flickrapi.FlickrAPI`` instance (not the class) at this sandbox."""
        flickr.REST_URL = self.rest_url
        flickr.UPLOAD_URL = self.upload_url
        flickr.REPLACE_URL = self.replace_url
        oa = flickr.flickr_oauth
        oa.REQUEST_TOKEN_URL = self.request_token_url
        oa.AUTHORIZE_URL = self.authorize_url
        oa.ACCESS_TOKEN_URL = self.access_token_url
        return flickr

    def flickrapi_client(self, perms: str | None = "write", format: str = "parsed-json",  # noqa: A002
                         **kwargs: Any) -> Any:
        """A ``flickrapi.FlickrAPI`` talking to this sandbox with an in-memory token
        (``perms=None``: no token). Nothing is written to ``~/.flickr``."""
        import flickrapi
        from flickrapi.auth import FlickrAccessToken

        token = None
        if perms:
            t, s = self.grant_token(perms)
            u = self.account.user
            token = FlickrAccessToken(t, s, perms, u.realname, u.username, u.nsid)
        kwargs.setdefault("store_token", False)
        flickr = flickrapi.FlickrAPI(self.api_key, self.api_secret, token=token, format=format, **kwargs)
        return self.configure_flickrapi(flickr)

    # -- bookkeeping -----------------------------------------------------------------------------
    def _record(self, name: str) -> None:
        with self._count_lock:
            self.calls[name] += 1
            self.call_log.append((time.monotonic(), name))

    def take_loss(self, method: str) -> str | None:
        """How the answer to this call of ``method`` is lost (``Knobs.lose_answer``), recorded; or None."""
        how = self.knobs.take_loss(method)
        if how is not None:
            with self._count_lock:
                self.lost_answers.append((method, how))
        return how

    @property
    def signatures(self) -> set[str]:
        """Every ``oauth_signature`` the sandbox received (for tests that prove none leaks)."""
        return set(self.oauth.signatures_seen)

    def _record_oauth(self, name: str) -> None:
        with self._count_lock:
            self.oauth_calls[name] += 1

    def _record_file(self, verb: str, path: str, status: int) -> None:
        with self._count_lock:
            self.file_log.append((time.monotonic(), path, status))
            self.file_requests.append((verb, path, status))

    @property
    def file_methods(self) -> Counter[str]:
        """File requests by HTTP method (GET, HEAD), as ``calls`` counts REST calls by API method."""
        with self._count_lock:
            return Counter(verb for verb, _, _ in self.file_requests)

    def reset_counters(self) -> None:
        with self._count_lock:
            self.calls.clear()
            self.call_log.clear()
            self.oauth_calls.clear()
            self.file_log.clear()
            self.file_requests.clear()
            self.lost_answers.clear()

    def _settle(self) -> None:
        waiting = sum(t.complete == 0 for t in self.account.tickets.values())
        api.settle_tickets(self.account, self.knobs, _unlink)
        if sum(t.complete == 0 for t in self.account.tickets.values()) != waiting:
            self.save()  # photos created by finished tickets: saved before any answer tells of them

    # -- account ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-able dump of the whole account."""
        with self.lock:
            self._settle()
            st = self.account.state()
            st["tickets"] = [{"id": t.id, "complete": t.complete, "photo_id": t.photo_id}
                             for t in self.account.tickets.values()]
        json.dumps(st)  # guarantee JSON-ability
        return st

    def seed_account(self, n_photos: int = 60, **kwargs: Any) -> Account:
        """Replace the account with :func:`build_seeded_account` (same seed)."""
        acct = model_build(self.seed, n_photos=n_photos, **kwargs)
        with self.lock:
            self.account = acct
        return acct


def model_build(seed: int, n_photos: int = 60, **kwargs: Any) -> Account:
    return model.build_seeded_account(seed, n_photos=n_photos, **kwargs)

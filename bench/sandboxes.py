"""The sandboxes in a child process, and the benchmark's accounts.

A sandbox answers every request in Python; run inside the harness it would share the GIL with the
baseline clients and the harness itself.  `RemoteSandbox` builds the account and runs the sandbox in
a separate (spawned) process and talks to it over a pipe: call a sandbox method, read an attribute
(counters), set knobs.  Builders and helpers are looked up by name in this module, so only names
and plain values cross the pipe.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
from collections import Counter
from typing import Any

YEAR_2000 = 946684800  # an empty Flickr account created then accepts the 2008+ dates of the backups
ONE_MIB = 1 << 20


# ----------------------------------------------------------------------------------------------
# ipernity accounts


def ipernity_issue(n_docs: int = 250, albums: int = 12, in_albums: float = 0.72) -> Any:
    """The issue's setup: `n_docs` documents (1-30 KB originals) in `albums` albums, with `in_albums` of
    the documents in at least one album (179 of 249 in the issue's account)."""
    from migrator_ipernity.sandbox import build_account

    account = build_account(0, n_docs=n_docs)
    in_folders = {a for f in account.folders for a in f.album_ids}
    for album in sorted((a for a in account.albums if a.album_id not in in_folders), key=lambda a: len(a.doc_ids)):
        if len(account.albums) <= albums:
            break
        account.albums.remove(album)  # the smallest albums go
    biggest = max(account.albums, key=lambda a: len(a.doc_ids))
    account.reindex()
    for doc in account.docs:
        if sum(1 for d in account.docs if d.album_ids) >= in_albums * n_docs:
            break
        if not doc.album_ids:
            biggest.doc_ids.append(doc.doc_id)
            doc.album_ids.append(biggest.album_id)
    account.reindex()
    return account


def ipernity_scale(n_docs: int, original_bytes: int = 300) -> Any:
    """`n_docs` documents with small originals (the scaling series)."""
    from migrator_ipernity.sandbox import build_account

    return build_account(0, n_docs=n_docs, original_bytes=original_bytes)


def ipernity_big_video(n_docs: int = 20, video_bytes: int = 2 << 30) -> Any:
    """Small documents plus one video of `video_bytes` (a 1 MiB random block repeated: cheap to build)."""
    from migrator_ipernity.sandbox import Original, build_account

    account = build_account(0, n_docs=n_docs, original_bytes=300)
    doc = next(d for d in account.docs if d.media == "video")
    rng = random.Random("bench big video")
    block = rng.randbytes(ONE_MIB)
    content = block * (video_bytes // ONE_MIB) + block[:video_bytes % ONE_MIB]
    o = doc.original

    class HeldOriginal(Original):
        def content(self) -> bytes:  # the same object every time: the sandbox sends it without a copy
            return content

    doc.original = HeldOriginal(filename=o.filename, ext=o.ext, bytes=video_bytes,
                                md5=hashlib.md5(content).hexdigest(), secret=o.secret,
                                content_key=o.content_key, w=o.w, h=o.h, length=o.length)
    return account


def ipernity_summary(sb: Any) -> dict[str, Any]:
    account = sb.account
    return {"docs": len(account.docs), "albums": len(account.albums),
            "in_albums": sum(1 for d in account.docs if d.album_ids),
            "album_entries": sum(len(a.doc_ids) for a in account.albums),
            "with_comments": sum(1 for d in account.docs if d.comments),
            "bytes": sum(d.original.bytes for d in account.docs),
            "media": dict(Counter(d.media for d in account.docs))}


# ----------------------------------------------------------------------------------------------
# Flickr accounts


def flickr_mirror(n_items: int = 200, sets: int = 10, with_comments: int = 84, videos: int = 20) -> Any:
    """The issue's Flickr account: `n_items` items in `sets` sets, `with_comments` of them commented,
    `videos` videos; the sandbox's seeded account adjusted to those counts."""
    from migrator_flickr.sandbox import media
    from migrator_flickr.sandbox.model import Comment, Photoset, build_seeded_account, set_original

    account = build_seeded_account(0, n_photos=n_items)
    items = list(account.photos.values())
    for k, p in enumerate([p for p in items if p.media == "video"]):
        if k >= videos:  # too many videos: the extra ones become photos
            p.media, p.original_format, p.width, p.height = "photo", "jpg", 320, 240
            set_original(p, media.make_jpeg(320, 240, comment=f"bench photo {p.id}"))
    for k, p in enumerate(p for p in items if p.media == "photo"):
        if sum(p.media == "video" for p in items) >= videos:
            break
        if k % 7 == 3:
            p.media, p.original_format, p.width, p.height = "video", "mp4", 640, 360
            set_original(p, media.make_video(f"bench:{p.id}", size=4096))
    commented = [p.id for p in items if p.id in account.comments]
    for p in items:
        if len(commented) >= with_comments:
            break
        if p.id not in account.comments:
            account.comments[p.id] = [Comment(id=account.new_comment_id(), photo_id=p.id, author="48600090482@N01",
                                              authorname="alice_pics", realname="Alice",
                                              datecreate=p.date_posted + 3600, text="Nice one")]
            commented.append(p.id)
    for pid in commented[with_comments:]:
        del account.comments[pid]
    k = 0
    while len(account.photosets) < sets:
        members = [p.id for p in items[k * 13 % len(items)::17]][:12] or [items[0].id]
        created = items[0].date_posted + 86400 * (200 + k)
        account.photosets.append(Photoset(id=account.new_set_id(), title=f"Bench set {k}", description="",
                                          primary=members[0], photos=members, date_create=created,
                                          date_update=created + 60, secret=account.new_secret()))
        k += 1
    del account.photosets[sets:]
    return account


def flickr_empty() -> Any:
    from migrator_flickr.sandbox.model import Account

    return Account.empty(0, "sandbox", created_at=YEAR_2000)


def flickr_summary(sb: Any) -> dict[str, Any]:
    account = sb.account
    in_sets = {pid for s in account.photosets for pid in s.photos}
    photos = list(account.photos.values())
    return {"items": len(photos), "videos": sum(p.media == "video" for p in photos),
            "sets": len(account.photosets),
            "set_photo_counts": [sum(account.photos[i].media == "photo" for i in s.photos if i in account.photos)
                                 for s in account.photosets],
            "with_comments": sum(1 for pid, c in account.comments.items() if c and pid in account.photos),
            "not_in_set": sum(1 for p in photos if p.id not in in_sets)}


def flickr_uploaded(sb: Any) -> dict[str, Any]:
    photos = sb.state()["photos"]
    return {"photos": len(photos), "bytes": sum(int(p["original"]["size"]) for p in photos)}


# ----------------------------------------------------------------------------------------------
# the child process


def _serve(conn: Any, kind: str, builder: str, builder_args: dict[str, Any], knobs: dict[str, Any]) -> None:
    try:
        account = globals()[builder](**builder_args)
        if kind == "ipernity":
            from migrator_ipernity.sandbox import IpernitySandbox

            sb: Any = IpernitySandbox(seed=0, account=account, **knobs).start()
            info = {"api_url": sb.api_url, "auth_url": sb.auth_url, "base_url": sb.base_url,
                    "api_key": sb.api_key, "api_secret": sb.api_secret}
        else:
            from migrator_flickr.sandbox import FlickrSandbox

            sb = FlickrSandbox(seed=0, account=account, **knobs).start()
            info = {**sb.urls, "base_url": sb.base_url, "oauth_url": sb.oauth_url, "api_key": sb.api_key,
                    "api_secret": sb.api_secret, "nsid": sb.account.user.nsid}
    except Exception as exc:  # tell the parent instead of leaving it waiting
        conn.send(("error", repr(exc)))
        return
    conn.send(("ok", info))
    try:
        while (msg := conn.recv()) is not None:
            op, name, args, kwargs = msg
            try:
                if op == "call":
                    result = getattr(sb, name)(*args, **kwargs)
                elif op == "helper":
                    result = globals()[name](sb, *args, **kwargs)
                elif op == "get":
                    value = getattr(sb, name)
                    result = dict(value) if isinstance(value, dict) else value
                else:  # knobs
                    for knob, value in kwargs.items():
                        setattr(sb.knobs, knob, value)
                    result = None
                conn.send(("ok", result))
            except Exception as exc:
                conn.send(("error", repr(exc)))
    finally:
        sb.stop()


class RemoteSandbox:
    """A sandbox (`kind` "ipernity" or "flickr") on an account made by `builder`, in its own process.

    >>> with RemoteSandbox("ipernity", "ipernity_scale", {"n_docs": 1000}, latency=0.05) as sb:  # doctest: +SKIP
    ...     sb.info["api_url"], sb.call("grant_token", perm_doc="read"), sb.get("calls")
    """

    def __init__(self, kind: str, builder: str, builder_args: dict[str, Any] | None = None, **knobs: Any):
        self.kind, self.builder, self.builder_args, self.knobs = kind, builder, builder_args or {}, knobs
        self.info: dict[str, Any] = {}
        self._conn: Any = None
        self._proc: Any = None

    def __enter__(self) -> RemoteSandbox:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.kind, self.builder, self.builder_args, self.knobs),
                                 daemon=True)
        self._proc.start()
        self.info = self._answer()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send(None)
        except OSError:
            pass
        self._proc.join(timeout=30)
        if self._proc.is_alive():
            self._proc.terminate()

    def _answer(self) -> Any:
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"{self.kind} sandbox: {value}")
        return value

    def _ask(self, op: str, name: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send((op, name, args, kwargs))
        return self._answer()

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """A method of the sandbox object (grant_token, reset_counters, cli_options ...)."""
        return self._ask("call", method, *args, **kwargs)

    def helper(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A function of this module called with the sandbox object (ipernity_summary ...)."""
        return self._ask("helper", name, *args, **kwargs)

    def get(self, attribute: str) -> Any:
        """An attribute of the sandbox (counters come back as plain dicts)."""
        return self._ask("get", attribute)

    def set_knobs(self, **knobs: Any) -> None:
        self._ask("knobs", "", **knobs)

    # -- options for `migrator run` ----------------------------------------------------------------
    def ipernity_options(self) -> list[str]:
        return self.call("cli_options")

    def flickr_options(self, perms: str) -> list[str]:
        """The endpoints, the app and a token: nothing else, so the plugin's defaults (rate, burst) apply."""
        token, secret = self.call("grant_token", perms)
        return self.call("app_options") + ["-o", f"flickr.oauth_token={token}",
                                           "-o", f"flickr.oauth_token_secret={secret}"]

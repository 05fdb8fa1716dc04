"""The `ipernity` source: every document and album of the authorized account, with few API calls.

Call plan (reference §10): auth.checkToken; doc.getList newest first, 100 per page, with the extras
that carry dates, counts, geo, the original and its md5; then per new or changed document one doc.get
(description, tags, notes, visibility) and doc.comments.getList only where count.comments > 0; albums
through album.getList (empty=1) + album.get + album.docs.getList. An incremental run stops listing at
the bookmark, so finding nothing new costs 2 calls.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from migrator import AlbumRef, Container, Entry, Item, Option, Original, Source
from migrator.answers import as_int, as_str, obj
from migrator.errors import AuthorizationNeeded, DocumentError, ServiceStopped, UsageError
from migrator.http import TIMEOUT, Connections, Download
from migrator.sandboxes import open_saved
from migrator.spool import Spool
from migrator.tokens import load_token, save_token

from . import mapping
from .client import AUTH_HINT, IpernityClient

API_URL = "https://api.ipernity.com/api/"
AUTH_URL = "https://www.ipernity.com/apps/authorize"
LIST_EXTRAS = "dates,count,geo,original,md5"
DOC_EXTRAS = "tags,notes,geo,md5"
PERM_LEVELS = ("none", "read", "write", "delete")
ALBUM_READERS = 8  # as many as a run's default workers (migrator.run.DEFAULT_JOBS)


@dataclass
class Listed:
    """A list entry: what the run needs before deciding to load the document. Kept in a Spool (on
    disk) until the run reaches it, so an account of 100,000 documents is not held in memory."""

    raw: dict[str, Any]
    doc_id: str
    position: int | None
    bookmark: str | None
    marker: str | None
    title: str = ""
    size: int | None = None

    def row(self) -> list[Any]:
        return [self.raw, self.doc_id, self.position, self.bookmark, self.marker, self.title, self.size]


class IpernitySource(Source):
    name = "ipernity"
    description = "documents and albums of an ipernity account (replaces flip)"
    options = [
        Option("api_key", str, None, "ipernity API key", secret=True, env=("IPERNITY_API_KEY",)),
        Option("api_secret", str, None, "ipernity API secret", secret=True, env=("IPERNITY_API_SECRET",)),
        Option("auth_token", str, None, "token for headless use (else the one `migrator auth ipernity` saved)",
               secret=True, env=("IPERNITY_AUTH_TOKEN",)),
        Option("api_url", str, API_URL, "API endpoint", env=("IPERNITY_API_URL",)),
        Option("auth_url", str, AUTH_URL, "authorization page for `migrator auth ipernity`"),
        Option("startdoc", int, 0, "first document, 1-based in posting order (flip's -startdoc); 0: from the "
               "first one not migrated yet", min=0),
        Option("numdocs", int, 0, "how many documents (flip's -numdocs): from startdoc, or without it the next "
               "ones not migrated yet, oldest first; 0: all", min=0),
        Option("comments", bool, True, "fetch comments"),
        Option("refresh", bool, False, "re-list everything: pick up edited metadata, report deleted documents"),
        Option("timeout", float, TIMEOUT, "seconds to wait for ipernity to connect or send more data, on every "
               "request (API calls and downloads)"),
    ]

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        key, secret = self.config["api_key"], self.config["api_secret"]
        if not key or not secret:
            raise UsageError("ipernity needs an API key and secret: set IPERNITY_API_KEY and IPERNITY_API_SECRET "
                             "(get them at https://www.ipernity.com/apps/key), or try --sandbox")
        timeout = _timeout(self.config)
        token = self.config["auth_token"] or (load_token("ipernity", self.context.config_dir,
                                                         **token_place(self.config)) or {}).get("token")
        if not token:
            raise AuthorizationNeeded(f"ipernity: no authorization token yet: {AUTH_HINT}")
        self.client = IpernityClient(self.config["api_url"], key, secret, token, count=self.context.count_call,
                                     timeout=timeout)
        self.downloads = Connections(timeout=timeout)  # no retries underneath: each Download has its budget
        auth = obj(self.client.call("auth.checkToken").get("auth"))
        level = as_str(obj(auth.get("permissions")).get("doc")) or "none"
        if level not in PERM_LEVELS[1:]:
            raise AuthorizationNeeded(f"ipernity: the token lacks read permission on documents: {AUTH_HINT}")
        self.user_id = as_str(obj(auth.get("user")).get("user_id"))
        self.username = as_str(obj(auth.get("user")).get("username"))
        self._plan: Spool | None = None
        self._announced: int | None = None  # the document total the listing's first page announced
        self._containers: list[Container] = []
        self._memberships: dict[str, list[AlbumRef]] = {}

    def account(self) -> str:
        return self.user_id

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            self.downloads.close()
            self.client.connections.close()
        if getattr(self, "_plan", None) is not None:
            self._plan.close()

    def total(self) -> int:
        return len(self.plan())

    # -- listing --------------------------------------------------------------------------------
    def plan(self) -> Spool:
        """The documents this run looks at, newest first as listed (rows of Listed); albums are read when
        anything is new, or when an earlier run stopped before it had finished them. When they will be
        read anyway (a full listing, albums pending), they are read alongside the listing pages: both are
        chains of requests one after another, and the first document waits for both."""
        if self._plan is None:
            listed: Spool | None = None
            early = self._full() or bool(self.context.containers_pending)
            try:
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ipernity-albums") as side:
                    albums = side.submit(self._read_albums) if early else None
                    listed = self._list()
                    if self.config["numdocs"] and not self.config["startdoc"]:
                        listed = self._next(listed, self.config["numdocs"])
                    if albums is not None:
                        albums.result()
                    elif listed:
                        self._read_albums()
            except DocumentError as exc:  # without the list or the albums the run cannot go on
                raise ServiceStopped(f"{exc}; nothing was lost: rerun later", self._remaining(listed)) from None
            except ServiceStopped as exc:  # e.g. the quota ran out while reading albums or listing
                if exc.remaining is None:
                    exc.remaining = self._remaining(listed)
                raise
            self._plan = listed
        return self._plan

    def _remaining(self, listed: Spool | None) -> int | None:
        """How many documents a run stopped while planning leaves: the listing's, else the total its first
        page announced (all of the account's documents are left when a full listing stops)."""
        if listed is not None:
            return len(listed)
        return self._announced if self._full() and not self._partial() else None

    def _full(self) -> bool:
        return bool(self.config["refresh"] or self.context.bookmark is None)

    def _partial(self) -> bool:
        """A range of positions (startdoc): the listing ignores the bookmark and does not move it."""
        return bool(self.config["startdoc"])

    def _list(self) -> Spool:
        bookmark = None if (self.config["refresh"] or self._partial()) else self.context.bookmark
        start, count = self.config["startdoc"], self.config["numdocs"]
        listed, present = Spool(), set[str]()
        index = 0
        for collection, items in self.client.pages("doc.getList", "docs", "doc", user_id=self.user_id,
                                                   extra=LIST_EXTRAS):
            total = as_int(collection.get("total")) or 0
            self._announced = self._announced if self._announced is not None else total
            if start and index == 0 and collection.get("total") is not None and start > total:
                raise UsageError(f"ipernity.startdoc={start} is past the last document: the account has {total} "
                                 "(positions count from 1, the oldest)")
            for raw in items:
                position = total - index if total else None
                index += 1
                entry = self._listed(raw, position)
                if bookmark and entry.bookmark and entry.bookmark <= bookmark:
                    return listed
                if start and position is not None and (position < start or (count and position >= start + count)):
                    continue
                listed.append(entry.row())
                present.add(entry.doc_id)
            if start and total and index > total - start:
                break
        if self.config["refresh"] and not self._partial():
            self._report_deleted(present)
        return listed

    def _next(self, listed: Spool, count: int) -> Spool:
        """numdocs without startdoc, as flip counts from the first document it has not downloaded: the oldest
        listed ones up to the `count`-th that no sink has stored yet. Entries keep their bookmarks, so the
        bookmark moves over them and the next run goes on after them."""
        known, kept, new = self.context.known_ids("ipernity"), 0, 0
        for row in reversed(listed):  # oldest first
            if new == count:
                break
            kept += 1
            new += Listed(*row).doc_id not in known
        selected = Spool()
        for i in range(len(listed) - kept, len(listed)):
            selected.append(listed[i])
        listed.close()
        return selected

    def _listed(self, raw: dict[str, Any], position: int | None) -> Listed:
        doc_id = as_str(raw.get("doc_id"))
        dates = obj(raw.get("dates"))
        posted = as_int(dates.get("posted_at"))
        bookmark = None
        if posted and doc_id and not self._partial():
            bookmark = f"{posted:012d}:{doc_id.zfill(15)}"
        marker = None
        if dates.get("last_update_at") is not None:
            marker = f"{as_str(dates.get('last_update_at'))}/{as_str(dates.get('last_comment_at'))}"
        return Listed(raw, doc_id or f"position-{position}", position, bookmark, marker,
                      as_str(raw.get("title")), as_int(obj(raw.get("original")).get("bytes")))

    def _report_deleted(self, present: set[str]) -> None:
        for doc_id in sorted(self.context.known_ids("ipernity") - present):
            self.context.note_deleted("ipernity", doc_id)

    def _read_albums(self) -> None:
        """Every album with its description and ordered members; albums are read a few at a time, as a
        user with hundreds of them would otherwise wait minutes before the first document."""
        albums: list[dict[str, Any]] = []
        for _, items in self.client.pages("album.getList", "albums", "album", user_id=self.user_id, empty=1):
            albums.extend(i for i in items if as_str(i.get("album_id")))
        with ThreadPoolExecutor(max_workers=ALBUM_READERS, thread_name_prefix="ipernity-albums") as pool:
            details = list(pool.map(self._read_album, albums))
        for position, (raw, (detail, members)) in enumerate(zip(albums, details), 1):
            album = mapping.album(raw, detail, members, position)
            for place, doc_id in enumerate(members, 1):
                self._memberships.setdefault(doc_id, []).append(AlbumRef(album.id, album.title, place))
            self._containers.append(album)

    def _read_album(self, raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        album_id = as_str(raw.get("album_id"))
        detail = obj(self.client.call("album.get", album_id=album_id).get("album"))
        members: list[str] = []
        if as_int(obj(raw.get("count")).get("docs")) != 0:  # an empty album needs no docs call
            for _, items in self.client.pages("album.docs.getList", "album", "doc", album_id=album_id):
                members.extend(as_str(d.get("doc_id")) for d in items if d.get("doc_id") is not None)
        return detail, members

    def entries(self) -> Iterator[Entry]:
        for row in reversed(self.plan()):  # oldest first
            listed = Listed(*row)
            yield Entry(source="ipernity", id=listed.doc_id, load=lambda listed=listed: self._load(listed),
                        updated_at=listed.marker, bookmark=listed.bookmark,
                        size=listed.size, title=listed.title)

    def containers(self) -> Iterator[Container]:
        self.plan()
        return iter(self._containers)

    # -- loading one document ----------------------------------------------------------------------
    def _load(self, listed: Listed) -> Item:
        raw = listed.raw
        if not as_str(raw.get("doc_id")):
            raise DocumentError(f"ipernity listed a document without an id at position {listed.position}")
        doc = obj(self.client.call("doc.get", doc_id=listed.doc_id, extra=DOC_EXTRAS).get("doc"))
        if not doc:
            raise DocumentError(f"ipernity answered doc.get for {listed.doc_id} without a doc block")
        count = obj(doc.get("count")) or obj(raw.get("count"))
        raw_comments: list[dict[str, Any]] = []
        if self.config["comments"] and (as_int(count.get("comments")) or 0) > 0:
            for _, items in self.client.pages("doc.comments.getList", "comments", "comment", doc_id=listed.doc_id):
                raw_comments.extend(items)
        try:
            record = mapping.document(raw, doc, raw_comments, listed.position,
                                      self._memberships.get(listed.doc_id, []))
        except (TypeError, ValueError, KeyError) as exc:
            raise DocumentError(f"ipernity document {listed.doc_id}: malformed answer ({exc})") from None
        block = mapping.original(doc, raw)
        url = as_str(block.get("url"))
        if not url:
            raise DocumentError(f"ipernity gives no original for document {listed.doc_id}; check that the token "
                                "belongs to the owner")
        label = f"ipernity:{record.id} {record.title[:40]!r}"
        opener = Download(self.downloads, url, label, self.client.policy)
        return Item(record, Original(opener, label, size=record.file.size, md5=record.file.md5))

    # -- authorization and sandbox --------------------------------------------------------------
    @classmethod
    def authorize(cls, config: dict[str, Any], context: Any) -> None:
        key, secret = config["api_key"], config["api_secret"]
        if not key or not secret:
            raise UsageError("set IPERNITY_API_KEY and IPERNITY_API_SECRET first "
                             "(get them at https://www.ipernity.com/apps/key)")
        client = IpernityClient(config["api_url"], key, secret, count=context.count_call, timeout=_timeout(config))
        frob = as_str(obj(client.call("auth.getFrob").get("auth")).get("frob"))
        link = {"api_key": key, "frob": frob, "perm_doc": "read"}
        link["api_sig"] = client.signed(None, link)["api_sig"]
        click.echo("1. Open this address in a browser, sign in to ipernity and approve read access:")
        click.echo(f"   {config['auth_url']}?{urlencode(link)}")
        click.echo("2. Then press Enter here.")
        sys.stdin.readline()
        auth = obj(client.call("auth.getToken", frob=frob).get("auth"))
        token, user = as_str(auth.get("token")), obj(auth.get("user"))
        if not token:
            raise AuthorizationNeeded("ipernity gave no token: approve the request in the browser, then run "
                                      "`migrator auth ipernity` again")
        place = token_place(config)
        path = save_token("ipernity", {"token": token, "user_id": as_str(user.get("user_id")),
                                       "username": as_str(user.get("username"))}, context.config_dir,
                          endpoint=place["endpoint"], key=place["key"])
        click.echo(f"Authorized as {as_str(user.get('username')) or '?'}; token saved in {path} "
                   "(readable only by you).")

    @classmethod
    def sandbox(cls, workdir: Path) -> contextlib.AbstractContextManager[dict[str, Any]]:
        return _sandbox(workdir)

    @classmethod
    def sandbox_summary(cls, workdir: Path) -> list[str]:
        from .sandbox_commands import summary

        return summary(workdir)


def token_place(config: dict[str, Any]) -> dict[str, Any]:
    """Which token file belongs to these options: the API endpoint and key (`migrator.tokens`); the file
    saved before tokens were kept per endpoint still counts for ipernity itself."""
    return {"endpoint": config["api_url"], "key": config["api_key"], "legacy": config["api_url"] == API_URL}


def _timeout(config: dict[str, Any]) -> float:
    timeout = config.get("timeout", TIMEOUT)
    if not isinstance(timeout, (int, float)) or not timeout > 0:
        raise UsageError(f"ipernity.timeout must be a number of seconds above 0, not {timeout!r}")
    return float(timeout)


SANDBOX_FILE = "ipernity.sandbox"  # the emulator's saved account, in its sandbox folder


@contextlib.contextmanager
def _sandbox(workdir: Path) -> Iterator[dict[str, Any]]:
    """The ipernity emulator, its account kept in `workdir` from run to run; the first time, the sandbox
    owner's approval is given at once and the token saved in `workdir` (see `migrator auth ipernity
    --sandbox` for the whole flow), so a run needs no step of its own."""
    from .sandbox import IpernitySandbox

    sb = open_saved("ipernity account", workdir,
                    lambda port: IpernitySandbox(seed=0, port=port, save_file=workdir / SANDBOX_FILE))
    try:
        values = {"api_url": sb.api_url, "auth_url": sb.auth_url, "api_key": sb.api_key, "api_secret": sb.api_secret}
        place = token_place(values)
        saved = load_token("ipernity", workdir, **place) or {}
        if sb.auth_store.lookup(str(saved.get("token", "")), sb.api_key) is None:
            user = sb.account.user
            save_token("ipernity", {"token": sb.grant_token(perm_doc="read"), "user_id": user.user_id,
                                    "username": user.username}, workdir, endpoint=place["endpoint"], key=place["key"])
        yield values
    finally:
        sb.stop()

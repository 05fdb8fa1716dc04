"""The `flickr` sink: replays documents and albums onto a Flickr account, exactly once.

Every remote call that creates something goes through intent → look up → create: an upload through
`identity.PhotoIndex` (machine tag `migrator:<source>=<id>` on every photo), a photoset through
`photosets.Photosets`. Reads and updates that set a value are retried by the client; creating calls
are sent once, and a lost answer is resolved by looking before sending again. Photos and sets that a
person deleted on Flickr are normal: sets are made again, photos left out and reported (or uploaded
again with `restore_deleted`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from calendar import timegm
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from migrator import Container, Document, Item, Option, Sink, Stored, StoredRecord
from migrator.errors import (
    AnswerLost,
    AuthorizationNeeded,
    DocumentError,
    QuotaExceeded,
    SkipDocument,
    UsageError,
)
from migrator.licenses import ALL_RIGHTS_RESERVED, canonical, service_code
from migrator.tokens import save_token

from .client import (
    AUTH_HINT,
    CONNECTION_OPTIONS,
    FlickrCallError,
    FlickrClient,
    build_api,
    connect,
    machine_tag,
    quote_tags,
    require_keys,
)
from .identity import PhotoIndex
from .licenses import FLICKR
from .photosets import RESTORE_HINT, Photosets

GRANULARITY = {"second": 0, "day": 0, "month": 4, "year": 6, "circa": 8}
SAFETY = {1: (1, 1), 2: (2, 1), 3: (3, 2)}  # record safety → (safety_level, hidden)
DELETED = "was deleted on Flickr"


class PhotoGone(Exception):
    """A photo the state knows is no longer on Flickr (deleted by hand)."""


class FlickrSink(Sink):
    name = "flickr"
    description = "uploads photos and videos with their metadata and albums to Flickr (replaces flop)"
    options = [
        *CONNECTION_OPTIONS,
        Option("privacy", str, "keep", "keep the source's visibility, or force private", choices=("keep", "private")),
        Option("comments", str, "off", "off, or append the source's comments to the description",
               choices=("off", "description")),
        Option("restore_deleted", bool, False, "upload again the photos deleted on Flickr by hand (off: leave "
                                               "them out of their sets and report them)"),
    ]

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        self.client = connect(self.config, self.context, perms="write")
        login = self.client.call("flickr.test.login").get("user") or {}
        self.nsid = str(login.get("id") or "")
        if not self.nsid:
            raise AuthorizationNeeded(f"Flickr did not say who the token belongs to: {AUTH_HINT}")
        self.limits = self.client.call("flickr.people.getUploadStatus").get("user") or {}
        self._report_limits()
        self._lock = threading.RLock()
        self.photos = PhotoIndex(self.client, self.context, self._lock)
        self.sets = Photosets(self.client, self.context, self._lock)
        self._upload_license: str | None = None
        self._workdir = _spool_folder(Path(self.context.workdir))

    def account(self) -> str:
        return self.nsid

    def prepare(self) -> None:
        """With restore_deleted: documents whose photo is no longer on Flickr are migrated again."""
        if not self.config["restore_deleted"] or self.context.dry_run:
            return
        present = self.photos.relist()
        for record in self.context.stored_records():
            gone = record.status == "done" and bool(record.ref) and record.ref not in present
            if gone or (record.status == "skipped" and DELETED in (record.last_error or "")):
                self.photos.forget(f"{record.source}:{record.id}")
                self.context.redo(record.source, record.id, f"{DELETED}: uploading it again")

    def close(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            shutil.rmtree(self._workdir, ignore_errors=True)

    def _report_limits(self) -> None:
        photos = self.limits.get("photos") or {}
        if str(self.limits.get("ispro", "1")) == "0":
            message = "free Flickr account: at most 1,000 items and 50 non-public ones"
            if "remaining" in photos:
                message += (f" ({photos.get('remaining')} items and {photos.get('nonpublic_remaining', '?')} "
                            "non-public left)")
            self.context.warn(message + "; uploads stop with the quota exit code when a limit is reached")

    # -- documents ------------------------------------------------------------------------------
    def store(self, item: Item, previous: StoredRecord | None) -> Stored:
        try:
            return self._store(item, previous)
        except FlickrCallError as exc:  # a refusal no step above expected: this document fails, the run goes on
            raise DocumentError(f"Flickr refused {exc.method}: {exc.message}") from None

    def _store(self, item: Item, previous: StoredRecord | None) -> Stored:
        doc = item.document
        if doc.media not in ("photo", "video"):
            raise SkipDocument(f"Flickr takes only photos and videos, not {doc.media}")
        key = f"{doc.source}:{doc.id}"
        want = self._wanted(doc)
        photo_id, have = self._existing(doc, key, previous)
        warnings: list[str] = []
        if photo_id is not None:
            try:
                self._apply(photo_id, want, have, warnings)
            except PhotoGone:
                if not self.config["restore_deleted"]:
                    raise SkipDocument(f"the photo {DELETED} ({RESTORE_HINT})") from None
                self.photos.forget(key)
                photo_id, have = None, {}
                warnings.append(f"the photo {DELETED}; uploaded again")
        fresh = photo_id is None
        if photo_id is None:
            photo_id, have = self._upload(item, key, want), self._as_uploaded(want)
            have["license"] = self._default_license(photo_id)
            self._apply(photo_id, want, have, warnings)
        elif previous is not None and previous.done and item.original and doc.file and doc.file.size and \
                previous.size and doc.file.size != previous.size:
            warnings.append("the original changed at the source; Flickr keeps the first upload")
        self._place_in_albums(doc, photo_id, have.get("albums", []), fresh)
        want["albums"] = [f"{doc.source}:{a.id}" for a in doc.albums]
        status = "new" if fresh or previous is None or not previous.done else "updated"
        size = doc.file.size if doc.file else None
        return Stored(ref=photo_id, status=status, size=size, data=want, warnings=warnings)

    def _existing(self, doc: Document, key: str, previous: StoredRecord | None) -> tuple[str | None, dict]:
        """The Flickr photo this document already became, and what we know it holds."""
        if previous is not None and previous.ref and previous.status in ("done", "failed") and previous.data:
            return previous.ref, dict(previous.data)
        return self.photos.find(doc, key), {}

    @staticmethod
    def _as_uploaded(want: dict[str, Any]) -> dict[str, Any]:
        """What a fresh upload already holds: the fields the upload itself sets."""
        return {k: want[k] for k in ("title", "description", "tags", "perms", "safety")}

    def _upload(self, item: Item, key: str, want: dict[str, Any]) -> str:
        doc = item.document
        if item.original is None:
            raise DocumentError("nothing to upload: the source gave no file for this document")
        self._check_size(doc)
        fields = {"title": want["title"], "description": want["description"], "tags": want["tags"],
                  "is_public": want["perms"][0], "is_friend": want["perms"][1], "is_family": want["perms"][2],
                  "safety_level": want["safety"][0], "hidden": want["safety"][1]}
        ext = (doc.file.ext if doc.file and doc.file.ext else "jpg").strip(".") or "jpg"
        with self._local_file(item, ext) as path, open(path, "rb") as fileobj:
            self.photos.intend(key)
            try:  # a lost answer is AnswerLost: the retry of this document looks the photo up first
                photo_id = self.client.upload_once(f"upload.{ext}", fileobj, fields)
            except FlickrCallError as exc:
                raise self._upload_error(exc, key) from None
            self.context.add_bytes(os.fstat(fileobj.fileno()).st_size)
        self.photos.remember(key, photo_id)
        return photo_id

    def _default_license(self, photo_id: str) -> str | None:
        """The license a fresh upload gets (the account's default), read once per run from the first one."""
        with self._lock:
            if self._upload_license is None:
                info = self.client.call("flickr.photos.getInfo", photo_id=photo_id).get("photo") or {}
                self._upload_license = canonical(FLICKR, info.get("license")) or ALL_RIGHTS_RESERVED
            return self._upload_license

    def _upload_error(self, exc: FlickrCallError, key: str) -> Exception:
        if exc.code is None:  # a failure without a Flickr code: the photo may exist
            return AnswerLost(f"upload failed ({exc.message}); will check Flickr before uploading again")
        self.photos.abandon(key)  # a definite refusal: nothing was created
        if exc.code in (5, 8):
            return SkipDocument(f"Flickr refused the file ({exc.message})")
        if exc.code in (6, 7):
            return QuotaExceeded(f"Flickr upload limit reached ({exc.message}); free accounts hold 1,000 items "
                                 "and 50 non-public ones: rerun once the account has room (or is Pro)")
        return DocumentError(f"Flickr refused the upload ({exc.message})")

    def _check_size(self, doc: Document) -> None:
        size = doc.file.size if doc.file else None
        block = self.limits.get("videosize" if doc.media == "video" else "filesize") or {}
        limit = int(block.get("maxbytes") or 0)
        if size and limit and size > limit:
            raise SkipDocument(f"{size} bytes is more than Flickr's {limit} byte limit for a {doc.media}")

    @contextlib.contextmanager
    def _local_file(self, item: Item, ext: str) -> Iterator[Path]:
        """The original as a file: the one an earlier sink stored, or the source stream spooled."""
        original = item.original
        assert original is not None
        if original.path is not None and original.path.exists():
            yield original.path
            return
        fd, name = tempfile.mkstemp(suffix=f".{ext}", dir=self._workdir)
        try:
            with os.fdopen(fd, "wb") as out, original.open() as stream:
                while chunk := stream.read(1 << 16):
                    out.write(chunk)
            yield Path(name)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)

    # -- what the photo should look like ----------------------------------------------------------
    def _wanted(self, doc: Document) -> dict[str, Any]:
        tag = machine_tag(doc.source, doc.id)
        perms = [0, 0, 0] if self.config["privacy"] == "private" else [
            int(doc.visibility.public), int(doc.visibility.friends), int(doc.visibility.family)]
        return {"title": doc.title, "description": self._description(doc), "machine_tag": tag,
                "tags": quote_tags([*doc.tags, tag]), "perms": perms, "safety": list(SAFETY.get(doc.safety, (1, 1))),
                "taken": doc.taken_at.replace("T", " ") if doc.taken_at else None,
                "granularity": GRANULARITY.get(doc.taken_granularity or "second", 0),
                "posted": _epoch(doc.posted_at), "geo": [doc.geo.latitude, doc.geo.longitude] if doc.geo else None,
                "license": doc.license}

    def _description(self, doc: Document) -> str:
        if self.config["comments"] != "description" or not doc.comments:
            return doc.description
        lines = [f"{c.author} ({(c.posted_at or '')[:10]}): {c.text}" for c in doc.comments]
        return doc.description + f"\n\n— comments from {doc.source}:\n" + "\n".join(lines)

    def _apply(self, photo_id: str, want: dict[str, Any], have: dict[str, Any], warnings: list[str]) -> None:
        """Bring the photo's metadata to `want` with as few calls as the differences need."""
        try:
            self._apply_changes(photo_id, want, have, warnings)
        except FlickrCallError as exc:
            if exc.code == 1:  # "Photo not found": every photos.* method says so for a deleted photo
                raise PhotoGone(photo_id) from None
            raise

    def _apply_changes(self, photo_id: str, want: dict[str, Any], have: dict[str, Any], warnings: list[str]) -> None:
        if (want["title"], want["description"]) != (have.get("title"), have.get("description")):
            self.client.call("flickr.photos.setMeta", photo_id=photo_id, title=want["title"],
                             description=want["description"])
        if want["tags"] != have.get("tags"):
            self.client.call("flickr.photos.setTags", photo_id=photo_id, tags=want["tags"])
        if want["perms"] != have.get("perms"):
            pub, fr, fa = want["perms"]
            self._try(warnings, "visibility", "flickr.photos.setPerms", photo_id=photo_id, is_public=pub,
                      is_friend=fr, is_family=fa)
        if want["safety"] != have.get("safety"):
            # setSafetyLevel says hidden as 0/1 where the upload says 1 (shown) / 2 (hidden)
            self.client.call("flickr.photos.setSafetyLevel", photo_id=photo_id, safety_level=want["safety"][0],
                             hidden=int(want["safety"][1] == 2))
        if (want["taken"], want["granularity"], want["posted"]) != \
                (have.get("taken"), have.get("granularity"), have.get("posted")):
            self._set_dates(photo_id, want, warnings)
        if want["geo"] != have.get("geo") and want["geo"] is not None:
            self._try(warnings, "location", "flickr.photos.geo.setLocation", photo_id=photo_id,
                      lat=f"{want['geo'][0]:.6f}", lon=f"{want['geo'][1]:.6f}")
        if want["license"] != have.get("license") and want["license"]:
            self._set_license(photo_id, want["license"], warnings)

    def _set_dates(self, photo_id: str, want: dict[str, Any], warnings: list[str]) -> None:
        args = {"date_taken": want["taken"], "date_taken_granularity": want["granularity"] if want["taken"] else None,
                "date_posted": want["posted"]}
        while args.get("date_taken") or args.get("date_posted"):
            try:
                self.client.call("flickr.photos.setDates", photo_id=photo_id, **args)
                return
            except FlickrCallError as exc:
                if exc.code == 1:
                    raise
                if exc.code == 4 and args.get("date_posted"):
                    warnings.append("Flickr refused the posted date (earlier than the account); kept the upload "
                                    "date")
                    args["date_posted"] = None
                elif exc.code in (5, 6) and args.get("date_taken"):
                    warnings.append(f"Flickr refused the date taken {want['taken']} ({exc.message})")
                    args["date_taken"] = args["date_taken_granularity"] = None
                else:
                    warnings.append(f"Flickr refused the dates ({exc.message})")
                    return

    def _set_license(self, photo_id: str, license_id: str, warnings: list[str]) -> None:
        code = service_code(FLICKR, license_id)
        if code is None or code == "7":
            warnings.append(f"Flickr has no settable license for {license_id}; left at the account default")
            return
        self._try(warnings, "license", "flickr.photos.licenses.setLicense", photo_id=photo_id, license_id=code)

    def _try(self, warnings: list[str], what: str, method: str, **params: Any) -> None:
        """A metadata call whose refusal keeps the photo: the reason becomes a warning."""
        try:
            self.client.call(method, **params)
        except FlickrCallError as exc:
            if exc.code == 1:
                raise
            hint = " (set a default geo privacy in your Flickr settings)" if exc.code == 7 and "geo" in method else ""
            warnings.append(f"Flickr refused the {what}: {exc.message}{hint}")

    # -- albums -----------------------------------------------------------------------------------
    def _place_in_albums(self, doc: Document, photo_id: str, already: list[str], fresh: bool) -> None:
        for album in doc.albums:
            album_key = f"{doc.source}:{album.id}"
            if album_key not in already:
                self.sets.place(album_key, album.title, photo_id, fresh)

    def store_container(self, container: Container, previous: StoredRecord | None) -> Stored:
        if container.kind != "album":
            raise SkipDocument("Flickr's API cannot create collections")
        album_key = f"{container.source}:{container.id}"
        members = {ref: m for m in container.members if (ref := self._photo_of(container.source, m))}
        if not members:
            raise SkipDocument("Flickr cannot hold an empty set" if not container.members
                               else "none of its documents is on Flickr")
        self.context.memory_set(f"album:{album_key}", {"title": container.title, "description":
                                                      container.description, "photos": list(members)})
        try:
            set_id, album, warnings = self.sets.finish(album_key, previous,
                                                       lambda p: f"{container.source}:{members.get(p, '?')}")
        except FlickrCallError as exc:
            raise DocumentError(f"Flickr refused {exc.method}: {exc.message}") from None
        done = dict(previous.data) if previous is not None and previous.status == "done" else {}
        status = "unchanged" if done == album and not warnings else "updated" if done else "new"
        return Stored(ref=set_id, status=status, data=album, warnings=warnings)

    def _photo_of(self, source: str, doc_id: str) -> str | None:
        record = self.context.stored(source, doc_id)
        return record.ref if record is not None and record.status == "done" else None

    def finish(self) -> None:
        """Sets left unordered by an earlier run whose album record is known get ordered now."""
        for key in self.context.memory_items("set_dirty:"):
            album_key = key[len("set_dirty:"):]
            if self.context.memory_get(f"album:{album_key}"):
                try:
                    _set_id, _album, warnings = self.sets.finish(album_key, None, lambda p: f"Flickr photo {p}")
                except (FlickrCallError, DocumentError, SkipDocument) as exc:
                    self.context.warn(f"set for {album_key} could not be ordered ({exc}); rerun to retry")
                    continue
                for warning in warnings:
                    self.context.warn(warning)

    # -- authorization and sandbox ----------------------------------------------------------------
    @classmethod

    # -- authorization and sandbox ----------------------------------------------------------------
    @classmethod
    def authorize(cls, config: dict[str, Any], context: Any) -> None:
        require_keys(config)
        api = build_api(config["api_key"], config["api_secret"], config["rest_url"], config["upload_url"],
                        config["oauth_url"])
        api.get_request_token(oauth_callback="oob")
        click.echo("1. Open this address in a browser, sign in to Flickr and allow write access:")
        click.echo(f"   {api.auth_url(perms='write')}")
        click.echo("2. Type the code Flickr shows, then Enter:")
        verifier = sys.stdin.readline().strip()
        if not verifier:
            raise UsageError("no code given: run `migrator auth flickr` again")
        try:
            api.get_access_token(verifier)
        except Exception as exc:  # flickrapi reports a refused code as a plain FlickrError
            raise AuthorizationNeeded(f"Flickr did not accept the code ({type(exc).__name__}); "
                                      "run `migrator auth flickr` again") from None
        token = api.token_cache.token
        saved = {"oauth_token": token.token, "oauth_token_secret": token.token_secret, "perms": token.access_level,
                 "username": token.username, "user_nsid": token.user_nsid, "fullname": token.fullname}
        client = FlickrClient(build_api(config["api_key"], config["api_secret"], config["rest_url"],
                                        config["upload_url"], config["oauth_url"], token), rate=0)
        client.call("flickr.test.login")
        path = save_token("flickr", saved, context.config_dir)
        click.echo(f"Authorized as {token.username}; token saved in {path} (readable only by you).")

    @classmethod
    def sandbox(cls, workdir: Path) -> contextlib.AbstractContextManager[dict[str, Any]]:
        return _sandbox(workdir)


def _spool_folder(workdir: Path) -> Path:
    """A private folder for originals spooled before upload; ones left by killed runs are removed."""
    for stale in workdir.glob("flickr-spool-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = workdir / f"flickr-spool-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _epoch(iso_utc: str | None) -> int | None:
    if not iso_utc:
        return None
    return timegm(time.strptime(iso_utc, "%Y-%m-%dT%H:%M:%SZ"))


@contextlib.contextmanager
def _sandbox(workdir: Path) -> Iterator[dict[str, Any]]:
    from .sandbox import FlickrSandbox
    from .sandbox.model import Account

    # an account old enough that replayed posted dates are accepted
    with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=946684800)) as sb:
        token, secret = sb.grant_token("write")
        yield {"api_key": sb.api_key, "api_secret": sb.api_secret, "oauth_token": token,
               "oauth_token_secret": secret, "rest_url": sb.rest_url, "upload_url": sb.upload_url,
               "oauth_url": sb.oauth_url, "rate": 0.0}
        dump = Path(workdir) / "flickr-sandbox-state.json"
        with contextlib.suppress(OSError):
            import json

            dump.write_text(json.dumps(sb.state(), indent=2, ensure_ascii=False, default=str), "utf-8")

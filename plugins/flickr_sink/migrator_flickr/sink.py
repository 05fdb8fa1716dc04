"""The `flickr` sink: replays documents and albums onto a Flickr account, exactly once.

Exactly once: before an upload the sink writes an intent (plugin memory), after it the photo id. A
document the state does not know is looked up in one paged listing of the account's photos with
their machine tags (`migrator:<source>=<id>`), never by one search per document; that listing also
finds photos flop uploaded earlier. Albums map to photosets by album id; a set is marked as needing
its order and description until both are done.
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
import requests

from migrator import Container, Document, Item, Option, Sink, Stored, StoredRecord
from migrator.errors import (
    AuthorizationNeeded,
    DocumentError,
    QuotaExceeded,
    SkipDocument,
    TransientError,
    UsageError,
)
from migrator.licenses import ALL_RIGHTS_RESERVED, FLICKR, canonical, service_code
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

GRANULARITY = {"second": 0, "day": 0, "month": 4, "year": 6, "circa": 8}
SAFETY = {1: (1, 1), 2: (2, 1), 3: (3, 2)}  # record safety → (safety_level, hidden)
INDEX_EXTRAS = "machine_tags,tags,date_taken,date_upload"
SLACK = 600  # seconds of clock difference tolerated between this machine and Flickr


class FlickrSink(Sink):
    name = "flickr"
    description = "uploads photos and videos with their metadata and albums to Flickr (replaces flop)"
    options = [
        *CONNECTION_OPTIONS,
        Option("privacy", str, "keep", "keep the source's visibility, or force private", choices=("keep", "private")),
        Option("comments", str, "off", "off, or append the source's comments to the description",
               choices=("off", "description")),
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
        self._index: dict[str, str] | None = None
        self._index_time = 0.0
        self._flags: dict[str, bool] = {}
        self._upload_license: str | None = None
        self._flop: dict[tuple[str, str], list[str]] = {}
        self._set_titles: dict[str, list[str]] | None = None
        self._photo_sets: dict[str, set[str]] = {}
        self._workdir = _spool_folder(Path(self.context.workdir))

    def account(self) -> str:
        return self.nsid

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
        fresh = photo_id is None
        if fresh:
            photo_id = self._upload(item, key, want)
            have = {k: want[k] for k in ("title", "description", "tags", "perms", "safety")}
            have["license"] = self._default_license(photo_id)
            status = "new"
        else:
            status = "updated" if previous is not None and previous.done else "new"
            if previous is not None and previous.done and item.original and doc.file and doc.file.size and \
                    previous.size and doc.file.size != previous.size:
                warnings.append("the original changed at the source; Flickr keeps the first upload")
        self._apply(photo_id, want, have, warnings)
        self._place_in_albums(doc, photo_id, have.get("albums", []), fresh)
        want["albums"] = [f"{doc.source}:{a.id}" for a in doc.albums]
        size = doc.file.size if doc.file else None
        return Stored(ref=photo_id, status=status, size=size, data=want, warnings=warnings)

    def _existing(self, doc: Document, key: str, previous: StoredRecord | None) -> tuple[str | None, dict]:
        """The Flickr photo this document already became, and what we know it holds."""
        if previous is not None and previous.ref and previous.status in ("done", "failed") and previous.data:
            return previous.ref, dict(previous.data)
        remembered = self.context.memory_get(f"photo:{key}")
        if remembered:  # uploaded by a run that died before its metadata was done
            return str(remembered), {}
        intent = self.context.memory_get(f"intent:{key}")
        if intent is None and self._known_before("account_known"):
            return None, {}  # a document this account never saw: no lookup needed
        found = self._lookup(doc, intent)
        if found is None and intent is not None:
            self.context.memory_delete(f"intent:{key}")
        return found, {}

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
            self.context.memory_set(f"intent:{key}", {"at": int(time.time()), "tag": want["machine_tag"]})
            try:
                photo_id = self.client.upload_once(f"upload.{ext}", fileobj, fields)
            except FlickrCallError as exc:
                raise self._upload_error(exc, doc) from None
            except (requests.ConnectionError, requests.Timeout) as exc:  # lost answer: look before a retry
                raise TransientError(f"upload interrupted ({type(exc).__name__}); will check Flickr before "
                                     "uploading again") from None
            self.context.add_bytes(os.fstat(fileobj.fileno()).st_size)
        self.context.memory_set(f"photo:{key}", photo_id)
        self.context.memory_delete(f"intent:{key}")
        self.context.memory_set("account_known", True)
        return photo_id

    def _default_license(self, photo_id: str) -> str | None:
        """The license a fresh upload gets (the account's default), read once per run from the first one."""
        with self._lock:
            if self._upload_license is None:
                info = self.client.call("flickr.photos.getInfo", photo_id=photo_id).get("photo") or {}
                self._upload_license = canonical(FLICKR, info.get("license")) or ALL_RIGHTS_RESERVED
            return self._upload_license

    def _upload_error(self, exc: FlickrCallError, doc: Document) -> Exception:
        if exc.code in (5, 8):
            return SkipDocument(f"Flickr refused the file ({exc.message})")
        if exc.code in (6, 7):
            return QuotaExceeded(f"Flickr upload limit reached ({exc.message}); free accounts hold 1,000 items "
                                 "and 50 non-public ones: rerun once the account has room (or is Pro)")
        if exc.code is None:  # HTTP trouble: the photo may or may not exist, the intent resolves it
            return TransientError(f"upload interrupted ({exc.message}); will check before uploading again")
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
            hint = " (set a default geo privacy in your Flickr settings)" if exc.code == 7 and "geo" in method else ""
            warnings.append(f"Flickr refused the {what}: {exc.message}{hint}")

    # -- finding what is already there --------------------------------------------------------------
    def _lookup(self, doc: Document, intent: dict[str, Any] | None) -> str | None:
        """A photo carrying this document's machine tag, or flop's upload of it; from one listing."""
        with self._lock:
            if self._index is None:
                self._build_index()
            assert self._index is not None
            if intent is not None and intent.get("at", 0) >= self._index_time - SLACK:
                self._index_since(int(intent["at"]) - SLACK)  # uploaded after our listing: look again
            found = self._index.get(machine_tag(doc.source, doc.id).lower())
            if found is None and doc.source == "ipernity":
                candidates = self._flop.get((doc.title, (doc.taken_at or "").replace("T", " ")), [])
                if candidates:
                    found = candidates.pop(0)  # flop's upload: adopt it (machine tag added by setTags)
            return found

    def _build_index(self) -> None:
        """The account's photos with their machine tags, from one paged people.getPhotos: all of them
        when this account is new to the state (or the state was lost), else only those uploaded since
        the oldest pending upload intent."""
        self._index, self._index_time = {}, time.time()
        since = None
        if self._known_before("account_known"):
            intents = self.context.memory_items("intent:").values()
            since = min((int(i.get("at", 0)) for i in intents), default=int(self._index_time)) - SLACK
        self._index_since(since)
        self.context.memory_set("account_known", True)

    def _index_since(self, since: int | None) -> None:
        assert self._index is not None
        extra = {"min_upload_date": since} if since else {}
        for photo in self.client.pages("flickr.people.getPhotos", "photos", "photo", user_id="me",
                                       extras=INDEX_EXTRAS, **extra):
            tags = str(photo.get("machine_tags") or "").split()
            ours = [t for t in tags if t.lower().startswith("migrator:")]
            for tag in ours:
                self._index.setdefault(tag.lower(), str(photo["id"]))
            if not ours and since is None and "ipernity" in str(photo.get("tags") or "").split():
                taken = str(photo.get("datetaken") or "")
                self._flop.setdefault((str(photo.get("title") or ""), taken), []).append(str(photo["id"]))

    def _known_before(self, flag: str) -> bool:
        """Whether the state knew this account before this run (flags set during the run don't count)."""
        with self._lock:
            if flag not in self._flags:
                self._flags[flag] = bool(self.context.memory_get(flag))
            return self._flags[flag]

    # -- albums -----------------------------------------------------------------------------------
    def _place_in_albums(self, doc: Document, photo_id: str, already: list[str], fresh: bool) -> None:
        for album in doc.albums:
            album_key = f"{doc.source}:{album.id}"
            if album_key in already:
                continue
            with self._lock:
                # a photo uploaded just now is in no set yet: only the title can find an older set
                set_id = self._set_for(album_key, album.title, None if fresh else photo_id)
                if set_id is None:
                    self._create_set(album_key, album.title, photo_id)
                    continue
            try:
                self.client.call("flickr.photosets.addPhoto", photoset_id=set_id, photo_id=photo_id)
            except FlickrCallError as exc:
                if exc.code == 1:  # the set was deleted on Flickr: forget it, make a new one
                    with self._lock:
                        self.context.memory_delete(f"set:{album_key}")
                        self._create_set(album_key, album.title, photo_id)
                elif exc.code != 3:  # 3: already in the set
                    raise DocumentError(f"cannot add the photo to set {set_id} ({exc.message})") from None
            self.context.memory_set(f"set_dirty:{album_key}", True)

    def _set_for(self, album_key: str, title: str, photo_id: str | None) -> str | None:
        """The photoset of an album: remembered, or found again from its members or a unique title."""
        remembered = self.context.memory_get(f"set:{album_key}")
        if remembered:
            return str(remembered)
        intent = self.context.memory_get(f"set_intent:{album_key}")
        if intent is None and self._known_before("sets_known"):
            return None
        members = [p for p in (photo_id, intent["primary"] if intent else None) if p]
        found = self._find_set(title, members)
        if found:
            self.context.memory_set(f"set:{album_key}", found)
        return found

    def _find_set(self, title: str, photo_ids: list[str]) -> str | None:
        for photo_id in photo_ids:
            contexts = self.client.call("flickr.photos.getAllContexts", photo_id=photo_id).get("set") or []
            matches = [str(s["id"]) for s in contexts if _text(s.get("title")) == (title or "untitled")]
            if len(matches) == 1:
                return matches[0]
        if self._set_titles is None:
            self._set_titles = {}
            for photoset in self.client.pages("flickr.photosets.getList", "photosets", "photoset"):
                self._set_titles.setdefault(_text(photoset.get("title")), []).append(str(photoset["id"]))
        claimed = {str(v) for v in self.context.memory_items("set:").values()}
        same = self._set_titles.get(title or "untitled", [])  # sets that existed before this run, by exact title
        return same[0] if len(same) == 1 and same[0] not in claimed else None

    def _create_set(self, album_key: str, title: str, photo_id: str) -> str:
        self.context.memory_set(f"set_intent:{album_key}", {"primary": photo_id, "at": int(time.time())})
        try:
            answer = self.client.call("flickr.photosets.create", title=title or "untitled", primary_photo_id=photo_id)
        except FlickrCallError as exc:
            raise DocumentError(f"cannot create the Flickr set for album {title!r} ({exc.message})") from None
        set_id = str((answer.get("photoset") or {}).get("id"))
        self.context.memory_set(f"set:{album_key}", set_id)
        self.context.memory_set(f"set_dirty:{album_key}", True)
        self.context.memory_delete(f"set_intent:{album_key}")
        self.context.memory_set("sets_known", True)
        return set_id

    def store_container(self, container: Container, previous: StoredRecord | None) -> Stored:
        if container.kind != "album":
            raise SkipDocument("Flickr's API cannot create collections")
        album_key = f"{container.source}:{container.id}"
        photo_ids = [ref for ref in (self._photo_of(container.source, m) for m in container.members) if ref]
        if not photo_ids:
            raise SkipDocument("Flickr cannot hold an empty set" if not container.members
                               else "none of its documents is on Flickr")
        self.context.memory_set(f"album:{album_key}", {"title": container.title, "description":
                                                      container.description, "photos": photo_ids})
        return self._finish_set(album_key, previous)

    def _photo_of(self, source: str, doc_id: str) -> str | None:
        record = self.context.stored(source, doc_id)
        return record.ref if record is not None and record.status == "done" else None

    def _finish_set(self, album_key: str, previous: StoredRecord | None) -> Stored:
        """Order, membership and description in two calls; the dirty mark goes only when both are done."""
        album = self.context.memory_get(f"album:{album_key}")
        set_id = self.context.memory_get(f"set:{album_key}")
        if set_id is None:
            with self._lock:
                set_id = self._set_for(album_key, album["title"], album["photos"][0]) or \
                    self._create_set(album_key, album["title"], album["photos"][0])
        done = dict(previous.data) if previous is not None and previous.status == "done" else {}
        dirty = bool(self.context.memory_get(f"set_dirty:{album_key}"))
        if dirty or done.get("photos") != album["photos"]:
            self.client.call("flickr.photosets.editPhotos", photoset_id=set_id, primary_photo_id=album["photos"][0],
                             photo_ids=",".join(album["photos"]))
        if dirty or (done.get("title"), done.get("description")) != (album["title"], album["description"]):
            self.client.call("flickr.photosets.editMeta", photoset_id=set_id, title=album["title"] or "untitled",
                             description=album["description"])
        self.context.memory_delete(f"set_dirty:{album_key}")
        status = "unchanged" if done == album and not dirty else "updated" if done else "new"
        return Stored(ref=str(set_id), status=status, data=album)

    def finish(self) -> None:
        """Sets left unordered by an earlier run whose album record is known get ordered now."""
        for key in self.context.memory_items("set_dirty:"):
            album_key = key[len("set_dirty:"):]
            if self.context.memory_get(f"album:{album_key}"):
                self._finish_set(album_key, None)

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


def _text(value: Any) -> str:
    return str(value.get("_content", "")) if isinstance(value, dict) else str(value or "")


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

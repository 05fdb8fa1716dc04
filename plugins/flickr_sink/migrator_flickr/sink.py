"""The `flickr` sink: replays documents and albums onto a Flickr account, exactly once.

Every remote call that creates something goes through intent → look up → create: an upload through
`identity.PhotoIndex` (machine tag `migrator:<source>=<id>` on every photo) and `uploads.Uploads`, a
photoset through `photosets.Photosets`. `metadata.Metadata` writes what differs. Reads and updates
that set a value are retried by the client; creating calls are sent once, and a lost answer is
resolved by looking before sending again. Photos and sets that a person deleted on Flickr are normal:
sets are made again, photos left out and reported (or uploaded again with `restore_deleted`).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from migrator import Container, Document, Item, Loss, Option, Sink, Stored, StoredRecord
from migrator.errors import AuthorizationNeeded, DocumentError, SkipDocument

from . import sandboxed
from .authorization import authorize
from .client import AUTH_HINT, FlickrCallError, connect
from .identity import PhotoIndex
from .losses import losses
from .metadata import Metadata, PhotoGone, as_uploaded, wanted
from .options import SHARED_OPTIONS
from .photosets import RESTORE_HINT, Photosets
from .uploads import Uploads

DELETED = "was deleted on Flickr"


class FlickrSink(Sink):
    name = "flickr"
    container_names = {"album": "set"}
    description = "uploads photos and videos with their metadata and albums to Flickr (replaces flop)"
    concurrency = 4  # uploads carry whole files: 4 keep an uplink busy; `rate` paces the API calls anyway
    options = [
        *SHARED_OPTIONS,
        Option("privacy", str, "keep", "keep the source's visibility, or force private", choices=("keep", "private")),
        Option("restore_deleted", bool, False, "upload again the photos deleted on Flickr by hand (off: leave "
                                               "them out of their sets and report them)"),
        Option("adopt_tagged", str, "ipernity",
               "source names, comma-separated: a photo without a migrator: machine tag that carries, as a plain "
               "tag, the name of the document's source listed here, with the same title and date taken, is an "
               "earlier upload of it and is adopted, not uploaded again (flop tagged its ipernity uploads "
               "`ipernity`); empty: adopt nothing"),
    ]

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        self.client = connect(self.config, self.context, perms="write")
        login = self.client.call("flickr.test.login").get("user") or {}
        self.nsid = str(login.get("id") or "")
        if not self.nsid:
            raise AuthorizationNeeded(f"Flickr did not say who the token belongs to: {AUTH_HINT}")
        limits = self.client.call("flickr.people.getUploadStatus").get("user") or {}
        self._report_limits(limits)
        lock = threading.RLock()
        adopt = {name.strip() for name in self.config["adopt_tagged"].split(",") if name.strip()}
        self.photos = PhotoIndex(self.client, self.context, lock, adopt=frozenset(adopt))
        self.sets = Photosets(self.client, self.context, lock)
        self.metadata = Metadata(self.client, lock, self.context)
        self.uploads = Uploads(self.client, self.context, self.photos, limits)
        self._set_order: list[str] = []  # the sets of this run's albums, in the source's album order

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
            self.uploads.close()

    def _report_limits(self, limits: dict[str, Any]) -> None:
        photos = limits.get("photos") or {}
        if str(limits.get("ispro", "1")) == "0":
            message = "free Flickr account: at most 1,000 items and 50 non-public ones"
            if "remaining" in photos:
                message += (f" ({photos.get('remaining')} items and {photos.get('nonpublic_remaining', '?')} "
                            "non-public left)")
            self.context.warn(message + "; uploads stop with the quota exit code when a limit is reached. Only Pro "
                              "accounts may replace a photo's file: an original that changes at the source is "
                              "reported, and Flickr keeps the first upload")

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
        want = wanted(doc, self.config["privacy"], self.config["comments"])
        photo_id, have = self._existing(doc, key, previous)
        warnings: list[str] = []
        if photo_id is not None:
            try:
                self.metadata.apply(photo_id, want, have, warnings)
            except PhotoGone:
                if not self.config["restore_deleted"]:
                    raise SkipDocument(f"the photo {DELETED} ({RESTORE_HINT})") from None
                self.photos.forget(key)
                photo_id, have = None, {}
                warnings.append(f"the photo {DELETED}; uploaded again")
        fresh = photo_id is None
        if photo_id is None:
            photo_id, have = self.uploads.send(item, key, want), as_uploaded(want)
            have["license"] = self.metadata.default_license(photo_id)
            self.metadata.apply(photo_id, want, have, warnings)
        elif previous is not None and previous.done and item.original and previous.original_differs(doc):
            warnings.append("the original changed at the source; Flickr keeps the first upload")
        placed = False
        for album in doc.albums:
            album_key = f"{doc.source}:{album.id}"
            if album_key not in have.get("albums", []):
                self.sets.place(album_key, album.title, photo_id, fresh)
                placed = True
        want["albums"] = [f"{doc.source}:{a.id}" for a in doc.albums]
        want["md5"] = doc.file.md5 if doc.file else None  # tells a same-size change of the original next time
        if fresh or (previous is not None and not previous.done):
            status = "new"
        else:  # found by its identity (after a lost state too): nothing is created
            status = "unchanged" if want == have and not placed and not warnings else "updated"
        size = doc.file.size if doc.file else None
        return Stored(ref=photo_id, status=status, size=size, data=want, warnings=warnings)

    def _existing(self, doc: Document, key: str, previous: StoredRecord | None) -> tuple[str | None, dict]:
        """The Flickr photo this document already became, and what we know it holds."""
        if previous is not None and previous.ref and previous.status in ("done", "failed") and previous.data:
            return previous.ref, dict(previous.data)
        return self.photos.find(doc, key), {}

    def losses(self, record: Document | Container) -> list[Loss]:
        """What this sink would skip or drop of a record (the `--dry-run` loss ledger); see losses.py."""
        limits = self.uploads.limits if hasattr(self, "uploads") else {}
        return losses(record, self.config, limits)

    # -- albums -----------------------------------------------------------------------------------
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
        self._set_order.append(set_id)
        done = dict(previous.data) if previous is not None and previous.status == "done" else {}
        status = "unchanged" if done == album and not warnings else "updated" if done else "new"
        return Stored(ref=set_id, status=status, data=album, warnings=warnings)

    def _photo_of(self, source: str, doc_id: str) -> str | None:
        record = self.context.stored(source, doc_id)
        return record.ref if record is not None and record.status == "done" else None

    def finish(self) -> None:
        """Sets left unordered by an earlier run whose album record is known get ordered now; then, if a set
        was created since they last were, the account's sets are put in the source's album order."""
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
        self.sets.order(self._set_order)

    # -- authorization and sandbox ----------------------------------------------------------------
    @classmethod
    def authorize(cls, config: dict[str, Any], context: Any) -> None:
        authorize(config, context)

    @classmethod
    def sandbox(cls, workdir: Path) -> contextlib.AbstractContextManager[dict[str, Any]]:
        return sandboxed.serve(workdir, _new_account, "write")

    @classmethod
    def sandbox_summary(cls, workdir: Path) -> list[str]:
        return sandboxed.summary(workdir, _new_account)


def _new_account() -> Any:
    from .sandbox.model import Account

    return Account.empty(0, "sandbox", created_at=946684800)  # old enough that replayed posted dates are accepted

"""The `immich` sink: replays documents and albums into a self-hosted Immich server, exactly once.

`open()` reads the server's version (the upload shape depends on it: up to 2.x with `deviceAssetId` and
`deviceId`, 3.x without) and refuses versions it does not know, then checks the key (`/users/me`).
An original goes up once per content checksum (`assets.Assets`); its metadata is then set with
`PUT /assets/{id}` and its tags upserted (both idempotent). Albums go through `albums.Albums`. What
Immich cannot hold is listed by `losses()` (see losses.py and metadata.py for the rules).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path
from typing import Any

from migrator import Container, Document, Item, Loss, Option, Sink, Stored, StoredRecord
from migrator.answers import as_str
from migrator.errors import AuthorizationNeeded, DocumentError, SkipDocument, UsageError

from . import sandboxed
from .albums import UNTITLED, AlbumRefused, Albums
from .assets import Assets
from .client import CONNECTION_OPTIONS, KEY_HINT, ImmichClient, ImmichError
from .losses import container_losses, document_losses, extension, skipped
from .metadata import PRIVATE_CHOICES, TITLE_IN_DESCRIPTION, TITLE_OFF, posted, wanted, zone
from .xmp import sidecar

SUPPORTED = "1.133 and later 1.x, 2.x and 3.x"
DEVICE_ID = "migrator"
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def supported(major: int, minor: int) -> bool:
    return (major == 1 and minor >= 133) or major in (2, 3)


class ImmichSink(Sink):
    name = "immich"
    description = "uploads photos and videos with their metadata and albums to a self-hosted Immich server"
    concurrency = 4
    options = [
        *CONNECTION_OPTIONS,
        Option("private", str, "archive",
               "Immich has no friends/family audiences: where a document that is not public goes. archive: "
               "off the timeline (a partner who shares your timeline does not see it), still in albums and "
               "search; locked: Immich's PIN-protected locked folder (a server may refuse it to an API key: that "
               "document then fails with Immich's reason); timeline: like any other; skip: not uploaded",
               choices=PRIVATE_CHOICES),
        Option("title", str, TITLE_IN_DESCRIPTION,
               "Immich has no title field. description: the title opens the description (a blank line, then "
               "the description); off: left out. The XMP sidecar keeps it as dc:title either way",
               choices=(TITLE_IN_DESCRIPTION, TITLE_OFF)),
        Option("timezone", str, "",
               "the time zone the photos were taken in (IANA name, e.g. Europe/Paris): sources give wall-clock "
               "times, Immich wants an offset; empty: unknown, sent as +00:00 so Immich shows the time as taken"),
        Option("sidecar", bool, True, "send an XMP sidecar with each upload when the server takes them (title, "
                                      "description, tags, date, place)"),
    ]

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        url, key = self.config.get("url"), self.config.get("api_key")
        if not url:
            raise UsageError("immich.url is not set: give the Immich server's address (-o immich.url=https://... "
                             "or IMMICH_URL), or try --sandbox")
        if not key:
            raise AuthorizationNeeded("Immich needs an API key: " + KEY_HINT)
        self.tz = zone(self.config["timezone"])
        self.client = ImmichClient(url, key, timeout=self.config["timeout"], backoff=self.config["backoff"],
                                   count=self.context.count_call)
        try:
            major, minor, patch = self.client.version()
        except ImmichError as exc:
            raise UsageError(f"no Immich API at {self.client.base} (HTTP {exc.status}): check immich.url (this sink "
                             f"speaks Immich {SUPPORTED}; older servers have no /server/version)") from None
        if not supported(major, minor):
            raise UsageError(f"Immich {major}.{minor}.{patch} is not supported: this sink speaks Immich {SUPPORTED}")
        self.version = (major, minor, patch)
        try:
            me = self.client.me()
        except ImmichError as exc:
            raise AuthorizationNeeded(f"Immich refused /users/me ({exc.message}): " + KEY_HINT) from None
        self.user_id = as_str(me.get("id"))
        if not self.user_id:
            raise AuthorizationNeeded("Immich did not say whose API key this is: " + KEY_HINT)
        types = self.client.media_types()
        self.extensions = set(types["image"]) | set(types["video"])
        sidecars = self.config["sidecar"] and ".xmp" in types["sidecar"]
        self.assets = Assets(self.client, self.context, major, sidecars)
        self.albums = Albums(self.client, self.context)

    def account(self) -> str:
        return self.user_id

    def close(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            self.assets.close()
        with contextlib.suppress(AttributeError):
            self.client.close()

    # -- documents ------------------------------------------------------------------------------
    def store(self, item: Item, previous: StoredRecord | None) -> Stored:
        try:
            return self._store(item, previous)
        except ImmichError as exc:  # a refusal no step expected: this document fails, the run goes on
            raise DocumentError(f"Immich refused {exc.method}: {exc.message or f'HTTP {exc.status}'}") from None

    def _store(self, item: Item, previous: StoredRecord | None) -> Stored:
        doc = item.document
        reason = skipped(doc, self.config, self.extensions)
        if reason:
            raise SkipDocument(reason)
        key = f"{doc.source}:{doc.id}"
        want = wanted(doc, self.config, self.tz)
        have = dict(previous.data) if previous is not None and previous.status in ("done", "failed") else {}
        asset_id = (previous.ref if previous is not None and previous.ref and have else None) \
            or self.assets.remembered(key)
        warnings: list[str] = []
        created = False
        if asset_id is None:
            sent = self.assets.send(item, key, self._upload_fields(doc, key, want), self._sidecar(doc, want),
                                    self._filename(doc))
            asset_id, created, have = sent.asset_id, sent.created, {"sha1": sent.checksum}
            if sent.shared_with:
                warnings.append(f"the same file as {sent.shared_with}: Immich holds one asset per content, so both "
                                "documents share it and the last one's metadata wins")
        elif previous is not None and previous.done and item.original and previous.original_differs(doc):
            warnings.append("the original changed at the source; Immich keeps the first upload (its API "
                            "cannot replace an asset's file)")
        if have.get("fields") != want["fields"]:
            self._update(key, asset_id, want["fields"])
        if have.get("tags") != want["tags"]:
            self._retag(asset_id, have.get("tags") or [], want["tags"])
        data = {**want, "sha1": have.get("sha1"), "md5": doc.file.md5 if doc.file else None}
        if created:
            status = "new"
        else:
            status = "unchanged" if all(have.get(k) == data[k] for k in ("fields", "tags")) and not warnings \
                else "updated"
        return Stored(ref=asset_id, status=status, size=doc.file.size if doc.file else None, data=data,
                      warnings=warnings)

    def _retag(self, asset_id: str, had: list[str], tags: list[str]) -> None:
        """Tags by upsert (idempotent: ids are never cached, Immich deletes empty tags); the ones the source
        dropped since the last upload are taken off the asset."""
        if tags:
            tag_ids = [as_str(t.get("id")) for t in self.client.upsert_tags(tags)]
            self.client.tag_assets([t for t in tag_ids if t], [asset_id])
        dropped = [t for t in had if t not in tags]
        if dropped:
            for tag in self.client.upsert_tags(dropped):
                self.client.untag_asset(as_str(tag.get("id")), asset_id)

    def _update(self, key: str, asset_id: str, fields: dict[str, Any]) -> None:
        try:
            self.client.update_asset(asset_id, fields)
        except ImmichError as exc:
            if exc.status == 400 and "not found" in exc.message.lower():
                self.assets.forget(key)
                raise SkipDocument(f"its Immich asset {asset_id} was deleted there: left out") from None
            raise

    def _upload_fields(self, doc: Document, key: str, want: dict[str, Any]) -> list[tuple[str, Any]]:
        """The multipart text fields of `POST /assets` for this server's version (reference §2.1)."""
        fields = want["fields"]
        created = fields.get("dateTimeOriginal") or posted(doc)
        parts: list[tuple[str, Any]] = []
        if self.version[0] < 3:  # required up to 2.x, removed in 3.0
            parts += [("deviceAssetId", "migrator-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]),
                      ("deviceId", DEVICE_ID)]
        parts += [("fileCreatedAt", created), ("fileModifiedAt", posted(doc)), ("visibility", fields["visibility"])]
        if "isFavorite" in fields:
            parts.append(("isFavorite", "true" if fields["isFavorite"] else "false"))
        return parts

    def _sidecar(self, doc: Document, want: dict[str, Any]) -> bytes | None:
        return sidecar(doc, want["fields"].get("dateTimeOriginal"), want["tags"]) if self.assets.sidecars else None

    def _filename(self, doc: Document) -> str:
        """The file name Immich shows: the source's, made safe, always with the extension that says its type."""
        ext = extension(doc) or ("mp4" if doc.media == "video" else "jpg")
        name = _UNSAFE_NAME.sub("_", (doc.file.name if doc.file and doc.file.name else "") or "").strip()
        stem = name[: -len(ext) - 1] if name.lower().endswith(f".{ext}") else name
        stem = stem.strip(" .")[:180] or "No Name"
        return f"{stem}.{ext}"

    def losses(self, record: Document | Container) -> list[Loss]:
        """What this sink would skip or drop of a record (the `--dry-run` loss ledger); see losses.py."""
        if isinstance(record, Container):
            return container_losses(record)
        return document_losses(record, self.config, getattr(self, "extensions", set()))

    # -- albums -----------------------------------------------------------------------------------
    def store_container(self, container: Container, previous: StoredRecord | None) -> Stored:
        if container.kind != "album":
            raise SkipDocument(f"Immich has no {container.kind}s (albums of albums)")
        key = f"{container.source}:{container.id}"
        name, description = container.title or UNTITLED, container.description or ""
        assets = [ref for m in container.members if (ref := self._asset_of(container.source, m))]
        data = {"name": name, "description": description, "assets": assets}
        try:
            album_id, created, (added, gone) = self._album(key, name, description, assets, previous)
        except AlbumRefused as exc:
            raise DocumentError(str(exc)) from None
        except ImmichError as exc:
            raise DocumentError(f"Immich refused {exc.method}: {exc.message or f'HTTP {exc.status}'}") from None
        done = dict(previous.data) if previous is not None and previous.status == "done" else {}
        status = "new" if created else "unchanged" if done == data and not added else "updated"
        warnings = [f"{len(gone)} of its assets are no longer in Immich (deleted there?): left out of the album"] \
            if gone else []
        return Stored(ref=album_id, status=status, data=data, warnings=warnings)

    def _album(self, key: str, name: str, description: str, assets: list[str],
               previous: StoredRecord | None) -> tuple[str, bool, tuple[int, list[str]]]:
        """The album made or found, named and described as the source says, holding the assets; whether it
        was created now, how many assets were added and which ones Immich no longer has."""
        before = previous.data if previous is not None and previous.data else {}
        for last in (False, True):
            album_id, created = self.albums.ensure(key, name, description, assets)
            try:
                if not created and (before.get("name"), before.get("description")) != (name, description):
                    self.albums.update(album_id, name, description)
                return album_id, created, self.albums.add(album_id, assets) if assets else (0, [])
            except ImmichError as exc:
                if exc.status != 400 or last:
                    raise
                self.context.memory_delete(f"album:{key}")  # deleted in Immich by a person: made again
                before = {}
        raise AssertionError("unreachable")

    def _asset_of(self, source: str, doc_id: str) -> str | None:
        record = self.context.stored(source, doc_id)
        return record.ref if record is not None and record.status == "done" and record.ref else None

    # -- sandbox ------------------------------------------------------------------------------------
    @classmethod
    def sandbox(cls, workdir: Path) -> contextlib.AbstractContextManager[dict[str, Any]]:
        return sandboxed.serve(workdir)

    @classmethod
    def sandbox_summary(cls, workdir: Path) -> list[str]:
        return sandboxed.summary(workdir)

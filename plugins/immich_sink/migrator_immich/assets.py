"""A document's original into Immich exactly once, by its content checksum.

Immich keeps one asset per (user, SHA-1 of the file), trashed ones included, and answers
`bulk-upload-check` with the asset that has a checksum. So, for a document without a remembered asset:
hash the exact bytes to send, ask the server (the look-up), note the intent, upload (sent once), and
remember the asset id (`asset:<key>`) as soon as it is known, from the answer or from the look-up. A lost
answer raises AnswerLost; the document's retry asks again by checksum before sending anything, and a
lost state does the same. The bytes are never sent when the server already has them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrator import Context, Document, Item
from migrator.errors import AnswerLost, DocumentError, QuotaExceeded, SkipDocument
from migrator.spool import FileSpool

from .client import ImmichClient, ImmichError

SPOOL_PREFIX = "immich-spool-"
TRASHED = "is in Immich's trash: restore it there (or empty the trash to upload it again), then rerun"


class Sent:
    """A document's asset: its id, whether this call created it, the checksum of its bytes, and the other
    document already using that asset (Immich holds one asset per content), if any."""

    def __init__(self, asset_id: str, created: bool, checksum: str, shared_with: str | None) -> None:
        self.asset_id, self.created, self.checksum, self.shared_with = asset_id, created, checksum, shared_with


class Found:
    """An asset the server holds for some bytes: its id and whether it is in the trash."""

    def __init__(self, asset_id: str, trashed: bool) -> None:
        self.asset_id, self.trashed = asset_id, trashed


class Assets:
    def __init__(self, client: ImmichClient, context: Context, major: int, sidecars: bool) -> None:
        self.client, self.context, self.major, self.sidecars = client, context, major, sidecars
        self.spool = FileSpool(Path(context.workdir), SPOOL_PREFIX)
        self._lock = threading.Lock()

    def remembered(self, key: str) -> str | None:
        value = self.context.memory_get(f"asset:{key}")
        return str(value) if value else None

    def remember(self, key: str, asset_id: str) -> str | None:
        """Note the document's asset; the other document already using it, if any."""
        self.context.memory_set(f"asset:{key}", asset_id)
        self.context.memory_delete(f"intent:{key}")
        with self._lock:  # read-modify-write: two documents of the same bytes may arrive at once
            other = self.context.memory_get(f"asset_of:{asset_id}")
            if other is None:
                self.context.memory_set(f"asset_of:{asset_id}", key)
        return str(other) if other is not None and other != key else None

    def forget(self, key: str) -> None:
        self.context.memory_delete(f"asset:{key}")

    def find(self, checksum: str) -> Found | None:
        """The look-up: the asset the server holds with these bytes (this user's, trash included)."""
        for result in self.client.check([("0", checksum)]):
            if result.get("action") == "reject" and result.get("assetId"):
                return Found(str(result["assetId"]), bool(result.get("isTrashed")))
        return None

    def send(self, item: Item, key: str, fields: list[tuple[str, Any]], sidecar: bytes | None,
             filename: str) -> Sent:
        """Find the document's asset by the checksum of its bytes, or upload them."""
        doc = item.document
        if item.original is None:
            raise SkipDocument("the source gave no file for this document: Immich holds files")
        with self._local_file(item, filename) as (path, checksum):
            found = self.find(checksum)
            if found is not None:
                shared_with = self.remember(key, found.asset_id)
                if found.trashed:
                    raise SkipDocument(f"its asset {found.asset_id} {TRASHED}")
                return Sent(found.asset_id, False, checksum, shared_with)
            self.context.memory_set(f"intent:{key}", {"sha1": checksum})
            with open(path, "rb") as fileobj:
                parts = [*fields, ("assetData", (filename, fileobj, "application/octet-stream"))]
                if sidecar is not None:
                    parts.append(("sidecarData", (filename + ".xmp", sidecar, "application/xml")))
                try:
                    answer = self.client.upload(parts, fileobj)
                except ImmichError as exc:
                    raise self._refused(exc, doc, key) from None
                except AnswerLost as exc:
                    raise AnswerLost(f"{exc} (the retry looks the file up by checksum first; if uploads keep "
                                     "failing, check the Immich server's log and its free disk space)") from None
                self.context.add_bytes(os.fstat(fileobj.fileno()).st_size)
            asset_id = str(answer.get("id") or "")
            if not asset_id:
                raise AnswerLost("Immich's answer to the upload has no asset id; looking it up by checksum")
            shared_with = self.remember(key, asset_id)
            return Sent(asset_id, answer.get("status") != "duplicate", checksum, shared_with)

    def _refused(self, exc: ImmichError, doc: Document, key: str) -> Exception:
        """A definite refusal: nothing was created, the intent goes."""
        self.context.memory_delete(f"intent:{key}")
        text = exc.message or f"HTTP {exc.status}"
        if exc.status == 413:
            return DocumentError(f"Immich (or a proxy in front of it) refused the file as too large (HTTP 413, "
                                 f"{doc.file.size if doc.file else '?'} bytes): raise the proxy's body limit "
                                 "(nginx: client_max_body_size), then rerun")
        if "quota" in text.lower():
            return QuotaExceeded(f"Immich: the account's storage quota is used up ({text}): raise it in "
                                 "Immich's user settings, or free space, then rerun")
        if "unsupported file type" in text.lower() or "not a supported" in text.lower():
            return SkipDocument(f"Immich does not take this file ({text})")
        return DocumentError(f"Immich refused the upload ({text})")

    def close(self) -> None:
        self.spool.close()

    @contextlib.contextmanager
    def _local_file(self, item: Item, filename: str) -> Iterator[tuple[Path, str]]:
        """The original as a file (an earlier sink's copy, else the stream spooled) and its base64 SHA-1."""
        assert item.original is not None
        with self.spool.file_of(item.original, Path(filename).suffix) as path:
            yield path, _sha1_of(path)


def _sha1_of(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")

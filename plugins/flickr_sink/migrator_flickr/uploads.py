"""Sending an original to Flickr, once: the intent written first, the file from disk or spooled.

The upload is a creating call: `PhotoIndex.intend` notes it before it is sent and `remember` the photo
as soon as its id is known. A lost answer raises AnswerLost, so the retry of the document looks the
photo up (identity.py) before sending again; a definite refusal drops the intent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from migrator import Context, Document, Item
from migrator.errors import AnswerLost, DocumentError, QuotaExceeded, SkipDocument
from migrator.spool import FileSpool

from .client import FlickrCallError, FlickrClient
from .identity import PhotoIndex
from .losses import too_big
from .metadata import upload_fields

SPOOL_PREFIX = "flickr-spool-"


class Uploads:
    def __init__(self, client: FlickrClient, context: Context, photos: PhotoIndex, limits: dict[str, Any]) -> None:
        self.client, self.context, self.photos, self.limits = client, context, photos, limits
        self.spool = FileSpool(Path(context.workdir), SPOOL_PREFIX)

    def send(self, item: Item, key: str, want: dict[str, Any]) -> str:
        """Upload the document's original with the fields the upload sets; the new photo's id."""
        doc = item.document
        if item.original is None:
            raise DocumentError("nothing to upload: the source gave no file for this document")
        self._check_size(doc)
        ext = (doc.file.ext if doc.file and doc.file.ext else "jpg").strip(".") or "jpg"
        with self.spool.file_of(item.original, f".{ext}") as path, open(path, "rb") as fileobj:
            self.photos.intend(key)
            try:  # a lost answer is AnswerLost: the retry of this document looks the photo up first
                photo_id = self.client.upload_once(f"upload.{ext}", fileobj, upload_fields(want))
            except FlickrCallError as exc:
                raise self._upload_error(exc, key) from None
            self.context.add_bytes(os.fstat(fileobj.fileno()).st_size)
        self.photos.remember(key, photo_id)
        return photo_id

    def close(self) -> None:
        self.spool.close()

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
        limit = too_big(doc, self.limits)
        if limit:
            raise SkipDocument(f"{doc.file.size if doc.file else '?'} bytes is more than Flickr's {limit} byte "
                               f"limit for a {doc.media}")

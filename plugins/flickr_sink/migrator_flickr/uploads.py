"""Sending an original to Flickr, once: the intent written first, the file from disk or spooled.

The upload is a creating call: `PhotoIndex.intend` notes it before it is sent and `remember` the photo
as soon as its id is known. A lost answer raises AnswerLost, so the retry of the document looks the
photo up (identity.py) before sending again; a definite refusal drops the intent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrator import Context, Document, Item
from migrator.errors import AnswerLost, DocumentError, QuotaExceeded, SkipDocument

from .client import FlickrCallError, FlickrClient
from .identity import PhotoIndex
from .losses import too_big
from .metadata import upload_fields

SPOOL_PREFIX = "flickr-spool-"


class Uploads:
    def __init__(self, client: FlickrClient, context: Context, photos: PhotoIndex, limits: dict[str, Any]) -> None:
        self.client, self.context, self.photos, self.limits = client, context, photos, limits
        self.spool = spool_folder(Path(context.workdir))

    def send(self, item: Item, key: str, want: dict[str, Any]) -> str:
        """Upload the document's original with the fields the upload sets; the new photo's id."""
        doc = item.document
        if item.original is None:
            raise DocumentError("nothing to upload: the source gave no file for this document")
        self._check_size(doc)
        ext = (doc.file.ext if doc.file and doc.file.ext else "jpg").strip(".") or "jpg"
        with self._local_file(item, ext) as path, open(path, "rb") as fileobj:
            self.photos.intend(key)
            try:  # a lost answer is AnswerLost: the retry of this document looks the photo up first
                photo_id = self.client.upload_once(f"upload.{ext}", fileobj, upload_fields(want))
            except FlickrCallError as exc:
                raise self._upload_error(exc, key) from None
            self.context.add_bytes(os.fstat(fileobj.fileno()).st_size)
        self.photos.remember(key, photo_id)
        return photo_id

    def close(self) -> None:
        shutil.rmtree(self.spool, ignore_errors=True)

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

    @contextlib.contextmanager
    def _local_file(self, item: Item, ext: str) -> Iterator[Path]:
        """The original as a file: the one an earlier sink stored, or the source stream spooled."""
        original = item.original
        assert original is not None
        if original.path is not None and original.path.exists():
            yield original.path
            return
        fd, name = tempfile.mkstemp(suffix=f".{ext}", dir=self.spool)
        try:
            with os.fdopen(fd, "wb") as out, original.open() as stream:
                while chunk := stream.read(1 << 16):
                    out.write(chunk)
            yield Path(name)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)


def spool_folder(workdir: Path) -> Path:
    """A private folder for originals spooled before upload; ones left by killed runs are removed."""
    for stale in workdir.glob(f"{SPOOL_PREFIX}*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = workdir / f"{SPOOL_PREFIX}{os.getpid()}"
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

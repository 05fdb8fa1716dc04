"""What the Flickr sink cannot carry of a record, said from the record alone (the `--dry-run` loss ledger).

Each rule here mirrors a place where `sink.py` or `metadata.py` skips a record or leaves a field behind;
a reason's text is the same for every record, so the ledger can count them.
"""

from __future__ import annotations

from typing import Any

from migrator import Container, Document, Loss
from migrator.licenses import service_code

from .licenses import FLICKR
from .options import COMMENTS_IN_DESCRIPTION, COMMENTS_KEEP

UNSETTABLE_LICENSES = ("7",)  # "no known copyright restrictions": Flickr's setLicense refuses it


def losses(record: Document | Container, config: dict[str, Any], limits: dict[str, Any]) -> list[Loss]:
    if isinstance(record, Container):
        return container_losses(record)
    return document_losses(record, config, limits)


def container_losses(container: Container) -> list[Loss]:
    if container.kind != "album":
        return [Loss(f"Flickr's API cannot create {container.kind}s")]
    if not container.members:
        return [Loss("Flickr cannot hold an empty set")]
    return [] if container.title else [Loss("Flickr requires a set title: 'untitled' is used", "title")]


def document_losses(doc: Document, config: dict[str, Any], limits: dict[str, Any]) -> list[Loss]:
    if doc.media not in ("photo", "video"):
        return [Loss(f"Flickr takes only photos and videos, not {doc.media}")]
    if too_big(doc, limits):
        return [Loss(f"bigger than Flickr's limit for a {doc.media}")]
    found = []
    if doc.comments and config.get("comments") == COMMENTS_IN_DESCRIPTION:
        found.append(Loss("appended to the description as text, not posted as their authors' comments",
                          "comments"))
    elif doc.comments and config.get("comments") == COMMENTS_KEEP:
        found.append(Loss("left out: Flickr's API posts comments only as the account's owner "
                          "(flickr.comments=description appends them to the description)", "comments"))
    if any('"' in tag or tag != tag.strip() for tag in doc.tags if isinstance(tag, str)):
        found.append(Loss("Flickr tags hold no double quotes or edge spaces: quotes become ' and spaces go",
                          "tags"))
    if doc.notes:
        found.append(Loss("left out: the Flickr sink writes no notes", "notes"))
    if doc.license and (service_code(FLICKR, doc.license) in (None, *UNSETTABLE_LICENSES)):
        found.append(Loss(f"Flickr has no settable license {doc.license}: the account's default applies",
                          "license"))
    if doc.taken_granularity == "day":
        found.append(Loss("Flickr has no 'day' precision: the date taken is set as an exact time",
                          "taken_granularity"))
    if doc.geo is not None and doc.geo.accuracy:
        found.append(Loss("Flickr sets the place without its accuracy", "geo.accuracy"))
    if doc.rotation and doc.media != "photo":
        found.append(Loss("Flickr rotates only photos", "rotation"))
    if config.get("privacy") == "private" and (doc.visibility.public or doc.visibility.friends
                                               or doc.visibility.family):
        found.append(Loss("flickr.privacy=private makes every photo private", "visibility"))
    return found


def too_big(doc: Document, limits: dict[str, Any]) -> int | None:
    """Flickr's byte limit for this document (people.getUploadStatus) when its original is bigger."""
    size = doc.file.size if doc.file else None
    block = limits.get("videosize" if doc.media == "video" else "filesize") or {}
    limit = int(block.get("maxbytes") or 0)
    return limit if size and limit and size > limit else None

"""What the Immich sink cannot carry of a record, said from the record alone (the `--dry-run` loss ledger).

Each rule mirrors a place where `sink.py` or `metadata.py` skips a record or leaves a field behind; a
reason's text is the same for every record, so the ledger can count them.
"""

from __future__ import annotations

from typing import Any

from migrator import Container, Document, Loss

from .metadata import TITLE_IN_DESCRIPTION, private


def container_losses(container: Container) -> list[Loss]:
    if container.kind != "album":
        return [Loss(f"Immich has no {container.kind}s (albums of albums)")]
    found = [Loss("Immich sorts albums itself (by name or date): the source's album order is lost", "position")]
    if len(container.members) > 1:
        found.append(Loss("Immich orders an album's photos by date only: the source's order is lost", "members"))
    if not container.title:
        found.append(Loss("Immich shows an album without a name as 'Untitled'", "title"))
    return found


def document_losses(doc: Document, config: dict[str, Any], extensions: set[str]) -> list[Loss]:
    skip = skipped(doc, config, extensions)
    if skip:
        return [Loss(skip)]
    found = []
    if doc.title:
        found.append(Loss("Immich has no title: it opens the description (and is dc:title in the XMP sidecar)"
                          if config["title"] == TITLE_IN_DESCRIPTION else
                          "Immich has no title: left out (kept as dc:title in the XMP sidecar)", "title"))
    if private(doc):
        found.append(Loss(f"Immich has no audiences (friends, family): a non-public document goes to the "
                          f"{config['private']}", "visibility"))
    if doc.taken_at and not config["timezone"]:
        found.append(Loss("the source gives no time zone: the time taken is sent as +00:00 (immich.timezone names "
                          "one)", "taken_at"))
    if doc.taken_at and doc.taken_granularity not in (None, "second"):
        found.append(Loss("Immich has no date precision: an exact time is set", "taken_granularity"))
    if doc.posted_at:
        found.append(Loss("Immich has no posting date: it becomes the file's modification date", "posted_at"))
    if doc.license:
        found.append(Loss("Immich has no license field", "license"))
    if doc.safety not in (None, 0, 1):
        found.append(Loss("Immich has no safety level", "safety"))
    if doc.comments:
        found.append(Loss("Immich cannot hold other people's comments (activities are written as the key's "
                          "owner, now)", "comments"))
    if doc.notes:
        found.append(Loss("Immich has no notes on photos", "notes"))
    if doc.geo is not None and doc.geo.accuracy:
        found.append(Loss("Immich keeps a place without its accuracy", "geo.accuracy"))
    if doc.rotation:
        found.append(Loss("Immich's API cannot rotate a photo: it is shown as its file says", "rotation"))
    if any(isinstance(t, str) and "/" in t and ":" not in t for t in doc.tags):
        found.append(Loss("Immich splits tags on '/': a '/' in a tag becomes '\u2215'", "tags"))
    return found


def skipped(doc: Document, config: dict[str, Any], extensions: set[str]) -> str | None:
    """Why the sink leaves this document out, or None."""
    if doc.media not in ("photo", "video"):
        return f"Immich takes photos and videos, not {doc.media}"
    if private(doc) and config["private"] == "skip":
        return "not public, and immich.private=skip"
    ext = extension(doc)
    if extensions and ext and f".{ext}" not in extensions:
        return f"the Immich server does not take .{ext} files"
    return None


def extension(doc: Document) -> str:
    ext = (doc.file.ext if doc.file and doc.file.ext else "") or ""
    if not ext and doc.file and doc.file.name and "." in doc.file.name:
        ext = doc.file.name.rsplit(".", 1)[1]
    return ext.strip(".").lower()

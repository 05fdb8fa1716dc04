"""What the viewer shows of a document or an album: plain JSON-ready dicts built from the records.

Every text stays as the source gave it; the page renders it as text (descriptions through an allow-list).
Paths are relative to the backup's root and percent-encoded, ready for `src` and `href`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from migrator import Container, Document

from .. import layout

UNDATED = "undated"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?")


def url(relative: str) -> str:
    """A relative path as a URL: `#`, `?`, `%` and spaces in names must not end or change it."""
    return "/".join(quote(part, safe="") for part in relative.split("/"))


def sort_date(doc: Document) -> str:
    """The date a document is filed under (taken, else posted), as `YYYY-MM-DDTHH:MM:SS`; "" if none."""
    for value in (doc.taken_at, doc.posted_at):
        text = layout.text_of(value)
        if _DATE.fullmatch(text):
            return text[:19]
    return ""


def month_of(date: str) -> str:
    """The photostream's shard a document belongs to: `YYYY-MM`, or `undated`."""
    return date[:7] if date else UNDATED


def visibility(doc: Document) -> str:
    seen = doc.visibility
    if seen.public:
        return "public"
    who = [name for name, on in (("friends", seen.friends), ("family", seen.family)) if on]
    return " and ".join(who) if who else "private"


def notes(doc: Document, has_original: bool) -> list[str]:
    """What this backup lacks of the document, as a person reads it."""
    found: list[str] = []
    if doc.file is not None and not has_original:
        found.append("the original is not in this backup")
    meta = doc.source_metadata if isinstance(doc.source_metadata, dict) else {}
    if meta.get("fallback"):
        reason = layout.text_of(meta.get("fallback_reason")) or "the original was not offered"
        found.append(f"saved from the {layout.text_of(meta['fallback'])} rendition, not the original: {reason}")
    return found


def document(doc: Document, ref: str | None, thumb: str | None, preview: str | None) -> dict[str, Any]:
    """The viewer's record of one document (`ref`: its original, relative to the root, or None)."""
    info = doc.file
    geo = doc.geo
    return {
        "source": doc.source, "id": doc.id, "media": doc.media, "title": layout.text_of(doc.title),
        "description": layout.text_of(doc.description), "tags": [layout.text_of(t) for t in doc.tags],
        "taken": doc.taken_at, "granularity": doc.taken_granularity, "posted": doc.posted_at,
        "visibility": visibility(doc), "license": doc.license,
        "geo": {"lat": geo.latitude, "lon": geo.longitude} if geo is not None else None,
        "comments": [{"author": layout.text_of(c.author), "date": c.posted_at, "text": layout.text_of(c.text)}
                     for c in doc.comments],
        "name": layout.text_of(info.name) if info is not None else "",
        "size": info.size if info is not None else None,
        "file": url(ref) if ref else None, "thumb": thumb, "preview": preview, "rotation": doc.rotation,
        "notes": notes(doc, ref is not None),
    }


def cover_id(container: Container) -> str | None:
    """The album's cover as its source named it (ipernity: cover.doc_id, Flickr: primary), else its first member."""
    members = container.members
    meta = container.source_metadata if isinstance(container.source_metadata, dict) else {}
    for value in meta.values():
        if isinstance(value, dict):
            cover = value.get("cover")
            for candidate in (cover.get("doc_id") if isinstance(cover, dict) else None, value.get("primary")):
                if isinstance(candidate, str) and candidate in members:
                    return candidate
    return members[0] if members else None


def album(container: Container, folder: str, missing: list[str]) -> dict[str, Any]:
    return {"kind": container.kind, "id": container.id, "source": container.source,
            "title": layout.text_of(container.title), "description": layout.text_of(container.description),
            "folder": url(folder), "count": len(container.members), "missing": len(missing)}

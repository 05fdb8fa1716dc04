"""A record → what Immich holds of it: pure functions, no calls (the sink sends, losses.py reports).

* Immich has no title: `title=description` puts it on the description's first line (a blank line, then
  the description), `title=off` drops it. The XMP sidecar keeps it as dc:title either way.
* The date taken is wall-clock time; the source gives no time zone, so it is sent with the offset of
  `timezone` at that date when the user names one, else as +00:00 (Immich then shows the wall-clock time
  as taken, and the instant is unknown, as at the source).
* Immich has no audiences: a document that is not public goes to the timeline, the archive or the locked
  folder, or is left out, as the user chose (`private`).
* Tags: Immich's tags are paths split on "/". A plain tag keeps its text (a "/" in it becomes "∕", as
  Immich cannot hold one); a machine tag `ns:pred=value` becomes the path `ns/pred/value`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrator import Document
from migrator.errors import UsageError

TITLE_IN_DESCRIPTION, TITLE_OFF = "description", "off"
PRIVATE_CHOICES = ("timeline", "archive", "locked", "skip")
MACHINE_TAG = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)=(.+)$")
SLASH = "\u2215"  # DIVISION SLASH: looks like "/" but does not split Immich's tag path


def zone(name: str) -> ZoneInfo | None:
    """The `timezone` option checked: an IANA name, or empty for "unknown"."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"immich.timezone must be an IANA time zone such as Europe/Paris, not {name!r} "
                         "(leave it empty when the photos' zone is unknown)") from None


def taken(doc: Document, tz: ZoneInfo | None) -> str | None:
    """The date taken with an explicit offset (Immich 3 demands one), or None when the source has none."""
    if not doc.taken_at:
        return None
    try:
        wall = datetime.fromisoformat(doc.taken_at)
    except ValueError:
        return None
    offset = (wall.replace(tzinfo=tz).utcoffset() if tz else None) or timedelta(0)
    return wall.strftime("%Y-%m-%dT%H:%M:%S") + _offset(offset)


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def posted(doc: Document) -> str:
    """When the file was put online (the upload's file dates when nothing better is known)."""
    return (doc.posted_at or doc.updated_at or "1970-01-01T00:00:00Z").replace("Z", "+00:00")


def description(doc: Document, title_rule: str) -> str:
    title, text = doc.title or "", doc.description or ""
    if title_rule != TITLE_IN_DESCRIPTION or not title.strip() or title == text:
        return text
    return f"{title}\n\n{text}" if text else title


def tag_value(tag: str) -> str | None:
    """The Immich tag path for a source tag; None for one that is only spaces."""
    machine = MACHINE_TAG.match(tag.strip())
    if machine:
        return "/".join(part.replace("/", SLASH) for part in machine.groups())
    text = tag.strip().replace("/", SLASH)
    return text or None


def tags(doc: Document) -> list[str]:
    found: list[str] = []
    for tag in doc.tags:
        value = tag_value(tag) if isinstance(tag, str) else None
        if value and value not in found:
            found.append(value)
    return found


def private(doc: Document) -> bool:
    return not doc.visibility.public


def visibility(doc: Document, private_rule: str) -> str:
    return private_rule if private(doc) and private_rule in ("archive", "locked") else "timeline"


def wanted(doc: Document, config: dict[str, Any], tz: ZoneInfo | None) -> dict[str, Any]:
    """What the asset must hold: the fields of `PUT /assets/{id}` plus the tag paths."""
    fields: dict[str, Any] = {"description": description(doc, config["title"]),
                              "visibility": visibility(doc, config["private"])}
    when = taken(doc, tz)
    if when:
        fields["dateTimeOriginal"] = when
    if doc.geo is not None and -90 <= doc.geo.latitude <= 90 and -180 <= doc.geo.longitude <= 180:
        fields["latitude"], fields["longitude"] = doc.geo.latitude, doc.geo.longitude
    favorite = doc.source_metadata.get("favorite") if isinstance(doc.source_metadata, dict) else None
    if isinstance(favorite, bool):
        fields["isFavorite"] = favorite
    rating = doc.source_metadata.get("rating") if isinstance(doc.source_metadata, dict) else None
    if isinstance(rating, int) and not isinstance(rating, bool) and -1 <= rating <= 5:
        fields["rating"] = rating
    return {"fields": fields, "tags": tags(doc)}

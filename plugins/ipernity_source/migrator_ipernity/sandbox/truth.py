"""What a faithful migration of the sandbox account must produce, derived from its ground truth.

Written independently of the source's mapping code, so tests that compare the two catch a mapping
bug instead of repeating it. Other plugins' tests (local, flickr) use it too.
"""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from migrator import AlbumRef, Comment, Container, Document, FileInfo, Geo, Note, Visibility

LICENSES = {0: "all-rights-reserved", 1: "CC-BY-2.0", 3: "CC-BY-NC-2.0", 5: "CC-BY-ND-2.0", 7: "CC-BY-NC-ND-2.0",
            9: "CC-BY-SA-2.0", 11: "CC-BY-NC-SA-2.0", 255: "copyleft"}


def _utc(epoch: int | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else None


def expected_document(account: Any, doc: Any) -> Document:
    """The record the ipernity source must yield for sandbox document `doc` (source_metadata aside)."""
    position = [d.doc_id for d in account.docs].index(doc.doc_id) + 1
    albums = [AlbumRef(a.album_id, a.title, a.doc_ids.index(doc.doc_id) + 1)
              for a in account.albums if doc.doc_id in a.doc_ids]
    unknown = doc.created_at.startswith("0000")
    geo = None
    if doc.geo:
        geo = Geo(float(doc.geo["lat"]), float(doc.geo["lng"]), doc.geo.get("accuracy"))
    ext = doc.original.ext
    return Document(
        source="ipernity", id=doc.doc_id, media=doc.media, title=doc.title, description=doc.description,
        tags=[t["tag"] for t in doc.tags if t["type"] != "member"],
        taken_at=None if unknown else doc.created_at.replace(" ", "T"),
        taken_granularity=None if unknown else "second",
        posted_at=_utc(doc.posted_at), updated_at=_utc(doc.last_update_at) or _utc(doc.posted_at),
        visibility=Visibility(bool(doc.ispublic), bool(doc.isfriend), bool(doc.isfamily)),
        safety=doc.safety, license=LICENSES[doc.license], geo=geo, rotation=doc.rotation, position=position,
        albums=albums,
        comments=[Comment(c.comment_id, c.username, _utc(c.posted_at), c.content, c.parent_id) for c in doc.comments],
        notes=[Note(n.note_id, n.username, n.content, n.x, n.y, n.w, n.h) for n in doc.notes],
        file=FileInfo(name=doc.original.filename or None, ext=ext or None, size=doc.original.bytes,
                      md5=doc.original.md5, content_type=mimetypes.guess_type(f"x.{ext}")[0] if ext else None),
    )


def expected_album(account: Any, album: Any) -> Container:
    position = [a.album_id for a in account.albums].index(album.album_id) + 1
    return Container(kind="album", source="ipernity", id=album.album_id, title=album.title,
                     description=album.description, members=list(album.doc_ids), position=position,
                     updated_at=_utc(album.last_update_at) or _utc(album.created_at))


def without_raw(record: dict[str, Any]) -> dict[str, Any]:
    """A record's JSON form without `source_metadata`, for field-by-field comparison."""
    return {k: v for k, v in record.items() if k != "source_metadata"}

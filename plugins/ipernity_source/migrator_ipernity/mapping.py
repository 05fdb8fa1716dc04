"""ipernity answers → migrator records. Pure functions: no network, easy to test against quirks."""

from __future__ import annotations

import mimetypes
from typing import Any

from migrator import AlbumRef, Comment, Container, Document, FileInfo, Geo, Note, Visibility
from migrator.answers import as_float, as_int, as_str, flag, obj, scrub
from migrator.answers import items as items_of
from migrator.dates import utc_from_epoch, wall_clock
from migrator.errors import DocumentError
from migrator.licenses import canonical
from migrator.records import rotation

from .licenses import IPERNITY

MEDIA = {"photo", "video", "audio", "other"}


utc_iso = utc_from_epoch


def taken(created: Any) -> tuple[str | None, str | None]:
    """ipernity's local `YYYY-MM-DD HH:MM:SS` (zeros = unknown parts) → ISO local time and granularity."""
    return wall_clock(created)


def tags(doc: dict[str, Any]) -> list[str]:
    """Keyword and machine tags as their text (`ns:pred=value` for machine tags); people tags stay raw."""
    result = []
    for tag in items_of(obj(doc.get("tags")), "tag"):
        if as_str(tag.get("type")) == "member":
            continue
        text = as_str(tag.get("tag")) or as_str(tag.get("title")) or as_str(tag.get("keyword"))
        if text:
            result.append(text)
    return result


def geo(block: Any) -> Geo | None:
    block = obj(block)
    lat, lng = as_float(block.get("lat")), as_float(block.get("lng"))
    if lat is None or lng is None or lat == -999 or lng == -999 or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    if lat == 0 and lng == 0:
        return None
    return Geo(lat, lng, as_int(block.get("accuracy")))


def comments(raw: list[dict[str, Any]]) -> list[Comment]:
    return [Comment(id=as_str(c.get("comment_id")), author=as_str(c.get("username")) or as_str(c.get("user_id")),
                    posted_at=utc_iso(c.get("posted_at")), text=as_str(c.get("content")),
                    parent_id=as_str(c.get("parent_id")) or None)
            for c in raw]


def notes(doc: dict[str, Any]) -> list[Note]:
    return [Note(id=as_str(n.get("note_id")), author=as_str(n.get("username")) or as_str(n.get("membername")),
                 text=as_str(n.get("content")), x=as_int(n.get("x")), y=as_int(n.get("y")),
                 width=as_int(n.get("w")), height=as_int(n.get("h")))
            for n in items_of(obj(doc.get("notes")), "note")]


def original(doc: dict[str, Any], listed: dict[str, Any]) -> dict[str, Any]:
    """The original block, from doc.get if it has one, else from the listing."""
    block = obj(doc.get("original"))
    return block if block.get("url") else obj(listed.get("original"))


def file_info(doc: dict[str, Any], listed: dict[str, Any]) -> FileInfo:
    block = original(doc, listed)
    ext = as_str(block.get("ext")) or None
    md5 = (as_str(doc.get("md5")) or as_str(listed.get("md5"))).lower() or None
    if md5 is not None and (len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5)):
        md5 = None
    content_type = mimetypes.guess_type(f"x.{ext}")[0] if ext else None
    size = as_int(block.get("bytes"))
    return FileInfo(name=as_str(block.get("filename")) or None, ext=ext,
                    size=size if size is not None and size >= 0 else None, md5=md5, content_type=content_type)


def document(listed: dict[str, Any], doc: dict[str, Any], raw_comments: list[dict[str, Any]],
             position: int | None, albums: list[AlbumRef]) -> Document:
    """One record from the list entry (dates, counts, original), doc.get and the comment pages."""
    listed, doc, raw_comments = scrub(listed), scrub(doc), scrub(raw_comments)
    doc_id = as_str(doc.get("doc_id")) or as_str(listed.get("doc_id"))
    if not doc_id:
        raise DocumentError("ipernity answered doc.get without a doc_id")
    media = as_str(doc.get("media") or listed.get("media")) or "other"
    if media not in MEDIA:
        media = "other"
    dates = obj(doc.get("dates")) or obj(listed.get("dates"))
    taken_at, granularity = taken(dates.get("created"))
    visibility = obj(doc.get("visibility"))
    safety = as_int(doc.get("safety") or listed.get("safety")) or 1
    posted = utc_iso(dates.get("posted_at"))
    return Document(
        source="ipernity", id=doc_id, media=media,  # type: ignore[arg-type]
        title=as_str(doc.get("title") if "title" in doc else listed.get("title")),
        description=as_str(doc.get("description")), tags=tags(doc), taken_at=taken_at,
        taken_granularity=granularity, posted_at=posted,
        updated_at=utc_iso(dates.get("last_update_at")) or posted,
        visibility=Visibility(public=flag(visibility.get("ispublic")), friends=flag(visibility.get("isfriend")),
                              family=flag(visibility.get("isfamily"))),
        safety=safety if safety in (1, 2, 3) else 1,
        license=canonical(IPERNITY, doc.get("license", listed.get("license"))),
        geo=geo(doc.get("geo") or listed.get("geo")), rotation=rotation(doc.get("rotation")), position=position,
        albums=albums,
        comments=comments(raw_comments), notes=notes(doc), file=file_info(doc, listed),
        source_metadata={"doc.getList": listed, "doc.get": doc,
                         **({"doc.comments.getList": raw_comments} if raw_comments else {})},
    )


def album(listed: dict[str, Any], detail: dict[str, Any], members: list[str], position: int) -> Container:
    """One album from its album.getList entry, its album.get answer and its ordered member ids."""
    listed, detail, members = scrub(listed), scrub(detail), scrub(members)
    album_id = as_str(listed.get("album_id"))
    if not album_id:
        raise DocumentError("ipernity listed an album without an album_id")
    dates = obj(listed.get("dates")) or obj(detail.get("dates"))
    return Container(
        kind="album", source="ipernity", id=album_id,
        title=as_str(detail.get("title") if "title" in detail else listed.get("title")),
        description=as_str(detail.get("description")), members=list(members), position=position,
        updated_at=utc_iso(dates.get("last_update_at")) or utc_iso(dates.get("created_at")),
        source_metadata={"album.getList": listed, "album.get": detail})

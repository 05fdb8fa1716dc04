"""Flickr answers (parsed JSON) → migrator records. Pure functions: no network, easy to test against quirks.

Flickr wraps some texts as {"_content": ...} and sends numbers as strings or ints depending on the method;
the readers of migrator.answers accept both. Texts are kept exactly as received. A photo maps from its
photos.getInfo answer where there is one (the source's `details` option), else from its people.getPhotos item
alone (with its extras: the source's default, and how flickrmirrorer saved it), through the same readers.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Iterator
from typing import Any

from migrator import AlbumRef, Comment, Container, Document, FileInfo, Geo, Note, Visibility
from migrator.answers import as_int, flag, items, obj, scrub, text
from migrator.dates import utc_from_epoch
from migrator.errors import DocumentError
from migrator.licenses import canonical
from migrator.records import rotation

from .licenses import FLICKR

SOURCE = "flickr"
GRANULARITY = {"0": "second", "4": "month", "6": "year", "8": "circa"}  # date-taken granularity → the record's
BOOKKEEPING_NS = "migrator"  # the flickr sink's machine tags: `migrator:<source>=<id>`
_TAKEN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_MACHINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)=(.+)$", re.S)


utc = utc_from_epoch


# -- fields -------------------------------------------------------------------------------------
def taken(dates: dict[str, Any]) -> tuple[str | None, str | None]:
    """getInfo `dates` → local ISO time and granularity; an unknown taken date is None, not the upload date."""
    return _taken(dates.get("taken"), dates.get("takenunknown"), dates.get("takengranularity", "0"))


def listed_taken(listed: dict[str, Any]) -> tuple[str | None, str | None]:
    """The same from a listing's `date_taken` extras."""
    return _taken(listed.get("datetaken"), listed.get("datetakenunknown"), listed.get("datetakengranularity", "0"))


def _taken(value: Any, unknown: Any, granularity: Any) -> tuple[str | None, str | None]:
    value = text(value)
    if flag(unknown) or not _TAKEN.fullmatch(value) or value.startswith("0000"):
        return None, None
    return value.replace(" ", "T"), GRANULARITY.get(str(granularity).strip())


def raw_tags(info: dict[str, Any], listed: dict[str, Any]) -> list[str]:
    """The photo's tags as the user spelled them: getInfo's `raw` forms (multi-word tags whole; `_content` is
    Flickr's squeezed form), else the listing's `tags` and `machine_tags` extras."""
    if isinstance(info.get("tags"), dict):
        return [text(tag.get("raw")) or text(tag) for tag in items(info["tags"], "tag")]
    machine = listed_machine_tags(text(listed.get("machine_tags")))
    squeezed = {"".join(ch for ch in m.lower() if ch.isalnum()) for m in machine}
    # the listing spells each machine tag twice: raw in `machine_tags`, squeezed among `tags`
    plain = [t for t in text(listed.get("tags")).split() if t not in machine and t not in squeezed]
    return plain + list(dict.fromkeys(machine))


def listed_machine_tags(value: str) -> list[str]:
    """The listing's `machine_tags` extra, space-separated although a value may hold spaces
    (`dc:title=two words`): a word that does not start a machine tag continues the one before."""
    found: list[str] = []
    for word in value.split():
        if found and not _MACHINE.match(word):
            found[-1] += f" {word}"
        else:
            found.append(word)
    return found


def split_tags(raws: list[str]) -> tuple[list[str], list[str]]:
    """(the user's tags, the sink's bookkeeping tags), both as raw texts (`ns:pred=value` for machine tags)."""
    mine, bookkeeping = [], []
    for raw in raws:
        if not raw:
            continue
        machine = _MACHINE.match(raw)
        if machine and machine.group(1).lower() == BOOKKEEPING_NS:
            bookkeeping.append(raw)
        else:
            mine.append(raw)
    return mine, bookkeeping


def origin(bookkeeping: list[str]) -> dict[str, str] | None:
    """Where a photo uploaded by migrator came from: `migrator:ipernity=123` → {"source": "ipernity", "id": "123"}."""
    for raw in bookkeeping:
        machine = _MACHINE.match(raw)
        if machine:
            return {"source": machine.group(2), "id": machine.group(3)}
    return None


def geo(info: dict[str, Any], listed: dict[str, Any]) -> Geo | None:
    """getInfo `location`, else the listing's geo extras; 0,0 is how Flickr says "no location"."""
    block = obj(info.get("location")) or listed
    try:
        lat, lng = float(block.get("latitude") or 0), float(block.get("longitude") or 0)
    except (TypeError, ValueError, OverflowError):
        return None
    if (lat, lng) == (0, 0) or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return Geo(lat, lng, as_int(block.get("accuracy")) or None)


def visibility(info: dict[str, Any], listed: dict[str, Any]) -> Visibility:
    block = obj(info.get("visibility")) or listed
    return Visibility(public=flag(block.get("ispublic")), friends=flag(block.get("isfriend")),
                      family=flag(block.get("isfamily")))


def safety(info: dict[str, Any]) -> int:
    """getInfo says 0 safe, 1 moderate, 2 restricted; records count 1..3 like Flickr's upload scale."""
    level = as_int(info.get("safety_level"))
    return min(max(level + 1, 1), 3) if level is not None else 1


def comments(raw: list[dict[str, Any]]) -> list[Comment]:
    return [Comment(id=text(c.get("id")), author=text(c.get("authorname")) or text(c.get("author")),
                    posted_at=utc(c.get("datecreate")), text=text(c)) for c in raw]


def notes(info: dict[str, Any]) -> list[Note]:
    return [Note(id=text(n.get("id")), author=text(n.get("authorname")) or text(n.get("author")), text=text(n),
                 x=as_int(n.get("x")), y=as_int(n.get("y")), width=as_int(n.get("w")), height=as_int(n.get("h")))
            for n in items(obj(info.get("notes")), "note")]


def media(info: dict[str, Any], listed: dict[str, Any]) -> str:
    value = text(info.get("media")) or text(listed.get("media"))
    return value if value in ("photo", "video") else "photo"


# -- records ------------------------------------------------------------------------------------
def document(listed: dict[str, Any], info: dict[str, Any] | None, raw_comments: list[dict[str, Any]] | None,
             position: int | None, albums: list[AlbumRef], file: FileInfo | None,
             extra_metadata: dict[str, Any] | None = None) -> Document:
    """One photo or video. `info` is None when there is only the listing (the default mirror, a flickrmirrorer
    mirror's metadata): tags are then the listing's normalised forms, notes empty, safety 1;
    `raw_comments` is None when comments were not asked for."""
    metadata: dict[str, Any] = {"people.getPhotos": listed}
    if info is not None:
        metadata["photos.getInfo"] = info
    info = info or {}
    photo_id = text(info.get("id")) or text(listed.get("id"))
    if not photo_id:
        raise DocumentError("Flickr answered photos.getInfo without a photo id")
    dates = obj(info.get("dates"))
    taken_at, granularity = taken(dates) if dates else listed_taken(listed)
    tags, bookkeeping = split_tags(raw_tags(info, listed))
    if raw_comments is not None:
        metadata["photos.comments.getList"] = raw_comments
    if bookkeeping:
        metadata["migrator_tags"] = bookkeeping
    found = origin(bookkeeping)
    if found:
        metadata["origin"] = found
    metadata.update(extra_metadata or {})
    return writable(Document(
        source=SOURCE, id=photo_id, media=media(info, listed),
        title=text(info.get("title", listed.get("title"))),
        description=text(info.get("description", listed.get("description"))), tags=tags,
        taken_at=taken_at, taken_granularity=granularity,
        posted_at=utc(dates.get("posted")) or utc(listed.get("dateupload")),
        updated_at=utc(dates.get("lastupdate")) or utc(listed.get("lastupdate")),
        visibility=visibility(info, listed), safety=safety(info),
        license=canonical(FLICKR, info.get("license", listed.get("license"))), geo=geo(info, listed),
        rotation=rotation(info.get("rotation", listed.get("rotation"))),
        position=position, albums=list(albums), comments=comments(raw_comments or []), notes=notes(info),
        file=file, source_metadata=metadata,
    ))


def album(raw: dict[str, Any], members: list[str], position: int | None) -> Container:
    if not text(raw.get("id")):
        raise DocumentError("Flickr listed a photoset without an id")
    return writable(Container(kind="album", source=SOURCE, id=text(raw.get("id")), title=text(raw.get("title")),
                              description=text(raw.get("description")), members=list(members), position=position,
                              updated_at=utc(raw.get("date_update")) or utc(raw.get("date_create")),
                              source_metadata={"photosets.getList": raw}))


def collections(nodes: list[dict[str, Any]], parent: str | None = None) -> Iterator[Container]:
    """Every node of collections.getTree, parents before children; members are set and child collection ids.
    A node without an id can be neither stored nor named by another: its children hang from its parent."""
    for position, node in enumerate(nodes, 1):
        children = items(node, "collection")
        node_id = text(node.get("id"))
        if not node_id:
            yield from collections(children, parent)
            continue
        yield collection(node, parent, position)
        yield from collections(children, node_id)


def collection(node: dict[str, Any], parent: str | None, position: int | None) -> Container:
    """One collections.getTree node with an id; members are its sets' and child collections' ids."""
    sets, children = items(node, "set"), items(node, "collection")
    members = [text(s.get("id")) for s in sets] + [text(c.get("id")) for c in children]
    flat = {k: v for k, v in node.items() if k not in ("set", "collection")}
    flat["set"] = sets  # the sets' titles belong to this node; child collections get their own record
    return writable(Container(kind="collection", source=SOURCE, id=text(node.get("id")), title=text(node.get("title")),
                              description=text(node.get("description")), members=members, member_kind="container",
                              parent=parent, position=position, source_metadata={"collections.getTree": flat}))


def writable(record: Any) -> Any:
    """The record, its lone surrogate escapes (a cut emoji) turned into U+FFFD: no sink could write them as
    UTF-8. Everything else is kept exactly."""
    data = record.to_json()
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return type(record).from_json(scrub(data))
    return record


# -- listings -----------------------------------------------------------------------------------
def merge_answers(answers: list[list[str]]) -> tuple[list[str], bool]:
    """Several answers for the same listing page, each possibly missing items, merged into one order.

    Each answer is a subsequence of the true page, so "a came right before b" holds in the truth too. The
    bool says whether those constraints fix the order (False: first-seen order is a guess)."""
    rank = {item: n for n, item in enumerate(dict.fromkeys(i for answer in answers for i in answer))}
    after: dict[str, set[str]] = {item: set() for item in rank}
    waiting = dict.fromkeys(rank, 0)
    for answer in answers:
        for a, b in zip(answer, answer[1:]):
            if b not in after[a]:
                after[a].add(b)
                waiting[b] += 1
    ready = [(rank[i], i) for i in rank if waiting[i] == 0]
    heapq.heapify(ready)
    order, unique = [], True
    while ready:
        unique = unique and len(ready) == 1
        _, item = heapq.heappop(ready)
        order.append(item)
        for nxt in after[item]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, (rank[nxt], nxt))
    if len(order) < len(rank):  # contradicting answers: the list changed between calls
        return list(rank), False
    return order, unique


def fallback_sizes(sizes: list[dict[str, Any]], media: str, max_edge: int | None = None) -> list[dict[str, Any]]:
    """getSizes entries that can stand in for a missing original, best first.

    Only renditions of the same medium (a video's JPEG still is no backup of the video); the player page is
    no file; none whose longest edge passes `max_edge` (a free account's cap: Flickr would refuse it);
    cropped squares come after every uncropped size."""
    wanted = "video" if media == "video" else "photo"
    skip = {"original", "video original", "video player"}
    usable = [s for s in sizes if (text(s.get("media")) or "photo") == wanted and text(s.get("source"))
              and text(s.get("label")).lower() not in skip
              and (max_edge is None or max(as_int(s.get("width")) or 0, as_int(s.get("height")) or 0) <= max_edge)]

    def rank(size: dict[str, Any]) -> tuple[bool, int]:
        area = (as_int(size.get("width")) or 0) * (as_int(size.get("height")) or 0)
        return "square" in text(size.get("label")).lower(), -area

    return sorted(usable, key=rank)


# The url_<key> listing extras of the sizes a free account may have (up to 1024 px), with getSizes' labels.
CAPPED_SIZES = {"l": "Large", "c": "Medium 800", "z": "Medium 640", "m": "Medium", "w": "Small 400",
                "n": "Small 320", "s": "Small", "t": "Thumbnail", "q": "Large Square", "sq": "Square"}
CAPPED_EXTRAS = ",".join(f"url_{key}" for key in CAPPED_SIZES)


def listed_sizes(listed: dict[str, Any]) -> list[dict[str, Any]]:
    """The renditions a listing item names through its url_<key> extras, shaped like getSizes entries."""
    return [{"label": label, "source": text(listed.get(f"url_{key}")), "width": listed.get(f"width_{key}"),
             "height": listed.get(f"height_{key}"), "media": "photo"}
            for key, label in CAPPED_SIZES.items() if text(listed.get(f"url_{key}"))]

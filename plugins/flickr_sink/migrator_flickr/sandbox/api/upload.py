"""The upload and replace endpoints, async tickets and ``flickr.photos.upload.checkTickets``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import media, model
from ..model import Account, Photo
from ..render import Node
from .core import ApiError, Call, flag_arg, int_arg, method

if TYPE_CHECKING:  # pragma: no cover
    from ..knobs import Knobs

@dataclass
class Incoming:
    """What the upload endpoint received (the file already on disk)."""

    fields: dict[str, str]
    path: str | None
    size: int
    sha256: str
    head: bytes
    filename: str | None
    truncated: bool = False


UPLOAD_FILE_ERRORS = {
    2: "No photo specified",
    3: "General upload failure",
    4: "Filesize was zero",
    5: "Filetype was not recognised",
    6: "User exceeded upload limit",
    7: "User exceeded video upload limit",
    8: "Filesize was too large",
}


def check_file(call: Call, inc: Incoming | None) -> tuple[str, str]:
    """Validate an uploaded file; returns (media, format) or raises ApiError."""
    k = call.knobs
    if inc is None or inc.path is None:
        raise ApiError(2, UPLOAD_FILE_ERRORS[2])
    if inc.size == 0:
        raise ApiError(4, UPLOAD_FILE_ERRORS[4])
    kind = media.sniff(inc.head)
    if kind is None:
        raise ApiError(5, UPLOAD_FILE_ERRORS[5])
    med, fmt = kind
    if med == "video" and k.strict_video_filename and "." not in (inc.filename or ""):
        raise ApiError(5, UPLOAD_FILE_ERRORS[5])
    if med == "video" and k.videos_disabled:
        raise ApiError(0, "Video uploads are temporarily disabled")
    limit = int(k.max_video_bytes if med == "video" else k.max_photo_bytes)
    if inc.truncated or inc.size > limit:
        raise ApiError(8, UPLOAD_FILE_ERRORS[8])
    return med, fmt


def _pending_counts(call: Call) -> tuple[int, int, int]:
    items = nonpublic = videos = 0
    for t in call.account.tickets.values():
        if t.complete == 0 and t.pending and not t.pending.get("replace"):
            items += 1
            nonpublic += 0 if t.pending["is_public"] else 1
            videos += 1 if t.pending["media"] == "video" else 0
    return items, nonpublic, videos


def upload_fields(call: Call, f: dict[str, str]) -> dict[str, Any]:
    def pick(name: str, allowed: tuple[int, ...], default: int) -> int:
        v = int_arg(f.get(name))
        return v if v in allowed else default

    is_public = flag_arg(f.get("is_public"))
    return {
        "title": f.get("title", ""),
        "description": f.get("description", ""),
        "tags": model.split_tags(f.get("tags", "")),
        "is_public": 1 if is_public is None else is_public,
        "is_friend": flag_arg(f.get("is_friend")) or 0,
        "is_family": flag_arg(f.get("is_family")) or 0,
        "safety_level": pick("safety_level", (1, 2, 3), 1),
        "content_type": pick("content_type", (1, 2, 3), 1),
        "hidden": pick("hidden", (1, 2), 1),
    }


def do_upload(call: Call, inc: Incoming | None, sandbox_settle: Callable[[], None]) -> Node:
    med, fmt = check_file(call, inc)
    k = call.knobs
    meta = upload_fields(call, inc.fields)
    counts = call.account.counts()
    p_items, p_nonpub, p_videos = _pending_counts(call)
    if k.free_account:
        if counts["items"] + p_items >= int(k.max_items):
            raise ApiError(6, UPLOAD_FILE_ERRORS[6])
        if not meta["is_public"] and counts["nonpublic"] + p_nonpub >= int(k.max_nonpublic):
            raise ApiError(6, "User exceeded upload limit (non-public items)")
    if med == "video" and k.max_videos is not None and counts["videos"] + p_videos >= int(k.max_videos):
        raise ApiError(7, UPLOAD_FILE_ERRORS[7])
    dedup = inc.fields.get("dedup_check")
    if dedup in ("1", "2"):
        for p in call.account.photos.values():
            if p.sha256 == inc.sha256:
                raise ApiError(9, "Duplicate photo/video detected",
                               extra=[Node("duplicate_photo_id", text=p.id)])
    meta.update({"media": med, "format": fmt, "path": inc.path, "size": inc.size, "sha256": inc.sha256,
                 "head": inc.head})
    is_async = inc.fields.get("async") == "1" or bool(k.async_uploads)
    if is_async:
        return _ticket(call, meta)
    p = materialize(call.account, meta, call.now, k)
    return Node("rsp", children=[Node("photoid", text=p.id)])


def do_replace(call: Call, inc: Incoming | None) -> Node:
    k = call.knobs
    if k.free_account:
        raise ApiError(1, "Not a pro account")
    pid = (inc.fields.get("photo_id") if inc else "") or ""
    p = call.account.photos.get(pid.strip())
    if p is None:
        raise ApiError(3, "General upload failure (photo not found)")
    med, fmt = check_file(call, inc)
    meta = {"replace": p.id, "media": med, "format": fmt, "path": inc.path, "size": inc.size,
            "sha256": inc.sha256, "head": inc.head}
    if inc.fields.get("async") == "1" or k.async_uploads:
        return _ticket(call, meta)
    apply_replace(call.account, p, meta, call.now)
    return Node("rsp", children=[Node("photoid", {"secret": p.secret, "originalsecret": p.originalsecret},
                                      text=p.id)])


def _ticket(call: Call, meta: dict[str, Any]) -> Node:
    tid = call.account.new_ticket_id()
    mono = time.monotonic()
    call.account.tickets[tid] = model.Ticket(id=tid, created=mono, ready_at=mono + float(call.knobs.async_delay or 0),
                                             pending=meta)
    return Node("rsp", children=[Node("ticketid", text=tid)])


def settle_tickets(account: Account, knobs: Knobs, delete_file: Callable[[str], None]) -> None:
    """Complete async tickets whose delay has passed."""
    mono = time.monotonic()
    for t in account.tickets.values():
        if t.complete != 0 or t.pending is None or t.ready_at > mono:
            continue
        meta = t.pending
        t.pending = None
        if knobs.async_fail_rate and knobs.random() < float(knobs.async_fail_rate):
            t.complete = 2
            if meta.get("path"):
                delete_file(meta["path"])
            continue
        if meta.get("replace"):
            p = account.photos.get(meta["replace"])
            if p is None:
                t.complete = 2
                continue
            apply_replace(account, p, meta, model.now())
        else:
            p = materialize(account, meta, model.now(), knobs)
        t.photo_id = p.id
        t.complete = 1


def _dims(meta: dict[str, Any]) -> tuple[int, int]:
    if meta["media"] == "video":
        return 1280, 720
    return media.image_size(meta["head"]) or (1600, 1200)


def materialize(account: Account, meta: dict[str, Any], now: int, knobs: Knobs) -> Photo:
    pid = account.new_photo_id()
    p = Photo(id=pid, secret=account.new_secret(), originalsecret=account.new_secret(),
              license=int(knobs.default_license or 0))
    p.title = meta["title"]
    p.description = meta["description"]
    p.is_public, p.is_friend, p.is_family = meta["is_public"], meta["is_friend"], meta["is_family"]
    p.safety_level = meta["safety_level"]
    p.content_type = meta["content_type"]
    p.hidden = meta["hidden"]
    p.media = meta["media"]
    p.original_format = meta["format"]
    p.path, p.size, p.sha256 = meta["path"], meta["size"], meta["sha256"]
    p.width, p.height = _dims(meta)
    taken = media.exif_date_taken(meta["head"]) if p.media == "photo" else None
    if taken:
        try:
            p.date_taken = model.normalize_taken(taken)
        except ValueError:
            taken = None
    if not taken:
        p.date_taken = model.epoch_to_taken(now)
        p.date_taken_unknown = 1
    p.date_posted = p.date_uploaded = p.last_update = now
    p.visible_at = time.monotonic() + float(knobs.search_lag or 0)
    account.photos[pid] = p
    account.add_tags(p, meta["tags"], truncate=True)
    return p


def apply_replace(account: Account, p: Photo, meta: dict[str, Any], now: int) -> None:
    old = p.path
    p.path, p.blob, p.size, p.sha256 = meta["path"], None, meta["size"], meta["sha256"]
    p.media, p.original_format = meta["media"], meta["format"]
    p.width, p.height = _dims(meta)
    p.secret = account.new_secret()
    p.originalsecret = account.new_secret()
    p.last_update = now
    if old and old != p.path:
        account.retire_file(old)


@method("flickr.photos.upload.checkTickets")
def check_tickets(call: Call):
    ids = call.id_list("tickets")
    out = []
    for tid in ids:
        t = call.account.tickets.get(tid)
        if t is None:
            out.append(Node("ticket", {"id": tid, "invalid": 1}))
        elif t.complete == 1:
            out.append(Node("ticket", {"id": tid, "complete": 1, "photoid": t.photo_id}))
        else:
            out.append(Node("ticket", {"id": tid, "complete": t.complete}))
    return Node("uploader", children=out, arrays=("ticket",))

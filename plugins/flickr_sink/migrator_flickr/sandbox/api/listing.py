"""Photo listings shared by several namespaces: paging, stream order and the common search filters."""

from __future__ import annotations

import math
import re

from .. import model
from ..model import Photo
from ..render import Node
from .core import ApiError, Call, int_arg
from .photo_fields import parse_extras, photo_item


def paginate(call: Call, items: list, default_per_page: int = 100, max_per_page: int = 500,
             cap: int | None = None) -> tuple[list, int, int, int, int]:
    """Returns (page items, page, pages, per_page, total); may shorten pages (knob)."""
    per_page = int_arg(call.arg("per_page"), default_per_page) or default_per_page
    if per_page < 1:
        per_page = default_per_page
    per_page = min(per_page, max_per_page)
    page = int_arg(call.arg("page"), 1) or 1
    if page < 1:
        page = 1
    total = len(items)
    if cap is not None and (page - 1) * per_page >= cap and total > cap:
        raise ApiError(20, "Excessive photo offset in search")
    pages = math.ceil(total / per_page) if total else 0
    if pages and page > pages:
        page = pages  # Flickr repeats the last page for out-of-range pages
    chunk = items[(page - 1) * per_page: page * per_page]
    prob = call.knobs.short_pages
    if prob is True:
        prob = 1.0
    if prob and page < pages and len(chunk) > 1 and call.knobs.random() < float(prob):
        drop = 1 + int(call.knobs.random() * max(1, len(chunk) // 10))
        drop = min(drop, len(chunk) - 1)
        victims = set()
        while len(victims) < drop:
            victims.add(int(call.knobs.random() * len(chunk)))
        chunk = [x for i, x in enumerate(chunk) if i not in victims]
    return chunk, page, pages, per_page, total


def photos_listing(call: Call, photos: list[Photo], tag: str = "photos", default_per_page: int = 100,
                   cap: int | None = None) -> Node:
    extras = parse_extras(call)
    chunk, page, pages, per_page, total = paginate(call, photos, default_per_page, 500, cap)
    return Node(tag, {"page": page, "pages": pages, "perpage": per_page, "total": str(total)},
                children=[photo_item(call, p, extras) for p in chunk], arrays=("photo",))


def stream_order(photos) -> list[Photo]:
    return sorted(photos, key=lambda p: (p.date_posted, int(p.id)), reverse=True)


def _privacy_ok(p: Photo, pf: int | None) -> bool:
    if not pf:
        return True
    if pf == 1:
        return bool(p.is_public)
    if pf == 2:
        return not p.is_public and p.is_friend and not p.is_family
    if pf == 3:
        return not p.is_public and p.is_family and not p.is_friend
    if pf == 4:
        return not p.is_public and p.is_friend and p.is_family
    if pf == 5:
        return not p.is_public and not p.is_friend and not p.is_family
    return True


_CONTENT_TYPES = {"1": {1}, "2": {2}, "3": {3}, "4": {1, 2}, "5": {2, 3}, "6": {1, 3}, "7": {1, 2, 3}}


def common_filters(call: Call, photos: list[Photo]) -> list[Photo]:
    out = [p for p in photos if call.visible(p)]
    lo = model.parse_date_arg(call.arg("min_upload_date", "") or "")
    hi = model.parse_date_arg(call.arg("max_upload_date", "") or "")
    if lo is not None:
        out = [p for p in out if p.date_posted >= lo]
    if hi is not None:
        out = [p for p in out if p.date_posted <= hi]
    tlo = model.parse_date_arg(call.arg("min_taken_date", "") or "")
    thi = model.parse_date_arg(call.arg("max_taken_date", "") or "")
    if tlo is not None:
        out = [p for p in out if model.taken_to_epoch(p.date_taken) >= tlo]
    if thi is not None:
        out = [p for p in out if model.taken_to_epoch(p.date_taken) <= thi]
    pf = int_arg(call.arg("privacy_filter"))
    if pf and call.owner:
        out = [p for p in out if _privacy_ok(p, pf)]
    ct = call.arg("content_type") or call.arg("content_types")
    if ct:
        wanted = set()
        for c in re.split(r"[,\s]+", ct):
            c = c.strip()
            wanted |= _CONTENT_TYPES.get(c, set())
        if wanted:
            out = [p for p in out if p.content_type in wanted]
    med = (call.arg("media") or "all").lower()
    if med in ("photos", "photo"):
        out = [p for p in out if p.media == "photo"]
    elif med in ("videos", "video"):
        out = [p for p in out if p.media == "video"]
    safe = int_arg(call.arg("safe_search"))
    if safe and not call.owner:
        out = [p for p in out if p.safety_level <= safe]
    return out

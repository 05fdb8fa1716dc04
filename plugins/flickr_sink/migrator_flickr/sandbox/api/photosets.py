"""``flickr.photosets.*``: albums, their photos and their order."""

from __future__ import annotations

import math
from typing import Any

from .. import model
from ..model import Photoset
from ..render import Node
from .core import WRITE, ApiError, Call, int_arg, method, user_id_arg
from .listing import common_filters, paginate
from .photo_fields import parse_extras, photo_item


def _set(call: Call, code: int = 1, msg: str = "Photoset not found") -> Photoset:
    s = call.account.get_set((call.arg("photoset_id") or "").strip())
    if s is None:
        raise ApiError(code, msg)
    return s


def set_counts(call: Call, s: Photoset) -> tuple[int, int]:
    photos = [call.account.photos[x] for x in s.photos if x in call.account.photos]
    photos = [p for p in photos if call.visible(p)]
    v = sum(1 for p in photos if p.media == "video")
    return len(photos) - v, v


def _set_node(call: Call, s: Photoset, tag: str = "photoset", extra: dict[str, Any] | None = None) -> Node:
    np_, nv = set_counts(call, s)
    prim = call.account.photos.get(s.primary)
    a: dict[str, Any] = {"id": s.id, "owner": call.account.user.nsid, "username": call.account.user.username,
                         "primary": s.primary, "secret": prim.secret if prim else s.secret,
                         "server": model.SERVER, "farm": model.FARM, "photos": np_, "videos": nv,
                         "count_views": str(s.count_views), "count_comments": "0", "count_photos": np_,
                         "count_videos": nv, "can_comment": 1, "date_create": str(s.date_create),
                         "date_update": str(s.date_update)}
    if extra:
        a.update(extra)
    return Node(tag, a, children=[Node("title", text=s.title), Node("description", text=s.description)])


@method("flickr.photosets.getList")
def photosets_get_list(call: Call):
    user_id_arg(call, unknown_code=1)
    sets = list(call.account.photosets)
    if not call.owner:
        sets = [s for s in sets if set_counts(call, s) != (0, 0)]
    pe = parse_extras(call, "primary_photo_extras")
    per_page = min(int_arg(call.arg("per_page"), 500) or 500, 500)
    if per_page < 1:
        per_page = 500
    page = max(1, int_arg(call.arg("page"), 1) or 1)
    total = len(sets)
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    chunk = sets[(page - 1) * per_page: page * per_page]
    nodes = []
    for s in chunk:
        n = _set_node(call, s)
        prim = call.account.photos.get(s.primary)
        if pe and prim is not None:
            n.add(photo_item(call, prim, pe, tag="primary_photo_extras"))
        nodes.append(n)
    return Node("photosets", {"page": page, "pages": pages, "perpage": per_page, "total": total, "cancreate": 1},
                children=nodes, arrays=("photoset",))


@method("flickr.photosets.getInfo")
def photosets_get_info(call: Call):
    s = _set(call)
    if not call.owner and set_counts(call, s) == (0, 0):
        raise ApiError(1, "Photoset not found")
    return _set_node(call, s)


@method("flickr.photosets.getPhotos")
def photosets_get_photos(call: Call):
    s = _set(call)
    uid = call.arg("user_id")
    if uid and uid != "me" and uid not in (call.account.user.nsid, call.account.user.username):
        raise ApiError(2, "User not found")
    photos = [call.account.photos[x] for x in s.photos if x in call.account.photos]
    photos = common_filters(call, photos)
    if not photos and not call.owner:
        raise ApiError(1, "Photoset not found")
    extras = parse_extras(call)
    chunk, page, pages, per_page, total = paginate(call, photos, 500, 500)
    items = [photo_item(call, p, extras, lead={}, tail={"isprimary": "1" if p.id == s.primary else "0"})
             for p in chunk]
    u = call.account.user
    return Node("photoset", {"id": s.id, "primary": s.primary, "owner": u.nsid, "ownername": u.username,
                             "title": s.title, "page": page, "per_page": per_page, "perpage": per_page,
                             "pages": pages, "total": total}, children=items, arrays=("photo",))


@method("flickr.photosets.create", WRITE)
def photosets_create(call: Call):
    title = call.arg("title")
    if not title:
        raise ApiError(1, "No title specified")
    pid = (call.arg("primary_photo_id") or "").strip()
    if pid not in call.account.photos:
        raise ApiError(2, "Photo not found")
    if call.knobs.max_sets is not None and len(call.account.photosets) >= int(call.knobs.max_sets):
        raise ApiError(3, "Can't create any more sets")
    sid = call.account.new_set_id()
    s = Photoset(id=sid, title=title, description=call.params.get("description", ""), primary=pid, photos=[pid],
                 date_create=call.now, date_update=call.now, secret=call.account.new_secret())
    call.account.photosets.insert(0, s)
    return Node("photoset", {"id": sid, "url": f"{call.base}/photos/{call.account.user.nsid}/sets/{sid}/"})


def _set_photo_arg(call: Call) -> str:
    """The `photo_id` of a photoset method; error 2 (not 1, which means the set) when unknown."""
    pid = (call.arg("photo_id") or "").strip()
    if pid not in call.account.photos:
        raise ApiError(2, "Photo not found")
    return pid


def _member(call: Call) -> tuple[Any, str]:
    """The set and its member `photo_id`; error 3 when the photo is not in the set."""
    s = _set(call)
    pid = _set_photo_arg(call)
    if pid not in s.photos:
        raise ApiError(3, "Photo not in set")
    return s, pid


@method("flickr.photosets.addPhoto", WRITE)
def photosets_add_photo(call: Call):
    s = _set(call)
    pid = _set_photo_arg(call)
    if pid in s.photos:
        raise ApiError(3, "Photo already in set")
    if call.knobs.max_set_photos is not None and len(s.photos) >= int(call.knobs.max_set_photos):
        raise ApiError(10, "Maximum number of photos in set")
    s.photos.append(pid)
    s.date_update = call.now


@method("flickr.photosets.removePhoto", WRITE)
def photosets_remove_photo(call: Call):
    s, pid = _member(call)
    s.photos.remove(pid)
    s.date_update = call.now
    if not s.photos:
        call.account.remove_set(s.id)
    elif s.primary == pid:
        s.primary = s.photos[0]


@method("flickr.photosets.removePhotos", WRITE)
def photosets_remove_photos(call: Call):
    s = _set(call)
    ids = call.id_list("photo_ids")
    for pid in ids:
        if pid not in call.account.photos:
            raise ApiError(2, "Photo not found")
    s.photos = [x for x in s.photos if x not in ids]
    s.date_update = call.now
    if not s.photos:
        call.account.remove_set(s.id)
    elif s.primary not in s.photos:
        s.primary = s.photos[0]


@method("flickr.photosets.editPhotos", WRITE)
def photosets_edit_photos(call: Call):
    s = _set(call)
    prim = (call.arg("primary_photo_id") or "").strip()
    ids = call.id_list("photo_ids")
    if not ids:
        raise ApiError(5, "Empty photos list")
    for pid in ids:
        if pid not in call.account.photos:
            raise ApiError(2, "Photo not found")
    if prim not in call.account.photos:
        raise ApiError(3, "Primary photo not found")
    if prim not in ids:
        raise ApiError(4, "Primary photo not in list")
    s.photos = list(dict.fromkeys(ids))  # first occurrence wins
    s.primary = prim
    s.date_update = call.now


@method("flickr.photosets.reorderPhotos", WRITE)
def photosets_reorder(call: Call):
    s = _set(call)
    ids = call.id_list("photo_ids")
    for pid in ids:
        if pid not in s.photos:
            raise ApiError(2, "Photo not found")
    first = list(dict.fromkeys(ids))
    s.photos = first + [x for x in s.photos if x not in first]
    s.date_update = call.now


@method("flickr.photosets.setPrimaryPhoto", WRITE)
def photosets_set_primary(call: Call):
    s, pid = _member(call)
    s.primary = pid
    s.date_update = call.now


@method("flickr.photosets.editMeta", WRITE)
def photosets_edit_meta(call: Call):
    s = _set(call)
    title = call.arg("title")
    if not title:
        raise ApiError(2, "No title specified")
    s.title = title
    if "description" in call.params:
        s.description = call.params["description"]
    s.date_update = call.now


@method("flickr.photosets.orderSets", WRITE)
def photosets_order(call: Call):
    ids = call.id_list("photoset_ids")
    by_id = {s.id: s for s in call.account.photosets}
    for sid in ids:
        if sid not in by_id:
            raise ApiError(1, "Set not found")
    first = [by_id[sid] for sid in dict.fromkeys(ids)]
    call.account.photosets = first + [s for s in call.account.photosets if s not in first]


@method("flickr.photosets.delete", WRITE)
def photosets_delete(call: Call):
    s = _set(call)
    call.account.remove_set(s.id)

"""``flickr.photos.*`` writes: title, tags, permissions, safety, content type, dates, deletion and rotation."""

from __future__ import annotations

from .. import model
from ..render import Node
from .core import DELETE, WRITE, ApiError, Call, flag_arg, int_arg, method, touch


@method("flickr.photos.setMeta", WRITE)
def photos_set_meta(call: Call):
    p = call.photo()
    title = call.params.get("title")
    desc = call.params.get("description")
    if title is None and desc is None:
        raise ApiError(2, "Required arguments missing")
    if title is not None:
        p.title = title
    if desc is not None:
        p.description = desc
    touch(p, call)


@method("flickr.photos.setTags", WRITE)
def photos_set_tags(call: Call):
    p = call.photo()
    if not call.account.add_tags(p, model.split_tags(call.params.get("tags", "")), replace=True):
        raise ApiError(2, "Maximum number of tags reached")
    touch(p, call)


@method("flickr.photos.addTags", WRITE)
def photos_add_tags(call: Call):
    p = call.photo()
    if call.params.get("tags") is None:
        raise ApiError(2, "Required arguments missing")
    if not call.account.add_tags(p, model.split_tags(call.params.get("tags", ""))):
        raise ApiError(2, "Maximum number of tags reached")
    touch(p, call)


@method("flickr.photos.removeTag", WRITE)
def photos_remove_tag(call: Call):
    tid = call.arg("tag_id")
    for p in call.account.photos.values():
        for t in p.tags:
            if t.id == tid:
                p.tags.remove(t)
                touch(p, call)
                return None
    raise ApiError(2, "Tag not found")


def _nonpublic_room(call: Call, becoming_private: int) -> bool:
    k = call.knobs
    if not k.free_account or not becoming_private:
        return True
    return call.account.counts()["nonpublic"] + becoming_private <= int(k.max_nonpublic)


@method("flickr.photos.setPerms", WRITE)
def photos_set_perms(call: Call):
    p = call.photo()
    vals = [flag_arg(call.params.get(k)) for k in ("is_public", "is_friend", "is_family")]
    if any(v is None for v in vals):
        raise ApiError(2, "Required arguments missing")
    pub, fr, fa = vals
    if not pub and p.is_public and not _nonpublic_room(call, 1):
        raise ApiError(3, f"Free accounts are limited to {int(call.knobs.max_nonpublic)} non-public items")
    p.is_public, p.is_friend, p.is_family = pub, fr, fa
    pc = int_arg(call.arg("perm_comment"))
    pa = int_arg(call.arg("perm_addmeta"))
    if pc is not None and 0 <= pc <= 3:
        p.perm_comment = pc
    if pa is not None and 0 <= pa <= 3:
        p.perm_addmeta = pa
    touch(p, call)
    return Node("photoid", {"secret": p.secret, "originalsecret": p.originalsecret}, text=p.id)


@method("flickr.photos.setSafetyLevel", WRITE)
def photos_set_safety(call: Call):
    p = call.photo()
    sl = call.arg("safety_level")
    hid = call.arg("hidden")
    if sl is not None:
        v = int_arg(sl)
        if v not in (1, 2, 3):
            raise ApiError(2, "Invalid or missing safety level")
    if hid is not None and int_arg(hid) not in (0, 1):
        raise ApiError(3, "Invalid hidden value")
    if sl is not None:
        p.safety_level = int_arg(sl)
    if hid is not None:  # here 1 = hide from public searches, 0 = show (upload uses 2 / 1)
        p.hidden = 2 if int_arg(hid) == 1 else 1
    touch(p, call)


@method("flickr.photos.setContentType", WRITE)
def photos_set_content_type(call: Call):
    p = call.photo()
    ct = int_arg(call.arg("content_type"))
    if ct not in (1, 2, 3):
        raise ApiError(2, "Required arguments missing")
    p.content_type = ct
    touch(p, call)
    return Node("photo", {"id": p.id, "content_type": ct})


def _taken_bounds(call: Call) -> tuple[int, int]:
    lo, hi = call.knobs.taken_range or (None, None)
    lo_e = model.taken_to_epoch(model.normalize_taken(str(lo))) if lo else -(10**12)
    if hi is None:
        hi_e = call.now + 86400
    elif isinstance(hi, (int, float)):
        hi_e = int(hi)
    else:
        hi_e = model.taken_to_epoch(model.normalize_taken(str(hi)))
    if isinstance(lo, (int, float)):
        lo_e = int(lo)
    return lo_e, hi_e


@method("flickr.photos.setDates", WRITE)
def photos_set_dates(call: Call):
    p = call.photo()
    posted = call.arg("date_posted")
    taken = call.arg("date_taken")
    gran = call.arg("date_taken_granularity")
    if posted is None and taken is None and gran is None:
        raise ApiError(2, "Not enough arguments")
    g = None
    if gran is not None:
        g = int_arg(gran)
        if g is None or not 0 <= g <= 10:
            raise ApiError(3, "Invalid granularity")
    new_posted = None
    if posted is not None:
        new_posted = int_arg(posted)
        floor = call.knobs.reject_dates_before
        if floor is None:
            floor = call.account.user.created_at
        if new_posted is None or new_posted < int(floor) or new_posted > call.now + 60:
            raise ApiError(4, "Invalid date posted")
    new_taken = None
    if taken is not None:
        try:
            new_taken = model.normalize_taken(taken)
        except model.DateFormatError:
            raise ApiError(5, "Invalid date taken format") from None
        except model.DateRangeError:
            raise ApiError(6, "Invalid date taken") from None
        lo, hi = _taken_bounds(call)
        if not lo <= model.taken_to_epoch(new_taken) <= hi:
            raise ApiError(6, "Invalid date taken")
    if new_posted is not None:
        p.date_posted = new_posted
    if new_taken is not None:
        p.date_taken = new_taken
        p.date_taken_unknown = 0
        if g is None:
            g = 0
    if g is not None:
        p.date_taken_granularity = g
    touch(p, call)


@method("flickr.photos.delete", DELETE)
def photos_delete(call: Call):
    p = call.photo()
    call.account.remove_photo(p.id)


@method("flickr.photos.transform.rotate", WRITE)
def photos_transform_rotate(call: Call):
    """Turn the photo clockwise by `degrees` more: not idempotent, as on Flickr. The rotated sizes get a new
    secret; getInfo's `rotation` is the sum so far."""
    p = call.photo()
    degrees = int_arg(call.arg("degrees"))
    if degrees not in (90, 180, 270):
        raise ApiError(2, "Invalid rotation degrees")
    p.rotation = (p.rotation + degrees) % 360
    if degrees != 180:
        p.width, p.height = p.height, p.width
    p.secret = call.account.new_secret()
    touch(p, call)
    return Node("photoid", {"secret": p.secret, "originalsecret": p.originalsecret}, text=p.id)

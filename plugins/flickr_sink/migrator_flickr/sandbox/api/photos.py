"""``flickr.photos.*`` reads: search, listings, one photo's info, sizes, permissions and contexts."""

from __future__ import annotations

import re
import time
from typing import Any

from .. import model
from ..model import Photo
from ..render import Node
from .core import READ, ApiError, Call, method, user_id_arg
from .listing import common_filters, photos_listing, stream_order
from .photo_fields import geo_str, page_url, place_of, sees_original, served_sizes, static_url, within_cap
from .photosets import set_counts


def _mt_match(pattern: str, tag: model.Tag) -> bool:
    if not tag.machine:
        return False
    pat = pattern.strip().replace('"', "").lower()
    m = re.match(r"^([^:=]*)(?::([^=]*))?(?:=(.*))?$", pat, re.S)
    if not m:
        return False
    pns, ppred, pval = m.groups()
    ns, rest = tag.content.split(":", 1)
    pred, val = rest.split("=", 1)
    for want, have in ((pns, ns), (ppred, pred), (pval, val)):
        if want not in (None, "", "*") and want != have:
            return False
    return True


@method("flickr.photos.search")
def photos_search(call: Call):
    keys = ("user_id", "tags", "machine_tags", "text", "min_upload_date", "max_upload_date", "min_taken_date",
            "max_taken_date", "bbox", "group_id", "place_id", "woe_id", "lat", "contacts")
    if not any(call.arg(k) for k in keys):
        raise ApiError(3, "Parameterless searches have been disabled. Please use flickr.photos.getRecent instead.")
    uid = user_id_arg(call)
    photos = list(call.account.photos.values())
    if uid is None and not call.owner:
        photos = [p for p in photos if p.hidden != 2]
    mono = time.monotonic()
    photos = [p for p in photos if p.visible_at <= mono]
    photos = common_filters(call, photos)
    tags = call.arg("tags")
    if tags:
        wanted = [t.strip() for t in tags.split(",") if t.strip()]
        pos = [model.normalize_tag(t) for t in wanted if not t.startswith("-")]
        neg = [model.normalize_tag(t[1:]) for t in wanted if t.startswith("-")]
        mode = (call.arg("tag_mode") or "any").lower()
        if len(pos) > 20 and mode == "all":
            raise ApiError(1, "Too many tags in ALL query")

        def tag_ok(p: Photo) -> bool:
            have = {t.content for t in p.tags}
            if any(n in have for n in neg):
                return False
            if not pos:
                return True
            return all(x in have for x in pos) if mode == "all" else any(x in have for x in pos)

        photos = [p for p in photos if tag_ok(p)]
    mts = call.arg("machine_tags")
    if mts:
        pats = [m.strip() for m in mts.split(",") if m.strip()]
        mode = (call.arg("machine_tag_mode") or "any").lower()

        def mt_ok(p: Photo) -> bool:
            hits = [any(_mt_match(pat, t) for t in p.tags) for pat in pats]
            return all(hits) if mode == "all" else any(hits)

        photos = [p for p in photos if mt_ok(p)]
    text = call.arg("text")
    if text:
        needle = text.lower()
        photos = [p for p in photos if needle in p.title.lower() or needle in p.description.lower()
                  or any(model.normalize_tag(needle) == t.content for t in p.tags)]
    sort = (call.arg("sort") or "date-posted-desc").lower()
    if sort == "date-posted-asc":
        photos = sorted(photos, key=lambda p: (p.date_posted, int(p.id)))
    elif sort == "date-taken-asc":
        photos = sorted(photos, key=lambda p: (p.date_taken, int(p.id)))
    elif sort == "date-taken-desc":
        photos = sorted(photos, key=lambda p: (p.date_taken, int(p.id)), reverse=True)
    else:
        photos = stream_order(photos)
    cap = call.knobs.search_cap
    return photos_listing(call, photos, cap=int(cap) if cap else None)


@method("flickr.photos.getNotInSet", READ)
def photos_not_in_set(call: Call):
    in_sets = {pid for s in call.account.photosets for pid in s.photos}
    photos = [p for p in call.account.photos.values() if p.id not in in_sets]
    return photos_listing(call, stream_order(common_filters(call, photos)))


@method("flickr.photos.recentlyUpdated", READ)
def photos_recently_updated(call: Call):
    min_date = model.parse_date_arg(call.arg("min_date") or "")
    if min_date is None:
        raise ApiError(1, "Required parameter missing")
    photos = [p for p in call.account.photos.values() if p.last_update >= min_date]
    photos.sort(key=lambda p: (p.last_update, int(p.id)), reverse=True)
    return photos_listing(call, photos)


@method("flickr.photos.getInfo")
def photos_get_info(call: Call):
    p = call.photo()
    secret = call.arg("secret")
    if secret and secret != p.secret:
        raise ApiError(2, "Invalid secret")
    acct = call.account
    u = acct.user
    a: dict[str, Any] = {"id": p.id, "secret": p.secret, "server": p.server, "farm": p.farm,
                         "dateuploaded": str(p.date_posted), "isfavorite": 0, "license": str(p.license),
                         "safety_level": str(p.safety_level - 1), "rotation": p.rotation}
    if sees_original(call):
        a["originalsecret"] = p.originalsecret
        a["originalformat"] = p.original_format
    a["views"] = str(p.views)
    a["media"] = p.media
    children = [
        Node("owner", {"nsid": u.nsid, "username": u.username, "realname": u.realname, "location": u.location,
                       "iconserver": model.SERVER, "iconfarm": model.FARM, "path_alias": u.path_alias or ""}),
        Node("title", text=p.title),
        Node("description", text=p.description),
        Node("visibility", {"ispublic": p.is_public, "isfriend": p.is_friend, "isfamily": p.is_family}),
        Node("dates", {"posted": str(p.date_posted), "taken": p.date_taken,
                       "takengranularity": p.date_taken_granularity, "takenunknown": str(p.date_taken_unknown),
                       "lastupdate": str(p.last_update)}),
    ]
    if call.owner:
        children.append(Node("permissions", {"permcomment": p.perm_comment, "permaddmeta": p.perm_addmeta}))
    children += [
        Node("editability", {"cancomment": 1 if call.owner else 0, "canaddmeta": 1 if call.owner else 0}),
        Node("publiceditability", {"cancomment": 1, "canaddmeta": 0}),
        Node("usage", {"candownload": 1, "canblog": 0, "canprint": 0, "canshare": 1}),
        Node("comments", text=str(len(acct.comments.get(p.id, [])))),
        Node("notes", arrays=("note",)),
        Node("people", {"haspeople": 0}),
        Node("tags", children=[Node("tag", {"id": t.id, "author": t.author, "authorname": u.username,
                                            "raw": t.raw, "machine_tag": 1 if t.machine else 0}, text=t.content)
                               for t in p.tags], arrays=("tag",)),
    ]
    if p.geo:
        g = p.geo
        place_id, woeid = place_of(g["latitude"], g["longitude"])
        children.append(Node("location", {"latitude": geo_str(g["latitude"]), "longitude": geo_str(g["longitude"]),
                                          "accuracy": str(g["accuracy"]), "context": str(g.get("context", 0)),
                                          "place_id": place_id, "woeid": woeid}))
        children.append(Node("geoperms", {"ispublic": g.get("is_public", 1), "iscontact": g.get("is_contact", 0),
                                          "isfriend": g.get("is_friend", 0), "isfamily": g.get("is_family", 0)}))
    children.append(Node("urls", children=[Node("url", {"type": "photopage"}, text=page_url(call, p))],
                         arrays=("url",)))
    if p.media == "video":
        children.append(Node("video", {"ready": 1, "failed": 0, "pending": 0, "duration": 10,
                                       "width": p.width, "height": p.height}))
    return Node("photo", a, children=children)


@method("flickr.photos.getSizes")
def photos_get_sizes(call: Call):
    p = call.photo()
    sizes = []
    for label, _key, suffix, w, h in served_sizes(call, p):
        if label == "Square":
            wv, hv = w, h
        else:
            wv, hv = str(w), str(h)
        src = static_url(call, p, suffix, original=(label == "Original"))
        sizes.append(Node("size", {"label": label, "width": wv, "height": hv, "source": src,
                                   "url": f"{page_url(call, p)}sizes/{suffix.strip('_') or 'm'}/",
                                   "media": "photo"}))
    if p.media == "video":
        nsid = call.account.user.nsid
        play = f"{call.base}/photos/{nsid}/{p.id}/play"
        for label, kind, (w, h) in (("Video Player", None, (640, 360)), ("Site MP4", "site", (640, 360)),
                                    ("Mobile MP4", "mobile", (480, 270)), ("HD MP4", "hd", (1280, 720))):
            if not within_cap(call, w, h):
                continue
            src = f"{call.base}/apps/video/player?photo_id={p.id}" if kind is None else f"{play}/{kind}/{p.secret}/"
            sizes.append(Node("size", {"label": label, "width": w, "height": h, "source": src,
                                       "url": page_url(call, p), "media": "video"}))
        if sees_original(call) and not call.knobs.video_without_original:
            sizes.append(Node("size", {"label": "Video Original", "width": p.width, "height": p.height,
                                       "source": f"{play}/orig/{p.originalsecret}/",
                                       "url": page_url(call, p), "media": "video"}))
    return Node("sizes", {"canblog": 0, "canprint": 0, "candownload": 1}, children=sizes, arrays=("size",))


@method("flickr.photos.getPerms", READ)
def photos_get_perms(call: Call):
    p = call.photo()
    return Node("perms", {"id": p.id, "ispublic": p.is_public, "isfriend": p.is_friend, "isfamily": p.is_family,
                          "permcomment": p.perm_comment, "permaddmeta": p.perm_addmeta})


@method("flickr.photos.getAllContexts")
def photos_all_contexts(call: Call):
    p = call.photo()
    sets = call.account.sets_of(p.id)
    return Node("rsp", children=[Node("set", {"id": s.id, "title": s.title, "primary": s.primary,
                                              "secret": s.secret, "server": model.SERVER, "farm": model.FARM,
                                              "view_count": s.count_views, "comment_count": 0,
                                              "count_photo": set_counts(call, s)[0],
                                              "count_video": set_counts(call, s)[1]})
                                 for s in sets], lists=("set", "pool"))

"""``flickr.people.*``: the account's owner, upload limits and photostream."""

from __future__ import annotations

from .. import model
from ..render import Node
from .core import READ, Call, method, user_id_arg
from .listing import common_filters, photos_listing, stream_order


@method("flickr.people.getUploadStatus", READ)
def upload_status(call: Call):
    k = call.knobs
    u = call.account.user
    counts = call.account.counts()
    free = bool(k.free_account)
    pmax = int(k.max_photo_bytes)
    vmax = int(k.max_video_bytes)
    used = sum(p.size for p in call.account.photos.values())
    children = [
        Node("username", text=u.username),
        Node("bandwidth", {"maxbytes": 0, "maxkb": 0, "usedbytes": used, "usedkb": used // 1024,
                           "remainingbytes": 0, "remainingkb": 0, "unlimited": 1}),
        Node("filesize", {"maxbytes": pmax, "maxkb": pmax // 1024, "maxmb": pmax // (1024 * 1024)}),
        Node("sets", {"created": len(call.account.photosets),
                      "remaining": "lots" if k.max_sets is None else max(0, k.max_sets - len(call.account.photosets))}),
        Node("videosize", {"maxbytes": vmax, "maxkb": vmax // 1024, "maxmb": vmax // (1024 * 1024)}),
        Node("videos", {"uploaded": counts["videos"],
                        "remaining": "lots" if k.max_videos is None else max(0, k.max_videos - counts["videos"])}),
    ]
    # Sandbox extension (not in Flickr's documented answer): the free-account item counters.
    if free:
        children.append(Node("photos", {"uploaded": counts["items"], "limit": int(k.max_items),
                                        "remaining": max(0, int(k.max_items) - counts["items"]),
                                        "nonpublic": counts["nonpublic"], "nonpublic_limit": int(k.max_nonpublic),
                                        "nonpublic_remaining": max(0, int(k.max_nonpublic) - counts["nonpublic"])}))
    else:
        children.append(Node("photos", {"uploaded": counts["items"], "remaining": "lots",
                                        "nonpublic": counts["nonpublic"]}))
    return Node("user", {"id": u.nsid, "ispro": 0 if free else 1}, children=children)


@method("flickr.people.getInfo")
def people_info(call: Call):
    user_id_arg(call, required=True, unknown_code=1)
    u = call.account.user
    photos = [p for p in call.account.photos.values() if call.visible(p)]
    first = min((p.date_posted for p in photos), default=0)
    first_taken = min((p.date_taken for p in photos), default="")
    return Node("person", {"id": u.nsid, "nsid": u.nsid, "ispro": 0 if call.knobs.free_account else 1,
                           "iconserver": model.SERVER, "iconfarm": model.FARM,
                           "path_alias": u.path_alias or ""},
                children=[Node("username", text=u.username), Node("realname", text=u.realname),
                          Node("location", text=u.location),
                          Node("photosurl", text=f"{call.base}/photos/{u.nsid}/"),
                          Node("profileurl", text=f"{call.base}/people/{u.nsid}/"),
                          Node("photos", children=[Node("firstdate", text=str(first)),
                                                   Node("firstdatetaken", text=first_taken),
                                                   Node("count", text=str(len(photos)))])])


@method("flickr.people.getPhotos")
def people_photos(call: Call):
    user_id_arg(call, required=True)
    photos = common_filters(call, list(call.account.photos.values()))
    return photos_listing(call, stream_order(photos))

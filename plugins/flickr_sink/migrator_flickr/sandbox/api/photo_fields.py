"""How one photo is described in answers: page and static URLs, the derived sizes, places and ``extras``."""

from __future__ import annotations

import re
import zlib
from typing import Any

from .. import model
from ..model import Photo
from ..render import Node
from .core import Call


def page_url(call: Call, p: Photo) -> str:
    return f"{call.base}/photos/{call.account.user.nsid}/{p.id}/"


def static_url(call: Call, p: Photo, suffix: str = "", original: bool = False) -> str:
    if original:
        fmt = "jpg" if p.media == "video" else p.original_format
        return f"{call.base}/{p.server}/{p.id}_{p.originalsecret}_o.{fmt}"
    return f"{call.base}/{p.server}/{p.id}_{p.secret}{suffix}.jpg"


# label, extras key, file suffix, longest edge, square
SIZES = [
    ("Square", "sq", "_s", 75, True),
    ("Large Square", "q", "_q", 150, True),
    ("Thumbnail", "t", "_t", 100, False),
    ("Small", "s", "_m", 240, False),
    ("Small 320", "n", "_n", 320, False),
    ("Small 400", "w", "_w", 400, False),
    ("Medium", "m", "", 500, False),
    ("Medium 640", "z", "_z", 640, False),
    ("Medium 800", "c", "_c", 800, False),
    ("Large", "l", "_b", 1024, False),
    ("Large 1600", "h", "_h", 1600, False),
    ("Large 2048", "k", "_k", 2048, False),
]
SUFFIX_EDGE = {s[2]: (s[3], s[4]) for s in SIZES}

# Since 2025-05-15 Flickr's API gives a free account no original and no size whose longest edge passes 1024 px,
# not even of its own photos. Where the rule says no more, the sandbox reads it strictly: originalsecret,
# originalformat, url_o, "Original" and "Video Original" are left out of every answer, the HD MP4 (1280 px) too,
# and the file host refuses those files (403) even to a client that kept their URLs from a Pro time. The
# original's dimensions (o_dims) are still told: they are no file.
FREE_MAX_EDGE = 1024


def sees_original(call: Call) -> bool:
    """The caller may have the original (its URL, its secret and format): the owner of a Pro account."""
    return call.owner and not call.knobs.free_account


def within_cap(call: Call, width: int, height: int) -> bool:
    """A rendition of these dimensions is served to this account (free accounts: up to 1024 px)."""
    return not call.knobs.free_account or max(width, height) <= FREE_MAX_EDGE


def served_sizes(call: Call, p: Photo) -> list[tuple[str, str, str, int, int]]:
    """`photo_sizes` as this caller may have them: no original for others or a free account, nothing above
    the free account's cap."""
    return [s for s in photo_sizes(p)
            if within_cap(call, s[3], s[4]) and (s[0] != "Original" or sees_original(call))]


def photo_sizes(p: Photo) -> list[tuple[str, str, str, int, int]]:
    """(label, extras key, file suffix, width, height) for the derived sizes plus the original."""
    w, h = max(1, p.width or 1), max(1, p.height or 1)
    longest = max(w, h)
    out = []
    for label, key, suffix, edge, square in SIZES:
        if square:
            out.append((label, key, suffix, edge, edge))
            continue
        if edge >= longest:
            continue
        scale = edge / longest
        out.append((label, key, suffix, max(1, round(w * scale)), max(1, round(h * scale))))
    out.append(("Original", "o", "_o", w, h))
    return out


def derived_dims(p: Photo, suffix: str) -> tuple[int, int] | None:
    if suffix == "_o":
        return p.width, p.height
    if suffix not in SUFFIX_EDGE:
        return None
    edge, square = SUFFIX_EDGE[suffix]
    if square:
        return edge, edge
    w, h = max(1, p.width or 1), max(1, p.height or 1)
    longest = max(w, h)
    if edge >= longest:
        return None
    return max(1, round(w * edge / longest)), max(1, round(h * edge / longest))


def geo_str(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".") if "." in f"{v:.6f}" else str(v)


def place_of(lat: float, lon: float) -> tuple[str, str]:
    h = zlib.crc32(f"{round(lat, 2)}:{round(lon, 2)}".encode())
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    pid = "".join(alphabet[(h >> (i * 5)) % 62] for i in range(6)) + "Wb" + alphabet[h % 62] * 2
    return pid, str(100000 + h % 9_000_000)


ALL_EXTRAS = ("description", "license", "date_upload", "date_taken", "owner_name", "icon_server",
              "original_format", "last_update", "geo", "tags", "machine_tags", "o_dims", "views", "media",
              "path_alias", "url_sq", "url_q", "url_t", "url_s", "url_n", "url_w", "url_m", "url_z", "url_c",
              "url_l", "url_h", "url_k", "url_o", "count_comments")


def parse_extras(call: Call, key: str = "extras") -> set[str]:
    raw = call.arg(key, "") or ""
    return {e.strip().lower() for e in re.split(r"[,\s]+", raw) if e.strip()}


def photo_item(call: Call, p: Photo, extras: set[str], tag: str = "photo",
               lead: dict[str, Any] | None = None, tail: dict[str, Any] | None = None) -> Node:
    a: dict[str, Any] = {"id": p.id, "owner": call.account.user.nsid, "secret": p.secret, "server": p.server,
                         "farm": p.farm, "title": p.title, "ispublic": p.is_public, "isfriend": p.is_friend,
                         "isfamily": p.is_family}
    if lead:
        a.update(lead)
    children: list[Node] = []
    if "license" in extras:
        a["license"] = str(p.license)
    if "description" in extras:
        children.append(Node("description", text=p.description))
    if "date_upload" in extras:
        a["dateupload"] = str(p.date_posted)
    if "date_taken" in extras:
        a["datetaken"] = p.date_taken
        a["datetakengranularity"] = p.date_taken_granularity
        a["datetakenunknown"] = str(p.date_taken_unknown)
    if "owner_name" in extras:
        a["ownername"] = call.account.user.username
    if "icon_server" in extras:
        a["iconserver"] = model.SERVER
        a["iconfarm"] = model.FARM
    if "original_format" in extras and sees_original(call):
        a["originalsecret"] = p.originalsecret
        a["originalformat"] = p.original_format
    if "last_update" in extras:
        a["lastupdate"] = str(p.last_update)
    if "geo" in extras:
        if p.geo:
            g = p.geo
            place_id, woeid = place_of(g["latitude"], g["longitude"])
            a.update({"latitude": geo_str(g["latitude"]), "longitude": geo_str(g["longitude"]),
                      "accuracy": str(g["accuracy"]), "context": g.get("context", 0), "place_id": place_id,
                      "woeid": woeid, "geo_is_public": g.get("is_public", 1), "geo_is_contact": g.get("is_contact", 0),
                      "geo_is_friend": g.get("is_friend", 0), "geo_is_family": g.get("is_family", 0)})
        else:
            a.update({"latitude": 0, "longitude": 0, "accuracy": 0, "context": 0})
    if "tags" in extras:
        a["tags"] = " ".join(t.content for t in p.plain_tags())
    if "machine_tags" in extras:
        a["machine_tags"] = " ".join(t.content for t in p.machine_tags())
    if "o_dims" in extras:
        a["o_width"] = str(p.width)
        a["o_height"] = str(p.height)
    if "views" in extras:
        a["views"] = str(p.views)
    if "media" in extras:
        a["media"] = p.media
        a["media_status"] = "ready"
    if "path_alias" in extras:
        a["pathalias"] = call.account.user.path_alias or ""
    if "count_comments" in extras:
        a["count_comments"] = str(len(call.account.comments.get(p.id, [])))
    wanted = {e[4:] for e in extras if e.startswith("url_")}
    if wanted:
        for _label, key, suffix, w, h in served_sizes(call, p):
            if key in wanted:
                a[f"url_{key}"] = static_url(call, p, suffix, original=(key == "o"))
                a[f"height_{key}"] = h
                a[f"width_{key}"] = w
    if tail:
        a.update(tail)
    return Node(tag, a, children=children)

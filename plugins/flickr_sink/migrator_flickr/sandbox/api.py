"""Flickr REST methods and the upload/replace logic, on top of :mod:`.model`.

Every handler takes a :class:`Call` and returns ``None`` (empty answer), a
:class:`Node`, a list of nodes, or a ``Node("rsp", ...)`` root, and raises
:class:`ApiError` for ``stat="fail"`` answers.  Error codes and messages follow
Flickr's per-method lists (codes differ per method)."""

from __future__ import annotations

import math
import os
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import media, model
from .model import Account, Photo, Photoset
from .render import Node

if TYPE_CHECKING:  # pragma: no cover
    from .knobs import Knobs
    from .oauth import AccessToken

NONE, READ, WRITE, DELETE = 0, 1, 2, 3
PERM_WORDS = {0: "no", 1: "read", 2: "write", 3: "delete"}


class ApiError(Exception):
    def __init__(self, code: int, msg: str, extra: list[Node] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.extra = extra or []


@dataclass
class Call:
    account: Account
    knobs: Knobs
    params: dict[str, str]
    base: str  # "http://127.0.0.1:PORT"
    perms: int = NONE
    token: AccessToken | None = None
    consumer: str | None = None
    store: Any = None  # the OAuthStore (checkToken looks tokens up)
    now: int = field(default_factory=model.now)

    def arg(self, name: str, default: str | None = None) -> str | None:
        v = self.params.get(name)
        if v is None or v == "":
            return default
        return v

    @property
    def owner(self) -> bool:
        return self.perms >= READ

    def visible(self, p: Photo) -> bool:
        return self.owner or bool(p.is_public)

    def photo(self, key: str = "photo_id", code: int = 1, msg: str = "Photo not found") -> Photo:
        pid = (self.params.get(key) or "").strip()
        p = self.account.photos.get(pid)
        if p is None or not self.visible(p):
            raise ApiError(code, msg)
        return p



METHODS: dict[str, tuple[Callable[[Call], Any], int]] = {}


def method(name: str, perms: int = NONE):
    def deco(fn):
        METHODS[name] = (fn, perms)
        return fn

    return deco


def dispatch(call: Call, name: str) -> Node:
    """Run one method; returns the ``rsp`` root node."""
    entry = METHODS.get(name)
    if entry is None:
        raise ApiError(112, f'Method "{name}" not found')
    fn, need = entry
    if need > call.perms:
        if call.token is None:
            raise ApiError(99, f"Insufficient permissions. Method requires {PERM_WORDS[need]} privileges; "
                               "none granted.")
        raise ApiError(99, f"Insufficient permissions. Method requires {PERM_WORDS[need]} privileges; "
                           f"{PERM_WORDS[call.perms]} granted.")
    result = fn(call)
    if result is None:
        return Node("rsp")
    if isinstance(result, Node):
        return result if result.tag == "rsp" else Node("rsp", children=[result])
    return Node("rsp", children=list(result))


# ----------------------------------------------------------------------------------------------
# Helpers


def _int(value: str | None, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def _flag(value: str | None) -> int | None:
    """Flickr 0/1 flags; anything else (e.g. "True") is ignored."""
    if value is None:
        return None
    v = str(value).strip()
    if v in ("0", "1"):
        return int(v)
    return None


def _touch(p: Photo, call: Call) -> None:
    """Bump lastupdate: strictly increasing, so every edit is visible to a mirror."""
    p.last_update = max(call.now, p.last_update + 1)


def _user_id(call: Call, required: bool = False, unknown_code: int = 2) -> str | None:
    uid = call.arg("user_id")
    if uid is None:
        if required:
            raise ApiError(1, "Required arguments missing")
        return None
    if uid == "me":
        if not call.owner:
            raise ApiError(unknown_code, "Unknown user")
        return call.account.user.nsid
    if uid not in (call.account.user.nsid, call.account.user.username, call.account.user.path_alias):
        raise ApiError(unknown_code, "Unknown user")
    return call.account.user.nsid


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


def _geo_str(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".") if "." in f"{v:.6f}" else str(v)


def _place(lat: float, lon: float) -> tuple[str, str]:
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
    if "original_format" in extras and call.owner:
        a["originalsecret"] = p.originalsecret
        a["originalformat"] = p.original_format
    if "last_update" in extras:
        a["lastupdate"] = str(p.last_update)
    if "geo" in extras:
        if p.geo:
            g = p.geo
            place_id, woeid = _place(g["latitude"], g["longitude"])
            a.update({"latitude": _geo_str(g["latitude"]), "longitude": _geo_str(g["longitude"]),
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
        for _label, key, suffix, w, h in photo_sizes(p):
            if key in wanted:
                if key == "o" and not call.owner:
                    continue
                a[f"url_{key}"] = static_url(call, p, suffix, original=(key == "o"))
                a[f"height_{key}"] = h
                a[f"width_{key}"] = w
    if tail:
        a.update(tail)
    return Node(tag, a, children=children)


def paginate(call: Call, items: list, default_per_page: int = 100, max_per_page: int = 500,
             cap: int | None = None) -> tuple[list, int, int, int, int]:
    """Returns (page items, page, pages, per_page, total); may shorten pages (knob)."""
    per_page = _int(call.arg("per_page"), default_per_page) or default_per_page
    if per_page < 1:
        per_page = default_per_page
    per_page = min(per_page, max_per_page)
    page = _int(call.arg("page"), 1) or 1
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
    pf = _int(call.arg("privacy_filter"))
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
    safe = _int(call.arg("safe_search"))
    if safe and not call.owner:
        out = [p for p in out if p.safety_level <= safe]
    return out


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


# ----------------------------------------------------------------------------------------------
# test / auth / reflection


@method("flickr.test.echo")
def test_echo(call: Call):
    return [Node(k, text=v) for k, v in call.params.items() if not k.startswith("oauth_")
            and k not in ("format", "nojsoncallback", "jsoncallback") and re.fullmatch(r"[A-Za-z_][\w.-]*", k)]


@method("flickr.test.login", READ)
def test_login(call: Call):
    u = call.account.user
    return Node("user", {"id": u.nsid}, children=[Node("username", text=u.username)])


@method("flickr.test.null", READ)
def test_null(call: Call):
    return None


@method("flickr.auth.oauth.checkToken")
def check_token(call: Call):
    from .oauth import AccessToken

    tok_arg = call.arg("oauth_token")
    token = None
    if tok_arg:
        token = call.store.access_tokens.get(tok_arg) if call.store is not None else None
    elif not call.knobs.strict_checktoken:
        token = call.token
    if not isinstance(token, AccessToken) or token.revoked:
        raise ApiError(98, "Invalid token")
    u = call.account.user
    return Node("oauth", children=[Node("token", text=token.token), Node("perms", text=token.perms),
                                   Node("user", {"nsid": u.nsid, "username": u.username, "fullname": u.realname})])


@method("flickr.reflection.getMethods")
def reflection_methods(call: Call):
    return Node("methods", children=[Node("method", text=n) for n in sorted(METHODS)], arrays=("method",))


# ----------------------------------------------------------------------------------------------
# people


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
    _user_id(call, required=True, unknown_code=1)
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
    _user_id(call, required=True)
    photos = common_filters(call, list(call.account.photos.values()))
    return photos_listing(call, stream_order(photos))


# ----------------------------------------------------------------------------------------------
# photos: reads


@method("flickr.photos.search")
def photos_search(call: Call):
    keys = ("user_id", "tags", "machine_tags", "text", "min_upload_date", "max_upload_date", "min_taken_date",
            "max_taken_date", "bbox", "group_id", "place_id", "woe_id", "lat", "contacts")
    if not any(call.arg(k) for k in keys):
        raise ApiError(3, "Parameterless searches have been disabled. Please use flickr.photos.getRecent instead.")
    uid = _user_id(call)
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
    if call.owner:
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
        place_id, woeid = _place(g["latitude"], g["longitude"])
        children.append(Node("location", {"latitude": _geo_str(g["latitude"]), "longitude": _geo_str(g["longitude"]),
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
    for label, _key, suffix, w, h in photo_sizes(p):
        if label == "Original" and not call.owner:
            continue
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
            src = f"{call.base}/apps/video/player?photo_id={p.id}" if kind is None else f"{play}/{kind}/{p.secret}/"
            sizes.append(Node("size", {"label": label, "width": w, "height": h, "source": src,
                                       "url": page_url(call, p), "media": "video"}))
        if call.owner and not call.knobs.video_without_original:
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
                                              "count_photo": _set_counts(call, s)[0],
                                              "count_video": _set_counts(call, s)[1]})
                                 for s in sets], lists=("set", "pool"))


@method("flickr.photos.comments.getList")
def comments_get_list(call: Call):
    p = call.photo()
    lo = _int(call.arg("min_comment_date"))
    hi = _int(call.arg("max_comment_date"))
    out = []
    for c in call.account.comments.get(p.id, []):
        if lo is not None and c.datecreate < lo:
            continue
        if hi is not None and c.datecreate > hi:
            continue
        out.append(Node("comment", {"id": c.id, "author": c.author, "author_is_deleted": 0,
                                    "authorname": c.authorname, "realname": c.realname,
                                    "datecreate": str(c.datecreate),
                                    "permalink": f"{page_url(call, p)}#comment{c.id.split('-')[-1]}"},
                        text=c.text))
    return Node("comments", {"photo_id": p.id}, children=out, lists=("comment",))


@method("flickr.photos.comments.addComment", WRITE)
def comments_add(call: Call):
    p = call.photo()
    text = call.arg("comment_text")
    if not text or not text.strip():
        raise ApiError(2, "Blank comment")
    u = call.account.user
    c = model.Comment(id=call.account.new_comment_id(), photo_id=p.id, author=u.nsid, authorname=u.username,
                      realname=u.realname, datecreate=call.now, text=text)
    call.account.comments.setdefault(p.id, []).append(c)
    return Node("comment", {"id": c.id, "permalink": f"{page_url(call, p)}#comment{c.id.split('-')[-1]}"})


@method("flickr.photos.comments.deleteComment", WRITE)
def comments_delete(call: Call):
    cid = call.arg("comment_id")
    for lst in call.account.comments.values():
        for c in lst:
            if c.id == cid:
                lst.remove(c)
                return None
    raise ApiError(2, "Comment not found")


@method("flickr.photos.licenses.getInfo")
def licenses_get_info(call: Call):
    return Node("licenses", children=[Node("license", {"id": i, "name": n, "url": u}) for i, n, u in model.LICENSES],
                arrays=("license",))


@method("flickr.photos.geo.getLocation")
def geo_get_location(call: Call):
    p = call.photo()
    if not p.geo:
        raise ApiError(2, "Photo has no location information.")
    g = p.geo
    place_id, woeid = _place(g["latitude"], g["longitude"])
    return Node("photo", {"id": p.id}, children=[Node("location", {
        "latitude": _geo_str(g["latitude"]), "longitude": _geo_str(g["longitude"]), "accuracy": str(g["accuracy"]),
        "context": str(g.get("context", 0)), "place_id": place_id, "woeid": woeid})])


# ----------------------------------------------------------------------------------------------
# photos: writes


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
    _touch(p, call)


@method("flickr.photos.setTags", WRITE)
def photos_set_tags(call: Call):
    p = call.photo()
    if not call.account.add_tags(p, model.split_tags(call.params.get("tags", "")), replace=True):
        raise ApiError(2, "Maximum number of tags reached")
    _touch(p, call)


@method("flickr.photos.addTags", WRITE)
def photos_add_tags(call: Call):
    p = call.photo()
    if call.params.get("tags") is None:
        raise ApiError(2, "Required arguments missing")
    if not call.account.add_tags(p, model.split_tags(call.params.get("tags", ""))):
        raise ApiError(2, "Maximum number of tags reached")
    _touch(p, call)


@method("flickr.photos.removeTag", WRITE)
def photos_remove_tag(call: Call):
    tid = call.arg("tag_id")
    for p in call.account.photos.values():
        for t in p.tags:
            if t.id == tid:
                p.tags.remove(t)
                _touch(p, call)
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
    vals = [_flag(call.params.get(k)) for k in ("is_public", "is_friend", "is_family")]
    if any(v is None for v in vals):
        raise ApiError(2, "Required arguments missing")
    pub, fr, fa = vals
    if not pub and p.is_public and not _nonpublic_room(call, 1):
        raise ApiError(3, f"Free accounts are limited to {int(call.knobs.max_nonpublic)} non-public items")
    p.is_public, p.is_friend, p.is_family = pub, fr, fa
    pc = _int(call.arg("perm_comment"))
    pa = _int(call.arg("perm_addmeta"))
    if pc is not None and 0 <= pc <= 3:
        p.perm_comment = pc
    if pa is not None and 0 <= pa <= 3:
        p.perm_addmeta = pa
    _touch(p, call)
    return Node("photoid", {"secret": p.secret, "originalsecret": p.originalsecret}, text=p.id)


@method("flickr.photos.setSafetyLevel", WRITE)
def photos_set_safety(call: Call):
    p = call.photo()
    sl = call.arg("safety_level")
    hid = call.arg("hidden")
    if sl is not None:
        v = _int(sl)
        if v not in (1, 2, 3):
            raise ApiError(2, "Invalid or missing safety level")
    if hid is not None and _int(hid) not in (0, 1):
        raise ApiError(3, "Invalid hidden value")
    if sl is not None:
        p.safety_level = _int(sl)
    if hid is not None:  # here 1 = hide from public searches, 0 = show (upload uses 2 / 1)
        p.hidden = 2 if _int(hid) == 1 else 1
    _touch(p, call)


@method("flickr.photos.setContentType", WRITE)
def photos_set_content_type(call: Call):
    p = call.photo()
    ct = _int(call.arg("content_type"))
    if ct not in (1, 2, 3):
        raise ApiError(2, "Required arguments missing")
    p.content_type = ct
    _touch(p, call)
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
        g = _int(gran)
        if g is None or not 0 <= g <= 10:
            raise ApiError(3, "Invalid granularity")
    new_posted = None
    if posted is not None:
        new_posted = _int(posted)
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
    _touch(p, call)


@method("flickr.photos.geo.setLocation", WRITE)
def geo_set_location(call: Call):
    p = call.photo()
    lat_s, lon_s = call.arg("lat"), call.arg("lon")
    if lat_s is None or lon_s is None:
        raise ApiError(2, "Required arguments missing.")

    def trunc(s: str) -> float:
        v = float(s)
        if not math.isfinite(v):
            raise ValueError(s)
        return math.trunc(v * 1_000_000) / 1_000_000

    try:
        lat = trunc(lat_s)
    except ValueError:
        raise ApiError(3, "Not a valid latitude.") from None
    if not -90 <= lat <= 90:
        raise ApiError(3, "Not a valid latitude.")
    try:
        lon = trunc(lon_s)
    except ValueError:
        raise ApiError(4, "Not a valid longitude.") from None
    if not -180 <= lon <= 180:
        raise ApiError(4, "Not a valid longitude.")
    acc = _int(call.arg("accuracy"), 16)
    if acc is None or not 1 <= acc <= 16:
        raise ApiError(5, "Not a valid accuracy.")
    ctx = _int(call.arg("context"), 0)
    if ctx not in (0, 1, 2):
        ctx = 0
    if call.knobs.geo_refuse:
        raise ApiError(7, "User has not configured default viewing settings for location data.  "
                          "Please visit the Flickr account page to set them.")
    old = p.geo or {}
    p.geo = {"latitude": lat, "longitude": lon, "accuracy": acc, "context": ctx,
             "is_public": old.get("is_public", 1), "is_contact": old.get("is_contact", 0),
             "is_friend": old.get("is_friend", 0), "is_family": old.get("is_family", 0)}
    _touch(p, call)


@method("flickr.photos.geo.removeLocation", WRITE)
def geo_remove_location(call: Call):
    p = call.photo()
    if not p.geo:
        raise ApiError(2, "Photo has no location information.")
    p.geo = None
    _touch(p, call)


@method("flickr.photos.licenses.setLicense", WRITE)
def licenses_set(call: Call):
    p = call.photo()
    lid = _int(call.arg("license_id"))
    if lid is None or lid not in model.LICENSE_IDS or lid == 7:
        raise ApiError(2, "License not found")
    p.license = lid
    _touch(p, call)


@method("flickr.photos.delete", DELETE)
def photos_delete(call: Call):
    p = call.photo()
    call.account.remove_photo(p.id)


@method("flickr.photos.upload.checkTickets")
def check_tickets(call: Call):
    ids = [t.strip() for t in (call.arg("tickets") or "").split(",") if t.strip()]
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


# ----------------------------------------------------------------------------------------------
# photosets


def _set(call: Call, code: int = 1, msg: str = "Photoset not found") -> Photoset:
    s = call.account.get_set((call.arg("photoset_id") or "").strip())
    if s is None:
        raise ApiError(code, msg)
    return s


def _set_counts(call: Call, s: Photoset) -> tuple[int, int]:
    photos = [call.account.photos[x] for x in s.photos if x in call.account.photos]
    photos = [p for p in photos if call.visible(p)]
    v = sum(1 for p in photos if p.media == "video")
    return len(photos) - v, v


def _set_node(call: Call, s: Photoset, tag: str = "photoset", extra: dict[str, Any] | None = None) -> Node:
    np_, nv = _set_counts(call, s)
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
    _user_id(call, unknown_code=1)
    sets = list(call.account.photosets)
    if not call.owner:
        sets = [s for s in sets if _set_counts(call, s) != (0, 0)]
    pe = parse_extras(call, "primary_photo_extras")
    per_page = min(_int(call.arg("per_page"), 500) or 500, 500)
    if per_page < 1:
        per_page = 500
    page = max(1, _int(call.arg("page"), 1) or 1)
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
    if not call.owner and _set_counts(call, s) == (0, 0):
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
    s = _set(call)
    pid = _set_photo_arg(call)
    if pid not in s.photos:
        raise ApiError(3, "Photo not in set")
    s.photos.remove(pid)
    s.date_update = call.now
    if not s.photos:
        call.account.remove_set(s.id)
    elif s.primary == pid:
        s.primary = s.photos[0]


@method("flickr.photosets.removePhotos", WRITE)
def photosets_remove_photos(call: Call):
    s = _set(call)
    ids = [x.strip() for x in (call.arg("photo_ids") or "").split(",") if x.strip()]
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
    ids = [x.strip() for x in (call.arg("photo_ids") or "").split(",") if x.strip()]
    if not ids:
        raise ApiError(5, "Empty photos list")
    for pid in ids:
        if pid not in call.account.photos:
            raise ApiError(2, "Photo not found")
    if prim not in call.account.photos:
        raise ApiError(3, "Primary photo not found")
    if prim not in ids:
        raise ApiError(4, "Primary photo not in list")
    seen: list[str] = []
    for pid in ids:
        if pid not in seen:
            seen.append(pid)
    s.photos = seen
    s.primary = prim
    s.date_update = call.now


@method("flickr.photosets.reorderPhotos", WRITE)
def photosets_reorder(call: Call):
    s = _set(call)
    ids = [x.strip() for x in (call.arg("photo_ids") or "").split(",") if x.strip()]
    for pid in ids:
        if pid not in s.photos:
            raise ApiError(2, "Photo not found")
    first: list[str] = []
    for pid in ids:
        if pid not in first:
            first.append(pid)
    s.photos = first + [x for x in s.photos if x not in first]
    s.date_update = call.now


@method("flickr.photosets.setPrimaryPhoto", WRITE)
def photosets_set_primary(call: Call):
    s = _set(call)
    pid = _set_photo_arg(call)
    if pid not in s.photos:
        raise ApiError(3, "Photo not in set")
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
    ids = [x.strip() for x in (call.arg("photoset_ids") or "").split(",") if x.strip()]
    by_id = {s.id: s for s in call.account.photosets}
    for sid in ids:
        if sid not in by_id:
            raise ApiError(1, "Set not found")
    first = []
    for sid in ids:
        if by_id[sid] not in first:
            first.append(by_id[sid])
    call.account.photosets = first + [s for s in call.account.photosets if s not in first]


@method("flickr.photosets.delete", WRITE)
def photosets_delete(call: Call):
    s = _set(call)
    call.account.remove_set(s.id)


# ----------------------------------------------------------------------------------------------
# collections


def _coll_node(call: Call, c: model.Collection) -> Node:
    sets = []
    for sid in c.sets:
        s = call.account.get_set(sid)
        if s is None:
            continue
        sets.append(Node("set", {"id": s.id, "title": s.title, "description": s.description}))
    return Node("collection", {"id": c.id, "title": c.title, "description": c.description,
                               "iconlarge": "/images/collection_default_l.gif",
                               "iconsmall": "/images/collection_default_s.gif"},
                children=sets + [_coll_node(call, x) for x in c.collections], lists=("set", "collection"))


@method("flickr.collections.getTree")
def collections_get_tree(call: Call):
    _user_id(call, unknown_code=1)
    cid = call.arg("collection_id")
    if cid and cid != "0":
        c = call.account.find_collection(cid)
        if c is None:
            raise ApiError(2, "Collection not found")
        roots = [c]
    else:
        roots = list(call.account.collections)
    return Node("collections", children=[_coll_node(call, c) for c in roots], lists=("collection",))


@method("flickr.collections.getInfo", READ)
def collections_get_info(call: Call):
    c = call.account.find_collection(call.arg("collection_id") or "")
    if c is None:
        raise ApiError(1, "Collection not found")
    return Node("collection", {"id": c.id, "child_count": len(c.sets) + len(c.collections),
                               "datecreate": str(c.date_create), "iconlarge": "/images/collection_default_l.gif",
                               "iconsmall": "/images/collection_default_s.gif", "server": "0", "secret": ""},
                children=[Node("title", text=c.title), Node("description", text=c.description),
                          Node("iconphotos", arrays=("photo",))])


# ----------------------------------------------------------------------------------------------
# upload / replace


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
        v = _int(f.get(name))
        return v if v in allowed else default

    is_public = _flag(f.get("is_public"))
    return {
        "title": f.get("title", ""),
        "description": f.get("description", ""),
        "tags": model.split_tags(f.get("tags", "")),
        "is_public": 1 if is_public is None else is_public,
        "is_friend": _flag(f.get("is_friend")) or 0,
        "is_family": _flag(f.get("is_family")) or 0,
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
        try:
            os.unlink(old)
        except OSError:
            pass

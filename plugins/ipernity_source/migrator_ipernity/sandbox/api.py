"""ipernity API methods served by the sandbox (reference §7).

Each handler receives a :class:`Call` and returns the payload (the top-level keys
besides ``api``) as plain Python data, see :mod:`.render`.  Method-level errors
are raised as :class:`~.render.ApiError` with the method's own code (1, 2 ...).

Choices where the reference leaves things open (marked GUESS there):

* ``doc.getList`` returns the newest document first (posted date descending).
* ``doc.search`` with the default ``sort=relevance`` and no ``text`` also returns
  newest first; ``doc.comments.getList`` returns the oldest comment first.
* ``per_page`` above the method's maximum is clamped, invalid or < 1 values fall
  back to the default; pages past the end keep the totals and omit the list.
* ``md5`` (extra=md5) is emitted both as ``doc.md5`` and ``original.md5``.
* ``doc.getContainers`` always carries ``albums`` and ``groups`` (``total`` 0
  without list when empty).
* Anonymous callers, or tokens without ``perm_doc=read``, see only public
  documents (and public albums); the owner with ``read`` sees everything.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .account import MEDIA, UNKNOWN_DATE, Album, Doc, Folder, User
from .auth import Token
from .call import Call
from .render import ApiError

THUMB_LABELS = ("75x", "100", "240", "250x", "500", "560", "640", "800", "1024", "1600", "2048")
DOC_GET_THUMBS = ("75x", "100", "240", "500", "560", "1024")


def _int(value: str | None, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def paginate(call: Call, items: list[Any], default: int, maximum: int) -> tuple[list[Any], dict[str, int]]:
    per_page = _int(call.params.get("per_page"), default)
    if per_page < 1:
        per_page = default
    per_page = min(per_page, maximum)
    page = max(1, _int(call.params.get("page"), 1))
    total = len(items)
    chunk = items[(page - 1) * per_page: page * per_page]
    meta = {"total": total, "per_page": per_page, "page": page,
            "pages": math.ceil(total / per_page), "count": len(chunk)}
    return chunk, meta


# --------------------------------------------------------------------------------------
# building blocks


def _thumb_dims(d: Doc, label: str) -> tuple[int, int]:
    size = int(label.rstrip("x"))
    if label.endswith("x"):
        return size, size
    w, h = d.original.w or 800, d.original.h or 600
    scale = min(1.0, size / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def thumb(call: Call, d: Doc, label: str, full: bool = False) -> dict[str, Any]:
    w, h = _thumb_dims(d, label)
    t: dict[str, Any] = {"label": label, "ext": "jpg", "w": w, "h": h}
    if full:
        t["secret"] = d.thumb_secret
        t["path"] = call.sb.file_dir(d.doc_id)
    t["url"] = call.sb.file_url(d, label)
    return t


def thumbsize(call: Call, default: str = "75x") -> str:
    value = call.get("thumbsize", default)
    return value if value in THUMB_LABELS else default


def media_list(call: Call, d: Doc) -> list[dict[str, Any]]:
    if d.media == "video":
        out = []
        for label, w in (("flv", 480), ("mp4", 640), ("hd", 1280)):
            scale = w / (d.original.w or w)
            out.append({"label": label, "ext": "flv" if label == "flv" else "mp4", "w": w,
                        "h": round((d.original.h or w * 3 // 4) * scale),
                        "lenght": d.original.length,  # sic, as documented
                        "url": call.sb.file_url(d, label)})
        return out
    if d.media == "audio":
        return [{"label": "mp3", "ext": "mp3", "lenght": d.original.length,
                 "url": call.sb.file_url(d, "mp3")}]
    return []


def original_block(call: Call, d: Doc, with_md5: bool = False) -> dict[str, Any]:
    o = d.original
    block: dict[str, Any] = {"ext": o.ext}
    if o.w and o.h:
        block["w"] = o.w
        block["h"] = o.h
    if d.media in ("video", "audio"):
        block["length"] = o.length
    block["filename"] = o.filename
    block["bytes"] = o.bytes
    block["url"] = call.sb.file_url(d)
    if with_md5:
        block["md5"] = o.md5
    return block


def dates_block(d: Doc) -> dict[str, Any]:
    return {"posted_at": d.posted_at, "created": d.created_at or UNKNOWN_DATE,
            "last_update_at": d.last_update_at, "last_comment_at": d.last_comment_at}


def count_block(call: Call, d: Doc) -> dict[str, Any]:
    c = d.count
    c["albums"] = sum(1 for a in call.account.albums_of(d.doc_id) if call.sees_album(a))
    return c


def geo_block(d: Doc) -> dict[str, Any] | None:
    if not d.geo:
        return None
    g: dict[str, Any] = {"lat": float(d.geo["lat"]), "lng": float(d.geo["lng"])}
    if d.geo.get("loc_id"):
        g["loc_id"] = int(d.geo["loc_id"])
    if d.geo.get("location"):
        g["location"] = str(d.geo["location"])
    return g


def owner_block(call: Call, full: bool = False) -> dict[str, Any]:
    u = call.account.user
    b: dict[str, Any] = {"user_id": int(u.user_id), "username": u.username}
    if full:
        b["realname"] = u.realname
        b["alias"] = u.alias
        b["icon"] = call.sb.icon_url(u.user_id)
        b["is_pro"] = bool(u.is_pro)
    return b


def tag_entries(d: Doc) -> list[dict[str, Any]]:
    out = []
    for t in d.tags:
        e: dict[str, Any] = {"id": _num(t.get("id", 0)), "type": t.get("type", "keyword"),
                             "user_id": _num(t.get("user_id", 0)), "tag": t["tag"], "title": t["tag"]}
        if t.get("added_at"):
            e["added_at"] = int(t["added_at"])
        if t.get("member_id"):
            e["member_id"] = _num(t["member_id"])
        out.append(e)
    return out


def _num(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def doc_link(call: Call, d: Doc) -> str:
    return f"{call.sb.base_url}/doc/{call.account.user.alias}/{d.doc_id}"


def album_link(call: Call, a: Album) -> str:
    return f"{call.sb.base_url}/doc/{call.account.user.alias}/album/{a.album_id}"


LIST_EXTRAS = {
    "doc.getList": ("dates", "count", "geo", "medias", "original", "md5", "license"),
    "doc.search": ("owner", "dates", "count", "license", "medias", "geo", "original"),
    "album.docs.getList": ("dates", "geo", "medias", "original", "link"),
}


def doc_entry(call: Call, d: Doc, extras: set[str], label: str) -> dict[str, Any]:
    e: dict[str, Any] = {"doc_id": int(d.doc_id), "media": d.media, "license": d.license,
                         "title": d.title, "safety": d.safety, "thumb": thumb(call, d, label)}
    if "owner" in extras:
        e["owner"] = owner_block(call)
    if "link" in extras:
        e["link"] = doc_link(call, d)
    if "dates" in extras:
        e["dates"] = dates_block(d)
    if "count" in extras:
        e["count"] = count_block(call, d)
    if "geo" in extras:
        e["geo"] = geo_block(d)
    if "medias" in extras:
        medias = media_list(call, d)
        if medias:
            e["medias"] = {"media": medias}
    if call.gets_original(d):
        if "original" in extras:
            e["original"] = original_block(call, d)
        if "md5" in extras:
            e["md5"] = d.original.md5
    return e


def _doc_list_answer(call: Call, docs: list[Doc], default: int = 20, maximum: int = 100) -> dict[str, Any]:
    extras = call.extras(LIST_EXTRAS[call.method])
    label = thumbsize(call)
    chunk, meta = paginate(call, docs, default, maximum)
    meta_out: dict[str, Any] = dict(meta)
    meta_out["doc"] = [doc_entry(call, d, extras, label) for d in chunk]
    return meta_out


def _filter_media(call: Call, docs: list[Doc]) -> list[Doc]:
    media = {m.lower() for m in call.csv("media")} & set(MEDIA)
    return [d for d in docs if d.media in media] if media else docs


def _filter_share(call: Call, docs: list[Doc]) -> list[Doc]:
    if not call.owner_read or not call.get("share"):
        return docs
    wanted = {_int(x, -1) for x in call.csv("share")}
    return [d for d in docs if d.share in wanted]


def _newest_first(docs: list[Doc]) -> list[Doc]:
    return sorted(docs, key=lambda d: (d.posted_at, int(d.doc_id)), reverse=True)


# --------------------------------------------------------------------------------------
# handlers: test / api / auth


def h_test_echo(call: Call) -> dict[str, Any]:
    if "echo" in call.params:
        return {"echo": call.params["echo"]}
    hidden = {"api_key", "api_sig", "auth_token"}
    return {"echo": {k: v for k, v in call.params.items() if k not in hidden}}


def h_test_hello(call: Call) -> dict[str, Any]:
    return {"hello": "hello world!"}


def h_methods_getlist(call: Call) -> dict[str, Any]:
    out = []
    for spec in METHODS.values():
        auth: dict[str, Any] = {"token": spec.token, "sign": spec.sign, "post": spec.post}
        if spec.safety:
            auth["safety"] = True
        out.append({"name": spec.name, "service": spec.name.rsplit(".", 1)[0],
                    "title": spec.title, "about": f"{call.sb.base_url}/help/api/method/{spec.name}",
                    "modified_at": 1228086000, "authentication": auth,
                    "permissions": {spec.perm[0]: spec.perm[1]} if spec.perm else {}})
    return {"methods": {"total": len(out), "method": out}}


def _user_block(u: User) -> dict[str, Any]:
    return {"user_id": int(u.user_id), "username": u.username, "realname": u.realname,
            "lg": u.lg, "is_pro": bool(u.is_pro)}


def _auth_answer(call: Call, token: Token) -> dict[str, Any]:
    u = call.account.users.get(token.user_id) or call.account.user
    perms = {t: lvl for t, lvl in token.perms.items() if lvl and lvl != "none"}
    return {"auth": {"token": token.token, "permissions": perms, "user": _user_block(u)}}


def h_auth_getfrob(call: Call) -> dict[str, Any]:
    frob = call.sb.auth_store.new_frob(call.sb.api_key)
    return {"auth": {"frob": frob.frob}}


def h_auth_gettoken(call: Call) -> dict[str, Any]:
    value = call.get("frob")
    if not value:
        raise ApiError(1, "The frob is missing")
    token = call.sb.auth_store.exchange(value, call.sb.api_key, call.sb.knobs.frob_ttl)
    if token is None:
        raise ApiError(2, "The passed frob is either invalid or already used")
    return _auth_answer(call, token)


def h_auth_checktoken(call: Call) -> dict[str, Any]:
    assert call.viewer.token is not None
    return _auth_answer(call, call.viewer.token)


# --------------------------------------------------------------------------------------
# handlers: user / account


def h_user_get(call: Call) -> dict[str, Any]:
    u = call.user_param()
    is_owner = u.user_id == call.account.user.user_id
    docs = [d for d in call.account.docs if call.sees_doc(d)] if is_owner else []
    block: dict[str, Any] = {
        "user_id": int(u.user_id), "username": u.username, "realname": u.realname,
        "alias": u.alias, "is_pro": bool(u.is_pro), "is_online": False, "is_closed": False,
        "tmo": 3600, "sex": "", "icon": call.sb.icon_url(u.user_id),
        "link": f"{call.sb.base_url}/home/{u.alias or u.user_id}",
    }
    if call.viewer.user is not None and call.viewer.user.user_id != u.user_id:
        block["relation"] = {"isfamily": False, "isfriend": False, "iscontact": False,
                             "revfamily": False, "revfriend": False, "revcontact": False}
    if u.country or u.town:
        block["location"] = {"country": u.country, "town": u.town}
    block["count"] = {"docs": len(docs), "posts": 0,
                      "network": len(call.account.users) - 1 if is_owner else 1}
    block["dates"] = {"member_since": u.member_since,
                      "last_online": max((d.posted_at for d in call.account.docs), default=0)}
    return {"user": block}


def h_account_getquota(call: Call) -> dict[str, Any]:
    u = call.viewer.user or call.account.user
    used = sum(d.original.bytes for d in call.account.docs)
    return {"quota": {"user_id": int(u.user_id), "is_pro": bool(u.is_pro),
                      "upload": {"used": used, "max": 0 if u.is_pro else 200 * 1024 * 1024,
                                 "unlimited": bool(u.is_pro)}}}


# --------------------------------------------------------------------------------------
# handlers: documents


def _user_docs(call: Call, u: User, docs: list[Doc] | None = None) -> list[Doc]:
    if u.user_id != call.account.user.user_id:
        return []
    return [d for d in (call.account.docs if docs is None else docs) if call.sees_doc(d)]


def h_doc_getlist(call: Call) -> dict[str, Any]:
    u = call.user_param()
    # filtering the cached newest-first order keeps it: no sort per page of a big account
    docs = _filter_share(call, _filter_media(call, _user_docs(call, u, call.account.newest_first())))
    return {"docs": _doc_list_answer(call, docs)}


def h_doc_search(call: Call) -> dict[str, Any]:
    if call.get("user_id"):
        u = call.user_param()
        docs = _user_docs(call, u)
    else:  # everyone's public documents
        docs = [d for d in call.account.docs if d.ispublic]
    docs = _filter_share(call, _filter_media(call, docs))
    licenses = {_int(x, -1) for x in call.csv("license")}
    if licenses:
        docs = [d for d in docs if d.license in licenses]
    lo, hi = call.get("posted_min"), call.get("posted_max")
    if lo:
        docs = [d for d in docs if d.posted_at >= _int(lo, 0)]
    if hi:
        docs = [d for d in docs if d.posted_at <= _int(hi, 2**62)]
    clo, chi = call.get("created_min"), call.get("created_max")
    if clo or chi:
        docs = [d for d in docs if d.created_at != UNKNOWN_DATE
                and (not clo or d.created_at >= clo) and (not chi or d.created_at <= chi)]
    tags = {t.lower() for t in call.csv("tags")}
    if tags:
        docs = [d for d in docs if tags & {t["tag"].lower() for t in d.tags}]
    text = call.get("text").lower()
    if text:
        docs = [d for d in docs if text in d.title.lower() or text in d.description.lower()
                or any(text in t["tag"].lower() for t in d.tags)]
    if call.get("album_id"):
        a = call.album_param()
        members = set(a.doc_ids)
        docs = [d for d in docs if d.doc_id in members]
    sort = call.get("sort", "relevance").lower()
    key: Callable[[Doc], Any]
    if sort == "posted-asc":
        docs = sorted(docs, key=lambda d: (d.posted_at, int(d.doc_id)))
    elif sort == "created-asc":
        docs = sorted(docs, key=lambda d: (d.created_at, d.posted_at))
    elif sort == "created-desc":
        docs = sorted(docs, key=lambda d: (d.created_at, d.posted_at), reverse=True)
    elif sort == "popular":
        key = lambda d: (d.visits + 10 * d.faves, d.posted_at)  # noqa: E731
        docs = sorted(docs, key=key, reverse=True)
    else:  # posted-desc, relevance
        docs = _newest_first(docs)
    return {"docs": _doc_list_answer(call, docs)}


def h_doc_get(call: Call) -> dict[str, Any]:
    d = call.doc_param()
    extras = call.extras(("tags", "notes", "geo", "md5"))
    owner = call.owner_read
    out: dict[str, Any] = {
        "doc_id": int(d.doc_id), "media": d.media, "license": d.license, "rotation": d.rotation,
        "safety": d.safety, "title": d.title, "link": doc_link(call, d),
        "icon": call.sb.file_url(d, "75x"),
        "description": d.description,
        "owner": owner_block(call, full=True),
        "dates": dates_block(d),
        "visibility": {"ispublic": bool(d.ispublic), "isfriend": bool(d.isfriend),
                       "isfamily": bool(d.isfamily), "share": 5 if d.ispublic else d.share},
        "permissions": {"comment": d.perm_comment, "tag": d.perm_tag, "tagme": d.perm_tagme},
        "count": count_block(call, d),
        "can": {"fave": False, "comment": owner or d.perm_comment == 5, "tag": owner,
                "tagme": owner, "zoom": True, "download": call.gets_original(d), "print": owner},
    }
    if call.viewer.user is not None:
        out["you"] = {"isfave": False, "visits": 0, "last_visit_at": 0}
    out["share"] = {"url": doc_link(call, d)}
    out["thumbs"] = {"thumb": [thumb(call, d, label, full=True) for label in DOC_GET_THUMBS]}
    medias = media_list(call, d)
    if medias:
        out["medias"] = {"media": medias}
    if call.gets_original(d):
        out["original"] = original_block(call, d, with_md5="md5" in extras)
    if "geo" in extras:
        out["geo"] = geo_block(d)
    if "tags" in extras:
        out["tags"] = {"total": len(d.tags), "tag": tag_entries(d)}
    if "notes" in extras:
        notes = []
        for n in d.notes:
            e: dict[str, Any] = {"note_id": int(n.note_id), "user_id": int(n.user_id),
                                 "username": n.username, "x": n.x, "y": n.y, "w": n.w, "h": n.h,
                                 "content": n.content}
            if n.member_id:
                e["member_id"] = int(n.member_id)
                e["membername"] = n.membername or ""
            notes.append(e)
        out["notes"] = {"total": len(notes), "note": notes}
    if "md5" in extras and call.gets_original(d):
        out["md5"] = d.original.md5
    return {"doc": out}


def h_doc_getmedias(call: Call) -> dict[str, Any]:
    d = call.doc_param()
    out: dict[str, Any] = {"thumbs": {"thumb": [thumb(call, d, label, full=True) for label in DOC_GET_THUMBS]}}
    medias = media_list(call, d)
    if medias:
        out["medias"] = {"media": medias}
    if call.gets_original(d):
        out["original"] = original_block(call, d)
    return out


def h_doc_getcontainers(call: Call) -> dict[str, Any]:
    d = call.doc_param()
    albums = []
    for a in call.account.albums_of(d.doc_id):
        if not call.sees_album(a):
            continue
        cover = _cover_doc(call, a)
        albums.append({"album_id": int(a.album_id), "title": a.title,
                       "docs": len(call.visible_docs(a.doc_ids)),
                       "cover": call.sb.file_url(cover, "75x") if cover else "",
                       "link": album_link(call, a)})
    return {"albums": {"total": len(albums), "album": albums},
            "groups": {"total": 0, "added": 0, "pending": 0, "invited": 0}}


def h_doc_comments_getlist(call: Call) -> dict[str, Any]:
    d = call.doc_param()
    comments = sorted(d.comments, key=lambda c: (c.posted_at, int(c.comment_id)))
    chunk, meta = paginate(call, comments, 100, 100)
    out: dict[str, Any] = {"doc_id": int(d.doc_id), **meta}
    entries = []
    for c in chunk:
        e: dict[str, Any] = {"comment_id": int(c.comment_id)}
        if c.parent_id:
            e["parent_id"] = int(c.parent_id)
        e.update({"user_id": int(c.user_id), "username": c.username, "posted_at": c.posted_at})
        if c.modified_at:
            e["modified_at"] = c.modified_at
        e["content"] = c.content
        entries.append(e)
    out["comment"] = entries
    return {"comments": out}


def h_doc_tags_getlist(call: Call) -> dict[str, Any]:
    d = call.doc_param()
    return {"tags": {"doc_id": int(d.doc_id), "total": len(d.tags), "tag": tag_entries(d)}}


def h_doc_getperms(call: Call) -> dict[str, Any]:
    d = call.doc_param()
    return {"visibility": {"ispublic": bool(d.ispublic), "isfriend": bool(d.isfriend),
                           "isfamily": bool(d.isfamily), "share": d.share},
            "permissions": {"comment": d.perm_comment, "tag": d.perm_tag, "tagme": d.perm_tagme},
            "can": {"fave": False, "download": bool(d.can_download), "print": True}}


def h_doc_tags_add(call: Call) -> dict[str, Any]:
    d = call.doc_param()
    keywords = [k.strip().strip('"') for k in call.get("keywords").split(",")]
    keywords = [k for k in keywords if k]
    if not keywords:
        raise ApiError(2, "Invalid arguments")
    added = []
    for k in keywords:
        if not any(t["tag"] == k for t in d.tags):
            added.append({"type": "machine" if ":" in k and "=" in k else "keyword", "tag": k})
    if added:
        call.sb.edit_doc(d.doc_id, tags=d.tags + added)
    return {"tags": {"doc_id": int(d.doc_id), "total": len(d.tags), "tag": tag_entries(d)}}


# --------------------------------------------------------------------------------------
# handlers: albums / folders / tags


def _cover_doc(call: Call, a: Album) -> Doc | None:
    if a.cover_doc_id:
        d = call.account.find_doc(a.cover_doc_id)
        if d is not None and call.sees_doc(d) and a.cover_doc_id in a.doc_ids:
            return d
    visible = call.visible_docs(a.doc_ids)
    return visible[0] if visible else None


def _cover_block(call: Call, a: Album, label: str) -> dict[str, Any] | None:
    d = _cover_doc(call, a)
    if d is None:
        return None
    w, h = _thumb_dims(d, label)
    return {"doc_id": int(d.doc_id), "w": w, "h": h, "url": call.sb.file_url(d, label)}


def _album_counts(call: Call, a: Album) -> dict[str, Any]:
    members = [d for d in (call.account.find_doc(i) for i in a.doc_ids) if d is not None]
    return {"docs": sum(1 for d in members if call.sees_doc(d)), "visits": a.visits, "faves": 0,
            "comments": 0,
            "family": sum(1 for d in members if d.ispublic or d.isfamily),
            "friend": sum(1 for d in members if d.ispublic or d.isfriend),
            "ff": sum(1 for d in members if d.ispublic or d.isfriend or d.isfamily),
            "public": sum(1 for d in members if d.ispublic)}


def _album_entry(call: Call, a: Album, label: str, full: bool = False) -> dict[str, Any]:
    e: dict[str, Any] = {"album_id": int(a.album_id), "title": a.title, "link": album_link(call, a)}
    if full:
        e["thumbsize"] = label
        e["description"] = a.description
    e["owner"] = {"user_id": int(call.account.user.user_id)}
    e["dates"] = {"created_at": a.created_at, "last_comment_at": 0, "last_update_at": a.last_update_at}
    e["count"] = _album_counts(call, a)
    pub = bool(a.ispublic)
    e["visibility"] = {"family": pub, "friend": pub, "ff": pub, "public": pub}
    e["cover"] = _cover_block(call, a, label)
    e["can"] = {"fave": False, "comment": True}
    if full:
        e["can"]["add_doc"] = call.owner_read
    if call.owner_read:
        e["permissions"] = {"comment": a.perm_comment}
    if full and call.viewer.user is not None:
        e["you"] = {"isfave": False, "visits": 0, "last_visit_at": 0}
    return e


def h_album_getlist(call: Call) -> dict[str, Any]:
    u = call.user_param()
    albums = []
    if u.user_id == call.account.user.user_id:
        albums = [a for a in call.account.albums if call.sees_album(a)]
    if call.get("empty") not in ("1", "true"):
        albums = [a for a in albums if call.visible_docs(a.doc_ids)]
    if call.get("notinfolder") in ("1", "true"):
        albums = [a for a in albums if not a.folder_id]
    label = thumbsize(call)
    chunk, meta = paginate(call, albums, 100, 100)
    out: dict[str, Any] = dict(meta)
    out["thumbsize"] = label
    out["can"] = {"create": call.owner_read}
    out["album"] = [_album_entry(call, a, label) for a in chunk]
    return {"albums": out}


def h_album_get(call: Call) -> dict[str, Any]:
    a = call.album_param()
    return {"album": _album_entry(call, a, thumbsize(call), full=True)}


def h_album_docs_getlist(call: Call) -> dict[str, Any]:
    a = call.album_param("The album ID is invalid or insufficient permissions to view this album.")
    docs = _filter_share(call, _filter_media(call, call.visible_docs(a.doc_ids)))
    out: dict[str, Any] = {"album_id": int(a.album_id), "docs": _doc_list_answer(call, docs)}
    out["cover"] = _cover_block(call, a, "75x")
    return {"album": out}


def _folder_albums(call: Call, f: Folder) -> list[Album]:
    out = []
    for i in f.album_ids:
        try:
            a = call.account.album(i)
        except KeyError:
            continue
        if call.sees_album(a):
            out.append(a)
    return out


def _folder_entry(call: Call, f: Folder, albums: list[Album]) -> dict[str, Any]:
    cover = _cover_block(call, albums[0], "75x") if albums else None
    return {"folder_id": int(f.folder_id), "title": f.title,
            "link": f"{call.sb.base_url}/doc/{call.account.user.alias}/folder/{f.folder_id}",
            "dates": {"created_at": f.created_at, "last_update_at": f.last_update_at},
            "count": {"albums": len(albums)}, "cover": cover}


def h_folder_getlist(call: Call) -> dict[str, Any]:
    u = call.user_param()
    folders = call.account.folders if u.user_id == call.account.user.user_id else []
    pairs = [(f, _folder_albums(call, f)) for f in folders]
    if call.get("empty") not in ("1", "true"):
        pairs = [(f, al) for f, al in pairs if al]
    chunk, meta = paginate(call, pairs, 100, 100)
    out: dict[str, Any] = dict(meta)
    out["folder"] = [_folder_entry(call, f, al) for f, al in chunk]
    return {"folders": out}


def h_folder_albums_getlist(call: Call) -> dict[str, Any]:
    try:
        f = call.account.folder(call.get("folder_id"))
    except KeyError:
        raise ApiError(1, "Folder not found") from None
    albums = _folder_albums(call, f)
    if not albums:
        raise ApiError(1, "Folder not found")
    label = thumbsize(call)
    chunk, meta = paginate(call, albums, 20, 100)
    listing: dict[str, Any] = dict(meta)
    listing["album"] = [_album_entry(call, a, label) for a in chunk]
    return {"folder": {"folder_id": int(f.folder_id), "albums": listing,
                       "cover": _cover_block(call, albums[0], label)}}


def h_tags_user_getlist(call: Call) -> dict[str, Any]:
    u = call.user_param()
    kind = call.get("type", "keyword").lower()
    seen: dict[str, dict[str, Any]] = {}
    for d in _user_docs(call, u):
        for t in d.tags:
            if t.get("type", "keyword") == kind and t["tag"] not in seen:
                seen[t["tag"]] = {"type": kind, "id": _num(t.get("id", 0)), "tag": t["tag"]}
    count = _int(call.params.get("count"), 100)
    count = 100 if count < 1 else min(count, 1000)
    tags = sorted(seen.values(), key=lambda e: e["tag"])[:count]
    return {"tags": {"count": len(tags), "type": kind, "user_id": int(u.user_id), "tag": tags}}


# --------------------------------------------------------------------------------------
# registry


@dataclass(frozen=True)
class MethodSpec:
    name: str
    handler: Callable[[Call], dict[str, Any]]
    title: str
    token: bool = False
    sign: bool = False
    post: bool = False
    perm: tuple[str, str] | None = None
    safety: bool = False


def _specs() -> dict[str, MethodSpec]:
    specs = [
        MethodSpec("test.echo", h_test_echo, "Echo the parameters"),
        MethodSpec("test.hello", h_test_hello, "Say hello"),
        MethodSpec("api.methods.getList", h_methods_getlist, "List the API methods"),
        MethodSpec("auth.getFrob", h_auth_getfrob, "Ask for a frob", sign=True),
        MethodSpec("auth.getToken", h_auth_gettoken, "Swap an approved frob for a token", sign=True),
        MethodSpec("auth.checkToken", h_auth_checktoken, "Check a token", token=True, sign=True),
        MethodSpec("user.get", h_user_get, "Information about a member", sign=True),
        MethodSpec("account.getQuota", h_account_getquota, "Upload quota of the caller",
                   token=True, sign=True, perm=("doc", "write")),
        MethodSpec("doc.getList", h_doc_getlist, "A member's documents", safety=True),
        MethodSpec("doc.search", h_doc_search, "Search documents", perm=("doc", "read"), safety=True),
        MethodSpec("doc.get", h_doc_get, "Details of a document", perm=("doc", "read")),
        MethodSpec("doc.getMedias", h_doc_getmedias, "Renditions and original of a document",
                   perm=("doc", "read")),
        MethodSpec("doc.getContainers", h_doc_getcontainers, "Albums and groups of a document",
                   perm=("doc", "read")),
        MethodSpec("doc.getPerms", h_doc_getperms, "Permissions of a document",
                   token=True, sign=True, perm=("doc", "read")),
        MethodSpec("doc.comments.getList", h_doc_comments_getlist, "Comments on a document",
                   perm=("doc", "read")),
        MethodSpec("doc.tags.getList", h_doc_tags_getlist, "Tags of a document", perm=("doc", "read")),
        MethodSpec("doc.tags.add", h_doc_tags_add, "Add keywords to a document",
                   token=True, sign=True, post=True, perm=("doc", "write")),
        MethodSpec("album.getList", h_album_getlist, "A member's albums", safety=True),
        MethodSpec("album.get", h_album_get, "Details of an album", perm=("doc", "read")),
        MethodSpec("album.docs.getList", h_album_docs_getlist, "Documents of an album", safety=True),
        MethodSpec("folder.getList", h_folder_getlist, "A member's folders"),
        MethodSpec("folder.albums.getList", h_folder_albums_getlist, "Albums of a folder", safety=True),
        MethodSpec("tags.user.getList", h_tags_user_getlist, "Tags used by a member"),
    ]
    return {s.name: s for s in specs}


METHODS: dict[str, MethodSpec] = _specs()


def rendition_size(doc_id: str, label: str) -> int:
    """Deterministic byte size of a thumbnail/transcode file."""
    digest = hashlib.md5(f"{doc_id}:{label}".encode()).hexdigest()
    return 300 + int(digest[:6], 16) % 6000

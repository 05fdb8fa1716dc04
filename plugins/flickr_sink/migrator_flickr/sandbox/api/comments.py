"""``flickr.photos.comments.*``."""

from __future__ import annotations

from .. import model
from ..render import Node
from .core import WRITE, ApiError, Call, int_arg, method
from .photo_fields import page_url


@method("flickr.photos.comments.getList")
def comments_get_list(call: Call):
    p = call.photo()
    lo = int_arg(call.arg("min_comment_date"))
    hi = int_arg(call.arg("max_comment_date"))
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

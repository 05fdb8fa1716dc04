"""``flickr.collections.*``: the tree of collections above the photosets."""

from __future__ import annotations

from .. import model
from ..render import Node
from .core import READ, ApiError, Call, method, user_id_arg


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
    user_id_arg(call, unknown_code=1)
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

"""``flickr.photos.licenses.*``."""

from __future__ import annotations

from .. import model
from ..render import Node
from .core import WRITE, ApiError, Call, int_arg, method, touch


@method("flickr.photos.licenses.getInfo")
def licenses_get_info(call: Call):
    return Node("licenses", children=[Node("license", {"id": i, "name": n, "url": u}) for i, n, u in model.LICENSES],
                arrays=("license",))


@method("flickr.photos.licenses.setLicense", WRITE)
def licenses_set(call: Call):
    p = call.photo()
    lid = int_arg(call.arg("license_id"))
    if lid is None or lid not in model.LICENSE_IDS or lid == 7:
        raise ApiError(2, "License not found")
    p.license = lid
    touch(p, call)

"""``flickr.photos.geo.*``: a photo's location."""

from __future__ import annotations

import math

from ..render import Node
from .core import WRITE, ApiError, Call, int_arg, method, touch
from .photo_fields import geo_str, place_of


@method("flickr.photos.geo.getLocation")
def geo_get_location(call: Call):
    p = call.photo()
    if not p.geo:
        raise ApiError(2, "Photo has no location information.")
    g = p.geo
    place_id, woeid = place_of(g["latitude"], g["longitude"])
    return Node("photo", {"id": p.id}, children=[Node("location", {
        "latitude": geo_str(g["latitude"]), "longitude": geo_str(g["longitude"]), "accuracy": str(g["accuracy"]),
        "context": str(g.get("context", 0)), "place_id": place_id, "woeid": woeid})])


def _coordinate(text: str, limit: int, code: int, name: str) -> float:
    """A latitude or longitude cut (not rounded) to six decimals; error ``code`` unless a number in range."""
    invalid = ApiError(code, f"Not a valid {name}.")
    try:
        value = float(text)
    except ValueError:
        raise invalid from None
    if not math.isfinite(value):
        raise invalid
    value = math.trunc(value * 1_000_000) / 1_000_000
    if not -limit <= value <= limit:
        raise invalid
    return value


@method("flickr.photos.geo.setLocation", WRITE)
def geo_set_location(call: Call):
    p = call.photo()
    lat_s, lon_s = call.arg("lat"), call.arg("lon")
    if lat_s is None or lon_s is None:
        raise ApiError(2, "Required arguments missing.")
    lat = _coordinate(lat_s, 90, 3, "latitude")
    lon = _coordinate(lon_s, 180, 4, "longitude")
    acc = int_arg(call.arg("accuracy"), 16)
    if acc is None or not 1 <= acc <= 16:
        raise ApiError(5, "Not a valid accuracy.")
    ctx = int_arg(call.arg("context"), 0)
    if ctx not in (0, 1, 2):
        ctx = 0
    if call.knobs.geo_refuse:
        raise ApiError(7, "User has not configured default viewing settings for location data.  "
                          "Please visit the Flickr account page to set them.")
    old = p.geo or {}
    p.geo = {"latitude": lat, "longitude": lon, "accuracy": acc, "context": ctx,
             "is_public": old.get("is_public", 1), "is_contact": old.get("is_contact", 0),
             "is_friend": old.get("is_friend", 0), "is_family": old.get("is_family", 0)}
    touch(p, call)


@method("flickr.photos.geo.removeLocation", WRITE)
def geo_remove_location(call: Call):
    p = call.photo()
    if not p.geo:
        raise ApiError(2, "Photo has no location information.")
    p.geo = None
    touch(p, call)

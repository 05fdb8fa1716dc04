"""Flickr REST methods and the upload/replace logic, on top of :mod:`..model`.

One module per Flickr namespace registers its handlers in :data:`METHODS` (see :mod:`.core`); importing
this package imports them all.  The server reaches everything through the names below, looked up on this
package at call time, so a test may replace one (``do_upload``, a ``METHODS`` entry) for a scenario."""

from . import auth, comments, geo, licenses, people, photo_collections, photos, photos_edit, photosets  # noqa: F401
from .core import DELETE, METHODS, NONE, READ, WRITE, ApiError, Call, dispatch, method
from .photo_fields import FREE_MAX_EDGE, derived_dims, photo_sizes
from .upload import Incoming, do_replace, do_upload, settle_tickets

__all__ = [
    "DELETE",
    "FREE_MAX_EDGE",
    "METHODS",
    "NONE",
    "READ",
    "WRITE",
    "ApiError",
    "Call",
    "Incoming",
    "derived_dims",
    "dispatch",
    "do_replace",
    "do_upload",
    "method",
    "photo_sizes",
    "settle_tickets",
]

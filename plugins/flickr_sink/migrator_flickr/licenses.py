"""Flickr's license ids (photos.licenses.getInfo) → canonical license ids (`migrator.licenses`)."""

from __future__ import annotations

from migrator.licenses import ALL_RIGHTS_RESERVED

FLICKR = {
    "0": ALL_RIGHTS_RESERVED,
    "1": "CC-BY-NC-SA-2.0",
    "2": "CC-BY-NC-2.0",
    "3": "CC-BY-NC-ND-2.0",
    "4": "CC-BY-2.0",
    "5": "CC-BY-SA-2.0",
    "6": "CC-BY-ND-2.0",
    "7": "no-known-copyright",
    "8": "us-government-work",
    "9": "CC0-1.0",
    "10": "public-domain-mark",
}

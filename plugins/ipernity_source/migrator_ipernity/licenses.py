"""ipernity's license codes → canonical license ids (`migrator.licenses`).

ipernity does not say which Creative Commons version its codes mean; we read them as 2.0, the version
its licence pages linked to when the codes were defined, which also maps them onto Flickr's ids 1-6.
"""

from __future__ import annotations

from migrator.licenses import ALL_RIGHTS_RESERVED

IPERNITY = {
    "0": ALL_RIGHTS_RESERVED,
    "1": "CC-BY-2.0",
    "3": "CC-BY-NC-2.0",
    "5": "CC-BY-ND-2.0",
    "7": "CC-BY-NC-ND-2.0",
    "9": "CC-BY-SA-2.0",
    "11": "CC-BY-NC-SA-2.0",
    "255": "copyleft",
}

"""Canonical license identifiers and the tables that map services' codes onto them.

Canonical ids follow SPDX spelling where one exists (`CC-BY-NC-SA-2.0`); `all-rights-reserved`,
`copyleft`, `no-known-copyright`, `us-government-work` and `public-domain-mark` name the rest.
ipernity does not say which Creative Commons version its codes mean; we read them as 2.0, the version
its licence pages linked to when the codes were defined, which also maps them onto Flickr's ids 1-6.
"""

from __future__ import annotations

ALL_RIGHTS_RESERVED = "all-rights-reserved"

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


def canonical(table: dict[str, str], code: object) -> str | None:
    """The canonical id for a service's license code, or None when the code is unknown."""
    return table.get(str(code).strip()) if code not in (None, "") else None


def service_code(table: dict[str, str], license_id: str | None) -> str | None:
    """The service's code for a canonical id, or None when the service has no such license."""
    for code, name in table.items():
        if name == license_id:
            return code
    return None

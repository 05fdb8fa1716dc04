"""Canonical license identifiers, and lookups in a service's table of codes (each plugin holds its own).

Canonical ids follow SPDX spelling where one exists (`CC-BY-NC-SA-2.0`); `all-rights-reserved`,
`copyleft`, `no-known-copyright`, `us-government-work` and `public-domain-mark` name the rest.
"""

from __future__ import annotations

ALL_RIGHTS_RESERVED = "all-rights-reserved"


def canonical(table: dict[str, str], code: object) -> str | None:
    """The canonical id for a service's license code, or None when the code is unknown."""
    return table.get(str(code).strip()) if code not in (None, "") else None


def service_code(table: dict[str, str], license_id: str | None) -> str | None:
    """The service's code for a canonical id, or None when the service has no such license."""
    for code, name in table.items():
        if name == license_id:
            return code
    return None

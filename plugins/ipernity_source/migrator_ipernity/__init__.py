"""migrator plugin: the `ipernity` source (and an ipernity sandbox for trying it without an account)."""

from __future__ import annotations

from typing import Any

from migrator import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_sources(register: Any) -> None:
    from .source import IpernitySource

    register(IpernitySource)

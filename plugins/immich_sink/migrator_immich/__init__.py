"""migrator plugin: the `immich` sink (replays any backup into a self-hosted Immich, exactly once), with an
Immich sandbox to try it without a server."""

from __future__ import annotations

from typing import Any

from migrator import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_sinks(register: Any) -> None:
    from .sink import ImmichSink

    register(ImmichSink)

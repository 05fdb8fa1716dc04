"""migrator plugin: the `ipernity` source (and an ipernity sandbox for trying it without an account), and
flip's backup folders (ipernity documents) as a folder format the `local` source replays."""

from __future__ import annotations

from typing import Any

from migrator import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_sources(register: Any) -> None:
    from .source import IpernitySource

    register(IpernitySource)


@hookimpl
def register_folder_formats(register: Any) -> None:
    from .flip import FlipBackup

    register(FlipBackup)


@hookimpl
def register_sandbox_commands(group: Any) -> None:
    from .sandbox_commands import register

    register(group)

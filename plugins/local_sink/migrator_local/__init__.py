"""migrator's `local` plugin: a backup folder as a sink, and the same folder (or another tool's, in a format an
installed plugin registers) as a source."""

from __future__ import annotations

from collections.abc import Callable

from migrator import hookimpl

from .formats.own import OwnBackup
from .sink import LocalSink
from .source import LocalSource

__all__ = ["LocalSink", "LocalSource"]
__version__ = "0.1.0"


@hookimpl
def register_sources(register: Callable[[type], None]) -> None:
    register(LocalSource)


@hookimpl
def register_sinks(register: Callable[[type], None]) -> None:
    register(LocalSink)


@hookimpl
def register_folder_formats(register: Callable[[type], None]) -> None:
    register(OwnBackup)

"""The hooks a migrator plugin can implement. Import `hookimpl` from `migrator` to mark yours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import pluggy

hookspec = pluggy.HookspecMarker("migrator")
hookimpl = pluggy.HookimplMarker("migrator")


@hookspec
def register_sources(register: Callable[[type], None]) -> None:
    """Call `register(SourceClass)` once per source this plugin provides."""


@hookspec
def register_sinks(register: Callable[[type], None]) -> None:
    """Call `register(SinkClass)` once per sink this plugin provides."""


@hookspec
def register_folder_formats(register: Callable[[type], None]) -> None:
    """Call `register(FormatClass)` once per backup folder format (a `migrator.folders.FolderFormat`)
    this plugin can read; the `local` source replays them and the `local` sink adopts their originals."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands to the `migrator` command group."""


@hookspec
def document_migrated(document: Any, sink: str, outcome: Any) -> None:
    """A sink confirmed it stored (or already had) a document."""


@hookspec
def document_skipped(document: Any, sink: str, reason: str) -> None:
    """A sink finally skipped a document (it can never take it)."""


@hookspec
def document_failed(document: Any, sink: str | None, reason: str) -> None:
    """A document failed; a rerun will retry it. `document` may be an Entry when loading failed."""


@hookspec
def run_finished(report: dict) -> None:
    """The run ended; `report` is the JSON-able summary that `--report` writes."""

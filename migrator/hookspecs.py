"""The hooks a migrator plugin can implement. Import `hookimpl` from `migrator` to mark yours."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
import pluggy

if TYPE_CHECKING:  # the hooks' argument types; importing them at run time would be circular
    from .api import Sink, Source, Stored
    from .records import Document, Entry

hookspec = pluggy.HookspecMarker("migrator")
hookimpl = pluggy.HookimplMarker("migrator")


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Call `register(SourceClass)` once per source this plugin provides."""


@hookspec
def register_sinks(register: Callable[[type[Sink]], None]) -> None:
    """Call `register(SinkClass)` once per sink this plugin provides."""


@hookspec
def register_folder_formats(register: Callable[[type], None]) -> None:
    """Call `register(FormatClass)` once per backup folder format (a `migrator.folders.FolderFormat`)
    this plugin can read; the `local` source replays them and the `local` sink adopts their originals."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands to the `migrator` command group."""


@hookspec
def register_sandbox_commands(group: click.Group) -> None:
    """Add click commands under `migrator sandbox` that change a plugin's emulated service between runs (e.g.
    `migrator sandbox ipernity edit ...`); `migrator.cli_sandbox.locked` hands them the sandbox folder."""


@hookspec
def document_migrated(document: Document, sink: str, outcome: Stored) -> None:
    """A sink confirmed it stored (or already had) a document; `outcome.status` is the one the run counts."""


@hookspec
def document_skipped(document: Document, sink: str, reason: str) -> None:
    """A sink finally skipped a document (it can never take it)."""


@hookspec
def document_failed(document: Document, sink: str, reason: str) -> None:
    """A sink failed a document; a rerun will retry it."""


@hookspec
def load_failed(entry: Entry, reason: str) -> None:
    """The source could not load a listed entry (so no sink saw it); a rerun will retry it."""


@hookspec
def run_finished(report: dict[str, Any]) -> None:
    """The run ended; `report` is the JSON-able summary that `--report` writes."""

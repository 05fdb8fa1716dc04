"""migrator plugin: the `flickr` sink and source (and a Flickr sandbox to try them without an account), and
flickrmirrorer's mirrors and Flickr's data export as folder formats the `local` source replays
(`migrator sandbox flickr export DIR` writes the export of the sandbox account)."""

from __future__ import annotations

from typing import Any

from migrator import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_sinks(register: Any) -> None:
    from .sink import FlickrSink

    register(FlickrSink)


@hookimpl
def register_sources(register: Any) -> None:
    from .source import FlickrSource

    register(FlickrSource)


@hookimpl
def register_folder_formats(register: Any) -> None:
    from .export import FlickrExport
    from .flickrmirrorer import MirrorBackup

    register(MirrorBackup)
    register(FlickrExport)


@hookimpl
def register_sandbox_commands(group: Any) -> None:
    from .sandbox_commands import register

    register(group)

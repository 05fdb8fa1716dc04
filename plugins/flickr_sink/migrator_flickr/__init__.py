"""migrator plugin: the `flickr` sink and source (and a Flickr sandbox to try them without an account)."""

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

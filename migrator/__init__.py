"""migrator: move photos, their metadata and albums between services and disks, through plugins."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import Context, Loss, Sink, Source, Stored, StoredRecord  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402
from .options import Option  # noqa: E402
from .records import (  # noqa: E402
    AlbumRef,
    Comment,
    Container,
    Document,
    Entry,
    FileInfo,
    Geo,
    Item,
    Note,
    Original,
    Visibility,
)

__all__ = [
    "AlbumRef", "Comment", "Container", "Context", "Document", "Entry", "FileInfo", "Geo", "Item", "Note",
    "Loss", "Option", "Original", "Sink", "Source", "Stored", "StoredRecord", "Visibility", "__version__", "hookimpl",
]

"""Options that mean the same for the `flickr` source and sink: one definition, imported by both.

The core reads the options of every class registered as `flickr` as one table, so a key both declare
must be the very same Option. The connection options live beside the client they configure.
"""

from __future__ import annotations

from migrator import Option

from .client import CONNECTION_OPTIONS

COMMENTS_OFF, COMMENTS_KEEP, COMMENTS_IN_DESCRIPTION = "off", "keep", "description"

COMMENTS = Option(
    "comments", str, COMMENTS_KEEP,
    "off: the source fetches no comments and the sink adds none; keep: the source fetches them into the "
    "record, the sink keeps them out of the description; description: the sink appends them to the "
    "description", choices=(COMMENTS_OFF, COMMENTS_KEEP, COMMENTS_IN_DESCRIPTION))

SHARED_OPTIONS = [*CONNECTION_OPTIONS, COMMENTS]

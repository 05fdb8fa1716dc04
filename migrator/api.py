"""What a plugin author subclasses: `Source` and `Sink`, plus the `Context` the core hands them.

A source lists documents (`entries`) and containers; a sink stores them. Neither touches the state
store directly: the context answers "what did I store for this document last time?" and keeps a small
per-plugin memory (e.g. upload intents, album → photoset ids).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .options import Option
from .progress import sink_moved
from .records import Container, Document, Entry, Item

__all__ = ["Context", "Loss", "Option", "Sink", "Source", "Stored", "StoredRecord"]


@dataclass
class Stored:
    """A sink's confirmation: where the document or container now lives."""

    ref: str  # sink-side id or path
    status: str = "new"  # "new" | "updated" | "unchanged"
    size: int | None = None
    sha256: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # anything the sink wants back next time
    warnings: list[str] = field(default_factory=list)  # stored, but with a flagged fallback
    local_copy: Path | None = None  # a complete copy of the original on this disk: later sinks read it


@dataclass(frozen=True)
class Loss:
    """What a sink cannot carry of one record, said before anything is sent (`Sink.losses`, `--dry-run`).

    `field` None: the sink would skip the whole record; else the field it would drop or change."""

    reason: str  # short and the same for every record it applies to: the ledger counts records per reason
    field: str | None = None


@dataclass
class StoredRecord:
    """What the state store remembers for one (record, sink, account)."""

    source: str
    id: str
    sink: str
    account: str
    status: str  # "done" | "skipped" | "failed" | "pending"
    ref: str | None = None
    size: int | None = None
    sha256: str | None = None
    updated_at: str | None = None
    fingerprint: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None
    local_copy: str | None = None  # the Stored.local_copy of the last success, offered to later sinks

    @property
    def done(self) -> bool:
        return self.status == "done"

    def original_differs(self, doc: Document) -> bool:
        """`doc`'s original is not the one this record was made from: another size, or another md5 of the same
        size (a sink that sends files keeps the md5 of the one it sent in `data["md5"]`)."""
        if not doc.file:
            return False
        resized = bool(doc.file.size and self.size and doc.file.size != self.size)
        sent_md5 = self.data.get("md5")
        return resized or bool(doc.file.md5 and sent_md5 and doc.file.md5 != sent_md5)


class Context:
    """The core's services for one source or sink instance in one run."""

    def __init__(self, name: str, role: str, *, dry_run: bool = False, config_dir: Path | None = None,
                 workdir: Path | None = None, store: Any = None, account: str | None = None,
                 chain: str | None = None, calls: Counter | None = None, progress: Any = None,
                 folder_formats: list[type] | None = None) -> None:
        self.name = name
        self.role = role
        self.dry_run = dry_run
        self.config_dir = config_dir or Path.cwd()
        self.workdir = workdir or Path.cwd()
        self.log = logging.getLogger(f"migrator.{name}")
        self.calls: Counter = calls if calls is not None else Counter()
        self._calls_lock = threading.Lock()
        self._store = store
        self._account = account
        self._chain = chain
        self._progress = progress
        self.deleted: list[dict[str, str]] = []
        self.warnings: list[str] = []
        self.containers_pending = False
        self.redone = 0
        # the installed backup folder formats (`migrator.folders.FolderFormat` classes), most faithful first
        self.folder_formats: list[type] = list(folder_formats or [])
        # set by the command: another installed plugin's option values (-o, environment, config file), or
        # None; for a plugin that works with another's service (a folder format asking that service's API)
        self.settings_of: Callable[[str], dict[str, Any] | None] = lambda name: None

    # -- accounting -----------------------------------------------------------------------------
    def count_call(self, method: str, n: int = 1) -> None:
        """Count API calls per method; the run report lists them per service. Safe from any thread."""
        with self._calls_lock:
            self.calls[method] += n

    def add_bytes(self, n: int) -> None:
        """Bytes a sink moved without reading `Original.open()` (e.g. an upload from `Original.path`). The core
        counts streams itself, and each document once: the furthest any stream or any one sink got."""
        if not sink_moved(n) and self._progress is not None:
            self._progress.add_bytes(n)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.log.warning(message)

    def notice(self, message: str) -> None:
        """A line a person should see now, e.g. how far long work at the end of a run has got; not a warning
        (the report keeps none of it). Shown unless -q."""
        notice = getattr(self._progress, "notice", None)
        if notice is not None:
            notice(message)
        else:
            self.log.info(message)

    # -- for sources ----------------------------------------------------------------------------
    @property
    def bookmark(self) -> str | None:
        """Where the last complete run of this same chain stopped (None: never, or a full run)."""
        return self._store.get_bookmark(self._chain) if self._store and self._chain else None

    def known_ids(self, source: str) -> set[str]:
        """Ids of documents from `source` that any sink of this run has stored before."""
        return self._store.known_ids(source) if self._store else set()

    # containers_pending (set by the core): an earlier run of this chain did not finish the albums and
    # collections; a source that lists containers only when something is new must list them all now.

    def note_deleted(self, source: str, doc_id: str, title: str = "") -> None:
        """A document gone from the service; its backups are kept, the report lists it."""
        self.deleted.append({"source": source, "id": doc_id, "title": title})

    # -- for sinks ------------------------------------------------------------------------------
    def stored(self, source: str, record_id: str, kind: str = "document") -> StoredRecord | None:
        """What this sink stored for a record on its current account, if anything."""
        if not self._store or self._account is None:
            return None
        return self._store.get(kind, source, record_id, self.name, self._account)

    def stored_records(self, kind: str = "document") -> list[StoredRecord]:
        """Everything this sink holds on its current account (e.g. to check the copies still exist)."""
        if not self._store or self._account is None:
            return []
        return self._store.records_of(kind, self.name, self._account)

    def redo(self, source: str, record_id: str, reason: str, kind: str = "document") -> None:
        """This sink lost its copy of a record (e.g. deleted by hand at the service): migrate it again.

        Call it from `prepare()`: the record turns pending and this run lists the source from the
        beginning, so even a document older than the bookmark comes by again.
        """
        if self._store and self._account is not None and not self.dry_run:
            self._store.mark(kind, source, record_id, self.name, self._account, "pending", error=reason)
            self.redone += 1

    def memory_get(self, key: str, default: Any = None) -> Any:
        """Per plugin and account memory that survives runs (JSON values)."""
        if not self._store:
            return default
        return self._store.memory_get(self._namespace(), key, default)

    def memory_set(self, key: str, value: Any) -> None:
        if self._store and not self.dry_run:
            self._store.memory_set(self._namespace(), key, value)

    def memory_set_many(self, values: dict[str, Any]) -> None:
        """Many keys at once, in one transaction."""
        if self._store and not self.dry_run and values:
            self._store.memory_set_many(self._namespace(), values)

    def memory_delete(self, key: str) -> None:
        if self._store and not self.dry_run:
            self._store.memory_delete(self._namespace(), key)

    def memory_items(self, prefix: str = "") -> dict[str, Any]:
        return self._store.memory_items(self._namespace(), prefix) if self._store else {}

    def _namespace(self) -> str:
        return f"{self.role}:{self.name}:{self._account or ''}"

    def bind(self, store: Any, account: str, chain: str | None = None) -> None:
        """Called by the core once the instance knows its account."""
        self._store, self._account, self._chain = store, account, chain


class _Plugin:
    name: ClassVar[str]
    description: ClassVar[str] = ""
    options: ClassVar[list[Option]] = []
    # How many documents this plugin handles well at once: a run without --jobs uses the smallest number
    # any plugin of its chain declares (None: no preference; migrator.run.DEFAULT_JOBS if none does).
    # Spacing a service's calls (e.g. Flickr's rate) is the client's job, across all workers, not this.
    concurrency: ClassVar[int | None] = None

    def __init__(self, config: dict[str, Any], context: Context) -> None:
        self.config = config
        self.context = context

    def open(self) -> None:
        """Check credentials and reachability; raise AuthorizationNeeded or UsageError early."""

    def account(self) -> str:
        """A stable name for the account or place this instance talks to (part of the state key)."""
        return ""

    def close(self) -> None:
        """Release resources; called once, even after a failure."""

    def location(self) -> str | None:
        """Where a person can look at this instance's results (a folder, a web address), for the message
        that ends a `--sandbox` run; None when there is nothing to show."""
        return None

    @classmethod
    def sandbox(cls, workdir: Path) -> contextlib.AbstractContextManager[dict[str, Any]] | None:
        """A context that starts this service's emulator and yields option values pointing at it.

        `workdir` is kept from one `--sandbox` run to the next (until `migrator sandbox reset`): the emulator
        keeps its service's data there, saving every change before answering it, so that a run killed at
        any moment resumes. It is also this instance's `context.config_dir`: tokens for the emulator live
        there, never beside the real ones."""
        return None

    @classmethod
    def sandbox_summary(cls, workdir: Path) -> list[str]:
        """What `migrator sandbox show` says of this plugin's emulated service in `workdir` (a few lines)."""
        return []

    @classmethod
    def authorize(cls, config: dict[str, Any], context: Context) -> None:
        """Interactive authorization for `migrator auth NAME` (reads stdin)."""
        raise NotImplementedError


class Source(_Plugin):
    """Lists documents and containers of one service or folder."""

    def total(self) -> int | None:
        """How many documents `entries()` will list, when cheap to know (for progress)."""
        return None

    def entries(self) -> Iterator[Entry]:
        raise NotImplementedError

    def containers(self) -> Iterator[Container]:
        return iter(())


class Sink(_Plugin):
    """Stores documents and containers somewhere. `store` may be called from several threads."""

    # what this sink calls the containers it makes, by kind, where its word differs (Flickr: album → set);
    # the end-of-run summary counts them in it
    container_names: dict[str, str] = {}

    def store(self, item: Item, previous: StoredRecord | None) -> Stored:
        """Store one document; raise SkipDocument to refuse it for good, DocumentError to fail it.

        A sink that leaves a complete copy of the original on this disk says where in `Stored.local_copy`:
        the core then hands that file, instead of the source's stream, to the sinks after it (this run and,
        while the document is unchanged, later runs)."""
        raise NotImplementedError

    def store_container(self, container: Container, previous: StoredRecord | None) -> Stored:
        """Store an album, collection or folder."""
        return Stored(ref="", status="unchanged")

    def losses(self, record: Document | Container) -> list[Loss]:
        """What this sink would not carry of a document or container, from the record alone: no call, no
        write (`--dry-run` shows the sum as a loss ledger). Optional: the default says nothing is lost."""
        return []

    def prepare(self) -> None:
        """Called once the context is bound to the state and the account, before the source lists
        anything: a sink may check its copies here and `context.redo()` the ones it lost."""

    def finish(self) -> None:
        """All documents and containers were handed over (work like ordering sets goes here)."""

    def abandon(self) -> None:
        """The run ends at once (a second Ctrl-C): drop the writes in progress, e.g. remove partial files.

        Called from another thread while `store` may still be running, just before the process exits
        without `close()`; it must not block. Optional: without it, nothing is cleaned up."""

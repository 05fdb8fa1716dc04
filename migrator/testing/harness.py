"""Drives sources and sinks in process exactly as the run loop does, against a real state store."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from .. import options as opts
from ..api import Context, Sink, Source, Stored, StoredRecord
from ..records import Container, Entry, Item
from ..registry import build, load
from ..run import deliver, offer_copy
from ..state import StateStore

P = TypeVar("P", Source, Sink)
T = TypeVar("T")
MIN_SECRET = 4  # shorter values would "appear" everywhere by chance


def plugin_class(spec: str | type, kind: str) -> type:
    """A plugin class given as itself or by its registered name (which also checks the registration)."""
    if isinstance(spec, type):
        return spec
    registry = load()
    return (registry.sink if kind == "sink" else registry.source)(spec).cls


def error_text(exc: BaseException) -> str:
    """Everything a user may see of an exception: its message, repr and the chain a traceback shows."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current)]
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n".join(parts)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a broken log call is not ours to judge here
            pass


class Harness:
    """One state store in `root` and the plugins opened against it (closed by `shutdown()`).

    `sink()`/`source()` instantiate with resolved options and a Context, call open(), account() and
    context.bind(store, account, chain) like `migrator run`; `store()`/`store_container()` call the sink
    and record the outcome in the state like the run loop, so the next call's `previous` is real.
    Every exception that passes through is checked for secret option values.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.state = StateStore(self.root / "state.sqlite3")
        self.secrets: set[str] = set()
        self.opened: list[Source | Sink] = []
        self.contexts: list[Context] = []
        self.accounts: dict[int, str] = {}  # id(plugin) → what its account() said
        self.chains: dict[int, str] = {}  # id(plugin) → the chain its context is bound to (bookmarks)
        self.said: dict[str, str] = {}  # record key → the status the sink's last store call itself returned
        self._log = _Records()
        logging.getLogger().addHandler(self._log)

    # -- plugins ----------------------------------------------------------------------------------
    def instantiate(self, cls: type[P], role: str, options: dict[str, Any], dry_run: bool = False) -> P:
        """The plugin as `migrator run` builds it: options resolved (only these, no environment, no
        config file), secrets remembered, a Context with its own config and work folders."""
        known = {cls.name: {o.name for o in cls.options}}
        opts.validate_names({cls.name: options}, known, f"conformance options for {cls.name}")
        for folder in ("config", "work"):
            (self.root / folder).mkdir(exist_ok=True)
        plugin = build(cls, role, options, {}, config_dir=self.root / "config", workdir=self.root / "work",
                       dry_run=dry_run, environ={}, folder_formats=load().folder_formats)
        self.secrets |= {str(plugin.config[o.name]) for o in cls.options
                         if o.secret and plugin.config[o.name] is not None
                         and len(str(plugin.config[o.name])) >= MIN_SECRET}
        self.contexts.append(plugin.context)
        return plugin

    def open(self, plugin: P) -> P:
        """open(), account(), context.bind(): what the run loop does before the first document."""
        self.call(plugin.open)
        self.opened.append(plugin)
        account = self.call(plugin.account)
        assert isinstance(account, str), f"{plugin.context.name}.account() returned {account!r}, not a str"
        self.accounts[id(plugin)] = account
        name = plugin.context.name
        chain = f"{name}@{account}>conformance" if plugin.context.role == "source" else f"conformance>{name}@{account}"
        self.chains[id(plugin)] = chain
        plugin.context.bind(self.state, account, chain)
        return plugin

    def sink(self, cls: type[Sink], options: dict[str, Any], dry_run: bool = False) -> Sink:
        return self.open(self.instantiate(cls, "sink", options, dry_run))

    def source(self, cls: type[Source], options: dict[str, Any], dry_run: bool = False) -> Source:
        return self.open(self.instantiate(cls, "source", options, dry_run))

    def close(self, plugin: Source | Sink) -> None:
        """close(), once (the run loop never closes a plugin twice)."""
        if plugin in self.opened:
            self.opened.remove(plugin)
            self.call(plugin.close)

    def shutdown(self) -> None:
        try:
            while self.opened:
                self.close(self.opened[-1])
        finally:
            logging.getLogger().removeHandler(self._log)
            self.state.close()

    # -- the run loop's steps -----------------------------------------------------------------------
    def previous(self, sink: Sink, kind: str, source: str, record_id: str) -> StoredRecord | None:
        return self.state.get(kind, source, record_id, sink.context.name, self.accounts[id(sink)])

    def store(self, sink: Sink, item: Item) -> Stored:
        """sink.store(item, previous) with `previous` from the state, the outcome marked: the run loop's own
        step (`deliver`). The returned Stored's status is the one the run counts ("new" over a done record
        counts as "updated"), and its local copy is offered to whatever reads `item.original` next."""
        doc = item.document
        prev = self.previous(sink, "document", doc.source, doc.id)
        stored = deliver(self.state, sink, self.accounts[id(sink)], doc, prev,
                         partial(self._noting, doc.key, sink.store, item, prev), self._calling(sink.store),
                         doc.updated_at)
        offer_copy(item, stored.local_copy, stored.sha256)
        return stored

    def unchanged(self, sink: Sink, item: Item) -> None:
        """What the run loop does for a document unchanged since the sink stored it: no call to the sink;
        the copy it confirmed last time is offered to later sinks."""
        doc = item.document
        prev = self.previous(sink, "document", doc.source, doc.id)
        assert prev is not None and prev.done, f"{doc.key} was not stored before"
        offer_copy(item, prev.local_copy, prev.sha256)

    def store_container(self, sink: Sink, container: Container) -> Stored:
        """sink.store_container(container, previous), marked in the state; status counted as for documents."""
        prev = self.previous(sink, container.kind, container.source, container.id)
        return deliver(self.state, sink, self.accounts[id(sink)], container, prev,
                       partial(self._noting, container.key, sink.store_container, container, prev),
                       self._calling(sink.store_container))

    def _noting(self, key: str, method: Callable[..., Stored], *args: Any) -> Stored:
        """Call the sink and note the status it said itself (the run counts "new" over a done record as
        "updated", which would hide a sink that says "new" every time)."""
        stored = method(*args)
        if isinstance(stored, Stored):
            self.said[key] = stored.status
        return stored

    def _calling(self, method: Callable[..., Any]) -> Callable[[Callable[[], T]], T]:
        return lambda attempt: self.call(attempt, what=_name(method))

    def finish(self, sink: Sink) -> None:
        self.call(sink.finish)

    def call(self, fn: Callable[..., T], *args: Any, what: str | None = None) -> T:
        """Call a plugin method; an exception leaving it must not carry a secret."""
        try:
            return fn(*args)
        except BaseException as exc:
            self.assert_no_secret(error_text(exc), f"the {type(exc).__name__} raised by {what or _name(fn)}")
            raise

    # -- checks -------------------------------------------------------------------------------------
    def assert_no_secret(self, text: str, where: str) -> None:
        for secret in self.secrets:
            assert secret not in text, f"a secret option value appears in {where}"

    def assert_secrets_kept(self) -> None:
        """No secret in the state file, the plugins' warnings or log records that reached the root logger."""
        with sqlite3.connect(self.state.path) as db:
            rows = db.execute("SELECT * FROM records").fetchall() + db.execute("SELECT * FROM memory").fetchall()
        db.close()
        self.assert_no_secret("\n".join(map(str, rows)), "the state store (records or plugin memory)")
        for context in self.contexts:
            self.assert_no_secret("\n".join(context.warnings), f"{context.name}'s context.warn() messages")
        self.assert_no_secret("\n".join(self._log.messages), "log messages")

    def entries(self, source: Source) -> list[Entry]:
        """Everything source.entries() yields, listed to the end."""
        return self.call(lambda: list(source.entries()), what=f"{source.context.name}.entries()")

    def containers(self, source: Source) -> list[Container]:
        return self.call(lambda: list(source.containers()), what=f"{source.context.name}.containers()")


def _name(fn: Callable[..., Any]) -> str:
    owner = getattr(fn, "__self__", None)
    plugin = getattr(getattr(owner, "context", None), "name", None) or getattr(owner, "__name__", "plugin")
    return f"{plugin}.{getattr(fn, '__name__', 'call')}()"

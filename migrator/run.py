"""The run loop: source → documents → each sink in order → state, with a bounded worker pool.

A document counts as done for a sink only after that sink confirmed it. The source's bookmark only
advances over the contiguous prefix of listed entries that every sink finished (done or finally skipped).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from .api import Sink, Source, Stored, StoredRecord
from .checkpoints import checkpoint
from .errors import (
    EXIT_BUG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    AuthorizationNeeded,
    DocumentError,
    MigratorError,
    ServiceStopped,
    SkipDocument,
    TransientError,
    UsageError,
)
from .ledger import Ledger
from .progress import DocumentBytes, Progress, human_bytes, plural
from .records import Container, Document, Entry, Item
from .state import StateStore

T = TypeVar("T")
CORE = "core"  # the core's own namespace in the state's memory table
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
# Documents at once when no plugin of the chain says otherwise: most of a document's time is waiting on
# round trips, and 8 overlap them well without flooding a service (README: "How many at once").
DEFAULT_JOBS = 8
_WHERE = "migrator_where"  # attribute naming where an unexpected exception surfaced


@dataclass
class RunOptions:
    dry_run: bool = False
    limit: int | None = None
    jobs: int | None = None  # None: default_jobs() of the chain
    retry_delays: tuple[float, ...] = RETRY_DELAYS


@dataclass
class Report:
    source: str
    sinks: list[str]
    counts: Counter = field(default_factory=Counter)
    per_sink: dict[str, Counter] = field(default_factory=dict)
    containers: Counter = field(default_factory=Counter)
    sink_containers: dict[str, dict[str, Counter]] = field(default_factory=dict)  # sink -> kind -> status
    container_names: dict[str, dict[str, str]] = field(default_factory=dict)  # sink -> kind -> its own word
    bytes: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, str]] = field(default_factory=list)
    would: list[dict[str, Any]] = field(default_factory=list)
    api_calls: dict[str, dict[str, int]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    duration: float = 0.0
    stopped: str | None = None
    exit_code: int = EXIT_OK
    remaining: int | None = None
    dry_run: bool = False
    jobs: int = 1
    error: str | None = None  # the unexpected error (a bug) that ended the run
    losses: dict[str, list[dict[str, Any]]] | None = None  # a dry run's loss ledger, per sink (migrator.ledger)

    def to_json(self) -> dict[str, Any]:
        keys = ("listed", "new", "updated", "unchanged", "skipped", "failed")
        return {
            "source": self.source, "sinks": self.sinks, "dry_run": self.dry_run,
            "counts": {k: self.counts.get(k, 0) for k in keys} | ({"would_migrate": len(self.would)}
                                                                   if self.dry_run else {}),
            "per_sink": {s: dict(c) for s, c in self.per_sink.items()},
            "containers": dict(self.containers),
            "containers_per_sink": {s: {k: dict(c) for k, c in kinds.items()}
                                    for s, kinds in self.sink_containers.items()},
            "bytes": self.bytes, "api_calls": self.api_calls,
            "duration": round(self.duration, 3), "started": self.started,
            "failed": self.failed, "skipped": self.skipped, "warnings": self.warnings,
            "deleted": self.deleted, "would_migrate": self.would, "stopped": self.stopped,
            "remaining": self.remaining, "exit_code": self.exit_code, "error": self.error, "jobs": self.jobs,
        } | ({"losses": self.losses} if self.losses is not None else {})

    def summary_line(self, report_file: str | None = None) -> str:
        """The summary that ends a run: the documents overall, then (unless a dry run) each sink's counts and
        containers, and how many warnings and failures, with where to read them."""
        lines = [self._overall_line()]
        busy = [sink for sink in self.sinks if self.per_sink.get(sink) or self.sink_containers.get(sink)]
        if not self.dry_run and busy:
            lines.append(" | ".join(self._sink_text(sink) for sink in busy))
        trouble = self._trouble_text(report_file)
        if trouble:
            lines.append(trouble)
        return "\n".join(lines)

    def _overall_line(self) -> str:
        c = self.counts
        parts = [f"{c['listed']} listed"]
        if self.dry_run:
            parts.append(f"{len(self.would)} would be migrated")
        parts += [f"{c[k]} {k}" for k in ("new", "updated", "unchanged", "skipped", "failed") if c[k]]
        if self.deleted:
            parts.append(f"{len(self.deleted)} deleted at the source (backups kept)")
        return (f"{'dry run: ' if self.dry_run else ''}{', '.join(parts)}; {human_bytes(self.bytes)} "
                f"in {self.duration:.1f}s")

    def _sink_text(self, sink: str) -> str:
        """`flickr: 137 new, 13 skipped (Flickr takes only photos and videos) · 16 sets`"""
        counts = self.per_sink.get(sink, Counter())
        parts = []
        for status in ("new", "updated", "unchanged", "skipped", "failed"):
            if counts[status]:
                reason = f" ({self.main_skip_reason(sink)})" if status == "skipped" else ""
                parts.append(f"{counts[status]} {status}{reason}")
        text = f"{sink}: {', '.join(parts) or 'no documents'}"
        names = self.container_names.get(sink, {})
        for kind, statuses in sorted(self.sink_containers.get(sink, {}).items()):
            text += f" · {containers_text(statuses, names.get(kind, kind))}"
        return text

    def main_skip_reason(self, sink: str) -> str:
        """The reason most of a sink's skips share (the source's own skips count for every sink)."""
        reasons = [s["reason"] for s in self.skipped if s.get("sink") in (sink, None) and s.get("reason")]
        if not reasons:
            return "no reason given"
        top = Counter(reasons).most_common(1)[0][0]
        family = [r for r in reasons if r.split()[:3] == top.split()[:3]]
        text = shorten(shared_clause(family), 70)
        return text if len(family) == len(reasons) else f"mostly: {text}"

    def _trouble_text(self, report_file: str | None) -> str:
        counts = ((len(self.warnings), "warning"), (len(self.failed), "failure"))
        parts = [plural(n, word) for n, word in counts if n]
        if not parts:
            return ""
        where = ["the lines above", f"the report {report_file}" if report_file else "--report FILE"]
        if self.failed:  # the state keeps failures, not warnings
            where.append("`migrator status`")
        return f"{', '.join(parts)}: see {', '.join(where[:-1])} or {where[-1]}"


def shared_clause(texts: list[str]) -> str:
    """What similar messages say in common, up to the clause where they differ: "Flickr takes only photos
    and videos" for "…, not audio" and "…, not other"."""
    prefix = os.path.commonprefix(texts)
    if all(t == prefix for t in texts):
        return prefix
    cut = max(prefix.rfind(sep) for sep in (", ", "; ", " (", ": ", " - "))
    return prefix[:cut] if cut > 0 else prefix.rsplit(" ", 1)[0]


def containers_text(statuses: Counter, noun: str) -> str:
    """`17 albums`, `16 sets, 1 skipped`, `17 albums unchanged`: what a sink did with one kind of container
    (made ones first, then the rest by status)."""
    made = statuses.get("new", 0)
    rest = [(status, statuses[status]) for status in ("updated", "unchanged", "skipped", "failed")
            if statuses.get(status)]
    if made:
        return ", ".join([plural(made, noun)] + [f"{n} {status}" for status, n in rest])
    if not rest:
        return plural(0, noun)
    (status, n), *others = rest
    return ", ".join([f"{plural(n, noun)} {status}"] + [f"{m} {other}" for other, m in others])


def shorten(text: str, limit: int) -> str:
    """One line of at most about `limit` characters, cut after a whole word (never inside one)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:(") + " …"


def default_jobs(plugins: list[Source | Sink]) -> int:
    """Documents at once for a chain: the smallest concurrency its plugins declare, else DEFAULT_JOBS."""
    declared = [p.concurrency for p in plugins if isinstance(p.concurrency, int) and p.concurrency > 0]
    return min(declared, default=DEFAULT_JOBS)


def describe(exc: BaseException) -> str:
    """An exception on one line, its type first: messages can hold whole pages of HTML."""
    text = shorten(str(exc), 300)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _locate(exc: BaseException, where: str) -> None:
    """Remember where an exception surfaced; the innermost place (a document and sink) wins."""
    if getattr(exc, _WHERE, None) is None:
        with contextlib.suppress(AttributeError):  # a few exception types refuse new attributes
            setattr(exc, _WHERE, where)


def fingerprint(record: Document | Container) -> str:
    text = json.dumps(record.to_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def counted_status(stored: Stored, previous: StoredRecord | None) -> str:
    """The status a run counts: "new" over a record that was done counts as "updated"."""
    status = stored.status if stored.status in ("new", "updated", "unchanged") else "new"
    return "updated" if status == "new" and previous is not None and previous.status == "done" else status


def check_stored(stored: Any, where: str) -> Stored:
    """A sink's confirmation as the state can keep it; anything else is the plugin's bug (TypeError)."""
    if not isinstance(stored, Stored):
        raise TypeError(f"{where} returned {stored!r}, not a migrator.Stored")
    if not isinstance(stored.ref, str) or stored.status not in ("new", "updated", "unchanged"):
        raise TypeError(f"{where}: Stored.ref must be a str and Stored.status new, updated or unchanged "
                        f"(got {stored.ref!r}, {stored.status!r})")
    if not all(isinstance(w, str) for w in stored.warnings):
        raise TypeError(f"{where}: Stored.warnings must be strings")
    try:
        json.dumps(stored.data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: Stored.data is not JSON-able ({exc}); the state keeps it as JSON") from None
    return stored


def deliver(state: StateStore, sink: Sink, account: str, record: Document | Container,
            previous: StoredRecord | None, attempt: Callable[[], Stored],
            call: Callable[[Callable[[], Stored]], Stored] = lambda fn: fn(),
            updated_at: str | None = None, fp: str | None = None) -> Stored:
    """One record through one sink, the way every run does it: `attempt` (the sink's store or
    store_container, through `call`, which may retry) then the outcome marked in the state. A final skip or
    a failure is marked and raised; a success comes back with the status the run counts."""
    kind, name = getattr(record, "kind", "document"), sink.context.name
    fp = fp or fingerprint(record)  # the caller's, when it already has it: hashing a record is not free
    where = f"{name}.store" if kind == "document" else f"{name}.store_container"
    try:
        checkpoint(f"run:{'store' if kind == 'document' else 'container'}:{name}")
        stored = check_stored(call(attempt), where)
        checkpoint(f"run:{'stored' if kind == 'document' else 'container-stored'}:{name}")
    except SkipDocument as exc:
        state.mark(kind, record.source, record.id, name, account, "skipped", title=record.title,
                   updated_at=updated_at if kind == "document" else None, fingerprint=fp, error=str(exc))
        raise
    except DocumentError as exc:
        state.mark(kind, record.source, record.id, name, account, "failed", title=record.title, error=str(exc))
        raise
    copy = str(stored.local_copy) if stored.local_copy is not None else None
    state.mark(kind, record.source, record.id, name, account, "done", title=record.title, ref=stored.ref,
               size=stored.size if kind == "document" else None, sha256=stored.sha256 if kind == "document" else None,
               updated_at=updated_at if kind == "document" else record.updated_at, fingerprint=fp,
               data=stored.data, local_copy=copy)
    if kind == "document":
        checkpoint(f"run:marked:{name}")
    return Stored(stored.ref, counted_status(stored, previous), stored.size, stored.sha256, stored.data,
                  stored.warnings, stored.local_copy)


def _counting(counted: DocumentBytes, store: Callable[[Item, StoredRecord | None], Stored], item: Item,
              previous: StoredRecord | None) -> Stored:
    """One attempt of sink.store, its add_bytes calls counted for this document."""
    with counted.sink_attempt():
        return store(item, previous)


def offer_copy(item: Item, path: str | Path | None, sha256: str | None) -> None:
    """Later sinks read the original from a sink's complete copy on this disk, when it is still there."""
    if item.original is None or not path:
        return
    try:
        size = Path(path).stat().st_size
    except OSError:
        return  # moved or deleted since: the source's stream it is
    if item.original.size is None or size == item.original.size:
        item.original.read_from(Path(path), sha256)


class _Bookmarks:
    """Listing order; the bookmark may move over the prefix of entries that completed.

    Only what lies past that prefix is held (each entry's bookmark text, not the entry): a run of
    100,000 documents does not keep 100,000 entries alive."""

    def __init__(self) -> None:
        self._listed = 0  # entries listed so far; the next one gets this index
        self._prefix = 0  # every entry before this index completed
        self._best: str | None = None  # the last bookmark within that prefix
        self._waiting: dict[int, str | None] = {}  # index -> bookmark, for entries from _prefix on
        self._ok: set[int] = set()  # completed entries from _prefix on
        self._lock = threading.Lock()

    def listed(self, entry: Entry) -> int:
        with self._lock:
            index = self._listed
            self._listed += 1
            self._waiting[index] = entry.bookmark
            return index

    def complete(self, index: int) -> None:
        with self._lock:
            self._ok.add(index)
            while self._prefix in self._ok:
                self._ok.discard(self._prefix)
                bookmark = self._waiting.pop(self._prefix)
                if bookmark is not None:
                    self._best = bookmark
                self._prefix += 1

    def value(self) -> str | None:
        with self._lock:
            return self._best


class Runner:
    def __init__(self, source: Source, sinks: list[Sink], store: StateStore, progress: Progress,
                 options: RunOptions, hooks: Any = None) -> None:
        self.source, self.sinks, self.store = source, sinks, store
        self.progress, self.options, self.hooks = progress, options, hooks
        self.jobs = options.jobs or default_jobs([source, *sinks])
        self.report = Report(source.context.name, [s.context.name for s in sinks], dry_run=options.dry_run,
                             jobs=self.jobs, container_names={s.context.name: dict(s.container_names) for s in sinks})
        self.accounts: list[str] = []
        self.chain = ""
        self._stop: MigratorError | None = None
        self._interrupted = False
        self._interrupt_code = EXIT_INTERRUPTED
        self._crash: BaseException | None = None
        self._working = False
        self._opened: list[Source | Sink] = []
        self._started = time.monotonic()
        self._reported = threading.Lock()
        self._lock = threading.Lock()
        self._bookmarks = _Bookmarks()
        self.ledger = Ledger(sinks) if options.dry_run else None

    # -- public ---------------------------------------------------------------------------------
    def run(self) -> Report:
        self._working = True
        try:
            for plugin in (self.source, *self.sinks):
                plugin.open()
                self._opened.append(plugin)
            self._bind()
            self._documents()
            if self._stop is None and not self._interrupted and self._crash is None:
                complete = self._containers()
                if not self.options.dry_run:
                    for sink in self.sinks:
                        checkpoint(f"run:finish:{sink.context.name}")
                        sink.finish()
                    if complete and self._stop is None and self._crash is None and not self._interrupted:
                        self.store.memory_set(CORE, self._pending_key(), False)
            if not self.options.dry_run and self._stop is None and self._crash is None:
                self._save_bookmark()
        except KeyboardInterrupt:
            self._interrupted = True
        except ServiceStopped as exc:
            self._stop = exc
        except MigratorError:
            raise  # e.g. a plugin's open() refused: the CLI says why, with that error's exit code
        except Exception as exc:  # a bug, ours or a plugin's: the run ends, with one line saying so
            self._unexpected(exc)
        finally:
            self._working = False
            for plugin in reversed(self._opened):
                try:
                    plugin.close()
                except Exception as exc:  # closing must not hide the run's own outcome
                    self.progress.error(f"warning: closing {plugin.context.name} failed: {exc}")
            if (self._stop is not None or self._crash is not None) and not self.options.dry_run:
                self._save_bookmark()
            self._finish_report()
        return self.report

    def interrupt(self, code: int) -> None:
        """A first stop request (a signal handler, in the main thread). While documents and containers are
        handed over, cut that short: the documents in flight finish, the state is saved. Once the run is
        closing, there is nothing left to cut short."""
        self._interrupt_code = code
        if self._working:
            raise KeyboardInterrupt

    def stop_now(self, code: int) -> Report:
        """A second stop request (from another thread): no waiting for the documents in flight; they stay
        undone in the state. The bookmark moves only over what completed. Call `abandon` next, then exit."""
        self._interrupted, self._interrupt_code = True, code
        if not self.options.dry_run:
            self._save_bookmark()
        self._finish_report()
        return self.report

    def abandon(self) -> None:
        """Ask every opened sink to drop its writes in progress (partial files), as the process ends now."""
        for plugin in list(self._opened):
            if not isinstance(plugin, Sink):
                continue
            try:
                plugin.abandon()
            except Exception as exc:  # the other sinks still get their chance
                self.progress.error(f"warning: {plugin.context.name} could not drop its writes in progress: "
                                    f"{describe(exc)}")

    # -- setup ----------------------------------------------------------------------------------
    def _bind(self) -> None:
        src_account = self.source.account()
        self.accounts = [sink.account() for sink in self.sinks]
        self.chain = f"{self.source.context.name}@{src_account}>" + "+".join(
            f"{s.context.name}@{a}" for s, a in zip(self.sinks, self.accounts))
        for sink, account in zip(self.sinks, self.accounts):
            if sink.context.name == self.source.context.name and account == src_account:
                name = sink.context.name
                raise UsageError(f"{name} would read and write the same place ({account}); give each role its "
                                 f"own settings, e.g. -o {name}.source.KEY=... and -o {name}.sink.KEY=...")
        self.source.context.bind(self.store, src_account, self.chain)
        for sink, account in zip(self.sinks, self.accounts):
            sink.context.bind(self.store, account, self.chain)
        self.source.context.containers_pending = bool(self.store.memory_get(CORE, self._pending_key(), False))
        for sink in self.sinks:
            sink.prepare()
        if any(sink.context.redone for sink in self.sinks) and not self.options.dry_run:
            self.store.set_bookmark(self.chain, None)  # a lost copy may be older than the bookmark
        if not self.options.dry_run:  # cleared only once a run got through every container
            self.store.memory_set(CORE, self._pending_key(), True)
        self.progress.set_total(self.source.total())

    def _pending_key(self) -> str:
        return f"containers-pending:{self.chain}"

    # -- documents ------------------------------------------------------------------------------
    def _documents(self) -> None:
        jobs = max(1, self.jobs)
        pending: set[Future] = set()
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="migrator") as pool:
            try:
                selected = 0
                for entry in self.source.entries():
                    if self._stop is not None:
                        break
                    previous = self._previous("document", entry.source, entry.id)
                    unchanged = self._unchanged_before_load(entry, previous)
                    if not unchanged and self.options.limit is not None and selected >= self.options.limit:
                        break
                    index = self._bookmarks.listed(entry)
                    checkpoint("run:listed")
                    self.report.counts["listed"] += 1
                    if unchanged:
                        self._known_outcome(entry, previous)
                        self._bookmarks.complete(index)
                        continue
                    selected += 1
                    if self.options.dry_run:
                        self.report.would.append({"source": entry.source, "id": entry.id, "title": entry.title})
                        self.progress.document(f"would migrate {entry.key} {entry.title!r}")
                        self.progress.advance()
                        if self.ledger is None or not self.ledger.needs_records:
                            continue
                        pending.add(pool.submit(self._note_losses, entry))  # reads the record: in parallel
                    else:
                        pending.add(pool.submit(self._process, entry, index, previous))
                    while len(pending) >= jobs * 2:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        self._reap(done)
                done, pending = wait(pending)
                self._reap(done)
            except KeyboardInterrupt:
                self._interrupted = True
                for future in pending:
                    future.cancel()
                self.progress.error("interrupted: stopping (interrupt again to stop at once)" if self.options.dry_run
                                    else "interrupted: finishing the documents in progress, then saving state "
                                    "(interrupt again to stop at once)")
                done, _ = wait(pending)
                self._reap(done)
            except ServiceStopped as exc:  # raised while listing
                self._stop = exc
                done, _ = wait(pending)
                self._reap(done)
            except Exception as exc:  # a bug while listing, or one a worker raised (see _reap)
                self._unexpected(exc, f"listing {self.source.context.name}")
                done, _ = wait(pending)  # the documents handed over finish and are saved, as after a listing
                # bug at --jobs 1: whether a worker had already started one must not change the outcome
                self._reap(done)
                if isinstance(exc, MigratorError):
                    raise

    def _reap(self, futures: set[Future]) -> None:
        for future in futures:
            exc = None if future.cancelled() else future.exception()
            if exc is None:
                continue
            if isinstance(exc, KeyboardInterrupt):
                self._interrupted = True
            elif self._crash is None or exc is self._crash:
                raise exc  # stops the listing; _documents handles it
            else:  # the run is already ending on an earlier bug: that one is the one reported
                self.progress.detail(f"also failed: {getattr(exc, _WHERE, '')}: {describe(exc)}")

    def _unexpected(self, exc: BaseException, where: str | None = None) -> None:
        """A bug, not an expected failure: the run ends (exit code 70) after the documents in flight. The
        first one is reported, in one line naming where it happened; the traceback only with -v."""
        if where:
            _locate(exc, where)
        if isinstance(exc, MigratorError):
            return  # one of ours out of place (e.g. a UsageError mid-run): the CLI reports it, with its code
        with self._lock:
            if self._crash is not None:
                return
            self._crash = exc
        where = getattr(exc, _WHERE, None)
        self.report.error = f"{where}: {describe(exc)}" if where else describe(exc)
        if self.progress.verbose:
            self.progress.error("".join(traceback.format_exception(exc)).rstrip())
            self.progress.error(f"error: {self.report.error} (unexpected)")
        else:
            self.progress.error(f"error: {self.report.error} (unexpected; rerun with -v for details)")

    def _previous(self, kind: str, source: str, record_id: str) -> list[StoredRecord | None]:
        return [self.store.get(kind, source, record_id, sink.context.name, account)
                for sink, account in zip(self.sinks, self.accounts)]

    @staticmethod
    def _unchanged_before_load(entry: Entry, previous: list[StoredRecord | None]) -> bool:
        if entry.updated_at is None:
            return False
        return all(p is not None and p.status in ("done", "skipped") and p.updated_at == entry.updated_at
                   for p in previous)

    def _known_outcome(self, entry: Entry, previous: list[StoredRecord | None]) -> None:
        """Nothing to do: every sink has it (or skipped it for good) at this `updated_at`."""
        skipped = [(sink, p) for sink, p in zip(self.sinks, previous) if p is not None and p.status == "skipped"]
        for sink, p in zip(self.sinks, previous):
            self._sink_count(sink.context.name, "skipped" if p is not None and p.status == "skipped" else "unchanged")
        if skipped:
            self._count("skipped")
            with self._lock:
                for sink, p in skipped:
                    self.report.skipped.append({"source": entry.source, "id": entry.id, "title": entry.title,
                                                "sink": sink.context.name, "reason": p.last_error or ""})
        else:
            self._count("unchanged")
        self.progress.advance()
        if self.progress.verbose:
            outcomes = [f"{sink.context.name} skipped ({p.last_error})" for sink, p in skipped]
            self.progress.document(f"{'skipped' if skipped else 'unchanged':8} {entry.key} {entry.title[:60]!r}"
                                   + (f": {'; '.join(outcomes)}" if outcomes else ""))

    def _process(self, entry: Entry, index: int, previous: list[StoredRecord | None]) -> None:
        if self._stop is not None:
            return
        try:
            item = self._retry(entry.load)
        except SkipDocument as exc:  # the source itself says this one can never be migrated
            self._skipped_by_source(entry, str(exc))
            self._bookmarks.complete(index)
            self.progress.advance()
            return
        except DocumentError as exc:
            for sink, account in zip(self.sinks, self.accounts):  # so `migrator status` lists it
                self.store.mark("document", entry.source, entry.id, sink.context.name, account, "failed",
                                title=entry.title, error=str(exc))
            self._failed(entry, None, str(exc), title=entry.title)
            self._hook("load_failed", entry=entry, reason=str(exc))
            self.progress.advance()
            return
        except (ServiceStopped, AuthorizationNeeded) as exc:
            self._halt(exc)
            return
        except Exception as exc:  # not an expected failure: the run stops
            self._unexpected(exc, f"{entry.key} {entry.title[:60]!r} from {self.source.context.name}")
            raise
        ok = self._through_sinks(entry, item, previous)
        if ok is None:
            return  # the run was stopped midway: neither done nor failed
        if ok:
            self._bookmarks.complete(index)
        self.progress.advance()

    def _through_sinks(self, entry: Entry, item: Item, previous: list[StoredRecord | None]) -> bool | None:
        doc = item.document
        fp = fingerprint(doc)
        updated_at = entry.updated_at or doc.updated_at
        counted = DocumentBytes(self.progress.add_bytes)  # the document's bytes, once, whichever sinks move them
        if item.original is not None:
            item.original.on_read = counted.reach
        statuses: list[str] = []
        outcomes: list[str] = []  # what each sink did, for the -v line
        for sink, account, prev in zip(self.sinks, self.accounts, previous):
            name = sink.context.name
            if prev is not None and prev.status == "done" and prev.fingerprint == fp:
                offer_copy(item, prev.local_copy, prev.sha256)
                self.store.mark("document", doc.source, doc.id, name, account, "done", title=doc.title,
                                ref=prev.ref, size=prev.size, sha256=prev.sha256, updated_at=updated_at,
                                fingerprint=fp, data=prev.data, local_copy=prev.local_copy)
                self._sink_count(name, "unchanged")
                statuses.append("unchanged")
                outcomes.append(f"{name} unchanged {prev.local_copy or prev.ref}")
                continue
            if prev is not None and prev.status == "skipped" and prev.fingerprint == fp:
                self._skipped(doc, name, prev.last_error or "", again=True)
                statuses.append("skipped")
                outcomes.append(f"{name} skipped ({prev.last_error})")
                continue
            try:
                attempt = partial(_counting, counted, sink.store, item, prev)
                stored = deliver(self.store, sink, account, doc, prev, attempt, self._retry, updated_at, fp)
            except SkipDocument as exc:
                self._skipped(doc, name, str(exc))
                statuses.append("skipped")
                outcomes.append(f"{name} skipped ({exc})")
                continue
            except DocumentError as exc:
                self._failed(entry, name, str(exc), title=doc.title)
                self._hook("document_failed", document=doc, sink=name, reason=str(exc))
                statuses.append("failed")
                outcomes.append(f"{name} failed ({exc})")
                continue
            except (ServiceStopped, AuthorizationNeeded) as exc:
                self._halt(exc)
                return None
            except Exception as exc:  # not an expected failure: the run stops
                self._unexpected(exc, f"{doc.key} {doc.title[:60]!r} → {name}")
                raise
            offer_copy(item, stored.local_copy, stored.sha256)
            self._migrated(doc, name, stored.status, stored)
            statuses.append(stored.status)
            outcomes.append(f"{name} {stored.status} {stored.local_copy or stored.ref}")
        overall = self._overall(statuses)
        self._count(overall)
        line = f"{overall:8} {doc.key} {doc.title[:60]!r}"
        if self.progress.verbose:  # one line per document, saying what each sink did
            self.progress.document(f"{line}: {'; '.join(outcomes)}")
        elif overall in ("new", "updated"):
            self.progress.document(line)
        return "failed" not in statuses

    @staticmethod
    def _overall(statuses: list[str]) -> str:
        for status in ("failed", "new", "updated", "unchanged"):
            if status in statuses:
                return status
        return "skipped"

    def _retry(self, fn: Callable[[], T]) -> T:
        delays = list(self.options.retry_delays)
        while True:
            try:
                return fn()
            except TransientError as exc:
                if not delays or self._stop is not None:
                    raise
                delay = delays.pop(0)
                self.progress.detail(f"retrying in {delay:g}s ({len(delays)} more after that): {describe(exc)}")
                time.sleep(delay)

    def _note_losses(self, entry: Entry) -> None:
        """--dry-run: what the sinks would not carry of this document (its record is read; nothing is sent)."""
        assert self.ledger is not None
        try:
            item = self._retry(entry.load)
        except MigratorError as exc:  # the real run reports it; the ledger only lacks this document
            self.progress.detail(f"loss ledger: cannot read {entry.key}: {exc}")
            return
        self.ledger.add(item.document)

    # -- containers -----------------------------------------------------------------------------
    def _containers(self) -> bool:
        """Every container through every sink; True when all of them are done or finally skipped."""
        complete = True
        try:
            for container in self.source.containers():
                self.report.containers["listed"] += 1
                if self.options.dry_run:
                    self.progress.detail(f"would store {container.kind} {container.key} {container.title!r}")
                    if self.ledger is not None:
                        self.ledger.add(container)
                    continue
                complete = self._container(container) and complete
        except KeyboardInterrupt:
            self._interrupted = True
            return False
        return complete

    def _container(self, container: Container) -> bool:
        previous = self._previous(container.kind, container.source, container.id)
        complete = True
        for sink, account, prev in zip(self.sinks, self.accounts, previous):
            name = sink.context.name
            try:
                stored = deliver(self.store, sink, account, container, prev,
                                 partial(sink.store_container, container, prev), self._retry)
            except SkipDocument as exc:
                self._container_count(name, container.kind, "skipped")
                self.progress.detail(f"skipped  {container.kind} {container.key} {container.title!r} → {name}: {exc}")
                continue
            except DocumentError as exc:
                self._container_count(name, container.kind, "failed")
                self.report.failed.append({"kind": container.kind, "source": container.source,
                                           "id": container.id, "title": container.title, "sink": name,
                                           "reason": str(exc)})
                self.progress.error(f"error: {container.kind} {container.key} {container.title!r} → {name}: "
                                    f"{exc} (rerun to retry)")
                complete = False
                continue
            self._container_count(name, container.kind, stored.status)
            self.progress.detail(f"{stored.status:8} {container.kind} {container.key} {container.title!r} → {name} "
                                 f"{stored.local_copy or stored.ref}")
            for warning in stored.warnings:
                self.report.warnings.append({"kind": container.kind, "id": container.id, "sink": name,
                                             "warning": warning})
                self.progress.warn(f"warning: {container.kind} {container.key} {container.title!r} → {name}: "
                                   f"{warning}")
        return complete

    # -- outcomes -------------------------------------------------------------------------------
    def _count(self, status: str) -> None:
        with self._lock:
            self.report.counts[status] += 1

    def _sink_count(self, sink: str, status: str) -> None:
        with self._lock:
            self.report.per_sink.setdefault(sink, Counter())[status] += 1

    def _container_count(self, sink: str, kind: str, status: str) -> None:
        self.report.containers[status] += 1
        self.report.sink_containers.setdefault(sink, {}).setdefault(kind, Counter())[status] += 1

    def _migrated(self, doc: Document, sink: str, status: str, stored: Stored) -> None:
        self._sink_count(sink, status)
        with self._lock:
            for warning in stored.warnings:
                self.report.warnings.append({"source": doc.source, "id": doc.id, "title": doc.title,
                                             "sink": sink, "warning": warning})
        for warning in stored.warnings:
            self.progress.warn(f"warning: {doc.key} {doc.title!r} → {sink}: {warning}")
        self._hook("document_migrated", document=doc, sink=sink, outcome=stored)

    def _skipped(self, doc: Document, sink: str, reason: str, again: bool = False) -> None:
        """A sink's final skip; `again`: one known from an earlier run (told once, then, not every run)."""
        self._sink_count(sink, "skipped")
        with self._lock:
            self.report.skipped.append({"source": doc.source, "id": doc.id, "title": doc.title, "sink": sink,
                                        "reason": reason})
        if again:
            return
        if not self.progress.verbose:  # with -v, the document's own line says it
            self.progress.notice(f"skipped  {doc.key} {doc.title[:60]!r} → {sink}: {reason}")
        self._hook("document_skipped", document=doc, sink=sink, reason=reason)

    def _skipped_by_source(self, entry: Entry, reason: str) -> None:
        for sink, account in zip(self.sinks, self.accounts):
            self.store.mark("document", entry.source, entry.id, sink.context.name, account, "skipped",
                            title=entry.title, updated_at=entry.updated_at, error=reason)
        self._count("skipped")
        for sink in self.sinks:
            self._sink_count(sink.context.name, "skipped")
        with self._lock:
            self.report.skipped.append({"source": entry.source, "id": entry.id, "title": entry.title, "sink": None,
                                        "reason": reason})
        self.progress.notice(f"skipped  {entry.key} {entry.title[:60]!r}: {reason}")

    def _failed(self, entry: Entry, sink: str | None, reason: str, title: str = "") -> None:
        if sink:
            self._sink_count(sink, "failed")
        else:
            self._count("failed")
        with self._lock:
            self.report.failed.append({"source": entry.source, "id": entry.id, "title": title, "sink": sink,
                                       "reason": reason})
        where = f" → {sink}" if sink else ""
        self.progress.error(f"error: {entry.key} {title[:60]!r}{where}: {reason} (rerun to retry)")

    def _halt(self, exc: MigratorError) -> None:
        with self._lock:
            if self._stop is None:
                self._stop = exc

    def _hook(self, name: str, **kwargs: Any) -> None:
        if self.hooks is None:
            return
        try:
            getattr(self.hooks, name)(**kwargs)
        except Exception as exc:  # an observer must not break the run
            self.progress.error(f"warning: a plugin's {name} hook failed: {exc}")

    def _save_bookmark(self) -> None:
        value = self._bookmarks.value()
        if value is not None and self.chain:
            self.store.set_bookmark(self.chain, value)
            checkpoint("run:bookmark-saved")

    def _finish_report(self) -> None:
        if not self._reported.acquire(blocking=False):
            return  # already done: by the run's end, or by a second stop request meanwhile
        report = self.report
        report.duration = time.monotonic() - self._started
        report.bytes = self.progress.bytes
        for plugin in (self.source, *self.sinks):
            calls = report.api_calls.setdefault(plugin.context.name, {})
            for method, n in plugin.context.calls.items():
                calls[method] = calls.get(method, 0) + n
            report.warnings.extend({"plugin": plugin.context.name, "warning": w} for w in plugin.context.warnings)
        report.deleted = list(self.source.context.deleted)
        if self.ledger is not None:
            report.losses = self.ledger.to_json()
        if self._crash is not None:
            report.exit_code = EXIT_BUG
        elif self._interrupted:
            report.stopped = "interrupted"
            report.exit_code = self._interrupt_code
        elif self._stop is not None:
            report.stopped = str(self._stop)
            report.exit_code = self._stop.exit_code
            total = self.progress.total
            if total is not None:
                report.remaining = max(total - report.counts["unchanged"] - report.counts["new"]
                                       - report.counts["updated"] - report.counts["skipped"], 0)
            else:
                report.remaining = getattr(self._stop, "remaining", None)
        elif report.counts["failed"] or any(f.get("kind") for f in report.failed):
            report.exit_code = EXIT_FAILED
        else:
            report.exit_code = EXIT_OK

"""The run loop: source → documents → each sink in order → state, with a bounded worker pool.

A document counts as done for a sink only after that sink confirmed it. The source's bookmark only
advances over the contiguous prefix of listed entries that every sink finished (done or finally skipped).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from .checkpoints import checkpoint
from .errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    AuthorizationNeeded,
    DocumentError,
    MigratorError,
    ServiceStopped,
    SkipDocument,
    TransientError,
)
from .plugin import Sink, Source, Stored, StoredRecord
from .progress import Progress, human_bytes
from .records import Container, Document, Entry, Item
from .state import StateStore

T = TypeVar("T")
CORE = "core"  # the core's own namespace in the state's memory table
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)


@dataclass
class RunOptions:
    dry_run: bool = False
    limit: int | None = None
    jobs: int = 1
    retry_delays: tuple[float, ...] = RETRY_DELAYS


@dataclass
class Report:
    source: str
    sinks: list[str]
    counts: Counter = field(default_factory=Counter)
    per_sink: dict[str, Counter] = field(default_factory=dict)
    containers: Counter = field(default_factory=Counter)
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

    def to_json(self) -> dict[str, Any]:
        keys = ("listed", "new", "updated", "unchanged", "skipped", "failed")
        return {
            "source": self.source, "sinks": self.sinks, "dry_run": self.dry_run,
            "counts": {k: self.counts.get(k, 0) for k in keys} | ({"would_migrate": len(self.would)}
                                                                   if self.dry_run else {}),
            "per_sink": {s: dict(c) for s, c in self.per_sink.items()},
            "containers": dict(self.containers), "bytes": self.bytes, "api_calls": self.api_calls,
            "duration": round(self.duration, 3), "started": self.started,
            "failed": self.failed, "skipped": self.skipped, "warnings": self.warnings,
            "deleted": self.deleted, "would_migrate": self.would, "stopped": self.stopped,
            "remaining": self.remaining, "exit_code": self.exit_code,
        }

    def summary_line(self) -> str:
        c = self.counts
        parts = [f"{c['listed']} listed", f"{c['new']} new", f"{c['updated']} updated",
                 f"{c['unchanged']} unchanged", f"{c['skipped']} skipped", f"{c['failed']} failed"]
        if self.dry_run:
            parts.insert(1, f"{len(self.would)} would be migrated")
        if self.deleted:
            parts.append(f"{len(self.deleted)} deleted at the source (backups kept)")
        return (f"{'dry run: ' if self.dry_run else ''}{', '.join(parts)}; {human_bytes(self.bytes)} "
                f"in {self.duration:.1f}s")


def fingerprint(record: Document | Container) -> str:
    text = json.dumps(record.to_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Bookmarks:
    """Entries in listing order; the bookmark may move over the prefix that completed."""

    def __init__(self) -> None:
        self._order: list[Entry] = []
        self._ok: set[int] = set()
        self._lock = threading.Lock()

    def listed(self, entry: Entry) -> int:
        with self._lock:
            self._order.append(entry)
            return len(self._order) - 1

    def complete(self, index: int) -> None:
        with self._lock:
            self._ok.add(index)

    def value(self) -> str | None:
        best = None
        for i, entry in enumerate(self._order):
            if i not in self._ok:
                break
            if entry.bookmark is not None:
                best = entry.bookmark
        return best


class Runner:
    def __init__(self, source: Source, sinks: list[Sink], store: StateStore, progress: Progress,
                 options: RunOptions, hooks: Any = None) -> None:
        self.source, self.sinks, self.store = source, sinks, store
        self.progress, self.options, self.hooks = progress, options, hooks
        self.report = Report(source.context.name, [s.context.name for s in sinks], dry_run=options.dry_run)
        self.accounts: list[str] = []
        self.chain = ""
        self._stop: MigratorError | None = None
        self._interrupted = False
        self._lock = threading.Lock()
        self._bookmarks = _Bookmarks()

    # -- public ---------------------------------------------------------------------------------
    def run(self) -> Report:
        start = time.monotonic()
        opened: list[Source | Sink] = []
        try:
            for plugin in (self.source, *self.sinks):
                plugin.open()
                opened.append(plugin)
            self._bind()
            self._documents()
            if self._stop is None and not self._interrupted:
                complete = self._containers()
                if not self.options.dry_run:
                    for sink in self.sinks:
                        checkpoint(f"run:finish:{sink.context.name}")
                        sink.finish()
                    if complete and self._stop is None:
                        self.store.memory_set(CORE, self._pending_key(), False)
            if not self.options.dry_run and self._stop is None:
                self._save_bookmark()
        except KeyboardInterrupt:
            self._interrupted = True
        except ServiceStopped as exc:
            self._stop = exc
        finally:
            for plugin in reversed(opened):
                try:
                    plugin.close()
                except Exception as exc:  # closing must not hide the run's own outcome
                    self.progress.error(f"warning: closing {plugin.context.name} failed: {exc}")
            if self._stop is not None and not self.options.dry_run:
                self._save_bookmark()
            self._finish_report(start)
        return self.report

    # -- setup ----------------------------------------------------------------------------------
    def _bind(self) -> None:
        src_account = self.source.account()
        self.accounts = [sink.account() for sink in self.sinks]
        self.chain = f"{self.source.context.name}@{src_account}>" + "+".join(
            f"{s.context.name}@{a}" for s, a in zip(self.sinks, self.accounts))
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
        jobs = max(1, self.options.jobs)
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
                        self.progress.advance(f"would migrate {entry.key} {entry.title!r}")
                        continue
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
                self.progress.error("interrupted: finishing the documents in progress, then saving state")
                done, _ = wait(pending)
                self._reap(done)
            except ServiceStopped as exc:  # raised while listing
                self._stop = exc
                done, _ = wait(pending)
                self._reap(done)

    def _reap(self, futures: set[Future]) -> None:
        for future in futures:
            if not future.cancelled() and future.exception() is not None:
                exc = future.exception()
                if isinstance(exc, KeyboardInterrupt):
                    self._interrupted = True
                else:
                    raise exc  # a bug, not an expected failure: let the CLI show it

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
        if skipped:
            self._count("skipped")
            with self._lock:
                for sink, p in skipped:
                    self.report.skipped.append({"source": entry.source, "id": entry.id, "title": entry.title,
                                                "sink": sink.context.name, "reason": p.last_error or ""})
        else:
            self._count("unchanged")
        self.progress.advance()
        self.progress.detail(f"{'skipped' if skipped else 'unchanged'} {entry.key}")

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
            self._failed(entry, None, str(exc), title=entry.title)
            self.progress.advance()
            return
        except (ServiceStopped, AuthorizationNeeded) as exc:
            self._halt(exc)
            return
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
        statuses: list[str] = []
        for sink, account, prev in zip(self.sinks, self.accounts, previous):
            name = sink.context.name
            if prev is not None and prev.status == "done" and prev.fingerprint == fp:
                sink.reuse(item, prev)
                self.store.mark("document", doc.source, doc.id, name, account, "done", title=doc.title,
                                ref=prev.ref, size=prev.size, sha256=prev.sha256, updated_at=updated_at,
                                fingerprint=fp, data=prev.data)
                statuses.append("unchanged")
                continue
            if prev is not None and prev.status == "skipped" and prev.fingerprint == fp:
                statuses.append("skipped")
                continue
            try:
                checkpoint(f"run:store:{name}")
                stored = self._retry(partial(sink.store, item, prev))
                checkpoint(f"run:stored:{name}")
            except SkipDocument as exc:
                self.store.mark("document", doc.source, doc.id, name, account, "skipped", title=doc.title,
                                updated_at=updated_at, fingerprint=fp, error=str(exc))
                self._skipped(doc, name, str(exc))
                statuses.append("skipped")
                continue
            except DocumentError as exc:
                self.store.mark("document", doc.source, doc.id, name, account, "failed", title=doc.title,
                                error=str(exc))
                self._failed(entry, name, str(exc), title=doc.title)
                statuses.append("failed")
                continue
            except (ServiceStopped, AuthorizationNeeded) as exc:
                self._halt(exc)
                return None
            status = stored.status if stored.status in ("new", "updated", "unchanged") else "new"
            if status == "new" and prev is not None and prev.status == "done":
                status = "updated"
            self.store.mark("document", doc.source, doc.id, name, account, "done", title=doc.title,
                            ref=stored.ref, size=stored.size, sha256=stored.sha256, updated_at=updated_at,
                            fingerprint=fp, data=stored.data)
            checkpoint(f"run:marked:{name}")
            self._migrated(doc, name, status, stored)
            statuses.append(status)
        overall = self._overall(statuses)
        self._count(overall)
        self.progress.detail(f"{overall} {doc.key} {doc.title!r}")
        if overall in ("new", "updated"):
            self.progress.info(f"{overall:8} {doc.key} {doc.title[:60]!r}")
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
            except TransientError:
                if not delays or self._stop is not None:
                    raise
                time.sleep(delays.pop(0))

    # -- containers -----------------------------------------------------------------------------
    def _containers(self) -> bool:
        """Every container through every sink; True when all of them are done or finally skipped."""
        complete = True
        try:
            for container in self.source.containers():
                self.report.containers["listed"] += 1
                if self.options.dry_run:
                    self.progress.detail(f"would store {container.kind} {container.key} {container.title!r}")
                    continue
                complete = self._container(container) and complete
        except KeyboardInterrupt:
            self._interrupted = True
            return False
        return complete

    def _container(self, container: Container) -> bool:
        fp = fingerprint(container)
        previous = self._previous(container.kind, container.source, container.id)
        complete = True
        for sink, account, prev in zip(self.sinks, self.accounts, previous):
            name = sink.context.name
            try:
                checkpoint(f"run:container:{name}")
                stored: Stored = self._retry(partial(sink.store_container, container, prev))
                checkpoint(f"run:container-stored:{name}")
            except SkipDocument as exc:
                self.store.mark(container.kind, container.source, container.id, name, account, "skipped",
                                title=container.title, fingerprint=fp, error=str(exc))
                self.report.containers["skipped"] += 1
                continue
            except DocumentError as exc:
                self.store.mark(container.kind, container.source, container.id, name, account, "failed",
                                title=container.title, error=str(exc))
                self.report.containers["failed"] += 1
                self.report.failed.append({"kind": container.kind, "source": container.source,
                                           "id": container.id, "title": container.title, "sink": name,
                                           "reason": str(exc)})
                self.progress.error(f"error: {container.kind} {container.key} {container.title!r} → {name}: "
                                    f"{exc} (rerun to retry)")
                complete = False
                continue
            self.store.mark(container.kind, container.source, container.id, name, account, "done",
                            title=container.title, ref=stored.ref, updated_at=container.updated_at,
                            fingerprint=fp, data=stored.data)
            status = "updated" if stored.status == "new" and prev is not None and prev.status == "done" \
                else stored.status
            self.report.containers[status] += 1
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

    def _migrated(self, doc: Document, sink: str, status: str, stored: Stored) -> None:
        self._sink_count(sink, status)
        with self._lock:
            for warning in stored.warnings:
                self.report.warnings.append({"source": doc.source, "id": doc.id, "title": doc.title,
                                             "sink": sink, "warning": warning})
        for warning in stored.warnings:
            self.progress.warn(f"warning: {doc.key} {doc.title!r} → {sink}: {warning}")
        self._hook("document_migrated", document=doc, sink=sink, outcome=stored)

    def _skipped(self, doc: Document, sink: str, reason: str) -> None:
        self._sink_count(sink, "skipped")
        with self._lock:
            self.report.skipped.append({"source": doc.source, "id": doc.id, "title": doc.title, "sink": sink,
                                        "reason": reason})
        self.progress.info(f"skipped  {doc.key} {doc.title[:60]!r} → {sink}: {reason}")
        self._hook("document_skipped", document=doc, sink=sink, reason=reason)

    def _skipped_by_source(self, entry: Entry, reason: str) -> None:
        for sink, account in zip(self.sinks, self.accounts):
            self.store.mark("document", entry.source, entry.id, sink.context.name, account, "skipped",
                            title=entry.title, updated_at=entry.updated_at, error=reason)
        self._count("skipped")
        with self._lock:
            self.report.skipped.append({"source": entry.source, "id": entry.id, "title": entry.title, "sink": None,
                                        "reason": reason})
        self.progress.info(f"skipped  {entry.key} {entry.title[:60]!r}: {reason}")

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
        self._hook("document_failed", document=entry, sink=sink, reason=reason)

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

    def _finish_report(self, start: float) -> None:
        report = self.report
        report.duration = time.monotonic() - start
        report.bytes = self.progress.bytes
        for plugin in (self.source, *self.sinks):
            calls = report.api_calls.setdefault(plugin.context.name, {})
            for method, n in plugin.context.calls.items():
                calls[method] = calls.get(method, 0) + n
            report.warnings.extend({"plugin": plugin.context.name, "warning": w} for w in plugin.context.warnings)
        report.deleted = list(self.source.context.deleted)
        if self._interrupted:
            report.stopped = "interrupted"
            report.exit_code = EXIT_INTERRUPTED
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

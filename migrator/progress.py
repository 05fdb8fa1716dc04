"""What the user sees while a run works.

On a terminal: a live line, and above it only what needs a person's eye (skips, warnings, errors).
In a log or a pipe, or with -v: also one line per document. `--log-file` gets every line, timestamped."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def human_seconds(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def plural(n: int, word: str) -> str:
    """`1 album`, `2 albums`: a count and its noun."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class DocumentBytes:
    """One document's bytes for the progress line and the report, counted once: only what goes past the
    furthest point reached so far, by any stream of its original (`Original.on_read`) or by what one sink
    said it moved (`Context.add_bytes`, e.g. an upload from a file). A retry, or a second sink reading or
    uploading the first one's copy, adds nothing."""

    def __init__(self, add: Callable[[int], None]) -> None:
        self._add, self._furthest, self._lock = add, 0, threading.Lock()

    def reach(self, position: int) -> None:
        with self._lock:
            more, self._furthest = max(position - self._furthest, 0), max(position, self._furthest)
        if more:
            self._add(more)

    @contextlib.contextmanager
    def sink_attempt(self) -> Iterator[None]:
        """One sink's attempt at storing the document, in this thread: its add_bytes calls count here."""
        _attempt.current = [self, 0]
        try:
            yield
        finally:
            _attempt.current = None


_attempt = threading.local()


def sink_moved(n: int) -> bool:
    """`n` more bytes moved by the sink storing a document in this thread; False outside such a call."""
    current = getattr(_attempt, "current", None)
    if current is None:
        return False
    current[1] += n
    current[0].reach(current[1])
    return True


class Progress:
    """Counts documents and bytes; draws a status line on a TTY, or prints one line per document.

    `verbose`: 0 normal, 1 (-v) per-document lines with details everywhere, 2 (-vv) also debug logs.
    `log`: an open --log-file, which gets per-document lines, notices, warnings and errors either way."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, verbose: int = 0,
                 live: bool | None = None, log: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet, self.verbose, self.log = quiet, int(verbose), log
        self.live = (self.stream.isatty() if live is None else live) and not quiet
        # per-document lines on the console: asked for with -v, or in a log or pipe (unless a log file has them)
        self.per_document = not quiet and (self.verbose > 0 or (not self.live and log is None))
        self.total: int | None = None
        self.done = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._drawn = False

    def set_total(self, total: int | None) -> None:
        self.total = total

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n
        self._maybe_draw()

    def advance(self, line: str | None = None) -> None:
        """One more document done; `line`, if any, is shown as a notice."""
        with self._lock:
            self.done += 1
        if line:
            self.notice(line)
        self._maybe_draw(force=True)

    def document(self, line: str) -> None:
        """A routine line about one document: in logs, pipes and the log file, on a terminal only with -v."""
        self._print(line, console=self.per_document)

    def notice(self, line: str) -> None:
        """A line a person should see (a skip): shown unless quiet."""
        self._print(line, console=not self.quiet)

    info = notice  # the older name

    def warn(self, line: str) -> None:
        """A warning: shown unless quiet (the report keeps it either way)."""
        self._print(line, console=not self.quiet)

    def detail(self, line: str) -> None:
        """What -v adds (retries, what was written where)."""
        if self.verbose:
            self._print(line, console=True)

    def error(self, line: str) -> None:
        self._print(line, console=True)

    def to_log(self, text: str) -> None:
        """Only into --log-file (e.g. the summary, which the CLI prints itself)."""
        if self.log is not None:
            with self._lock:
                for line in text.splitlines():
                    self.log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
                self.log.flush()

    def _print(self, line: str, console: bool) -> None:
        if not console and self.log is None:
            return
        with self._lock:
            if self.log is not None:
                self.log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
                self.log.flush()
            if not console:
                return
            if self._drawn:
                self.stream.write("\r\033[K")
                self._drawn = False
            self.stream.write(line + "\n")
            self.stream.flush()

    def status_line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.bytes / elapsed
        total = f"/{self.total}" if self.total else ""
        eta = ""
        if self.total and self.done:
            remaining = (self.total - self.done) * elapsed / self.done
            eta = f"  ETA {human_seconds(max(remaining, 0))}"
        return f"[{self.done}{total}] {human_bytes(self.bytes)}  {human_bytes(rate)}/s{eta}"

    def _maybe_draw(self, force: bool = False) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.2:
            return
        with self._lock:
            self._last_draw = now
            self.stream.write("\r\033[K" + self.status_line())
            self.stream.flush()
            self._drawn = True

    def close(self) -> None:
        if self._drawn:
            with self._lock:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._drawn = False

"""What the user sees while a run works: a live line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
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


class Progress:
    """Counts documents and bytes; draws a status line on a TTY, or prints one line per event."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, verbose: bool = False,
                 live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet, self.verbose = quiet, verbose
        self.live = (self.stream.isatty() if live is None else live) and not quiet
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
        with self._lock:
            self.done += 1
        if line:
            self.info(line)
        self._maybe_draw(force=True)

    def info(self, line: str) -> None:
        """A routine line: hidden when quiet, above the live line on a terminal."""
        if not self.quiet:
            self._print(line)

    def warn(self, line: str) -> None:
        """A warning: shown unless quiet (the report keeps it either way)."""
        if not self.quiet:
            self._print(line)

    def detail(self, line: str) -> None:
        if self.verbose:
            self._print(line)

    def error(self, line: str) -> None:
        self._print(line)

    def _print(self, line: str) -> None:
        with self._lock:
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

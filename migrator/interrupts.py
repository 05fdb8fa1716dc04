"""Stop requests from outside the process: SIGINT (Ctrl-C), SIGTERM and SIGHUP, all handled alike.

The first asks for a clean stop: `on_first(code)` runs as the signal handler, in the main thread, and may
raise `Interrupted` to cut a blocking listing short while the documents in flight finish. Any later one
asks to stop at once: `on_second(code)` runs on a thread of its own (a lock the interrupted main thread
holds cannot block it; worker threads stuck in long reads are not waited for) and must end the process.
The exit code is the shell's convention for the first signal: 128 + its number (130 for Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A stop request raised in the main thread; it carries the exit code the process should end with."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code


class Interrupts:
    """Installs the handlers while in a `with` block (main thread only; elsewhere it does nothing)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.on_first: Callable[[int], None] = raise_interrupted
        self.on_second: Callable[[int], None] = exit_now
        self._second_started = False
        self._previous: dict[int, Any] = {}

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum or signal.SIGINT).name

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            self.on_first(self.exit_code)
        elif not self._second_started:
            self._second_started = True
            threading.Thread(target=self.on_second, args=(self.exit_code,), name="migrator-stop",
                             daemon=True).start()


def raise_interrupted(code: int) -> None:
    """The default first reaction, before a run has started: unwind and exit."""
    raise Interrupted(code)


def only_note(code: int) -> None:
    """Once the run is over and saving its outcome, a first signal changes nothing (a second still exits)."""


def exit_now(code: int) -> None:
    """The default second reaction: nothing is in flight that needs saving."""
    with contextlib.suppress(OSError, ValueError):  # stderr may be a closed terminal (SIGHUP)
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    os._exit(code)

"""A command as the foreground job of a real pseudo-terminal, for tests of what a person at a terminal sees."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable

GRACE = 120  # seconds: far beyond any normal run of the tests' commands


class Terminal:
    """`migrator ARGS` as the foreground job of a pseudo-terminal: bytes typed into it reach the command as
    from a keyboard (Ctrl-C is the terminal's own interrupt, sent to the whole foreground job)."""

    def __init__(self, cli, *args: str, env: dict[str, str] | None = None) -> None:
        def take_terminal() -> None:  # a session of its own, with the pty as its controlling terminal
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.master, slave = os.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "migrator", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env=cli.env(env), cwd=cli.home, preexec_fn=take_terminal)
        os.close(slave)
        self.chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                return
            if not chunk:
                return
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, what: str, also: Callable[[], bool] = lambda: True) -> None:
        deadline = time.monotonic() + GRACE
        while what not in self.text or not also():
            assert self.proc.poll() is None, f"ended before {what!r}: {self.text}"
            assert time.monotonic() < deadline, f"no {what!r}: {self.text}"
            time.sleep(0.02)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def finish(self) -> int:
        try:
            code = self.proc.wait(timeout=GRACE)
            self._reader.join(30)
            return code
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)

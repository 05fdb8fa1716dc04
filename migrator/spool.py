"""Things kept on disk rather than in memory: a source's listing (`Spool`), and the originals a sink sends from
a file (`FileSpool`).

A listing kept on disk: what a source lists, read back later in any order without holding it all.

A source often has to read a whole listing before it can hand out the first entry (the service lists
newest first, the run wants oldest first). At 100,000 documents that listing would cost a hundred MB of
memory; a Spool keeps each item as one JSON line in an unnamed temporary file and only their offsets in
memory (8 bytes each). The file disappears when the spool is closed or the process ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .records import Original


class Spool:
    """Append JSON-able items, then read them by index, forwards or backwards."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the spool, closed by close()
        self._offsets = array("q")
        self._end = 0
        self._lock = threading.Lock()

    def append(self, item: Any) -> None:
        line = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        with self._lock:
            self._file.seek(self._end)
            self._file.write(line)
            self._offsets.append(self._end)
            self._end += len(line)

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, index: int) -> Any:
        with self._lock:
            self._file.seek(self._offsets[index])
            return json.loads(self._file.readline())

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __reversed__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self) - 1, -1, -1))

    def close(self) -> None:
        self._file.close()


class FileSpool:
    """Originals as files, for a sink that sends a file from disk: the copy an earlier sink of the chain
    stored, else the source's stream written into a private folder of `workdir` (0700, one per process,
    `<prefix><pid>`; the folders killed runs left behind are removed when the next one starts)."""

    def __init__(self, workdir: Path, prefix: str) -> None:
        for stale in workdir.glob(f"{prefix}*"):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        self.folder = workdir / f"{prefix}{os.getpid()}"
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    @contextlib.contextmanager
    def file_of(self, original: Original, suffix: str = "") -> Iterator[Path]:
        """`original` as a file for the time of the `with` block (a spooled one is removed after it)."""
        if original.path is not None and Path(original.path).is_file():
            yield Path(original.path)
            return
        fd, name = tempfile.mkstemp(suffix=suffix, dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as out, original.open() as stream:
                while chunk := stream.read(1 << 16):
                    out.write(chunk)
            yield Path(name)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True

"""A listing kept on disk: what a source lists, read back later in any order without holding it all.

A source often has to read a whole listing before it can hand out the first entry (the service lists
newest first, the run wants oldest first). At 100,000 documents that listing would cost a hundred MB of
memory; a Spool keeps each item as one JSON line in an unnamed temporary file and only their offsets in
memory (8 bytes each). The file disappears when the spool is closed or the process ends.
"""

from __future__ import annotations

import json
import tempfile
import threading
from array import array
from collections.abc import Iterator
from typing import Any


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

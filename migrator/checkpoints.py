"""Named points of the run's protocols, where a test can kill the process on purpose.

The kill-matrix tests set, in the environment of a `migrator run` subprocess:

- `MIGRATOR_KILL_AT=NAME` or `NAME#K`: SIGKILL this process the K-th time (default 1st) a thread
  reaches the checkpoint NAME. Nothing is flushed or cleaned up: it is a power cut.
- `MIGRATOR_CHECKPOINT_LOG=FILE`: append each checkpoint reached to FILE, one name a line, so a test
  can list the points one uninterrupted run passes through and choose where to kill.

Without them `checkpoint()` returns at once. Names: `<where>:<what>`, e.g. `run:marked:flickr`,
`flickr:answer:upload` (Flickr committed the upload; we have not read its answer yet),
`state:memory-set:intent` (after a plugin memory write, named by the key's prefix), or
`state:memory-set-many:account_listed` (after a batch, named by its last key's prefix).
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

_KILL_AT = os.environ.get("MIGRATOR_KILL_AT") or None
_LOG = os.environ.get("MIGRATOR_CHECKPOINT_LOG") or None
_ACTIVE = bool(_KILL_AT or _LOG)
_lock = threading.Lock()
_seen: Counter[str] = Counter()


def _target() -> tuple[str, int] | None:
    if not _KILL_AT:
        return None
    name, _, nth = _KILL_AT.rpartition("#") if "#" in _KILL_AT else (_KILL_AT, "", "1")
    return name, int(nth or 1)


_TARGET = _target()


def checkpoint(name: str) -> None:
    """Mark that the protocol reached `name` (a no-op unless a test asked for kills or a log)."""
    if not _ACTIVE:
        return
    with _lock:
        _seen[name] += 1
        count = _seen[name]
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(name + "\n")
                log.flush()
                os.fsync(log.fileno())
        if _TARGET is not None and _TARGET == (name, count):
            os.kill(os.getpid(), signal.SIGKILL)

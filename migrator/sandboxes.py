"""Where `--sandbox` runs keep their world between runs, and what plugins' emulators use to stay put.

One folder holds everything a sandbox run touches: each emulator's data in `<name>-<role>/` (the service's
account, what was uploaded, the tokens issued for it), the local backup and the state store. A rerun of
the same command therefore resumes, as it does against the real services; `migrator sandbox reset`
deletes the folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from .errors import UsageError

ENV_CACHE = "MIGRATOR_CACHE_DIR"
STATE_FILE = "state.sqlite3"


def cache_dir() -> Path:
    """The user cache folder for migrator (MIGRATOR_CACHE_DIR, else the platform's: XDG_CACHE_HOME or
    ~/.cache on Linux, ~/Library/Caches, LOCALAPPDATA)."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "migrator" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "migrator"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "migrator"


def default_folder() -> Path:
    """Where `--sandbox` keeps its world unless `--sandbox-dir` says otherwise."""
    return cache_dir() / "sandbox"


def plugin_folder(root: Path, name: str, role: str) -> Path:
    """One emulator's own folder: `flickr-sink`, `ipernity-source`..."""
    return root / f"{name}-{role}"


class _Server(Protocol):
    @property
    def port(self) -> int: ...


S = TypeVar("S", bound=_Server)


def on_kept_port(folder: Path, start: Callable[[int], S]) -> S:
    """Start an emulator (`start(port)` binds and returns it) on the port it had last time in `folder`, so
    its addresses, and the tokens saved for them, stay the same from run to run; on a free port if that
    one is taken."""
    kept = folder / "port"
    try:
        port = int(kept.read_text("ascii"))
    except (OSError, ValueError):
        port = 0
    try:
        server = start(port)
    except OSError:
        if not port:
            raise
        server = start(0)
    if server.port != port:
        folder.mkdir(parents=True, exist_ok=True)
        kept.write_text(str(server.port), "ascii")
    return server


def open_saved(what: str, folder: Path, make: Callable[[int], S], start: bool = True) -> S:
    """An emulator whose state is saved in `folder`: `make(port)` builds it, and it is started (`.start()`)
    on the port it had last time (`on_kept_port`) unless `start` is false. A save it cannot read is a usage
    error naming the next step (`unreadable`); `what` names what was saved, e.g. "Flickr account"."""
    try:
        return on_kept_port(folder, lambda port: make(port).start()) if start else make(0)
    except OSError:
        raise
    except Exception as exc:  # a damaged save, or one from another version of the emulator
        raise unreadable(what, folder, exc) from None


def unreadable(what: str, folder: Path, exc: Exception) -> UsageError:
    """The error for an emulator whose saved data cannot be read (damaged, or from another version)."""
    return UsageError(f"the sandbox's saved {what} in {folder} cannot be read ({type(exc).__name__}: {exc}); "
                      "`migrator sandbox reset` starts over from fresh accounts")

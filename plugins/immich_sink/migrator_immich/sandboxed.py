"""`--sandbox` for the immich sink: the Immich emulator, its world kept from run to run in the workdir."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrator.sandboxes import open_saved

SAVE_FILE = "immich-sandbox.json"
API_KEY = "sandbox-immich-key"


def open_sandbox(workdir: Path, start: bool = True) -> Any:
    from .sandbox import ImmichSandbox

    def make(port: int) -> ImmichSandbox:
        return ImmichSandbox(storage=workdir / "files", save_file=workdir / SAVE_FILE, api_key=API_KEY, port=port)

    return open_saved("Immich server", workdir, make, start)


@contextlib.contextmanager
def serve(workdir: Path) -> Iterator[dict[str, Any]]:
    """Option values pointing the sink at the emulator (an Immich 3 server with one user and key)."""
    workdir.mkdir(parents=True, exist_ok=True)
    sb = open_sandbox(workdir)
    try:
        sb.saved()
        yield {"url": sb.url, "api_key": sb.api_key, "backoff": 0.05}
    finally:
        sb.stop()


def summary(workdir: Path) -> list[str]:
    """What `migrator sandbox show` says of this emulator."""
    if not (workdir / SAVE_FILE).exists():
        return ["not started yet"]
    sandbox = open_sandbox(workdir, start=False)
    state = sandbox.state()
    return [f"Immich {sandbox.version}: {len(state['assets'])} assets, {len(state['albums'])} albums, "
            f"{len(state['tags'])} tags"]

"""Where authorization tokens live: `<config dir>/tokens/`, one file per plugin, service endpoint and API
key, mode 0600.

A token belongs to the service that issued it, so its file is named after the endpoint and a digest of
endpoint and key (`ipernity-api.ipernity.com-1a2b3c4d5e6f.json`): authorizing against a sandbox or a test
server never overwrites the token real runs use. The key itself is never written. Tokens saved before
this naming (`tokens/<plugin>.json`) are still read for the service's real endpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click


def config_dir() -> Path:
    """click's per-user app folder for `migrator` (e.g. ~/.config/migrator on Linux)."""
    return Path(os.environ.get("MIGRATOR_CONFIG_DIR") or click.get_app_dir("migrator"))


def token_path(plugin: str, base: Path | None = None, *, endpoint: str | None = None,
               key: str | None = None) -> Path:
    """The token file for `plugin` at `endpoint` with API `key`; without an endpoint, the old
    one-per-plugin file."""
    folder = (base or config_dir()) / "tokens"
    if endpoint is None:
        return folder / f"{plugin}.json"
    digest = hashlib.sha256(f"{endpoint}\n{key or ''}".encode()).hexdigest()[:12]
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", urlsplit(endpoint).netloc or "service")
    return folder / f"{plugin}-{host}-{digest}.json"


def save_token(plugin: str, data: dict[str, Any], base: Path | None = None, *, endpoint: str | None = None,
               key: str | None = None) -> Path:
    """Write the token file atomically; it is never readable by other users, not even for a moment."""
    path = token_path(plugin, base, endpoint=endpoint, key=key)
    if endpoint is not None:
        data = {**data, "endpoint": endpoint}  # for a person reading the folder; the key stays out
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, json.dumps(data, indent=2, sort_keys=True).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def load_token(plugin: str, base: Path | None = None, *, endpoint: str | None = None, key: str | None = None,
               legacy: bool = False) -> dict[str, Any] | None:
    """The token saved for `endpoint` and `key`; with `legacy` (the endpoint is the service's real one),
    else the file saved before tokens were kept per endpoint."""
    data = _read(token_path(plugin, base, endpoint=endpoint, key=key))
    if data is None and endpoint is not None and legacy:
        data = _read(token_path(plugin, base))
    return data


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

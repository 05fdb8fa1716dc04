"""Where authorization tokens live: `<config dir>/tokens/<plugin>.json`, mode 0600."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click


def config_dir() -> Path:
    """click's per-user app folder for `migrator` (e.g. ~/.config/migrator on Linux)."""
    return Path(os.environ.get("MIGRATOR_CONFIG_DIR") or click.get_app_dir("migrator"))


def token_path(plugin: str, base: Path | None = None) -> Path:
    return (base or config_dir()) / "tokens" / f"{plugin}.json"


def save_token(plugin: str, data: dict[str, Any], base: Path | None = None) -> Path:
    """Write the token file atomically; it is never readable by other users, not even for a moment."""
    path = token_path(plugin, base)
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


def load_token(plugin: str, base: Path | None = None) -> dict[str, Any] | None:
    path = token_path(plugin, base)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

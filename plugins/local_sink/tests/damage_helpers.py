"""Replaying a damaged backup folder through the CLI, and ways to damage its files (shared by the local
plugin's tests and the top-level tests of other tools' folders)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

FIX = "fix or remove it, then rerun"


def replay(cli, home: Path, backup: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """`migrator run local folder` over `backup`; the process and its report."""
    report = home / "replay-report.json"
    result = cli("run", "local", "folder", "-o", f"local.path={backup}", "-o", f"folder.path={home / 'replay'}",
                 "--state", str(home / "replay.sqlite3"), "--report", str(report))
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result, json.loads(report.read_text("utf-8"))


def reasons(report: dict) -> dict[str, str]:
    return {f"{f['source']}:{f['id']}": f["reason"] for f in report["failed"]}


def migrated(home: Path) -> set[str]:
    return {p.stem for p in (home / "replay").glob("*.bin")}


def edit(field: str, value: object) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = json.loads(path.read_text("utf-8"))
        data[field] = value
        path.write_text(json.dumps(data), "utf-8")
    return damage


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:60])


def not_utf8(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b'"Photo', b'"Ph\xff\xfeto'))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def folder_instead(path: Path) -> None:
    path.unlink()
    path.mkdir()


def dangling_link(path: Path) -> None:
    path.unlink()
    path.symlink_to("gone.json")

"""`migrator status` as a person reads it: skip reasons, a run going on told from a killed one, plural forms,
and a pointer to the sandbox's state when that is all there is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrator.cli import sandbox_state_path
from migrator.state import StateStore


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


@pytest.fixture
def args(home: Path) -> list[str]:
    """`run jsonfile folder`: 4 documents (the audio one skipped), two albums."""
    docs = [{"id": str(i), "media": "audio" if i == 4 else "photo", "title": f"doc {i}",
             "updated_at": "2020-01-01T00:00:00Z", "content": f"bytes {i} " * 20} for i in range(1, 5)]
    data = write_json(home / "docs.json", {"documents": docs, "containers": [
        {"kind": "album", "id": "a1", "title": "One", "members": ["1"]},
        {"kind": "album", "id": "a2", "title": "Two", "members": ["2", "3"]}]})
    return ["run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={home / 'out'}",
            "--state", str(home / "state.sqlite3")]


def status(cli, home: Path) -> str:
    result = cli("status", "--state", str(home / "state.sqlite3"))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_status_shows_skip_reasons_and_counts_in_plural_forms(cli, args, home):
    assert cli(*args, "-o", "folder.fail_ids=3").returncode == 1
    text = status(cli, home)
    assert "2 documents done" in text and "2 albums done" in text and "1 document skipped" in text
    assert "skipped for good (why):\n  folder: 1 document: audio is not accepted here\n" in text
    assert "(1 attempt)" in text
    assert cli(*args, "-o", "folder.fail_ids=3").returncode == 1
    assert "(2 attempts)" in status(cli, home)
    data = json.loads(cli("status", "--state", str(home / "state.sqlite3"), "--json").stdout)
    assert data["skipped"] == [{"sink": "folder", "kind": "document", "reason": "audio is not accepted here",
                                "count": 1}]
    assert data["running"] is False


def test_status_tells_a_running_run_from_a_killed_one(cli, args, home):
    events = home / "events.log"
    proc = subprocess.Popen([sys.executable, "-m", "migrator", *args, "-o", "folder.hang_ids=2", "--jobs", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=home,
                            env=cli.env({"MEMTEST_EVENTS": str(events)}))
    try:
        while not (events.exists() and "hanging mem:2" in events.read_text()):
            assert proc.poll() is None, "the run ended before hanging"
            time.sleep(0.05)
        assert f"last run: jsonfile → folder: running now (process {proc.pid})" in status(cli, home)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    text = status(cli, home)
    assert "last run: jsonfile → folder: did not finish (killed or crashed); run the same command again to " \
           "resume" in text
    assert "running now" not in text


def test_status_points_to_the_sandbox_state_when_there_is_no_other(cli, home, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    result = cli("status")
    assert result.returncode == 0 and "no state yet" in result.stdout and "sandbox" not in result.stdout
    sandbox_state = sandbox_state_path()
    assert str(sandbox_state).startswith(str(home))  # the test's own folders, never the user's
    StateStore(sandbox_state).close()
    result = cli("status")
    assert "the --sandbox runs keep theirs: migrator status --sandbox" in result.stdout
    shown = cli("status", "--sandbox")
    assert shown.returncode == 0 and f"state: {sandbox_state}" in shown.stdout
    assert cli("status", "--sandbox-dir", str(sandbox_state.parent)).stdout == shown.stdout
    both = cli("status", "--sandbox", "--state", str(sandbox_state))
    assert both.returncode == 2 and "give one" in both.stderr

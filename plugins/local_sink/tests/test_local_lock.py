"""Two runs never write into one backup folder at once, even with different state stores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_second_run_into_the_same_folder_is_refused(cli, home: Path) -> None:
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": [{"id": "1", "title": "t", "content": "x" * 10}]}))
    out = home / "backup"
    assert cli.backup(data, out).returncode == 0
    lock = out / ".migrator" / "folder"
    code = ("import time; from pathlib import Path; from migrator.state import RunLock; "
            f"l = RunLock(Path({str(lock)!r})); l.acquire(); print('locked', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = cli.backup(data, out, state=home / "other-state.sqlite3")
        assert result.returncode == 2
        assert "another migrator run is using the backup folder" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.wait()
    assert cli.backup(data, out, state=home / "other-state.sqlite3").returncode == 0

"""On a terminal a run shows its live line and only what needs a person's eye; in a pipe (a log), a line per
document. The terminal is a real pseudo-terminal (os.openpty): the command decides by itself what it is on."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
from terminal import Terminal  # noqa: E402


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


@pytest.fixture
def args(home: Path) -> list[str]:
    """`run jsonfile folder`: 6 documents, the audio one skipped, a plugin warning at every store."""
    docs = [{"id": str(i), "media": "audio" if i == 6 else "photo", "title": f"doc {i}",
             "updated_at": "2020-01-01T00:00:00Z", "content": f"bytes {i} " * 20} for i in range(1, 7)]
    data = write_json(home / "docs.json", {"documents": docs, "containers": []})
    return ["run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={home / 'out'}",
            "-o", "folder.foreign_log=true", "--state", str(home / "state.sqlite3")]


def on_terminal(cli, *args: str) -> tuple[int, str]:
    """Run `migrator ARGS` with stdin, stdout and stderr on a pseudo-terminal; its exit code and all it wrote."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "migrator", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=cli.env(), cwd=cli.home)
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def shown(text: str) -> list[str]:
    """The lines left on the screen: the live line is wiped (`\\r` + erase line) before each printed line."""
    return [line.split("\r\x1b[K")[-1] for line in text.split("\n")]


def test_terminal_shows_the_live_line_and_only_what_needs_an_eye(cli, args):
    code, text = on_terminal(cli, *args)
    assert code == 0, text
    assert re.search(r"\r\x1b\[K\[\d/6\] ", text)  # the live line, redrawn in place
    assert "skipped  mem:6 'doc 6' → folder: audio is not accepted here" in shown(text)
    assert "warning: folder: folder: a warning of the plugin's own" in shown(text)
    assert "new      mem:" not in text  # no line per routine document
    assert "folder: 5 new, 1 skipped (audio is not accepted here)" in text


def test_verbose_on_a_terminal_adds_one_line_per_document(cli, args):
    code, text = on_terminal(cli, *args, "-v")
    assert code == 0, text
    for i in range(1, 6):
        assert shown(text).count(f"new      mem:{i} 'doc {i}': folder new mem-{i}") == 1, text
    assert "Bad Gateway" in text  # -v lets libraries' warnings through


def test_a_pipe_gets_a_line_per_document_and_no_live_line(cli, args):
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert "\x1b[K" not in result.stderr + result.stdout
    news = [line.split()[1] for line in result.stderr.splitlines() if line.startswith("new ")]
    assert sorted(news) == [f"mem:{i}" for i in range(1, 6)]  # each routine document once
    assert "skipped  mem:6 'doc 6' → folder: audio is not accepted here" in result.stderr


def test_ctrl_c_twice_on_a_terminal_stops_at_once_and_the_rerun_resumes(cli, home):
    """Ctrl-C typed on the terminal: the first lets the document in progress finish (it hangs), and says so;
    the second stops at once with 130, no traceback, no half-written file; the same command resumes."""
    docs = [{"id": str(i), "media": "photo", "title": f"doc {i}", "updated_at": "2020-01-01T00:00:00Z",
             "content": f"bytes {i} " * 40} for i in range(1, 11)]
    data = write_json(home / "docs.json", {"documents": docs, "containers": []})
    backup, state, log = home / "backup", home / "state.sqlite3", home / "events.log"
    plugins = {"MIGRATOR_LOAD_PLUGINS": "memtest,local"}
    args = ["run", "jsonfile", "local", "-o", f"jsonfile.file={data}", "-o", f"local.path={backup}",
            "--state", str(state), "--jobs", "1"]
    term = Terminal(cli, *args, "-o", "jsonfile.stall_ids=3", env={**plugins, "MEMTEST_EVENTS": str(log)})
    term.wait_for("[", also=lambda: log.exists() and "stalled mem:3" in log.read_text())
    term.type(b"\x03")
    term.wait_for("finishing the documents in progress")
    term.type(b"\x03")
    code = term.finish()
    assert code == 130, term.text
    assert "interrupted: progress is saved; run the same command again to resume" in term.text
    assert "Traceback" not in term.text and not list(backup.rglob("*.part"))
    again = cli(*args, env=plugins)
    assert again.returncode == 0, again.stderr
    assert "local: 8 new, 2 unchanged" in again.stderr + again.stdout  # documents 1 and 2 were done


def test_sigterm_on_a_terminal_stops_like_ctrl_c_and_wipes_the_live_line(cli, home):
    """A service manager's SIGTERM while the live line runs: the documents in progress finish, the run ends
    with 143 and says progress is saved, on a line of its own (the live line wiped first), no traceback."""
    docs = [{"id": str(i), "media": "photo", "title": f"doc {i}", "updated_at": "2020-01-01T00:00:00Z",
             "content": f"bytes {i} " * 40} for i in range(1, 41)]
    data = write_json(home / "docs.json", {"documents": docs, "containers": []})
    args = ["run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={home / 'out'}",
            "-o", "folder.sleep=0.1", "--state", str(home / "state.sqlite3")]
    term = Terminal(cli, *args)
    term.wait_for("/40] ")  # the live line has started
    term.proc.send_signal(signal.SIGTERM)
    code = term.finish()
    assert code == 143, term.text
    assert "interrupted: progress is saved; run the same command again to resume" in shown(term.text)
    assert "Traceback" not in term.text
    again = cli(*args)
    assert again.returncode == 0 and "folder: " in again.stdout + again.stderr

"""Stopping a run from outside (SIGINT, SIGTERM, SIGHUP; once or twice) and ending it on a plugin's bug.

Everything goes through the real `migrator` command in a subprocess. Timing is driven by events the test
plugin writes ($MEMTEST_EVENTS) or files it produces, never by sleeping a guessed amount.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

GRACE = 120  # seconds a stopped run may take before the test gives up on it: far beyond any normal stop
INTERRUPTED = "interrupted: progress is saved; run the same command again to resume"


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


def dataset(n: int) -> dict:
    docs = [{"id": str(i), "media": "photo", "title": f"photo {i}", "updated_at": "2020-01-01T00:00:00Z",
             "content": f"bytes of document {i} " * 50} for i in range(1, n + 1)]
    return {"documents": docs, "containers": []}


def done_ids(state: Path) -> set[str]:
    with sqlite3.connect(state) as db:
        return {r[0] for r in db.execute("SELECT id FROM records WHERE kind='document' AND status='done'")}


def last_run(state: Path) -> tuple[int | None, dict]:
    with sqlite3.connect(state) as db:
        code, summary = db.execute("SELECT exit_code, summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return code, json.loads(summary or "{}")


class Running:
    """A `migrator run` in the background; its output is collected as it comes."""

    def __init__(self, cli, home: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "migrator", *args], env=cli.env(env),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=home)
        self.lines: list[str] = []
        self.out: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                         for stream, into in ((self.proc.stderr, self.lines), (self.proc.stdout, self.out))]
        for reader in self._readers:
            reader.start()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:  # a failed test must not leave a hanging run behind
            self.proc.kill()
            self.proc.wait()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def wait_for_stderr(self, text: str) -> None:
        deadline = time.monotonic() + GRACE
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, f"the run ended before printing {text!r}: {self.lines}"
            assert time.monotonic() < deadline, f"no {text!r} on stderr: {self.lines}"
            time.sleep(0.02)

    def finish(self) -> tuple[int, str, str]:
        """Wait for the run to end (it must, well within GRACE); its exit code, stdout and stderr."""
        code = self.proc.wait(timeout=GRACE)
        for reader in self._readers:
            reader.join(GRACE)
        return code, "\n".join(self.out), "\n".join(self.lines)


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + GRACE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def events(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def data(home: Path) -> Path:
    return write_json(home / "docs.json", dataset(40))


def folder_args(data: Path, home: Path, *extra: str) -> list[str]:
    return ["run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={home / 'out'}",
            "--state", str(home / "state.sqlite3"), *extra]


def rerun_completes_once(cli, args: list[str], state: Path, total: int, env: dict | None = None) -> None:
    """A plain rerun finishes the job; what the stopped run confirmed is not redone."""
    before = done_ids(state)
    report = state.parent / "rerun.json"
    result = cli(*args, "--report", str(report), env=env)
    assert result.returncode == 0, result.stderr
    counts = json.loads(report.read_text())["counts"]
    assert counts["new"] == total - len(before)
    assert counts["unchanged"] + counts["new"] == total
    assert len(done_ids(state)) == total


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_like_ctrl_c(cli, home, data, signum, code):
    state = home / "state.sqlite3"
    args = folder_args(data, home, "-o", "folder.sleep=0.1")
    with Running(cli, home, args) as run:
        wait_until(lambda: len(list((home / "out").glob("*.json"))) >= 3, "three stored documents")
        run.proc.send_signal(signum)
        returncode, out, err = run.finish()
    assert returncode == code, err
    assert INTERRUPTED in err and "Traceback" not in err
    assert "listed" in out  # the summary line
    done = done_ids(state)
    assert 3 <= len(done) < 40
    assert {p.name[4:-5] for p in (home / "out").glob("mem-*.json")} >= done
    recorded, summary = last_run(state)
    assert recorded == code and "interrupted" in summary.get("stopped", "")
    assert f"exit code {code}; interrupted by {signum.name}" in cli("status", "--state", str(state)).stdout
    rerun_completes_once(cli, args, state, 40)


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_second_signal_stops_at_once_and_leaves_no_part_file(cli, home, data, second):
    """The 3rd document's download hangs for minutes after its first chunk: the first Ctrl-C waits for it,
    the second does not; the local sink's half-written file goes, and the state stays consistent."""
    state, backup, log = home / "state.sqlite3", home / "backup", home / "events.log"
    plugins = {"MIGRATOR_LOAD_PLUGINS": "memtest,local"}
    args = ["run", "jsonfile", "local", "-o", f"jsonfile.file={data}", "-o", f"local.path={backup}",
            "--state", str(state), "--jobs", "1"]  # one at a time: documents 1 and 2 are done, 3 hangs
    with Running(cli, home, [*args, "-o", "jsonfile.stall_ids=3"], env={**plugins, "MEMTEST_EVENTS": str(log)}) as run:
        wait_until(lambda: "stalled mem:3" in events(log), "the stalled download")
        assert list(backup.rglob("*.part")), "the hanging download should be writing a .part file"
        run.proc.send_signal(signal.SIGINT)
        run.wait_for_stderr("finishing the documents in progress")
        run.proc.send_signal(second)
        returncode, out, err = run.finish()
    assert returncode == 130, err
    assert INTERRUPTED in err and "Traceback" not in err
    assert "listed" in out
    assert not list(backup.rglob("*.part"))
    assert done_ids(state) == {"1", "2"}
    recorded, summary = last_run(state)
    assert recorded == 130 and "interrupted" in summary.get("stopped", "")
    rerun_completes_once(cli, args, state, 40, env=plugins)
    assert len(list((backup / "mem" / "undated").glob("*.bin"))) == 40  # one original each


def test_second_sigterm_does_not_wait_for_a_hanging_upload(cli, home, data):
    state, log = home / "state.sqlite3", home / "events.log"
    args = folder_args(data, home)
    with Running(cli, home, [*args, "-o", "folder.hang_ids=5", "--jobs", "3"], env={"MEMTEST_EVENTS": str(log)}) as run:
        wait_until(lambda: "hanging mem:5" in events(log), "the hanging upload")
        run.proc.send_signal(signal.SIGTERM)
        run.wait_for_stderr("finishing the documents in progress")
        run.proc.send_signal(signal.SIGTERM)
        returncode, out, err = run.finish()
    assert returncode == 143, err
    assert INTERRUPTED in err and "Traceback" not in err
    assert "5" not in done_ids(state)
    assert last_run(state)[0] == 143
    rerun_completes_once(cli, args, state, 40)


def one_line_with(err: str, text: str) -> str:
    lines = [line for line in err.splitlines() if text in line]
    assert len(lines) == 1, err
    return lines[0]


def test_unexpected_error_in_a_sink_ends_the_run_with_70(cli, home, data):
    state = home / "state.sqlite3"
    args = folder_args(data, home, "--jobs", "1")  # one at a time: the bug surfaces at document 3
    result = cli(*args, "-o", "folder.raise_after=2")
    assert result.returncode == 70, result.stderr
    line = one_line_with(result.stderr, "RuntimeError")
    assert "mem:3" in line and "folder" in line and "unexpected sink bug" in line
    assert "rerun with -v for details" in line
    assert "Traceback" not in result.stderr
    assert "2 new" in result.stdout  # the summary line
    assert done_ids(state) == {"1", "2"}
    assert last_run(state)[0] == 70
    assert "exit code 70" in cli("status", "--state", str(state)).stdout
    verbose = cli(*args, "-o", "folder.raise_after=1", "-v")
    assert verbose.returncode == 70
    assert "Traceback" in verbose.stderr and "unexpected sink bug" in verbose.stderr
    rerun_completes_once(cli, args, state, 40)


def test_unexpected_error_in_parallel_workers(cli, home, data):
    state = home / "state.sqlite3"
    args = folder_args(data, home, "--jobs", "4")
    result = cli(*args, "-o", "folder.raise_after=5")
    assert result.returncode == 70, result.stderr
    assert "RuntimeError" in one_line_with(result.stderr, "rerun with -v for details")
    assert "Traceback" not in result.stderr
    assert len(done_ids(state)) >= 5
    rerun_completes_once(cli, args, state, 40)


def test_unexpected_error_in_the_listing_ends_the_run_with_70(cli, home, data):
    state = home / "state.sqlite3"
    args = folder_args(data, home)
    result = cli(*args, "-o", "jsonfile.listing_bug_after=3")
    assert result.returncode == 70, result.stderr
    line = one_line_with(result.stderr, "KeyError")
    assert "jsonfile" in line and "rerun with -v for details" in line
    assert "Traceback" not in result.stderr
    assert "3 listed" in result.stdout
    assert done_ids(state) == {"1", "2", "3"}
    assert last_run(state)[0] == 70
    verbose = cli(*args, "-o", "jsonfile.listing_bug_after=3", "-v")
    assert verbose.returncode == 70 and "Traceback" in verbose.stderr
    rerun_completes_once(cli, args, state, 40)


def test_third_party_log_lines_only_with_verbose(cli, home, data):
    args = folder_args(data, home, "-o", "folder.foreign_log=true")
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert "Bad Gateway" not in result.stderr
    assert "a warning of the plugin's own" in result.stderr
    verbose = cli(*folder_args(data, home / "v", "-o", "folder.foreign_log=true", "-v"))
    assert verbose.returncode == 0, verbose.stderr
    assert "Bad Gateway" in verbose.stderr

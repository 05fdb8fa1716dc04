"""What a run prints, read as a person reads it: the summary, -v and -vv, --log-file, early checks of the
files a run writes at its end, the line naming the sandbox's places, and what is said when a service cannot
be reached. (Terminal versus pipe: tests/test_cli_tty.py; `migrator status`: tests/test_cli_status.py.)"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from migrator.http import RetryPolicy
from migrator.progress import plural
from migrator.run import Report, containers_text, describe, shorten
from migrator.service import brief
from migrator.testing.cli import patched_cli

ALL = {"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity,local,flickr"}
SECRET = "s3cr3t-folder-token"


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


def dataset(n: int = 6) -> dict:
    """n documents, the last one audio (the folder sink skips it), one album holding them all."""
    docs = [{"id": str(i), "media": "audio" if i == n else "photo", "title": f"doc {i}",
             "updated_at": "2020-01-01T00:00:00Z", "content": f"bytes {i} " * 20} for i in range(1, n + 1)]
    return {"documents": docs, "containers": [{"kind": "album", "id": "a1", "title": "Album",
                                               "members": [d["id"] for d in docs]}]}


@pytest.fixture
def data(home: Path) -> Path:
    return write_json(home / "docs.json", dataset())


def folder_run(cli, data: Path, home: Path, *extra: str, out: str = "out") -> subprocess.CompletedProcess:
    return cli("run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={home / out}",
               "-o", f"folder.token={SECRET}", "--state", str(home / "state.sqlite3"), *extra)


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


# -- the summary -------------------------------------------------------------------------------------------
def test_summary_shows_each_sinks_counts_containers_and_warnings(cli, home):
    """The issue's run: Flickr's skips, the albums and sets each sink made and the warnings are in the summary,
    not only in --report."""
    pytest.importorskip("migrator_flickr")
    from migrator_ipernity.sandbox import build_account

    report_file = home / "r.json"
    result = cli("run", "ipernity", "local", "flickr", "--sandbox", "--report", str(report_file), env=ALL,
                 timeout=600)
    assert result.returncode == 0, result.stderr
    account = build_account(0)
    media = {d.doc_id for d in account.docs if d.media in ("photo", "video")}
    n, others = len(account.docs), len(account.docs) - len(media)
    with_media = [a for a in account.albums if media & set(a.doc_ids)]
    assert others and len(with_media) < len(account.albums)  # the account has what this test is about
    warnings = json.loads(report_file.read_text())["warnings"]
    assert warnings
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{n} listed, {n} new;")
    assert lines[1] == (f"local: {n} new · {plural(len(account.albums), 'album')} | flickr: {len(media)} new, "
                        f"{others} skipped (Flickr takes only photos and videos) · {plural(len(with_media), 'set')}, "
                        f"{len(account.albums) - len(with_media)} skipped")
    assert lines[2] == f"{plural(len(warnings), 'warning')}: see the lines above or the report {report_file}"


def test_summary_of_one_sink_in_plain_words(cli, data, home):
    result = folder_run(cli, data, home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "folder: 5 new, 1 skipped (audio is not accepted here) · 1 album"
    assert "warning" not in result.stdout  # no warnings, no failures: no such line
    again = folder_run(cli, data, home)
    assert again.stdout.splitlines()[0].startswith("6 listed, 5 unchanged, 1 skipped;")
    assert again.stdout.splitlines()[1] == ("folder: 5 unchanged, 1 skipped (audio is not accepted here) · "
                                            "1 album unchanged")


def test_bytes_count_once_per_document_however_many_sinks_read_them(cli, data, home):
    """The issue's `ipernity local catalog` said 4.9 MB for a 2.5 MB download: the second sink reading the
    first one's copy counted the bytes again. Each original counts once, in the summary and the report."""
    delivered = sum(len(d["content"].encode()) for d in dataset()["documents"])
    report = home / "report.json"
    args = ["run", "jsonfile", "local", "folder", "-o", f"jsonfile.file={data}", "-o", f"local.path={home / 'backup'}",
            "-o", f"folder.path={home / 'out'}", "--state", str(home / "state.sqlite3"), "--report", str(report)]
    result = cli(*args, env=ALL)
    assert result.returncode == 0, result.stderr
    assert json.loads(report.read_text())["bytes"] == delivered
    assert result.stdout.splitlines()[0] == f"6 listed, 6 new; {delivered} B in " + \
        result.stdout.splitlines()[0].split(" B in ")[1]
    assert len(list((home / "out").glob("*.bin"))) == 5  # the folder read all five (audio it skips)
    again = cli(*args, env=ALL)
    assert json.loads(report.read_text())["bytes"] == 0, again.stdout  # nothing read: nothing counted


def test_failures_are_counted_in_the_summary(cli, data, home):
    result = folder_run(cli, data, home, "-o", "folder.fail_ids=2,3")
    assert result.returncode == 1
    assert "folder: 3 new, 1 skipped (audio is not accepted here), 2 failed · 1 album" in result.stdout
    assert "2 failures: see the lines above, --report FILE or `migrator status`" in result.stdout


def test_plural_forms_and_shared_skip_reasons():
    assert [plural(n, "album") for n in (0, 1, 2)] == ["0 albums", "1 album", "2 albums"]
    assert containers_text(Counter(new=1), "set") == "1 set"
    assert containers_text(Counter(new=3, unchanged=1, skipped=2), "set") == "3 sets, 1 unchanged, 2 skipped"
    assert containers_text(Counter(unchanged=1), "album") == "1 album unchanged"
    report = Report("s", ["flickr"], skipped=[
        {"sink": "flickr", "reason": "Flickr takes only photos and videos, not audio"},
        {"sink": "flickr", "reason": "Flickr takes only photos and videos, not other"},
        {"sink": None, "reason": "Flickr takes only photos and videos, not audio"}])
    assert report.main_skip_reason("flickr") == "Flickr takes only photos and videos"
    report.skipped.append({"sink": "flickr", "reason": "1000 bytes is more than the limit"})
    assert report.main_skip_reason("flickr") == "mostly: Flickr takes only photos and videos"


def test_messages_are_never_cut_mid_word():
    long = "a message " + "word " * 80
    for text in (shorten(long, 70), describe(ValueError(long)), brief(ValueError(long))):
        assert text.endswith(" …") and all(w in ("a", "message", "word", "…", "ValueError:") for w in text.split())


# -- -v, -vv, --log-file ----------------------------------------------------------------------------------
def test_verbose_prints_each_document_once_with_what_each_sink_did(cli, data, home):
    result = folder_run(cli, data, home, "-v")
    assert result.returncode == 0, result.stderr
    for i in range(1, 6):
        (line,) = lines_with(result.stderr, f"mem:{i} ")
        assert line.startswith("new ") and f"folder new mem-{i}" in line  # what the sink wrote
    (skipped,) = lines_with(result.stderr, "mem:6 ")
    assert skipped.startswith("skipped ") and "folder skipped (audio is not accepted here)" in skipped
    (album,) = lines_with(result.stderr, "album mem:album:a1")  # the containers too
    assert "folder album-a1.json" in album
    again = folder_run(cli, data, home, "-v")
    assert len(lines_with(again.stderr, "unchanged mem:1 ")) == 1


def test_plain_run_in_a_pipe_prints_each_document_once(cli, data, home):
    result = folder_run(cli, data, home)
    assert [len(lines_with(result.stderr, f"mem:{i} ")) for i in range(1, 7)] == [1] * 6
    assert "folder new" not in result.stderr  # the detail is -v's


def test_vv_adds_each_api_call_and_v_the_retries_but_never_a_secret(cli, home):
    result = cli("run", "ipernity", "folder", "--sandbox", "-o", f"folder.path={home / 'out'}", "--limit", "2",
                 "-vv", env=ALL)
    assert result.returncode == 0, result.stderr
    assert "debug: ipernity: call doc.getList" in result.stderr
    key = hashlib.md5(b"ipernity-sandbox-key:0").hexdigest()
    secret = hashlib.md5(b"ipernity-sandbox-secret:0").hexdigest()[:16]
    assert key not in result.stderr + result.stdout and secret not in result.stderr + result.stdout
    once = cli("run", "ipernity", "folder", "--sandbox", "-o", f"folder.path={home / 'out2'}", "--limit", "2",
               "-v", env=ALL)
    assert once.returncode == 0 and "debug:" not in once.stderr


def test_log_file_gets_the_per_document_log_and_the_terminal_only_what_needs_an_eye(cli, data, home):
    log = home / "logs" / "run.log"
    result = folder_run(cli, data, home, "--log-file", str(log), "-o", "folder.foreign_log=true")
    assert result.returncode == 0, result.stderr
    text = log.read_text("utf-8")
    for i in range(1, 6):
        assert re.search(rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d new +mem:{i} ", text, re.M), text
    assert "skipped  mem:6" in text and "a warning of the plugin's own" in text
    assert "folder: 5 new, 1 skipped" in text  # the summary too
    assert not lines_with(result.stderr, "new      mem:")  # the per-document lines went to the file
    assert "skipped  mem:6" in result.stderr and "a warning of the plugin's own" in result.stderr
    assert SECRET not in text
    folder_run(cli, data, home, "--log-file", str(log))
    assert log.read_text("utf-8").startswith(text)  # appended, like rclone's


@pytest.mark.parametrize("option", ["--report", "--log-file"])
def test_an_unwritable_report_or_log_file_is_refused_before_anything_is_done(cli, data, home, option):
    blocker = home / "a-file"
    blocker.write_text("")
    result = folder_run(cli, data, home, option, str(blocker / "sub" / "x.txt"))
    assert result.returncode == 2
    assert result.stderr == f"error: cannot write the {'report' if option == '--report' else 'log file'} " \
                            f"{blocker / 'sub' / 'x.txt'}: {blocker} is not a folder\n"
    assert not (home / "out").exists() and not (home / "state.sqlite3").exists()  # nothing was sent
    folder = home / "a-folder"
    folder.mkdir()
    result = folder_run(cli, data, home, option, str(folder))
    assert result.returncode == 2 and "folder" in result.stderr and "Traceback" not in result.stderr
    assert not (home / "out").exists()


# -- the sandbox's end line ------------------------------------------------------------------------------
def test_sandbox_end_line_names_the_state_file_given_and_no_results_for_a_dry_run(cli, data, home):
    state = home / "mine.sqlite3"
    args = ["run", "jsonfile", "folder", "--sandbox", "-o", f"jsonfile.file={data}", "-o",
            f"folder.path={home / 'out'}", "--state", str(state)]
    dry = cli(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "sandbox dry run: nothing was written" in dry.stdout and "results in" not in dry.stdout
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert f"(state in {state})" in result.stdout and state.exists()


# -- no network ------------------------------------------------------------------------------------------
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable(home: Path, port: int) -> list[str]:
    return ["run", "ipernity", "folder", "-o", f"ipernity.api_url=http://127.0.0.1:{port}/", "-o",
            "ipernity.api_key=k", "-o", "ipernity.api_secret=s", "-o", "ipernity.auth_token=t", "-o",
            f"folder.path={home / 'out'}", "--state", str(home / "state.sqlite3")]


def test_cannot_reach_is_said_at_the_first_failure_with_the_retry_plan(cli, home):
    """Said while the policy still runs (the process has not ended), not after its 31 s of silence."""
    port = closed_port()
    proc = subprocess.Popen([sys.executable, "-m", "migrator", *unreachable(home, port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli.env(ALL), cwd=home)
    try:
        line = proc.stderr.readline()
        running = proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    policy = RetryPolicy()
    assert line == (f"warning: ipernity: cannot reach 127.0.0.1:{port} (Connection refused): retrying "
                    f"{policy.attempts - 1} more times over up to {policy.bounded():.0f} s\n")
    assert running
    assert proc.returncode == 128 + signal.SIGTERM and "interrupted" in err and "Traceback" not in err


NO_WAITS = patched_cli("""
import migrator.http as core_http
core_http.DEFAULT_POLICY = core_http.RetryPolicy(first_delay=0.0)
""")


def test_the_stop_message_is_whole_and_a_dry_run_never_says_progress_is_saved(cli, home):
    script = home / "no_waits.py"
    script.write_text(NO_WAITS)
    args = unreachable(home, closed_port())
    dry = cli(*args, "--dry-run", script=script, env=ALL)
    assert dry.returncode == 4
    (stopped,) = lines_with(dry.stderr, "stopped:")
    assert stopped.startswith("stopped: ipernity did not answer auth.checkToken (ConnectionError: Connection "
                              "refused) after 6 tries")
    assert "progress is saved" not in dry.stderr and "nothing was written (a dry run)" in dry.stderr
    assert len(lines_with(dry.stderr, "cannot reach")) == 1  # once, not at every retry
    real = cli(*args, script=script, env=ALL)
    assert real.returncode == 4 and "progress is saved" in real.stderr


def test_an_interrupted_dry_run_does_not_say_progress_is_saved(capsys):
    from migrator.cli import _tell
    from migrator.progress import Progress

    for dry_run, said in ((True, "interrupted: nothing was written (a dry run)\n"),
                          (False, "interrupted: progress is saved; run the same command again to resume\n")):
        _tell(Report("s", ["k"], stopped="interrupted", dry_run=dry_run, exit_code=130), Progress(live=False))
        assert capsys.readouterr().err == said

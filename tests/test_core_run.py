"""End-to-end tests of the core through the CLI, with a third-party style test plugin."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


TEXTS = ["  leading and trailing  ", "Cafe\u0301 vs Caf\u00e9", "<b>HTML</b> &amp; kept", "emoji \U0001f4f7",
         "line\nbreak\ttab", ""]


def dataset(n: int = 6, **changes: dict) -> dict:
    docs = []
    for i in range(1, n + 1):
        doc = {"id": str(i), "media": "audio" if i == n else "photo", "title": TEXTS[(i - 1) % len(TEXTS)],
               "description": f"desc {i} " + TEXTS[i % len(TEXTS)], "tags": ["a tag", "ns:pred=value"],
               "updated_at": "2020-01-01T00:00:00Z", "content": f"bytes of document {i} " * (i * 10),
               "albums": [{"id": "a1", "title": "Album", "position": i}]}
        doc.update(changes.get(str(i), {}))
        docs.append(doc)
    return {"documents": docs,
            "containers": [{"kind": "album", "id": "a1", "title": "Album", "members": [d["id"] for d in docs]},
                           {"kind": "album", "id": "empty", "title": "Empty", "members": []}]}


@pytest.fixture
def data(home: Path) -> Path:
    return write_json(home / "docs.json", dataset())


def run(cli, data: Path, out: Path, *extra: str, env: dict | None = None):
    return cli("run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={out}",
               "--state", str(out.parent / "state.sqlite3"), *extra, env=env)


def done_ids(state: Path) -> set[str]:
    with sqlite3.connect(state) as db:
        return {r[0] for r in db.execute("SELECT id FROM records WHERE kind='document' AND status='done'")}


def test_run_moves_documents_and_containers(cli, data, home):
    out = home / "out"
    report = home / "report.json"
    result = run(cli, data, out, "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.glob("mem-*.bin")) == [f"mem-{i}.bin" for i in range(1, 6)]
    assert (out / "album-a1.json").exists() and (out / "album-empty.json").exists()
    summary = json.loads(report.read_text())
    assert summary["counts"] == {"listed": 6, "new": 5, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 0}
    assert summary["skipped"][0]["id"] == "6" and "audio" in summary["skipped"][0]["reason"]
    assert summary["api_calls"]["jsonfile"] == {"load": 6}
    assert summary["bytes"] == sum(len((f"bytes of document {i} " * (i * 10)).encode()) for i in range(1, 6))
    assert "6 listed, 5 new" in result.stdout


def test_text_is_kept_verbatim(cli, data, home):
    out = home / "out"
    assert run(cli, data, out).returncode == 0
    for i in range(1, 6):
        record = json.loads((out / f"mem-{i}.json").read_text("utf-8"))
        assert record["title"] == TEXTS[(i - 1) % len(TEXTS)]
        assert record["description"] == f"desc {i} " + TEXTS[i % len(TEXTS)]
        assert record["tags"] == ["a tag", "ns:pred=value"]


def test_second_run_does_zero_work(cli, data, home):
    out = home / "out"
    assert run(cli, data, out).returncode == 0
    report = home / "r2.json"
    result = run(cli, data, out, "--report", str(report))
    assert result.returncode == 0
    summary = json.loads(report.read_text())
    assert summary["counts"]["new"] == 0 and summary["counts"]["unchanged"] == 5
    assert summary["counts"]["skipped"] == 1
    assert summary["api_calls"]["jsonfile"] == {}  # nothing was even loaded
    assert summary["bytes"] == 0


def test_changed_document_is_updated_not_duplicated(cli, home):
    out = home / "out"
    data = write_json(home / "docs.json", dataset())
    assert run(cli, data, out).returncode == 0
    write_json(data, dataset(**{"2": {"title": "new title", "updated_at": "2021-01-01T00:00:00Z"}}))
    report = home / "r.json"
    assert run(cli, data, out, "--report", str(report)).returncode == 0
    counts = json.loads(report.read_text())["counts"]
    assert (counts["updated"], counts["new"], counts["unchanged"]) == (1, 0, 4)
    assert json.loads((out / "mem-2.json").read_text())["title"] == "new title"


def test_state_is_keyed_by_sink_account(cli, data, home):
    assert run(cli, data, home / "out").returncode == 0
    report = home / "r.json"
    result = run(cli, data, home / "other", "--report", str(report))
    assert result.returncode == 0
    assert json.loads(report.read_text())["counts"]["new"] == 5
    assert len(list((home / "other").glob("*.bin"))) == 5


def test_failed_document_exit_code_and_retry(cli, data, home):
    out = home / "out"
    result = run(cli, data, out, "-o", "folder.fail_ids=3")
    assert result.returncode == 1
    assert "mem:3" in result.stderr and "rerun" in result.stderr
    assert done_ids(home / "state.sqlite3") == {"1", "2", "4", "5"}
    status = cli("status", "--state", str(home / "state.sqlite3"))
    assert "mem:3" in status.stdout and "refuses" in status.stdout
    result = run(cli, data, out)
    assert result.returncode == 0, result.stderr
    assert done_ids(home / "state.sqlite3") == {"1", "2", "3", "4", "5"}


def test_load_failure_is_a_failed_document(cli, data, home):
    result = cli("run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", "jsonfile.fail_ids=2",
                 "-o", f"folder.path={home / 'out'}", "--state", str(home / "state.sqlite3"))
    assert result.returncode == 1
    assert "mem:2" in result.stderr and "cannot be read" in result.stderr
    assert "Traceback" not in result.stderr
    status = cli("status", "--state", str(home / "state.sqlite3"))  # listed with its reason for the user
    assert "mem:2" in status.stdout and "cannot be read" in status.stdout


def test_quota_stop_exit_code_and_resume(cli, data, home):
    out = home / "out"
    result = run(cli, data, out, "-o", "folder.quota_after=2", "--jobs", "1")  # documents 1 and 2 go first
    assert result.returncode == 4
    assert "quota" in result.stderr and "remain" in result.stderr and "again resumes" in result.stderr
    assert done_ids(home / "state.sqlite3") == {"1", "2"}
    assert run(cli, data, out).returncode == 0
    assert done_ids(home / "state.sqlite3") == {"1", "2", "3", "4", "5"}


def test_authorization_needed_exit_code(cli, data, home):
    result = run(cli, data, home / "out", "-o", "folder.need_auth=true")
    assert result.returncode == 3
    assert "migrator auth folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors(cli, data, home):
    result = run(cli, data, home / "out", "-o", "folder.quota_after=many")
    assert result.returncode == 2
    assert "folder.quota_after" in result.stderr and "int" in result.stderr
    result = run(cli, data, home / "out", "-o", "folder.nonsense=1")
    assert result.returncode == 2 and "'folder' has no option 'nonsense'" in result.stderr
    result = run(cli, data, home / "out", "-o", "nosuch.key=1")
    assert result.returncode == 2 and "unknown plugin 'nosuch'" in result.stderr
    result = cli("run", "nosuch", "folder")
    assert result.returncode == 2 and "no source named 'nosuch'" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_config_file_is_a_usage_error(cli, data, home):
    config = home / "config.toml"
    config.write_text("[folder\npath = 1")
    result = run(cli, data, home / "out", "--config", str(config))
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    config.write_text("[folder]\nquota_after = 'x'\n")
    result = run(cli, data, home / "out", "--config", str(config))
    assert result.returncode == 2 and "folder.quota_after" in result.stderr and "config file" in result.stderr


def test_dry_run_writes_nothing(cli, data, home):
    out = home / "out"
    report = home / "r.json"
    result = run(cli, data, out, "--dry-run", "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert not out.exists()
    assert not (home / "state.sqlite3").exists()
    summary = json.loads(report.read_text())
    assert summary["dry_run"] and len(summary["would_migrate"]) == 6
    assert "would migrate mem:1" in result.stderr


def test_dry_run_after_a_run_lists_only_the_rest(cli, data, home):
    out = home / "out"
    assert run(cli, data, out, "--limit", "2").returncode == 0
    before = (home / "state.sqlite3").stat().st_mtime_ns
    report = home / "r.json"
    assert run(cli, data, out, "--dry-run", "--report", str(report)).returncode == 0
    assert [w["id"] for w in json.loads(report.read_text())["would_migrate"]] == ["3", "4", "5", "6"]
    assert (home / "state.sqlite3").stat().st_mtime_ns == before


@pytest.mark.parametrize(("first", "code"), [(("--limit", "2"), 0), (("-o", "folder.raise_after=2"), 70)],
                         ids=["limit", "unexpected-sink-error"])
def test_a_partial_run_marks_only_what_it_did_and_a_plain_rerun_completes(cli, data, home, first, code):
    out = home / "out"
    assert run(cli, data, out, *first).returncode == code
    assert done_ids(home / "state.sqlite3") == {"1", "2"}
    assert run(cli, data, out).returncode == 0
    assert done_ids(home / "state.sqlite3") == {"1", "2", "3", "4", "5"}


def test_killed_process_state_is_consistent(cli, data, home):
    out = home / "out"
    result = run(cli, data, out, "-o", "folder.die_after=3", "--jobs", "1")  # one at a time: 1, 2 confirmed
    assert result.returncode == 9
    # the 3rd document was written but never confirmed: it is not done, and the rerun redoes it
    assert done_ids(home / "state.sqlite3") == {"1", "2"}
    report, events = home / "r.json", home / "events.log"
    assert run(cli, data, out, "--report", str(report), env={"MEMTEST_EVENTS": str(events)}).returncode == 0
    # the sink is asked again for the 3rd and finds its whole copy (written before the kill): unchanged
    assert "migrated mem:3 folder unchanged" in events.read_text().splitlines()
    counts = json.loads(report.read_text())["counts"]
    assert (counts["new"], counts["unchanged"]) == (2, 3)  # 4 and 5; 1, 2 and the 3rd


def test_parallel_jobs(cli, home):
    data = write_json(home / "docs.json", dataset(n=30))
    report = home / "r.json"
    result = run(cli, data, home / "out", "--jobs", "4", "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert json.loads(report.read_text())["counts"]["new"] == 29
    assert len(done_ids(home / "state.sqlite3")) == 29


def test_second_run_on_same_state_is_refused(cli, data, home, plugin_site):
    state = home / "state.sqlite3"
    code = ("import sys, time; from migrator.state import RunLock; from pathlib import Path; "
            f"l = RunLock(Path({str(state)!r})); l.acquire(); print('locked', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run(cli, data, home / "out")
        assert result.returncode == 2
        assert "another migrator run" in result.stderr
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert run(cli, data, home / "out").returncode == 0


def test_quiet_prints_only_errors(cli, data, home):
    result = run(cli, data, home / "out", "-q")
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
    result = run(cli, data, home / "out2", "-q", "-o", "folder.fail_ids=1")
    assert result.returncode == 1
    assert "mem:1" in result.stderr


def test_events_reach_observer_plugins(cli, data, home):
    events = home / "events.log"
    assert run(cli, data, home / "out", "-o", "folder.fail_ids=2",
               env={"MEMTEST_EVENTS": str(events)}).returncode == 1
    lines = events.read_text().splitlines()
    assert "migrated mem:1 folder new" in lines
    assert "failed mem:2 folder" in lines
    assert lines[-1] == "finished 4"


def test_status_without_state(cli, home):
    result = cli("status", "--state", str(home / "none.sqlite3"))
    assert result.returncode == 0 and "no state yet" in result.stdout


def test_ctrl_c_saves_progress_and_exits_130(cli, home):
    import signal

    data = write_json(home / "docs.json", dataset(n=40))
    state = home / "state.sqlite3"
    args = ["run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={home / 'out'}",
            "-o", "folder.sleep=0.1", "--state", str(state)]
    proc = subprocess.Popen([sys.executable, "-m", "migrator", *args], env=cli.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=home)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((home / "out").glob("*.json"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    done = done_ids(state)
    assert 3 <= len(done) < 39
    assert {p.name[4:-5] for p in (home / "out").glob("mem-*.json")} >= done
    result = run(cli, data, home / "out")
    assert result.returncode == 0, result.stderr
    assert len(done_ids(state)) == 39


def test_progress_line_on_a_terminal():
    import io

    from migrator.progress import Progress

    stream = io.StringIO()
    progress = Progress(stream=stream, live=True)
    progress.set_total(4)
    progress.add_bytes(2_500_000)
    progress.advance("new      mem:1 'one'")
    progress.advance()
    progress.close()
    text = stream.getvalue()
    assert "new      mem:1 'one'\n" in text
    assert "[2/4]" in text and "2.5 MB" in text and "ETA" in text
    assert text.endswith("\r\033[K")  # the live line is wiped at the end


def test_plain_lines_when_not_a_terminal():
    import io

    from migrator.progress import Progress

    stream = io.StringIO()
    progress = Progress(stream=stream, live=False)
    progress.set_total(2)
    progress.advance("new      mem:1 'one'")
    progress.close()
    assert stream.getvalue() == "new      mem:1 'one'\n"


def test_album_stored_again_counts_as_updated(cli, data, home):
    """A sink that says "new" for a container it already made: the run counts it as updated."""
    out = home / "out"
    assert run(cli, data, out, "-o", "folder.always_new=true").returncode == 0
    report = home / "r.json"
    assert run(cli, data, out, "-o", "folder.always_new=true", "--report", str(report)).returncode == 0
    containers = json.loads(report.read_text())["containers"]
    assert containers.get("updated") == 2 and "new" not in containers


def test_source_skip_is_final_for_every_sink(cli, data, home):
    args = ["run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", "jsonfile.skip_ids=2",
            "-o", f"folder.path={home / 'out'}", "--state", str(home / "state.sqlite3")]
    expected = {"r1.json": {("2", None), ("6", "folder")}, "r2.json": {("2", "folder"), ("6", "folder")}}
    for report_name, skipped in expected.items():
        result = cli(*args, "--report", str(home / report_name))
        assert result.returncode == 0, result.stderr
        report = json.loads((home / report_name).read_text())
        assert {(s["id"], s["sink"]) for s in report["skipped"]} == skipped
        assert "placeholder" in json.dumps(report["skipped"])
    assert json.loads((home / "r2.json").read_text())["api_calls"]["jsonfile"] == {}


def test_status_tells_the_last_run(cli, data, home):
    state = str(home / "state.sqlite3")
    assert run(cli, data, home / "out").returncode == 0
    text = cli("status", "--state", state).stdout
    assert "last run: jsonfile → folder: exit code 0; 6 listed, 5 new" in text
    assert run(cli, data, home / "out", "-o", "folder.need_auth=true").returncode == 3
    text = cli("status", "--state", state).stdout
    assert "exit code 3; folder: no token" in text


def test_bookmark_moves_over_the_completed_prefix_only_and_forgets_what_it_passed():
    from migrator.records import Entry
    from migrator.run import _Bookmarks

    marks = _Bookmarks()
    indexes = [marks.listed(Entry(source="s", id=str(i), load=lambda: None, bookmark=f"b{i}" if i != 2 else None))
               for i in range(6)]
    assert marks.value() is None
    for i in (1, 0):  # out of order: nothing moves until the first one is done
        marks.complete(indexes[i])
    assert marks.value() == "b1"
    marks.complete(indexes[3])
    assert marks.value() == "b1"  # entry 2 (no bookmark of its own) is still in flight
    marks.complete(indexes[2])
    assert marks.value() == "b3"
    marks.complete(indexes[5])  # entry 4 never completes (it failed): the bookmark stays before it
    assert marks.value() == "b3"
    many = _Bookmarks()
    for i in range(10_000):
        many.complete(many.listed(Entry(source="s", id=str(i), load=lambda: None, bookmark=str(i))))
    assert many.value() == "9999" and not many._waiting and not many._ok  # nothing held behind the prefix


def test_an_original_counts_once_however_many_streams_read_it(tmp_path):
    """A retry after a reset, a second sink, a sink reading or uploading the first one's copy: once."""
    import io

    from migrator.progress import DocumentBytes, sink_moved
    from migrator.records import Original

    data = b"x" * 300_000
    counted: list[int] = []
    document = DocumentBytes(counted.append)
    original = Original(lambda: io.BytesIO(data), "mem:1", size=len(data))
    original.on_read = document.reach
    with original.open() as stream:
        stream.read(1 << 16)  # a first attempt that stops after one chunk
    for _ in range(2):  # the retry, then a second sink
        with original.open() as stream:
            while stream.read(1 << 16):
                pass
    copy = tmp_path / "copy.bin"
    copy.write_bytes(data)
    original.read_from(copy)  # a later sink reads an earlier one's copy
    with original.open() as stream:
        while stream.read(1 << 16):
            pass
    with document.sink_attempt():  # a sink uploading the copy by its path says what it moved
        assert sink_moved(len(data))
    assert not sink_moved(1)  # outside a sink's attempt: not this document's
    assert sum(counted) == len(data)


def test_the_id_rule():
    from migrator.records import ID_MAX, check_id
    from migrator.testing import HOSTILE_IDS

    for doc_id in HOSTILE_IDS.values():
        assert check_id(doc_id) == doc_id
    assert max(len(i) for i in HOSTILE_IDS.values()) == ID_MAX  # the suite stores the longest id allowed
    for wrong, says in [("", "must not be empty"), (12, "must be a str, not int"),
                        ("x" * (ID_MAX + 1), "201 characters"), ("a\nb", "control character"),
                        ("a\x00b", "control character"), ("a\ud800", "lone surrogate")]:
        with pytest.raises(ValueError, match=says):
            check_id(wrong)

"""`--sandbox` as a user tries it: one kept folder that resumes after a kill, `migrator sandbox reset`,
authorization through the emulators, and changes made with `migrator sandbox ipernity ...` picked up."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from migrator.tokens import token_path

pytest.importorskip("migrator_local")
pytest.importorskip("migrator_flickr")

from migrator_flickr.sandbox import FlickrSandbox  # noqa: E402
from migrator_ipernity.sandbox import IpernitySandbox  # noqa: E402

TIMEOUT = 600


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """The built-in plugins, and the user cache folder where the test says (MIGRATOR_CACHE_DIR)."""
    return {"MIGRATOR_LOAD_PLUGINS": "ipernity,local,flickr", "MIGRATOR_CACHE_DIR": str(home / "cache")}


@pytest.fixture
def folder(home: Path) -> Path:
    return home / "cache" / "sandbox"


def flickr_photos(folder: Path) -> dict[str, list[str]]:
    """Photo id → machine tags, as the Flickr emulator's saved files have them (what its next start serves)."""
    sb = FlickrSandbox(seed=0, storage_dir=str(folder / "flickr-sink" / "files"),
                       save_file=folder / "flickr-sink" / "flickr.sandbox")
    return {p["id"]: p["machine_tags"] for p in sb.state()["photos"]}


def done(cli, folder: Path, env: dict[str, str], sink: str) -> int:
    result = cli("status", "--state", str(folder / "state.sqlite3"), "--json", env=env)
    assert result.returncode == 0, result.stderr
    return sum(row["count"] for row in json.loads(result.stdout)["counts"]
               if row["sink"] == sink and row["kind"] == "document" and row["status"] == "done")


def report_of(cli, env: dict[str, str], path: Path, *args: str) -> dict:
    result = cli("run", "ipernity", *args, "--sandbox", "--report", str(path), env=env, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    return json.loads(path.read_text("utf-8"))


# -- one kept folder: resume, reset --------------------------------------------------------------------
def test_a_killed_sandbox_run_resumes_without_uploading_or_downloading_twice(cli, env, folder, home):
    # killed by SIGKILL once the emulator carried out the 20th upload, before the run read its answer
    killed = cli("run", "ipernity", "local", "flickr", "--sandbox", timeout=TIMEOUT,
                 env={**env, "MIGRATOR_KILL_AT": "flickr:answer:upload#20"})
    assert killed.returncode == -9, killed.stderr
    before = flickr_photos(folder)
    assert len(before) >= 20  # the emulator kept every upload it carried out, the unanswered one too
    backed_up, uploaded = done(cli, folder, env, "local"), done(cli, folder, env, "flickr")
    assert 0 < backed_up < 150 and uploaded < len(before)  # at least one upload the run was not told of

    report = report_of(cli, env, home / "report.json", "local", "flickr")
    after = flickr_photos(folder)
    tags = [t for t in sum(after.values(), []) if t.startswith("migrator:ipernity=")]
    assert len(after) == 137 and len(tags) == len(set(tags)) == 137  # every photo and video once
    assert set(before) <= set(after)  # what was uploaded stayed, with its id
    # only what Flickr did not hold yet was uploaded: the unanswered ones were found (reported as updated)
    assert report["per_sink"]["flickr"]["new"] == 137 - len(before)
    # the documents recorded done in both sinks were not loaded again (one doc.get per document loaded; those
    # Flickr skipped for good are not loaded either); the backup's per-sink counts cover every document (the
    # ones done before count as unchanged)
    assert report["api_calls"]["ipernity"]["doc.get"] <= 150 - uploaded
    assert report["per_sink"]["local"]["new"] <= 150 - backed_up
    assert sum(report["per_sink"]["local"].values()) == 150
    assert done(cli, folder, env, "local") == 150


def test_ctrl_c_then_the_same_command_resumes(cli, env, folder, home):
    proc = subprocess.Popen([sys.executable, "-m", "migrator", "run", "ipernity", "local", "flickr", "--sandbox"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env(env),
                            cwd=home)
    journal = folder / "flickr-sink" / "flickr.sandbox.journal"
    while proc.poll() is None and not (journal.exists() and journal.stat().st_size):  # uploads have begun
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and f"sandbox folder {folder} is kept" in out
    assert 0 < len(flickr_photos(folder)) < 137

    report = report_of(cli, env, home / "report.json", "local", "flickr")
    assert report["counts"]["new"] < 150
    photos = flickr_photos(folder)
    assert len(photos) == 137 and len({t for tags in photos.values() for t in tags
                                       if t.startswith("migrator:ipernity=")}) == 137


def test_reset_starts_over_and_the_folder_is_printed(cli, env, folder, home):
    dry = cli("run", "ipernity", "local", "--sandbox", "--dry-run", env=env, timeout=TIMEOUT)
    assert dry.returncode == 0, dry.stderr
    assert f"sandbox folder {folder}: the dry run stored nothing" in dry.stdout and "results in" not in dry.stdout
    assert not (folder / "state.sqlite3").exists() and not (folder / "local-sink" / "backup").exists()
    result = cli("run", "ipernity", "local", "--sandbox", "--limit", "3", env=env, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert f"sandbox folder {folder} is kept" in result.stdout
    assert f"state in {folder / 'state.sqlite3'})" in result.stdout
    shown = cli("sandbox", "show", env=env)
    assert shown.returncode == 0, shown.stderr
    assert str(folder) in shown.stdout and "ipernity source" in shown.stdout and "local sink" in shown.stdout
    assert "local 3 documents done" in shown.stdout

    reset = cli("sandbox", "reset", env=env)
    assert reset.returncode == 0, reset.stderr
    assert not folder.exists()
    again = report_of(cli, env, home / "report.json", "local", "--limit", "3")
    assert again["per_sink"]["local"] == {"new": 3}
    assert len(list((folder / "local-sink" / "backup").rglob("*].json"))) == 3  # not 6: started over


def test_a_folder_that_is_not_a_sandbox_is_never_used_nor_reset(cli, env, home):
    photos = home / "Photos"
    photos.mkdir()
    (photos / "keep.jpg").write_bytes(b"mine")
    for args in (["run", "ipernity", "local", "--sandbox-dir", str(photos)],
                 ["sandbox", "--sandbox-dir", str(photos), "reset"]):
        result = cli(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert "is not a sandbox folder" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in photos.iterdir()) == ["keep.jpg"]


# -- authorization through the emulators ----------------------------------------------------------------
@pytest.fixture
def real_tokens(home: Path) -> dict[str, bytes]:
    """Tokens saved for the real services, in both namings (before and after tokens per endpoint)."""
    tokens = home / "config" / "tokens"
    tokens.mkdir(parents=True)
    files = {"ipernity.json": b'{"token": "real-ipernity-token"}',
             "flickr.json": b'{"oauth_token": "real", "oauth_token_secret": "real-secret"}'}
    for name, data in files.items():
        (tokens / name).write_bytes(data)
    return files


def kept_port(folder: Path) -> int:
    return int((folder / "port").read_text())


def check_token_file(path: Path, secret: str, printed: str) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret and secret not in printed


def test_auth_ipernity_sandbox_goes_through_the_frob_flow(cli, env, folder, home, real_tokens):
    proc, line = cli.start("auth", "ipernity", "--sandbox", wait_for="frob=", env=env)
    link = line.split()[-1]
    approved = requests.post(link.split("?")[0], timeout=10,  # the owner presses Approve on the page
                             data={**dict(parse_qsl(urlsplit(link).query)), "decision": "approve"})
    assert approved.status_code == 200 and "Application authorized" in approved.text
    out, err = proc.communicate("\n", timeout=TIMEOUT)
    assert proc.returncode == 0, err

    emulator = folder / "ipernity-source"
    saved = IpernitySandbox(seed=0, save_file=emulator / "ipernity.sandbox")
    path = token_path("ipernity", emulator, endpoint=f"http://127.0.0.1:{kept_port(emulator)}/api/",
                      key=saved.api_key)
    token = json.loads(path.read_text())["token"]
    check_token_file(path, token, line + out + err)
    frob = dict(parse_qsl(urlsplit(link).query))["frob"]
    assert saved.auth_store.frobs[frob].used and saved.auth_store.lookup(token, saved.api_key) is not None
    for name, data in real_tokens.items():  # the real tokens are untouched
        assert (home / "config" / "tokens" / name).read_bytes() == data
    assert sorted(p.name for p in (home / "config" / "tokens").iterdir()) == sorted(real_tokens)

    result = cli("run", "ipernity", "local", "--sandbox", "--limit", "1", env=env, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text())["token"] == token  # the run used it


def test_auth_flickr_sandbox_goes_through_oauth_to_the_sink_emulator(cli, env, folder, home, real_tokens):
    proc, line = cli.start("auth", "flickr", "--sandbox", wait_for="oauth_token=", env=env)
    link = line.split()[-1]
    assert requests.get(link, timeout=10).status_code == 200  # the page asks for approval
    page = requests.post(link.split("?")[0], timeout=10,
                         data={**dict(parse_qsl(urlsplit(link).query)), "decision": "allow"})
    code = re.search(r"id='verifier'>([^<]+)<", page.text).group(1)
    out, err = proc.communicate(code + "\n", timeout=TIMEOUT)
    assert proc.returncode == 0, err

    emulator = folder / "flickr-sink"  # the account runs upload to
    path = token_path("flickr", emulator, endpoint=f"http://127.0.0.1:{kept_port(emulator)}/services/rest/",
                      key=FlickrSandbox(seed=0).api_key)
    token = json.loads(path.read_text())
    check_token_file(path, token["oauth_token_secret"], line + out + err)
    assert token["perms"] == "write"
    for name, data in real_tokens.items():
        assert (home / "config" / "tokens" / name).read_bytes() == data

    result = cli("run", "ipernity", "flickr", "--sandbox", "--limit", "1", env=env, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text()) == token


# -- changing the emulated service between runs -----------------------------------------------------------
def test_an_edit_a_deletion_and_a_new_document_are_picked_up(cli, env, folder, home):
    first = report_of(cli, env, home / "r1.json", "local")
    assert first["per_sink"]["local"]["new"] == 150
    listed = cli("sandbox", "ipernity", "list", "--limit", "3", env=env)
    assert listed.returncode == 0, listed.stderr
    newest = re.findall(r"^(\d+)\s", listed.stdout, re.M)
    assert len(newest) == 3
    edited, deleted = newest[1], newest[2]

    for args in (["edit", edited, "--title", "Edited in the sandbox"], ["delete", deleted],
                 ["add", "--title", "Posted after the backup"]):
        result = cli("sandbox", "ipernity", *args, env=env)
        assert result.returncode == 0, result.stderr
    added = re.search(r"added ipernity document (\d+)", result.stdout).group(1)

    plain = report_of(cli, env, home / "r2.json", "local")  # a new document needs nothing more
    assert plain["per_sink"]["local"] == {"new": 1} and plain["counts"]["listed"] == 1
    refreshed = report_of(cli, env, home / "r3.json", "local", "-o", "ipernity.refresh=true")
    assert refreshed["per_sink"]["local"]["updated"] == 1
    assert [d["id"] for d in refreshed["deleted"]] == [deleted]
    backup = folder / "local-sink" / "backup"
    (sidecar,) = backup.rglob(f"*[[]{edited}].json")
    assert json.loads(sidecar.read_text("utf-8"))["title"] == "Edited in the sandbox"
    assert list(backup.rglob(f"*[[]{added}].json")) and list(backup.rglob(f"*[[]{deleted}].json"))


def test_a_change_to_an_unknown_document_says_how_to_find_one(cli, env):
    result = cli("sandbox", "ipernity", "edit", "999", "--title", "x", env=env)
    assert result.returncode == 2
    assert "no document 999" in result.stderr and "migrator sandbox ipernity list" in result.stderr
    assert "Traceback" not in result.stderr


def test_changes_and_resets_wait_for_no_run(cli, env, folder):
    from migrator.cli_sandbox import using

    with using(folder):  # as a `--sandbox` run holds it
        for args in (["ipernity", "add"], ["reset"]):
            result = cli("sandbox", *args, env=env)
            assert result.returncode == 2, result.stderr
            assert f"another migrator run is using the sandbox folder {folder}" in result.stderr
    assert folder.exists()


def test_a_damaged_emulator_save_points_to_reset(cli, env, folder):
    assert cli("run", "ipernity", "local", "--sandbox", "--limit", "1", env=env, timeout=TIMEOUT).returncode == 0
    (folder / "ipernity-source" / "ipernity.sandbox").write_bytes(b"not what the emulator wrote")
    for args in (["run", "ipernity", "local", "--sandbox"], ["sandbox", "ipernity", "list"]):
        result = cli(*args, env=env, timeout=TIMEOUT)
        assert result.returncode == 2, result.stderr
        assert "cannot be read" in result.stderr and "`migrator sandbox reset` starts over" in result.stderr
        assert "Traceback" not in result.stderr

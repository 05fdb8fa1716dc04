"""Trouble on the way, each with its outcome, through the real CLI and both sandboxes (small accounts).

Transient trouble (5xx, resets, truncated bodies, 429 / ipernity 113, slow answers) is survived: exit 0,
everything migrated once. Lasting trouble ends the run with its documented code and a plain rerun, once
the trouble is over, completes the job: a server that stops answering (every request has a timeout) and
an outage (4), quota (4), a revoked token (3, `migrator auth` hint), a full disk, Flickr's upload limit (4).

Already proven elsewhere (not repeated here): Flickr 429 and 5xx bursts in a whole run
(`plugins/flickr_sink/tests/test_flickr_sink.py::test_429_and_5xx_bursts_are_survived`), Flickr's upload
limit stopping with exit 4 (`::test_free_account_limit_stops_with_quota_code`), ipernity 5xx and truncated
downloads in `ipernity local` (`plugins/ipernity_source/tests/test_ipernity_source.py::
test_faults_and_truncated_downloads_still_give_a_complete_backup`), ipernity quota in `ipernity local`
(`::test_quota_stop_then_rerun_completes_without_double_downloads`,
`::test_quota_while_reading_albums_still_says_how_many_remain`), a kill before the rename of an original
(`plugins/local_sink/tests/test_local_sink_cli.py::test_a_kill_before_rename_leaves_no_truncated_original`).
The tests here add the three-plugin chain and what those lack.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("migrator_local")
pytest.importorskip("migrator_flickr")

sys.path.insert(0, str(Path(__file__).parent))  # test_end_to_end's helpers (importlib mode)
from migrator_flickr.sandbox import FlickrSandbox  # noqa: E402
from migrator_flickr.sandbox import api as flickr_api  # noqa: E402
from migrator_flickr.sandbox.model import Account as FlickrAccount  # noqa: E402
from migrator_ipernity.sandbox import IpernitySandbox, build_account  # noqa: E402
from test_end_to_end import assert_on_flickr  # noqa: E402

from migrator.testing.cli import patched_cli  # noqa: E402

ENV = {"MIGRATOR_LOAD_PLUGINS": "ipernity,local,flickr"}
N_DOCS = 10
YEAR_2000 = 946684800
RUN_TIMEOUT = 90  # far above any run here: a hang fails the test instead of blocking the suite


class Chain:
    """`migrator run ipernity local [flickr]` between two sandboxes with a small ipernity account."""

    def __init__(self, cli, home: Path, ip: IpernitySandbox, fl: FlickrSandbox) -> None:
        self.cli, self.home, self.ip, self.fl = cli, home, ip, fl
        self.backup = home / "backup"
        self.state = home / "state.sqlite3"
        self.runs = 0
        self.ip_token = ip.grant_token("read")

    def run(self, *extra: str, flickr: bool = True, script: Path | None = None,
            env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        sinks = ["local", "flickr"] if flickr else ["local"]
        flickr_options = self.fl.cli_options(backoff=0.01) if flickr else []  # quicker retries than the default
        args = ["run", "ipernity", *sinks, *self.ip.cli_options(self.ip_token), "-o", f"local.path={self.backup}",
                *flickr_options, "--state", str(self.state), "--report", str(report), *extra]
        result = self.cli(*args, env={**ENV, **(env or {})}, timeout=RUN_TIMEOUT, script=script)
        assert "Traceback" not in result.stderr, result.stderr
        return result, (json.loads(report.read_text("utf-8")) if report.exists() else {})

    def media(self) -> list[Any]:
        return [d for d in self.ip.account.docs if d.media in ("photo", "video")]

    def assert_on_flickr(self) -> None:
        """Every photo once with its metadata; one set per album with media, in order, with its description."""
        state = self.fl.state()
        assert_on_flickr(self.ip.account, state)
        media = {d.doc_id for d in self.media()}
        albums = [a for a in self.ip.account.albums if media & set(a.doc_ids)]
        assert len(state["photosets"]) == len(albums), "one set per album"
        for album in albums:
            assert any(s["title"] == (album.title or "untitled") and s["description"] == album.description
                       for s in state["photosets"]), album.title

    def assert_backup(self) -> None:
        """Every document in the backup with its exact original; every album folder; no partial file."""
        records = list((self.backup / "ipernity").glob("*/*].json"))
        assert len(records) == len(self.ip.account.docs)
        for doc in self.ip.account.docs:
            original = next(p for p in (self.backup / "ipernity").glob(f"*/*[[]{doc.doc_id}].{doc.original.ext}"))
            assert hashlib.md5(original.read_bytes()).hexdigest() == doc.original.md5, doc.doc_id
        folders = [p for p in (self.backup / "ipernity" / "Albums").iterdir() if (p / "album.json").exists()]
        assert len(folders) == len(self.ip.account.albums)
        assert not list(self.backup.rglob("*.part"))


@pytest.fixture
def ip() -> Iterator[IpernitySandbox]:
    with IpernitySandbox(seed=0, account=build_account(0, n_docs=N_DOCS), hang_seconds=600) as sandbox:
        yield sandbox


@pytest.fixture
def fl() -> Iterator[FlickrSandbox]:
    with FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", created_at=YEAR_2000),
                       hang_seconds=600) as sandbox:
        yield sandbox


@pytest.fixture
def chain(cli, home, ip, fl) -> Chain:
    return Chain(cli, home, ip, fl)


def after_calls(ip: IpernitySandbox, method: str, n: int, then: Callable[[], None]) -> None:
    """Run `then` once the ipernity sandbox has answered `n` calls of `method` (mid-run, no timing)."""
    dispatch = ip.dispatch
    seen = {"n": 0}

    def counting(http_method: str, name: str, fmt: str, params: dict[str, str]) -> tuple[int, bytes]:
        answer = dispatch(http_method, name, fmt, params)
        if name == method:
            seen["n"] += 1
            if seen["n"] == n:
                then()
        return answer

    ip.dispatch = counting  # type: ignore[method-assign]


# -- transient trouble: survived, exit 0, everything once ------------------------------------------------
def test_5xx_bursts_and_connection_resets_are_retried(chain):
    chain.ip.knobs.fail_api = 1  # HTTP 503
    chain.ip.knobs.reset_api = 1
    chain.fl.knobs.burst(3, 503)
    chain.fl.knobs.burst(2, "reset")
    result, _ = chain.run()
    assert result.returncode == 0, result.stderr
    assert chain.fl.knobs.pending_bursts == 0
    assert chain.ip.knobs.reset_api == chain.ip.knobs.fail_api == 0
    assert sum(chain.ip.downloads.values()) == len(chain.ip.account.docs)  # each original fetched once
    chain.assert_backup()
    chain.assert_on_flickr()


def test_truncated_downloads_and_api_answers_are_retried(chain):
    chain.ip.knobs.truncate_rate = 0.3  # originals cut short (early close or short Content-Length)
    chain.ip.knobs.truncate_api = 2  # two ipernity answers cut in half
    chain.fl.knobs.lose_answer("flickr.people.getUploadStatus", how="truncate")  # reads: repeating is safe
    chain.fl.knobs.lose_answer("flickr.photos.getInfo", how="truncate")
    result, _ = chain.run()
    assert result.returncode == 0, result.stderr
    assert len(chain.fl.lost_answers) == 2 and chain.ip.knobs.truncate_api == 0
    chain.assert_backup()
    chain.assert_on_flickr()


def test_429_and_ipernity_113_are_retried(chain):
    chain.ip.knobs.limit_api = 1  # ipernity's "too many requests": error 113 on HTTP 200
    chain.fl.knobs.burst(3, 429)
    chain.fl.knobs.retry_after = 0
    result, _ = chain.run()
    assert result.returncode == 0, result.stderr
    assert chain.fl.knobs.pending_bursts == 0 and chain.ip.knobs.limit_api == 0
    chain.assert_backup()
    chain.assert_on_flickr()


def test_slow_answers_and_one_unanswered_read(chain):
    """Slow but answered calls are waited for; one read never answered is given up after the timeout
    and asked again."""
    chain.ip.knobs.latency = 0.01
    chain.fl.knobs.latency = 0.01
    chain.fl.knobs.lose_answer("flickr.people.getUploadStatus", how="hang")
    result, _ = chain.run("-o", "flickr.timeout=1", "-o", "ipernity.timeout=5")
    assert result.returncode == 0, result.stderr
    assert chain.fl.lost_answers == [("flickr.people.getUploadStatus", "hang")]
    chain.assert_on_flickr()


# -- a server that stops answering: every request has a timeout, the run ends ----------------------------
NO_WAITS = patched_cli("""
import sys
import migrator.http as core_http
core_http.DEFAULT_POLICY = core_http.RetryPolicy(first_delay=0.0)  # the same six tries, without the waits
""")


def test_ipernity_stops_answering_mid_run(chain, home):
    after_calls(chain.ip, "doc.get", 4, lambda: setattr(chain.ip.knobs, "stall", True))
    script = home / "no_waits.py"
    script.write_text(NO_WAITS)
    result, _ = chain.run("-o", "ipernity.timeout=1", flickr=False, script=script)
    assert result.returncode == 4, result.stderr
    assert "ipernity" in result.stderr and "rerun" in result.stderr
    assert chain.ip.stalled > 0
    chain.ip.knobs.stall = False
    result, _ = chain.run("-o", "ipernity.timeout=1", flickr=False)
    assert result.returncode == 0, result.stderr
    chain.assert_backup()


def test_flickr_stops_answering_mid_run(chain):
    chain.fl.knobs.outage("hang", from_method="flickr.photos.setDates")
    result, _ = chain.run("-o", "flickr.timeout=1")
    assert result.returncode == 4, result.stderr
    assert "Flickr" in result.stderr and "rerun" in result.stderr
    chain.fl.knobs.end_outage()
    result, _ = chain.run("-o", "flickr.timeout=1")
    assert result.returncode == 0, result.stderr
    chain.assert_on_flickr()


# -- lasting trouble: the documented code, then a rerun completes ------------------------------------------
def test_ipernity_quota_mid_run_stops_then_resumes(chain):
    chain.ip.knobs.quota_after = 8  # error 112 from the 9th keyed call on
    result, _ = chain.run(flickr=False)
    assert result.returncode == 4, result.stderr
    assert "112" in result.stderr or "quota" in result.stderr
    chain.ip.knobs.quota_after = None
    result, _ = chain.run(flickr=False)
    assert result.returncode == 0, result.stderr
    chain.assert_backup()
    assert max(chain.ip.downloads.values()) == 1  # nothing fetched twice across the two runs


def test_ipernity_token_revoked_mid_run(chain):
    after_calls(chain.ip, "doc.get", 3, lambda: chain.ip.revoke_token(chain.ip_token))
    result, _ = chain.run()
    assert result.returncode == 3, result.stderr
    assert "migrator auth ipernity" in result.stderr
    chain.ip_token = chain.ip.grant_token("read")  # the user authorizes again
    result, _ = chain.run()
    assert result.returncode == 0, result.stderr
    chain.assert_backup()
    chain.assert_on_flickr()


def test_flickr_token_revoked_mid_run(chain, monkeypatch):
    upload = flickr_api.do_upload
    uploads = {"n": 0}

    def upload_then_revoke(call: Any, inc: Any, settle: Any) -> Any:
        root = upload(call, inc, settle)
        uploads["n"] += 1
        if uploads["n"] == 3:  # the user revokes the app on flickr.com
            chain.fl.revoke_token(call.token.token)
        return root

    monkeypatch.setattr(flickr_api, "do_upload", upload_then_revoke)
    result, _ = chain.run()
    assert result.returncode == 3, result.stderr
    assert "migrator auth flickr" in result.stderr
    result, _ = chain.run()  # cli_options grants a new token, as `migrator auth flickr` would
    assert result.returncode == 0, result.stderr
    chain.assert_on_flickr()


def test_flickr_upload_limit_stops_then_resumes_when_there_is_room(chain):
    chain.fl.knobs.set(free_account=True, max_items=4)
    result, _ = chain.run()
    assert result.returncode == 4, result.stderr
    assert len(chain.fl.state()["photos"]) == 4
    chain.fl.knobs.free_account = False  # the account went Pro
    result, _ = chain.run()
    assert result.returncode == 0, result.stderr
    chain.assert_on_flickr()


def test_outage_in_the_album_phase(chain):
    chain.fl.knobs.outage(503, from_method="flickr.photosets.editPhotos")
    result, _ = chain.run()
    assert result.returncode == 4, result.stderr
    assert chain.fl.knobs.outage_started
    chain.fl.knobs.end_outage()
    result, _ = chain.run()
    assert result.returncode == 0, result.stderr
    chain.assert_on_flickr()  # every set complete, in album order, with its description
    chain.assert_backup()  # and every album folder of the backup


# -- a full disk ------------------------------------------------------------------------------------------
DISK_FULL = patched_cli("""
import errno, os, sys
import migrator_local.fsops as fsops

real_write = fsops.Writer.write
target = os.environ["DISK_FULL_AT"]

def write(self, folder, name, fill, keep=None):
    if not name.endswith(target):
        return real_write(self, folder, name, fill, keep)
    def fill_until_full(fh):
        fh.write(b"the first bytes fit")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_write(self, folder, name, fill_until_full, keep)

fsops.Writer.write = write
""")


@pytest.fixture
def small_disk(home: Path) -> Iterator[Path | None]:
    """A 64 KiB tmpfs where the backup goes, if this machine lets the test mount one (else None;
    FAULTS_NO_MOUNT=1 forces that, to exercise the fallback where mounts are allowed)."""
    mount = home / "small-disk"
    mount.mkdir()
    if os.environ.get("FAULTS_NO_MOUNT") or os.geteuid() != 0 or shutil.which("mount") is None or \
            _quiet(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)]) != 0:
        yield None
        return
    try:
        yield mount
    finally:
        _quiet(["umount", "-l", str(mount)])


def _quiet(command: list[str]) -> int:
    return subprocess.run(command, capture_output=True, timeout=30).returncode


def test_disk_full_names_the_file_leaves_no_partial_file_and_a_rerun_completes(chain, home, small_disk):
    if small_disk is not None:  # a real full disk
        chain.backup = small_disk / "backup"
        result, _ = chain.run(flickr=False)
        named = str(chain.backup) + os.sep  # whichever file it was, a path inside the backup
    else:  # no mounts allowed: the one write that finds the disk full is injected
        doc = chain.ip.account.docs[3]
        script = home / "disk_full.py"
        script.write_text(DISK_FULL)
        name = f"[{doc.doc_id}].{doc.original.ext}"
        result, _ = chain.run(flickr=False, script=script, env={"DISK_FULL_AT": name})
        named = name
    assert result.returncode in (1, 4), result.stderr
    lines = [line for line in result.stderr.splitlines() if "disk full" in line]
    assert lines and any(named in line for line in lines), result.stderr
    assert not list(chain.backup.rglob("*.part"))
    for path in chain.backup.rglob("*].*"):  # whatever got its final name is whole
        if path.suffix not in (".json", ".xmp") and not path.is_symlink():
            doc_id = path.name.rsplit("[", 1)[1].split("]")[0]
            assert hashlib.md5(path.read_bytes()).hexdigest() == chain.ip.account.doc(doc_id).original.md5
    if small_disk is not None:
        assert _quiet(["mount", "-o", "remount,size=16m", str(small_disk)]) == 0  # room again
    result, _ = chain.run(flickr=False)
    assert result.returncode == 0, result.stderr
    chain.assert_backup()


"""The flickr sink at the end of a chain: ipernity sandbox → folder → flickr sink → Flickr sandbox.

Moved from the Flickr plugin's tests, which need no other plugin: these exercise the chain."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from migrator_flickr.sandbox import FlickrSandbox
from migrator_flickr.sandbox import api as sandbox_api
from migrator_flickr.sandbox.model import Account
from migrator_ipernity.sandbox import IpernitySandbox

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
from flickr_replay import CHAIN_ENV as ENV  # noqa: E402
from flickr_replay import Chain  # noqa: E402
from kill_helpers import YEAR_2000, empty_flickr  # noqa: E402

ATTEMPTS = 6  # RetryPolicy().attempts


@pytest.fixture
def ipernity():
    with IpernitySandbox(seed=0) as sb:
        yield sb


@pytest.fixture
def flickr():
    with empty_flickr() as sb:  # an account old enough for ipernity's posted dates
        yield sb


@pytest.fixture
def chain(cli, ipernity, flickr, home) -> Chain:
    return Chain(cli, ipernity, flickr, home)


def test_replay_field_by_field_then_rerun_uploads_nothing(chain):
    result, report = chain()
    assert result.returncode == 0, result.stderr
    chain.assert_replayed()
    skipped = [s for s in report["skipped"] if s["sink"] == "flickr"]
    media = {d.doc_id: d.media for d in chain.ip.account.docs}
    assert {s["id"] for s in skipped} == {i for i, m in media.items() if m in ("audio", "other")}
    assert all("only photos and videos" in s["reason"] for s in skipped)
    uploads = chain.fl.calls["upload"]
    chain.fl.reset_counters()
    result, report = chain()
    assert result.returncode == 0
    assert chain.fl.calls["upload"] == 0 and chain.fl.calls["flickr.photosets.create"] == 0
    assert uploads == sum(1 for m in media.values() if m in ("photo", "video"))


def test_edited_metadata_updates_the_photo(chain):
    assert chain()[0].returncode == 0
    doc = next(d for d in chain.ip.account.docs if d.media == "photo")
    chain.ip.edit_doc(doc.doc_id, title="a new title", tags=["fresh tag", "other"])
    chain.fl.reset_counters()
    result, report = chain("-o", "ipernity.refresh=true")
    assert result.returncode == 0, result.stderr
    assert chain.fl.calls["upload"] == 0
    photo = chain.photos_by_origin()[doc.doc_id][0]
    assert photo["title"] == "a new title"
    assert sorted(photo["tags"]) == ["fresh tag", "other"]
    assert report["per_sink"]["flickr"]["updated"] == 1


def test_kill_after_upload_before_state_write(chain, monkeypatch):
    """The process dies after Flickr stored an upload but before migrator learned the photo id."""
    chain.fl.knobs.search_lag = 3600  # the search index knows nothing new: the sink must not rely on it
    original_upload = sandbox_api.do_upload
    seen = {"n": 0}
    process = {}

    def upload_then_kill(call, inc, settle):
        root = original_upload(call, inc, settle)
        seen["n"] += 1
        if seen["n"] == 5:
            os.kill(process["pid"], signal.SIGKILL)
        return root

    monkeypatch.setattr(sandbox_api, "do_upload", upload_then_kill)
    proc = subprocess.Popen([sys.executable, "-m", "migrator", *chain.args()], env=chain.cli.env(ENV),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process["pid"] = proc.pid
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    monkeypatch.setattr(sandbox_api, "do_upload", original_upload)
    # Up to four uploads run at once, so Flickr may finish a few more after the 5th before the kill lands;
    # every one of them is stored and none of their answers reached the state store.
    assert len(chain.fl.state()["photos"]) == seen["n"] >= 5
    result, _ = chain()
    assert result.returncode == 0, result.stderr
    chain.assert_replayed()


def test_lost_state_store_uploads_nothing_and_creates_no_set(chain):
    assert chain()[0].returncode == 0
    chain.state.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(chain.state) + suffix).unlink(missing_ok=True)
    chain.fl.reset_counters()
    result, _ = chain()
    assert result.returncode == 0, result.stderr
    assert chain.fl.calls["upload"] == 0 and chain.fl.calls["flickr.photosets.create"] == 0
    assert chain.fl.calls["flickr.people.getPhotos"] == 1  # one listing, not one search per document
    assert chain.fl.calls["flickr.photos.search"] == 0
    chain.assert_replayed()


def test_kill_before_set_ordering_is_repaired_by_the_next_run(chain, monkeypatch):
    fn, perms = sandbox_api.METHODS["flickr.photosets.editPhotos"]
    process = {}

    def kill_instead(call):
        os.kill(process["pid"], signal.SIGKILL)
        raise sandbox_api.ApiError(105, "Service currently unavailable")

    monkeypatch.setitem(sandbox_api.METHODS, "flickr.photosets.editPhotos", (kill_instead, perms))
    proc = subprocess.Popen([sys.executable, "-m", "migrator", *chain.args()], env=chain.cli.env(ENV),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process["pid"] = proc.pid
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    monkeypatch.setitem(sandbox_api.METHODS, "flickr.photosets.editPhotos", (fn, perms))
    with pytest.raises(AssertionError):
        chain.assert_replayed()  # sets exist, but not yet in album order
    result, _ = chain()
    assert result.returncode == 0, result.stderr
    chain.assert_replayed()


def test_pacing_is_respected(cli, ipernity, flickr, home):
    """Across all workers: a first burst at once, then no more than `rate` calls per second."""
    chain = Chain(cli, ipernity, flickr, home)
    rate, burst = 8.0, 4
    result, _ = chain("--limit", "6", "--jobs", "3", "-o", f"flickr.burst={burst}", rate=rate)
    assert result.returncode == 0, result.stderr
    times = sorted(t for t, _ in flickr.call_log)
    assert len(times) > 10
    for i, start in enumerate(times):  # no one-second window holds more calls than burst + rate allow
        window = [t for t in times[i:] if t < start + 1.0]
        assert len(window) <= burst + rate + 1, len(window)
    assert (len(times) - burst) / (times[-1] - times[0]) <= rate * 1.1


def test_429_and_5xx_bursts_are_survived(chain):
    chain.fl.knobs.burst(4, 429)
    result, _ = chain("--limit", "10")
    assert result.returncode == 0, result.stderr
    chain.fl.knobs.burst(3, 503)
    chain.fl.knobs.burst(2, 502)
    result, _ = chain()
    assert result.returncode == 0, result.stderr
    chain.assert_replayed()


def test_refused_dates_geo_and_license_keep_the_photo(cli, ipernity, home):
    with FlickrSandbox(seed=0, geo_refuse=True) as flickr:  # account created 2010: older posted dates refused
        chain = Chain(cli, ipernity, flickr, home)
        result, report = chain()
        assert result.returncode == 0, result.stderr
        chain.assert_replayed(dates_allowed=False, geo_allowed=False)
        assert all(p["geo"] is None for p in flickr.state()["photos"])
        warnings = [w["warning"] for w in report["warnings"] if w.get("sink") == "flickr"]
        assert any("posted date" in w for w in warnings)
        assert any("location" in w and "geo privacy" in w for w in warnings)
        assert any("no settable license for copyleft" in w for w in warnings)


def test_flop_uploads_are_adopted(chain):
    """Photos flop uploaded earlier (tag `ipernity`, same title and date taken) are not uploaded again."""
    flop = [d for d in chain.ip.account.docs if d.media == "photo" and not d.created_at.startswith("0000")][:4]
    client = chain.fl.flickrapi_client("write", format="etree")
    for doc in flop:
        rsp = client.upload("x.jpg", fileobj=io.BytesIO(doc.original.content()), title=doc.title,
                            tags="ipernity", is_public=1, format="etree")
        client.photos.setDates(photo_id=rsp.findtext("photoid"), date_taken=doc.created_at, format="etree")
    chain.fl.reset_counters()
    result, _ = chain()
    assert result.returncode == 0, result.stderr
    media = [d for d in chain.ip.account.docs if d.media in ("photo", "video")]
    assert chain.fl.calls["upload"] == len(media) - len(flop)
    chain.assert_replayed()


def test_free_account_limit_stops_with_quota_code(cli, ipernity, home):
    with FlickrSandbox(seed=0, free_account=True, max_items=10,
                       account=Account.empty(0, "sandbox", created_at=YEAR_2000)) as flickr:
        chain = Chain(cli, ipernity, flickr, home)
        result, report = chain()
        assert result.returncode == 4
        assert "limit" in result.stderr and "remain" in result.stderr
        assert len(flickr.state()["photos"]) == 10
        assert any("free Flickr account" in w["warning"] for w in report["warnings"])


def test_state_maps_documents_to_photo_ids(chain):
    assert chain()[0].returncode == 0
    with sqlite3.connect(chain.state) as db:
        rows = dict(db.execute("SELECT id, ref FROM records WHERE sink='flickr' AND status='done' "
                               "AND kind='document'").fetchall())
    by_origin = chain.photos_by_origin()
    assert rows == {doc_id: photos[0]["id"] for doc_id, photos in by_origin.items()}


def test_taken_dates_out_of_range_keep_the_photo(cli, ipernity, home):
    with FlickrSandbox(seed=0, taken_range=("2008-01-01 00:00:00", None),
                       account=Account.empty(0, "sandbox", created_at=YEAR_2000)) as flickr:
        chain = Chain(cli, ipernity, flickr, home)
        result, report = chain()
        assert result.returncode == 0, result.stderr
        refused = {w["id"] for w in report["warnings"] if "date taken" in w.get("warning", "")}
        early = {d.doc_id for d in ipernity.account.docs if d.media in ("photo", "video")
                 and not d.created_at.startswith("0000") and d.created_at < "2008-01-01"}
        assert refused == early and early
        by_origin = chain.photos_by_origin()
        for doc_id in early:  # migrated, with the posted date still set
            photo = by_origin[doc_id][0]
            assert photo["date_posted"] == ipernity.account.doc(doc_id).posted_at


def test_privacy_private_and_comments_in_the_description(chain):
    result, _ = chain("-o", "flickr.privacy=private", "-o", "flickr.comments=description")
    assert result.returncode == 0, result.stderr
    by_origin = chain.photos_by_origin()
    assert all((p["is_public"], p["is_friend"], p["is_family"]) == (0, 0, 0)
               for photos in by_origin.values() for p in photos)
    doc = next(d for d in chain.ip.account.docs if d.media == "photo" and d.comments)
    description = by_origin[doc.doc_id][0]["description"]
    assert description.startswith(doc.description)
    assert "comments from ipernity" in description
    for comment in doc.comments:
        assert f"{comment.username} (" in description and comment.content in description


def test_account_default_license_is_overridden_where_it_differs(cli, ipernity, home):
    with FlickrSandbox(seed=0, default_license=4, account=Account.empty(0, "sandbox", created_at=YEAR_2000)) as flickr:
        chain = Chain(cli, ipernity, flickr, home)
        result, _ = chain()
        assert result.returncode == 0, result.stderr
        chain.assert_replayed(default_license=4)  # all-rights-reserved set back to 0, the rest to theirs
        assert flickr.calls["flickr.photos.getInfo"] == 1  # the default is learnt once, from the first upload


# -- one retry layer, through a whole run (from the plugin's retry tests) ---------------------------------
@pytest.fixture
def retry_chain(cli, home):
    account = Account.empty(0, "sandbox", created_at=YEAR_2000)
    with FlickrSandbox(seed=0, account=account, retry_after=0) as fl, IpernitySandbox(seed=0) as ip:
        yield Chain(cli, ip, fl, home, folder_args=())


def test_upload_error_3_in_a_run_is_resolved_by_a_lookup(retry_chain):
    chain = retry_chain
    chain.fl.knobs.burst(1, 3, targets=("upload",))
    result, report = chain("--limit", "3")
    assert result.returncode == 0, result.stderr  # was 1: error 3 was final
    by_origin = chain.photos_by_origin()
    assert len(by_origin) == report["counts"]["new"] and all(len(p) == 1 for p in by_origin.values())
    assert chain.fl.calls["upload"] == len(by_origin) + 1


def test_a_hanging_flickr_ends_the_run_within_the_bound(retry_chain):
    chain = retry_chain
    chain.fl.knobs.latency = 5.0
    started = time.monotonic()
    result = chain.cli(*chain.args("-o", "flickr.timeout=1"), env=ENV)
    elapsed = time.monotonic() - started
    assert result.returncode == 4, result.stderr
    assert "flickr.test.login" in result.stderr and "Timeout" in result.stderr
    assert chain.fl.calls["flickr.test.login"] == ATTEMPTS
    # six 1 s timeouts, waits of 0.05 s doubling (1.55 s), the interpreter's start: never latency × tries
    assert elapsed < ATTEMPTS * 1.0 + 1.55 + 20

"""The flickr sink end to end: ipernity sandbox → (folder) → flickr sink → Flickr sandbox."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from migrator_flickr.client import machine_tag, quote_tags
from migrator_flickr.sandbox import FlickrSandbox
from migrator_flickr.sandbox import api as sandbox_api
from migrator_flickr.sandbox.model import Account
from migrator_ipernity.sandbox import IpernitySandbox
from migrator_ipernity.sandbox.truth import LICENSES

FLICKR_LICENSE = {"all-rights-reserved": 0, "CC-BY-NC-SA-2.0": 1, "CC-BY-NC-2.0": 2, "CC-BY-NC-ND-2.0": 3,
                  "CC-BY-2.0": 4, "CC-BY-SA-2.0": 5, "CC-BY-ND-2.0": 6}
YEAR_2000 = 946684800


def flickr_args(sb: FlickrSandbox, rate: float = 0) -> list[str]:
    token, secret = sb.grant_token("write")
    return ["-o", f"flickr.api_key={sb.api_key}", "-o", f"flickr.api_secret={sb.api_secret}",
            "-o", f"flickr.oauth_token={token}", "-o", f"flickr.oauth_token_secret={secret}",
            "-o", f"flickr.rest_url={sb.rest_url}", "-o", f"flickr.upload_url={sb.upload_url}",
            "-o", f"flickr.oauth_url={sb.oauth_url}", "-o", f"flickr.rate={rate}", "-o", "flickr.backoff=0.05"]


class Chain:
    """`migrator run ipernity folder flickr` between the two sandboxes."""

    def __init__(self, cli, ipernity: IpernitySandbox, flickr: FlickrSandbox, home: Path) -> None:
        self.cli, self.ip, self.fl, self.home = cli, ipernity, flickr, home
        self.state = home / "state.sqlite3"
        self.token = ipernity.grant_token(perm_doc="read")
        self.runs = 0

    def args(self, *extra: str, sinks: tuple[str, ...] = ("folder", "flickr"), rate: float = 0) -> list[str]:
        return ["run", "ipernity", *sinks, "-o", f"ipernity.api_url={self.ip.api_url}",
                "-o", f"ipernity.api_key={self.ip.api_key}", "-o", f"ipernity.api_secret={self.ip.api_secret}",
                "-o", f"ipernity.auth_token={self.token}", "-o", f"folder.path={self.home / 'out'}",
                "-o", "folder.skip_media=none", *flickr_args(self.fl, rate), "--state", str(self.state), *extra]

    def __call__(self, *extra: str, rate: float = 0) -> tuple[subprocess.CompletedProcess, dict]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli(*self.args(*extra, "--report", str(report), rate=rate), env=ENV)
        return result, (json.loads(report.read_text()) if report.exists() else {})

    def photos_by_origin(self) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for photo in self.fl.state()["photos"]:
            for tag in photo["machine_tags"]:
                if tag.startswith("migrator:ipernity="):
                    found.setdefault(tag.split("=", 1)[1], []).append(photo)
        return found

    def assert_replayed(self, dates_allowed: bool = True, geo_allowed: bool = True,
                        default_license: int = 0) -> None:
        """Every photo and video exactly once, every field and set as the ipernity ground truth says."""
        account = self.ip.account
        by_origin = self.photos_by_origin()
        media = [d for d in account.docs if d.media in ("photo", "video")]
        assert set(by_origin) == {d.doc_id for d in media}
        assert all(len(v) == 1 for v in by_origin.values()), "a document was uploaded twice"
        assert len(self.fl.state()["photos"]) == len(media)
        for doc in media:
            photo = by_origin[doc.doc_id][0]
            assert photo["title"] == doc.title
            assert photo["description"] == doc.description
            assert sorted(photo["tags"] + photo["machine_tags"]) == sorted(
                [t["tag"].replace('"', "'").strip() for t in doc.tags if t["tag"].strip()]
                + [machine_tag("ipernity", doc.doc_id)]), doc.doc_id
            assert (photo["is_public"], photo["is_friend"], photo["is_family"]) == \
                (doc.ispublic, doc.isfriend, doc.isfamily)
            assert photo["safety_level"] == doc.safety
            if not doc.created_at.startswith("0000"):
                assert photo["date_taken"] == doc.created_at and photo["date_taken_granularity"] == 0
            if dates_allowed:
                assert photo["date_posted"] == doc.posted_at
            if doc.geo and geo_allowed:
                assert abs(photo["geo"]["latitude"] - doc.geo["lat"]) < 1e-6
                assert abs(photo["geo"]["longitude"] - doc.geo["lng"]) < 1e-6
            # a license Flickr lacks (copyleft) stays at the account's default
            assert photo["license"] == FLICKR_LICENSE.get(LICENSES[doc.license], default_license)
            assert photo["original"]["size"] == doc.original.bytes
        sets = {s["id"]: s for s in self.fl.state()["photosets"]}
        wanted = [a for a in account.albums if any(account.doc(i).media in ("photo", "video") for i in a.doc_ids)]
        assert len(sets) == len(wanted)  # same-title albums stay separate sets, empty ones make none
        for album in wanted:
            order = [by_origin[i][0]["id"] for i in album.doc_ids if i in by_origin]
            title = album.title or "untitled"  # Flickr requires a set title
            matching = [s for s in sets.values() if s["title"] == title and s["photos"] == order]
            assert len(matching) == 1, album.title
            assert matching[0]["description"] == album.description


ENV = {"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity,flickr"}


@pytest.fixture
def ipernity():
    with IpernitySandbox(seed=0) as sb:
        yield sb


@pytest.fixture
def flickr():
    with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=YEAR_2000)) as sb:
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
    assert len(chain.fl.state()["photos"]) == 5
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
    chain = Chain(cli, ipernity, flickr, home)
    rate = 8.0
    result, _ = chain("--limit", "6", "--jobs", "3", rate=rate)
    assert result.returncode == 0, result.stderr
    times = sorted(t for t, _ in flickr.call_log)
    assert len(times) > 10
    for i, start in enumerate(times):  # no one-second window holds more calls than the rate allows
        window = [t for t in times[i:] if t < start + 1.0]
        assert len(window) <= rate + 1, len(window)
    assert (len(times) - 1) / (times[-1] - times[0]) <= rate * 1.1


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


def test_bad_signature_is_rejected(flickr):
    token, _ = flickr.grant_token("write")
    from requests_oauthlib import OAuth1

    auth = OAuth1(flickr.api_key, "wrong-secret", token, "wrong-token-secret")
    answer = requests.post(flickr.rest_url, data={"method": "flickr.test.login", "format": "json",
                                                  "nojsoncallback": "1"}, auth=auth, timeout=10).json()
    assert answer["stat"] == "fail" and answer["code"] in (96, 98)


def test_auth_flow_token_file_is_private_and_no_flickr_cache(cli, flickr, home):
    proc = subprocess.Popen([sys.executable, "-m", "migrator", "auth", "flickr", *flickr_args(flickr)[:4],
                             "-o", f"flickr.rest_url={flickr.rest_url}", "-o", f"flickr.upload_url={flickr.upload_url}",
                             "-o", f"flickr.oauth_url={flickr.oauth_url}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli.env({"MIGRATOR_LOAD_PLUGINS": "flickr"}))
    line = ""
    while "oauth_token=" not in line:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
    request_token = re.search(r"oauth_token=([^&\s]+)", line).group(1)
    assert "perms=write" in line
    verifier = flickr.authorize(request_token, perms="write")
    out, err = proc.communicate(verifier + "\n", timeout=60)
    assert proc.returncode == 0, err
    token_file = Path(os.environ["MIGRATOR_CONFIG_DIR"]) / "tokens" / "flickr.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["oauth_token_secret"] not in out + err
    assert not (Path(os.environ["HOME"]) / ".flickr").exists()
    # the saved token works for a run without any token option
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": [{"id": "1", "title": "t", "content": "x" * 100,
                                               "file": {"ext": "jpg"}}]}))
    base = ["-o", f"flickr.api_key={flickr.api_key}", "-o", f"flickr.api_secret={flickr.api_secret}",
            "-o", f"flickr.rest_url={flickr.rest_url}", "-o", f"flickr.upload_url={flickr.upload_url}",
            "-o", f"flickr.oauth_url={flickr.oauth_url}", "-o", "flickr.rate=0"]
    result = cli("run", "jsonfile", "flickr", "-o", f"jsonfile.file={data}", *base,
                 env={"MIGRATOR_LOAD_PLUGINS": "memtest,flickr"})
    assert result.returncode == 0, result.stderr
    assert not (Path(os.environ["HOME"]) / ".flickr").exists()


def test_missing_token_needs_authorization(cli, flickr, home):
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": []}))
    result = cli("run", "jsonfile", "flickr", "-o", f"jsonfile.file={data}", "-o", f"flickr.api_key={flickr.api_key}",
                 "-o", f"flickr.api_secret={flickr.api_secret}", "-o", f"flickr.rest_url={flickr.rest_url}",
                 env={"MIGRATOR_LOAD_PLUGINS": "memtest,flickr"})
    assert result.returncode == 3 and "migrator auth flickr" in result.stderr


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


def test_tag_quoting():
    assert quote_tags(["new york", "cat", 'say "hi"', " "]) == "\"new york\" cat \"say 'hi'\""
    assert machine_tag("ipernity", "12") == "migrator:ipernity=12"
    assert machine_tag("my-source", "x") == "migrator:my_source=x"
    assert machine_tag("9lives", "x") == "migrator:s9lives=x"


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

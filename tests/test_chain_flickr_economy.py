"""`migrator run flickr local`, counted: the first mirror costs the listing + 1 call per photo with comments + 1 per
video and one GET per file (no HEAD); a rerun costs the listing alone and rewrites nothing; a changed photo costs
its GET, whose body the local sink never reads when the file it has is the same size; a refused original is
saved as a flagged stand-in and fetched by the next run."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
from kill_helpers import snapshot  # noqa: E402

ENV = {"MIGRATOR_LOAD_PLUGINS": "flickr,local"}
LISTING = ("flickr.test.login", "flickr.people.getUploadStatus", "flickr.people.getPhotos", "flickr.photosets.getList",
           "flickr.photosets.getPhotos", "flickr.collections.getTree")


@pytest.fixture
def sb() -> Iterator[FlickrSandbox]:
    with FlickrSandbox(account=build_seeded_account(0, n_photos=60), retry_after=0) as sandbox:
        yield sandbox


class LocalMirror:
    """`migrator run flickr local` into one backup folder and state file, a report per run."""

    def __init__(self, cli: Any, sb: FlickrSandbox, home: Path) -> None:
        self.cli, self.sb, self.home = cli, sb, home
        self.backup, self.state = home / "backup", home / "state.sqlite3"
        self.options = sb.cli_options("read")
        self.runs = 0

    def __call__(self) -> dict[str, Any]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli("run", "flickr", "local", *self.options, "-o", f"local.path={self.backup}",
                          "--state", str(self.state), "--report", str(report), env=ENV)
        assert result.returncode == 0, result.stderr
        return json.loads(report.read_text("utf-8"))

    def original(self, photo_id: str) -> Path:
        """The photo's original (not an earlier copy the sink set aside: that one has no sidecar of its own)."""
        [path] = [p for p in (self.backup / "flickr").rglob("*") if p.is_file() and p.suffix not in (".json", ".xmp")
                  and p.with_suffix(".json").exists()
                  and json.loads(p.with_suffix(".json").read_text("utf-8"))["id"] == photo_id]
        return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_mirror_within_the_bound_then_a_rerun_at_listing_cost_changes_nothing(cli, home, sb):
    mirror = LocalMirror(cli, sb, home)
    report = mirror()
    photos = sb.state()["photos"]
    n, videos = len(photos), sum(p["media"] == "video" for p in photos)
    commented = sum(bool(p["comments"]) for p in photos)
    calls = report["api_calls"]["flickr"]
    listed = sum(calls.get(m, 0) for m in LISTING)
    assert report["counts"]["new"] == n and report["warnings"] == []
    assert sum(calls.values()) == listed + commented + videos and "flickr.photos.getInfo" not in calls
    assert sb.file_methods == {"GET": n + videos}  # a video's GET follows Flickr's play/orig redirect
    for photo in photos:
        assert sha256(mirror.original(photo["id"])) == photo["original"]["sha256"]

    before = snapshot(mirror.backup)
    sb.reset_counters()
    report = mirror()
    assert report["counts"]["unchanged"] == n and report["bytes"] == 0
    assert set(sb.calls) <= set(LISTING) and sum(sb.calls.values()) == listed
    assert sb.file_requests == []
    assert snapshot(mirror.backup) == before


def test_a_changed_photo_costs_one_unread_get_and_keeps_its_file(cli, home, sb):
    mirror = LocalMirror(cli, sb, home)
    mirror()
    photo = next(p for p in sb.account.photos.values() if p.media == "photo" and not sb.account.comments.get(p.id))
    original = mirror.original(photo.id)
    kept = original.stat().st_ino, sha256(original)
    with sb.lock:
        photo.title, photo.last_update = "Renamed on flickr.com", photo.last_update + 60
    sb.reset_counters()
    report = mirror()
    assert report["counts"]["updated"] == 1 and report["bytes"] == 0  # the sink had that file: body never read
    assert set(sb.calls) <= set(LISTING) and sb.file_methods == {"GET": 1}
    assert (mirror.original(photo.id).stat().st_ino, sha256(mirror.original(photo.id))) == kept
    assert json.loads(original.with_suffix(".json").read_text("utf-8"))["title"] == "Renamed on flickr.com"


def test_a_refused_original_is_a_flagged_stand_in_until_the_next_run_fetches_it(cli, home, sb):
    mirror = LocalMirror(cli, sb, home)
    sb.knobs.originals_403 = True
    report = mirror()
    photos = sb.state()["photos"]
    assert len(report["warnings"]) == len(photos) and "HEAD" not in sb.file_methods
    photo = next(p for p in photos if p["media"] == "photo")
    stand_in = mirror.original(photo["id"])
    assert json.loads(stand_in.with_suffix(".json").read_text("utf-8"))["source_metadata"]["fallback"]
    assert sha256(stand_in) != photo["original"]["sha256"]

    sb.knobs.originals_403 = False
    sb.reset_counters()
    report = mirror()
    assert report["counts"]["updated"] == len(photos)
    assert not [w for w in report["warnings"] if "NOT the original" in w["warning"]]
    videos = sum(p["media"] == "video" for p in photos)
    assert sb.calls["flickr.photos.getSizes"] == videos and "flickr.photos.getInfo" not in sb.calls
    for photo in photos:
        path = mirror.original(photo["id"])
        assert sha256(path) == photo["original"]["sha256"]
        assert "fallback" not in json.loads(path.with_suffix(".json").read_text("utf-8"))["source_metadata"]

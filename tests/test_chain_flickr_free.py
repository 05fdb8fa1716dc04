"""`migrator run flickr local` on a free Flickr account (since 2025-05-15: no original, nothing above 1024 px
through the API): said once at the start with the export route, each file the largest allowed size flagged as a
fallback, no probing of originals, a rerun at listing cost; a real original already in the backup is kept
byte for byte while its metadata still updates; the account going Pro brings the originals."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox.api.photo_fields import FREE_MAX_EDGE, photo_sizes, static_url

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
# tests/ is no package: for the helpers beside this file and the plugins' own
sys.path[:0] = [str(Path(__file__).parent), *(str(PLUGINS / name / "tests") for name in ("local_sink", "flickr_sink"))]
from kill_helpers import snapshot  # noqa: E402
from local_helpers import exploding, make_item, make_sink  # noqa: E402
from mirror_helpers import make_mirror  # noqa: E402

ENV = {"MIGRATOR_LOAD_PLUGINS": "flickr,local"}
LISTING = ("flickr.test.login", "flickr.people.getUploadStatus", "flickr.people.getPhotos", "flickr.photosets.getList",
           "flickr.photosets.getPhotos", "flickr.collections.getTree")
NOTICE = "free Flickr account"
BIG = {0: (2048, 1536), 1: (1200, 1600)}  # photos (by rank) with sizes above the cap


@pytest.fixture
def sb() -> Iterator[FlickrSandbox]:
    account = build_seeded_account(0, n_photos=12)
    photos = [p for p in account.photos.values() if p.media == "photo"]
    for rank, (width, height) in BIG.items():
        photos[rank].width, photos[rank].height = width, height
    with FlickrSandbox(account=account, retry_after=0, free_account=True) as sandbox:
        yield sandbox


class LocalMirror:
    """`migrator run flickr local` into one backup folder and state file; the report and output of each run."""

    def __init__(self, cli: Any, sb: FlickrSandbox, home: Path) -> None:
        self.cli, self.sb, self.home = cli, sb, home
        self.backup, self.state = home / "backup", home / "state.sqlite3"
        self.options = sb.cli_options("read")
        self.runs = 0
        self.stderr = ""

    def __call__(self) -> dict[str, Any]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli("run", "flickr", "local", *self.options, "-o", f"local.path={self.backup}",
                          "--state", str(self.state), "--report", str(report), env=ENV)
        assert result.returncode == 0, result.stderr
        self.stderr = result.stderr
        return json.loads(report.read_text("utf-8"))

    def original(self, photo_id: str) -> Path:
        [path] = [p for p in (self.backup / "flickr").rglob("*") if p.is_file() and p.suffix not in (".json", ".xmp")
                  and p.with_suffix(".json").exists() and self.record_of(p)["id"] == photo_id]
        return path

    @staticmethod
    def record_of(path: Path) -> dict[str, Any]:
        return json.loads(path.with_suffix(".json").read_text("utf-8"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def allowed_rendition(sb: FlickrSandbox, photo_id: str) -> tuple[str, bytes]:
    """The largest uncropped size a free account may have of a photo (label, bytes), as the sandbox serves it."""
    p = sb.account.photos[photo_id]
    label, _key, suffix, _w, _h = max((s for s in photo_sizes(p) if s[0] != "Original" and "Square" not in s[0]
                                       and max(s[3], s[4]) <= FREE_MAX_EDGE), key=lambda s: s[3] * s[4])
    call = type("Call", (), {"base": sb.base_url})  # static_url needs only the host's base
    return label, requests.get(static_url(call, p, suffix), timeout=10).content


def test_a_free_account_is_said_once_each_file_is_a_flagged_capped_size_and_a_rerun_fetches_nothing(cli, home, sb):
    mirror = LocalMirror(cli, sb, home)
    report = mirror()
    photos = sb.state()["photos"]
    n, videos = len(photos), [p for p in photos if p["media"] == "video"]
    assert report["counts"]["new"] == n
    [notice] = report["warnings"]  # one, for the run: not one per photo
    assert notice["plugin"] == "flickr" and NOTICE in notice["warning"] and "1024 px" in notice["warning"]
    assert '"Your Flickr Data"' in notice["warning"] and "migrator run local local -o local.source.path=" in \
        notice["warning"]
    assert mirror.stderr.count(NOTICE) == 1
    assert mirror.stderr.index(NOTICE) < mirror.stderr.index("new      flickr:")  # before the first document

    calls = report["api_calls"]["flickr"]
    listed = sum(calls.get(m, 0) for m in LISTING)
    commented = sum(bool(p["comments"]) for p in photos)
    # no getSizes for photos: the listing names their sizes; one per video, as on a Pro account
    assert sum(calls.values()) == listed + commented + len(videos) and calls["flickr.photos.getSizes"] == len(videos)
    assert {status for _verb, _path, status in sb.file_requests} <= {200, 302}  # no original was even tried
    assert sb.file_methods == {"GET": n + len(videos)}  # a video's GET follows its play redirect

    for photo in photos:
        path = mirror.original(photo["id"])
        meta = mirror.record_of(path)["source_metadata"]
        assert "free Flickr account" in meta["fallback_reason"]
        assert sha256(path.read_bytes()) != photo["original"]["sha256"]
        if photo["media"] == "video":
            assert meta["fallback"] == "Site MP4"  # HD MP4 (1280 px) is above the cap
        else:
            label, data = allowed_rendition(sb, photo["id"])
            assert meta["fallback"] == label and path.read_bytes() == data
    big = [mirror.original(p["id"]) for p in photos if (p["width"], p["height"]) in BIG.values()]
    assert len(big) == len(BIG) and all(mirror.record_of(path)["source_metadata"]["fallback"] == "Large"
                                        for path in big)

    before = snapshot(mirror.backup)
    sb.reset_counters()
    report = mirror()  # still free: the same capped sizes would come, so nothing is fetched again
    assert report["counts"]["unchanged"] == n and report["bytes"] == 0 and len(report["warnings"]) == 1
    assert set(sb.calls) <= set(LISTING) and sb.file_requests == []
    assert snapshot(mirror.backup) == before

    sb.knobs.free_account = False  # the account goes Pro: every stand-in is fetched again, as its original
    sb.reset_counters()
    report = mirror()
    assert report["counts"]["updated"] == n and NOTICE not in json.dumps(report["warnings"])
    for photo in photos:
        path = mirror.original(photo["id"])
        assert sha256(path.read_bytes()) == photo["original"]["sha256"]
        assert "fallback" not in mirror.record_of(path)["source_metadata"]


def test_a_real_original_in_the_backup_is_kept_when_the_account_turns_free(cli, home, sb):
    sb.knobs.free_account = False
    mirror = LocalMirror(cli, sb, home)
    mirror()  # a Pro account: the originals
    photo = next(p for p in sb.account.photos.values() if p.media == "photo" and (p.width, p.height) == BIG[0])
    original = mirror.original(photo.id)
    kept = original.stat().st_ino, original.read_bytes()
    assert sha256(kept[1]) == photo.sha256

    sb.knobs.free_account = True
    with sb.lock:
        photo.title, photo.last_update = "Renamed while free", photo.last_update + 60
    sb.reset_counters()
    report = mirror()
    assert report["counts"]["updated"] == 1 and report["counts"]["unchanged"] == len(sb.account.photos) - 1
    assert report["bytes"] == 0  # the capped size's answer was never read
    assert sb.file_methods == {"GET": 1} and "flickr.photos.getSizes" not in sb.calls
    warnings = {w.get("id"): w["warning"] for w in report["warnings"]}
    assert NOTICE in warnings[None]
    assert warnings[photo.id].startswith(f"kept the original {original.name}: the source now offers only its "
                                         "'Large' rendition")
    assert (original.stat().st_ino, original.read_bytes()) == kept  # byte for byte, not even rewritten
    record = mirror.record_of(original)
    assert record["title"] == "Renamed while free"  # the metadata still lands
    assert "fallback" not in record["source_metadata"] and record["file"]["size"] == len(kept[1])
    assert [p for p in original.parent.iterdir() if p.name.startswith(original.stem.rsplit(".", 1)[0] + ".")
            and p.suffix == original.suffix and p != original] == []  # no rotated copy: nothing was replaced

    before = snapshot(mirror.backup)
    sb.reset_counters()
    report = mirror()  # still free, nothing changed: nothing fetched, nothing written
    assert report["counts"]["unchanged"] == len(sb.account.photos) and sb.file_requests == []
    assert snapshot(mirror.backup) == before


def test_an_adopted_flickrmirrorer_original_stays_through_later_stand_ins(tmp_path):
    """A free account's first mirror onto a flickrmirrorer folder: the mirror's bigger file is adopted and
    recorded as the original it is, so a later capped rendition (a metadata change) does not replace it."""
    root = make_mirror(tmp_path / "backup")
    theirs = (root / "photostream" / "201.jpg").read_bytes()
    sink = make_sink(root)
    flagged = {"fallback": "Large", "fallback_reason": "a free Flickr account gets no original"}

    def stand_in(title: str):
        return make_item("201", b"capped", source="flickr", opener=exploding(), title=title,
                         source_metadata=flagged)

    stored = sink.store(stand_in("Bridge"), None)
    path = root / stored.ref
    assert path.read_bytes() == theirs and "smaller rendition" in stored.warnings[0]
    record = json.loads(path.with_suffix(".json").read_text("utf-8"))
    assert "fallback" not in record["source_metadata"] and record["file"]["size"] == len(theirs)

    stored = sink.store(stand_in("Bridge, renamed"), None)
    assert root / stored.ref == path and path.read_bytes() == theirs
    assert stored.warnings[0].startswith(f"kept the original {path.name}")
    assert json.loads(path.with_suffix(".json").read_text("utf-8"))["title"] == "Bridge, renamed"
    sink.finish()
    sink.close()

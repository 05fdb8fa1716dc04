"""The flickr source's call economy, end to end through the CLI against the Flickr sandbox: a first mirror costs
the listing plus one call per photo with comments plus one per video, one GET per file and no HEAD; a rerun costs
the listing alone; refused originals, photos deleted after the listing and hostile listing extras fail or fall
back for that photo only."""

from __future__ import annotations

import gc
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from migrator_flickr import mapping as fr
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox import api as sandbox_api
from migrator_flickr.sandbox.api import listing as sandbox_listing
from migrator_flickr.source import DETAILS_MARK, Listed

from migrator.errors import DocumentError
from migrator.testing.fuzz import FUZZ, junk, maps_or_fails

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
from test_flickr_source import LISTING, Mirror, listing_calls, open_source, stream  # noqa: E402

N_PHOTOS = 200  # the account size


def seeded(n_photos: int = 60, **knobs: Any) -> FlickrSandbox:
    return FlickrSandbox(account=build_seeded_account(0, n_photos=n_photos), retry_after=0, **knobs)


@pytest.fixture
def sb() -> Iterator[FlickrSandbox]:
    with seeded() as sandbox:
        yield sandbox


def first_mirror_budget(state: dict[str, Any], calls: dict[str, int]) -> int:
    """The issue's bound: the listing calls + 1 per photo with comments + 1 per video."""
    photos = state["photos"]
    return listing_calls(calls) + sum(bool(p["comments"]) for p in photos) + sum(p["media"] == "video" for p in photos)


def file_gets(sb: FlickrSandbox) -> Counter[str]:
    """GETs by final file (a video's play/orig redirect counted with the file it leads to)."""
    return Counter(path for verb, path, status in sb.file_requests if verb == "GET" and status != 302)


# -- the bound --------------------------------------------------------------------------------------
def test_first_mirror_of_200_items_costs_the_listing_comments_and_videos_only(cli, home):
    with seeded(N_PHOTOS) as sb:
        mirror = Mirror(cli, sb, home)
        result, report = mirror()
        assert result.returncode == 0, result.stderr
        state = sb.state()
        photos = state["photos"]
        n, videos = len(photos), sum(p["media"] == "video" for p in photos)
        commented = sum(bool(p["comments"]) for p in photos)
        calls = dict(sb.calls)
        print(f"\nfirst mirror of {n} items ({videos} videos, {commented} with comments, "
              f"{len(state['photosets'])} sets): REST {sum(calls.values())} {dict(sorted(calls.items()))}; "
              f"files {dict(sb.file_methods)}")
        assert report["counts"]["new"] == n and report["warnings"] == []
        assert calls == report["api_calls"]["flickr"]
        assert sum(calls.values()) <= first_mirror_budget(state, calls)
        assert calls["flickr.photos.comments.getList"] == commented and calls["flickr.photos.getSizes"] == videos
        assert "flickr.photos.getInfo" not in calls
        assert sb.file_methods == {"GET": n + videos}  # no HEAD; each video's GET follows one redirect
        gets = file_gets(sb)
        assert len(gets) == n and set(gets.values()) == {1}  # exactly one GET per file
        listed = listing_calls(calls)

        sb.reset_counters()
        result, report = mirror()
        assert result.returncode == 0, result.stderr
        print(f"rerun: REST {sum(sb.calls.values())} {dict(sorted(sb.calls.items()))}; files {dict(sb.file_methods)}")
        assert report["counts"]["unchanged"] == n
        assert set(sb.calls) <= set(LISTING) and sum(sb.calls.values()) == listed
        assert sb.file_requests == []


def test_a_changed_photo_costs_its_one_get_and_no_rest_call(cli, home, sb):
    """A metadata change moves lastupdate: the photo is read again from the listing; without comments nor
    video that is its file's GET alone."""
    mirror = Mirror(cli, sb, home)
    assert mirror()[0].returncode == 0
    photo = next(p for p in sb.account.photos.values() if p.media == "photo" and not sb.account.comments.get(p.id))
    with sb.lock:
        photo.title, photo.last_update = "Renamed", photo.last_update + 60
    sb.reset_counters()
    result, report = mirror()
    assert result.returncode == 0, result.stderr
    assert report["counts"]["updated"] == 1 and mirror.record(photo.id)["title"] == "Renamed"
    assert set(sb.calls) <= set(LISTING) and sb.file_methods == {"GET": 1}


# -- refused originals --------------------------------------------------------------------------------
def test_refused_originals_are_flagged_then_fetched_by_the_next_run(cli, home, sb):
    sb.knobs.originals_403 = True
    mirror = Mirror(cli, sb, home)
    result, report = mirror()
    assert result.returncode == 0, result.stderr
    photos = sb.state()["photos"]
    n, videos = len(photos), sum(p["media"] == "video" for p in photos)
    assert len(report["warnings"]) == n and sb.calls["flickr.photos.getSizes"] == n  # the fallback's price
    assert "HEAD" not in sb.file_methods
    for photo in photos:
        meta = mirror.record(photo["id"])["source_metadata"]
        assert meta["fallback"] and "HTTP 403" in meta["fallback_reason"]
        assert mirror.sha256(photo["id"]) != photo["original"]["sha256"]

    sb.knobs.originals_403 = False
    sb.reset_counters()
    result, report = mirror()
    assert result.returncode == 0, result.stderr
    assert report["warnings"] == [] and report["counts"]["updated"] == n
    assert sb.calls["flickr.photos.getSizes"] == videos and sb.file_methods == {"GET": n + videos}
    for photo in photos:
        assert "fallback" not in mirror.record(photo["id"])["source_metadata"]
        assert mirror.sha256(photo["id"]) == photo["original"]["sha256"]


# -- a photo gone, hostile extras ----------------------------------------------------------------------
def after_listing(monkeypatch: pytest.MonkeyPatch, change) -> None:
    """`change(account)` right after the sandbox answers people.getPhotos: between the run's listing and its loads."""
    real = sandbox_api.dispatch

    def dispatch(call, name):
        root = real(call, name)
        if name == "flickr.people.getPhotos":
            change(call.account)
        return root

    monkeypatch.setattr(sandbox_api, "dispatch", dispatch)


def test_photos_deleted_after_the_listing_fail_alone_and_the_run_goes_on(cli, home, sb, monkeypatch):
    photos = list(sb.account.photos.values())
    gone = [next(p.id for p in photos if p.media == "photo" and not sb.account.comments.get(p.id)),
            next(p.id for p in photos if sb.account.comments.get(p.id)),
            next(p.id for p in photos if p.media == "video")]
    after_listing(monkeypatch, lambda account: [account.remove_photo(i) for i in gone])
    mirror = Mirror(cli, sb, home)
    result, report = mirror()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert {f["id"] for f in report["failed"]} == set(gone)
    for failure in report["failed"]:
        assert f"Flickr photo {failure['id']} is gone" in failure["reason"]
    assert mirror.stored_ids() == {p.id for p in photos} - set(gone)


HOSTILE = {"url_o": "file:///etc/passwd", "count_comments": "lots", "media": ["video"], "dateupload": "9" * 40,
           "lastupdate": {"x": 1}, "originalformat": "../../sh", "datetaken": "2019-02-30 25:61:61",
           "latitude": "NaN", "tags": {"_content": None}, "machine_tags": "dc:", "license": "²"}


def test_hostile_listing_extras_fail_that_photo_with_its_id(cli, home, sb, monkeypatch):
    victim = stream(sb.state())[3]["id"]
    real = sandbox_listing.photo_item

    def photo_item(call, p, extras, *args, **kwargs):
        node = real(call, p, extras, *args, **kwargs)
        if p.id == victim:
            node.attrs.update(HOSTILE)
        return node

    monkeypatch.setattr(sandbox_listing, "photo_item", photo_item)
    mirror = Mirror(cli, sb, home)
    result, report = mirror()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [failure] = report["failed"]
    assert failure["id"] == victim and f"flickr:{victim}" in failure["reason"] and "'Original'" in failure["reason"]
    assert len(mirror.stored_ids()) == len(sb.account.photos) - 1


EXTRAS = ["title", "description", "dateupload", "lastupdate", "datetaken", "datetakengranularity",
          "datetakenunknown", "latitude", "longitude", "accuracy", "ispublic", "isfriend", "isfamily", "license",
          "media", "tags", "machine_tags", "originalformat", "url_o", "count_comments", "views", "o_width"]
JUNK = junk(EXTRAS + ["_content"], ["photo", "video", "1", "http://127.0.0.1:9/x.jpg"])


@pytest.fixture(scope="module")
def shared() -> Iterator[FlickrSandbox]:
    with seeded(6) as sandbox:
        yield sandbox


@FUZZ
@given(extras=st.dictionaries(st.sampled_from(EXTRAS), JUNK, max_size=8), which=st.integers(0, 5))
def test_any_listing_extras_load_a_valid_record_or_fail_naming_the_photo(shared, tmp_path_factory, extras, which):
    source = open_source(shared, tmp_path_factory.mktemp("fuzz"), backoff=0.0, timeout=2.0)
    try:
        listed = source.plan()[which]
        raw = {**listed.raw, **extras}

        def load():
            try:
                return source._load(Listed(raw, listed.photo_id, listed.position, listed.marker)).document
            except DocumentError as exc:
                assert listed.photo_id in str(exc)
                raise

        maps_or_fails(load)
    finally:
        source.close()


# -- the handed-over answer, the change marker ----------------------------------------------------------
def test_the_first_answer_is_the_sinks_stream_and_is_closed_when_nobody_reads_it(sb, tmp_path):
    source = open_source(sb, tmp_path)
    try:
        photo_id = next(p.id for p in sb.account.photos.values() if p.media == "photo")
        entry = next(e for e in source.entries() if e.id == photo_id)
        sb.reset_counters()
        item = entry.load()
        with item.original.open() as stream_:
            data = b"".join(iter(stream_.read, b""))
        assert hashlib.sha256(data).hexdigest() == sb.account.photos[photo_id].sha256
        assert sb.file_methods == {"GET": 1}
        with item.original.open() as again:  # a second open (a retry after a cut) asks again
            assert b"".join(iter(again.read, b"")) == data
        assert sb.file_methods == {"GET": 2}

        unread = entry.load()
        response = unread.original._opener._first._response
        del unread
        gc.collect()
        assert response.raw.closed
    finally:
        source.close()


def test_the_default_change_marker_is_the_one_earlier_versions_stored(sb, tmp_path):
    """Mirrors made before the listing-only records keep their state: the marker reads `lastupdate/comments/
    places digest` exactly as then, so a rerun over them costs the listing alone."""
    source = open_source(sb, tmp_path)
    try:
        entries = {e.id: e.updated_at for e in source.entries()}
    finally:
        source.close()
    for photo_id, marker in entries.items():
        photo = sb.account.photos[photo_id]
        places = [[s.id, s.title, s.photos.index(photo_id) + 1] for s in sb.account.photosets if photo_id in s.photos]
        digest = hashlib.sha256(json.dumps(places, ensure_ascii=False).encode()).hexdigest()[:12] if places else ""
        assert marker == f"{photo.last_update}/{len(sb.account.comments.get(photo_id, []))}/{digest}"
    detailed = open_source(sb, tmp_path, details=True)
    try:
        assert all(e.updated_at == entries[e.id] + DETAILS_MARK for e in detailed.entries())
    finally:
        detailed.close()


@pytest.mark.parametrize(("count", "asked"), [("0", False), ("2", True), (None, True), ("lots", True)])
def test_comments_are_asked_for_only_when_the_listing_counts_some_or_cannot_say(sb, tmp_path, count, asked):
    source = open_source(sb, tmp_path)
    try:
        photo_id = next(i for i, found in sb.account.comments.items() if found and i in sb.account.photos)
        listed = next(entry for entry in source.plan() if entry.photo_id == photo_id)
        raw = {k: v for k, v in listed.raw.items() if k != "count_comments"}
        if count is not None:
            raw["count_comments"] = count
        sb.reset_counters()
        doc = source._load(Listed(raw, photo_id, listed.position, listed.marker)).document
        assert sb.calls["flickr.photos.comments.getList"] == int(asked)
        assert len(doc.comments) == (len(sb.account.comments[photo_id]) if asked else 0)
    finally:
        source.close()


def test_machine_tags_listed_with_spaces_in_their_values_stay_whole():
    assert fr.listed_machine_tags("dc:title=two words  seed:photo=2 x:y=z") == \
        ["dc:title=two words", "seed:photo=2", "x:y=z"]
    assert fr.listed_machine_tags("stray dc:title=a") == ["stray", "dc:title=a"]
    listed = {"tags": "newyork dctitletwowords", "machine_tags": "dc:title=two words"}
    assert fr.raw_tags({}, listed) == ["newyork", "dc:title=two words"]  # its squeezed twin is no tag of its own

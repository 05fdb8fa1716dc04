"""The immich sink against the Immich sandbox, in process: both upload shapes, metadata, lost answers, errors."""

from __future__ import annotations

import base64
import hashlib
from collections import Counter

import pytest
import requests
from migrator_immich.sandbox import ImmichSandbox
from migrator_immich.sink import ImmichSink

from migrator import AlbumRef, Container, Visibility
from migrator.errors import (
    AuthorizationNeeded,
    DocumentError,
    QuotaExceeded,
    SkipDocument,
    TransientError,
    UsageError,
)
from migrator.testing import Harness
from migrator.testing.samples import SOURCE, item


@pytest.fixture
def harness(tmp_path):
    h = Harness(tmp_path / "harness")
    yield h
    h.shutdown()


def options(sb: ImmichSandbox, **more) -> dict:
    return {"url": sb.url, "api_key": sb.api_key, "backoff": 0.01, **more}


def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def store(harness: Harness, sink: ImmichSink, it, container: bool = False):
    """As the run loop does: a TransientError (a lost answer) means the same record is tried again."""
    for _ in range(6):
        try:
            return harness.store_container(sink, it) if container else harness.store(sink, it)
        except TransientError:
            continue
    raise AssertionError("still failing after 6 tries")


def asset_of(sb: ImmichSandbox, ref: str) -> dict:
    return next(a for a in sb.state()["assets"] if a["id"] == ref)


def test_each_version_gets_its_upload_shape_and_the_metadata(sb, harness):
    sink = harness.sink(ImmichSink, options(sb))
    it = item("shape-1", tags=["plain", "a/b", "geo:lat=48.8"], visibility=Visibility(public=True))
    stored = harness.store(sink, it)
    asset = asset_of(sb, stored.ref)
    if sb.major < 3:
        assert asset["deviceId"] == "migrator" and asset["deviceAssetId"].startswith("migrator-")
    else:
        assert asset["deviceId"] is None and asset["deviceAssetId"] is None
    doc = it.document
    assert asset["checksum"] == sha1(it.original.data)
    assert asset["originalFileName"] == "shape-1.jpg"
    assert asset["exif"]["description"] == f"{doc.title}\n\n{doc.description}"
    assert asset["exif"]["dateTimeOriginal"] == "2019-05-01T10:20:30+00:00"
    assert asset["fileCreatedAt"] == "2019-05-01T10:20:30+00:00"
    assert (asset["exif"]["latitude"], asset["exif"]["longitude"]) == (doc.geo.latitude, doc.geo.longitude)
    assert asset["tagValues"] == sorted(["plain", "a\u2215b", "geo/lat/48.8"])
    assert asset["visibility"] == "timeline"
    sidecar = sb.read_sidecar(stored.ref).decode()
    assert "<rdf:li xml:lang=\"x-default\">Conformance shape-1</rdf:li>" in sidecar  # dc:title kept


def test_favourite_and_rating_when_the_record_has_them(harness):
    with ImmichSandbox() as sb:
        sink = harness.sink(ImmichSink, options(sb))
        asset = asset_of(sb, harness.store(sink, item("fav-1", source_metadata={"favorite": True, "rating": 4})).ref)
        assert asset["isFavorite"] is True and asset["exif"]["rating"] == 4


def test_an_asset_deleted_in_immich_is_left_out_of_its_album_with_a_warning(harness):
    with ImmichSandbox() as sb:
        sink = harness.sink(ImmichSink, options(sb))
        refs = [harness.store(sink, item(f"gone-{n}")).ref for n in range(2)]
        requests.delete(f"{sb.url}/api/assets", json={"ids": [refs[0]], "force": True},
                        headers={"x-api-key": sb.api_key}, timeout=10)
        stored = harness.store_container(sink, Container("album", SOURCE, "gone", title="G",
                                                         members=["gone-0", "gone-1"]))
        assert "1 of its assets are no longer in Immich" in stored.warnings[0]
        assert sb.state()["albums"][0]["assets"] == [refs[1]]


def test_changed_tags_are_added_and_dropped_ones_taken_off(sb, harness):
    sink = harness.sink(ImmichSink, options(sb))
    first = harness.store(sink, item("retag-1", tags=["kept", "dropped", "ns:pred=old"]))
    again = harness.store(sink, item("retag-1", tags=["kept", "added"], description="changed"))
    assert again.status == "updated" and again.ref == first.ref
    assert asset_of(sb, first.ref)["tagValues"] == ["added", "kept"]


def test_a_v2_server_refuses_an_upload_without_device_fields_and_v3_ignores_them():
    for version, status in (("2.7.5", 400), ("3.1.0", 201)):
        with ImmichSandbox(version=version) as sb:
            answer = requests.post(f"{sb.url}/api/assets", headers={"x-api-key": sb.api_key}, timeout=10,
                                   data={"fileCreatedAt": "2020-01-01T00:00:00Z",
                                         "fileModifiedAt": "2020-01-01T00:00:00Z"},
                                   files={"assetData": ("a.jpg", b"\xff\xd8bytes", "image/jpeg")})
            assert answer.status_code == status, answer.text
            if status == 400:
                assert "deviceAssetId should not be empty" in answer.json()["message"]
                assert answer.headers.get("x-immich-cid")


@pytest.mark.parametrize("version", ["4.0.0", "1.120.3"])
def test_an_unsupported_version_is_refused_at_open_naming_the_supported_ones(version, harness):
    with ImmichSandbox(version=version) as sb, pytest.raises(UsageError) as refused:
        harness.sink(ImmichSink, options(sb))
    assert f"Immich {version} is not supported" in str(refused.value) and "2.x and 3.x" in str(refused.value)


def test_an_invalid_key_asks_for_one(harness):
    with ImmichSandbox() as sb:
        with pytest.raises(AuthorizationNeeded) as refused:
            harness.sink(ImmichSink, {**options(sb), "api_key": "not-a-key"})
        assert "Invalid API key" in str(refused.value) and "MIGRATOR_IMMICH_API_KEY" in str(refused.value)
        sink = harness.sink(ImmichSink, options(sb))
        sb.knobs.invalid_keys = True  # revoked while the run goes on
        with pytest.raises(AuthorizationNeeded):
            harness.store(sink, item("revoked-1"))


def test_lost_answers_make_no_duplicate_and_lose_nothing(sb, harness):
    sb.knobs.lose_answer("upload", 2, "reset")
    sb.knobs.lose_answer("upload", 1, "502")
    sb.knobs.lose_answer("assets.update", 1, "reset")
    sb.knobs.lose_answer("tags.upsert", 1, "500")
    sb.knobs.lose_answer("albums.create", 1, "reset")
    sb.knobs.lose_answer("albums.add", 1, "503")
    sink = harness.sink(ImmichSink, options(sb))
    items = [item(f"lost-{n}", albums=[AlbumRef("lost-album", "Lost", n + 1)]) for n in range(5)]
    refs = [store(harness, sink, it).ref for it in items]
    album = Container("album", SOURCE, "lost-album", title="Lost", description="kept",
                      members=[it.document.id for it in items])
    album_ref = store(harness, sink, album, container=True).ref
    state = sb.state()
    assert [name for name, _ in sb.lost_answers].count("upload") == 3 and len(sb.lost_answers) == 7
    checksums = Counter(a["checksum"] for a in state["assets"])
    assert sorted(checksums) == sorted(sha1(it.original.data) for it in items) and set(checksums.values()) == {1}
    assert [(a["id"], a["albumName"], a["description"]) for a in state["albums"]] == [(album_ref, "Lost", "kept")]
    assert sorted(state["albums"][0]["assets"]) == sorted(refs)
    assert all(a["tagValues"] == ["conformance", "two words"] and a["exif"]["description"] for a in state["assets"])


def test_a_lost_state_finds_assets_and_albums_by_content(sb, harness, tmp_path):
    sink = harness.sink(ImmichSink, options(sb))
    it = item("again-1")
    first = harness.store(sink, it)
    album = Container("album", SOURCE, "again-album", title="Same name", members=["again-1"])
    twin = Container("album", SOURCE, "twin-album", title="Same name", members=[])
    album_ref = harness.store_container(sink, album).ref
    twin_ref = harness.store_container(sink, twin).ref
    sb.knobs.lose_answer("upload", 1, "reset")  # never reached: the checksum is known
    lost = Harness(tmp_path / "lost")
    try:
        sink = lost.sink(ImmichSink, options(sb))
        uploads = sb.calls["upload"]
        assert lost.store(sink, item("again-1")).ref == first.ref and sb.calls["upload"] == uploads
        assert lost.store_container(sink, album).ref == album_ref
        assert lost.store_container(sink, twin).ref == twin_ref  # the empty album of that name, not a new one
    finally:
        lost.shutdown()
    assert len(sb.state()["assets"]) == 1 and len(sb.state()["albums"]) == 2


def test_too_large_for_the_proxy_fails_the_document_clearly(harness):
    with ImmichSandbox() as sb:
        sb.knobs.max_body_bytes = 100
        sink = harness.sink(ImmichSink, options(sb))
        with pytest.raises(DocumentError) as failed:
            harness.store(sink, item("big-1"))
        assert "HTTP 413" in str(failed.value) and "client_max_body_size" in str(failed.value)
        assert not sb.state()["assets"]


def test_a_full_quota_stops_the_run(harness):
    with ImmichSandbox() as sb:
        sb.knobs.quota_bytes = 100
        sink = harness.sink(ImmichSink, options(sb))
        with pytest.raises(QuotaExceeded) as stopped:
            harness.store(sink, item("quota-1"))
        assert "Quota has been exceeded" in str(stopped.value)


def test_a_format_the_server_refuses_is_skipped_with_the_reason(harness):
    with ImmichSandbox() as sb:
        sb.knobs.refuse_extensions = {".jpg"}
        sink = harness.sink(ImmichSink, options(sb))
        with pytest.raises(SkipDocument) as skipped:
            harness.store(sink, item("refused-1"))
        assert "Unsupported file type refused-1.jpg" in str(skipped.value)
        with pytest.raises(SkipDocument) as skipped:
            harness.store(sink, item("pdf-1", media="other"))
        assert "not other" in str(skipped.value)


@pytest.mark.parametrize("rule, expected", [("archive", "archive"), ("locked", "locked"), ("timeline", "timeline")])
def test_private_documents_go_where_the_user_chose(rule, expected, harness):
    with ImmichSandbox() as sb:
        sink = harness.sink(ImmichSink, options(sb, private=rule))
        stored = harness.store(sink, item("private-1", visibility=Visibility(friends=True)))
        assert asset_of(sb, stored.ref)["visibility"] == expected
        assert asset_of(sb, harness.store(sink, item("public-1")).ref)["visibility"] == "timeline"


def test_private_skip_and_title_off_and_a_time_zone(harness):
    with ImmichSandbox() as sb:
        sink = harness.sink(ImmichSink, options(sb, private="skip", title="off", timezone="Europe/Paris"))
        with pytest.raises(SkipDocument, match="immich.private=skip"):
            harness.store(sink, item("private-2", visibility=Visibility()))
        asset = asset_of(sb, harness.store(sink, item("zoned-1")).ref)
        assert asset["exif"]["dateTimeOriginal"] == "2019-05-01T10:20:30+02:00"
        assert asset["exif"]["timeZone"] == "UTC+02:00"
        assert asset["exif"]["description"] == "Described <b>zoned-1</b>"
        with pytest.raises(UsageError, match="IANA"):
            harness.sink(ImmichSink, options(sb, timezone="Mars/Olympus"))


def test_an_asset_in_the_trash_is_not_uploaded_again(harness, tmp_path):
    with ImmichSandbox() as sb:
        sink = harness.sink(ImmichSink, options(sb))
        ref = harness.store(sink, item("trashed-1")).ref
        requests.delete(f"{sb.url}/api/assets", json={"ids": [ref]}, headers={"x-api-key": sb.api_key}, timeout=10)
        lost = Harness(tmp_path / "lost")
        try:
            with pytest.raises(SkipDocument, match="trash"):
                lost.store(lost.sink(ImmichSink, options(sb)), item("trashed-1"))
        finally:
            lost.shutdown()
        assert len(sb.state()["assets"]) == 1


def test_the_loss_ledger_names_what_immich_cannot_hold(harness):
    with ImmichSandbox() as sb:
        sink = harness.sink(ImmichSink, options(sb), dry_run=True)
        doc = item("ledger-1", visibility=Visibility(family=True), rotation=90).document
        fields = {loss.field for loss in sink.losses(doc)}
        assert {"title", "visibility", "taken_at", "license", "rotation", "geo.accuracy"} <= fields
        album = Container("album", SOURCE, "a", title="A", members=["x", "y"])
        assert any("by date only" in loss.reason for loss in sink.losses(album))
        assert [loss.field for loss in sink.losses(Container("collection", SOURCE, "c", title="C"))] == [None]


def test_two_documents_with_the_same_file_share_one_asset_and_say_so(harness):
    with ImmichSandbox() as sb:
        sink = harness.sink(ImmichSink, options(sb))
        data = item("twin-a").original.data
        first = harness.store(sink, item("twin-a", data=data))
        second = harness.store(sink, item("twin-b", data=data))
        assert first.ref == second.ref and len(sb.state()["assets"]) == 1 and sb.calls["upload"] == 1
        assert not first.warnings and f"the same file as {SOURCE}:twin-a" in second.warnings[0]


def test_a_full_disk_is_a_lost_upload_that_says_where_to_look(harness):
    with ImmichSandbox() as sb:
        sb.knobs.disk_full = True  # Immich answers 500 "Internal server error", nothing stored
        sink = harness.sink(ImmichSink, options(sb))
        with pytest.raises(TransientError, match="free disk space"):
            harness.store(sink, item("full-1"))
        sb.knobs.disk_full = False
        assert store(harness, sink, item("full-1")).status == "new" and len(sb.state()["assets"]) == 1


def test_reads_wait_out_5xx_bursts_and_a_slow_server(harness):
    with ImmichSandbox() as sb:
        sb.knobs.burst(2, 503)
        sb.knobs.latency = 0.05
        sink = harness.sink(ImmichSink, options(sb))  # server.version answered the third time
        assert sb.calls["server.version"] == 3
        sb.knobs.burst(1, "reset")  # the look-up's connection dropped: asked again, nothing uploaded twice
        assert harness.store(sink, item("slow-1")).status == "new"
        assert sb.calls["assets.check"] == 2 and len(sb.state()["assets"]) == 1

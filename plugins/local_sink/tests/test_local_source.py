"""The local source: replaying this sink's backups exactly, and flip and flickrmirrorer folders."""

from __future__ import annotations

import json

import pytest
from local_helpers import FLIP, flip_doc, make_flip, make_item, make_mirror, make_sink, make_source, mem_doc, write_json

from migrator import AlbumRef, Container, Geo, Visibility
from migrator.errors import DocumentError, UsageError

RICH = {"description": "<b>HTML</b> &amp; kept\n  ", "tags": ["a tag", "ns:pred=value"], "safety": 2,
        "license": "CC-BY-2.0", "geo": {"latitude": 48.858370123, "longitude": 2.294481, "accuracy": 16},
        "albums": [{"id": "a1", "title": "../Album", "position": 1}], "position": 3,
        "comments": [{"id": "c1", "author": "bob", "posted_at": "2020-01-01T00:00:00Z", "text": "wow \U0001f4f7",
                      "parent_id": None}],
        "notes": [{"id": "n1", "author": "me", "text": "here", "x": 1, "y": 2, "width": 3, "height": 4}],
        "source_metadata": {"raw": {"nested": [1, 2.5, None, "Cafe\u0301"]}}, "posted_at": "2020-02-02T02:02:02Z",
        "updated_at": "2021-01-01T00:00:00Z", "visibility": {"public": False, "friends": True, "family": True}}


def test_round_trip_in_process_is_exact(tmp_path):
    sink = make_sink(tmp_path / "out")
    items = [make_item("1", b"\x00\xffbytes", title="Cafe\u0301 ../../x  ", **RICH),
             make_item("2", None, title="no bytes"), make_item("3", b"", title="empty file", media="other")]
    album = Container("album", "mem", "a1", "../Album", "desc", members=["3", "1"], position=2,
                      source_metadata={"k": "v"})
    coll = Container("collection", "mem", "c1", "C", members=["a1"], member_kind="container")
    for item in items:
        sink.store(item, None)
    sink.store_container(album, None)
    sink.store_container(coll, None)
    sink.finish()
    sink.close()

    source = make_source(tmp_path / "out")
    assert source.total() == 3
    loaded = {e.id: e.load() for e in source.entries()}
    for item in items:
        back = loaded[item.document.id]
        assert back.document == item.document
        if item.original is None:
            assert back.original is None
        else:
            with back.original.open() as stream:
                data = b"".join(iter(stream.read, b""))
            assert data == item.original._opener().read()
    assert list(source.containers()) == [album, coll]


def test_round_trip_through_the_cli(cli, home):
    docs = [mem_doc("1", **{k: v for k, v in RICH.items() if k != "position"}), mem_doc("2", title="two")]
    containers = [{"kind": "album", "id": "a1", "title": "../Album", "members": ["2", "1"]}]
    data = write_json(home / "docs.json", {"documents": docs, "containers": containers})
    out = home / "out"
    assert cli.backup(data, out).returncode == 0
    replay = home / "replay"
    result = cli("run", "local", "folder", "-o", f"local.path={out}", "-o", f"folder.path={replay}",
                 "--state", str(home / "state2.sqlite3"))
    assert result.returncode == 0, result.stderr
    for doc in docs:
        ours = next((out / "mem" / "2019").glob(f"*[[]{doc['id']}].json"))
        assert (replay / f"mem-{doc['id']}.json").read_text("utf-8") == ours.read_text("utf-8")
        assert (replay / f"mem-{doc['id']}.bin").read_bytes() == doc["content"].encode()
    album = json.loads((replay / "album-a1.json").read_text())
    assert album["members"] == ["2", "1"] and album["title"] == "../Album"


def test_flip_folder_replays_every_document(tmp_path):
    root = make_flip(tmp_path / "flip", FLIP)
    source = make_source(root)
    entries = list(source.entries())
    assert [(e.source, e.id) for e in entries] == [("ipernity", "101"), ("ipernity", "102"), ("ipernity", "103")]
    items = {e.id: e.load() for e in entries}
    doc = items["101"].document
    assert (doc.title, doc.description, doc.media) == ("Tour <Eiffel> & co", "<b>nice</b>", "photo")
    assert (doc.taken_at, doc.taken_granularity) == ("2009-07-14T21:30:00", "second")
    assert doc.visibility == Visibility(public=True, friends=True, family=True)
    assert doc.albums == [AlbumRef("flip-album:Paris", "Paris", 1), AlbumRef("flip-album:Best", "Best", 1)]
    assert (doc.file.ext, doc.file.size) == ("jpg", 12) and doc.source_metadata["flip"]["docid"] == "101"
    assert items["102"].document.taken_at is None and items["102"].document.visibility.public is False
    assert items["103"].document.taken_granularity == "month" and items["103"].document.media == "video"
    assert items["103"].document.albums == [AlbumRef("flip-album:Paris", "Paris", 2)]
    with items["103"].original.open() as stream:
        assert stream.read() == b"a movie"
    albums = {c.id: c for c in source.containers()}
    assert albums["flip-album:Paris"].members == ["101", "103"] and albums["flip-album:Best"].members == ["101"]


def test_a_file_with_the_wrong_size_fails_by_name(tmp_path):
    root = make_flip(tmp_path / "flip", [(flip_doc("104", b"x" * 99), b"truncated")])
    entry = next(make_source(root).entries())
    with pytest.raises(DocumentError, match=r"104\.jpg"):
        entry.load()


def test_an_empty_folder_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError):
        make_source(tmp_path / "empty")


def test_flickrmirrorer_folder_replays_every_document(tmp_path):
    source = make_source(make_mirror(tmp_path / "mirror"))
    items = {e.id: e.load() for e in source.entries()}
    assert sorted(items) == ["201", "202", "203"]
    bridge = items["201"].document
    assert (bridge.source, bridge.title, bridge.description) == ("flickr", "Bridge", "Over <i>water</i>")
    assert bridge.tags == ["bridge", "london", "ns:pred=value"]
    assert (bridge.taken_at, bridge.taken_granularity) == ("2009-12-31T23:59:59", "second")
    assert (bridge.posted_at, bridge.updated_at) == ("2010-01-01T00:00:00Z", "2011-03-13T07:06:40Z")
    assert bridge.visibility == Visibility(public=True, friends=False, family=True)
    assert bridge.license == "CC-BY-2.0" and bridge.geo == Geo(51.5, -0.12, 16)
    assert bridge.albums == [AlbumRef("301", "Trip", 2)] and bridge.source_metadata["people.getPhotos"]["id"] == "201"
    video = items["202"].document
    assert (video.media, video.taken_granularity, video.geo, video.license) == ("video", "month", None, "CC0-1.0")
    assert video.file.name == "202_abcdef.mp4" and video.albums == [AlbumRef("301", "Trip", 1)]
    assert items["203"].document.taken_granularity == "circa" and not items["203"].document.visibility.public
    with items["202"].original.open() as stream:
        assert stream.read() == b"content of 202_abcdef.mp4"
    containers = {c.id: c for c in source.containers()}
    assert containers["301"].members == ["202", "201"] and containers["301"].kind == "album"
    assert containers["401"].members == ["402"] and containers["401"].member_kind == "container"
    assert containers["402"].members == ["301"] and containers["402"].parent == "401"

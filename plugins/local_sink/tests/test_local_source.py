"""The local source: replaying this sink's backups exactly (other tools' folders: the plugins that read them)."""

from __future__ import annotations

import json

import pytest
from local_helpers import make_item, make_sink, make_source, mem_doc, write_json

from migrator import Container
from migrator.errors import UsageError

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


def test_an_empty_folder_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError):
        make_source(tmp_path / "empty")

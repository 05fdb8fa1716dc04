"""`migrator run local local`: one backup folder copied into another, each role pointed at its own place."""

from __future__ import annotations

import json

from local_helpers import mem_doc, write_json


def sidecars(root):
    return {p.relative_to(root): json.loads(p.read_text("utf-8")) for p in root.glob("mem/*/*.json")}


def test_a_backup_is_copied_into_another_folder_with_every_record_and_album(cli, home):
    docs = [mem_doc("1", description="<b>HTML</b> &amp; kept", tags=["a tag", "ns:pred=value"]),
            mem_doc("2", title="two")]
    containers = [{"kind": "album", "id": "a1", "title": "Trip", "members": ["2", "1"]}]
    first, second = home / "first", home / "second"
    assert cli.backup(write_json(home / "docs.json", {"documents": docs, "containers": containers}),
                      first).returncode == 0
    args = ("run", "local", "local", "-o", f"local.source.path={first}", "-o", f"local.sink.path={second}",
            "--state", str(home / "copy.sqlite3"))
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert sidecars(second) == sidecars(first) and len(sidecars(second)) == 2
    originals = list(first.glob("mem/2019/*.jpg"))
    assert len(originals) == 2
    for original in originals:
        assert (second / original.relative_to(first)).read_bytes() == original.read_bytes()
    album = sorted(p.relative_to(first) for p in (first / "mem" / "Albums").rglob("*"))
    assert len(album) == 4 and sorted(p.relative_to(second) for p in (second / "mem" / "Albums").rglob("*")) == album
    assert json.loads((second / album[-1]).read_text()) == json.loads((first / album[-1]).read_text())
    again = cli(*args)
    assert again.returncode == 0 and "2 listed, 2 unchanged;" in again.stdout  # nothing new


def test_one_folder_as_both_source_and_sink_is_refused(cli, home):
    out = home / "out"
    assert cli.backup(write_json(home / "docs.json", {"documents": [mem_doc("1")]}), out).returncode == 0
    result = cli("run", "local", "local", "-o", f"local.path={out}", "--state", str(home / "s.sqlite3"))
    assert result.returncode == 2
    assert "local would read and write the same place" in result.stderr and "local.source." in result.stderr
    assert "Traceback" not in result.stderr

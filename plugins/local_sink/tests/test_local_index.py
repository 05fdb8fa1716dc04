"""The on-disk index (`.migrator/index.sqlite3`): a normal open reads no sidecar, a lost, damaged or older
index is rebuilt from the sidecars, a kill between a document's files and its row converges, and a
document's files and folder are synced before its row is written and `store()` returns."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from local_helpers import make_item, make_sink, mem_doc, write_json
from migrator_local import index as index_module
from migrator_local.albums import Albums
from migrator_local.links import Linker

from migrator import Container
from migrator.testing.cli import patched_cli


def backup_of(out: Path, count: int = 3) -> None:
    sink = make_sink(out)
    for n in range(1, count + 1):
        sink.store(make_item(str(n), f"bytes {n}".encode()), None)
    sink.store_container(Container("album", "mem", "a1", "Trip", members=["1"]), None)
    sink.finish()
    sink.close()


def no_sidecar_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(tree: object) -> None:
        raise AssertionError("the year folders were listed")

    monkeypatch.setattr(index_module, "sidecars", refuse)
    monkeypatch.setattr(index_module, "read_sidecar", refuse)


def rows(out: Path) -> list[tuple]:
    db = sqlite3.connect(out / ".migrator" / "index.sqlite3")
    try:
        return db.execute("SELECT source, id, stem, ext, size, sha256, md5 FROM docs ORDER BY id").fetchall()
    finally:
        db.close()


def test_a_normal_open_reads_no_sidecar(tmp_path, monkeypatch):
    out = tmp_path / "out"
    backup_of(out)
    no_sidecar_listing(monkeypatch)
    sink = make_sink(out)
    assert sink.index.get("mem", "2").ref == "mem/2019/2019-05-01 Photo 2 [2].jpg"
    sink.close()


def test_an_open_after_a_run_that_did_not_close_checks_the_sidecars(tmp_path, monkeypatch):
    out = tmp_path / "out"
    sink = make_sink(out)
    monkeypatch.setattr(sink.index, "put", lambda *args: None)  # killed before the row was written
    sink.store(make_item("1"), None)
    sink.index._db.close()  # a kill: no close(); the process and its locks are gone
    (out / ".migrator" / "folder.lock").unlink()
    again = make_sink(out)
    assert again.index.unclean and again.index.get("mem", "1").stem == "mem/2019/2019-05-01 Photo 1 [1]"


def test_a_lost_damaged_or_older_index_gives_the_same_entries(tmp_path):
    out = tmp_path / "out"
    backup_of(out)
    before = rows(out)
    meta = out / ".migrator"
    (meta / "index.sqlite3").unlink()
    make_sink(out).close()  # lost: rebuilt from the sidecars (sizes and hashes are learnt again on use)
    assert [r[:4] for r in rows(out)] == [r[:4] for r in before]

    (meta / "index.sqlite3").write_bytes(b"garbage " * 1000)
    make_sink(out).close()  # damaged: the same
    assert [r[:4] for r in rows(out)] == [r[:4] for r in before]

    (meta / "index.sqlite3").unlink()  # an older migrator's index.json: converted whole, then removed
    documents = {"mem": {i: {"stem": stem, "ext": ext, "size": size, "sha256": sha, "md5": md5}
                         for _, i, stem, ext, size, sha, md5 in before}}
    write_json(meta / "index.json", {"format": "migrator-local", "version": 1, "documents": documents,
                                     "containers": {"mem": {"album:a1": {"dir": "mem/Albums/Trip [a1]",
                                                                         "members": ["1"]}}}})
    sink = make_sink(out)
    assert not (meta / "index.json").exists()
    assert sink.index.container("mem", "album", "a1")["members"] == ["1"]
    sink.close()
    assert rows(out) == before  # sizes and hashes too


def test_an_index_json_written_by_an_older_migrator_later_is_converted_again(tmp_path):
    out = tmp_path / "out"
    backup_of(out)
    stem = "mem/2019/2019-05-01 Photo 1 [1]"
    write_json(out / ".migrator" / "index.json", {"format": "migrator-local", "version": 1, "documents": {
        "mem": {"1": {"stem": stem, "ext": "jpg", "size": 7, "sha256": "ab" * 32}}}, "containers": {}})
    sink = make_sink(out)
    assert sink.index.get("mem", "1").sha256 == "ab" * 32  # what the older migrator knew last
    assert sink.index.get("mem", "3").stem == "mem/2019/2019-05-01 Photo 3 [3]"  # the rest from the sidecars


KILL_AT_THE_ROW = patched_cli("""
import os, sys
from migrator_local.index import Index

real_put = Index.put
def put(self, source, doc_id, entry):
    if doc_id == "2":
        os._exit(9)  # the document's files are on disk, its row never comes
    return real_put(self, source, doc_id, entry)

Index.put = put
""")


def test_a_kill_between_the_files_and_the_row_converges_without_duplicates(cli, home):
    docs = [mem_doc("1"), mem_doc("2"), mem_doc("3")]
    data = write_json(home / "docs.json", {"documents": docs, "containers": []})
    out = home / "out"
    script = home / "killer.py"
    script.write_text(KILL_AT_THE_ROW)
    assert cli.backup(data, out, "--jobs", "1", script=script).returncode == 9  # killed at document 2's row
    folder = out / "mem" / "2019"
    assert (folder / "2019-05-01 Photo 2 [2].jpg").exists() and (folder / "2019-05-01 Photo 2 [2].json").exists()
    docs[1]["title"] = "Renamed since"  # the name layout would now give is another one
    write_json(data, {"documents": docs, "containers": []})
    assert cli.backup(data, out).returncode == 0
    assert cli.report()["bytes"] == len(docs[2]["content"])  # doc 2's file was found, only doc 3 downloaded
    assert sorted(p.name for p in folder.glob("*[[]2].*")) == ["2019-05-01 Photo 2 [2].jpg",
                                                               "2019-05-01 Photo 2 [2].jpg.xmp",
                                                               "2019-05-01 Photo 2 [2].json"]
    assert "Renamed since" in (folder / "2019-05-01 Photo 2 [2].json").read_text("utf-8")
    assert cli.backup(data, out).returncode == 0 and cli.report()["counts"]["unchanged"] == 3


NO_SIDECAR_READ = patched_cli("""
import sys
import migrator_local.index as index

def refuse(*args):
    raise SystemExit("a sidecar was read or a year folder listed")

index.sidecars = index.read_sidecar = refuse
""")


def test_a_no_change_rerun_reads_no_sidecar(cli, home):
    docs = [mem_doc(str(n)) for n in range(1, 6)]
    albums = [{"kind": "album", "id": "a1", "title": "Trip", "members": ["1", "2"]}]
    data = write_json(home / "docs.json", {"documents": docs, "containers": albums})
    out = home / "out"
    assert cli.backup(data, out).returncode == 0
    script = home / "refuse.py"
    script.write_text(NO_SIDECAR_READ)
    result = cli.backup(data, out, script=script)
    assert result.returncode == 0, result.stderr
    assert cli.report()["bytes"] == 0 and cli.report()["counts"]["unchanged"] == 5


def test_store_returns_after_the_folder_sync_and_writes_the_row_last(tmp_path, monkeypatch):
    sink = make_sink(tmp_path / "out")
    events: list[str] = []
    real_fsync, real_put = os.fsync, sink.index.put

    def fsync(fd: int) -> None:
        real_fsync(fd)
        events.append(Path(os.readlink(f"/proc/self/fd/{fd}")).name)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(sink.index, "put", lambda *args: (events.append("row"), real_put(*args))[1])
    sink.store(make_item("1"), None)
    events.append("returned")
    stem = "2019-05-01 Photo 1 [1]"
    assert events == [f"{stem}.jpg.part", f"{stem}.json.part", f"{stem}.jpg.xmp.part", "2019", "row", "returned"]


def test_an_unchanged_rerun_touches_no_album_link(tmp_path, monkeypatch):
    out = tmp_path / "out"
    backup_of(out, 4)
    not_in_album = out / "mem" / "Not in any album"
    assert sorted(p.name for p in not_in_album.iterdir())[0] == "2019-05-01 Photo 2 [2].jpg"
    sink = make_sink(out)
    monkeypatch.setattr(Linker, "reconcile", lambda *a: pytest.fail("an album folder was rebuilt"))
    monkeypatch.setattr(Linker, "place", lambda *a: pytest.fail("a link was placed"))
    album = Container("album", "mem", "a1", "Trip", members=["1"])
    assert sink.store_container(album, None).status == "unchanged"
    sink.finish()
    sink.close()
    monkeypatch.undo()

    sink = make_sink(out)  # a new document: its link only
    monkeypatch.setattr(Albums, "_build_album", lambda *a: pytest.fail("rebuilt an album no member of which moved"))
    sink.store(make_item("5", b"five"), None)
    assert sink.store_container(album, None).status == "unchanged"
    sink.finish()
    sink.close()
    monkeypatch.undo()
    assert sorted(p.name.split(" [")[1] for p in not_in_album.iterdir()) == ["2].jpg", "3].jpg", "4].jpg", "5].jpg"]

    sink = make_sink(out)  # one document joins an album, one leaves one
    sink.store_container(Container("album", "mem", "a2", "Other", members=["2"]), None)
    sink.store_container(Container("album", "mem", "a1", "Trip", members=[]), None)
    sink.finish()
    assert sorted(p.name.split(" [")[1] for p in not_in_album.iterdir()) == ["1].jpg", "3].jpg", "4].jpg", "5].jpg"]
    assert json.loads((out / "mem" / "Albums" / "Trip [a1]" / "album.json").read_text())["ids"] == []

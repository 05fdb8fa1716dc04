"""The sink driven in process: clean stops, link fallbacks, documents without bytes, reuse."""

from __future__ import annotations

import errno
import io
import json
import os
import threading
from pathlib import Path

import pytest
from local_helpers import make_item, make_sink, make_source
from migrator_local import LocalSink

from migrator import Container
from migrator.errors import DocumentError, IntegrityError, ServiceStopped


def parts(root: Path) -> list[Path]:
    return list(root.rglob("*.part"))


def test_integrity_error_removes_the_part_and_propagates(tmp_path):
    sink = make_sink(tmp_path / "out")
    item = make_item("1", b"short", file={"ext": "jpg", "size": 999})
    with pytest.raises(IntegrityError):
        sink.store(item, None)
    assert not parts(tmp_path) and not list((tmp_path / "out" / "mem" / "2019").glob("*.jpg"))


class Interrupting(io.BytesIO):
    def read(self, n: int = -1) -> bytes:
        if self.tell():
            raise KeyboardInterrupt
        return super().read(4)


def test_ctrl_c_mid_stream_leaves_no_part(tmp_path):
    sink = make_sink(tmp_path / "out")
    with pytest.raises(KeyboardInterrupt):
        sink.store(make_item("1", b"0123456789", opener=lambda: Interrupting(b"0123456789")), None)
    sink.close()
    assert not parts(tmp_path)


def test_close_removes_parts_of_writes_in_progress(tmp_path):
    sink = make_sink(tmp_path / "out")
    started, release = threading.Event(), threading.Event()

    class Blocking(io.BytesIO):
        def read(self, n: int = -1) -> bytes:
            if self.tell():
                started.set()
                release.wait(10)
            return super().read(4)

    errors: list[BaseException] = []

    def work() -> None:
        try:
            sink.store(make_item("1", b"0123456789", opener=lambda: Blocking(b"0123456789")), None)
        except BaseException as exc:  # the part vanished under it: expected
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(10)
    assert parts(tmp_path)
    sink.close()
    assert not parts(tmp_path)
    release.set()
    thread.join(10)
    assert errors and not parts(tmp_path)


def test_documents_without_an_original_get_their_sidecars(tmp_path):
    sink = make_sink(tmp_path / "out")
    stored = sink.store(make_item("1", None, title="Words only"), None)
    assert stored.status == "new" and stored.ref == "mem/2019/2019-05-01 Words only [1].json"
    assert (tmp_path / "out" / stored.ref).exists() and not list((tmp_path / "out").rglob("*.xmp"))
    assert sink.store(make_item("1", None, title="Words only"), None).status == "unchanged"


def test_no_xmp_option(tmp_path):
    sink = make_sink(tmp_path / "out", xmp=False)
    stored = sink.store(make_item("1"), None)
    assert (tmp_path / "out" / stored.ref).exists() and not list((tmp_path / "out").rglob("*.xmp"))


def test_the_stored_file_is_named_as_a_local_copy_for_later_sinks(tmp_path):
    sink = make_sink(tmp_path / "out")
    stored = sink.store(make_item("1"), None)
    assert stored.local_copy == tmp_path / "out" / stored.ref
    assert stored.local_copy.read_bytes() == b"photo bytes"
    again = sink.store(make_item("1", opener=lambda: pytest.fail("network")), None)
    assert again.local_copy == stored.local_copy and again.sha256 == stored.sha256


def test_a_second_store_with_the_same_bytes_rewrites_nothing(tmp_path):
    sink = make_sink(tmp_path / "out")
    stored = sink.store(make_item("1"), None)
    path = tmp_path / "out" / stored.ref
    before = path.stat()
    again = sink.store(make_item("1", opener=lambda: pytest.fail("read")), None)
    assert again.status == "unchanged" and again.sha256 == stored.sha256
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # nothing announced at all: the bytes are read and compared, the file stays as it is
    third = sink.store(make_item("1", announce_size=False, file=None), None)
    assert third.status == "updated" and third.ref == stored.ref  # the sidecar changed (no file info)
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".xmp",
                                                             path.with_suffix(".json").name]


def fill_albums(sink: LocalSink) -> None:
    for doc_id in ("1", "2"):
        sink.store(make_item(doc_id, f"bytes {doc_id}".encode()), None)
    sink.store_container(Container("album", "mem", "a1", "Album", members=["2", "1", "9"]), None)
    sink.store_container(Container("collection", "mem", "c1", "Coll", members=["a1"], member_kind="container"), None)
    sink.finish()


@pytest.mark.parametrize("broken", [("symlink",), ("symlink", "link")])
def test_link_fallbacks_when_the_disk_has_no_symlinks(tmp_path, monkeypatch, broken):
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    for name in broken:
        monkeypatch.setattr(os, name, refuse)
    sink = make_sink(tmp_path / "out")
    assert sink.linker.mode == ("copy" if "link" in broken else "hardlink")
    fill_albums(sink)
    album = tmp_path / "out" / "mem" / "Albums" / "Album [a1]"
    first, second = sorted(p for p in album.iterdir() if p.name != "album.json")
    assert (first.name, second.name) == ("001 2019-05-01 Photo 2 [2].jpg", "002 2019-05-01 Photo 1 [1].jpg")
    original = tmp_path / "out" / "mem" / "2019" / "2019-05-01 Photo 2 [2].jpg"
    assert not first.is_symlink() and first.read_bytes() == b"bytes 2"
    assert (first.stat().st_ino == original.stat().st_ino) == ("link" not in broken)
    nested = tmp_path / "out" / "mem" / "Collections" / "Coll [c1]" / "001 Album [a1]"
    assert nested.is_dir() and not nested.is_symlink() and (nested / first.name).read_bytes() == b"bytes 2"
    fill_albums(sink)  # a rerun finds everything in place
    assert not parts(tmp_path)


def test_a_member_missing_from_the_backup_is_reported(tmp_path):
    sink = make_sink(tmp_path / "out")
    sink.store(make_item("1"), None)
    stored = sink.store_container(Container("album", "mem", "a1", "A", members=["1", "404"]), None)
    assert stored.status == "new" and "404" in stored.warnings[0]
    again = sink.store_container(Container("album", "mem", "a1", "A", members=["1", "404"]), None)
    assert again.status == "unchanged"


def test_sandbox_points_into_the_workdir(tmp_path):
    with LocalSink.sandbox(tmp_path) as values:
        assert values == {"path": str(tmp_path / "backup")}


def test_several_sources_share_a_folder_without_collisions(tmp_path):
    sink = make_sink(tmp_path / "out")
    refs = {sink.store(make_item("1", source.encode(), source=source), None).ref for source in ("mem", "flickr", "CON")}
    assert refs == {"mem/2019/2019-05-01 Photo 1 [1].jpg", "flickr/2019/2019-05-01 Photo 1 [1].jpg",
                    "_CON/2019/2019-05-01 Photo 1 [1].jpg"}
    assert sorted(e.source for e in make_source(tmp_path / "out").entries()) == ["CON", "flickr", "mem"]


def test_a_metadata_refresh_trusts_the_index_instead_of_rehashing(tmp_path, monkeypatch):
    import hashlib

    from migrator_local import adopt

    sink = make_sink(tmp_path / "out")
    md5 = hashlib.md5(b"photo bytes").hexdigest()
    first = sink.store(make_item("1", file={"ext": "jpg", "size": 11, "md5": md5}), None)
    monkeypatch.setattr(adopt, "digests", lambda path: pytest.fail(f"{path} was read again"))
    again = sink.store(make_item("1", title="new title", opener=lambda: pytest.fail("network"),
                                 file={"ext": "jpg", "size": 11, "md5": md5}), None)
    assert again.status == "updated" and again.ref == first.ref and again.sha256 == first.sha256


def test_a_hostile_index_is_ignored_not_followed(tmp_path):
    out = tmp_path / "out"
    (out / ".migrator").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x [1].jpg.part").write_bytes(b"not ours")
    (out / "evil").symlink_to(tmp_path / "elsewhere")
    index = {"format": "migrator-local", "version": 1,
             "documents": {"mem": {"1": {"stem": "../../elsewhere/x [1]", "ext": "jpg"},
                                   "2": {"stem": "evil/2019/x [2]", "ext": "jpg"}}},
             "containers": {"mem": {"album:a1": {"dir": "../../elsewhere", "members": ["1"]}}}}
    (out / ".migrator" / "index.json").write_text(json.dumps(index))
    sink = make_sink(out)
    assert sink.store(make_item("1"), None).ref == "mem/2019/2019-05-01 Photo 1 [1].jpg"
    with pytest.raises(DocumentError, match="symlink"):  # refused, never followed
        sink.store(make_item("2"), None)
    sink.store_container(Container("album", "mem", "a1", "A", members=["1"]), None)
    sink.finish()
    assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == ["x [1].jpg.part"]
    sink.close()
    (out / ".migrator" / "index.json").write_text("{ not json")
    assert make_sink(out).index.get("mem", "1").stem == "mem/2019/2019-05-01 Photo 1 [1]"  # rebuilt from sidecars


def test_a_full_disk_stops_the_run_cleanly(tmp_path, monkeypatch):
    from migrator_local import fsops

    sink = make_sink(tmp_path / "out")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "somewhere")

    monkeypatch.setattr(fsops.Writer, "write", full)
    with pytest.raises(ServiceStopped):
        sink.store(make_item("1"), None)
    monkeypatch.setattr(fsops.Writer, "write", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "denied")))
    with pytest.raises(DocumentError, match="denied"):
        sink.store(make_item("2"), None)

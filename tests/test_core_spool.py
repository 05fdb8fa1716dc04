"""migrator.spool: a listing kept on disk, read back in any order; originals as files for a sink."""

from __future__ import annotations

import io
import os

from hypothesis import given
from hypothesis import strategies as st

from migrator.records import Original
from migrator.spool import FileSpool, Spool

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12)


@given(st.lists(JSON, max_size=30))
def test_items_come_back_equal_forwards_backwards_and_by_index(items):
    spool = Spool()
    try:
        for item in items:
            spool.append(item)
        assert len(spool) == len(items)
        assert list(spool) == items
        assert list(reversed(spool)) == items[::-1]
        if items:
            assert spool[len(items) // 2] == items[len(items) // 2]
    finally:
        spool.close()


def test_text_with_newlines_and_any_unicode_stays_one_item():
    spool = Spool()
    hostile = ["line\nbreak\r\n", "\u2028\u2029", "nul\x00", "\U0001f600", {"k\n": ["v\n"]}]
    for item in hostile:
        spool.append(item)
    assert list(spool) == hostile
    spool.close()


def test_a_file_spool_sends_a_stored_copy_as_it_is_and_spools_a_stream_privately(tmp_path):
    gone = tmp_path / "x-spool-999999999"  # no process has that pid: a killed run's leftovers
    gone.mkdir()
    (gone / "half.jpg").write_bytes(b"half")
    running = tmp_path / f"x-spool-{os.getppid()}"  # a live process's folder stays
    running.mkdir()
    spool = FileSpool(tmp_path, "x-spool-")
    assert not gone.exists() and running.exists()
    assert spool.folder.stat().st_mode & 0o777 == 0o700

    stored = tmp_path / "stored.jpg"
    stored.write_bytes(b"copy")
    with spool.file_of(Original.from_file(stored, "stored")) as path:
        assert path == stored
    assert stored.exists()  # never removed: it is the earlier sink's copy

    with spool.file_of(Original(lambda: io.BytesIO(b"stream bytes"), "stream"), ".png") as path:
        assert path.parent == spool.folder and path.suffix == ".png" and path.read_bytes() == b"stream bytes"
    assert not path.exists()
    spool.close()
    assert not spool.folder.exists()

"""migrator.spool: a listing kept on disk, read back in any order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from migrator.spool import Spool

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

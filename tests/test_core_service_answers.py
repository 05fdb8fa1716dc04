"""The one set of defensive JSON readers (migrator.answers): what they accept, and that nothing breaks them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrator.answers import as_float, as_int, as_str, flag, items, obj, text

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8)


@given(JSON)
def test_no_reader_raises_and_each_returns_its_type(value):
    assert isinstance(obj(value), dict) and isinstance(items({"k": value}, "k"), list)
    assert as_int(value) is None or type(as_int(value)) is int
    assert as_float(value) is None or type(as_float(value)) is float
    assert isinstance(as_str(value), str) and isinstance(text(value), str) and isinstance(flag(value), bool)


@pytest.mark.parametrize("value", [1, "1", " 1 ", True, "true", "TRUE", "yes", "Yes", "on", 1.0, "2", -1])
def test_flag_true(value):
    assert flag(value) is True


@pytest.mark.parametrize("value", [0, "0", False, "false", "no", "off", "", None, [], {}, "junk", 0.5, "1.0"])
def test_flag_false(value):
    assert flag(value) is False


def test_as_int_reads_numbers_and_their_texts_only():
    assert as_int("12") == 12 and as_int(" 12 ") == 12 and as_int(12) == 12 and as_int(12.0) == 12
    assert as_int(True) == 1
    for junk in ("", "1.5", "²", "--5", None, [], {}, 1.5, "9" * 5000):
        assert as_int(junk) is None


def test_as_float_and_as_str():
    assert as_float("1.5") == 1.5 and as_float(2) == 2.0 and as_float(True) is None and as_float("x") is None
    assert as_str(5) == "5" and as_str(None) == "" and as_str([1]) == "" and as_str({"a": 1}) == ""


def test_text_unwraps_content():
    assert text({"_content": "hi"}) == "hi" and text({"_content": 5}) == "5" and text({}) == ""
    assert text("plain") == "plain" and text(None) == "" and text(7) == "7"


def test_obj_and_items_take_the_shapes_services_send():
    assert obj([]) == {} and obj("") == {} and obj({"a": 1}) == {"a": 1}
    assert items({"doc": {"id": "1"}}, "doc") == [{"id": "1"}]  # one item sent as the item itself
    assert items({"doc": [{"id": "1"}, "junk", 3]}, "doc") == [{"id": "1"}]
    assert items({"total": "0"}, "doc") == [] and items([], "doc") == [] and items({"doc": ""}, "doc") == []


@given(st.integers())
def test_whole_numbers_read_back_from_their_text(number):
    assert as_int(str(number)) == number and as_int(number) == number
    assert flag(number) == (number != 0) and flag(str(number)) == (number != 0)

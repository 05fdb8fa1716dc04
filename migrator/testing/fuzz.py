"""Hypothesis strategies for fuzzing a service's answer mapping (needs `hypothesis`, in the test extra).

A mapping must turn *any* parsed JSON answer into records that pass the schema, or fail that one
document with a DocumentError. These strategies build such answers: objects whose keys are the ones the
mapping reads (so random data reaches its branches), values of every JSON kind plus hostile texts::

    JUNK = junk(["title", "dates", "tags"])
    ANSWER = st.fixed_dictionaries({"id": mostly(DIGITS, JUNK)}, optional=dict.fromkeys(TOP_KEYS, JUNK))

    @FUZZ
    @given(ANSWER)
    def test_mapping(raw):
        maps_or_fails(lambda: mapping.document(raw))
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from ..errors import DocumentError
from .source import assert_valid_record

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))  # raise it for a long hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Texts that broke or could break a mapping: empty, NUL, lone surrogates, bidi, combining marks, emoji,
# paths, number-like junk, impossible dates, epoch values, overlong digits.
HOSTILE = ["", " ", "\x00", "\ud800", "a\udfffb", "\u202eevil", "e\u0301", "\U0001f600", "../../x", "null", "-1",
           "1e999", "NaN", "²", "--5", "١٢", "0000-00-00 00:00:00", "2019-02-30 25:61:61", "2019-05-01 10:20:30",
           "1262304000", "9" * 40, "photo", "video", "1", "0"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([10**400, -(10**30)]),
                    st.floats(), st.text(max_size=12), st.sampled_from(HOSTILE))
DIGITS = st.text("0123456789", min_size=1, max_size=6)


def junk(keys: list[str], extra_texts: list[str] | None = None) -> st.SearchStrategy:
    """Any JSON value; objects mostly use `keys`, texts include HOSTILE (and `extra_texts`)."""
    scalars = SCALARS | st.sampled_from(extra_texts) if extra_texts else SCALARS
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(keys) | st.text(max_size=4), inner, max_size=6)),
        max_leaves=8)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """`good` four times in five: an id must be usable for the mapping to go past its first check."""
    return st.integers(0, 4).flatmap(lambda n: bad if n == 0 else good)


def maps_or_fails(build: Callable[[], Any]) -> None:
    """The property: `build()` gives a record that passes the schema (and writes as UTF-8), or raises
    DocumentError; any other exception fails the test."""
    try:
        record = build()
    except DocumentError:
        event("DocumentError")
        return
    event("record")
    assert_valid_record(record)

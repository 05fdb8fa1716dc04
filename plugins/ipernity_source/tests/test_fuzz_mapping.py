"""Property-based fuzzing of the ipernity answer mapping: whatever doc.getList, doc.get, the comment pages
and the album calls answer, the mapping yields a record that passes migrator's JSON Schema (and can be
written as UTF-8), or fails this one document with a DocumentError: never any other exception."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from migrator_ipernity import mapping

from migrator import AlbumRef
from migrator.errors import DocumentError
from migrator.testing import assert_valid_record

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))  # raise it for a long hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The client hands the mapping objects (it drops whatever else a list holds); inside them anything goes.
# Keys the mapping reads, so random objects reach its branches; values are anything JSON can hold.
KEYS = ["doc_id", "media", "title", "description", "dates", "created", "posted_at", "last_update_at",
        "created_at", "visibility", "ispublic", "isfriend", "isfamily", "safety", "license", "geo", "lat", "lng",
        "accuracy", "tags", "tag", "type", "keyword", "notes", "note", "note_id", "username", "membername",
        "content", "x", "y", "w", "h", "original", "url", "ext", "bytes", "filename", "md5", "comment_id",
        "user_id", "parent_id", "album_id", "count", "docs"]
HOSTILE = ["", " ", "\x00", "\ud800", "a\udfffb", "\u202eevil", "e\u0301", "\U0001f600", "../../x", "null", "-1",
           "1e999", "NaN", "²", "--5", "١٢", "0000-00-00 00:00:00", "2019-02-30 25:61:61", "2019-05-01 10:20:30",
           "1262304000", "9" * 40, "photo", "1", "0"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([10**400, -(10**30)]),
                    st.floats(), st.text(max_size=12), st.sampled_from(HOSTILE))
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=6)),
    max_leaves=8)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """`good` four times in five: an id must be usable for the mapping to go past its first check."""
    return st.integers(0, 4).flatmap(lambda n: bad if n == 0 else good)


ID = mostly(st.text("0123456789", min_size=1, max_size=6), JUNK)
# Each top-level key present or not, holding junk (whose objects use the nested keys).
TOP = ["media", "title", "description", "dates", "visibility", "safety", "license", "geo", "tags", "notes",
       "original", "md5", "comment_id", "username", "user_id", "posted_at", "content", "parent_id"]
ANSWER = st.fixed_dictionaries({"doc_id": ID}, optional=dict.fromkeys(TOP, JUNK))
ALBUM = st.fixed_dictionaries({"album_id": ID}, optional=dict.fromkeys(TOP, JUNK))
ALBUM_REFS = st.lists(st.builds(AlbumRef, st.text(min_size=1), st.text(), st.none() | st.integers(1, 99)),
                      max_size=2)





@FUZZ
@given(listed=ANSWER, doc=ANSWER, comments=st.lists(ANSWER, max_size=3),
       position=st.none() | st.integers(), albums=ALBUM_REFS)
def test_any_document_answer_maps_to_a_valid_record_or_a_document_error(listed, doc, comments, position, albums):
    try:
        record = mapping.document(listed, doc, comments, position, albums)
    except DocumentError:
        event("DocumentError")
        return
    event("record")
    assert_valid_record(record)


@FUZZ
@given(listed=ALBUM, detail=ANSWER, members=st.lists(st.text(min_size=1), max_size=4),
       position=st.integers(1, 10**6))
def test_any_album_answer_maps_to_a_valid_container_or_a_document_error(listed, detail, members, position):
    try:
        record = mapping.album(listed, detail, members, position)
    except DocumentError:
        event("DocumentError")
        return
    event("record")
    assert_valid_record(record)


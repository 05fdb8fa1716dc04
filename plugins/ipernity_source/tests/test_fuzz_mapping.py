"""Property-based fuzzing of the ipernity answer mapping: whatever doc.getList, doc.get, the comment pages
and the album calls answer, the mapping yields a record that passes migrator's JSON Schema (and can be
written as UTF-8), or fails this one document with a DocumentError: never any other exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from migrator_ipernity import mapping

from migrator import AlbumRef
from migrator.testing.fuzz import DIGITS, FUZZ, junk, maps_or_fails, mostly

# The client hands the mapping objects (it drops whatever else a list holds); inside them anything goes.
# Keys the mapping reads, so random objects reach its branches; values are anything JSON can hold.
KEYS = ["doc_id", "media", "title", "description", "dates", "created", "posted_at", "last_update_at",
        "created_at", "visibility", "ispublic", "isfriend", "isfamily", "safety", "license", "geo", "lat", "lng",
        "accuracy", "tags", "tag", "type", "keyword", "notes", "note", "note_id", "username", "membername",
        "content", "x", "y", "w", "h", "original", "url", "ext", "bytes", "filename", "md5", "comment_id",
        "user_id", "parent_id", "album_id", "count", "docs"]
JUNK = junk(KEYS)
ID = mostly(DIGITS, JUNK)
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
    maps_or_fails(lambda: mapping.document(listed, doc, comments, position, albums))


@FUZZ
@given(listed=ALBUM, detail=ANSWER, members=st.lists(st.text(min_size=1), max_size=4),
       position=st.integers(1, 10**6))
def test_any_album_answer_maps_to_a_valid_container_or_a_document_error(listed, detail, members, position):
    maps_or_fails(lambda: mapping.album(listed, detail, members, position))


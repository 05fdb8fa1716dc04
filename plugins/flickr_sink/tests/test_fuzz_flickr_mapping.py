"""Property-based fuzzing of the Flickr answer mapping: whatever people.getPhotos (alone, as a mirror saved
it, or with photos.getInfo), the comments, photosets.getList and collections.getTree answer, the mapping
yields records that pass
migrator's JSON Schema (and can be written as UTF-8), or fails with a DocumentError: never any other
exception."""

from __future__ import annotations

from hypothesis import event, given
from hypothesis import strategies as st
from migrator_flickr import mapping as fr

from migrator import AlbumRef, FileInfo
from migrator.testing import assert_valid_record
from migrator.testing.fuzz import DIGITS, FUZZ, junk, maps_or_fails, mostly

# Keys nested objects use, so random objects reach the mapping's branches.
KEYS = ["_content", "raw", "tag", "note", "posted", "taken", "takengranularity", "takenunknown", "lastupdate",
        "latitude", "longitude", "accuracy", "ispublic", "isfriend", "isfamily", "id", "title", "set",
        "collection", "x", "y", "w", "h", "author", "authorname", "datecreate", "media", "source", "label",
        "width", "height"]
JUNK = junk(KEYS, ["migrator:ipernity=12", "ns:pred=value"])


def answer(*keys: str) -> st.SearchStrategy:
    """An object with a mostly usable id and any of `keys`, each holding junk."""
    return st.fixed_dictionaries({"id": mostly(DIGITS, JUNK)},
                                 optional=dict.fromkeys(keys, JUNK))


LISTED = answer("title", "description", "dateupload", "lastupdate", "latitude", "longitude", "accuracy",
                "ispublic", "isfriend", "isfamily", "license", "media")
# a listing item with every extra, as flickrmirrorer saved it: mapped without photos.getInfo
LISTED_ALONE = answer("title", "description", "dateupload", "lastupdate", "latitude", "longitude", "accuracy",
                      "ispublic", "isfriend", "isfamily", "license", "media", "datetaken", "datetakengranularity",
                      "datetakenunknown", "tags", "machine_tags", "originalformat")
INFO = answer("title", "description", "dates", "tags", "location", "visibility", "safety_level", "license",
              "notes", "media")
COMMENT = answer("authorname", "author", "datecreate", "_content")
SET = answer("title", "description", "date_update", "date_create")
NODE = st.recursive(answer("title", "description", "set"),
                    lambda inner: st.builds(lambda node, kids: {**node, "collection": kids},
                                            answer("title", "description", "set"), st.lists(inner, max_size=2)),
                    max_leaves=4)
FILE = st.none() | st.builds(FileInfo, ext=st.none() | st.sampled_from(["jpg", "mp4"]),
                             size=st.none() | st.integers(0, 10**12))
ALBUM_REFS = st.lists(st.builds(AlbumRef, st.text(min_size=1), st.text(), st.none() | st.integers(1, 99)),
                      max_size=2)



@FUZZ
@given(listed=LISTED, info=INFO, comments=st.none() | st.lists(COMMENT, max_size=3),
       position=st.none() | st.integers(), albums=ALBUM_REFS, file=FILE,
       extra=st.none() | st.dictionaries(st.text(max_size=5), JUNK, max_size=2))
def test_any_photo_answer_maps_to_a_valid_record_or_a_document_error(listed, info, comments, position, albums,
                                                                     file, extra):
    maps_or_fails(lambda: fr.document(listed, info, comments, position, albums, file, extra))


@FUZZ
@given(listed=LISTED_ALONE, albums=ALBUM_REFS, file=FILE)
def test_any_listing_item_alone_maps_to_a_valid_record_or_a_document_error(listed, albums, file):
    maps_or_fails(lambda: fr.document(listed, None, None, None, albums, file))


@FUZZ
@given(raw=SET, members=st.lists(st.text(min_size=1), max_size=4), position=st.none() | st.integers(1, 10**6))
def test_any_photoset_answer_maps_to_a_valid_album_or_a_document_error(raw, members, position):
    maps_or_fails(lambda: fr.album(raw, members, position))


@FUZZ
@given(nodes=st.lists(NODE, max_size=3))
def test_any_collection_tree_maps_to_valid_collections(nodes):
    found = list(fr.collections(nodes))
    event(f"{min(len(found), 3)}+ collections")
    for record in found:
        assert_valid_record(record)

"""Property-based fuzzing of every backup reader of the `local` source: this sink's sidecars and album
files, flip's records, flickrmirrorer's photo, album and collection metadata.

Each example writes a small backup folder whose metadata is a valid file with fields replaced by junk
(wrong types, [] or "" for objects, huge or negative numbers, NaN, hostile unicode, nested junk), cut
short, or random bytes; then opens the source, loads every entry and reads every container. Property:
a record that passes migrator's JSON Schema, or a DocumentError for that one entry; never any other
exception, and opening the folder never fails.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from local_helpers import flip_doc, go_json, make_item, make_source, photo_meta
from migrator_local.albums import sidecar_json

from migrator import Container
from migrator.errors import DocumentError
from migrator.records import dumps
from migrator.testing import assert_valid_record

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))  # raise it for a long hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Keys of nested objects in the three formats, so random objects look like the real ones.
KEYS = ["_content", "id", "title", "description", "latitude", "longitude", "accuracy", "public", "friends",
        "family", "position", "author", "text", "posted_at", "parent_id", "x", "y", "width", "height", "name", "ext",
        "size", "md5", "sha256", "content_type", "schema", "kind", "source", "members", "container"]
HOSTILE = ["", " ", "\x00", "\u202eevil", "e\u0301", "\U0001f600", "../../x", "/etc/passwd", "null", "-1", "²",
           "0000-00-00 00:00:00", "2019-02-30 25:61:61", "2019-05-01T10:20:30", "2020-01-01T00:00:00Z",
           "1262304000", "9" * 40, "photo", "video", "jpg", "1", "0"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([10**400, -(10**30)]),
                    st.floats(), st.text(max_size=12), st.sampled_from(HOSTILE))
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=6)),
    max_leaves=8)
PHOTO = b"photo bytes"
CONTROL = {"mem": ("mem", "2"), "ipernity": ("ipernity", "102"), "flickr": ("flickr", "202")}  # always intact


def damaged(valid: dict[str, Any], keys: list[str]) -> st.SearchStrategy[bytes]:
    """The bytes of `valid` with some of `keys` replaced by junk or removed, or cut short, or random bytes.
    JSON's NaN and lone surrogate escapes come along: json.dumps writes them."""
    def edited(changes: dict[str, Any], removed: list[str]) -> bytes:
        data = {k: v for k, v in {**valid, **changes}.items() if k not in removed}
        return json.dumps(data, ensure_ascii=True).encode("utf-8")

    text = json.dumps(valid).encode("utf-8")
    mutated = st.builds(edited, st.dictionaries(st.sampled_from(keys), JUNK, max_size=4),
                        st.lists(st.sampled_from(keys), max_size=2))
    return st.one_of(mutated, mutated, st.integers(0, len(text)).map(lambda n: text[:n]), st.binary(max_size=80),
                     st.sampled_from([b'{"title": "\\ud800"}', b"\xef\xbb\xbf{}", b"[]", b"null", b"1e999"]))


def replay(root: Path, fuzzed: tuple[str, str], files: int) -> None:
    """Open `root` as a `local` source, load each entry and read each container; check the property, and
    that nothing is lost: the fuzzed document is listed, and each of the `files` metadata files written
    gives a record or a failing entry."""
    source = make_source(root)
    entries = list(source.entries())
    containers = list(source.containers())
    listed = {(e.source, e.id) for e in entries}
    assert fuzzed in listed and CONTROL[fuzzed[0]] in listed, listed
    assert len(entries) + len(containers) >= files
    for entry in entries:
        role = "fuzzed" if (entry.source, entry.id) == fuzzed else "other"
        try:
            item = entry.load()
        except DocumentError as exc:
            assert str(exc) and role == "fuzzed" or entry.id.startswith(("album:", "collection:")), str(exc)
            event(f"{role}: DocumentError")
            continue
        event(f"{role}: record")
        assert_valid_record(item.document)
    for container in containers:
        assert_valid_record(container)



def in_folder(build: Callable[[Path], None], fuzzed: tuple[str, str], files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "backup"
        root.mkdir()
        build(root)
        replay(root, fuzzed, files)


# -- this sink's sidecars and album files -----------------------------------------------------------
OWN = json.loads(dumps(make_item("1", PHOTO, title="Photo 1", tags=["a"], geo={"latitude": 1.5, "longitude": 2},
                                 albums=[{"id": "a1", "title": "Trip", "position": 1}]).document))
OWN_ALBUM = json.loads(sidecar_json(Container("album", "mem", "a1", "Trip", members=["1"]), []))


@FUZZ
@given(sidecar=damaged(OWN, [k for k in OWN if k != "kind"] + ["kind"]),
       album=damaged(OWN_ALBUM["container"], list(OWN_ALBUM["container"])))
def test_any_sidecar_or_album_file_gives_a_valid_record_or_a_document_error(sidecar, album):
    def build(root: Path) -> None:
        year, folder = root / "mem" / "2019", root / "mem" / "Albums" / "Trip [a1]"
        year.mkdir(parents=True)
        folder.mkdir(parents=True)
        (year / "2019-05-01 Photo 1 [1].json").write_bytes(sidecar)
        (year / "2019-05-01 Photo 1 [1].jpg").write_bytes(PHOTO)
        (year / "2019-05-01 Photo 2 [2].json").write_text(json.dumps({**OWN, "id": "2"}), "utf-8")
        (year / "2019-05-01 Photo 2 [2].jpg").write_bytes(PHOTO)
        (folder / "album.json").write_bytes(b'{"container": ' + album + b"}")  # cut or random: no JSON at all
    in_folder(build, ("mem", "1"), 3)


# -- flip's records -------------------------------------------------------------------------------
FLIP = flip_doc("101", PHOTO, albums=["Paris"])


@FUZZ
@given(record=damaged(FLIP, list(FLIP)))
def test_any_flip_record_gives_a_valid_record_or_a_document_error(record):
    def build(root: Path) -> None:
        (root / "ipernity_last_doc").write_text("2")
        (root / "101.json").write_bytes(record)
        (root / "101.jpg").write_bytes(PHOTO)
        (root / "102.json").write_text(go_json(flip_doc("102", PHOTO)), "utf-8")
        (root / "102.jpg").write_bytes(PHOTO)
    in_folder(build, ("ipernity", "101"), 2)


# -- flickrmirrorer's metadata --------------------------------------------------------------------
MIRROR_PHOTO = photo_meta("201", description={"_content": "d"}, latitude="51.5", longitude="-0.12", accuracy="16",
                          tags="a b", machine_tags="ns:pred=value")
MIRROR_ALBUM = {"id": "301", "title": {"_content": "Trip"}, "description": {"_content": ""}, "photos": ["201"],
                "date_update": "1300000001"}
MIRROR_COLLECTION = {"id": "401", "title": "World", "description": "", "set": [{"id": "301", "title": "Trip"}]}


@FUZZ
@given(photo=damaged(MIRROR_PHOTO, list(MIRROR_PHOTO)), album=damaged(MIRROR_ALBUM, list(MIRROR_ALBUM)),
       collection=damaged(MIRROR_COLLECTION, list(MIRROR_COLLECTION) + ["collection"]))
def test_any_flickrmirrorer_metadata_gives_a_valid_record_or_a_document_error(photo, album, collection):
    def build(root: Path) -> None:
        stream, album_dir = root / "photostream", root / "Albums" / "Trip - 301"
        world = root / "Collections" / "World - 401"
        for folder in (stream, album_dir, world):
            folder.mkdir(parents=True)
        (stream / "201.jpg").write_bytes(PHOTO)
        (stream / "201.jpg.metadata").write_bytes(photo)
        (stream / "202.jpg").write_bytes(PHOTO)
        (stream / "202.jpg.metadata").write_text(json.dumps(photo_meta("202")), "utf-8")
        (album_dir / "metadata").write_bytes(album)
        (world / "metadata").write_bytes(collection)
    in_folder(build, ("flickr", "201"), 4)

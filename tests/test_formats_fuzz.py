"""Property-based fuzzing of other tools' backup folders replayed by the `local` source with the plugins
that read them: flip's records, flickrmirrorer's photo, album and collection metadata (the property and
the junk: plugins/local_sink/tests/backup_fuzz.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import given

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"  # their test helpers (tests/ is no package)
sys.path[:0] = [str(PLUGINS / name / "tests") for name in ("local_sink", "ipernity_source", "flickr_sink")]
from backup_fuzz import FUZZ, PHOTO, damaged, in_folder  # noqa: E402
from flip_helpers import flip_doc, go_json  # noqa: E402
from mirror_helpers import photo_meta  # noqa: E402

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
    in_folder(build, ("ipernity", "101"), ("ipernity", "102"), 2)


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
    in_folder(build, ("flickr", "201"), ("flickr", "202"), 4)

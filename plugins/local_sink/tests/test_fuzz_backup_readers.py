"""Property-based fuzzing of this sink's backups replayed by the `local` source: sidecars and album files
(see backup_fuzz; other tools' folders: tests/test_formats_fuzz.py)."""

from __future__ import annotations

import json
from pathlib import Path

from backup_fuzz import FUZZ, PHOTO, damaged, in_folder
from hypothesis import given
from local_helpers import make_item
from migrator_local.albums import sidecar_json

from migrator import Container
from migrator.records import dumps

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
    in_folder(build, ("mem", "1"), ("mem", "2"), 3)

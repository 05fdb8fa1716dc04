"""flickrmirrorer's mirrors for tests: photostream files with their metadata, album and collection folders."""

from __future__ import annotations

import json
from pathlib import Path


def photo_meta(photo_id: str, **fields: object) -> dict:
    return {"id": photo_id, "owner": "1@N00", "secret": "s", "server": "1", "farm": 1, "title": f"Photo {photo_id}",
            "ispublic": 1, "isfriend": 0, "isfamily": 0, "description": {"_content": ""}, "license": "0",
            "dateupload": "1262304000", "datetaken": "2009-12-31 23:59:59", "datetakengranularity": "0",
            "datetakenunknown": "0", "lastupdate": "1300000000", "latitude": 0, "longitude": 0, "accuracy": 0,
            "tags": "", "machine_tags": "", "originalformat": "jpg", "media": "photo", **fields}


def make_mirror(root: Path) -> Path:
    stream = root / "photostream"
    stream.mkdir(parents=True)
    files = {"201.jpg": photo_meta("201", title="Bridge", description={"_content": "Over <i>water</i>"},
                                   license="4", isfamily=1, latitude="51.5", longitude="-0.12", accuracy="16",
                                   tags="bridge london nspredvalue", machine_tags="ns:pred=value"),
             "202_abcdef.mp4": photo_meta("202", media="video", datetakengranularity="4", license="9"),
             "203.jpg": photo_meta("203", datetakengranularity="8", ispublic=0)}
    for name, meta in files.items():
        (stream / name).write_bytes(f"content of {name}".encode())
        (stream / f"{name}.metadata").write_text(json.dumps(meta))
    album = root / "Albums" / "Trip - 301"
    album.mkdir(parents=True)
    (album / "metadata").write_text(json.dumps({"id": "301", "title": {"_content": "Trip"},
                                                "description": {"_content": "d"}, "photos": ["202", "201"],
                                                "date_update": "1300000001",
                                                "flickrmirrorer_album_metadata_version": 2}))
    (album / "1_202_abcdef.mp4").symlink_to("../../photostream/202_abcdef.mp4")
    world = root / "Collections" / "World - 401"
    europe = world / "Europe - 402"
    europe.mkdir(parents=True)
    (world / "metadata").write_text(json.dumps({"id": "401", "title": "World", "description": "",
                                                "collection": [{"id": "402", "title": "Europe"}]}))
    (europe / "metadata").write_text(json.dumps({"id": "402", "title": "Europe", "description": "eu",
                                                 "set": [{"id": "301", "title": "Trip", "description": "d"}]}))
    (europe / "Trip - 301").symlink_to("../../../Albums/Trip - 301")
    (root / "Not in any album").mkdir()
    (root / "Not in any album" / "203.jpg").symlink_to("../photostream/203.jpg")
    return root

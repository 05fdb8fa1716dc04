"""In-process helpers shared by the local plugin's tests (imported by name: conftest puts this folder on
sys.path, since pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from migrator_local import LocalSink, LocalSource

from migrator import Context, Document, Item, Original


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def mem_doc(doc_id: str, **fields: Any) -> dict[str, Any]:
    """A document for the jsonfile source (its bytes are `content`)."""
    return {"id": doc_id, "title": f"Photo {doc_id}", "taken_at": "2019-05-01T10:20:30",
            "taken_granularity": "second", "file": {"ext": "jpg"}, "content": f"bytes of {doc_id} " * 50,
            "updated_at": "2020-01-01T00:00:00Z", **fields}


def make_sink(path: Path, **config: Any) -> LocalSink:
    sink = LocalSink({"path": path, "xmp": True, **config}, Context("local", "sink"))
    sink.open()
    return sink


def make_source(path: Path) -> LocalSource:
    source = LocalSource({"path": path}, Context("local", "source"))
    source.open()
    return source


def exploding(label: str = "stream") -> Callable[[], io.BytesIO]:
    def opener() -> io.BytesIO:
        raise AssertionError(f"the {label} was read although the bytes were on disk")
    return opener


def make_item(doc_id: str, content: bytes | None = b"photo bytes", source: str = "mem", opener: Any = None,
              announce_size: bool = True, **fields: Any) -> Item:
    doc = Document.from_json({"schema": 1, "source": source, "id": doc_id, "title": f"Photo {doc_id}",
                              "taken_at": "2019-05-01T10:20:30", "taken_granularity": "second",
                              "file": {"ext": "jpg", "size": len(content) if content is not None else None},
                              **fields})
    if content is None:
        return Item(doc, None)
    size = (doc.file.size if doc.file and doc.file.size is not None else len(content)) if announce_size else None
    original = Original(opener or (lambda: io.BytesIO(content)), doc.key, size=size,
                        md5=doc.file.md5 if doc.file else None)
    return Item(doc, original)


# -- flip -----------------------------------------------------------------------------------------
def go_json(data: dict) -> str:
    """flip's Go json.Marshal: compact, with <, > and & escaped."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def flip_doc(doc_id: str, content: bytes, **fields: object) -> dict:
    return {"docid": doc_id, "originalurl": f"http://u.example/{doc_id}", "originalsize": len(content),
            "ext": "jpg", "media": "photo", "title": f"Doc {doc_id}", "description": "", "date": "2009-07-14 21:30:00",
            "albums": None, "family": False, "friends": False, "public": True, **fields}


def make_flip(root: Path, docs: list[tuple[dict, bytes]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ipernity_last_doc").write_text("3")
    for raw, content in docs:
        (root / f"{raw['docid']}.json").write_text(go_json(raw), "utf-8")
        (root / f"{raw['docid']}.{raw['ext']}").write_bytes(content)
    return root


FLIP = [(flip_doc("101", b"eiffel bytes", title="Tour <Eiffel> & co", description="<b>nice</b>",
                  albums=["Paris", "Best"], family=True, friends=True), b"eiffel bytes"),
        (flip_doc("102", b"undated", date="0000-00-00 00:00:00", public=False), b"undated"),
        (flip_doc("103", b"a movie", ext="mov", media="video", date="2010-05-00 00:00:00", albums=["Paris"]),
         b"a movie")]


# -- flickrmirrorer -------------------------------------------------------------------------------
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

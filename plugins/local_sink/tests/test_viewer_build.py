"""The offline viewer as the sink writes it: thumbnails from real images, placeholders for the rest, data
shards that cannot carry a script, and a refresh that rewrites only what changed. (Its page in a real
browser: tests/test_viewer_browser.py.)"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
from local_helpers import make_item, make_sink
from migrator_local.viewer.build import Viewer, album_shard
from PIL import Image

from migrator import Container

VIEWER = Path(".migrator") / "viewer"


def jpeg(width: int, height: int, orientation: int | None = None, color: str = "red") -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.new("RGB", (width, height), color).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 255, 200)).save(out, "PNG")
    return out.getvalue()


def backup(out: Path, items: list, containers: tuple[Container, ...] = (), **config) -> None:
    sink = make_sink(out, **config)
    try:
        for item in items:
            sink.store(item, None)
        for container in containers:
            sink.store_container(container, None)
        sink.finish()
    finally:
        sink.close()


def shard(path: Path) -> object:
    """The JSON a data shard hands to the page (the file must be exactly `viewer.take(name, JSON);`)."""
    text = path.read_text("ascii")
    head = f"viewer.take({json.dumps(path.stem)}, "
    assert text.startswith(head) and text.endswith(");\n")
    return json.loads(text[len(head):-3])


def month_docs(out: Path) -> dict[str, dict]:
    found = {}
    for path in (out / VIEWER / "data").glob("m-*.js"):
        found.update({doc["id"]: doc for doc in shard(path)})
    return found


def viewer_mtimes(out: Path) -> dict[Path, int]:
    files = [out / "index.html", *(p for p in (out / VIEWER).rglob("*") if p.is_file())]
    return {p: p.stat().st_mtime_ns for p in files if not p.name.startswith("viewer.sqlite3")}


def pictures() -> list:
    return [make_item("1", jpeg(400, 200, orientation=6), title="Turned"),  # EXIF: shown turned 90°
            make_item("2", png(300, 600), title="Tall", file={"ext": "png"}),
            make_item("3", b"not an image at all", title="Stub"),
            make_item("4", b"\x00\x00\x00\x18ftypmp42", title="Clip", media="video", file={"ext": "mp4"}),
            make_item("5", None, title="No file", file=None),
            make_item("6", jpeg(400, 200), title="Rotated by the service", rotation=270),
            # the camera's orientation and the service's rotation saying the same (the sandboxes' photos): once
            make_item("8", jpeg(400, 200, orientation=6), title="Turned by both", rotation=90)]


def test_thumbnails_from_real_images_and_placeholders_for_the_rest(tmp_path):
    out = tmp_path / "out"
    backup(out, pictures())
    docs = month_docs(out)
    assert set(docs) == {"1", "2", "3", "4", "5", "6", "8"}
    turned = out / unquote(docs["1"]["thumb"])
    with Image.open(turned) as image:
        assert image.format == "JPEG" and image.size == (160, 320)  # EXIF orientation applied, 320 px long side
    with Image.open(out / unquote(docs["2"]["thumb"])) as image:
        assert image.size == (160, 320)
    with Image.open(out / unquote(docs["6"]["thumb"])) as image:
        assert image.size == (160, 320)  # the service's rotation applied
    for key in ("thumb", "preview"):  # the rotation replaces the EXIF orientation: turned once, not twice
        with Image.open(out / unquote(docs["8"][key])) as image:
            assert image.width < image.height, key
    # a browser turns an <img> by its EXIF whatever the CSS says: a turned photo's page shows the upright preview
    assert docs["6"]["preview"] is not None and docs["8"]["preview"] is not None
    # undecodable bytes, a video, no original: no thumbnail (the page shows a placeholder), no failure
    assert docs["3"]["thumb"] is None and docs["3"]["file"] is not None
    assert docs["4"]["thumb"] is None and docs["4"]["media"] == "video"
    assert docs["5"]["thumb"] is None and docs["5"]["file"] is None
    assert docs["1"]["preview"] is None  # a small JPEG is shown as it is


def test_the_document_record_carries_what_the_page_shows(tmp_path):
    out = tmp_path / "out"
    item = make_item("7", jpeg(50, 50), title="Harbour #1 ? 100%", description="<b>bold</b> text",
                     tags=["sea", "été"], posted_at="2019-05-02T08:00:00Z", license="CC-BY-2.0",
                     visibility={"public": False, "friends": True, "family": True},
                     geo={"latitude": 48.8566, "longitude": 2.3522},
                     comments=[{"id": "c1", "author": "Ann", "posted_at": "2019-05-03T09:00:00Z", "text": "Nice"}],
                     source_metadata={"fallback": "Large 1024", "fallback_reason": "free account"},
                     file={"ext": "jpg", "name": "IMG_0001.JPG"})
    backup(out, [item])
    doc = month_docs(out)["7"]
    assert (doc["title"], doc["description"], doc["tags"]) == ("Harbour #1 ? 100%", "<b>bold</b> text", ["sea", "été"])
    assert (doc["taken"], doc["posted"], doc["license"]) == ("2019-05-01T10:20:30", "2019-05-02T08:00:00Z", "CC-BY-2.0")
    assert doc["visibility"] == "friends and family" and doc["geo"] == {"lat": 48.8566, "lon": 2.3522}
    assert doc["comments"] == [{"author": "Ann", "date": "2019-05-03T09:00:00Z", "text": "Nice"}]
    assert (doc["name"], doc["source"], doc["id"]) == ("IMG_0001.JPG", "mem", "7")
    assert doc["notes"] == ["saved from the Large 1024 rendition, not the original: free account"]
    # the original's relative URL: `#` and `%` of the title are escaped, the file is found by it
    assert "%23" in doc["file"] and "%25" in doc["file"]
    assert (out / unquote(doc["file"])).read_bytes() == jpeg(50, 50)
    assert (out / "mem" / "2019" / "2019-05-01 Harbour #1 _ 100% [7].jpg").is_file()


def test_hostile_text_stays_data_in_the_shards(tmp_path):
    out = tmp_path / "out"
    title = "</script><script>alert(1)</script>\u2028\u2029\"'`${x}"
    backup(out, [make_item("1", b"x", title=title, description="<img src=x onerror=alert(2)>")])
    (path,) = (out / VIEWER / "data").glob("m-*.js")
    raw = path.read_bytes()
    assert raw.isascii() and b"<" not in raw  # nothing in it reads as markup, whatever reads it
    assert shard(path)[0]["title"] == title  # the page gets the very text, to render as text
    html = (out / "index.html").read_text("utf-8")
    csp = html.split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0]
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp and "unsafe" not in csp
    assert "<script>" not in html.replace('<script src=".migrator/viewer/viewer.js"></script>', "")


def test_a_rerun_without_change_rewrites_nothing_and_a_change_rewrites_its_shards(tmp_path):
    out = tmp_path / "out"
    items = [make_item("1", jpeg(40, 30), title="May"),
             make_item("2", jpeg(40, 30, color="blue"), title="June", taken_at="2019-06-01T10:00:00"),
             make_item("3", jpeg(40, 30, color="green"), title="Old", taken_at="2001-01-01T10:00:00")]
    albums = (Container(kind="album", source="mem", id="a1", title="Trip", members=["2", "1"]),
              Container(kind="album", source="mem", id="a2", title="Old times", members=["3"]))
    backup(out, items, albums)
    before = viewer_mtimes(out)
    with pytest.MonkeyPatch.context() as mp:  # nothing stored: no record is even read again (cheap at 100,000)
        mp.setattr(Viewer, "_documents", lambda *a: pytest.fail("read the documents again"))
        mp.setattr(Viewer, "_albums", lambda *a: pytest.fail("read the albums again"))
        backup(out, items, albums)
    assert viewer_mtimes(out) == before, "a no-change rerun rewrote viewer files"

    items[0] = make_item("1", jpeg(40, 30), title="May, renamed")
    backup(out, items, albums)
    after = viewer_mtimes(out)
    rewritten = sorted(p.name for p in after if after[p] != before.get(p))
    album_a1 = album_shard("mem", "album:a1")
    assert rewritten == sorted([f"{album_a1}.js", "m-2019-05-0.js"]), rewritten
    assert month_docs(out)["1"]["title"] == "May, renamed"


def test_albums_keep_the_sources_order_with_cover_and_description(tmp_path):
    out = tmp_path / "out"
    items = [make_item(str(n), jpeg(20, 20), title=f"P{n}") for n in range(1, 5)]
    albums = (Container(kind="album", source="mem", id="b", title="Second", members=["4", "2"], position=2,
                        source_metadata={"album.get": {"cover": {"doc_id": "2"}}}),
              Container(kind="album", source="mem", id="a", title="First", description="<i>hi</i>", members=["3"],
                        position=1),
              Container(kind="album", source="mem", id="f", title="Set", members=["1", "3"], position=3,
                        source_metadata={"photoset": {"primary": "3"}}),  # Flickr names its cover so
              Container(kind="collection", source="mem", id="c", title="All", members=["a", "b"],
                        member_kind="container", position=4))
    backup(out, items, albums)
    listing = shard(out / VIEWER / "data" / "albums.js")
    assert [a["title"] for a in listing["albums"]] == ["First", "Second", "Set"]
    assert listing["albums"][0]["description"] == "<i>hi</i>" and listing["albums"][1]["cover"]["id"] == "2"
    assert listing["albums"][0]["cover"]["id"] == "3" and listing["albums"][2]["cover"]["id"] == "3"
    assert listing["collections"][0]["children"] == ["a", "b"]
    members = shard(out / VIEWER / "data" / f"{listing['albums'][1]['shard']}.js")
    assert [m["id"] for m in members] == ["4", "2"]


def test_a_lost_cache_rebuilds_the_same_files(tmp_path):
    out = tmp_path / "out"
    backup(out, pictures())
    before = viewer_mtimes(out)
    (out / VIEWER / "viewer.sqlite3").unlink()
    shutil.rmtree(out / VIEWER / "thumbs")
    backup(out, pictures())
    assert {p.name for p in viewer_mtimes(out)} == {p.name for p in before}
    assert all(viewer_mtimes(out)[p] == before[p] for p in before if "thumbs" not in p.parts)


def test_the_option_turns_the_viewer_off(tmp_path):
    out = tmp_path / "out"
    backup(out, pictures()[:1], viewer=False)
    assert not (out / "index.html").exists() and not (out / VIEWER).exists()


def test_someone_elses_index_html_is_never_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("<h1>my own page</h1>", "utf-8")
    sink = make_sink(out)
    sink.store(pictures()[0], None)
    sink.finish()
    sink.close()
    assert (out / "index.html").read_text("utf-8") == "<h1>my own page</h1>"
    assert any("is not migrator's viewer" in w for w in sink.context.warnings)
    assert (out / VIEWER / "data" / "manifest.js").is_file()


def test_changes_of_a_run_stopped_before_its_end_or_made_with_the_viewer_off_reach_the_viewer(tmp_path):
    out = tmp_path / "out"
    backup(out, [make_item("1", jpeg(20, 20), title="First")])
    sink = make_sink(out)  # a run stopped (Ctrl-C) after storing a change, before finish()
    sink.store(make_item("1", jpeg(20, 20), title="Second"), None)
    sink.close()
    backup(out, [make_item("1", jpeg(20, 20), title="Second")])  # nothing new for the sink
    assert month_docs(out)["1"]["title"] == "Second"
    backup(out, [make_item("1", jpeg(20, 20), title="Third")], viewer=False)
    assert month_docs(out)["1"]["title"] == "Second"  # left as it was
    backup(out, [make_item("1", jpeg(20, 20), title="Third")])
    assert month_docs(out)["1"]["title"] == "Third"


def test_a_whole_build_says_how_far_it_got_and_a_small_update_says_nothing(tmp_path, monkeypatch, caplog):
    # on a large backup the first build makes a thumbnail per photo for minutes: it must not look stuck
    from migrator_local.viewer import build
    monkeypatch.setattr(build, "CHUNK", 1)
    monkeypatch.setattr(build, "SAY_EVERY", 2)
    out = tmp_path / "out"
    caplog.set_level("INFO", logger="migrator")
    backup(out, [make_item(str(n), jpeg(40, 30), title=f"Photo {n}") for n in range(5)])
    said = [r.getMessage() for r in caplog.records if "documents read" in r.getMessage()]
    assert said == ["local: viewer: 2 documents read, their thumbnails made",
                    "local: viewer: 4 documents read, their thumbnails made"]
    caplog.clear()
    backup(out, [make_item("9", jpeg(40, 30), title="One more")])
    assert not [r for r in caplog.records if "documents read" in r.getMessage()]

"""Names built from remote data: safe, NFC, short enough, never a way out of the folder."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET

import pytest
from migrator_local import layout, xmp

from migrator import Document

HOSTILE = ["../../x", "/etc/passwd", "..", ".", "", "a\\b\\..\\c", "con", "CON.txt", "LPT1 .jpg", "nul.tar.gz",
           "com\u00b9", "name. . ", "\x00\x01evil\nname\t", "photo\u202egpj.exe", "Cafe\u0301", ".hidden",
           "\ud800lone", "a" * 400, "\U0001f4f7" * 100, "é" * 300, "<>:\"|?*"]


def assert_safe(name: str) -> None:
    assert name not in ("", ".", "..")
    assert "/" not in name and "\\" not in name and "\0" not in name
    assert len(name.encode("utf-8")) <= 255
    assert unicodedata.normalize("NFC", name) == name
    assert not any(unicodedata.category(ch) == "Cc" for ch in name)
    assert "\u202e" not in name
    assert name == name.rstrip(" .") and not name.startswith((".", " "))
    assert name.split(".")[0].rstrip().upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1", "COM\u00b9"}


@pytest.mark.parametrize("text", HOSTILE)
def test_components_are_safe(text: str) -> None:
    assert_safe(layout.safe_component(text))
    assert_safe(layout.token(text) if text else "x")


@pytest.mark.parametrize("title", HOSTILE)
def test_document_names_keep_id_and_extension(title: str) -> None:
    doc = Document("mem", "../42", title=title, taken_at="2019-05-01T10:20:30", taken_granularity="second")
    stem = layout.doc_stem(doc)
    assert_safe(stem)
    assert stem.endswith("]") and "[" in stem and stem.startswith("2019-05-01")
    for suffix in (".jpg", ".json", ".xmp", ".20240101-120000.jpg", f".{'x' * 16}.part"):
        assert len((stem + suffix).encode("utf-8")) <= 255
    assert_safe(layout.numbered(7, 1200, stem + ".jpg"))
    assert layout.numbered(7, 1200, "x").startswith("0007 ")


def test_ids_that_need_cleaning_never_collide() -> None:
    assert layout.token("a/b") != layout.token("a_b") != layout.token("a:b")
    assert layout.token("12345") == "12345"


@pytest.mark.parametrize(("raw", "ext"), [("/../../sh", "sh"), ("JPG", "jpg"), ("", "bin"), ("json", "json_"),
                                          ("x\x00y", "xy"), ("\u202egpj", "gpj")])
def test_extensions(raw: str, ext: str) -> None:
    doc = Document.from_json({"schema": 1, "source": "s", "id": "1", "file": {"ext": raw}})
    assert layout.ext_for(doc) == ext


def test_dates_follow_the_records_precision() -> None:
    def label(**fields: str) -> str | None:
        return layout.doc_date(Document("s", "1", **fields)).label

    assert label(taken_at="1950-01-01T00:00:00", taken_granularity="year") == "1950"
    assert label(taken_at="1980-06-01T00:00:00", taken_granularity="month") == "1980-06"
    assert label(posted_at="2020-02-03T04:05:06Z") == "2020-02-03"
    assert label(taken_at="../../../etc") is None
    assert layout.bucket(Document("s", "1", taken_at="not a date")) == "undated"


def test_xmp_parses_back_even_with_hostile_text() -> None:
    doc = Document.from_json({
        "schema": 1, "source": "s", "id": "1", "title": "</rdf:li><x>&amp; ]]> \x00\x07 \U0001f4f7",
        "description": "<b>HTML</b> & \"quotes\"", "tags": ["a tag", "ns:pred=value", "<t>"],
        "taken_at": "2019-05-01T10:20:30", "taken_granularity": "second", "license": "CC-BY-NC-SA-2.0",
        "geo": {"latitude": -33.8688, "longitude": 151.2093}})
    root = ET.fromstring(xmp.build(doc).decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    ns = xmp.NS
    desc = root.find("rdf:RDF/rdf:Description", ns)
    assert desc.find("dc:title/rdf:Alt/rdf:li", ns).text == "</rdf:li><x>&amp; ]]> \ufffd\ufffd \U0001f4f7"
    # the description is read as HTML (plain text in the XMP), machine tags are no keywords (issue 11)
    assert desc.find("dc:description/rdf:Alt/rdf:li", ns).text == 'HTML & "quotes"'
    assert [li.text for li in desc.findall("dc:subject/rdf:Bag/rdf:li", ns)] == ["a tag", "<t>"]
    assert desc.find("exif:DateTimeOriginal", ns).text == "2019-05-01T10:20:30"
    assert desc.find("xmp:CreateDate", ns).text == "2019-05-01T10:20:30"
    lat, lng = desc.find("exif:GPSLatitude", ns).text, desc.find("exif:GPSLongitude", ns).text
    assert lat.endswith("S") and lng.endswith("E")
    degrees, minutes = lat[:-1].split(",")
    assert abs(int(degrees) + float(minutes) / 60 - 33.8688) < 1e-6
    url = "https://creativecommons.org/licenses/by-nc-sa/2.0/"
    assert desc.find("cc:license", ns).get(f"{{{ns['rdf']}}}resource") == url
    assert desc.find("xmpRights:WebStatement", ns).text == url


def test_xmp_dates_keep_reduced_precision() -> None:
    assert xmp.xmp_date("1950-01-01T00:00:00", "circa") == "1950"
    assert xmp.xmp_date("1980-06-01T00:00:00", "month") == "1980-06"
    assert xmp.gps(0.99999999999, "N", "S") == "1,00.000000N"

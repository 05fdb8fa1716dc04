"""XMP sidecars so darktable, digiKam and Lightroom show titles, tags, dates, places and licenses.

Built with ElementTree, so markup in titles is escaped; characters XML 1.0 cannot hold at all (NUL and
most other controls, lone surrogates) become U+FFFD here only. The JSON sidecar keeps the exact text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from migrator import Document

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "cc": "http://creativecommons.org/ns#",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CC = re.compile(r"CC-(BY(?:-NC)?(?:-ND|-SA)?)-(\d\.\d)")
_PUBLIC = {"CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
           "public-domain-mark": "https://creativecommons.org/publicdomain/mark/1.0/"}
HEADER = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
FOOTER = '\n<?xpacket end="w"?>\n'

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def xml_text(text: object) -> str:
    return _NOT_XML.sub("\ufffd", text if isinstance(text, str) else str(text))


def license_url(license_id: str | None) -> str | None:
    """The deed URL of a Creative Commons or public-domain id (None for the rest)."""
    if not license_id:
        return None
    if license_id in _PUBLIC:
        return _PUBLIC[license_id]
    match = _CC.fullmatch(license_id)
    return f"https://creativecommons.org/licenses/{match[1].lower()}/{match[2]}/" if match else None


def gps(value: float, positive: str, negative: str) -> str:
    """XMP's GPS coordinate form `DDD,MM.mmmmmmK` (degrees, decimal minutes, direction)."""
    micro_minutes = round(abs(value) * 60 * 1_000_000)
    degrees, rest = divmod(micro_minutes, 60 * 1_000_000)
    return f"{degrees},{rest // 1_000_000:02d}.{rest % 1_000_000:06d}{positive if value >= 0 else negative}"


def xmp_date(taken_at: str | None, granularity: str | None) -> str | None:
    """XMP allows reduced precision: a year-only date stays a year."""
    if not isinstance(taken_at, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", taken_at):
        return None
    if granularity in ("year", "circa"):
        return taken_at[:4]
    if granularity == "month":
        return taken_at[:7]
    return taken_at


def _alt(parent: ET.Element, name: str, text: str) -> None:
    alt = ET.SubElement(ET.SubElement(parent, _q(name)), _q("rdf:Alt"))
    ET.SubElement(alt, _q("rdf:li"), {XML_LANG: "x-default"}).text = xml_text(text)


def _bag(parent: ET.Element, name: str, items: list[str]) -> None:
    bag = ET.SubElement(ET.SubElement(parent, _q(name)), _q("rdf:Bag"))
    for item in items:
        ET.SubElement(bag, _q("rdf:li")).text = xml_text(item)


def _simple(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, _q(name)).text = xml_text(text)


def _rights(desc: ET.Element, license_id: str) -> None:
    url = license_url(license_id)
    _simple(desc, "xmpRights:Marked", "False" if license_id in _PUBLIC else "True")
    _alt(desc, "xmpRights:UsageTerms", license_id)
    if url:
        _simple(desc, "xmpRights:WebStatement", url)
        ET.SubElement(desc, _q("cc:license"), {_q("rdf:resource"): url})


def build(doc: Document) -> bytes:
    """The XMP packet for one document, UTF-8."""
    meta = ET.Element(_q("x:xmpmeta"))
    desc = ET.SubElement(ET.SubElement(meta, _q("rdf:RDF")), _q("rdf:Description"), {_q("rdf:about"): ""})
    if doc.title:
        _alt(desc, "dc:title", doc.title)
    if doc.description:
        _alt(desc, "dc:description", doc.description)
    if doc.tags:
        _bag(desc, "dc:subject", doc.tags)
    date = xmp_date(doc.taken_at, doc.taken_granularity)
    if date:
        _simple(desc, "exif:DateTimeOriginal", date)
        _simple(desc, "xmp:CreateDate", date)
    if doc.geo is not None:
        _simple(desc, "exif:GPSVersionID", "2.2.0.0")
        _simple(desc, "exif:GPSLatitude", gps(doc.geo.latitude, "N", "S"))
        _simple(desc, "exif:GPSLongitude", gps(doc.geo.longitude, "E", "W"))
    if doc.license:
        _rights(desc, doc.license)
    ET.indent(meta, space=" ")
    return (HEADER + ET.tostring(meta, encoding="unicode") + FOOTER).encode("utf-8")

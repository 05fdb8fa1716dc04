"""XMP sidecars so darktable, digiKam and Lightroom show titles, tags, dates, places and licenses.

Built with ElementTree, so markup in titles is escaped; characters XML 1.0 cannot hold at all (NUL and
most other controls, lone surrogates) become U+FFFD here only. The JSON sidecar keeps the exact text.
What a photo manager shows differs from the record in three ways: the description (HTML at ipernity and
Flickr) becomes plain text, machine tags (`ns:pred=value`, bookkeeping) stay out of the keywords, and a
rotation becomes `tiff:Orientation`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from migrator import Document

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "cc": "http://creativecommons.org/ns#",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CC = re.compile(r"CC-(BY(?:-NC)?(?:-ND|-SA)?)-(\d\.\d)")
_PUBLIC = {"CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
           "public-domain-mark": "https://creativecommons.org/publicdomain/mark/1.0/"}
# EXIF orientation that shows the file turned clockwise by so many degrees (1, "as stored", is never written:
# it would override the orientation the camera put in the file)
ORIENTATION = {90: "6", 180: "3", 270: "8"}
MACHINE_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]*=.+$", re.S)
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


class _PlainText(HTMLParser):
    """HTML → readable text: <br> and block ends become line breaks, links `text (URL)`, entities decoded."""

    BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "blockquote", "pre", "table", "tr",
                        "h1", "h2", "h3", "h4", "h5", "h6"})
    HIDDEN = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, where the link's text starts in parts)
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))
        elif tag in self.HIDDEN:
            self.hidden += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and href != label:
                self.parts.append(f" ({href})" if label else href)
        elif tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def plain_text(html: str) -> str:
    """What a person reads in an HTML description, as plain text (line breaks kept, at most one blank line)."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t]+\n", "\n", "".join(parser.parts))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def keywords(tags: list[str]) -> list[str]:
    """The tags a person gave: machine tags (`ipernity:import=flickr`) are bookkeeping, kept in the JSON."""
    return [tag for tag in tags if not (isinstance(tag, str) and MACHINE_TAG.match(tag))]


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
    description = plain_text(doc.description) if isinstance(doc.description, str) else doc.description
    if description:
        _alt(desc, "dc:description", description)
    subjects = keywords(doc.tags)
    if subjects:
        _bag(desc, "dc:subject", subjects)
    orientation = ORIENTATION.get(doc.rotation) if isinstance(doc.rotation, int) else None
    if orientation:
        _simple(desc, "tiff:Orientation", orientation)
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

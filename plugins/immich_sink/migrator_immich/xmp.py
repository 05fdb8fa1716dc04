"""The XMP sidecar sent with an upload (`sidecarData`) when the server takes `.xmp` sidecars.

Immich keeps it beside the original and its metadata job reads it; it is also the one place the title
survives as a field of its own (dc:title), whatever `immich.title` says.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from migrator import Document

# XML 1.0 cannot hold these; a sidecar with them would be refused whole
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value), {'"': "&quot;"})


def _alt(name: str, value: str) -> str:
    return (f"   <{name}><rdf:Alt><rdf:li xml:lang=\"x-default\">{_text(value)}</rdf:li></rdf:Alt></{name}>\n"
            if value else "")


def sidecar(doc: Document, taken: str | None, tags: list[str]) -> bytes:
    subjects = "".join(f"     <rdf:li>{_text(tag)}</rdf:li>\n" for tag in tags)
    body = _alt("dc:title", doc.title or "") + _alt("dc:description", doc.description or "")
    if subjects:
        body += f"   <dc:subject><rdf:Bag>\n{subjects}   </rdf:Bag></dc:subject>\n"
    if taken:
        body += f"   <exif:DateTimeOriginal>{taken}</exif:DateTimeOriginal>\n"
    if doc.geo is not None:
        body += f"   <exif:GPSLatitude>{_gps(doc.geo.latitude, 'NS')}</exif:GPSLatitude>\n"
        body += f"   <exif:GPSLongitude>{_gps(doc.geo.longitude, 'EW')}</exif:GPSLongitude>\n"
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '    xmlns:exif="http://ns.adobe.com/exif/1.0/">\n'
            f"{body}"
            "  </rdf:Description>\n"
            " </rdf:RDF>\n"
            "</x:xmpmeta>\n"
            '<?xpacket end="w"?>\n').encode()


def _gps(value: float, hemispheres: str) -> str:
    """XMP's GPS form: degrees, decimal minutes and the hemisphere letter."""
    degrees, minutes = divmod(abs(value) * 60, 60)
    return f"{int(degrees)},{minutes:.6f}{hemispheres[0] if value >= 0 else hemispheres[1]}"

"""What a photo manager reads from the backup, through the real CLI (`migrator run jsonfile local`): the XMP's
rotation, plain-text description and keywords, its name under both `local.xmp_name` rules, and a change of
rule on an existing backup. The JSON sidecar keeps the record exactly."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from local_helpers import mem_doc, write_json
from migrator_local import xmp

HTML = ('<b>Bold</b> &amp; <i>co</i><br>second line<br/>third <a href="https://example.org/a?b=1&amp;c=2">our site</a>'
        '<p>A paragraph &eacute;t&eacute;</p><p>and another</p>')
PLAIN = "Bold & co\nsecond line\nthird our site (https://example.org/a?b=1&c=2)\n\nA paragraph été\n\nand another"


def xmp_of(path: Path) -> ET.Element:
    packet = path.read_text("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0]
    return ET.fromstring(packet).find("rdf:RDF/rdf:Description", xmp.NS)


def keywords(desc: ET.Element) -> list[str]:
    return [li.text for li in desc.findall("dc:subject/rdf:Bag/rdf:li", xmp.NS)]


def dataset() -> dict:
    return {"documents": [
        mem_doc("1", title="Turned", rotation=90, description=HTML, tags=["sea", "ipernity:import=flickr",
                                                                          "ns:pred=value", "two words"]),
        mem_doc("2", title="Upside", rotation=180),
        mem_doc("3", title="Left", rotation=270),
        mem_doc("4", title="Straight", description="plain text\nwith a newline & a < sign"),
    ], "containers": []}


def test_xmp_rotation_plain_description_and_keywords(cli, home):
    data = write_json(home / "docs.json", dataset())
    out = home / "out"
    result = cli.backup(data, out)
    assert result.returncode == 0, result.stderr
    folder = out / "mem" / "2019"
    orientations = {}
    for doc_id, title in (("1", "Turned"), ("2", "Upside"), ("3", "Left"), ("4", "Straight")):
        desc = xmp_of(folder / f"2019-05-01 {title} [{doc_id}].jpg.xmp")
        node = desc.find("tiff:Orientation", xmp.NS)
        orientations[doc_id] = node.text if node is not None else None
    # EXIF orientation: 6 = turn 90° clockwise to view, 3 = 180°, 8 = 90° counter-clockwise; none when upright
    assert orientations == {"1": "6", "2": "3", "3": "8", "4": None}

    turned = xmp_of(folder / "2019-05-01 Turned [1].jpg.xmp")
    assert turned.find("dc:description/rdf:Alt/rdf:li", xmp.NS).text == PLAIN
    assert keywords(turned) == ["sea", "two words"]  # machine tags are bookkeeping, not keywords
    sidecar = json.loads((folder / "2019-05-01 Turned [1].json").read_text("utf-8"))
    assert sidecar["description"] == HTML  # the exact original
    assert sidecar["rotation"] == 90
    assert sidecar["tags"] == ["sea", "ipernity:import=flickr", "ns:pred=value", "two words"]
    straight = xmp_of(folder / "2019-05-01 Straight [4].jpg.xmp")
    assert straight.find("dc:description/rdf:Alt/rdf:li", xmp.NS).text == "plain text\nwith a newline & a < sign"


def test_rotation_reads_back_through_the_local_source(cli, home):
    data = write_json(home / "docs.json", dataset())
    out, replay = home / "out", home / "replay"
    assert cli.backup(data, out).returncode == 0
    result = cli("run", "local", "folder", "-o", f"local.path={out}", "-o", f"folder.path={replay}",
                 "--state", str(home / "state2.sqlite3"))
    assert result.returncode == 0, result.stderr
    rotations = {doc_id: json.loads((replay / f"mem-{doc_id}.json").read_text("utf-8"))["rotation"]
                 for doc_id in "1234"}
    assert rotations == {"1": 90, "2": 180, "3": 270, "4": 0}


def test_a_version_1_sidecar_reads_as_upright(cli, home):
    """Sidecars written before records had a rotation (schema 1) still read, as rotation 0."""
    data = write_json(home / "docs.json", dataset())
    out, replay = home / "out", home / "replay"
    assert cli.backup(data, out).returncode == 0
    sidecar = out / "mem" / "2019" / "2019-05-01 Upside [2].json"
    old = json.loads(sidecar.read_text("utf-8"))
    old["schema"] = 1
    del old["rotation"]
    sidecar.write_text(json.dumps(old), "utf-8")
    result = cli("run", "local", "folder", "-o", f"local.path={out}", "-o", f"folder.path={replay}",
                 "--state", str(home / "state2.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert json.loads((replay / "mem-2.json").read_text("utf-8"))["rotation"] == 0


def test_xmp_name_rules_and_a_change_of_rule_renames_once(cli, home):
    data = write_json(home / "docs.json", dataset())
    out = home / "out"
    folder = out / "mem" / "2019"
    assert cli.backup(data, out, "-o", "local.xmp_name=stem").returncode == 0
    assert sorted(p.name for p in folder.glob("*.xmp")) == [
        "2019-05-01 Left [3].xmp", "2019-05-01 Straight [4].xmp", "2019-05-01 Turned [1].xmp",
        "2019-05-01 Upside [2].xmp"]

    # back to the default rule on the same backup: every XMP is renamed, none duplicated or lost
    lightroom_own = folder / "2019-05-01 Left [3].jpg.xmp"  # a name already taken is left alone
    lightroom_own.write_text("a photo manager's own sidecar", "utf-8")
    result = cli.backup(data, out)
    assert result.returncode == 0, result.stderr
    assert cli.report()["counts"]["unchanged"] == 4
    assert sorted(p.name for p in folder.glob("*.xmp")) == [
        "2019-05-01 Left [3].jpg.xmp", "2019-05-01 Left [3].xmp", "2019-05-01 Straight [4].jpg.xmp",
        "2019-05-01 Turned [1].jpg.xmp", "2019-05-01 Upside [2].jpg.xmp"]
    assert lightroom_own.read_text("utf-8") == "a photo manager's own sidecar"
    assert xmp_of(folder / "2019-05-01 Turned [1].jpg.xmp").find("tiff:Orientation", xmp.NS).text == "6"

    # an edited document is written under the rule, beside no second XMP
    raw = dataset()
    raw["documents"][0].update(title="Turned again", rotation=0, updated_at="2021-01-01T00:00:00Z")
    write_json(data, raw)
    assert cli.backup(data, out).returncode == 0
    turned = folder / "2019-05-01 Turned [1].jpg.xmp"  # names never follow a title change
    assert xmp_of(turned).find("tiff:Orientation", xmp.NS) is None
    assert not (folder / "2019-05-01 Turned [1].xmp").exists()


def test_an_older_backup_without_a_rule_is_full_and_adopted_by_stem(cli, home):
    """A backup written before the option (XMPs named `x.jpg.xmp`) switched to stem: renamed, not doubled."""
    data = write_json(home / "docs.json", dataset())
    out = home / "out"
    assert cli.backup(data, out).returncode == 0
    folder = out / "mem" / "2019"
    before = {p.name: p.read_bytes() for p in folder.glob("*.xmp")}
    assert len(before) == 4 and all(name.endswith(".jpg.xmp") for name in before)
    assert cli.backup(data, out, "-o", "local.xmp_name=stem").returncode == 0
    after = {p.name: p.read_bytes() for p in folder.glob("*.xmp")}
    assert after == {name.replace(".jpg.xmp", ".xmp"): content for name, content in before.items()}

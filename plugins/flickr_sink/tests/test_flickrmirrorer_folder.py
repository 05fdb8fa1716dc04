"""flickrmirrorer's mirrors, read by the `flickrmirrorer` folder format this plugin registers: photos map
through the Flickr mapper (as the `flickr` source's do), albums and collections from their folders, and
the photostream's originals are offered to the local sink for adoption. The reader is driven directly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from migrator_flickr.flickrmirrorer import MirrorBackup, MirrorOriginals

from migrator import AlbumRef, Geo, Visibility
from migrator.folders import Folder
from migrator.registry import load

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for `import mirror_helpers`
from mirror_helpers import make_mirror, photo_meta  # noqa: E402


def test_the_plugin_registers_the_format():
    assert MirrorBackup in load().folder_formats


def test_flickrmirrorer_folder_lists_every_document(tmp_path):
    folder = Folder(make_mirror(tmp_path / "mirror"))
    assert MirrorBackup.detect(folder)
    mirror = MirrorBackup(folder)
    items = {e.id: e.load() for e in mirror.documents()}
    assert sorted(items) == ["201", "202", "203"]
    bridge = items["201"].document
    assert (bridge.source, bridge.title, bridge.description) == ("flickr", "Bridge", "Over <i>water</i>")
    assert bridge.tags == ["bridge", "london", "ns:pred=value"]
    assert (bridge.taken_at, bridge.taken_granularity) == ("2009-12-31T23:59:59", "second")
    assert (bridge.posted_at, bridge.updated_at) == ("2010-01-01T00:00:00Z", "2011-03-13T07:06:40Z")
    assert bridge.visibility == Visibility(public=True, friends=False, family=True)
    assert bridge.license == "CC-BY-2.0" and bridge.geo == Geo(51.5, -0.12, 16)
    assert bridge.albums == [AlbumRef("301", "Trip", 2)] and bridge.source_metadata["people.getPhotos"]["id"] == "201"
    assert "photos.getInfo" not in bridge.source_metadata  # a mirror saved the listing only
    video = items["202"].document
    assert (video.media, video.taken_granularity, video.geo, video.license) == ("video", "month", None, "CC0-1.0")
    assert video.file.name == "202_abcdef.mp4" and video.albums == [AlbumRef("301", "Trip", 1)]
    assert items["203"].document.taken_granularity == "circa" and not items["203"].document.visibility.public
    with items["202"].original.open() as stream:
        assert stream.read() == b"content of 202_abcdef.mp4"
    containers = {c.id: c for c in mirror.containers()}
    assert containers["301"].members == ["202", "201"] and containers["301"].kind == "album"
    assert containers["401"].members == ["402"] and containers["401"].member_kind == "container"
    assert containers["402"].members == ["301"] and containers["402"].parent == "401"


def test_a_mirror_maps_like_the_flickr_source(tmp_path):
    """One mapper: "true" flags are on, migrator's bookkeeping tags are no user tags, no media means a photo."""
    folder = Folder(make_mirror(tmp_path / "mirror"))
    stream = folder.root / "photostream"
    meta = photo_meta("205", ispublic="false", isfriend="true", isfamily=True, media=None,
                      tags="sea migratorflickr77", machine_tags="migrator:flickr=77")
    (stream / "205.jpg").write_bytes(b"x")
    (stream / "205.jpg.metadata").write_text(json.dumps(meta), "utf-8")
    doc = next(e for e in MirrorBackup(folder).documents() if e.id == "205").load().document
    assert doc.visibility == Visibility(public=False, friends=True, family=True)
    assert doc.tags == ["sea"] and doc.source_metadata["origin"] == {"source": "flickr", "id": "77"}
    assert doc.media == "photo"


def test_other_folders_are_not_mirrors(tmp_path):
    (tmp_path / "other" / "photostream").mkdir(parents=True)
    assert not MirrorBackup.detect(Folder(tmp_path / "other"))


def test_originals_are_the_photostream_files_of_the_id(tmp_path):
    root = make_mirror(tmp_path / "mirror")
    originals = MirrorOriginals(Folder(root))
    assert originals.candidates("flickr", "202", ["mp4"]) == [root / "photostream" / "202_abcdef.mp4"]
    assert originals.candidates("flickr", "20", []) == [] and originals.candidates("ipernity", "202", []) == []

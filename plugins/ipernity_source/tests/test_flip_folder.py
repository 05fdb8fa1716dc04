"""flip's backup folders, read by the `flip` folder format this plugin registers: every document with its
albums, and flip's originals offered to the local sink for adoption. The reader is driven directly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from migrator_ipernity.flip import FlipBackup, FlipOriginals

from migrator import AlbumRef, Visibility
from migrator.errors import DocumentError
from migrator.folders import Folder
from migrator.registry import load

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for `import flip_helpers`
from flip_helpers import FLIP, flip_doc, make_flip  # noqa: E402


def test_the_plugin_registers_the_format():
    assert FlipBackup in load().folder_formats


def test_flip_folder_lists_every_document(tmp_path):
    folder = Folder(make_flip(tmp_path / "flip", FLIP))
    assert FlipBackup.detect(folder)
    listed = list(FlipBackup(folder).documents())
    assert [(e.source, e.id) for e in listed] == [("ipernity", "101"), ("ipernity", "102"), ("ipernity", "103")]
    items = {e.id: e.load() for e in listed}
    doc = items["101"].document
    assert (doc.title, doc.description, doc.media) == ("Tour <Eiffel> & co", "<b>nice</b>", "photo")
    assert (doc.taken_at, doc.taken_granularity) == ("2009-07-14T21:30:00", "second")
    assert doc.visibility == Visibility(public=True, friends=True, family=True)
    assert doc.albums == [AlbumRef("flip-album:Paris", "Paris", 1), AlbumRef("flip-album:Best", "Best", 1)]
    assert (doc.file.ext, doc.file.size) == ("jpg", 12) and doc.source_metadata["flip"]["docid"] == "101"
    assert items["102"].document.taken_at is None and items["102"].document.visibility.public is False
    assert items["103"].document.taken_granularity == "month" and items["103"].document.media == "video"
    assert items["103"].document.albums == [AlbumRef("flip-album:Paris", "Paris", 2)]
    with items["103"].original.open() as stream:
        assert stream.read() == b"a movie"
    albums = {c.id: c for c in FlipBackup(folder).containers()}
    assert albums["flip-album:Paris"].members == ["101", "103"] and albums["flip-album:Best"].members == ["101"]


def test_a_file_with_the_wrong_size_fails_by_name(tmp_path):
    folder = Folder(make_flip(tmp_path / "flip", [(flip_doc("104", b"x" * 99), b"truncated")]))
    entry = next(FlipBackup(folder).documents())
    with pytest.raises(DocumentError, match=r"104\.jpg"):
        entry.load()


def test_other_folders_are_not_flip_backups(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.json").write_text('{"title": "not flip"}', "utf-8")
    assert not FlipBackup.detect(Folder(tmp_path / "other"))


def test_originals_are_offered_by_id_and_plain_extension_only(tmp_path):
    root = make_flip(tmp_path / "flip", FLIP)
    originals = FlipOriginals(Folder(root))
    assert originals.candidates("ipernity", "101", ["jpg", "jpg", "../x", ""]) == [root / "101.jpg"]
    assert originals.candidates("flickr", "101", ["jpg"]) == []

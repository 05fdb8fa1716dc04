"""Other tools' backup folders with damaged files, replayed through `migrator run local folder` with the
plugins that read them installed: each damaged file is one failure naming it and the way out, the rest
migrates, no traceback (the local source's own folders: plugins/local_sink/tests/test_local_damaged.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from migrator.testing.cli import CliRunner

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"  # their test helpers (tests/ is no package)
sys.path[:0] = [str(PLUGINS / name / "tests") for name in ("local_sink", "ipernity_source", "flickr_sink")]
from damage_helpers import FIX, dangling_link, edit, empty, folder_instead, migrated, reasons, replay, truncate  # noqa: E402
from flip_helpers import FLIP, flip_doc, go_json, make_flip  # noqa: E402
from mirror_helpers import make_mirror  # noqa: E402


@pytest.fixture
def cli(plugin_site: Path, home: Path) -> CliRunner:
    """The CLI with the test `folder` sink, the local source and the plugins that read flip and flickrmirrorer."""
    return CliRunner(plugin_site, home, plugins="memtest,local,ipernity,flickr")


# -- flip's folders -------------------------------------------------------------------------------
FLIP_DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncate, "not valid JSON"),
    "title-object": (lambda p: p.write_text(go_json(flip_doc(p.stem, b"x", title={"a": 1})), "utf-8"),
                     "title is an object"),
    "size-text": (lambda p: p.write_text(go_json(flip_doc(p.stem, b"x", originalsize="12")), "utf-8"),
                  "originalsize is a text"),
    "albums-object": (lambda p: p.write_text(go_json(flip_doc(p.stem, b"x", albums={"a": 1})), "utf-8"),
                      "albums is an object"),
    "other-docid": (lambda p: p.write_text(go_json(flip_doc("999", b"x")), "utf-8"), "docid is '999'"),
    "a-list": (lambda p: p.write_text("[]", "utf-8"), "holds a list"),
    "not-utf8": (lambda p: p.write_bytes(b'{"docid": "\xff"}'), "not UTF-8"),
    "empty": (empty, "is empty"),
    "a-folder": (folder_instead, "is a folder"),
    "dangling-link": (dangling_link, "dangling"),
}


def test_damaged_flip_records_fail_by_name(cli, home):
    docs = [(flip_doc(str(500 + n), b"bytes"), b"bytes") for n in range(len(FLIP_DAMAGES))]
    root = make_flip(home / "flip", FLIP + docs)
    for n, (damage, _) in enumerate(FLIP_DAMAGES.values()):
        damage(root / f"{500 + n}.json")
    result, report = replay(cli, home, root)
    assert result.returncode == 1, result.stderr
    assert report["counts"]["failed"] == len(FLIP_DAMAGES)
    found = reasons(report)
    for n, (name, (_, what)) in enumerate(FLIP_DAMAGES.items()):
        reason = found.get(f"ipernity:{500 + n}", "")
        assert reason.startswith(f"{500 + n}.json") and what in reason and reason.endswith(FIX), (name, reason)
    assert migrated(home) == {"ipernity-101", "ipernity-102", "ipernity-103"}


def test_a_flip_folder_whose_only_record_is_damaged_is_still_found(cli, home):
    root = make_flip(home / "flip", FLIP[:1])
    truncate(root / "101.json")
    result, report = replay(cli, home, root)
    assert result.returncode == 1, result.stderr
    assert list(reasons(report)) == ["ipernity:101"]




# -- flickrmirrorer's folders ---------------------------------------------------------------------
def test_damaged_flickrmirrorer_metadata_fails_by_name(cli, home):
    root = make_mirror(home / "mirror")
    stream = root / "photostream"
    truncate(stream / "201.jpg.metadata")
    edit("title", {"a": 1})(stream / "202_abcdef.mp4.metadata")
    (stream / "204.jpg").write_bytes(b"x")
    (stream / "204.jpg.metadata").symlink_to("nowhere")
    edit("photos", {"202": 1})(root / "Albums" / "Trip - 301" / "metadata")
    empty(root / "Collections" / "World - 401" / "Europe - 402" / "metadata")
    result, report = replay(cli, home, root)
    assert result.returncode == 1, result.stderr
    found = reasons(report)
    expected = {"flickr:201": ("photostream/201.jpg.metadata", "not valid JSON"),
                "flickr:202": ("photostream/202_abcdef.mp4.metadata", "title is an object"),
                "flickr:204": ("photostream/204.jpg.metadata", "dangling"),
                "flickr:album:301": ("Albums/Trip - 301/metadata", "photos is not a list"),
                "flickr:collection:402": ("Collections/World - 401/Europe - 402/metadata", "is empty")}
    assert set(found) == set(expected) and report["counts"]["failed"] == len(expected)
    for key, (rel, what) in expected.items():
        assert found[key].startswith(rel) and what in found[key] and found[key].endswith(FIX), found[key]
    assert migrated(home) == {"flickr-203"}
    assert os.path.exists(home / "replay" / "collection-401.json")

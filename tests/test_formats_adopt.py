"""Other tools' backups in the local sink's folder, found through the folder formats their plugins register:
adopted (linked in), never downloaded again, never touched; replaying the folder afterwards lists each
document once, from the sink's own records (the adoption rules themselves: the local plugin's tests)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"  # their test helpers (tests/ is no package)
sys.path[:0] = [str(PLUGINS / name / "tests") for name in ("local_sink", "ipernity_source", "flickr_sink")]
from flip_helpers import FLIP, make_flip  # noqa: E402
from local_helpers import exploding, make_item, make_sink, make_source  # noqa: E402
from mirror_helpers import make_mirror  # noqa: E402


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()}


def test_a_flip_backup_is_adopted_without_reading_the_stream(tmp_path):
    root = make_flip(tmp_path / "backup", FLIP)
    before = snapshot(root)
    sink = make_sink(root)
    for raw, content in FLIP:
        md5 = hashlib.md5(content).hexdigest() if raw["docid"] == "101" else None
        item = make_item(raw["docid"], content, source="ipernity", opener=exploding(),
                         file={"ext": raw["ext"], "size": len(content), "md5": md5})
        stored = sink.store(item, None)
        assert stored.status == "new" and not stored.warnings
        ours = root / stored.ref
        flips = root / f"{raw['docid']}.{raw['ext']}"
        assert ours.read_bytes() == content and ours.stat().st_ino == flips.stat().st_ino
        assert stored.local_copy == ours
        assert json.loads(ours.with_suffix(".json").read_text())["source"] == "ipernity"
    sink.finish()
    sink.close()
    after = snapshot(root)
    assert b"migrator offline viewer" in after.pop("index.html")  # the one file added beside flip's: the viewer
    assert after == before  # flip's files: all there, unchanged
    # replaying the folder lists each document once, from our sidecars
    assert sorted(e.id for e in make_source(root).entries()) == ["101", "102", "103"]


def test_a_truncated_or_different_flip_file_is_downloaded_again(tmp_path):
    root = make_flip(tmp_path / "backup", FLIP[:2])
    sink = make_sink(root)
    longer = b"the complete eiffel bytes"
    stored = sink.store(make_item("101", longer, source="ipernity"), None)
    assert (root / stored.ref).read_bytes() == longer and (root / "101.jpg").read_bytes() == b"eiffel bytes"
    same_size = b"UNDATED"  # same size as flip's file, but the announced md5 differs
    stored = sink.store(make_item("102", same_size, source="ipernity",
                                  file={"ext": "jpg", "size": 7, "md5": hashlib.md5(same_size).hexdigest()}), None)
    assert (root / stored.ref).read_bytes() == same_size and (root / "102.jpg").read_bytes() == b"undated"


def test_a_flickrmirrorer_mirror_is_adopted(tmp_path):
    root = make_mirror(tmp_path / "backup")
    sink = make_sink(root)
    content = b"content of 202_abcdef.mp4"
    stored = sink.store(make_item("202", content, source="flickr", opener=exploding(),
                                  file={"ext": "mp4", "size": len(content)}), None)
    assert (root / stored.ref).read_bytes() == content and stored.ref.startswith("flickr/")
    assert (root / "photostream" / "202_abcdef.mp4").read_bytes() == content

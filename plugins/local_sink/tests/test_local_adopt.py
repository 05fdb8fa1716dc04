"""Adoption: an original another tool left in the sink's folder, named by a registered folder format, is
linked in when its size or hash matches, never downloaded again, never touched; a file that does not match,
a symlink or a path outside the folder is never adopted. A toy format stands in for real ones (flip's and
flickrmirrorer's: tests/test_formats_adopt.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from local_helpers import exploding, make_item, make_sink
from migrator_local import LocalSink

from migrator.folders import Folder, FolderFormat, Originals


class ToyOriginals(Originals):
    """The toy tool keeps `<id>.<ext>` at the top of the folder, and names whatever the id says."""

    def candidates(self, source: str, doc_id: str, exts: Sequence[str]) -> list[Path]:
        return [self.folder.root / f"{doc_id}.{ext}" for ext in exts if ext] if source == "toy" else []


class Toy(FolderFormat):
    name = "toy"
    originals = ToyOriginals

    @classmethod
    def detect(cls, folder: Folder) -> bool:
        return False


def toy_sink(root: Path) -> LocalSink:
    return make_sink(root, formats=[Toy])  # as if the toy format's plugin were installed


def test_a_matching_file_is_adopted_without_reading_the_stream(tmp_path):
    root = tmp_path / "backup"
    root.mkdir()
    (root / "7.jpg").write_bytes(b"photo bytes")
    sink = toy_sink(root)
    item = make_item("7", b"photo bytes", source="toy", opener=exploding(),
                     file={"ext": "jpg", "size": 11, "md5": hashlib.md5(b"photo bytes").hexdigest()})
    stored = sink.store(item, None)
    assert stored.status == "new" and not stored.warnings
    ours = root / stored.ref
    assert ours.stat().st_ino == (root / "7.jpg").stat().st_ino and stored.local_copy == ours
    assert (root / "7.jpg").read_bytes() == b"photo bytes"


def test_a_bigger_existing_file_is_kept_over_a_smaller_rendition(tmp_path):
    root = tmp_path / "backup"
    root.mkdir()
    (root / "7.jpg").write_bytes(b"the full photo bytes")
    stored = toy_sink(root).store(make_item("7", b"small", source="toy", opener=exploding()), None)
    assert (root / stored.ref).read_bytes() == b"the full photo bytes" and stored.size == 20
    assert "smaller rendition" in stored.warnings[0]


def test_a_different_file_of_the_same_size_is_downloaded_again(tmp_path):
    root = tmp_path / "backup"
    root.mkdir()
    (root / "7.jpg").write_bytes(b"undated")
    wanted = b"UNDATED"
    stored = toy_sink(root).store(make_item("7", wanted, source="toy",
                                            file={"ext": "jpg", "size": 7, "md5": hashlib.md5(wanted).hexdigest()}),
                                  None)
    assert (root / stored.ref).read_bytes() == wanted and (root / "7.jpg").read_bytes() == b"undated"


def test_ids_that_could_escape_and_symlinked_files_are_never_adopted(tmp_path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"photo bytes")
    root = tmp_path / "backup"
    root.mkdir()
    (root / "77.jpg").symlink_to(outside)
    (tmp_path / "x.jpg").write_bytes(b"photo bytes")
    sink = toy_sink(root)
    for doc_id in ("77", "../x"):
        stored = sink.store(make_item(doc_id, source="toy"), None)
        assert (root / stored.ref).stat().st_ino not in (outside.stat().st_ino, (tmp_path / "x.jpg").stat().st_ino)
    assert outside.read_bytes() == b"photo bytes"


def test_without_formats_nothing_is_adopted(tmp_path):
    root = tmp_path / "backup"
    root.mkdir()
    (root / "7.jpg").write_bytes(b"photo bytes")
    stored = make_sink(root, formats=[]).store(make_item("7", b"photo bytes", source="toy"), None)
    assert (root / stored.ref).stat().st_ino != (root / "7.jpg").stat().st_ino

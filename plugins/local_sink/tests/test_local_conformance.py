"""The conformance suite against the `local` sink and the `local` source (replaying the sink's backup)."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
from migrator_local import LocalSink, layout

from migrator import AlbumRef, Container
from migrator.testing import HOSTILE_TEXT, Harness, SinkConformance, SourceConformance, item


class TestLocalSink(SinkConformance):
    sink = "local"

    @pytest.fixture
    def sink_options(self, tmp_path: Path) -> dict:
        self.root = tmp_path / "backup"
        return {"path": self.root}

    def count_copies(self, sink, document) -> int:  # originals in the dated folders, not album links
        found = self.root.glob(f"*/*/*{glob.escape(f'[{layout.token(document.id)}]')}.*")
        return sum(p.suffix not in (".json", ".xmp") and p.parent.name != layout.NOT_IN_ALBUM for p in found)

    def read_back(self, sink, stored) -> bytes | None:
        return sink.tree.resolve(stored.ref).read_bytes() if stored.data.get("ext") else None


class TestLocalSource(SourceConformance):
    source = "local"

    @pytest.fixture
    def source_options(self, tmp_path: Path) -> dict:
        """A backup the local sink wrote: hostile titles, an album, a document without an original."""
        writer = Harness(tmp_path / "writer")
        sink = writer.sink(LocalSink, {"path": tmp_path / "backup"})
        ids = [f"doc-{n}" for n in range(len(HOSTILE_TEXT))]
        for n, text in enumerate(HOSTILE_TEXT.values()):
            writer.store(sink, item(ids[n], title=text, albums=[AlbumRef("a1", "Album", n + 1)]))
        writer.store(sink, item("no-bytes", media="audio", stream="none"))
        writer.store_container(sink, Container("album", "conformance", "a1", title="Album", members=ids))
        writer.finish(sink)
        writer.shutdown()
        return {"path": tmp_path / "backup"}

"""The conformance suite against the pip-installed third-party test plugin: sink `folder`, source `jsonfile`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrator.testing import HOSTILE_TEXT, SinkConformance, SourceConformance


@pytest.fixture
def memtest_on_path(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user installs it: the plugin's entry point is found on sys.path (the registry resolves names)."""
    monkeypatch.syspath_prepend(str(plugin_site))
    monkeypatch.delenv("MIGRATOR_LOAD_PLUGINS", raising=False)


class TestFolderSink(SinkConformance):
    sink = "folder"

    @pytest.fixture
    def sink_options(self, memtest_on_path: None, tmp_path: Path) -> dict:
        self.root = tmp_path / "out"
        return {"path": self.root}

    def count_copies(self, sink, document) -> int:  # a document is stored once its .json holds it
        return sum(p.name.startswith(f"{document.source}-") and (record := json.loads(p.read_text("utf-8")))
                   .get("id") == document.id and record.get("kind") == "document" for p in self.root.glob("*.json"))

    def read_back(self, sink, stored) -> bytes:
        return (self.root / f"{stored.ref}.bin").read_bytes()


class TestJsonFileSource(SourceConformance):
    source = "jsonfile"

    @pytest.fixture
    def source_options(self, memtest_on_path: None, tmp_path: Path) -> dict:
        docs = [{"id": f"d{n}", "title": text, "content": f"bytes of {n} " * 40, "updated_at": "2020-01-01T00:00:00Z",
                 "albums": [{"id": "a1", "title": "Album", "position": n + 1}]}
                for n, text in enumerate(HOSTILE_TEXT.values())]
        data = {"documents": docs, "containers": [{"kind": "album", "id": "a1", "title": "Album",
                                                    "members": [d["id"] for d in docs]}]}
        path = self.data_path = tmp_path / "data.json"
        path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        return {"file": path}

    def rewrite_original(self, source, entry) -> bool:
        """The service changed the document's bytes (same size) and its updated_at, as a real service does."""
        data = json.loads(self.data_path.read_text("utf-8"))
        raw = next(d for d in data["documents"] if d["id"] == entry.id)
        raw["content"], raw["updated_at"] = raw["content"].swapcase(), "2021-01-01T00:00:00Z"
        self.data_path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        return True

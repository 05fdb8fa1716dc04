"""In-process helpers shared by the local plugin's tests (imported by name: conftest puts this folder on
sys.path, since pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from migrator_local import LocalSink, LocalSource

from migrator import Context, Document, Item, Original
from migrator.registry import load


def context(role: str, formats: list[type] | None = None) -> Context:
    """A context as `migrator run` builds it: with the folder formats of the installed plugins (or `formats`)."""
    return Context("local", role, folder_formats=load().folder_formats if formats is None else formats)


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def mem_doc(doc_id: str, **fields: Any) -> dict[str, Any]:
    """A document for the jsonfile source (its bytes are `content`)."""
    return {"id": doc_id, "title": f"Photo {doc_id}", "taken_at": "2019-05-01T10:20:30",
            "taken_granularity": "second", "file": {"ext": "jpg"}, "content": f"bytes of {doc_id} " * 50,
            "updated_at": "2020-01-01T00:00:00Z", **fields}


def make_sink(path: Path, formats: list[type] | None = None, **config: Any) -> LocalSink:
    sink = LocalSink({"path": path, "xmp": True, **config}, context("sink", formats))
    sink.open()
    return sink


def make_source(path: Path) -> LocalSource:
    source = LocalSource({"path": path}, context("source"))
    source.open()
    return source


def exploding(label: str = "stream") -> Callable[[], io.BytesIO]:
    def opener() -> io.BytesIO:
        raise AssertionError(f"the {label} was read although the bytes were on disk")
    return opener


def make_item(doc_id: str, content: bytes | None = b"photo bytes", source: str = "mem", opener: Any = None,
              announce_size: bool = True, **fields: Any) -> Item:
    doc = Document.from_json({"schema": 1, "source": source, "id": doc_id, "title": f"Photo {doc_id}",
                              "taken_at": "2019-05-01T10:20:30", "taken_granularity": "second",
                              "file": {"ext": "jpg", "size": len(content) if content is not None else None},
                              **fields})
    if content is None:
        return Item(doc, None)
    size = (doc.file.size if doc.file and doc.file.size is not None else len(content)) if announce_size else None
    original = Original(opener or (lambda: io.BytesIO(content)), doc.key, size=size,
                        md5=doc.file.md5 if doc.file else None)
    return Item(doc, original)

"""Deliberately wrong plugins: each has one flaw the conformance suite must catch (tests/test_conformance_wrong.py).

`FolderSink` and `FolderSource` are the correct baselines (they pass the whole suite); each wrong plugin changes
one thing. `*Checks` classes are the conformance tests as a plugin author writes them; the module name keeps
pytest from collecting them here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from migrator import Document, Entry, FileInfo, Item, Option, Original, Sink, Source, Stored
from migrator.errors import SkipDocument
from migrator.records import dumps
from migrator.testing import SinkConformance, SourceConformance, jpeg

# -- sinks ---------------------------------------------------------------------------------------------


class FolderSink(Sink):
    """Correct: `<name>.bin` and `<name>.json` per record, the name a hash of the record's key, written whole."""

    name = "goodfolder"
    options = [Option("path", Path, None, "target folder", required=True)]
    careful = True  # write to a temporary name, move into place once the stream ended well

    def open(self) -> None:
        self.root = Path(self.config["path"])
        if not self.context.dry_run:
            self.root.mkdir(parents=True, exist_ok=True)

    def account(self) -> str:
        return str(Path(self.config["path"]).resolve())

    def place(self, key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def store(self, item: Item, previous) -> Stored:
        doc, original = item.document, item.original
        if original is None:
            raise SkipDocument("nothing to copy: the document has no file")
        ref = self.place(doc.key)
        meta, data = self.root / f"{ref}.json", self.root / f"{ref}.bin"
        old = json.loads(meta.read_text("utf-8")) if meta.exists() else None
        if old and original.md5 and old["md5"] == original.md5 and data.exists():
            size, md5, sha256, same_bytes = old["size"], old["md5"], old["sha256"], True
        else:
            size, md5, sha256 = self.copy(original, data)
            same_bytes = bool(old) and old["sha256"] == sha256
        record = dumps(doc)
        if old is None:
            status = "new"
        else:
            status = "unchanged" if same_bytes and old["record"] == record else "updated"
        meta.write_text(json.dumps({"key": doc.key, "record": record, "size": size, "md5": md5, "sha256": sha256}))
        return Stored(ref=ref, status=status, size=size, sha256=sha256, local_copy=data)

    def copy(self, original: Original, data: Path) -> tuple[int, str, str]:
        target = data.with_name(f".{data.name}.part") if self.careful else data
        try:
            with original.open() as stream, open(target, "wb") as out:
                while chunk := stream.read(1 << 16):
                    out.write(chunk)
        except BaseException:
            if self.careful:
                target.unlink(missing_ok=True)
            raise
        os.replace(target, data)
        return stream.bytes_read, stream.md5, stream.sha256

    def store_container(self, container, previous) -> Stored:
        ref = self.place(container.key)
        meta = self.root / f"{ref}.json"
        record = dumps(container)
        old = json.loads(meta.read_text("utf-8")) if meta.exists() else None
        meta.write_text(json.dumps({"key": container.key, "record": record}))
        return Stored(ref=ref, status="new" if old is None else "unchanged" if old["record"] == record else "updated")


class AlwaysNewSink(FolderSink):
    """Wrong: says "new" every time, whatever it found."""

    def store(self, item: Item, previous) -> Stored:
        stored = super().store(item, previous)
        stored.status = "new"
        return stored


class StaleHashSink(FolderSink):
    """Wrong: the guide's old CopyFolder pattern: same size as last time, so the same sha256 (the bytes are
    copied, the hash is not recomputed)."""

    def store(self, item: Item, previous) -> Stored:
        stored = super().store(item, previous)
        if previous is not None and previous.sha256 and previous.size == stored.size:
            stored.sha256 = previous.sha256
        return stored


class PartialFileSink(FolderSink):
    """Wrong: writes straight into the final file and leaves what it got when the stream fails."""

    careful = False


class MangledIdSink(FolderSink):
    """Wrong: names files after the id with every unsafe character replaced, cut to 100 characters."""

    def place(self, key: str) -> str:
        return re.sub(r"[^A-Za-z0-9:._-]", "_", key)[:100].replace(":", "-")


class DuplicatingRemoteSink(FolderSink):
    """Wrong: a 'service' that names uploads itself (a random id); the sink remembers which upload is which
    only in context.memory, so after a lost state it uploads everything again."""

    def place(self, key: str) -> str:
        ref = self.context.memory_get(f"ref:{key}")
        if ref is None:
            ref = uuid.uuid4().hex
            self.context.memory_set(f"ref:{key}", ref)
        return ref


class FolderSinkChecks(SinkConformance):
    sink = FolderSink

    @pytest.fixture
    def sink_options(self, tmp_path: Path) -> dict:
        self.root = tmp_path / "out"
        return {"path": self.root}

    def count_copies(self, sink, document) -> int:  # a copy is stored once its .json says so
        return sum(json.loads(p.read_text("utf-8"))["key"] == document.key for p in self.root.glob("*.json"))

    def read_back(self, sink, stored) -> bytes:
        return (self.root / f"{stored.ref}.bin").read_bytes()


class AlwaysNewChecks(FolderSinkChecks):
    sink = AlwaysNewSink


class StaleHashChecks(FolderSinkChecks):
    sink = StaleHashSink


class PartialFileChecks(FolderSinkChecks):
    sink = PartialFileSink


class MangledIdChecks(FolderSinkChecks):
    sink = MangledIdSink


class DuplicatingRemoteChecks(FolderSinkChecks):
    sink = DuplicatingRemoteSink


# -- sources -------------------------------------------------------------------------------------------


class FolderSource(Source):
    """Correct: every file of a folder; the id is its path in the folder, the record carries its md5."""

    name = "goodfoldersource"
    options = [Option("path", Path, None, "a folder of photos", required=True)]

    def account(self) -> str:
        return str(Path(self.config["path"]).resolve())

    def doc_id(self, rel: str) -> str:
        return rel

    def entries(self):
        root = Path(self.config["path"])
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            stat = path.stat()
            doc_id = self.doc_id(rel)
            yield Entry("folder", doc_id, partial(self.load, path, doc_id), updated_at=modified(stat.st_mtime),
                        size=stat.st_size, title=rel)

    def load(self, path: Path, doc_id: str) -> Item:
        data = path.read_bytes()
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        doc = Document("folder", doc_id, title=path.stem, updated_at=modified(path.stat().st_mtime),
                       file=self.file_info(path, data, md5))
        return Item(doc, Original.from_file(path, doc.key, size=len(data), md5=md5))

    def file_info(self, path: Path, data: bytes, md5: str) -> FileInfo:
        return FileInfo(name=path.name, ext=path.suffix[1:], size=len(data), md5=md5, content_type="image/jpeg")


def modified(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class UnstableIdSource(FolderSource):
    """Wrong: the id carries the moment of the listing."""

    def doc_id(self, rel: str) -> str:
        return f"{rel}@{time.monotonic_ns()}"


class NoHashSource(FolderSource):
    """Wrong: the record holds only the file's name and size (and no date), so a same-size edit leaves it as it was."""

    def load(self, path: Path, doc_id: str) -> Item:
        item = super().load(path, doc_id)
        item.document.updated_at = None
        item.document.file.md5 = None
        item.original.md5 = None
        return item


class FolderSourceChecks(SourceConformance):
    source = FolderSource

    @pytest.fixture
    def source_options(self, tmp_path: Path) -> dict:
        self.root = tmp_path / "photos"
        for n, rel in enumerate(["2019/beach.jpg", "2019/city.jpg", "2020/snow.jpg"]):
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_bytes(jpeg(f"photo {n}"))
        return {"path": self.root}

    def rewrite_original(self, source, entry) -> bool:
        """An edit: other bytes of the same size, a later modification time."""
        path = self.root / entry.title
        data = path.read_bytes()
        path.write_bytes(data.replace(b"migrator conformance photo", b"migrator conformance edit!"))
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 60 * 10**9))
        return True


class UnstableIdChecks(FolderSourceChecks):
    source = UnstableIdSource


class NoHashChecks(FolderSourceChecks):
    source = NoHashSource


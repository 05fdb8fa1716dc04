"""What the backup folder holds, by origin source and id: `<path>/.migrator/index.json`.

The folder stays self-describing without it: every document's JSON sidecar names its source and id, so
`open()` lists the year folders and reads the sidecars the index does not know yet (a lost index, or a
run killed before it saved the index). The index adds what names cannot say cheaply: size and sha256
of each original, and where each album folder is.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from migrator import Document

from . import layout
from .fsops import Tree, Writer, is_file, list_names, lstat

META = ".migrator"
INDEX = "index.json"
FORMAT = "migrator-local"
VERSION = 1
SAVE_EVERY = 60.0  # seconds: often enough to help after a kill, rarely enough for big backups


@dataclass
class DocEntry:
    stem: str  # relative, without extension: "ipernity/2019/2019-05-01 Title [123]"
    ext: str | None = None  # the original's extension; None: no original
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.stem}.{self.ext}" if self.ext else f"{self.stem}.json"


def sidecars(tree: Tree) -> Iterator[tuple[str, Path]]:
    """(relative stem, sidecar path) of every document sidecar in `<source>/<year>/`."""
    for top in sorted(list_names(tree.root)):
        if top.startswith(".") or not _is_dir(tree.root / top):
            continue
        for bucket in sorted(list_names(tree.root / top)):
            folder = tree.root / top / bucket
            if not layout.is_year_bucket(bucket) or not _is_dir(folder):
                continue
            for name in sorted(list_names(folder)):
                if name.endswith("].json") and is_file(folder / name):
                    yield f"{top}/{bucket}/{name[:-5]}", folder / name


def read_sidecar(path: Path) -> Document | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        return Document.from_json(data) if data.get("kind") == "document" else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None  # not one of ours, or damaged: never guess


def _is_dir(path: Path) -> bool:
    st = lstat(path)
    return st is not None and stat.S_ISDIR(st.st_mode)


class Index:
    """Thread-safe map (source, id) → DocEntry, plus container folders; saved atomically."""

    def __init__(self, tree: Tree, writer: Writer) -> None:
        self.tree, self.writer = tree, writer
        self.docs: dict[str, dict[str, DocEntry]] = {}
        self.containers: dict[str, dict[str, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()  # workers may save at once: one index.json.part at a time
        self._dirty = False
        self._saved = time.monotonic()

    # -- persistence ----------------------------------------------------------------------------
    def load(self) -> None:
        path = self.tree.root / META / INDEX
        try:
            data = json.loads(path.read_text("utf-8")) if is_file(path) else {}
        except (OSError, ValueError):
            data = {}  # damaged: the scan below rebuilds what matters
        if isinstance(data, dict) and data.get("format") == FORMAT and data.get("version") == VERSION:
            try:
                self.docs = {s: {i: DocEntry(**e) for i, e in ids.items()} for s, ids in data["documents"].items()}
                self.containers = {s: dict(cs) for s, cs in data.get("containers", {}).items()}
            except (AttributeError, KeyError, TypeError, ValueError):
                self.docs, self.containers = {}, {}  # hand-edited or damaged: rebuilt from the sidecars
        self.scan()

    def scan(self) -> int:
        """Add the sidecars the index does not know; returns how many."""
        known = {e.stem for ids in self.docs.values() for e in ids.values()}
        added = 0
        for stem, path in sidecars(self.tree):
            if stem in known:
                continue
            doc = read_sidecar(path)
            if doc is not None and self.get(doc.source, doc.id) is None:
                ext = layout.ext_for(doc)
                has_file = is_file(self.tree.root / f"{stem}.{ext}")
                self.put(doc.source, doc.id, DocEntry(stem, ext if has_file else None))
                added += 1
        return added

    def save(self, force: bool = True) -> None:
        with self._save_lock:
            with self._lock:
                if not self._dirty or (not force and time.monotonic() - self._saved < SAVE_EVERY):
                    return
                data = {"format": FORMAT, "version": VERSION,
                        "documents": {s: {i: asdict(e) for i, e in ids.items()} for s, ids in self.docs.items()},
                        "containers": self.containers}
                text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                self._dirty, self._saved = False, time.monotonic()
            self.writer.write_bytes(self.tree.folder(META), INDEX, text.encode("utf-8"))

    def top_folders(self) -> set[str]:
        """The folders of `root` this sink writes in: one per source, and its own."""
        with self._lock:
            stems = [e.stem for ids in self.docs.values() for e in ids.values()]
            stems += [c["dir"] for cs in self.containers.values() for c in cs.values() if "dir" in c]
        tops = {str(stem).split("/", 1)[0] for stem in stems}
        return {META} | {top for top in tops if top == layout.safe_component(top)}

    # -- documents ------------------------------------------------------------------------------
    def get(self, source: str, doc_id: str) -> DocEntry | None:
        with self._lock:
            return self.docs.get(source, {}).get(doc_id)

    def put(self, source: str, doc_id: str, entry: DocEntry) -> None:
        with self._lock:
            self.docs.setdefault(source, {})[doc_id] = entry
            self._dirty = True

    def of_source(self, source: str) -> dict[str, DocEntry]:
        with self._lock:
            return dict(self.docs.get(source, {}))

    # -- containers -----------------------------------------------------------------------------
    def container(self, source: str, kind: str, cid: str) -> dict[str, Any] | None:
        with self._lock:
            return self.containers.get(source, {}).get(f"{kind}:{cid}")

    def put_container(self, source: str, kind: str, cid: str, folder: str, members: list[str], **extra: Any) -> None:
        with self._lock:
            self.containers.setdefault(source, {})[f"{kind}:{cid}"] = {"dir": folder, "members": members, **extra}
            self._dirty = True

    def album_members(self, source: str) -> set[str]:
        with self._lock:
            return {m for key, c in self.containers.get(source, {}).items()
                    if not key.startswith("collection:") for m in c.get("members", [])}


def write_marker(tree: Tree, writer: Writer) -> None:
    """`.migrator/README.txt`: tells a person (and the `local` source) what this folder is."""
    text = ("This folder is a migrator backup (format migrator-local 1).\n"
            "Each original sits in <source>/<year>/ beside a .json (the full record) and a .xmp sidecar.\n"
            "index.json here is a cache; the sidecars are the truth. Replay: migrator run local SINK "
            "-o local.path=THIS_FOLDER\n")
    writer.write_if_changed(tree.folder(META), "README.txt", text.encode("utf-8"))


"""What the backup folder holds, by origin source and id: `<path>/.migrator/index.json`.

The folder stays self-describing without it: every document's JSON sidecar names its source and id, so
`open()` lists the year folders and reads the sidecars the index does not know yet (a lost index, or a
run killed before it saved the index). The index adds what names cannot say cheaply: size and sha256
of each original, and where each album folder is.
"""

from __future__ import annotations

import json
import re
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from migrator import Document
from migrator.folders import Damaged, an_object, read_json

from . import layout
from .formats.check import document_from
from .fsops import Tree, Writer, is_file, list_names, lstat

META = ".migrator"
INDEX = "index.json"
FORMAT = "migrator-local"
VERSION = 1
ENTRY_FIELDS = {"stem", "ext", "size", "sha256", "md5"}
_HEX = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
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
    """(relative stem, sidecar path) of every document sidecar in `<source>/<year>/`, also those that are
    not regular files (a folder or a link in a sidecar's place is a damage to report, not to skip)."""
    for top in sorted(list_names(tree.root)):
        if top.startswith(".") or not _is_dir(tree.root / top):
            continue
        for bucket in sorted(list_names(tree.root / top)):
            folder = tree.root / top / bucket
            if not layout.is_year_bucket(bucket) or not _is_dir(folder):
                continue
            for name in sorted(list_names(folder)):
                if name.endswith("].json"):
                    yield f"{top}/{bucket}/{name[:-5]}", folder / name


def read_sidecar(path: Path) -> Document:
    """The record in a document sidecar; `Damaged` says what is wrong with a file that holds none."""
    return document_from(read_json(path))


def sidecar_or_none(path: Path) -> Document | None:
    try:
        return read_sidecar(path)
    except Damaged:
        return None  # the sink never guesses: the source reports the file


def _doc_entries(value: Any) -> dict[str, dict[str, DocEntry]]:
    docs = {}
    for source, ids in an_object(value, "documents by source").items():
        docs[source] = {}
        for doc_id, raw in an_object(ids, "documents by id").items():
            problem = _entry_problem(raw)
            if problem:
                raise Damaged(f"has a bad entry for {source}:{doc_id}: {problem}")
            docs[source][doc_id] = DocEntry(**raw)
    return docs


def _entry_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict) or set(raw) - ENTRY_FIELDS or not isinstance(raw.get("stem"), str):
        return "not an object with a stem and the known fields"
    ext, size = raw.get("ext"), raw.get("size")
    if ext is not None and (not isinstance(ext, str) or layout.clean_ext(ext) != ext):
        return f"the extension {ext!r} cannot name a file"
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        return f"the size {size!r} is not a byte count"
    if any(raw.get(k) is not None and not _HEX.fullmatch(str(raw[k])) for k in ("md5", "sha256")):
        return "a digest is not hexadecimal"
    return None


def _container_entries(value: Any) -> dict[str, dict[str, dict[str, Any]]]:
    found = {}
    for source, items in an_object(value, "containers by source").items():
        found[source] = dict(an_object(items, "containers by id"))
        for key, raw in found[source].items():
            dir_ok = isinstance(raw, dict) and isinstance(raw.get("dir", ""), str)
            if not dir_ok or not all(isinstance(m, str) for m in _as_list(raw.get("members", []))):
                raise Damaged(f"has a bad entry for the container {source}:{key}")
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [None]


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
        self.problem: Damaged | None = None  # what was wrong with index.json when it was loaded

    # -- persistence ----------------------------------------------------------------------------
    def load(self) -> None:
        """Read the index; a damaged one is set aside in `problem` and rebuilt from the sidecars."""
        path = self.tree.root / META / INDEX
        self.problem = None
        try:
            data = read_json(path) if lstat(path) is not None else {}
            if isinstance(data, dict) and data.get("format") == FORMAT and data.get("version") == VERSION:
                self.docs = _doc_entries(data.get("documents"))
                self.containers = _container_entries(data.get("containers", {}))
        except Damaged as exc:
            self.problem = exc
            self.docs, self.containers = {}, {}
        self.scan()

    def scan(self) -> int:
        """Add the sidecars the index does not know; returns how many."""
        known = {e.stem for ids in self.docs.values() for e in ids.values()}
        added = 0
        for stem, path in sidecars(self.tree):
            if stem in known:
                continue
            doc = sidecar_or_none(path)
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


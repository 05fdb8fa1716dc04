"""What the backup folder holds, by origin source and id: `<path>/.migrator/index.sqlite3`.

The folder stays self-describing without it: every document's JSON sidecar names its source and id. The
index is an SQLite file (WAL) queried and written one document at a time, so opening a backup costs the
same at 100 documents and at 100,000: a normal open reads no sidecar and lists no year folder. It adds
what names cannot say cheaply: size and sha256 of each original, where each album folder is, and what
changed since the album link folders were last built.

The sidecars stay the truth. The index is rebuilt from them (listing the year folders, as older versions
did on every open) when it is missing, damaged or of another version, and after a run that did not close
the folder (a kill, a crash, a power cut): such a run may have written files whose index row never came.
An older migrator's `index.json` is read once, converted, then removed: an older migrator finds no
index.json and reads the sidecars, and one that wrote a new index.json since makes this one convert again.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator import Document
from migrator.folders import Damaged, an_object, read_json

from . import layout
from .formats.check import document_from
from .fsops import Tree, Writer, is_file, list_names, lstat

META = ".migrator"
INDEX = "index.sqlite3"
OLD_INDEX = "index.json"  # written by migrator before the SQLite index; converted once
FORMAT = "migrator-local"
VERSION = 2  # of the index; version 1 was index.json
OLD_VERSION = 1
ENTRY_FIELDS = {"stem", "ext", "size", "sha256", "md5"}
_HEX = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
ALL = ""  # a `changed` row for a whole source: its "Not in any album" folder is rebuilt from scratch

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (source TEXT NOT NULL, id TEXT NOT NULL, stem TEXT NOT NULL, ext TEXT, size INTEGER,
                   sha256 TEXT, md5 TEXT, seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, id));
CREATE INDEX docs_stem ON docs (stem);
CREATE INDEX docs_seq ON docs (source, seq);
CREATE TABLE containers (source TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (source, key));
CREATE TABLE changed (source TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (source, id));
CREATE TABLE tops (name TEXT PRIMARY KEY, swept INTEGER NOT NULL DEFAULT 0);
"""


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


def _old_doc_entries(value: Any) -> Iterator[tuple[str, str, DocEntry]]:
    for source, ids in an_object(value, "documents by source").items():
        for doc_id, raw in an_object(ids, "documents by id").items():
            problem = _entry_problem(raw)
            if problem:
                raise Damaged(f"has a bad entry for {source}:{doc_id}: {problem}")
            yield source, doc_id, DocEntry(**raw)


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


def _old_container_entries(value: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for source, items in an_object(value, "containers by source").items():
        for key, raw in an_object(items, "containers by id").items():
            if not _container_ok(raw):
                raise Damaged(f"has a bad entry for the container {source}:{key}")
            yield source, key, raw


def _container_ok(raw: Any) -> bool:
    dir_ok = isinstance(raw, dict) and isinstance(raw.get("dir", ""), str)
    return dir_ok and all(isinstance(m, str) for m in _as_list(raw.get("members", [])))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [None]


def _is_dir(path: Path) -> bool:
    st = lstat(path)
    return st is not None and stat.S_ISDIR(st.st_mode)


class Index:
    """Thread-safe map (source, id) → DocEntry, plus container folders, in `.migrator/index.sqlite3`.

    Every write is its own transaction (WAL, not synced: the index is a cache, and a run that ends without
    closing it makes the next open check the sidecars)."""

    def __init__(self, tree: Tree, writer: Writer | None = None) -> None:
        self.tree, self.writer = tree, writer
        self.path = tree.root / META / INDEX
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._seq = 0
        self._tops: set[str] = set()
        self._there_before: set[str] = set()
        self.problem: Damaged | None = None  # what was wrong with the index when it was read
        self.problem_path = self.path  # the file `problem` is about (index.json when converting one)
        self.rebuilt = False  # this open rebuilt it from the sidecars (or converted index.json)
        self.unclean = False  # the run before did not close the folder

    # -- opening --------------------------------------------------------------------------------
    def open(self) -> None:
        """The sink's open: use the index, else rebuild it; mark the folder as in use until `close()`."""
        self._there_before = set(list_names(self.tree.root))  # folders this run did not create
        old = self.tree.root / META / OLD_INDEX
        db = self._connect_existing() if lstat(old) is None else None
        if db is None:
            self._discard()
            db = self._connect(self.path)
            db.executescript(SCHEMA)
            self._set_meta(db, format=FORMAT, version=str(VERSION), open="1")  # trusted once a run closes it
            self._db, self.rebuilt = db, True
            self._convert(old)
        else:
            self._db = db
            self.unclean = self._meta("open") != "0"
        if self.rebuilt or self.unclean:
            self.scan()
        self._seq = self._db.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()[0]
        self._tops = {row[0] for row in self._db.execute("SELECT name FROM tops")}
        self._durably(open="1")

    def open_to_read(self) -> None:
        """The source's open: read only; an index.json (an older migrator's) is read into memory."""
        old = self.tree.root / META / OLD_INDEX
        if lstat(self.path) is not None:
            try:
                self._db = self._connect(self.path, read_only=True)
                self._check(self._db)
            except sqlite3.DatabaseError as exc:
                self._db = None
                busy = getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy and os.access(self.path.parent, os.W_OK):
                    self.problem = Damaged(f"is not an index this migrator reads ({exc})")
                # else a run is writing this backup now, or it is on a read-only disk (SQLite cannot open its
                # write-ahead log there): read it without the index (sizes come from the records)
        elif lstat(old) is not None:
            self._db = self._connect(":memory:")
            self._db.executescript(SCHEMA)
            self._convert(old)

    def close(self) -> None:
        """A clean end: the next open trusts the index without checking the sidecars."""
        with self._lock:
            if self._db is None:
                return
            with contextlib.suppress(sqlite3.Error):
                if self.writer is not None:
                    self._durably(open="0")
            self._db.close()
            self._db = None

    def _connect(self, path: Path | str, read_only: bool = False) -> sqlite3.Connection:
        uri = f"{Path(path).as_uri()}?mode=ro" if read_only else str(path)
        db = sqlite3.connect(uri, uri=read_only, isolation_level=None, check_same_thread=False)
        if not read_only and path != ":memory:":
            # one run per folder (the folder lock): exclusive locking needs no -shm file, and small pages
            # keep the index small on a disk that is nearly full
            db.execute("PRAGMA page_size=1024")
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _connect_existing(self) -> sqlite3.Connection | None:
        """The index when it is there, readable and of this version; else None (it is rebuilt)."""
        if lstat(self.path) is None:
            return None
        if not is_file(self.path):
            self.problem = Damaged("is not a regular file")
            return None
        try:
            db = self._connect(self.path)
            self._check(db)
            return db
        except sqlite3.DatabaseError as exc:
            self.problem = Damaged(f"is not an index this migrator reads ({exc})")
            return None

    @staticmethod
    def _check(db: sqlite3.Connection) -> None:
        found = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if found.get("format") != FORMAT or found.get("version") != str(VERSION):
            raise sqlite3.DatabaseError(f"format {found.get('format')} version {found.get('version')}")

    def _discard(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            path = self.path.with_name(INDEX + suffix)
            st = lstat(path)
            if st is not None and stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, "a folder where the index belongs", str(path))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _convert(self, old: Path) -> None:
        """An older migrator's index.json into this index (a damaged one is reported, then skipped)."""
        if lstat(old) is None:
            return
        try:
            data = read_json(old)
            if isinstance(data, dict) and data.get("format") == FORMAT and data.get("version") == OLD_VERSION:
                docs = list(_old_doc_entries(data.get("documents")))
                containers = list(_old_container_entries(data.get("containers", {})))
                self._put_many(docs)
                with self._lock, self._transaction():
                    for source, key, raw in containers:
                        self._db.execute("INSERT OR REPLACE INTO containers VALUES (?, ?, ?)",
                                         (source, key, json.dumps(raw)))
        except Damaged as exc:
            self.problem, self.problem_path = exc, old
        if self.writer is not None:  # the sink: index.json goes once its content is in the index
            self._durably()
            os.unlink(old)

    def scan(self) -> int:
        """Add the sidecars the index does not know; returns how many."""
        found: list[tuple[str, str, DocEntry]] = []
        for stem, path in sidecars(self.tree):
            if self._stem_known(stem):
                continue
            doc = sidecar_or_none(path)
            if doc is not None and self.get(doc.source, doc.id) is None:
                ext = layout.ext_for(doc)
                has_file = is_file(self.tree.root / f"{stem}.{ext}")
                found.append((doc.source, doc.id, DocEntry(stem, ext if has_file else None)))
        self._put_many(found)
        with self._lock, self._transaction():  # their album links and "Not in any album" are rebuilt
            for source in {source for source, _, _ in found}:
                self._db.execute("INSERT OR IGNORE INTO changed VALUES (?, ?)", (source, ALL))
        return len(found)

    def _stem_known(self, stem: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM docs WHERE stem = ?", (stem,)).fetchone() is not None

    # -- meta -----------------------------------------------------------------------------------
    @staticmethod
    def _set_meta(db: sqlite3.Connection, **values: str) -> None:
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def setting(self, key: str) -> str | None:
        """A value the sink keeps about the whole folder (e.g. the XMP naming rule it was written with)."""
        with self._lock:
            return self._meta(f"setting:{key}")

    def keep_setting(self, key: str, value: str) -> None:
        self._durably(**{f"setting:{key}": value})

    def sources(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT DISTINCT source FROM docs ORDER BY source")]

    def _durably(self, **values: str) -> None:
        """Write `values` and everything before them to disk (the few writes that must survive a power cut)."""
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                with self._transaction():
                    self._set_meta(self._db, **values)
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- the folders this sink owns -------------------------------------------------------------
    def folders_to_sweep(self) -> set[str]:
        """The top folders to clear of .part files: all after an unclean end, else those never swept."""
        with self._lock:
            rows = self._db.execute("SELECT name FROM tops" + ("" if self.unclean else " WHERE swept = 0"))
            tops = {row[0] for row in rows if row[0] == layout.safe_component(row[0])}
        return tops | ({META} if self.unclean or self.rebuilt else set())

    def swept(self, tops: Iterable[str]) -> None:
        with self._lock, self._transaction():
            self._db.executemany("UPDATE tops SET swept = 1 WHERE name = ?", [(top,) for top in tops])

    def _note_top(self, ref: str) -> None:
        """A folder new to the index is swept once by the next open, unless this run created it (then only
        this run's .part files can be in it, and a clean end removes those)."""
        top = ref.split("/", 1)[0]
        if top not in self._tops:
            self._tops.add(top)
            self._db.execute("INSERT OR IGNORE INTO tops VALUES (?, ?)", (top, int(top not in self._there_before)))

    # -- documents ------------------------------------------------------------------------------
    def get(self, source: str, doc_id: str) -> DocEntry | None:
        """The entry, or None; a bad row (edited by hand) counts as none and is kept in `problem`."""
        if self._db is None:
            return None
        try:
            with self._lock:
                row = self._db.execute("SELECT stem, ext, size, sha256, md5 FROM docs WHERE source = ? AND id = ?",
                                       (source, doc_id)).fetchone()
        except sqlite3.OperationalError:
            if self.writer is not None:
                raise  # the sink: the store fails (disk_errors says how)
            row = None  # the source: a run took the folder meanwhile; the record alone it is
        if row is None:
            return None
        raw = dict(zip(("stem", "ext", "size", "sha256", "md5"), row))
        problem = _entry_problem(raw)
        if problem:
            self.problem = Damaged(f"has a bad entry for {source}:{doc_id}: {problem}")
            return None
        return DocEntry(**raw)

    def put(self, source: str, doc_id: str, entry: DocEntry) -> bool:
        """Write one document's entry; True when its file's name changed (a new link to make)."""
        with self._lock, self._transaction():
            return self._put(source, doc_id, entry)

    def _put(self, source: str, doc_id: str, entry: DocEntry) -> bool:
        row = self._db.execute("SELECT stem, ext, seq FROM docs WHERE source = ? AND id = ?",
                               (source, doc_id)).fetchone()
        moved = row is None or (row[0], row[1]) != (entry.stem, entry.ext)
        if moved:
            self._seq += 1
            self._db.execute("INSERT OR IGNORE INTO changed VALUES (?, ?)", (source, doc_id if row is None else ALL))
            self._note_top(entry.stem)
        self._db.execute("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (source, doc_id, entry.stem, entry.ext, entry.size, entry.sha256, entry.md5,
                          self._seq if moved else row[2]))
        return moved

    def _put_many(self, entries: list[tuple[str, str, DocEntry]]) -> None:
        with self._lock, self._transaction():
            for source, doc_id, entry in entries:
                self._put(source, doc_id, entry)

    def moved_since(self, source: str, seq: int) -> set[str]:
        """Ids of `source` whose file got a (new) name after `seq`."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM docs WHERE source = ? AND seq > ?", (source, seq))
            return {row[0] for row in rows}

    @property
    def seq(self) -> int:
        with self._lock:
            return self._seq

    def of_source(self, source: str, chunk: int = 1000) -> Iterator[tuple[str, DocEntry]]:
        """Every document of `source`, read a chunk at a time (a large backup is never held whole)."""
        after = ""
        while True:
            with self._lock:
                rows = self._db.execute("SELECT id, stem, ext, size, sha256, md5 FROM docs WHERE source = ? "
                                        "AND id > ? ORDER BY id LIMIT ?", (source, after, chunk)).fetchall()
            for doc_id, *values in rows:
                raw = dict(zip(("stem", "ext", "size", "sha256", "md5"), values))
                if _entry_problem(raw) is None:
                    yield doc_id, DocEntry(**raw)
            if len(rows) < chunk:
                return
            after = rows[-1][0]

    # -- what the link folders must show again -------------------------------------------------
    def changed(self) -> dict[str, set[str]]:
        """Source → ids whose "Not in any album" link may be wrong ({ALL}: rebuild the whole folder)."""
        with self._lock:
            found: dict[str, set[str]] = {}
            for source, doc_id in self._db.execute("SELECT source, id FROM changed"):
                found.setdefault(source, set()).add(doc_id)
            return found

    def mark_changed(self, source: str, ids: Iterable[str]) -> None:
        with self._lock, self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO changed VALUES (?, ?)", [(source, i) for i in ids])

    def clear_changed(self, source: str) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM changed WHERE source = ?", (source,))

    # -- containers -----------------------------------------------------------------------------
    def container(self, source: str, kind: str, cid: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM containers WHERE source = ? AND key = ?",
                                   (source, f"{kind}:{cid}")).fetchone()
        try:
            data = json.loads(row[0]) if row else None
        except ValueError:
            return None
        return data if _container_ok(data) else None

    def put_container(self, source: str, kind: str, cid: str, folder: str, members: list[str], **extra: Any) -> None:
        with self._lock, self._transaction():
            self._db.execute("INSERT OR REPLACE INTO containers VALUES (?, ?, ?)",
                             (source, f"{kind}:{cid}", json.dumps({"dir": folder, "members": members, **extra})))
            self._note_top(folder)

    def album_members(self, source: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT key, data FROM containers WHERE source = ?", (source,)).fetchall()
        members: set[str] = set()
        for key, data in rows:
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                if not key.startswith("collection:"):
                    members.update(m for m in json.loads(data).get("members", []) if isinstance(m, str))
        return members

    def container_keys(self, source: str) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT key FROM containers WHERE source = ?", (source,))}


def write_marker(tree: Tree, writer: Writer) -> None:
    """`.migrator/README.txt`: tells a person (and the `local` source) what this folder is."""
    text = ("This folder is a migrator backup (format migrator-local 1).\n"
            "Each original sits in <source>/<year>/ beside a .json (the full record) and a .xmp sidecar.\n"
            "index.sqlite3 here is a cache; the sidecars are the truth. Replay: migrator run local SINK "
            "-o local.path=THIS_FOLDER\n")
    writer.write_if_changed(tree.folder(META), "README.txt", text.encode("utf-8"))

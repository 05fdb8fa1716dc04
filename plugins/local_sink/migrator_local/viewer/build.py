"""The offline viewer of a backup: `index.html` at its root, everything else in `.migrator/viewer/`.

It opens from `file://` with no server: the page cannot fetch files there (Chromium refuses it), so its data
are small scripts (`data/*.js`) it adds one at a time, each handing a JSON value to `viewer.take()`:
- `manifest.js`: the months of the photostream (newest first) with their counts and parts, the years;
- `m-<YYYY-MM>-<n>.js`: up to PART documents of one month, newest first (`m-undated-<n>.js` last);
- `albums.js`: albums and collections in the source's order; `a-<hash>.js`: one album's members.
The page loads the manifest, then only the shards a view needs: a large backup is never held whole.

What the viewer knows sits in `viewer.sqlite3` beside them (a cache: without it, or after a run that did not
end, everything is rebuilt from the index and the sidecars). A run refreshes only the documents the sink
stored anew or changed, then rewrites the shards those touch, each only when its bytes differ: a rerun
with no change rewrites nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from migrator import Container, Document
from migrator.folders import Damaged, read_json

from .. import layout
from ..formats.check import container_from
from ..fsops import Tree, list_names
from ..index import META, DocEntry, Index
from . import records, thumbs

T = TypeVar("T")
FOLDER = "viewer"  # inside META
VERSION = "1"  # of the data shards and this cache: another value rebuilds both
PART = 500  # documents per photostream shard
WORKERS = 4  # threads reading sidecars and making thumbnails
CHUNK = 256  # documents handed to the threads at once
SAY_EVERY = 10 * CHUNK  # a whole build says how far it got every so many documents
ASSETS = ("viewer.js", "viewer.css")
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (source TEXT NOT NULL, id TEXT NOT NULL, month TEXT NOT NULL, date TEXT NOT NULL,
                   record TEXT NOT NULL, thumb_sig TEXT, seen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, id));
CREATE INDEX docs_month ON docs (month, date);
CREATE TABLE albums (source TEXT NOT NULL, key TEXT NOT NULL, sig TEXT NOT NULL, position INTEGER,
                     record TEXT NOT NULL, members TEXT NOT NULL, PRIMARY KEY (source, key));
"""


MARKER = b'<meta name="generator" content="migrator offline viewer">'  # an index.html that is ours


@dataclass
class Outcome:
    documents: int = 0  # documents whose page changed
    files: int = 0  # data files and thumbnails written
    full: bool = False
    warning: str | None = None


class Viewer:
    """Builds and refreshes the viewer of one backup folder (the sink's `finish()` calls `update()`)."""

    def __init__(self, tree: Tree, index: Index, say: Callable[[str], None] = lambda line: None) -> None:
        self.tree, self.index = tree, index
        self.say = say  # progress of a whole build, which on a large backup takes minutes (a thumbnail each)
        self.folder = tree.root / META / FOLDER
        self.data = self.folder / "data"
        self.db_path = self.folder / "viewer.sqlite3"
        # `pending` exists from a run's first stored change until the viewer shows it: a run stopped before
        # its finish() leaves it, and the next update rebuilds everything (it cannot know what that run stored)
        self.pending = self.folder / "pending"
        self._left_pending = self.pending.exists()
        self._touched: set[tuple[str, str]] = set()
        self._containers_touched = False
        self._lock = threading.Lock()
        self.outcome = Outcome()

    def touched(self, source: str, doc_id: str) -> None:
        """The sink stored this document anew or changed it (safe from any worker)."""
        with self._lock:
            self._mark_pending()
            self._touched.add((source, doc_id))

    def container_touched(self) -> None:
        """The sink stored an album or collection anew or changed it."""
        with self._lock:
            self._mark_pending()
            self._containers_touched = True

    def _mark_pending(self) -> None:
        if not self._touched and not self._containers_touched and not self.pending.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            self.pending.touch()

    @staticmethod
    def forget(tree: Tree) -> None:
        """The viewer is off for this run: its cache would miss what the run stores, so it goes (a later run
        with the viewer on rebuilds it; the pages are left as they are)."""
        for name in ("viewer.sqlite3", "viewer.sqlite3-wal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tree.root / META / FOLDER / name)

    # -- the update -----------------------------------------------------------------------------
    def update(self) -> Outcome:
        self.data.mkdir(parents=True, exist_ok=True)
        db, full = self._open_db()
        full = full or self._left_pending
        self.db, self.outcome = db, Outcome(full=full)
        try:
            if not full and not self._touched and not self._containers_touched:
                # nothing stored this run: no record to read again (every album's would cost 0.3 s at 100,000
                # documents); only a newer migrator's script and style, if any
                self._write_page()
                return self.outcome
            self._set_meta(open="1")
            months, changed = self._documents(full)
            for month in sorted(months):
                self._write_month(month)
            with self._transaction():
                albums = self._albums(changed, full)
            self._write_albums(albums)
            self._write_manifest()
            self._remove_stale(albums)
            self._write_page()
            self._set_meta(open="0")
            with contextlib.suppress(FileNotFoundError):
                self.pending.unlink()
        except sqlite3.DatabaseError:
            db.close()
            self._discard_db()  # a damaged cache: the next run rebuilds it whole
            raise
        finally:
            db.close()
        return self.outcome

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN")
        yield
        self.db.execute("COMMIT")

    def _open_db(self) -> tuple[sqlite3.Connection, bool]:
        """The cache and whether everything must be rebuilt (no cache, another version, a run that did
        not end, or an index rebuilt from the sidecars: the sink's list of touched documents is then short)."""
        with contextlib.suppress(sqlite3.Error):
            db = _connect(self.db_path)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("version") == VERSION and meta.get("open") == "0":
                return db, self.index.rebuilt or self.index.unclean
            db.close()
        self._discard_db()
        db = _connect(self.db_path)
        db.executescript(SCHEMA)
        db.execute("INSERT INTO meta VALUES ('version', ?)", (VERSION,))
        return db, True

    def _discard_db(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.db_path.with_name(self.db_path.name + suffix))

    def _set_meta(self, **values: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    # -- documents ------------------------------------------------------------------------------
    def _documents(self, full: bool) -> tuple[set[str], set[tuple[str, str]]]:
        """Refresh the documents' records: all of them, or those the sink touched. Returns the months whose
        shards changed and the documents whose record changed."""
        months: set[str] = set()
        changed: set[tuple[str, str]] = set()
        with self._transaction():
            self._refresh(full, months, changed)
        self.outcome.documents = len(changed)
        return months, changed

    def _refresh(self, full: bool, months: set[str], changed: set[tuple[str, str]]) -> None:
        """Sidecars are read and thumbnails made by a few threads (both wait on the disk, and Pillow decodes
        without the GIL); the cache is written here, in order."""
        if full:
            self.db.execute("UPDATE docs SET seen = 0")
        done = 0
        with ThreadPoolExecutor(WORKERS) as pool:
            for chunk in _chunks(self._to_refresh(full), CHUNK):
                if full and done and done % SAY_EVERY == 0:
                    self.say(f"local: viewer: {done:,} documents read, their thumbnails made")
                done += len(chunk)
                befores = [self.db.execute("SELECT month, record, thumb_sig FROM docs WHERE source = ? AND id = ?",
                                           (source, doc_id)).fetchone() for source, doc_id, _ in chunk]
                made = pool.map(self._document, [e for _, _, e in chunk], [b[2] if b else None for b in befores])
                for (source, doc_id, _), before, fresh in zip(chunk, befores, made):
                    if fresh is not None:
                        self._note(source, doc_id, before, fresh, months, changed)
        if full:
            gone = self.db.execute("SELECT DISTINCT month FROM docs WHERE seen = 0").fetchall()
            months.update(row[0] for row in gone)
            self.db.execute("DELETE FROM docs WHERE seen = 0")

    def _note(self, source: str, doc_id: str, before: tuple[str, str, str] | None, fresh: tuple[str, str, str, str],
              months: set[str], changed: set[tuple[str, str]]) -> None:
        month, date, record, sig = fresh
        self.db.execute("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?, 1)",
                        (source, doc_id, month, date, record, sig))
        if before is None or (before[0], before[1]) != (month, record):
            months.update({month, before[0]} if before else {month})
            changed.add((source, doc_id))

    def _to_refresh(self, full: bool) -> Iterable[tuple[str, str, DocEntry]]:
        if full:
            for source in self.index.sources():
                for doc_id, entry in self.index.of_source(source):
                    yield source, doc_id, entry
            return
        with self._lock:
            touched, self._touched = sorted(self._touched), set()
        for source, doc_id in touched:
            entry = self.index.get(source, doc_id)
            if entry is not None:
                yield source, doc_id, entry

    def _document(self, entry: DocEntry, thumb_sig: str | None) -> tuple[str, str, str, str] | None:
        """(month, date, record JSON, thumbnail signature) of one document; None without a readable sidecar."""
        root = str(self.tree.root)  # strings, not Paths: this runs 100,000 times on a first build
        doc = _read_document(f"{root}/{entry.stem}.json")
        if doc is None:
            return None
        ref = f"{entry.stem}.{entry.ext}" if entry.ext else None
        ref = ref if ref is not None and _regular(f"{root}/{ref}") else None
        thumb, preview, sig = self._thumbs(doc, entry, ref, thumb_sig)
        date = records.sort_date(doc)
        try:
            record = json.dumps(records.document(doc, ref, thumb, preview), ensure_ascii=True, sort_keys=True)
        except (TypeError, ValueError, AttributeError):  # a sidecar edited into odd shapes: left out, not fatal
            return None
        return records.month_of(date), date, record, sig

    def _thumbs(self, doc: Document, entry: DocEntry, ref: str | None,
                before: str | None) -> tuple[str | None, str | None, str]:
        """The thumbnail's and preview's URLs (None: a placeholder), made again only when the original or its
        rotation changed since they were made."""
        name = hashlib.sha1(f"{doc.source}\0{doc.id}".encode("utf-8", "surrogatepass")).hexdigest()[:20]
        rel = f"thumbs/{name[:2]}/{name}"
        thumb = f"{self.folder}/{rel}.jpg"
        big = ref is not None and thumbs.needs_preview(entry.ext or "", entry.size, doc.rotation)
        sig = f"{entry.ext}:{entry.size}:{entry.sha256}:{doc.rotation}:{int(big)}"
        ok = before == f"{sig}|1" and _regular(thumb)
        if not ok and before != f"{sig}|0" and ref is not None and doc.media != "video":
            targets = [(Path(thumb), thumbs.THUMB)]
            targets += [(self.folder / f"{rel}.big.jpg", thumbs.PREVIEW)] if big else []
            ok = thumbs.make(self.tree.root / ref, targets, doc.rotation)
            with self._lock:
                self.outcome.files += len(targets) if ok else 0
        if not ok:
            return None, None, f"{sig}|0"
        base = f"{META}/{FOLDER}/{rel}"
        return records.url(f"{base}.jpg"), records.url(f"{base}.big.jpg") if big else None, f"{sig}|1"

    def _write_month(self, month: str) -> None:
        rows = self.db.execute("SELECT record FROM docs WHERE month = ? ORDER BY date DESC, source, id",
                               (month,)).fetchall()
        for n in range(0, len(rows), PART):
            self._put(f"m-{month}-{n // PART}", "[" + ",".join(r[0] for r in rows[n:n + PART]) + "]")

    # -- albums and collections -----------------------------------------------------------------
    def _albums(self, changed: set[tuple[str, str]], full: bool) -> list[tuple[str, str]]:
        """Refresh the albums whose record, folder or members changed; returns every (source, key) known."""
        known: list[tuple[str, str]] = []
        for source in self.index.sources():
            for key in sorted(self.index.container_keys(source)):
                kind, _, cid = key.partition(":")
                data = self.index.container(source, kind, cid)
                if data is None:
                    continue
                known.append((source, key))
                sig = json.dumps([data.get("digest"), data.get("dir"), data.get("missing")])
                row = self.db.execute("SELECT sig, members FROM albums WHERE source = ? AND key = ?",
                                      (source, key)).fetchone()
                members = set(json.loads(row[1])) if row else set()
                if full or row is None or row[0] != sig or any((source, m) in changed for m in members):
                    self._album(source, key, kind, data, sig)
        return known

    def _album(self, source: str, key: str, kind: str, data: dict[str, Any], sig: str) -> None:
        folder = str(data.get("dir", ""))
        container = _read_container(self.tree.root / folder / layout.sidecar_name(kind))
        if container is None:
            return
        record = records.album(container, folder, [str(m) for m in data.get("missing", [])])
        if container.member_kind == "document":
            members = [self._member(source, m) for m in container.members]
            record["members"] = [m for m in members if m is not None]
            cover = records.cover_id(container)
            record["cover"] = self._member(source, cover) if cover else None
            self._put(album_shard(source, key), json.dumps(record["members"], ensure_ascii=True))
            record["count"] = len(record.pop("members"))
        else:
            record["children"] = list(container.members)
        self.db.execute("INSERT OR REPLACE INTO albums VALUES (?, ?, ?, ?, ?, ?)",
                        (source, key, sig, container.position, json.dumps(record), json.dumps(container.members)))

    def _member(self, source: str, doc_id: str) -> dict[str, Any] | None:
        """What an album's grid shows of a member, and where its page is."""
        row = self.db.execute("SELECT month, record FROM docs WHERE source = ? AND id = ?", (source, doc_id)).fetchone()
        if row is None:
            return None
        record = json.loads(row[1])
        return {"month": row[0], "source": source, "id": doc_id, "title": record["title"],
                "thumb": record["thumb"], "media": record["media"]}

    def _write_albums(self, known: list[tuple[str, str]]) -> None:
        """albums.js: albums (with their shard) and collections, each in its source's order."""
        rows = self.db.execute("SELECT source, key, position, record FROM albums").fetchall()
        wanted = set(known)
        found = sorted((r for r in rows if (r[0], r[1]) in wanted),
                       key=lambda r: (r[0], r[2] is None, r[2] or 0, r[1]))
        albums, collections = [], []
        for source, key, _position, raw in found:
            record = json.loads(raw)
            if "children" in record:
                collections.append(record)
            else:
                record["shard"] = album_shard(source, key)
                albums.append(record)
        self._put("albums", json.dumps({"albums": albums, "collections": collections}, ensure_ascii=True))

    # -- manifest, page, clean-up ---------------------------------------------------------------
    def _write_manifest(self) -> None:
        months = self.db.execute("SELECT month, count(*) FROM docs GROUP BY month").fetchall()
        dated = sorted((m for m in months if m[0] != records.UNDATED), reverse=True)
        ordered = dated + [m for m in months if m[0] == records.UNDATED]
        years: dict[str, int] = {}
        for month, count in dated:
            years[month[:4]] = years.get(month[:4], 0) + count
        manifest = {"version": VERSION, "total": sum(c for _, c in ordered), "part": PART,
                    "months": [{"key": m, "count": c, "parts": -(-c // PART)} for m, c in ordered],
                    "years": [{"year": y, "count": c} for y, c in years.items()],
                    "undated": next((c for m, c in ordered if m == records.UNDATED), 0)}
        self._put("manifest", json.dumps(manifest, ensure_ascii=True))

    def _remove_stale(self, albums: list[tuple[str, str]]) -> None:
        """Shards no view names any more (a month emptied, an album gone)."""
        wanted = {"manifest.js", "albums.js"} | {f"{album_shard(s, k)}.js" for s, k in albums}
        for month, count in self.db.execute("SELECT month, count(*) FROM docs GROUP BY month"):
            wanted |= {f"m-{month}-{n}.js" for n in range(-(-count // PART))}
        for name in list_names(self.data):
            if name not in wanted:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.data / name)

    def _write_page(self) -> None:
        static = resources.files(__package__) / "static"
        for name in ASSETS:
            self._write_if_changed(self.folder / name, (static / name).read_bytes())
        page = self.tree.root / "index.html"
        with contextlib.suppress(OSError):
            if MARKER not in page.read_bytes():  # someone's own page (in an adopted folder): never replaced
                self.outcome.warning = (f"{page} is not migrator's viewer: left as it is; the viewer is in "
                                        f"{self.folder}; rename that file to get its index.html")
                return
        self._write_if_changed(page, (static / "index.html").read_bytes())

    def _put(self, shard: str, value_json: str) -> None:
        """One data shard: a script that hands its JSON to the page (JSON is a JavaScript value; ASCII only,
        so no character of the data can end the string early, and `<` escaped: nothing reads as markup)."""
        value = value_json.replace("<", "\\u003c")
        body = f"viewer.take({json.dumps(shard)}, {value});\n".encode("ascii")
        self._write_if_changed(self.data / f"{shard}.js", body)

    def _write_if_changed(self, path: Path, data: bytes) -> None:
        """A cache file, replaced whole (no fsync: it is rebuilt from the sidecars if ever lost)."""
        with contextlib.suppress(OSError):
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return
        part = path.with_name(path.name + ".part")
        part.write_bytes(data)
        os.replace(part, path)
        self.outcome.files += 1


def album_shard(source: str, key: str) -> str:
    return "a-" + hashlib.sha1(f"{source}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _connect(path: Path) -> sqlite3.Connection:
    """A cache written by one run at a time (the folder lock): no -shm file, no sync at each commit."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA locking_mode=EXCLUSIVE")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _read_document(path: str) -> Document | None:
    """The sidecar's record, read without the full check the `local` source makes (it reports a damaged
    sidecar; the viewer only leaves it out): a tenth of the cost, which counts at 100,000 documents."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read())
        return Document.from_json(data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None


def _read_container(path: Path) -> Container | None:
    try:
        data = read_json(path)
        return container_from(data["container"]) if isinstance(data, dict) and "container" in data else None
    except (Damaged, KeyError, TypeError, ValueError):
        return None

"""`catalog`: an SQLite catalogue of every document and album that passed through (no copies of files).

The original is read to its end on each store(): that is where its size and hash are checked, and the
catalogue keeps the hash it read, never one from an earlier run. The sink says `unchanged` itself when
its row already holds this exact record and hash (after a lost state too); ids are opaque text.
"""

import json
import sqlite3
import threading
from pathlib import Path

from migrator import Option, Sink, Stored, hookimpl
from migrator.records import dumps

TABLES = """CREATE TABLE IF NOT EXISTS documents (source TEXT, id TEXT, record TEXT, size INTEGER, sha256 TEXT,
                                                 PRIMARY KEY (source, id));
CREATE TABLE IF NOT EXISTS albums (source TEXT, kind TEXT, id TEXT, record TEXT, PRIMARY KEY (source, kind, id));"""


class Catalog(Sink):
    name = "catalog"
    description = "an SQLite catalogue of what passed through: records, sizes, hashes, albums"
    options = [Option("path", Path, None, "the catalogue file (SQLite), created when missing", required=True)]

    def open(self) -> None:
        self.lock, self.db = threading.Lock(), None

    def account(self) -> str:
        return str(self.config["path"].resolve())

    def _put(self, table: str, keys: tuple[str, ...], row: tuple) -> str:  # new, updated or unchanged
        with self.lock:
            if self.db is None:  # created on the first write: a dry run never writes
                self.config["path"].parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.config["path"], check_same_thread=False)
                self.db.executescript(TABLES)
            where = " AND ".join(f"{key} = ?" for key in keys)
            old = self.db.execute(f"SELECT * FROM {table} WHERE {where}", row[:len(keys)]).fetchone()
            with self.db:
                self.db.execute(f"INSERT OR REPLACE INTO {table} VALUES ({', '.join('?' * len(row))})", row)
            return "new" if old is None else "unchanged" if tuple(old) == row else "updated"

    def store(self, item, previous):
        doc, size, sha256 = item.document, None, None
        if item.original is not None:
            with item.original.open() as stream:  # a short or corrupt stream raises here: nothing written
                while stream.read():
                    pass
            size, sha256 = stream.bytes_read, stream.sha256
        status = self._put("documents", ("source", "id"), (doc.source, doc.id, dumps(doc), size, sha256))
        return Stored(ref=doc.key, status=status, size=size, sha256=sha256)

    def store_container(self, container, previous):
        row = (container.source, container.kind, container.id, json.dumps(container.to_json(), sort_keys=True))
        return Stored(ref=container.key, status=self._put("albums", ("source", "kind", "id"), row))

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


@hookimpl
def register_sinks(register):
    register(Catalog)

"""The SQLite state store: what each sink stored for each record, per sink account.

One row per (kind, origin source, origin id, sink, sink account). A row turns `done` only after the
sink confirmed; a crash mid-run leaves at most a `pending` row, which the next run redoes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .api import StoredRecord
from .checkpoints import checkpoint
from .errors import UsageError
from .paths import writable_file_problem

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, sink TEXT NOT NULL, account TEXT NOT NULL,
    status TEXT NOT NULL, ref TEXT, size INTEGER, sha256 TEXT, updated_at TEXT, fingerprint TEXT,
    data TEXT NOT NULL DEFAULT '{}', attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    title TEXT NOT NULL DEFAULT '', changed REAL NOT NULL, local_copy TEXT,
    PRIMARY KEY (kind, source, id, sink, account)
);
CREATE TABLE IF NOT EXISTS bookmarks (chain TEXT PRIMARY KEY, value TEXT NOT NULL, changed REAL NOT NULL);
CREATE TABLE IF NOT EXISTS memory (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (namespace, key)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, sinks TEXT NOT NULL, started REAL NOT NULL,
    finished REAL, exit_code INTEGER, summary TEXT
);
"""

COLUMNS = ("source, id, sink, account, status, ref, size, sha256, updated_at, fingerprint, data, attempts, last_error,"
           " local_copy")
ADDED_COLUMNS = {"local_copy": "TEXT"}  # columns later versions added to `records`: added to older stores


def default_path() -> Path:
    """The platform's user state folder: XDG_STATE_HOME on Linux, Application Support, LOCALAPPDATA."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "migrator" / "state.sqlite3"


class RunLock:
    """An exclusive lock beside `path` (the state file, a backup folder's marker); the OS drops it if the
    process dies. Plugins use it too, e.g. so two runs never write into one backup folder."""

    def __init__(self, path: Path, what: str = "the state store",
                 hint: str = "or pass --state FILE to use a different store", shown: Path | None = None) -> None:
        self.path = path.with_name(path.name + ".lock")
        self.target, self.what, self.hint = shown or path, what, hint
        self._fd: int | None = None

    def acquire(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_fd(self._fd)
        except OSError:
            os.close(self._fd)
            self._fd = None
            raise UsageError(f"another migrator run is using {self.what} {self.target}; wait for it to finish "
                             f"({self.hint})") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, str(os.getpid()).encode())

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def holder(self) -> int | None:
        """The process id of a run holding the lock now (0 when it wrote none), None when it is free."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
            return None  # no lock file: no run ever held it
        try:
            _lock_fd(fd)
        except OSError:
            pid = os.read(fd, 32).decode("ascii", "replace").strip()
            return int(pid) if pid.isdigit() else 0
        finally:
            os.close(fd)  # closing drops the lock if this took it
        return None


def _lock_fd(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if str(self.path) != ":memory:":
            self._check_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._add_columns()
        except sqlite3.OperationalError as exc:  # e.g. its journal files are read-only: the file is fine
            raise UsageError(f"state store {self.path} cannot be opened: {exc}; check that it, its -wal and -shm "
                             "files and its folder are writable, or pass --state FILE") from None
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one
            raise UsageError(f"state store {self.path} cannot be opened: {exc}; "
                             "move it aside or pass --state FILE") from None
        except OSError as exc:
            raise UsageError(f"state store {self.path} cannot be created: {exc.strerror}") from None
        self._mutex = threading.Lock()

    def _check_path(self) -> None:
        """A path that cannot work is named with its cause: SQLite would only say "unable to open" or
        "readonly database" (it writes a journal beside the file, so the folder must be writable too)."""
        problem = writable_file_problem(self.path)
        if problem is None:
            return
        if self.path.is_file():  # the store exists: keep what it knows
            advice = "make it writable, or copy the file to a writable folder and pass --state with the copy"
        else:
            advice = "pass --state FILE with a file in a writable folder"
        raise UsageError(f"state store {self.path} {problem}; {advice}")

    def _add_columns(self) -> None:
        present = {row[1] for row in self._db.execute("PRAGMA table_info(records)")}
        for name, sql_type in ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE records ADD COLUMN {name} {sql_type}")

    def close(self) -> None:
        with self._mutex:
            self._db.close()

    def _exec(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._mutex:
            return self._db.execute(sql, args).fetchall()

    # -- records --------------------------------------------------------------------------------
    def get(self, kind: str, source: str, record_id: str, sink: str, account: str) -> StoredRecord | None:
        rows = self._exec(f"SELECT {COLUMNS} FROM records WHERE kind=? AND source=? AND id=? AND sink=? "
                          "AND account=?", (kind, source, record_id, sink, account))
        return _record(rows[0]) if rows else None

    def mark(self, kind: str, source: str, record_id: str, sink: str, account: str, status: str, *,
             title: str = "", ref: str | None = None, size: int | None = None, sha256: str | None = None,
             updated_at: str | None = None, fingerprint: str | None = None, data: dict | None = None,
             error: str | None = None, local_copy: str | None = None) -> None:
        """Record an outcome. `failed`/`pending` keep what an earlier success stored (ref, size, hash)."""
        now = time.time()
        if status in ("failed", "pending"):
            self._exec(
                "INSERT INTO records (kind, source, id, sink, account, status, attempts, last_error, title, changed)"
                " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET status=excluded.status,"
                " attempts=attempts+excluded.attempts, last_error=excluded.last_error, changed=excluded.changed",
                (kind, source, record_id, sink, account, status, int(status == "failed"), error, title, now))
            return
        self._exec(
            "INSERT OR REPLACE INTO records (kind, source, id, sink, account, status, ref, size, sha256,"
            " updated_at, fingerprint, data, attempts, last_error, title, changed, local_copy)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,?)",
            (kind, source, record_id, sink, account, status, ref, size, sha256, updated_at, fingerprint,
             json.dumps(data or {}, sort_keys=True), error, title, now, local_copy))

    def records_of(self, kind: str, sink: str, account: str) -> list[StoredRecord]:
        """Everything one sink account holds of one kind (for a sink checking its copies still exist)."""
        rows = self._exec(f"SELECT {COLUMNS} FROM records WHERE kind=? AND sink=? AND account=?",
                          (kind, sink, account))
        return [_record(row) for row in rows]

    def known_ids(self, source: str) -> set[str]:
        rows = self._exec("SELECT DISTINCT id FROM records WHERE kind='document' AND source=?", (source,))
        return {r[0] for r in rows}

    # -- bookmarks ------------------------------------------------------------------------------
    def get_bookmark(self, chain: str) -> str | None:
        rows = self._exec("SELECT value FROM bookmarks WHERE chain=?", (chain,))
        return rows[0][0] if rows else None

    def set_bookmark(self, chain: str, value: str | None) -> None:
        """Save a chain's bookmark; None forgets it, so the next listing starts from the beginning."""
        if value is None:
            self._exec("DELETE FROM bookmarks WHERE chain=?", (chain,))
            return
        self._exec("INSERT OR REPLACE INTO bookmarks (chain, value, changed) VALUES (?,?,?)",
                   (chain, value, time.time()))

    # -- plugin memory --------------------------------------------------------------------------
    def memory_get(self, namespace: str, key: str, default: Any = None) -> Any:
        rows = self._exec("SELECT value FROM memory WHERE namespace=? AND key=?", (namespace, key))
        return json.loads(rows[0][0]) if rows else default

    def memory_set(self, namespace: str, key: str, value: Any) -> None:
        self._exec("INSERT OR REPLACE INTO memory (namespace, key, value) VALUES (?,?,?)",
                   (namespace, key, json.dumps(value, sort_keys=True)))
        checkpoint(f"state:memory-set:{key.split(':', 1)[0]}")

    def memory_set_many(self, namespace: str, values: dict[str, Any]) -> None:
        """Many keys in one transaction (e.g. a whole account listing): all of them or none."""
        rows = [(namespace, k, json.dumps(v, sort_keys=True)) for k, v in values.items()]
        with self._mutex:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO memory (namespace, key, value) VALUES (?,?,?)", rows)
        if rows:  # named after the last key, which by convention says the batch is complete
            checkpoint(f"state:memory-set-many:{rows[-1][1].split(':', 1)[0]}")

    def memory_delete(self, namespace: str, key: str) -> None:
        self._exec("DELETE FROM memory WHERE namespace=? AND key=?", (namespace, key))
        checkpoint(f"state:memory-delete:{key.split(':', 1)[0]}")

    def memory_items(self, namespace: str, prefix: str = "") -> dict[str, Any]:
        # a key range, not substr(): the primary key's index finds the prefix without a scan
        rows = self._exec("SELECT key, value FROM memory WHERE namespace=? AND key>=? AND key<?",
                          (namespace, prefix, prefix + "\U0010ffff"))
        return {k: json.loads(v) for k, v in rows}

    # -- runs and status ------------------------------------------------------------------------
    def run_started(self, source: str, sinks: list[str]) -> int:
        with self._mutex:
            cur = self._db.execute("INSERT INTO runs (source, sinks, started) VALUES (?,?,?)",
                                   (source, ",".join(sinks), time.time()))
            return int(cur.lastrowid)

    def run_finished(self, run_id: int, exit_code: int, summary: dict) -> None:
        self._exec("UPDATE runs SET finished=?, exit_code=?, summary=? WHERE id=?",
                   (time.time(), exit_code, json.dumps(summary), run_id))

    def status(self) -> dict[str, Any]:
        """Counts per (sink, account, kind, status), failures with reasons, the last runs."""
        groups = self._exec("SELECT sink, account, kind, source, status, count(*) FROM records "
                            "GROUP BY sink, account, kind, source, status ORDER BY sink, account, kind, source")
        failed = self._exec("SELECT kind, source, id, sink, account, title, attempts, last_error FROM records "
                            "WHERE status IN ('failed', 'pending') ORDER BY changed")
        runs = self._exec("SELECT source, sinks, started, finished, exit_code, summary FROM runs "
                          "ORDER BY id DESC LIMIT 5")
        skipped = self._exec("SELECT sink, kind, last_error, count(*) FROM records WHERE status='skipped' "
                             "GROUP BY sink, kind, last_error ORDER BY sink, count(*) DESC")
        return {
            "state": str(self.path),
            "counts": [{"sink": s, "account": a, "kind": k, "source": src, "status": st, "count": n}
                       for s, a, k, src, st, n in groups],
            "failed": [{"kind": k, "source": s, "id": i, "sink": sk, "account": a, "title": t,
                        "attempts": n, "reason": e} for k, s, i, sk, a, t, n, e in failed],
            "skipped": [{"sink": sk, "kind": k, "reason": e or "", "count": n} for sk, k, e, n in skipped],
            "runs": [{"source": s, "sinks": sk.split(","), "started": st, "finished": f, "exit_code": c,
                      "summary": json.loads(m) if m else None} for s, sk, st, f, c, m in runs],
        }


def _record(row: tuple) -> StoredRecord:
    source, rid, sink, account, status, ref, size, sha, upd, fp, data, attempts, err, copy = row
    return StoredRecord(source, rid, sink, account, status, ref, size, sha, upd, fp,
                        json.loads(data or "{}"), attempts, err, copy)

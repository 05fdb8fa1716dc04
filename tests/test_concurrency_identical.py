"""The same chain at --jobs 1 and at --jobs 8 leaves the same result: the same files in the backup, the same
photos, sets and set order on Flickr, the same state. Concurrency may change the order in which documents
finish, never what is made of them.

Flickr gives each upload a new photo id in upload order, so photos are compared by the document they came
from (their machine tag), and every Flickr id in sets and state is replaced by that document's id.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from migrator_ipernity.sandbox import IpernitySandbox, build_account

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
from kill_helpers import World, empty_flickr, photos_by_origin  # noqa: E402

N_DOCS = 40  # every media kind, albums sharing documents, hostile titles: enough to overlap 8 workers
# fields of a Flickr photo that name the upload itself rather than what was uploaded
UPLOAD_FIELDS = {"id", "secret", "originalsecret", "server", "farm", "date_uploaded", "last_update"}


def _named(value: Any, origin: dict[str, str]) -> Any:
    """`value` with every Flickr photo id in it replaced by its document's id."""
    if isinstance(value, str):
        return origin.get(value, value)
    if isinstance(value, list):
        return [_named(v, origin) for v in value]
    if isinstance(value, dict):
        return {k: _named(v, origin) for k, v in value.items()}
    return value


def backup_files(backup: Path) -> dict[str, str]:
    """Every file (its sha256) and link (its target) of the backup, the sink's own `.migrator/` aside."""
    found = {}
    for path in sorted(backup.rglob("*")):
        rel = path.relative_to(backup)
        if rel.parts[0] == ".migrator" or (path.is_dir() and not path.is_symlink()):
            continue
        found[str(rel)] = (f"-> {path.readlink()}" if path.is_symlink()
                           else hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def flickr_account(state: dict[str, Any], by_origin: dict[str, list[dict[str, Any]]],
                   origin: dict[str, str]) -> dict[str, Any]:
    photos = {origin.get(p["id"], p["id"]): {k: _named(v, origin) for k, v in p.items() if k not in UPLOAD_FIELDS}
              for p in state["photos"]}
    set_names = {s["id"]: f"set {i}" for i, s in enumerate(state["photosets"])}
    for photo in photos.values():
        photo["sets"] = sorted(set_names.get(s, s) for s in photo["sets"])
        if photo["date_taken_unknown"]:  # Flickr puts the time of upload there
            photo.pop("date_taken")
    sets = [{"title": s["title"], "description": s["description"], "primary": origin.get(s["primary"]),
             "photos": _named(s["photos"], origin)} for s in state["photosets"]]
    return {"photos": photos, "sets": sets, "by_origin": {k: len(v) for k, v in by_origin.items()}}


def state_rows(path: Path, backup: Path, origin: dict[str, str]) -> list[tuple]:
    """The state's records with the run-specific parts (times, the backup's path, Flickr ids) named alike."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT kind, source, id, sink, account, status, ref, size, sha256, updated_at, "
                          "fingerprint, data, attempts, last_error, title, local_copy FROM records").fetchall()
    normal = []
    for kind, source, rid, sink, account, status, ref, size, sha, upd, fp, data, attempts, err, title, copy in rows:
        account = account.replace(str(backup), "BACKUP")
        copy = copy.replace(str(backup), "BACKUP") if copy else copy
        if sink == "flickr":
            ref = origin.get(ref, ref) if kind == "document" else "SET"
            data = json.dumps(_named(json.loads(data), origin), sort_keys=True)
        normal.append((kind, source, rid, sink, account, status, ref, size, sha, upd, fp, data, attempts, err,
                       title, copy))
    return sorted(normal)


def chain_at(tmp: Path, ip: IpernitySandbox, jobs: int) -> tuple[dict[str, str], dict[str, Any], list[tuple]]:
    with empty_flickr() as fl:
        world = World(tmp / f"jobs{jobs}", ("ipernity", "local", "flickr"),
                      [*ip.cli_options(), *fl.cli_options(backoff=0.01), "-o", "flickr.rate=0"], jobs=jobs)
        result = world.run()
        assert result.returncode == 0, result.stderr[-3000:]
        state = fl.state()
    by_origin = photos_by_origin(state)
    origin = {p["id"]: doc_id for doc_id, photos in by_origin.items() for p in photos}
    return (backup_files(world.backup), flickr_account(state, by_origin, origin),
            state_rows(world.state, world.backup, origin))


def test_every_concurrency_gives_the_same_backup_flickr_account_and_state(tmp_path):
    with IpernitySandbox(seed=0, account=build_account(0, n_docs=N_DOCS)) as ip:  # one server: URLs alike
        files1, flickr1, state1 = chain_at(tmp_path, ip, 1)
        assert files1 and all(n == 1 for n in flickr1["by_origin"].values())  # each document uploaded once
        for jobs in (3, 8):
            files_n, flickr_n, state_n = chain_at(tmp_path, ip, jobs)
            assert files_n == files1, jobs
            assert flickr_n == flickr1, jobs
            assert state_n == state1, jobs

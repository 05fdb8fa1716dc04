"""A backup file the `local` source cannot read is a failure naming the file, never a silent skip or a crash.

Each test damages files of a backup folder this sink wrote, replays it through the CLI into the test
`folder` sink and checks: exit 1, one failure per damaged file naming its path inside the backup and the
way out, the other documents migrated, no traceback. (Other tools' folders: tests/test_formats_damaged.py.)
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from damage_helpers import (
    FIX,
    dangling_link,
    edit,
    empty,
    folder_instead,
    migrated,
    not_utf8,
    reasons,
    replay,
    truncate,
)
from local_helpers import mem_doc, write_json

# -- this sink's own backups ----------------------------------------------------------------------
DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncate, "not valid JSON"),
    "title-object": (edit("title", {"text": "x"}), "title is an object"),
    "tags-text": (edit("tags", "sea beach"), "tags is a text"),
    "visibility-list": (edit("visibility", []), "visibility is a list"),
    "geo-text": (edit("geo", {"latitude": "north", "longitude": 2}), "geo.latitude is a text"),
    "size-negative": (edit("file", {"ext": "jpg", "size": -3}), "file.size is -3, out of range"),
    "albums-numbers": (edit("albums", [1, 2]), "albums[0] is a number"),
    "safety-text": (edit("safety", "2"), "safety is '2'"),
    "another-id": (edit("id", "999"), "holds the record of mem:999, not the mem:"),
    "not-utf8": (not_utf8, "not UTF-8"),
    "empty": (empty, "is empty"),
    "a-folder": (folder_instead, "is a folder"),
    "dangling-link": (dangling_link, "dangling"),
}


@pytest.fixture
def own_backup(cli, home: Path) -> Path:
    """A backup of len(DAMAGES) + 2 documents, ids 1.., written by the local sink."""
    docs = [mem_doc(str(n)) for n in range(1, len(DAMAGES) + 3)]
    data = write_json(home / "docs.json", {"documents": docs, "containers": [
        {"kind": "album", "id": "a1", "title": "Trip", "members": ["1", "2"]}]})
    out = home / "out"
    assert cli.backup(data, out).returncode == 0
    return out


def sidecar(out: Path, doc_id: str) -> Path:
    return next((out / "mem" / "2019").glob(f"*[[]{doc_id}].json"))


def test_damaged_sidecars_fail_by_name_and_the_rest_migrates(cli, home, own_backup):
    paths = {}
    for n, (damage, _) in enumerate(DAMAGES.values(), 1):
        paths[n] = sidecar(own_backup, str(n))
        damage(paths[n])
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 1, result.stderr
    assert report["counts"]["failed"] == len(DAMAGES) and report["exit_code"] == 1
    found = reasons(report)
    for n, (name, (_, what)) in enumerate(DAMAGES.items(), 1):
        reason = found.get(f"mem:{n}", "")
        rel = paths[n].relative_to(own_backup).as_posix()
        assert reason.startswith(rel) and what in reason and reason.endswith(FIX), (name, reason)
        assert rel in result.stderr
    good = {str(n) for n in range(len(DAMAGES) + 1, len(DAMAGES) + 3)}
    assert migrated(home) == {f"mem-{n}" for n in good}


def test_a_fixed_sidecar_replaces_its_failure(cli, home, own_backup):
    path = sidecar(own_backup, "1")
    text = path.read_text("utf-8")
    truncate(path)
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 1 and list(reasons(report)) == ["mem:1"]
    path.write_text(text, "utf-8")
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 0, result.stderr
    assert "mem-1" in migrated(home) and report["counts"]["failed"] == 0


def test_odd_but_clear_optional_fields_still_migrate(cli, home, own_backup):
    for field, value in (("title", None), ("tags", None), ("albums", None), ("description", None)):
        edit(field, value)(sidecar(own_backup, "1"))
    edit("unknown_note", "kept by hand")(sidecar(own_backup, "2"))
    bom = sidecar(own_backup, "3")  # saved by a Windows editor
    bom.write_bytes(b"\xef\xbb\xbf" + bom.read_bytes())
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 0, result.stderr
    record = json.loads((home / "replay" / "mem-1.json").read_text("utf-8"))
    assert (record["title"], record["tags"], record["albums"]) == ("", [], [])
    assert {"mem-2", "mem-3"} <= migrated(home)


def test_a_damaged_album_file_fails_by_name(cli, home, own_backup):
    album = own_backup / "mem" / "Albums" / "Trip [a1]" / "album.json"
    edit("container", {"schema": 1, "kind": "album", "source": "mem", "id": "a1", "members": "1 2"})(album)
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 1, result.stderr
    reason = reasons(report)["mem:album:a1"]
    assert reason.startswith("mem/Albums/Trip [a1]/album.json") and "members is a text" in reason
    assert report["counts"]["failed"] == 1 and len(migrated(home)) == len(DAMAGES) + 2


def test_a_damaged_index_fails_by_name_and_the_sidecars_still_replay(cli, home, own_backup):
    with contextlib.closing(sqlite3.connect(own_backup / ".migrator" / "index.sqlite3")) as db, db:
        db.execute("UPDATE docs SET ext = '../../../etc/passwd' WHERE rowid = (SELECT min(rowid) FROM docs)")
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 1, result.stderr
    reason = reasons(report)["migrator-local:index"]
    assert reason.startswith(".migrator/index.sqlite3 has a bad entry for mem:") and "remove it" in reason
    assert len(migrated(home)) == len(DAMAGES) + 2


def test_an_older_migrators_damaged_index_json_fails_by_name(cli, home, own_backup):
    (own_backup / ".migrator" / "index.sqlite3").unlink()
    bad = {"format": "migrator-local", "version": 1, "documents": {"mem": {"1": {"stem": "x", "ext": "../x"}}}}
    write_json(own_backup / ".migrator" / "index.json", bad)
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 1, result.stderr
    reason = reasons(report)["migrator-local:index"]
    assert reason.startswith(".migrator/index.json has a bad entry for mem:1") and "remove it" in reason
    assert len(migrated(home)) == len(DAMAGES) + 2


def test_a_file_that_is_no_index_fails_by_name(cli, home, own_backup):
    (own_backup / ".migrator" / "index.sqlite3").write_bytes(b"not a database, but long enough " * 100)
    result, report = replay(cli, home, own_backup)
    assert result.returncode == 1, result.stderr
    assert reasons(report)["migrator-local:index"].startswith(".migrator/index.sqlite3 is not an index")
    assert len(migrated(home)) == len(DAMAGES) + 2

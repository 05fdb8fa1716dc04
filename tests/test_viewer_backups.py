"""The offline viewer of backups the local sink writes from other routes than ipernity: a Flickr mirror
(`migrator run flickr local`) and Flickr's data export (`migrator run local local`). Every document the backup
holds is in the viewer's data, the sets in Flickr's order with their members in order, and every photo has a
thumbnail that decodes (the sandbox's photos are real JPEGs); the browser test covers the pages themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox.export import Defects, write_export
from PIL import Image

ENV = {"MIGRATOR_LOAD_PLUGINS": "flickr,local"}
VIEWER = Path(".migrator") / "viewer"


def shard(path: Path) -> Any:
    """What a data file hands to the page (`viewer.take(name, JSON);`)."""
    text = path.read_text("ascii")
    return json.loads(text[text.index(", ") + 2:-3])


def sidecar_ids(backup: Path) -> list[str]:
    found = (json.loads(p.read_text("utf-8")) for p in backup.rglob("*.json") if ".migrator" not in p.parts)
    return sorted(r["id"] for r in found if isinstance(r, dict) and r.get("kind") == "document")


def check_viewer(backup: Path, account: Any, missing: tuple[str, ...] = ()) -> None:
    data = backup / VIEWER / "data"
    docs = {d["id"]: d for path in data.glob("m-*.js") for d in shard(path)}
    assert sorted(docs) == sidecar_ids(backup) and shard(data / "manifest.js")["total"] == len(docs)
    listing = shard(data / "albums.js")
    assert [a["title"] for a in listing["albums"]] == [s.title for s in account.photosets]
    for album, photoset in zip(listing["albums"], account.photosets):
        members = [m["id"] for m in shard(data / f"{album['shard']}.js")]
        assert members == [p for p in photoset.photos if p not in missing], photoset.title
    for doc in docs.values():
        if doc["media"] == "photo":
            with Image.open(backup / unquote(doc["thumb"])) as thumb:
                assert thumb.format == "JPEG" and max(thumb.size) <= 320
        else:
            assert doc["thumb"] is None  # a video shows a placeholder


@pytest.fixture
def account() -> Any:
    return build_seeded_account(4, n_photos=14)


def test_the_viewer_of_a_flickr_mirror(cli, home, account):
    backup = home / "backup"
    with FlickrSandbox(account=account, retry_after=0) as sb:
        result = cli("run", "flickr", "local", *sb.cli_options("read"), "-o", f"local.path={backup}",
                     "--state", str(home / "state.sqlite3"), env=ENV)
    assert result.returncode == 0, result.stderr
    assert (backup / "index.html").is_file()
    check_viewer(backup, account)


def test_the_viewer_of_a_backup_made_from_flickrs_data_export(cli, home, account):
    written = write_export(account, home / "export", Defects(missing=1), per_zip=5)
    backup = home / "backup"
    result = cli("run", "local", "local", "-o", f"local.source.path={home / 'export'}",
                 "-o", f"local.sink.path={backup}", "--state", str(home / "state.sqlite3"), env=ENV)
    assert result.returncode == 1, result.stderr  # the missing original is a failed document
    check_viewer(backup, account, missing=tuple(written.missing))

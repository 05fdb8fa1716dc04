"""Flickr's data export replayed straight into Immich: `migrator run local immich` on the export folder (issues
13 and 14 together). Every photo and video the archives hold arrives once, byte for byte, in its albums; the
original the export lacks is listed by id and title, not dropped; a rerun uploads nothing."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from pathlib import Path

from migrator_flickr.sandbox import build_seeded_account
from migrator_flickr.sandbox.export import Defects, write_export
from migrator_immich.sandbox import ImmichSandbox

from migrator.testing.cli import CliRunner

ENV = {"MIGRATOR_LOAD_PLUGINS": "flickr,local,immich"}


def checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def test_an_export_goes_into_immich_once_with_its_albums_and_its_gap_listed(home: Path) -> None:
    account = build_seeded_account(3, n_photos=16)
    written = write_export(account, home / "export", Defects(missing=1), per_zip=6)
    assert len(written.archives) >= 3  # the metadata ZIP and several media ZIPs
    cli = CliRunner(None, home)
    with ImmichSandbox() as immich:
        run = ("run", "local", "immich", "-o", f"local.source.path={home / 'export'}", *immich.cli_options(),
               "--state", str(home / "state.sqlite3"))
        first = cli(*run, "--report", str(home / "first.json"), env=ENV)
        assert first.returncode == 1, first.stderr  # the missing original fails, the rest lands
        report = json.loads((home / "first.json").read_text("utf-8"))
        [gap] = written.missing
        photo = account.photos[gap]
        assert [(f["source"], f["id"]) for f in report["failed"]] == [("flickr", gap)]
        assert photo.title in first.stdout + first.stderr

        state = immich.state()
        held = Counter(asset["checksum"] for asset in state["assets"])
        for photo_id, photo in account.photos.items():
            expected = 0 if photo_id == gap else 1
            assert held[checksum(photo.read_original())] == expected, photo_id
        assert sum(held.values()) == len(account.photos) - 1

        by_checksum = {asset["id"]: asset["checksum"] for asset in state["assets"]}
        # two sets may share a title (the seeded account has two "Holidays"): compare them as a multiset
        held_albums = sorted((album["albumName"], sorted(by_checksum[a] for a in album["assets"]))
                             for album in state["albums"])
        expected_albums = sorted((photoset.title, sorted(checksum(account.photos[p].read_original())
                                                         for p in photoset.photos if p != gap))
                                 for photoset in account.photosets)
        assert held_albums == expected_albums

        uploads = len(state["assets"])
        again = cli(*run, "--report", str(home / "again.json"), env=ENV)
        assert again.returncode == 1, again.stderr  # the gap is still there, and still said
        assert len(immich.state()["assets"]) == uploads
        assert len(immich.state()["albums"]) == len(state["albums"])

"""Flickr's data export through the CLI: `migrator run local local` on the sandbox's export (archives arriving
one at a time, a missing original and an orphan file listed by id and title in the report and `migrator status`),
the export and `migrator run flickr local` into one backup in both orders (no document twice), `local flickr`,
and the `migrator sandbox flickr export` first try."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox.export import Defects, write_export

ENV = {"MIGRATOR_LOAD_PLUGINS": "flickr,local"}
N_PHOTOS = 24


@pytest.fixture
def sb() -> Iterator[FlickrSandbox]:
    with FlickrSandbox(account=build_seeded_account(2, n_photos=N_PHOTOS), retry_after=0) as sandbox:
        yield sandbox


class Backup:
    """Runs into one backup folder and state file, a report per run."""

    def __init__(self, cli: Any, home: Path) -> None:
        self.cli, self.home = cli, home
        self.folder, self.state = home / "backup", home / "state.sqlite3"
        self.runs = 0

    def run(self, source: str, *options: str, ok: bool = True) -> dict[str, Any]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli("run", source, "local", *options, "-o", f"local.sink.path={self.folder}", "--state",
                          str(self.state), "--report", str(report), env=ENV)
        assert (result.returncode == 0) == ok, result.stderr
        return json.loads(report.read_text("utf-8"))

    def from_export(self, export: Path, ok: bool = True) -> dict[str, Any]:
        return self.run("local", "-o", f"local.source.path={export}", ok=ok)

    def records(self) -> list[dict[str, Any]]:
        """The document records of the backup's sidecars."""
        found = (json.loads(path.read_text("utf-8")) for path in self.folder.rglob("*.json"))
        return [data for data in found if isinstance(data, dict) and data.get("kind") == "document"]

    def documents(self) -> Counter:
        """How many record sidecars the backup holds per document key."""
        return Counter(f"{data['source']}:{data['id']}" for data in self.records())


# what both routes know alike (the export lacks the taken date's precision and merges friends and family; the
# API's listing gives tags in Flickr's squeezed form, no safety and comment authors by name, not by NSID)
SHARED = ("source", "id", "media", "title", "description", "posted_at", "license", "geo", "rotation", "position",
          "albums")


def shared(record: dict[str, Any]) -> dict[str, Any]:
    return {**{key: record[key] for key in SHARED}, "size": record["file"]["size"],
            "taken_at": record["taken_at"] if record["taken_granularity"] else "unknown"}


def media_archives(export: Path) -> dict[str, list[str]]:
    return {p.name: zipfile.ZipFile(p).namelist() for p in sorted(export.glob("data-download-*.zip"))}


def test_archives_one_at_a_time_and_every_problem_listed_by_id_and_title(cli, home, sb):
    staging, export = home / "download", home / "export"
    written = write_export(sb.account, staging, Defects(missing=1, orphans=1), per_zip=10)
    export.mkdir()
    held = written.archives[-1]
    for name in written.archives[:-1]:
        shutil.copy(staging / name, export / name)
    in_held = {pid for pid, name in written.media_names.items() if name in zipfile.ZipFile(staging / held).namelist()}
    [missing], [orphan] = written.missing, written.orphans
    backup = Backup(cli, home)

    first = backup.from_export(export, ok=False)
    waiting = (in_held | {missing}) - {orphan}  # an orphan is unseen until its archive comes
    assert {f["id"] for f in first["failed"]} == waiting | ({orphan} - in_held)
    assert first["counts"]["new"] == N_PHOTOS - len(first["failed"])
    titles = {f["id"]: f["title"] for f in first["failed"]}
    assert titles[missing] == sb.account.photos[missing].title
    status = cli("status", "--state", str(backup.state), env=ENV).stdout
    assert f"flickr:{missing} {sb.account.photos[missing].title!r}" in status and "holds no original" in status

    shutil.copy(staging / held, export / held)
    second = backup.from_export(export, ok=False)
    assert {f["id"]: f["title"] for f in second["failed"]} == {
        missing: sb.account.photos[missing].title, orphan: written.media_names[orphan]}
    assert second["counts"]["new"] == len(in_held - {orphan}) and second["counts"]["updated"] == 0
    assert second["counts"]["unchanged"] == first["counts"]["new"]
    assert any("2 without their original" not in w["warning"] and "1 without their original" in w["warning"]
               for w in second["warnings"])
    assert set(backup.documents().values()) == {1} and len(backup.documents()) == N_PHOTOS - 2


@pytest.mark.parametrize("export_first", [True, False], ids=["export-then-api", "api-then-export"])
def test_the_export_and_the_api_make_one_backup_without_a_document_twice(cli, home, sb, export_first):
    export = home / "export"
    write_export(sb.account, export, per_zip=10)
    backup = Backup(cli, home)
    api = ("flickr", *sb.cli_options("read"))
    first = backup.from_export(export) if export_first else backup.run(*api)
    before = {r["id"]: shared(r) for r in backup.records()}
    second = backup.run(*api) if export_first else backup.from_export(export)
    after = {r["id"]: shared(r) for r in backup.records()}
    unknown = {pid for pid, p in sb.account.photos.items() if p.date_taken_unknown}
    for photo_id in sb.account.photos:  # the same record, field by field, whichever route made it
        if photo_id in unknown:  # the export knows no unknown date: it has the one the API gives for it
            before[photo_id].pop("taken_at"), after[photo_id].pop("taken_at")
        assert before[photo_id] == after[photo_id]
    assert first["counts"]["new"] == N_PHOTOS and second["counts"]["new"] == 0
    assert second["counts"]["updated"] + second["counts"]["unchanged"] == N_PHOTOS
    held = backup.documents()
    assert set(held) == {f"flickr:{pid}" for pid in sb.account.photos} and set(held.values()) == {1}
    # the same albums by the same ids; collections only the API knows (without credentials, the export run
    # does not ask it)
    collections = 4
    assert second["containers"].get("new", 0) == (collections if export_first else 0)
    assert second["containers"]["listed"] == len(sb.account.photosets) + (collections if export_first else 0)


def test_local_flickr_replays_an_export_to_flickr(cli, home, sb):
    export = home / "export"
    write_export(sb.account, export, Defects.none(), per_zip=10)
    with FlickrSandbox(seed=9, retry_after=0) as target:
        report = home / "report.json"
        result = cli("run", "local", "flickr", "-o", f"local.path={export}", *target.cli_options("write"),
                     "--state", str(home / "state.sqlite3"), "--report", str(report), env=ENV)
        assert result.returncode == 0, result.stderr
        assert json.loads(report.read_text("utf-8"))["counts"]["new"] == N_PHOTOS
        uploaded = {p.sha256 for p in target.account.photos.values()}
        titles = sorted(s.title for s in target.account.photosets)
    assert uploaded == {p.sha256 for p in sb.account.photos.values()}
    assert titles == sorted(s.title for s in sb.account.photosets)


def test_a_first_try_with_the_sandbox_export_command(cli, home):
    sandbox = home / "sandbox"
    made = cli("sandbox", "--sandbox-dir", str(sandbox), "flickr", "export", "--missing", "1", env=ENV)
    assert made.returncode == 0, made.stderr
    export = sandbox / "flickr-export"
    assert "originals left out" in made.stdout and f"local.source.path={export}" in made.stdout
    assert len(list(export.glob("*_part1.zip"))) == 1 and list(export.glob("data-download-1.zip"))
    result = cli("run", "local", "local", "--sandbox-dir", str(sandbox), "-o", f"local.source.path={export}",
                 env=ENV)
    assert result.returncode != 0 and "59 new" in result.stdout + result.stderr and "1 failed" in result.stdout


def test_hybrid_through_the_cli_counts_listing_calls_only(cli, home, sb):
    """On a free account: the calls made are those it may make (no original, no size, nothing per photo)."""
    sb.knobs.set(free_account=True)
    export = home / "export"
    write_export(sb.account, export, Defects(orphans=1), per_zip=10)
    backup = Backup(cli, home)
    options = sb.cli_options("read")
    sb.reset_counters()
    report = backup.run("local", "-o", f"local.source.path={export}", *options)
    assert dict(sb.calls) == {"flickr.people.getPhotos": 1, "flickr.photosets.getList": 1,
                              "flickr.collections.getTree": 1} and sb.file_requests == []
    assert report["api_calls"]["local"] == dict(sb.calls)
    assert report["counts"]["new"] == N_PHOTOS and report["containers"]["new"] == len(sb.account.photosets) + 4
    [said] = [w["warning"] for w in report["warnings"] if "from flickr.people.getPhotos" in w["warning"]]
    assert "everything else from the export" in said
    for path in backup.folder.rglob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        if data.get("kind") == "document":
            photo = sb.account.photos[data["id"]]
            assert data["visibility"] == {"public": bool(photo.is_public), "friends": bool(photo.is_friend),
                                          "family": bool(photo.is_family)}

"""Chains of plugins that end on the Flickr sandbox, for the tests/test_chain_flickr_*.py files.

`Replay`: a small ipernity backup replayed with `migrator run local flickr`, and what the account must
look like afterwards (read from the backup itself, so a test that edits the backup moves the
expectation with it). `Chain`: `migrator run ipernity folder flickr` between the two sandboxes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from calendar import timegm
from pathlib import Path
from time import strptime
from typing import Any

import pytest
from kill_helpers import FLICKR_LICENSE, YEAR_2000, photos_by_origin
from migrator_flickr.client import machine_tag
from migrator_flickr.licenses import FLICKR
from migrator_flickr.sandbox import FlickrSandbox
from migrator_flickr.sandbox.model import Account as FlickrAccount
from migrator_ipernity.sandbox import IpernitySandbox, build_account
from migrator_ipernity.sandbox.truth import LICENSES

from migrator.licenses import service_code
from migrator.testing.cli import CliRunner

N_DOCS = 10  # 7 photos, 1 video, 1 audio, 1 other; 17 albums (15 with media), hostile titles included
ENV = {"MIGRATOR_LOAD_PLUGINS": "ipernity,local,flickr"}
CHAIN_ENV = {"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity,flickr"}
RUN_TIMEOUT = 60


def isolated_env(home: Path) -> dict[str, str]:
    """Config, state and tokens of a run that happens outside the per-test `home` fixture."""
    return {**ENV, "MIGRATOR_CONFIG_DIR": str(home / "config"), "HOME": str(home / "home"),
            "XDG_CONFIG_HOME": str(home / "xdg_config"), "XDG_STATE_HOME": str(home / "xdg_state")}


def make_backup(folder: Path, n_docs: int = N_DOCS) -> Path:
    """`migrator run ipernity local` of a small sandbox account into `folder/backup`, once."""
    folder.mkdir(parents=True, exist_ok=True)
    with IpernitySandbox(seed=0, account=build_account(0, n_docs=n_docs)) as ip:
        args = ["run", "ipernity", "local", *ip.cli_options(), "-o", f"local.path={folder / 'backup'}",
                "--state", str(folder / "state.sqlite3")]
        result = subprocess.run([sys.executable, "-m", "migrator", *args], capture_output=True, text=True,
                                env=CliRunner(None, folder).env(isolated_env(folder)), timeout=RUN_TIMEOUT,
                                cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "backup"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backup every Replay of a test module starts from (a test module imports this fixture)."""
    return make_backup(tmp_path_factory.mktemp("template"))


class Replay:
    """`migrator run local flickr` of a copy of the template backup onto a fresh Flickr sandbox."""

    def __init__(self, cli: CliRunner, home: Path, template: Path) -> None:
        self.cli, self.home = cli, home
        self.backup = home / "backup"
        shutil.copytree(template, self.backup, symlinks=True)
        self.state = home / "state.sqlite3"
        self.fl = FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", created_at=YEAR_2000)).start()
        self.runs = 0

    def close(self) -> None:
        self.fl.stop()

    def run(self, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
        """One run; returns the process and its --report (empty when none was written)."""
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli("run", "local", "flickr", "-o", f"local.path={self.backup}",
                          *self.fl.cli_options(backoff=0.01), "--state", str(self.state), "--report", str(report),
                          *extra, env={**ENV, **(env or {})}, timeout=RUN_TIMEOUT)
        return result, (json.loads(report.read_text("utf-8")) if report.exists() else {})

    def run_to_the_end(self, *extra: str) -> list[subprocess.CompletedProcess]:
        """A run that must end cleanly: exit 0, or a documented 'rerun' code (1 some documents failed,
        4 stopped) whose plain rerun then exits 0. Never a traceback."""
        first, _ = self.run(*extra)
        results = [first]
        assert "Traceback" not in first.stderr, first.stderr
        if first.returncode != 0:
            assert first.returncode in (1, 4), (first.returncode, first.stderr)
            again, _ = self.run(*extra)
            results.append(again)
            assert again.returncode == 0, again.stderr
            assert "Traceback" not in again.stderr, again.stderr
        return results

    # -- the backup: what the account must hold ---------------------------------------------------------
    def documents(self) -> dict[str, dict[str, Any]]:
        """Every record in the backup by id (photos and videos only: Flickr skips the rest)."""
        found = {}
        for path in (self.backup / "ipernity").glob("*/*].json"):
            record = json.loads(path.read_text("utf-8"))
            if isinstance(record, dict) and record.get("media") in ("photo", "video"):
                found[record["id"]] = record
        return found

    def sidecar(self, doc_id: str) -> Path:
        return next(p for p in (self.backup / "ipernity").glob(f"*/*[[]{doc_id}].json"))

    def edit_document(self, doc_id: str, **fields: Any) -> None:
        """What an edit at the source becomes in the backup: the sidecar record changes."""
        path = self.sidecar(doc_id)
        record = json.loads(path.read_text("utf-8"))
        record.update(fields)
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True), "utf-8")

    def album_files(self) -> dict[str, Path]:
        return {json.loads(p.read_text("utf-8"))["container"]["id"]: p
                for p in (self.backup / "ipernity" / "Albums").glob("*/album.json")}

    def albums(self) -> dict[str, dict[str, Any]]:
        """Album containers by id, with members in album order."""
        return {album_id: json.loads(path.read_text("utf-8"))["container"]
                for album_id, path in self.album_files().items()}

    def reorder_album(self, album_id: str, members: list[str]) -> None:
        """The album's order changed at the source."""
        path = self.album_files()[album_id]
        data = json.loads(path.read_text("utf-8"))
        data["container"]["members"] = list(members)
        data["ids"] = list(members)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True), "utf-8")

    def media_albums(self) -> dict[str, dict[str, Any]]:
        """Albums that become a set: those with at least one photo or video."""
        docs = self.documents()
        return {a: c for a, c in self.albums().items() if any(m in docs for m in c["members"])}

    # -- the Flickr account ---------------------------------------------------------------------------------
    def photos_by_origin(self) -> dict[str, list[dict[str, Any]]]:
        return photos_by_origin(self.fl.state())

    def photo_of(self, doc_id: str) -> dict[str, Any]:
        return self.photos_by_origin()[doc_id][0]

    def set_of(self, album_id: str) -> dict[str, Any]:
        """The one set holding this album: same title, same members (any order)."""
        album = self.albums()[album_id]
        by_origin = self.photos_by_origin()
        members = {by_origin[m][0]["id"] for m in album["members"] if m in by_origin}
        matching = [s for s in self.fl.state()["photosets"]
                    if s["title"] == (album["title"] or "untitled") and set(s["photos"]) == members]
        assert len(matching) == 1, (album["title"], matching)
        return matching[0]

    def assert_replayed(self, skip: set[str] = frozenset()) -> None:
        """One Flickr photo per document with its metadata, one set per album, complete and in album order
        (documents in `skip` are expected to be absent)."""
        docs = {i: d for i, d in self.documents().items() if i not in skip}
        by_origin = self.photos_by_origin()
        state = self.fl.state()
        assert set(by_origin) == set(docs)
        assert all(len(v) == 1 for v in by_origin.values()), "a document was uploaded twice"
        assert len(state["photos"]) == len(docs)
        for doc_id, doc in docs.items():
            assert_photo(by_origin[doc_id][0], doc)
        albums = self.media_albums()
        sets = state["photosets"]
        assert len(sets) == len(albums), "one set per album"
        for album in albums.values():
            order = [by_origin[m][0]["id"] for m in album["members"] if m in by_origin]
            matching = [s for s in sets if s["title"] == (album["title"] or "untitled") and s["photos"] == order]
            assert len(matching) == 1, f"set {album['title']!r} missing, incomplete or out of order"
            assert matching[0]["description"] == album["description"]


def assert_photo(photo: dict[str, Any], doc: dict[str, Any]) -> None:
    """A Flickr photo carries the record's metadata."""
    assert (photo["title"], photo["description"]) == (doc["title"], doc["description"]), doc["id"]
    wanted = [t.replace('"', "'").strip() for t in doc["tags"] if t.strip()] + [machine_tag("ipernity", doc["id"])]
    assert sorted(photo["tags"] + photo["machine_tags"]) == sorted(wanted), doc["id"]
    vis = doc["visibility"]
    assert (photo["is_public"], photo["is_friend"], photo["is_family"]) == \
        (int(vis["public"]), int(vis["friends"]), int(vis["family"])), doc["id"]
    if doc.get("taken_at"):
        assert photo["date_taken"] == doc["taken_at"].replace("T", " "), doc["id"]
    assert photo["date_posted"] == timegm(strptime(doc["posted_at"], "%Y-%m-%dT%H:%M:%SZ")), doc["id"]
    if doc.get("geo"):
        assert abs(photo["geo"]["latitude"] - doc["geo"]["latitude"]) < 1e-6, doc["id"]
        assert abs(photo["geo"]["longitude"] - doc["geo"]["longitude"]) < 1e-6, doc["id"]
    code = service_code(FLICKR, doc["license"])
    assert str(photo["license"]) == (code if code not in (None, "7") else "0"), doc["id"]
    assert photo["original"]["size"] == doc["file"]["size"], doc["id"]


def assert_no_traceback(*results: subprocess.CompletedProcess) -> None:
    for result in results:
        assert "Traceback" not in result.stderr + result.stdout, result.stderr


def write_calls(sb: FlickrSandbox) -> dict[str, int]:
    """The calls of the last run that change something on Flickr."""
    readers = ("flickr.test.", "flickr.people.", "flickr.photos.getInfo", "flickr.photos.getAllContexts",
               "flickr.photosets.getList", "flickr.photosets.getPhotos", "flickr.photosets.getInfo",
               "flickr.photos.search", "flickr.photos.getSizes")
    return {m: n for m, n in sb.calls.items() if n and not m.startswith(readers)}


class Chain:
    """`migrator run ipernity folder flickr` between the two sandboxes, a report per run."""

    def __init__(self, cli: CliRunner, ipernity: IpernitySandbox, flickr: FlickrSandbox, home: Path,
                 folder_args: tuple[str, ...] = ("-o", "folder.skip_media=none")) -> None:
        self.cli, self.ip, self.fl, self.home = cli, ipernity, flickr, home
        self.folder_args = folder_args
        self.state = home / "state.sqlite3"
        self.token = ipernity.grant_token(perm_doc="read")
        self.runs = 0

    def args(self, *extra: str, sinks: tuple[str, ...] = ("folder", "flickr"), rate: float = 0) -> list[str]:
        return ["run", "ipernity", *sinks, *self.ip.cli_options(self.token), "-o", f"folder.path={self.home / 'out'}",
                *self.folder_args, *self.fl.cli_options(rate=rate), "--state", str(self.state), *extra]

    def __call__(self, *extra: str, rate: float = 0) -> tuple[subprocess.CompletedProcess, dict]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli(*self.args(*extra, "--report", str(report), rate=rate), env=CHAIN_ENV)
        return result, (json.loads(report.read_text()) if report.exists() else {})

    def photos_by_origin(self) -> dict[str, list[dict]]:
        return photos_by_origin(self.fl.state())

    def assert_replayed(self, dates_allowed: bool = True, geo_allowed: bool = True,
                        default_license: int = 0) -> None:
        """Every photo and video exactly once, every field and set as the ipernity ground truth says."""
        account = self.ip.account
        by_origin = self.photos_by_origin()
        media = [d for d in account.docs if d.media in ("photo", "video")]
        assert set(by_origin) == {d.doc_id for d in media}
        assert all(len(v) == 1 for v in by_origin.values()), "a document was uploaded twice"
        assert len(self.fl.state()["photos"]) == len(media)
        for doc in media:
            photo = by_origin[doc.doc_id][0]
            assert photo["title"] == doc.title
            assert photo["description"] == doc.description
            assert sorted(photo["tags"] + photo["machine_tags"]) == sorted(
                [t["tag"].replace('"', "'").strip() for t in doc.tags if t["tag"].strip()]
                + [machine_tag("ipernity", doc.doc_id)]), doc.doc_id
            assert (photo["is_public"], photo["is_friend"], photo["is_family"]) == \
                (doc.ispublic, doc.isfriend, doc.isfamily)
            assert photo["safety_level"] == doc.safety
            if not doc.created_at.startswith("0000"):
                assert photo["date_taken"] == doc.created_at and photo["date_taken_granularity"] == 0
            if dates_allowed:
                assert photo["date_posted"] == doc.posted_at
            if doc.geo and geo_allowed:
                assert abs(photo["geo"]["latitude"] - doc.geo["lat"]) < 1e-6
                assert abs(photo["geo"]["longitude"] - doc.geo["lng"]) < 1e-6
            # a license Flickr lacks (copyleft) stays at the account's default
            assert photo["license"] == FLICKR_LICENSE.get(LICENSES[doc.license], default_license)
            assert photo["original"]["size"] == doc.original.bytes
        sets = {s["id"]: s for s in self.fl.state()["photosets"]}
        wanted = [a for a in account.albums if any(account.doc(i).media in ("photo", "video") for i in a.doc_ids)]
        assert len(sets) == len(wanted)  # same-title albums stay separate sets, empty ones make none
        for album in wanted:
            order = [by_origin[i][0]["id"] for i in album.doc_ids if i in by_origin]
            title = album.title or "untitled"  # Flickr requires a set title
            matching = [s for s in sets.values() if s["title"] == title and s["photos"] == order]
            assert len(matching) == 1, album.title
            assert matching[0]["description"] == album.description

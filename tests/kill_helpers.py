"""The kill matrix's tools: small sandbox accounts, `migrator run` killed at a checkpoint, the final checks.

A scenario is a sequence of runs of one chain, each SIGKILLed at a named checkpoint (`NAME#K`: the K-th
time a thread reaches NAME, see `migrator/checkpoints.py`), some after the state file was deleted, then
one uninterrupted run. The checks after it collect every problem they find (instead of stopping at the
first) so a failing scenario shows the whole damage: duplicates, missing photos, sets, folders, leftovers.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator_flickr.client import machine_tag
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox.model import Account as FlickrAccount
from migrator_ipernity.sandbox import Account as IpernityAccount
from migrator_ipernity.sandbox import Doc, build_account
from migrator_ipernity.sandbox.truth import LICENSES

KILLED = -signal.SIGKILL
RUN_TIMEOUT = 120  # seconds; one run of a small account takes about one
YEAR_2000 = 946684800  # a Flickr account old enough to take ipernity's posted dates
SMALL_DOCS = 16  # build_account spreads every media kind over them: 11 photos, 1 video, 2 audio, 2 other
SMALL_ALBUMS = ("Everything worth keeping", "Holidays", "../../etc/passwd", "")  # Holidays twice
FLICKR_LICENSE = {"all-rights-reserved": 0, "CC-BY-NC-SA-2.0": 1, "CC-BY-NC-2.0": 2, "CC-BY-NC-ND-2.0": 3,
                  "CC-BY-2.0": 4, "CC-BY-SA-2.0": 5, "CC-BY-ND-2.0": 6}
SIDECARS = (".json", ".xmp", ".part")
ORIGINAL_DOWNLOAD = re.compile(r"_o\.|/play/orig/")
PLUGINS = "ipernity,local,flickr"


# -- accounts ---------------------------------------------------------------------------------------
def small_ipernity_account(seed: int = 0) -> IpernityAccount:
    """The default builder with 16 documents keeps all 17 albums; five are enough for the matrix and keep
    each run near one second: the big one (every document in its own order), two named "Holidays", a
    hostile title and an empty title, with documents in several of them."""
    account = build_account(seed, n_docs=SMALL_DOCS)
    account.albums = [a for a in account.albums if a.title in SMALL_ALBUMS]
    kept = {a.album_id for a in account.albums}
    for folder in account.folders:
        folder.album_ids = [i for i in folder.album_ids if i in kept]
    account.folders = [f for f in account.folders if f.album_ids]
    account.reindex()
    return account


def empty_flickr() -> FlickrSandbox:
    return FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", created_at=YEAR_2000))


def seeded_flickr(n_photos: int = 12) -> FlickrSandbox:
    return FlickrSandbox(seed=0, account=build_seeded_account(0, n_photos=n_photos))


# -- scenarios --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One run killed at `kill` (`NAME#K`); `lose_state` deletes the state file before it."""

    kill: str
    lose_state: bool = False

    @property
    def point(self) -> str:
        return self.kill.rpartition("#")[0] if "#" in self.kill else self.kill


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    jobs: int = 1

    @property
    def points(self) -> set[str]:
        return {s.point for s in self.steps}


def steps(*kills: str) -> tuple[Step, ...]:
    """`"!NAME#K"` loses the state before that run; plain `"NAME#K"` keeps it."""
    return tuple(Step(k[1:], lose_state=True) if k.startswith("!") else Step(k) for k in kills)


# -- running ----------------------------------------------------------------------------------------
@dataclass
class World:
    """One scenario's backup folder, state file, temp folder and the fixed part of its command line."""

    root: Path
    chain: tuple[str, ...]
    options: list[str]
    jobs: int = 1
    history: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("tmp", "home", "config"):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    @property
    def backup(self) -> Path:
        return self.root / "backup"

    @property
    def state(self) -> Path:
        return self.root / "state.sqlite3"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def env(self, kill: str | None, log: Path | None) -> dict[str, str]:
        # nothing of the user's own set-up leaks in; TMPDIR is where the flickr sink spools
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATOR_", "IPERNITY_", "FLICKR_"))}
        env.update({"HOME": str(self.root / "home"), "XDG_CONFIG_HOME": str(self.root / "config"),
                    "XDG_STATE_HOME": str(self.root / "home"), "XDG_DATA_HOME": str(self.root / "home"),
                    "MIGRATOR_CONFIG_DIR": str(self.root / "config"), "TMPDIR": str(self.tmp),
                    "MIGRATOR_LOAD_PLUGINS": PLUGINS})
        if kill:
            env["MIGRATOR_KILL_AT"] = kill
        if log:
            env["MIGRATOR_CHECKPOINT_LOG"] = str(log)
        return env

    def run(self, *extra: str, kill: str | None = None, log: Path | None = None) -> subprocess.CompletedProcess:
        args = [sys.executable, "-m", "migrator", "run", *self.chain, *self.options,
                "-o", f"local.path={self.backup}", "--state", str(self.state), "--jobs", str(self.jobs), *extra]
        return subprocess.run(args, env=self.env(kill, log), capture_output=True, text=True, timeout=RUN_TIMEOUT,
                              cwd=self.root)

    def lose_state(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.state}{suffix}").unlink(missing_ok=True)

    def kill_at(self, step: Step) -> None:
        """One run that must die at the step's checkpoint: a run that ends on its own never reached it,
        and the matrix would silently cover less than it claims."""
        if step.lose_state:
            self.lose_state()
        result = self.run(kill=step.kill)
        self.history.append(f"{'state lost, ' if step.lose_state else ''}killed at {step.kill}")
        assert result.returncode == KILLED, (
            f"the run was not killed at {step.kill} (exit {result.returncode}): the point was never reached; "
            f"runs so far: {self.history}\n{result.stderr[-2000:]}")

    def play(self, scenario: Scenario) -> None:
        for step in scenario.steps:
            self.kill_at(step)


def logged_points(log: Path) -> Counter[str]:
    return Counter(line for line in log.read_text("utf-8").splitlines() if line)


# -- checks -----------------------------------------------------------------------------------------
class Problems(list[str]):
    """What a final state lacks or has twice; asserted empty once every check had its say."""

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.append(message)
        return ok

    def report(self, history: list[str]) -> str:
        return f"{len(self)} problem(s) after: {'; '.join(history) or 'no kill'}\n  " + "\n  ".join(self)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def finished(problems: Problems, result: subprocess.CompletedProcess, what: str) -> None:
    problems.check(result.returncode == 0, f"{what} exited {result.returncode}: {result.stderr.strip()[-1500:]}")


def originals_on_disk(backup: Path, record_id: str) -> list[Path]:
    """Every real file holding a document's original: album folders link to it, they never copy it."""
    tag = f"[{record_id}]."  # not a glob pattern: the brackets would make it a character class
    return [p for p in backup.rglob("*") if tag in p.name and not p.is_symlink() and p.is_file()
            and not p.name.endswith(SIDECARS)]


def check_document_on_disk(problems: Problems, backup: Path, record_id: str, content: bytes) -> None:
    files = originals_on_disk(backup, record_id)
    if problems.check(len(files) == 1, f"document {record_id}: {len(files)} originals on disk {files}"):
        problems.check(files[0].read_bytes() == content, f"document {record_id}: {files[0].name} differs from "
                                                         "the source's original")
    sidecars = [p for p in backup.rglob("*.json") if p.name.endswith(f"[{record_id}].json")]
    problems.check(len(sidecars) == 1, f"document {record_id}: {len(sidecars)} JSON sidecars")


def album_folders(backup: Path, source: str, album_id: str) -> list[Path]:
    return [p for p in (backup / source / "Albums").glob(f"*[[]{album_id}]") if p.is_dir()]


def check_album_folder(problems: Problems, backup: Path, source: str, album_id: str, members: list[str]) -> None:
    """The album's folder, once, with its sidecar and one numbered link per member in the source's order."""
    folders = album_folders(backup, source, album_id)
    if not problems.check(len(folders) == 1, f"album {album_id}: {len(folders)} folders in {source}/Albums"):
        return
    problems.check((folders[0] / "album.json").is_file(), f"album {album_id}: no album.json")
    links = sorted(p.name for p in folders[0].iterdir() if p.name != "album.json")
    ids = [m.group(1) for name in links if (m := re.search(r"\[([^[\]]+)\]\.[^.]+$", name))]
    problems.check(ids == members, f"album {album_id} '{folders[0].name}': links {ids}, expected {members}")
    broken = [name for name in links if not (folders[0] / name).exists()]
    problems.check(not broken, f"album {album_id}: broken links {broken}")


def check_no_leftovers(problems: Problems, backup: Path, tmp: Path) -> None:
    parts = [str(p.relative_to(backup)) for p in backup.rglob("*.part")]
    problems.check(not parts, f".part files left in the backup: {parts}")
    left = sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []
    problems.check(not left, f"left in the temp folder (flickr-spool-* and others): {left}")


def check_ipernity_backup(problems: Problems, backup: Path, account: IpernityAccount) -> None:
    for doc in account.docs:
        check_document_on_disk(problems, backup, doc.doc_id, doc.original.content())
    for album in account.albums:
        check_album_folder(problems, backup, "ipernity", album.album_id, album.doc_ids)


def photos_by_origin(state: dict[str, Any], source: str = "ipernity") -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for photo in state["photos"]:
        for tag in photo["machine_tags"]:
            if tag.startswith(f"migrator:{source}="):
                found.setdefault(tag.split("=", 1)[1], []).append(photo)
    return found


def check_photo(problems: Problems, fl: FlickrSandbox, doc: Doc, photo: dict[str, Any]) -> None:
    """One Flickr photo against its ipernity document: the stored bytes and every field the sink sets."""
    where = f"ipernity {doc.doc_id} (Flickr photo {photo['id']})"
    stored = fl.account.photos[photo["id"]].read_original()
    problems.check(sha256(stored) == sha256(doc.original.content()) == photo["original"]["sha256"],
                   f"{where}: the file on Flickr differs from the original ({len(stored)} bytes)")
    for name, (have, want) in photo_fields(doc, photo).items():
        problems.check(have == want, f"{where}: {name} is {have!r}, expected {want!r}")


def photo_fields(doc: Doc, photo: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """(on Flickr, from the source) per field; a metadata call lost to a kill must be redone by a later run."""
    tags = [t["tag"].replace('"', "'").strip() for t in doc.tags if t["tag"].strip()]
    fields = {"title": (photo["title"], doc.title), "description": (photo["description"], doc.description),
              "tags": (sorted(photo["tags"] + photo["machine_tags"]),
                       sorted([*tags, machine_tag("ipernity", doc.doc_id)])),
              "safety": (photo["safety_level"], doc.safety),
              "perms": ((photo["is_public"], photo["is_friend"], photo["is_family"]),
                        (doc.ispublic, doc.isfriend, doc.isfamily)),
              "posted": (photo["date_posted"], doc.posted_at),
              "license": (photo["license"], FLICKR_LICENSE.get(LICENSES[doc.license], 0)),
              # turned exactly once: a rotation repeated after a kill would show here
              "rotation": (photo["rotation"], doc.rotation if doc.media == "photo" else 0)}
    if not doc.created_at.startswith("0000"):  # unknown: Flickr keeps its own guess
        fields["taken"] = (photo["date_taken"], doc.created_at)
    if doc.geo:
        geo = photo["geo"] or {}
        fields["geo"] = ((round(geo.get("latitude", 0), 6), round(geo.get("longitude", 0), 6)),
                         (round(doc.geo["lat"], 6), round(doc.geo["lng"], 6)))
    return fields


def check_on_flickr(problems: Problems, fl: FlickrSandbox, account: IpernityAccount) -> None:
    state = fl.state()
    check_photos_on_flickr(problems, fl, state, account)
    check_sets_on_flickr(problems, state, account)


def check_photos_on_flickr(problems: Problems, fl: FlickrSandbox, state: dict[str, Any],
                           account: IpernityAccount) -> None:
    """Every photo and video exactly once, byte-identical, with its metadata; nothing else on Flickr."""
    media = {d.doc_id: d for d in account.docs if d.media in ("photo", "video")}
    by_origin = photos_by_origin(state)
    for doc_id, doc in media.items():
        photos = by_origin.get(doc_id, [])
        if problems.check(len(photos) == 1, f"ipernity {doc_id}: {len(photos)} photos on Flickr with tag "
                                            f"migrator:ipernity={doc_id} {[p['id'] for p in photos]}"):
            check_photo(problems, fl, doc, photos[0])
    strays = sorted(set(p["id"] for p in state["photos"]) - {p["id"] for i in media for p in by_origin.get(i, [])})
    problems.check(not strays, f"photos on Flickr that belong to no document: {strays}")


def check_sets_on_flickr(problems: Problems, state: dict[str, Any], account: IpernityAccount) -> None:
    """Every album with a photo or video exactly once as a set: complete, in album order, with its title and
    description. Sets are compared by the documents their photos came from, so a document uploaded twice
    is reported once (above), not again in every set it belongs to."""
    media = {d.doc_id for d in account.docs if d.media in ("photo", "video")}
    origin = {p["id"]: i for i, photos in photos_by_origin(state).items() for p in photos}
    expected: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
    for album in account.albums:
        members = tuple(i for i in album.doc_ids if i in media)
        if members:
            expected[(album.title or "untitled", album.description, members)] += 1
    have = Counter((s["title"], s["description"], tuple(origin.get(p, f"photo {p}") for p in s["photos"]))
                   for s in state["photosets"])
    for key in sorted(set(expected) | set(have)):
        title, description, members = key
        problems.check(have[key] == expected[key], f"set {title!r} (description {description[:16]!r}...) holding "
                                                   f"documents {list(members)}: {have[key]} on Flickr, expected "
                                                   f"{expected[key]}")


def check_flickr_mirror(problems: Problems, backup: Path, fl: FlickrSandbox) -> None:
    """Every Flickr photo once in the backup, byte-identical, and every set as an album folder in order."""
    for photo_id, photo in fl.account.photos.items():
        check_document_on_disk(problems, backup, photo_id, photo.read_original())
    for photoset in fl.account.photosets:
        check_album_folder(problems, backup, "flickr", photoset.id, list(photoset.photos))


def check_rerun_creates_nothing(problems: Problems, fl: FlickrSandbox, result: subprocess.CompletedProcess) -> None:
    finished(problems, result, "the rerun")
    for method in ("upload", "flickr.photosets.create", "flickr.photosets.addPhoto"):
        problems.check(fl.calls[method] == 0, f"the rerun called {method} {fl.calls[method]} time(s)")


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and link of a folder with its size and modification time: a rerun must change none
    (the sink's own bookkeeping in `.migrator/`, its lock and index, aside)."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in folder.rglob("*") if (not p.is_dir() or p.is_symlink())
            and p.relative_to(folder).parts[0] != ".migrator"}


@dataclass
class Bench:
    """A world with its sandboxes running, and what its chain must look like after the last run."""

    world: World
    check_final: Callable[[Problems], None]
    check_rerun: Callable[[Problems, Callable[..., subprocess.CompletedProcess]], None]

    def conclude(self, log: Path | None = None) -> None:
        """The uninterrupted run, every check of its result, then a rerun that must change nothing."""
        problems = Problems()
        finished(problems, self.world.run(log=log), "the uninterrupted run")
        self.check_final(problems)
        check_no_leftovers(problems, self.world.backup, self.world.tmp)
        self.check_rerun(problems, self.world.run)
        assert not problems, problems.report(self.world.history)

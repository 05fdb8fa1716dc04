"""The kill matrix for the immich sink: `ipernity local immich` and `local immich` SIGKILLed at each named step
of the exactly-once protocol (state kept and lost), then one uninterrupted run checked against the ground
truth: every photo and video once in Immich (by content), byte-identical, with its metadata; every album
once, complete; nothing else; and a rerun that uploads and creates nothing.

Small on purpose (one kill per named checkpoint, the 16-document account): the full matrix of the Flickr
chain is tests/test_kill_matrix.py, whose tools this reuses (tests/kill_helpers.py).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from migrator_immich.sandbox import ImmichSandbox
from migrator_ipernity.sandbox import Account, IpernitySandbox

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for `import kill_helpers`
from kill_helpers import (  # noqa: E402
    Bench,
    Problems,
    Scenario,
    World,
    check_ipernity_backup,
    copy_tree,
    finished,
    small_ipernity_account,
    steps,
)

PLUGINS = "ipernity,local,immich"


def call(method: str) -> str:
    return f"immich:call:{method}"


def answer(method: str) -> str:
    return f"immich:answer:{method}"


class ImmichWorld(World):
    def env(self, kill: str | None, log: Path | None) -> dict[str, str]:
        return {**super().env(kill, log), "MIGRATOR_LOAD_PLUGINS": PLUGINS}


# 16 documents (12 photos and videos), 5 albums
IPERNITY_LOCAL_IMMICH = [
    Scenario("uploads", steps(
        call("upload") + "#3",                      # two photos done, the third never sent
        answer("upload") + "#1",                    # Immich has it, the answer is lost: intent left
        "state:memory-set:intent#2",                # intent written, upload not sent
        "state:memory-set:asset#2",                 # asset id remembered, intent not yet deleted
        "state:memory-delete:intent#1",
        "state:memory-set:asset_of#1",              # which document holds the asset: noted, nothing after
    )),
    Scenario("metadata", steps(
        answer("assets.check") + "#2",              # the look-up answered, nothing remembered yet
        answer("tags.assign") + "#1",               # a photo tagged, its answer lost
        answer("assets.update") + "#1",             # the metadata set, its answer lost
        "run:stored:immich#2",                      # the sink returned, its row not yet written
        "run:marked:immich#1",
    )),
    Scenario("albums", steps(
        "run:container:immich#1",                   # every document done, no album yet
        "state:memory-set:album_intent#1",          # the intent written, the album not created
        answer("albums.create") + "#1",             # the album exists, its id is lost
        "state:memory-set:album#2",                 # the second album's id remembered, its intent left
        "state:memory-delete:album_intent#1",
        answer("albums.add") + "#2",
        "run:container-stored:immich#3",
        "run:finish:immich#1",
    )),
    Scenario("state-lost", steps(
        answer("upload") + "#3",
        "!" + answer("assets.check") + "#2",        # state lost: found by checksum, not yet remembered
        "!run:stored:immich#3",
        "!" + answer("albums.create") + "#2",       # state lost again, an album's answer lost
        "!" + answer("albums.list") + "#2",         # state lost: the albums found by their members
        "!run:bookmark-saved#1",
    )),
    Scenario("jobs4-state-lost", steps(
        answer("upload") + "#4",
        "!run:stored:immich#2",
    ), jobs=4),
]

LOCAL_IMMICH = [
    Scenario("replay", steps(
        answer("upload") + "#2",
        "run:stored:immich#2",
        answer("albums.create") + "#1",
        answer("albums.add") + "#1",
    )),
    Scenario("state-lost", steps(
        answer("upload") + "#3",
        "!" + answer("upload") + "#1",
        "!" + answer("albums.create") + "#1",
        "!run:container-stored:immich#2",
    )),
]

# The protocol's steps: each chain's scenarios must kill at every one of them (the kill itself proves a
# run reaches it).
REQUIRED = {call("upload"), answer("upload"), answer("assets.check"), "state:memory-set:intent",
            "state:memory-set:asset", "state:memory-delete:intent", "state:memory-set:asset_of",
            "state:memory-set:album_intent",
            "state:memory-set:album", "state:memory-delete:album_intent", answer("albums.create"),
            answer("albums.add"), "run:stored:immich", "run:marked:immich", "run:container:immich"}


def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def check_on_immich(problems: Problems, im: ImmichSandbox, account: Account) -> None:
    """Every photo and video once (by content), byte-identical, with its description and date; every album
    once with its name, description and members; nothing else."""
    state = im.state()
    media = [d for d in account.docs if d.media in ("photo", "video")]
    assets = Counter(a["checksum"] for a in state["assets"])
    by_checksum = {a["checksum"]: a for a in state["assets"]}
    for doc in media:
        checksum = sha1(doc.original.content())
        if problems.check(assets[checksum] == 1, f"ipernity {doc.doc_id}: {assets[checksum]} assets in Immich"):
            asset = by_checksum[checksum]
            problems.check(im.read_original(asset["id"]) == doc.original.content(),
                           f"ipernity {doc.doc_id}: the file in Immich differs")
            problems.check(doc.title in asset["exif"]["description"] or not doc.title.strip(),
                           f"ipernity {doc.doc_id}: description {asset['exif']['description']!r:.60} lacks the title")
            taken = None if doc.created_at.startswith("0000") else doc.created_at.replace(" ", "T") + "+00:00"
            problems.check(asset["exif"]["dateTimeOriginal"] == taken,
                           f"ipernity {doc.doc_id}: date taken {asset['exif']['dateTimeOriginal']}, expected {taken}")
    strays = sum(assets.values()) - len(media)
    problems.check(strays == 0, f"{strays} assets in Immich that belong to no document")
    checksum_of = {a["id"]: a["checksum"] for a in state["assets"]}
    have = Counter((a["albumName"], a["description"], frozenset(checksum_of.get(i, i) for i in a["assets"]))
                   for a in state["albums"])
    want = Counter((a.title or "Untitled", a.description,
                    frozenset(sha1(d.original.content()) for d in media if d.doc_id in a.doc_ids))
                   for a in account.albums)
    for key in sorted(set(have) | set(want), key=str):
        problems.check(have[key] == want[key], f"album {key[0]!r} holding {len(key[2])} assets: {have[key]} in "
                                               f"Immich, expected {want[key]}")


def check_rerun_creates_nothing(problems: Problems, im: ImmichSandbox, result: CompletedProcess) -> None:
    finished(problems, result, "the rerun")
    for route in ("upload", "albums.create"):
        problems.check(im.calls[route] == 0, f"the rerun called {route} {im.calls[route]} time(s)")


def ipernity_local_immich(stack: contextlib.ExitStack, root: Path, jobs: int) -> Bench:
    account = small_ipernity_account()
    ip = stack.enter_context(IpernitySandbox(account=account))
    im = stack.enter_context(ImmichSandbox())
    world = ImmichWorld(root, ("ipernity", "local", "immich"), [*ip.cli_options(), *im.cli_options()], jobs)

    def final(problems: Problems) -> None:
        check_ipernity_backup(problems, world.backup, account)
        check_on_immich(problems, im, account)

    def rerun(problems: Problems, run: Callable[..., CompletedProcess]) -> None:
        im.reset_counters()  # refresh: every document is listed again and must be found
        check_rerun_creates_nothing(problems, im, run("-o", "ipernity.refresh=true"))

    return Bench(world, final, rerun)


@pytest.fixture(scope="module")
def replay_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup made by one uninterrupted `ipernity local` run, copied into every local → immich world."""
    root = tmp_path_factory.mktemp("replay-backup")
    with IpernitySandbox(account=small_ipernity_account()) as ip:
        world = ImmichWorld(root, ("ipernity", "local"), ip.cli_options())
        result = world.run()
    assert result.returncode == 0, result.stderr
    return world.backup


def local_immich(backup: Path) -> Callable[[contextlib.ExitStack, Path, int], Bench]:
    def open_bench(stack: contextlib.ExitStack, root: Path, jobs: int) -> Bench:
        account = small_ipernity_account()
        im = stack.enter_context(ImmichSandbox(version="2.7.5"))  # the older upload shape here
        world = ImmichWorld(root, ("local", "immich"), im.cli_options(), jobs)
        copy_tree(backup, world.backup)

        def final(problems: Problems) -> None:
            check_on_immich(problems, im, account)
            check_ipernity_backup(problems, world.backup, account)  # the source folder is left as it was

        def rerun(problems: Problems, run: Callable[..., CompletedProcess]) -> None:
            im.reset_counters()
            check_rerun_creates_nothing(problems, im, run())

        return Bench(world, final, rerun)

    return open_bench


def play(open_bench: Callable[[contextlib.ExitStack, Path, int], Bench], scenario: Scenario, root: Path) -> None:
    with contextlib.ExitStack() as stack:
        bench = open_bench(stack, root, scenario.jobs)
        bench.world.play(scenario)
        bench.conclude()


@pytest.mark.parametrize("scenario", IPERNITY_LOCAL_IMMICH, ids=lambda s: s.name)
def test_ipernity_local_immich(scenario: Scenario, tmp_path: Path) -> None:
    play(ipernity_local_immich, scenario, tmp_path)


@pytest.mark.parametrize("scenario", LOCAL_IMMICH, ids=lambda s: s.name)
def test_local_immich(scenario: Scenario, tmp_path: Path, replay_backup: Path) -> None:
    play(local_immich(replay_backup), scenario, tmp_path)


def test_the_matrix_kills_every_required_step() -> None:
    """Checked without running anything: the main chain's scenarios kill at every protocol step, with state
    kept and lost, with one worker and with four; the replay chain with state kept and lost."""
    named = set().union(*(s.points for s in IPERNITY_LOCAL_IMMICH))
    assert REQUIRED <= named, f"no scenario kills at {sorted(REQUIRED - named)}"
    for scenarios in (IPERNITY_LOCAL_IMMICH, LOCAL_IMMICH):
        kills = [step for s in scenarios for step in s.steps]
        assert any(step.lose_state for step in kills) and not all(step.lose_state for step in kills)
    assert {s.jobs for s in IPERNITY_LOCAL_IMMICH} >= {1, 4}

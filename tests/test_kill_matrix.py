"""The kill matrix: "exactly once, nothing lost" when `migrator run` is SIGKILLed anywhere.

Each scenario kills one chain at a sequence of named checkpoints (`MIGRATOR_KILL_AT=NAME#K`), sometimes
deleting the state file before a run, then runs it once without a kill and checks the result against the
sandboxes' ground truth: every original once on disk and once on Flickr, byte-identical, every set and
album folder once and complete, no leftovers, and a rerun that creates nothing. The sandboxes live in this
process for the whole scenario, so Flickr keeps what every killed run did, like the real service.

`test_the_matrix_follows_a_clean_run` logs the checkpoints of an uninterrupted run: the named protocol
steps must all be there, and any checkpoint no scenario names (one added to the code later) is killed at
too, so the matrix grows with the code.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from migrator_ipernity.sandbox import IpernitySandbox

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for `import kill_helpers`
from kill_helpers import (  # noqa: E402
    ORIGINAL_DOWNLOAD,
    Bench,
    Problems,
    Scenario,
    Step,
    World,
    check_flickr_mirror,
    check_ipernity_backup,
    check_on_flickr,
    check_rerun_creates_nothing,
    copy_tree,
    empty_flickr,
    finished,
    logged_points,
    seeded_flickr,
    small_ipernity_account,
    snapshot,
    steps,
)


def call(method: str) -> str:
    return f"flickr:call:{method}"


def answer(method: str) -> str:
    return f"flickr:answer:{method}"


# -- ipernity → local → flickr ----------------------------------------------------------------------------
# 16 documents (12 photos and videos), 5 albums → one clean run: 12 uploads, 5 sets, 17 addPhoto.
IPERNITY_LOCAL_FLICKR = [
    Scenario("uploads", steps(
        call("upload") + "#3",                      # two photos done, the third never sent
        answer("upload") + "#1",                    # Flickr has it, the answer is lost: intent left
        "run:stored:flickr#1",                      # that photo found again and updated, not recorded
        "state:memory-set:intent#2",                # intent written, upload not sent
        "state:memory-set:photo#2",                 # photo id remembered, intent not yet deleted
        "state:memory-delete:intent#1",
        "run:stored:flickr#2",                      # the sink returned, its row not yet written
        "run:marked:flickr#1",
        answer("upload") + "#2",
    )),
    Scenario("metadata", steps(
        "state:memory-set-many:account_listed#1",   # the account's first listing saved, nothing uploaded
        answer("flickr.photos.getInfo") + "#1",     # the account's default license, read after an upload
        call("flickr.photos.setDates") + "#2",
        answer("flickr.photos.setDates") + "#1",
        call("flickr.photos.licenses.setLicense") + "#2",
        answer("flickr.photos.licenses.setLicense") + "#1",
        call("flickr.photos.geo.setLocation") + "#1",
        answer("flickr.photos.geo.setLocation") + "#1",
    )),
    Scenario("sets", steps(
        "state:memory-set-many:sets_listed#1",      # the account's earlier sets saved (none), no set yet
        call("flickr.photosets.create") + "#1",
        answer("flickr.photosets.create") + "#1",   # the set exists, its id is lost: set intent left
        "state:memory-set:set#1",                   # found again from its primary photo, intent not deleted
        "state:memory-set:set_intent#1",
        "state:memory-set-many:set_dirty#2",        # a new set's id and dirty mark, intent not deleted
        "state:memory-delete:set_intent#1",
        call("flickr.photosets.addPhoto") + "#2",
        answer("flickr.photosets.addPhoto") + "#1",
        "state:memory-set:set_dirty#2",
    )),
    Scenario("albums-and-finish", steps(
        "run:container:local#1",                    # every document done, no album yet
        "run:container-stored:local#1",
        "run:container:flickr#1",
        "state:memory-set:album#1",
        call("flickr.photosets.editPhotos") + "#1",
        answer("flickr.photosets.editPhotos") + "#2",
        call("flickr.photosets.editMeta") + "#1",
        answer("flickr.photosets.editMeta") + "#1",
        "state:memory-delete:set_dirty#1",
        "run:container-stored:flickr#3",
        "run:finish:local#1",
        "run:finish:flickr#1",
        "run:bookmark-saved#1",
    )),
    Scenario("listing-and-downloads", steps(
        answer("flickr.people.getUploadStatus") + "#1",  # the last call of opening: nothing written yet
        "run:listed#1",
        "stream:first-chunk#1",
        "stream:complete#2",
        "local:part-written#1",                     # a complete .part, not yet renamed
        "local:renamed#3",
        "local:part-written#7",
        "run:store:local#2",
        "run:stored:local#3",
        "run:marked:local#2",
        "run:store:flickr#2",
        "run:listed#16",
    )),
    Scenario("state-lost-during-adoption", steps(
        answer("upload") + "#5",
        "!" + answer("flickr.photos.getAllContexts") + "#1",  # finding the sets of an adopted photo
        "!" + answer("flickr.people.getPhotos") + "#1",       # the lookup: listed, nothing adopted yet
        "!run:stored:flickr#3",                               # the third photo adopted, not recorded
        "!" + answer("flickr.photosets.getList") + "#1",      # state lost again: the sets there listed
        answer("flickr.photos.getAllContexts") + "#2",        # an adopted photo's sets looked up
        "!run:marked:flickr#6",
    )),
    Scenario("last-upload-then-state-lost", steps(
        answer("upload") + "#12",                   # the last upload's answer lost
        "!run:finish:flickr#1",                     # everything adopted again, killed before finish
        "!run:bookmark-saved#1",
    )),
    # the shortest sequences that show each fault the longer ones found, for whoever fixes it
    Scenario("lost-answer-then-found-unrecorded", steps(
        answer("upload") + "#1",                    # the first photo is on Flickr, its answer lost
        "run:stored:flickr#1",                      # found again by its tag and updated, not recorded
    )),
    Scenario("state-lost-adoption-killed", steps(
        answer("upload") + "#4",
        "!run:stored:flickr#1",                     # state lost; the first photo adopted, not recorded
    )),
    Scenario("state-lost-after-done", steps(
        "run:bookmark-saved#1",                     # everything done
        "!run:listed#1",                            # state lost: the last run adopts everything
    )),
    Scenario("jobs4-state-kept", steps(
        answer("upload") + "#3",
        answer("flickr.photosets.create") + "#2",
        "state:memory-set:set_dirty#2",
        "run:stored:flickr#1",
        "local:part-written#2",
    ), jobs=4),
    Scenario("jobs4-state-lost", steps(
        answer("upload") + "#6",
        "!" + answer("upload") + "#1",
        "!run:marked:flickr#4",
        "!" + answer("flickr.photosets.editPhotos") + "#2",
    ), jobs=4),
]

# -- flickr → local ---------------------------------------------------------------------------------------
FLICKR_LOCAL = [
    Scenario("mirror", steps(
        answer("flickr.people.getPhotos") + "#1",
        answer("flickr.photosets.getList") + "#1",
        answer("flickr.photosets.getPhotos") + "#3",
        answer("flickr.photos.comments.getList") + "#1",
        "run:marked:local#1",                       # one more photo done (records come from the listing: no getInfo)
        "run:listed#3",
        "stream:first-chunk#2",
        "stream:complete#1",
        "local:part-written#3",
        "local:renamed#4",
        "run:store:local#2",
        "run:stored:local#3",
        "run:marked:local#2",
    )),
    Scenario("albums-state-lost", steps(
        answer("flickr.photos.getSizes") + "#1",    # the video: its original is found through getSizes
        "run:container:local#1",
        "run:container-stored:local#2",
        answer("flickr.collections.getTree") + "#1",
        "!run:marked:local#3",                      # state lost: the files on disk are adopted again
        "!local:part-written#2",
        "run:finish:local#1",
    )),
    Scenario("jobs4", steps(
        "stream:first-chunk#5",
        "local:part-written#6",
        "!run:marked:local#5",
    ), jobs=4),
]

# Read-only calls commit nothing on Flickr: a kill just before one is a kill just after the call before it.
# Their `answer` point is in the matrix; the `call` point is left out, and so is all of opening but its last
# answer (nothing is written before the first document).
READ_ONLY = ("flickr.test.login", "flickr.people.getUploadStatus", "flickr.people.getPhotos", "flickr.photos.getInfo",
             "flickr.photos.getAllContexts", "flickr.photosets.getList", "flickr.photosets.getPhotos",
             "flickr.photos.comments.getList", "flickr.photos.getSizes", "flickr.collections.getTree")
NOT_KILLED = {call(m) for m in READ_ONLY} | {answer("flickr.test.login")}

# -- local (a backup made by ipernity → local) → flickr --------------------------------------------------
LOCAL_FLICKR = [
    Scenario("replay", steps(
        answer("upload") + "#2",
        "run:stored:flickr#2",
        answer("flickr.photosets.create") + "#1",
        answer("flickr.photosets.addPhoto") + "#2",
        answer("flickr.photosets.editPhotos") + "#1",
        "run:finish:flickr#1",
    )),
    Scenario("jobs4-state-lost", steps(
        answer("upload") + "#4",
        "!" + answer("flickr.people.getPhotos") + "#1",
        "!run:stored:flickr#3",
    ), jobs=4),
]

# The protocol steps each chain's scenarios must kill at, and a clean run of the chain must pass through
# (else a kill there tests nothing).
REQUIRED = {
    "ipernity-local-flickr": {
        "run:listed", "stream:first-chunk", "stream:complete", "local:part-written", "local:renamed",
        "run:store:local", "run:stored:local", "run:marked:local", "run:store:flickr", "run:stored:flickr",
        "run:marked:flickr", "state:memory-set:intent", "state:memory-set:photo", "state:memory-delete:intent",
        "state:memory-set:set_intent", "state:memory-set-many:set_dirty", "state:memory-set:set_dirty",
        "state:memory-set-many:account_listed", "state:memory-set-many:sets_listed",
        "state:memory-delete:set_dirty", "state:memory-set:album", "run:container:local", "run:container:flickr",
        "run:container-stored:local", "run:container-stored:flickr", "run:finish:local", "run:finish:flickr",
        "run:bookmark-saved",
        *(f"flickr:{when}:{method}" for when in ("call", "answer") for method in (
            "upload", "flickr.photos.setDates", "flickr.photos.licenses.setLicense", "flickr.photos.geo.setLocation",
            "flickr.photosets.create", "flickr.photosets.addPhoto", "flickr.photosets.editPhotos",
            "flickr.photosets.editMeta")),
    },
    "flickr-local": {"run:listed", "stream:first-chunk", "stream:complete", "local:part-written", "local:renamed",
                     "run:stored:local", "run:marked:local", "run:container:local", "run:finish:local"},
    "local-flickr": {"run:stored:flickr", "flickr:answer:upload", "flickr:answer:flickr.people.getPhotos",
                     "flickr:answer:flickr.photosets.create", "flickr:answer:flickr.photosets.addPhoto",
                     "flickr:answer:flickr.photosets.editPhotos", "run:finish:flickr"},
}


# -- benches: a chain's world with its sandboxes, and what its result must be ----------------------------
def ipernity_local_flickr(stack: contextlib.ExitStack, root: Path, jobs: int) -> Bench:
    account = small_ipernity_account()
    ip = stack.enter_context(IpernitySandbox(account=account))
    fl = stack.enter_context(empty_flickr())
    world = World(root, ("ipernity", "local", "flickr"), [*ip.cli_options(), *fl.cli_options("write")], jobs)

    def final(problems: Problems) -> None:
        check_ipernity_backup(problems, world.backup, account)
        check_on_flickr(problems, fl, account)

    def rerun(problems: Problems, run: Callable[..., CompletedProcess]) -> None:
        fl.reset_counters()  # refresh: every document is listed again and must be found unchanged
        check_rerun_creates_nothing(problems, fl, run("-o", "ipernity.refresh=true"))

    return Bench(world, final, rerun)


def flickr_local(stack: contextlib.ExitStack, root: Path, jobs: int) -> Bench:
    fl = stack.enter_context(seeded_flickr())
    world = World(root, ("flickr", "local"), fl.cli_options("read"), jobs)

    def final(problems: Problems) -> None:
        check_flickr_mirror(problems, world.backup, fl)

    def rerun(problems: Problems, run: Callable[..., CompletedProcess]) -> None:
        before = snapshot(world.backup)
        fl.reset_counters()
        finished(problems, run(), "the rerun")
        downloads = [path for _, path, _ in fl.file_log if ORIGINAL_DOWNLOAD.search(path)]
        problems.check(not downloads, f"the rerun downloaded {downloads}")
        after = snapshot(world.backup)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        problems.check(not changed, f"the rerun changed {changed}")

    return Bench(world, final, rerun)


@pytest.fixture(scope="module")
def replay_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup made by one uninterrupted `ipernity local` run, copied into every local → flickr world."""
    root = tmp_path_factory.mktemp("replay-backup")
    with IpernitySandbox(account=small_ipernity_account()) as ip:
        world = World(root, ("ipernity", "local"), ip.cli_options())
        result = world.run()
    assert result.returncode == 0, result.stderr
    return world.backup


def local_flickr(backup: Path) -> Callable[[contextlib.ExitStack, Path, int], Bench]:
    def open_bench(stack: contextlib.ExitStack, root: Path, jobs: int) -> Bench:
        account = small_ipernity_account()
        fl = stack.enter_context(empty_flickr())
        world = World(root, ("local", "flickr"), fl.cli_options("write"), jobs)
        copy_tree(backup, world.backup)

        def final(problems: Problems) -> None:
            check_on_flickr(problems, fl, account)
            check_ipernity_backup(problems, world.backup, account)  # the source folder is left as it was

        def rerun(problems: Problems, run: Callable[..., CompletedProcess]) -> None:
            fl.reset_counters()
            check_rerun_creates_nothing(problems, fl, run())

        return Bench(world, final, rerun)

    return open_bench


def play(open_bench: Callable[[contextlib.ExitStack, Path, int], Bench], scenario: Scenario, root: Path) -> None:
    with contextlib.ExitStack() as stack:
        bench = open_bench(stack, root, scenario.jobs)
        bench.world.play(scenario)
        bench.conclude()


# -- the matrix -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", IPERNITY_LOCAL_FLICKR, ids=lambda s: s.name)
def test_ipernity_local_flickr(scenario: Scenario, tmp_path: Path) -> None:
    play(ipernity_local_flickr, scenario, tmp_path)


@pytest.mark.parametrize("scenario", FLICKR_LOCAL, ids=lambda s: s.name)
def test_flickr_local(scenario: Scenario, tmp_path: Path) -> None:
    play(flickr_local, scenario, tmp_path)


@pytest.mark.parametrize("scenario", LOCAL_FLICKR, ids=lambda s: s.name)
def test_local_flickr(scenario: Scenario, tmp_path: Path, replay_backup: Path) -> None:
    play(local_flickr(replay_backup), scenario, tmp_path)


CHAINS: dict[str, tuple[list[Scenario], Callable[[Path], Callable]]] = {
    "ipernity-local-flickr": (IPERNITY_LOCAL_FLICKR, lambda backup: ipernity_local_flickr),
    "flickr-local": (FLICKR_LOCAL, lambda backup: flickr_local),
    "local-flickr": (LOCAL_FLICKR, local_flickr),
}


@pytest.mark.parametrize("chain", list(CHAINS))
def test_the_matrix_follows_a_clean_run(chain: str, tmp_path: Path, replay_backup: Path) -> None:
    """An uninterrupted, logged run is itself checked; then each checkpoint it passed that no scenario of
    the matrix names (one added to the code later) is killed at once (the 1st time), in a world of its own."""
    _, opener = CHAINS[chain]
    open_bench = opener(replay_backup)
    log = tmp_path / "checkpoints.log"
    with contextlib.ExitStack() as stack:
        open_bench(stack, tmp_path / "clean", 1).conclude(log=log)
    reached = set(logged_points(log))
    assert not REQUIRED[chain] - reached, f"a clean run no longer passes {sorted(REQUIRED[chain] - reached)}"
    named = set().union(*(s.points for scenarios, _ in CHAINS.values() for s in scenarios)) | NOT_KILLED
    failures = []
    for point in sorted(reached - named):
        try:
            play(open_bench, Scenario(point, (Step(f"{point}#1"),)), tmp_path / re.sub(r"\W", "_", point))
        except AssertionError as exc:
            failures.append(f"killed at {point}#1: {exc}")
    assert not failures, "\n".join(failures)


def test_the_matrix_kills_every_required_step() -> None:
    """The fixed minimum, checked without running anything: each chain's scenarios kill at every required
    step of that chain, the main chain at 40 distinct points or more, some at a later occurrence than the
    first, with state kept and lost, with one worker and with four."""
    for chain, (scenarios, _) in CHAINS.items():
        named = set().union(*(s.points for s in scenarios))
        assert REQUIRED[chain] <= named, f"{chain}: no scenario kills at {sorted(REQUIRED[chain] - named)}"
    main = [step for s in IPERNITY_LOCAL_FLICKR for step in s.steps]
    assert len({step.point for step in main}) >= 40
    assert any(not step.kill.endswith("#1") for step in main)
    assert any(step.lose_state for step in main) and not all(step.lose_state for step in main)
    assert {s.jobs for s in IPERNITY_LOCAL_FLICKR} >= {1, 4}

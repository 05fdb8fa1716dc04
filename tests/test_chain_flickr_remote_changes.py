"""The user changed the Flickr account by hand after a complete `migrator run local flickr`: a photo or a set
deleted, a set reordered, a machine tag removed. Reruns end cleanly (no traceback), say what they found,
and never undo the user's edit unless the source changed too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from migrator_flickr.client import quote_tags

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
import flickr_replay  # noqa: E402
from flickr_replay import Replay, assert_no_traceback, write_calls  # noqa: E402

template = flickr_replay.template  # the fixture: one backup per module, copied by every replay

RESTORE = "-o flickr.restore_deleted=true"


@pytest.fixture
def replay(cli, home, template):
    run = Replay(cli, home, template)
    first, _ = run.run()
    assert first.returncode == 0, first.stderr
    run.assert_replayed()
    yield run
    run.close()


def as_user(replay: Replay):
    """The account owner's own client (delete permission), as a person editing on flickr.com."""
    return replay.fl.flickrapi_client("delete", format="parsed-json")


def doc_in_shared_albums(replay: Replay) -> tuple[str, list[str]]:
    """A photo whose every album holds other photos too (so no set empties when it goes), and its albums."""
    docs, albums = replay.documents(), replay.media_albums()
    for doc_id in sorted(docs):
        mine = [a for a, c in albums.items() if doc_id in c["members"]]
        if mine and all(sum(m in docs for m in albums[a]["members"]) > 1 for a in mine):
            return doc_id, mine
    raise AssertionError("the account has no such photo")


def reversed_album(replay: Replay, album_id: str) -> None:
    """The album's order changed at the source."""
    replay.reorder_album(album_id, list(reversed(replay.albums()[album_id]["members"])))


def warned(result: subprocess.CompletedProcess, report: dict[str, Any], *needles: str) -> bool:
    """One output line and one report warning each hold every needle."""
    lines = (result.stdout + result.stderr).splitlines()
    in_output = any(all(n in line for n in needles) for line in lines)
    in_report = any(all(n in json.dumps(w, ensure_ascii=False) for n in needles) for w in report.get("warnings", []))
    return in_output and in_report


# -- a photo deleted on Flickr --------------------------------------------------------------------------
def test_deleted_photo_is_left_out_then_restored_on_request(replay):
    doc_id, albums = doc_in_shared_albums(replay)
    as_user(replay).photos.delete(photo_id=replay.photo_of(doc_id)["id"])
    for album_id in albums:
        reversed_album(replay, album_id)
    result, report = replay.run()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert warned(result, report, doc_id, "deleted on Flickr", RESTORE), result.stdout + result.stderr
    replay.assert_replayed(skip={doc_id})  # its sets rewritten in the new order, without it

    replay.fl.reset_counters()
    result, _ = replay.run("-o", "flickr.restore_deleted=true")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert replay.fl.calls["upload"] == 1
    replay.assert_replayed()  # back, once, in each of its sets at its place


def test_deleted_photo_and_no_change_at_the_source(replay):
    doc_id, _ = doc_in_shared_albums(replay)
    as_user(replay).photos.delete(photo_id=replay.photo_of(doc_id)["id"])
    replay.fl.reset_counters()
    result, _ = replay.run()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert write_calls(replay.fl) == {}


# -- a set deleted on Flickr ------------------------------------------------------------------------------
def test_deleted_set_is_created_again_when_its_album_changes(replay):
    album_id, _ = max(replay.media_albums().items(), key=lambda a: len(a[1]["members"]))
    as_user(replay).photosets.delete(photoset_id=replay.set_of(album_id)["id"])
    reversed_album(replay, album_id)
    result, report = replay.run()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert any("deleted on Flickr" in w.get("warning", "") for w in report.get("warnings", [])), report
    assert "deleted on Flickr" in result.stdout + result.stderr
    replay.assert_replayed()  # created again, complete and in the new order; no other set touched twice


@pytest.fixture
def unfinished(cli, home, template):
    """A first run killed (SIGKILL) just before its first editPhotos: every set exists, none is finished."""
    run = Replay(cli, home, template)
    killed, _ = run.run(env={"MIGRATOR_KILL_AT": "flickr:call:flickr.photosets.editPhotos"})
    assert killed.returncode == -9, killed.stderr
    yield run
    run.close()


def test_deleted_unfinished_set_is_created_again(unfinished):
    album_id, _ = max(unfinished.media_albums().items(), key=lambda a: len(a[1]["members"]))
    title = unfinished.albums()[album_id]["title"] or "untitled"
    doomed = [s["id"] for s in unfinished.fl.state()["photosets"] if s["title"] == title]
    as_user(unfinished).photosets.delete(photoset_id=doomed[0])
    result, report = unfinished.run()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert any("deleted on Flickr" in w.get("warning", "") for w in report.get("warnings", [])), report
    unfinished.assert_replayed()


# -- a set reordered by hand ------------------------------------------------------------------------------
def test_set_reordered_by_hand_is_kept_until_the_album_changes(replay):
    album_id, album = max(replay.media_albums().items(), key=lambda a: len(a[1]["members"]))
    photoset = replay.set_of(album_id)
    mine = list(reversed(photoset["photos"]))
    as_user(replay).photosets.editPhotos(photoset_id=photoset["id"], primary_photo_id=mine[0],
                                         photo_ids=",".join(mine))
    replay.fl.reset_counters()
    result, _ = replay.run()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert write_calls(replay.fl) == {}  # nothing changed at the source: the user's order stays
    assert replay.set_of(album_id)["photos"] == mine

    replay.reorder_album(album_id, album["members"][1:] + album["members"][:1])
    result, report = replay.run()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    replay.assert_replayed()  # the source's new order wins
    assert any("was edited on Flickr" in w.get("warning", "") for w in report.get("warnings", [])), report


# -- a machine tag removed by hand -------------------------------------------------------------------------
def test_machine_tag_removed_by_hand_uploads_nothing(replay):
    doc_id = sorted(replay.documents())[0]
    photo = replay.photo_of(doc_id)
    as_user(replay).photos.setTags(photo_id=photo["id"], tags=quote_tags(photo["tags"]))
    assert photo["id"] not in {p["id"] for ps in replay.photos_by_origin().values() for p in ps}
    replay.fl.reset_counters()
    result, _ = replay.run()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert replay.fl.calls["upload"] == 0
    assert len(replay.fl.state()["photos"]) == len(replay.documents())

"""Flickr carried a call out and its answer never arrived (HTTP 500, a TCP reset, a hang past the client's
timeout): through the real CLI (`migrator run local flickr`), the run still ends with exactly one photo per
document and one complete, ordered set per album.

Creating calls (upload, photosets.create, photosets.addPhoto) must never be repeated blindly: the sink
looks before creating again. Idempotent updates may simply be repeated.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
import flickr_replay  # noqa: E402
from flickr_replay import Replay  # noqa: E402

template = flickr_replay.template  # the fixture: one backup per module, copied by every replay


@pytest.fixture
def replay(cli, home, template):
    run = Replay(cli, home, template)
    yield run
    run.close()


def lost(replay: Replay, method: str, how: str = "500", n: int = 1) -> None:
    """The next n calls of `method` are committed, their answers lost."""
    replay.fl.knobs.lose_answer(method, n=n, how=how)


def assert_lost(replay: Replay, method: str, how: str = "500", n: int = 1) -> None:
    """The fault really happened (else the test proved nothing)."""
    assert replay.fl.lost_answers[:n] == [(method, how)] * n, replay.fl.lost_answers
    assert replay.fl.knobs.pending_losses == 0


# -- creating calls ------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["500", "reset", "hang"])
def test_lost_upload_answer_uploads_once(replay, how):
    lost(replay, "upload", how)
    replay.run_to_the_end("-o", "flickr.timeout=2")
    assert_lost(replay, "upload", how)
    replay.assert_replayed()


@pytest.mark.parametrize("how", ["500", "reset"])
def test_lost_photoset_create_answer_makes_one_set(replay, how):
    lost(replay, "flickr.photosets.create", how, n=2)  # two albums' sets, the first two created
    replay.run_to_the_end()
    assert_lost(replay, "flickr.photosets.create", how, n=2)
    replay.assert_replayed()  # one set per album: no orphan set holding only the primary photo


@pytest.mark.parametrize("how", ["500", "reset"])
def test_lost_add_photo_answer_keeps_the_set_complete_and_ordered(replay, how):
    lost(replay, "flickr.photosets.addPhoto", how, n=3)
    replay.run_to_the_end()
    assert_lost(replay, "flickr.photosets.addPhoto", how, n=3)
    replay.assert_replayed()


# -- idempotent updates: repeating them is harmless, the outcome must still be right -------------------------
@pytest.mark.parametrize("method", ["flickr.photos.setDates", "flickr.photos.licenses.setLicense",
                                    "flickr.photos.geo.setLocation", "flickr.photosets.editPhotos",
                                    "flickr.photosets.editMeta"])
def test_lost_update_answer_in_the_first_run(replay, method):
    lost(replay, method, "500", n=2)
    replay.run_to_the_end()
    assert_lost(replay, method, "500", n=2)
    replay.assert_replayed()


def test_lost_set_meta_and_set_tags_answers_for_an_edited_document(replay):
    first, _ = replay.run()
    assert first.returncode == 0, first.stderr
    doc_id = sorted(replay.documents())[0]
    replay.edit_document(doc_id, title="edited title", description="edited description",
                         tags=["edited", "two words"])
    lost(replay, "flickr.photos.setMeta", "reset")
    lost(replay, "flickr.photos.setTags", "500")
    replay.fl.reset_counters()
    replay.run_to_the_end()
    assert sorted(replay.fl.lost_answers) == [("flickr.photos.setMeta", "reset"), ("flickr.photos.setTags", "500")]
    assert replay.fl.calls["upload"] == 0
    photo = replay.photo_of(doc_id)
    assert (photo["title"], photo["description"]) == ("edited title", "edited description")
    assert sorted(photo["tags"]) == ["edited", "two words"]
    replay.assert_replayed()

"""A Flickr sandbox with a save file: what it answered survives a kill at any moment, and nothing more."""

from __future__ import annotations

import shutil
from pathlib import Path

from migrator_flickr.sandbox import FlickrSandbox


def saved_sandbox(folder: Path) -> FlickrSandbox:
    return FlickrSandbox(seed=7, storage_dir=str(folder / "files"), save_file=folder / "flickr.sandbox")


def killed_copy(folder: Path, to: Path) -> Path:
    """The folder as a process killed now leaves it: no snapshot on the way out."""
    shutil.copytree(folder, to)
    return to


def test_every_answered_write_survives_a_kill(tmp_path, up, make_jpeg):
    sb = saved_sandbox(tmp_path / "live").start()
    flickr = sb.flickrapi_client("write")
    first = up(flickr, make_jpeg(note="one"), title="one", tags="migrator:ipernity=1")
    second = up(flickr, make_jpeg(note="two"), title="two")
    made = flickr.photosets.create(title="album", primary_photo_id=first)["photoset"]["id"]
    flickr.photosets.addPhoto(photoset_id=made, photo_id=second)
    flickr.photos.setMeta(photo_id=second, title="two, renamed", description="")
    expected = sb.state()

    restarted = saved_sandbox(killed_copy(tmp_path / "live", tmp_path / "after-kill"))
    assert restarted.state() == expected  # ids, titles, tags, the set and its order: replayed exactly
    with restarted:
        client = restarted.flickrapi_client("write")
        assert client.photos.search(user_id="me", machine_tags="migrator:ipernity=1")["photos"]["total"] == "1"
        third = up(client, make_jpeg(note="three"), title="three")
    assert third not in (first, second)  # the id generator went on where it was
    sb.stop()


def test_a_write_cut_short_by_the_kill_was_never_answered(tmp_path, up, make_jpeg):
    sb = saved_sandbox(tmp_path / "live").start()
    flickr = sb.flickrapi_client("write")
    kept = up(flickr, make_jpeg(note="kept"), title="kept")
    journal = tmp_path / "live" / "flickr.sandbox.journal"
    size = journal.stat().st_size
    up(flickr, make_jpeg(note="cut"), title="cut")
    folder = killed_copy(tmp_path / "live", tmp_path / "after-kill")
    cut = folder / "flickr.sandbox.journal"
    cut.write_bytes(cut.read_bytes()[:size + 10])  # the process died while writing the second entry
    restarted = saved_sandbox(folder)
    assert list(restarted.account.photos) == [kept]
    with restarted:  # its uploaded file, which no photo uses, is deleted at the start
        used = {p.path for p in restarted.account.photos.values()}
        assert sorted(str(p) for p in (folder / "files").iterdir()) == sorted(used)
    sb.stop()


def test_a_clean_stop_folds_the_journal_into_the_snapshot(tmp_path, up, make_jpeg):
    with saved_sandbox(tmp_path) as sb:
        up(sb.flickrapi_client("write"), make_jpeg(), title="x")
        token = sb.grant_token("read")
        expected = sb.state()
    assert (tmp_path / "flickr.sandbox.journal").read_bytes() == b""
    again = saved_sandbox(tmp_path)
    assert again.state() == expected
    assert again.oauth.access_tokens[token[0]].perms == "read"  # tokens outlive a restart too

"""The main jobs end to end with the built-in plugins and their sandboxes, as a user runs them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from migrator.records import dumps

pytest.importorskip("migrator_local")
pytest.importorskip("migrator_flickr")

from migrator_flickr.client import machine_tag  # noqa: E402
from migrator_flickr.sandbox import FlickrSandbox  # noqa: E402
from migrator_flickr.sandbox.model import Account as FlickrAccount  # noqa: E402
from migrator_ipernity.sandbox import IpernitySandbox, build_account  # noqa: E402
from migrator_ipernity.sandbox.truth import expected_album, expected_document, without_raw  # noqa: E402

ALL = {"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity,local,flickr"}
YEAR_2000 = 946684800


def folder_records(out: Path) -> dict[str, dict]:
    return {p.name[len("ipernity-"):-len(".json")]: json.loads(p.read_text("utf-8"))
            for p in out.glob("ipernity-*.json")}


def flickr_by_origin(state: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for photo in state["photos"]:
        for tag in photo["machine_tags"]:
            if tag.startswith("migrator:ipernity="):
                found.setdefault(tag.split("=", 1)[1], []).append(photo)
    return found


def assert_on_flickr(account, state: dict, full: bool = True) -> None:
    """Every photo and video exactly once with its metadata; album sets in album order."""
    media = [d for d in account.docs if d.media in ("photo", "video")]
    by_origin = flickr_by_origin(state)
    assert set(by_origin) == {d.doc_id for d in media}
    assert all(len(v) == 1 for v in by_origin.values()), "uploaded twice"
    assert len(state["photos"]) == len(media)
    for doc in media:
        photo = by_origin[doc.doc_id][0]
        assert (photo["title"], photo["description"]) == (doc.title, doc.description)
        assert (photo["is_public"], photo["is_friend"], photo["is_family"]) == (doc.ispublic, doc.isfriend,
                                                                                 doc.isfamily)
        if not doc.created_at.startswith("0000"):
            assert photo["date_taken"] == doc.created_at
        assert photo["original"]["size"] == doc.original.bytes
        if full:
            assert sorted(photo["tags"]) == sorted(t["tag"] for t in doc.tags if t["type"] != "machine")
            assert photo["date_posted"] == doc.posted_at
    sets = state["photosets"]
    if not full:  # flip kept album titles only: same-title albums merge, order is lost
        titles = {a.title or "untitled" for a in account.albums}
        for title in titles:
            members = {by_origin[i][0]["id"] for a in account.albums if (a.title or "untitled") == title
                       for i in a.doc_ids if i in by_origin}
            matching = [s for s in sets if s["title"] == title]
            assert len(matching) == (1 if members else 0), title
            assert not members or set(matching[0]["photos"]) == members, title
        return
    for album in account.albums:
        order = [by_origin[i][0]["id"] for i in album.doc_ids if i in by_origin]
        if not order:
            continue
        matching = [s for s in sets if s["title"] == (album.title or "untitled") and s["photos"] == order]
        assert len(matching) == 1, album.title


# -- ipernity → local (→ local source) ---------------------------------------------------------------
def test_ipernity_local_round_trip_is_exact(cli, home):
    with IpernitySandbox(seed=0) as sb:
        backup, direct, replayed = home / "backup", home / "direct", home / "replayed"
        result = cli("run", "ipernity", "local", "folder", *sb.cli_options(), "-o", f"local.path={backup}",
                     "-o", f"folder.path={direct}", "-o", "folder.skip_media=none", "--state", str(home / "s1"),
                     env=ALL)
        assert result.returncode == 0, result.stderr
        assert sum(sb.downloads.values()) == len(sb.account.docs)  # the folder sink read the local file
        result = cli("run", "local", "folder", "-o", f"local.path={backup}", "-o", f"folder.path={replayed}",
                     "-o", "folder.skip_media=none", "--state", str(home / "s2"), env=ALL)
        assert result.returncode == 0, result.stderr
        original, back = folder_records(direct), folder_records(replayed)
        assert set(original) == {d.doc_id for d in sb.account.docs}
        assert back == original  # every field, source_metadata included, text byte-identical
        for doc in sb.account.docs:
            assert without_raw(original[doc.doc_id]) == without_raw(json.loads(dumps(expected_document(sb.account,
                                                                                                         doc))))
            data = (replayed / f"ipernity-{doc.doc_id}.bin").read_bytes()
            assert hashlib.md5(data).hexdigest() == doc.original.md5
        for album in sb.account.albums:
            stored = json.loads((replayed / f"album-{album.album_id}.json").read_text("utf-8"))
            assert without_raw(stored) == without_raw(json.loads(dumps(expected_album(sb.account, album))))
        # nothing in the backup escaped its folder, whatever the hostile titles
        for path in backup.rglob("*"):
            assert path.resolve().is_relative_to(backup.resolve()) or path.is_symlink()


def flip_folder(folder: Path, account, docs) -> None:
    """A flip backup as flip writes it: flat <docid>.<ext> + compact <docid>.json (seeds.md §1.5)."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        ext = doc.original.ext
        (folder / f"{doc.doc_id}.{ext}").write_bytes(doc.original.content())
        albums = [a.title for a in account.albums if doc.doc_id in a.doc_ids] or None
        record = {"docid": doc.doc_id, "originalurl": "https://cdn.ipernity.com/x", "originalsize": doc.original.bytes,
                  "ext": ext, "media": doc.media, "title": doc.title, "description": doc.description,
                  "date": doc.created_at, "albums": albums, "family": bool(doc.isfamily),
                  "friends": bool(doc.isfriend), "public": bool(doc.ispublic)}
        (folder / f"{doc.doc_id}.json").write_text(json.dumps(record, separators=(",", ":")), "utf-8")
    (folder / "ipernity_last_doc").write_text(str(len(docs)))


def test_ipernity_into_a_flip_backup_downloads_only_what_flip_lacked(cli, home):
    with IpernitySandbox(seed=0) as sb:
        backup = home / "backup"
        had = sb.account.docs[::2]
        flip_folder(backup, sb.account, had)
        result = cli("run", "ipernity", "local", *sb.cli_options(), "-o", f"local.path={backup}",
                     "--state", str(home / "s"), env=ALL)
        assert result.returncode == 0, result.stderr
        assert set(sb.downloads) == {d.doc_id for d in sb.account.docs} - {d.doc_id for d in had}
        assert max(sb.downloads.values()) == 1
        for doc in had:  # flip's own files are untouched
            assert (backup / f"{doc.doc_id}.{doc.original.ext}").read_bytes() == doc.original.content()


# -- → flickr -------------------------------------------------------------------------------------------
def test_ipernity_local_flickr_sandbox_flag(cli, home):
    """The main job on a fresh machine: both emulators, the backup and the state in the user cache folder's
    sandbox, nothing real touched."""
    result = cli("run", "ipernity", "local", "flickr", "--sandbox", env=ALL, timeout=600)
    assert result.returncode == 0, result.stderr
    workdir = Path(re.search(r"sandbox folder (\S+) is kept", result.stdout).group(1))
    assert workdir == home / "xdg_cache_home" / "migrator" / "sandbox"
    assert f"state in {workdir / 'state.sqlite3'})" in result.stdout
    state = json.loads((workdir / "flickr-sink" / "flickr-sandbox-state.json").read_text("utf-8"))
    account = build_account(0)
    assert_on_flickr(account, state)
    backup = workdir / "local-sink" / "backup"
    assert len(list(backup.rglob("*].json"))) == len(account.docs)
    assert not (home / "xdg_state_home" / "migrator").exists()  # the user's real state is untouched


def test_ipernity_local_flickr_field_by_field(cli, home):
    with IpernitySandbox(seed=0) as ip, FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox",
                                                                                           YEAR_2000)) as fl:
        args = ["run", "ipernity", "local", "flickr", *ip.cli_options(), *fl.cli_options(),
                "-o", f"local.path={home / 'backup'}", "--state", str(home / "s")]
        result = cli(*args, env=ALL)
        assert result.returncode == 0, result.stderr
        assert sum(ip.downloads.values()) == len(ip.account.docs)  # flickr uploaded the local file
        assert_on_flickr(ip.account, fl.state())
        fl.reset_counters()
        assert cli(*args, env=ALL).returncode == 0
        assert fl.calls["upload"] == 0


def test_flip_folder_replayed_to_flickr_adopting_flop_uploads(cli, home):
    account = build_account(0)
    flip = home / "flip"
    flip_folder(flip, account, account.docs)
    with FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", YEAR_2000)) as fl:
        flop = [d for d in account.docs if d.media == "photo" and not d.created_at.startswith("0000")][:5]
        client = fl.flickrapi_client("write", format="etree")
        for doc in flop:  # what flop did: tag `ipernity`, title, date taken
            rsp = client.upload("x.jpg", fileobj=io.BytesIO(doc.original.content()), title=doc.title,
                                tags="ipernity", is_public=1, format="etree")
            client.photos.setDates(photo_id=rsp.findtext("photoid"), date_taken=doc.created_at, format="etree")
        (flip / "flickr_last_doc").write_text("5")
        fl.reset_counters()
        result = cli("run", "local", "flickr", "-o", f"local.path={flip}", *fl.cli_options(),
                     "--state", str(home / "s"), "--report", str(home / "r.json"), env=ALL)
        assert result.returncode == 0, result.stderr
        media = [d for d in account.docs if d.media in ("photo", "video")]
        assert fl.calls["upload"] == len(media) - len(flop)
        uploaded = sum(d.original.bytes for d in media if d not in flop)
        assert json.loads((home / "r.json").read_text())["bytes"] == uploaded
        state = fl.state()
        assert_on_flickr(account, state, full=False)  # flip kept no tags and no posted date
        for photo in state["photos"]:
            assert any(t == machine_tag("ipernity", t.split("=", 1)[1]) for t in photo["machine_tags"])


def test_flickr_mirror_adopts_a_flickrmirrorer_folder(cli, home, monkeypatch):
    """A flickrmirrorer user switching: the photos already mirrored are not downloaded again."""
    from migrator_flickr.sandbox import build_seeded_account
    from migrator_flickr.sandbox import server as flickr_server

    originals: list[str] = []
    serve = flickr_server._Handler.do_GET

    def counting_get(handler):
        if "_o." in handler.path or "/play/orig/" in handler.path:
            originals.append(handler.path)
        return serve(handler)

    monkeypatch.setattr(flickr_server._Handler, "do_GET", counting_get)
    with FlickrSandbox(seed=0, account=build_seeded_account(0)) as fl:
        mirror = home / "mirror"
        (mirror / "photostream").mkdir(parents=True)
        photos = [p for p in fl.account.photos.values() if p.media == "photo"]
        for photo in photos:  # flickrmirrorer's layout: photostream/<id>.<format> + .metadata
            name = f"{photo.id}.{photo.original_format}"
            (mirror / "photostream" / name).write_bytes(photo.read_original())
            (mirror / "photostream" / f"{name}.metadata").write_text(json.dumps({"id": photo.id,
                                                                                 "title": photo.title}))
        result = cli("run", "flickr", "local", "-o", f"local.path={mirror}", *fl.cli_options("read"),
                     "--state", str(home / "s"), "--report", str(home / "report.json"), env=ALL)
        assert result.returncode == 0, result.stderr
        videos = [p for p in fl.account.photos.values() if p.media == "video"]
        # one GET per original, whose headers (size) are checked against the mirror's copy; only the bodies
        # of what the mirror lacked are read
        assert len(originals) == len(photos) + len(videos) and fl.file_methods.get("HEAD", 0) == 0
        report = json.loads((home / "report.json").read_text("utf-8"))
        assert report["bytes"] == sum(p.size for p in videos)
        assert len(list((mirror / "flickr").rglob("*].json"))) == len(photos) + len(videos)


def test_plugins_json_lists_the_built_in_sources_and_sinks(cli):
    result = cli("plugins", "--json", env=ALL)
    assert result.returncode == 0, result.stderr
    entries = {(e["name"], e["kind"]): e for e in json.loads(result.stdout)}
    assert {("ipernity", "source"), ("local", "source"), ("local", "sink"), ("flickr", "source"),
            ("flickr", "sink")} <= set(entries)
    assert entries[("flickr", "sink")]["plugin"] == "migrator-flickr"
    secret = {o["name"]: o["secret"] for o in entries[("ipernity", "source")]["options"]}
    assert secret["api_secret"] and secret["auth_token"] and not secret["api_url"]


# -- exactly once across kills (checkpoints: migrator/checkpoints.py) ---------------------------------
class Chain:
    """`ipernity local flickr` on a small account, run again and again against the same two services."""

    def __init__(self, cli, home: Path, ip: IpernitySandbox, fl: FlickrSandbox) -> None:
        self.cli, self.home, self.ip, self.fl = cli, home, ip, fl
        self.args = ["run", "ipernity", "local", "flickr", *ip.cli_options(), *fl.cli_options(),
                     "-o", f"local.path={home / 'backup'}", "--state", str(home / "state.sqlite3")]

    def __call__(self, *extra: str, kill: str | None = None):
        env = {**ALL, **({"MIGRATOR_KILL_AT": kill} if kill else {})}
        result = self.cli(*self.args, *extra, env=env)
        if kill:
            assert result.returncode == -9, (kill, result.returncode, result.stderr)
        return result

    def lose_state(self) -> None:
        for path in self.home.glob("state.sqlite3*"):
            path.unlink()


@pytest.fixture
def chain(cli, home):
    with IpernitySandbox(seed=0, account=build_account(0, n_docs=24)) as ip, \
            FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", YEAR_2000)) as fl:
        yield Chain(cli, home, ip, fl)


def finished_exactly_once(chain: Chain) -> None:
    result = chain()
    assert result.returncode == 0, result.stderr
    assert_on_flickr(chain.ip.account, chain.fl.state())
    chain.fl.reset_counters()
    assert chain().returncode == 0
    assert (chain.fl.calls["upload"], chain.fl.calls["flickr.photosets.create"]) == (0, 0)


def test_a_photo_found_again_is_remembered_before_its_dates_move(chain):
    """Defect 1: the answer to an upload is lost; the next run finds the photo by its machine tag, moves
    its posted date back and dies before the document is done; the run after must still know it."""
    chain(kill="flickr:answer:upload#2")
    chain(kill="flickr:answer:flickr.photos.setDates#1")
    finished_exactly_once(chain)


def test_after_a_lost_state_one_more_kill_uploads_nothing_twice(chain):
    """Defect 2: the first listing after a state loss must not let a killed run's successor skip lookups."""
    chain(kill="flickr:call:upload#7")
    chain.lose_state()
    chain(kill="flickr:answer:flickr.photos.setDates#3")
    finished_exactly_once(chain)


def test_a_lost_state_during_the_album_phase_makes_no_second_set(chain):
    """Sets made before a state loss are found again from their members, even with equal titles."""
    chain(kill="flickr:answer:flickr.photosets.editPhotos#2")
    chain.lose_state()
    chain(kill="flickr:answer:flickr.photosets.editMeta#1")
    finished_exactly_once(chain)


def test_any_id_round_trips_through_the_machine_tag(cli, home):
    """Defect 7: ids with spaces, slashes, quotes, `=`, unicode or 200 characters are found again after
    a lost state: nothing is uploaded twice."""
    ids = ["Holidays 2019/beach.jpg", 'say "cheese".jpg', "a=b", "Été à Zürich", "x" * 200, "UPPER", "upper",
           "b32.abc", "12345"]
    from migrator_flickr.sandbox.media import make_jpeg

    data = {"documents": [{"id": doc_id, "title": f"t{i}", "media": "photo", "file": {"ext": "jpg"},
                           "content_b64": base64.b64encode(make_jpeg(8, 8, comment=str(i))).decode()}
                          for i, doc_id in enumerate(ids)]}
    source = home / "docs.json"
    source.write_text(json.dumps(data), "utf-8")
    with FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", YEAR_2000)) as fl:
        args = ["run", "jsonfile", "flickr", "-o", f"jsonfile.file={source}", *fl.cli_options()]
        first = cli(*args, "--state", str(home / "one"), env=ALL)
        assert first.returncode == 0, first.stderr
        assert fl.calls["upload"] == len(ids)
        fl.reset_counters()
        again = cli(*args, "--state", str(home / "two"), env=ALL)
        assert again.returncode == 0, again.stderr
        assert fl.calls["upload"] == 0
        tags = sorted(t for p in fl.state()["photos"] for t in p["machine_tags"])
        assert len(tags) == len(set(tags)) == len(ids)


def test_an_outage_in_the_album_phase_is_finished_by_the_next_run(chain, monkeypatch):
    """Defect 4: a stop while sets are being ordered (exit 4) must leave the albums for the next run:
    every set complete and in order with its description, every album folder in the backup."""
    from migrator_flickr.sandbox import api as sandbox_api

    edit, perms = sandbox_api.METHODS["flickr.photosets.editPhotos"]

    def outage_begins(call):
        chain.fl.knobs.fault_rate = 1.0  # from the first set's ordering on, Flickr answers only 5xx
        return edit(call)

    monkeypatch.setitem(sandbox_api.METHODS, "flickr.photosets.editPhotos", (outage_begins, perms))
    stopped = chain()
    assert stopped.returncode == 4, stopped.stderr
    monkeypatch.setitem(sandbox_api.METHODS, "flickr.photosets.editPhotos", (edit, perms))
    chain.fl.knobs.fault_rate = 0.0
    finished_exactly_once(chain)
    for album in chain.ip.account.albums:
        flickr_set = [s for s in chain.fl.state()["photosets"] if s["title"] == (album.title or "untitled")]
        if album.description and flickr_set:
            assert album.description in [s["description"] for s in flickr_set]
    folders = list((chain.home / "backup" / "ipernity" / "Albums").iterdir())
    assert len(folders) == len(chain.ip.account.albums)

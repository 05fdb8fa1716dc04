"""Flickr's data export, as the sandbox writes it (split over several ZIPs, or unpacked), read by the
`flickr-export` folder format: every field against the sandbox's own account, the planted problems listed
exactly, and the hybrid fill from Flickr's listing calls (counted). The reader is driven directly."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from migrator_flickr.export import FlickrExport, media_ids
from migrator_flickr.licenses import FLICKR
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox.export import Defects, photo_json, write_export
from migrator_flickr.sandbox.export import album as album_json

from migrator import Context
from migrator.dates import utc_from_epoch
from migrator.errors import DocumentError
from migrator.folders import Folder
from migrator.options import resolve
from migrator.registry import load
from migrator.testing import assert_valid_record

N_PHOTOS = 24
LISTING_CALLS = {"flickr.people.getPhotos", "flickr.photosets.getList", "flickr.photosets.getPhotos",
                 "flickr.collections.getTree"}


@pytest.fixture(scope="module")
def account():
    return build_seeded_account(5, n_photos=N_PHOTOS)


def read(folder: Path, context: Context | None = None) -> tuple[FlickrExport, dict, dict]:
    """The format on `folder`: loaded items by id, and the load failures by id."""
    fmt = FlickrExport(Folder(folder))
    fmt.context = context
    items, failures = {}, {}
    for listed in fmt.documents():
        try:
            items[listed.id] = listed.load()
        except DocumentError as exc:
            failures[listed.id] = (listed.title, str(exc))
    return fmt, items, failures


def with_flickr(sb: FlickrSandbox) -> Context:
    """A run's context whose `flickr.*` settings point at the sandbox (as `-o flickr.…` would)."""
    given = dict(pair.removeprefix("flickr.").split("=", 1) for pair in sb.cli_options("read")[1::2])
    settings = resolve("flickr", load().sources["flickr"].cls.options, given, {})
    context = Context("local", "source")
    context.settings_of = lambda name: settings if name == "flickr" else None
    return context


def albums_of(account, photo_id: str) -> set[tuple[str, str, int]]:
    return {(s.id, s.title, s.photos.index(photo_id) + 1) for s in account.photosets if photo_id in s.photos}


def assert_matches(doc, photo, account, merged: bool, position: int) -> None:
    """The record against the sandbox's photo, field by field."""
    assert (doc.source, doc.id, doc.media, doc.position) == ("flickr", photo.id, photo.media, position)
    assert (doc.title, doc.description) == (photo.title, photo.description)
    assert doc.tags == [t.raw for t in photo.tags]
    assert doc.taken_at == photo.date_taken.replace(" ", "T")  # the export knows no "unknown" date
    assert doc.posted_at == utc_from_epoch(photo.date_posted)
    either = bool(photo.is_friend or photo.is_family)
    friends, family = (either, either) if merged and not photo.is_public else (bool(photo.is_friend),
                                                                               bool(photo.is_family))
    assert (doc.visibility.public, doc.visibility.friends, doc.visibility.family) == (bool(photo.is_public), friends,
                                                                                      family)
    assert (doc.safety, doc.license, doc.rotation) == (photo.safety_level, FLICKR[str(photo.license)], photo.rotation)
    if photo.geo:
        assert (round(doc.geo.latitude, 6), round(doc.geo.longitude, 6), doc.geo.accuracy) == (
            photo.geo["latitude"], photo.geo["longitude"], photo.geo["accuracy"])
    else:
        assert doc.geo is None
    assert [(c.id, c.author, c.posted_at, c.text) for c in doc.comments] == [
        (c.id, c.author, utc_from_epoch(c.datecreate), c.text) for c in account.comments.get(photo.id, [])]
    assert {(a.id, a.title, a.position) for a in doc.albums} == albums_of(account, photo.id)
    assert doc.source_metadata["flickr_export"]["id"] == photo.id and doc.file.size == photo.size


def sha256(item) -> str:
    with item.original.open() as stream:
        return hashlib.sha256(stream.read()).hexdigest()


def uploaded_order(account) -> list[str]:
    return [p.id for p in sorted(account.photos.values(), key=lambda p: (p.date_posted, int(p.id)))]


def test_the_plugin_registers_the_format(tmp_path, account):
    assert FlickrExport in load().folder_formats
    write_export(account, tmp_path / "export", per_zip=10)
    assert FlickrExport.detect(Folder(tmp_path / "export"))
    assert not FlickrExport.detect(Folder(tmp_path))


@pytest.mark.parametrize("unpacked", [False, True], ids=["zips", "unpacked"])
def test_a_clean_export_split_over_zips_reads_field_by_field(tmp_path, account, unpacked):
    written = write_export(account, tmp_path / "export", Defects.none(), per_zip=7, unpacked=unpacked)
    assert len(written.archives) == 1 + 4  # the metadata ZIP and ceil(24/7) media ZIPs
    fmt, items, failures = read(tmp_path / "export")
    assert failures == {} and fmt.problems == []
    for position, photo_id in enumerate(uploaded_order(account), 1):
        photo = account.photos[photo_id]
        assert_matches(items[photo_id].document, photo, account, merged=False, position=position)
        assert sha256(items[photo_id]) == photo.sha256
    albums = [c for c in fmt.containers() if c.kind == "album"]
    assert [(c.id, c.title, c.description, c.members, c.position) for c in albums] == [
        (s.id, s.title, s.description, s.photos, n) for n, s in enumerate(account.photosets, 1)]
    assert albums[0].source_metadata["flickr_export"]["id"] == account.photosets[0].id


def test_flickrs_defects_and_the_planted_problems_are_listed_exactly(tmp_path, account):
    written = write_export(account, tmp_path / "export", Defects(missing=2, orphans=1), per_zip=10)
    context = Context("local", "source")
    fmt, items, failures = read(tmp_path / "export", context)
    problems = set(written.missing) | set(written.orphans)
    assert set(failures) == problems and set(items) == set(account.photos) - problems
    for photo_id in written.missing:
        title, reason = failures[photo_id]
        assert title == account.photos[photo_id].title and "holds no original" in reason
        assert f"/{photo_id}/" in reason  # its page, to fetch it by hand
    [orphan] = written.orphans
    assert f"no photo_{orphan}.json" in failures[orphan][1] and written.media_names[orphan] in failures[orphan][0]
    order = uploaded_order(account)
    for photo_id, item in items.items():
        assert_matches(item.document, account.photos[photo_id], account, merged=True,
                       position=order.index(photo_id) + 1 - (order.index(orphan) < order.index(photo_id)))
    names = {i.document.file.name for i in items.values()}
    assert any(f"dsc_{pid[-4:]}_{pid}" in n for n in names for pid in items)  # the names_mismatch defect
    summary, merged = context.warnings[-1], context.warnings[0]
    assert f"{N_PHOTOS - 1} photo JSON files" in summary and "2 without their original" in summary
    assert "1 originals without JSON" in summary and "'friend & family'" in merged
    assert len(context.warnings) == 2 and fmt.problems == []


def test_a_damaged_entry_fails_alone_named_by_its_archive(tmp_path, account):
    write_export(account, tmp_path / "export", Defects.none(), per_zip=30)
    [meta] = (tmp_path / "export").glob("*_part1.zip")
    victim = sorted(account.photos)[3]
    rewritten = tmp_path / "export" / "x.zip"
    with zipfile.ZipFile(meta) as old, zipfile.ZipFile(rewritten, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info.filename, data[:40] if info.filename == f"photo_{victim}.json" else data)
    rewritten.replace(meta)
    (tmp_path / "export" / "data-download-9.zip").write_bytes(b"not a zip")
    fmt, items, failures = read(tmp_path / "export")
    assert set(failures) == {victim, "export:data-download-9.zip"}
    assert f"photo_{victim}.json) is not valid JSON" in failures[victim][1]
    assert "download that archive again" in failures["export:data-download-9.zip"][1]
    assert len(items) == N_PHOTOS - 1


def test_media_names_give_their_ids():
    assert media_ids("img_5871_101631362_o.jpg") == ["101631362"]
    assert media_ids("30410016513_b941ab820b_o.JPG") == ["30410016513"]
    assert media_ids("12345678_90123456_o.jpg") == ["12345678", "90123456"]  # resolved against the JSON ids
    assert media_ids("-walk_52000000001.mp4") == ["52000000001"] and media_ids("walk_5.jpg") == []
    assert media_ids("notes.txt") == []


def test_hybrid_fills_friends_family_order_and_collections_with_listing_calls_only(tmp_path, account):
    written = write_export(account, tmp_path / "export", Defects(orphans=1), per_zip=10)
    with FlickrSandbox(account=account) as sb:
        context = with_flickr(sb)
        sb.reset_counters()
        fmt, items, failures = read(tmp_path / "export", context)
        calls = dict(sb.calls)
        assert sb.file_requests == []
    assert failures == {}  # the orphan's metadata comes from the listing
    assert set(calls) == {"flickr.people.getPhotos", "flickr.photosets.getList", "flickr.collections.getTree"}
    assert sum(calls.values()) == 3 and calls == dict(context.calls)  # one page each for 24 photos and 7 albums
    for photo_id, item in items.items():
        photo, doc = account.photos[photo_id], item.document
        assert (doc.visibility.public, doc.visibility.friends, doc.visibility.family) == (
            bool(photo.is_public), bool(photo.is_friend), bool(photo.is_family))
        assert doc.taken_at == (None if photo.date_taken_unknown else photo.date_taken.replace(" ", "T"))
        assert doc.source_metadata["from_api"]["call"] == "flickr.people.getPhotos"
    [orphan] = written.orphans
    assert items[orphan].document.title == account.photos[orphan].title
    containers = list(fmt.containers())
    albums = [c for c in containers if c.kind == "album"]
    assert [c.id for c in sorted(albums, key=lambda c: c.position)] == [s.id for s in account.photosets]
    collections = {c.id: c for c in containers if c.kind == "collection"}
    travel = account.collections[0]
    assert collections[travel.id].members == travel.sets + [c.id for c in travel.collections]
    assert len(collections) == 4 and any("everything else from the export" in w for w in context.warnings)


def test_hybrid_reads_an_album_list_the_export_cut_short(tmp_path, account):
    write_export(account, tmp_path / "export", Defects.none(), per_zip=30)
    album = account.photosets[2]
    meta = next((tmp_path / "export").glob("*_part1.zip"))
    with zipfile.ZipFile(meta) as old:
        entries = {i.filename: old.read(i) for i in old.infolist()}
    data = json.loads(entries["albums.json"])
    data["albums"][2]["photos"] = data["albums"][2]["photos"][:1]
    entries["albums.json"] = json.dumps(data).encode()
    with zipfile.ZipFile(meta, "w") as new:
        for name, value in entries.items():
            new.writestr(name, value)
    with FlickrSandbox(account=account) as sb:
        context = with_flickr(sb)
        sb.reset_counters()
        fmt, _, _ = read(tmp_path / "export", context)
        assert sb.calls["flickr.photosets.getPhotos"] == 1 and sum(sb.calls.values()) == 4
    [cut] = [c for c in fmt.containers() if c.id == album.id]
    assert cut.members == album.photos and f"the photo lists of albums {album.id}" in context.warnings[-2]


HOSTILE = [None, [], {}, [{"x": 1}], True, 1e300, -7, "", "x" * 300, "0000-00-00 00:00:00", "\u202eé"]


def test_any_value_of_any_key_gives_a_valid_record_or_a_document_error(tmp_path, account):
    """Each key of a photo's JSON, and of an album's, set to hostile values: a valid record or one failing
    document, never a crash."""
    photo = account.photos[sorted(account.photos)[0]]
    good = photo_json(account, photo, Defects.none())
    album = {**album_json(account, account.photosets[0]), "photos": [photo.id]}
    folder = tmp_path / "export" / "meta"
    folder.mkdir(parents=True)
    (folder.parent / f"x_{photo.id}_o.jpg").write_bytes(b"jpeg")
    tried = loaded = 0
    for target, key in [("photo", k) for k in good] + [("album", k) for k in album]:
        for value in HOSTILE:
            raw = {**good, key: value} if target == "photo" else good
            albums = {"albums": [{**album, key: value} if target == "album" else album]}
            (folder / f"photo_{photo.id}.json").write_text(json.dumps(raw), "utf-8")
            (folder / "albums.json").write_text(json.dumps(albums), "utf-8")
            fmt, items, failures = read(folder.parent)
            assert set(items) | set(failures) == {photo.id}
            for item in items.values():
                assert_valid_record(item.document)
            for container in fmt.containers():
                assert_valid_record(container)
            tried, loaded = tried + 1, loaded + len(items)
    assert tried == (len(good) + len(album)) * len(HOSTILE) and loaded > tried * 0.9  # only a bad id fails


def test_hybrid_with_another_accounts_credentials_reads_the_export_alone(tmp_path, account):
    write_export(account, tmp_path / "export", per_zip=30)
    with FlickrSandbox(account=build_seeded_account(6, n_photos=3)) as sb:
        context = with_flickr(sb)
        fmt, items, failures = read(tmp_path / "export", context)
    assert failures == {} and fmt.listing == {} and fmt.api_containers is None
    assert any("holds none of the export's photos" in w for w in context.warnings)
    assert all("from_api" not in i.document.source_metadata for i in items.values())

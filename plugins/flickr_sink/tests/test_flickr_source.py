"""The flickr source end to end through the CLI, against the Flickr sandbox's seeded account."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from migrator_flickr import mapping as fr
from migrator_flickr.licenses import FLICKR
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox.api import photo_sizes
from migrator_flickr.sandbox.model import normalize_tag
from migrator_flickr.source import FlickrSource

from migrator import Context, FileInfo
from migrator.errors import DocumentError
from migrator.licenses import canonical
from migrator.tokens import save_token

ENV = {"MIGRATOR_LOAD_PLUGINS": "memtest,flickr"}
GRANULARITY = {0: "second", 4: "month", 6: "year", 8: "circa"}
ORIGIN_TAG = "migrator:ipernity=4711"


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def endpoints(sb: FlickrSandbox) -> list[str]:
    pairs = {"api_key": sb.api_key, "api_secret": sb.api_secret, "rest_url": sb.rest_url,
             "upload_url": sb.upload_url, "oauth_url": sb.oauth_url, "rate": "0", "backoff": "0.05"}
    return [arg for key, value in pairs.items() for arg in ("-o", f"flickr.{key}={value}")]


@pytest.fixture
def sb() -> Iterator[FlickrSandbox]:
    account = build_seeded_account(0)
    tagged = sorted(account.photos.values(), key=lambda p: p.date_posted)[5]
    account.add_tags(tagged, [ORIGIN_TAG])  # as if the flickr sink had uploaded it from ipernity
    with FlickrSandbox(account=account, retry_after=0) as sandbox:
        yield sandbox


class Mirror:
    """`migrator run flickr folder` into one folder and one state file, a report per run."""

    def __init__(self, cli: Any, sb: FlickrSandbox, home: Path, saved_token: bool = False) -> None:
        self.cli, self.sb, self.home = cli, sb, home
        self.out, self.state = home / "out", home / "state.sqlite3"
        self.token = sb.grant_token("read")
        self.args = endpoints(sb)
        if saved_token:  # what `migrator auth flickr` leaves behind
            save_token("flickr", {"oauth_token": self.token[0], "oauth_token_secret": self.token[1],
                                  "username": "sandbox", "user_nsid": sb.account.user.nsid,
                                  "fullname": "", "perms": "write"}, home / "config",
                       endpoint=sb.rest_url, key=sb.api_key)
        else:
            self.args += ["-o", f"flickr.oauth_token={self.token[0]}",
                          "-o", f"flickr.oauth_token_secret={self.token[1]}"]
        self.runs = 0

    def __call__(self, *extra: str) -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
        self.runs += 1
        report = self.home / f"report{self.runs}.json"
        result = self.cli("run", "flickr", "folder", *self.args, "-o", f"folder.path={self.out}",
                          "-o", "folder.skip_media=none", "--state", str(self.state), "--report", str(report),
                          *extra, env=ENV)
        return result, (json.loads(report.read_text("utf-8")) if report.exists() else {})

    def record(self, photo_id: str) -> dict[str, Any]:
        return json.loads((self.out / f"flickr-{photo_id}.json").read_text("utf-8"))

    def sha256(self, photo_id: str) -> str:
        return hashlib.sha256((self.out / f"flickr-{photo_id}.bin").read_bytes()).hexdigest()

    def container(self, kind: str, container_id: str) -> dict[str, Any]:
        return json.loads((self.out / f"{kind}-{container_id}.json").read_text("utf-8"))

    def stored_ids(self) -> set[str]:
        return {p.stem[len("flickr-"):] for p in self.out.glob("flickr-*.bin")}

    def downloads(self) -> list[str]:
        return [path for _, path, _ in self.sb.file_log]


def expected_albums(state: dict[str, Any], photo_id: str) -> list[dict[str, Any]]:
    return [{"id": s["id"], "title": s["title"], "position": s["photos"].index(photo_id) + 1}
            for s in state["photosets"] if photo_id in s["photos"]]


def expected_tags(photo: dict[str, Any], details: bool) -> list[str]:
    """As spelled with photos.getInfo (`flickr.details`), else Flickr's normalised forms from the listing."""
    machine = [t for t in photo["machine_tags"] if t != ORIGIN_TAG]
    if details:
        return photo["tags"] + machine
    return photo["tags_normalized"] + [normalize_tag(t) for t in machine]


def assert_photo(mirror: Mirror, state: dict[str, Any], photo: dict[str, Any], position: int,
                 details: bool = True) -> None:
    """One record against the sandbox's ground truth, field by field (what only getInfo tells, with details)."""
    record, pid = mirror.record(photo["id"]), photo["id"]
    user_tags = expected_tags(photo, details)
    unknown = photo["date_taken_unknown"] == 1
    geo = photo["geo"]
    assert (record["source"], record["id"], record["media"]) == ("flickr", pid, photo["media"])
    assert (record["title"], record["description"]) == (photo["title"], photo["description"])
    assert sorted(record["tags"]) == sorted(user_tags), pid
    assert record["taken_at"] == (None if unknown else photo["date_taken"].replace(" ", "T"))
    assert record["taken_granularity"] == (None if unknown else GRANULARITY[photo["date_taken_granularity"]])
    assert (record["posted_at"], record["updated_at"]) == (iso(photo["date_posted"]), iso(photo["last_update"]))
    assert record["visibility"] == {"public": bool(photo["is_public"]), "friends": bool(photo["is_friend"]),
                                    "family": bool(photo["is_family"])}
    assert record["safety"] == (photo["safety_level"] if details else 1)
    assert ("photos.getInfo" in record["source_metadata"]) is details
    assert record["license"] == canonical(FLICKR, photo["license"])
    assert record["geo"] == (geo and {"latitude": geo["latitude"], "longitude": geo["longitude"],
                                      "accuracy": geo["accuracy"]})
    assert record["position"] == position
    assert record["albums"] == expected_albums(state, pid)
    assert [(c["id"], c["author"], c["posted_at"], c["text"]) for c in record["comments"]] == \
        [(c["id"], c["authorname"], iso(c["datecreate"]), c["text"]) for c in photo["comments"]]
    assert record["file"]["ext"] == photo["original_format"]
    assert record["file"]["size"] == photo["original"]["size"]
    assert mirror.sha256(pid) == photo["original"]["sha256"]
    assert "fallback" not in record["source_metadata"]


def assert_containers(mirror: Mirror, state: dict[str, Any]) -> None:
    titles = [s["title"] for s in state["photosets"]]
    assert len(set(titles)) < len(titles)  # the seeded account has two sets named alike
    for position, s in enumerate(state["photosets"], 1):
        album = mirror.container("album", s["id"])
        assert (album["title"], album["description"], album["position"]) == (s["title"], s["description"], position)
        assert album["members"] == s["photos"] and album["updated_at"] == iso(s["date_update"])

    def walk(nodes: list[dict[str, Any]], parent: str | None) -> int:
        seen = 0
        for node in nodes:
            stored = mirror.container("collection", node["id"])
            assert stored["members"] == node["sets"] + [c["id"] for c in node["collections"]]
            assert (stored["title"], stored["description"]) == (node["title"], node["description"])
            assert (stored["parent"], stored["member_kind"]) == (parent, "container")
            seen += 1 + walk(node["collections"], node["id"])
        return seen

    assert walk(state["collections"], None) == 4  # two at the top, two nested (one of them empty)


def largest_derived(sb: FlickrSandbox, photo_id: str) -> str:
    """The sandbox's own idea of a photo's biggest uncropped size below the original."""
    sizes = [s for s in photo_sizes(sb.account.photos[photo_id]) if s[0] != "Original" and "Square" not in s[0]]
    return max(sizes, key=lambda s: s[3] * s[4])[0]


def stream(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Photos oldest first: the order `position` counts in."""
    return sorted(state["photos"], key=lambda p: (p["date_posted"], int(p["id"])))


# -- end to end -----------------------------------------------------------------------------------
LISTING = ("flickr.test.login", "flickr.people.getUploadStatus", "flickr.people.getPhotos", "flickr.photosets.getList",
           "flickr.photosets.getPhotos", "flickr.collections.getTree")


def listing_calls(calls: dict[str, int]) -> int:
    return sum(n for method, n in calls.items() if method in LISTING)


@pytest.mark.parametrize("details", [False, True], ids=["default", "details"])
def test_full_mirror_field_by_field_then_rerun_downloads_nothing(cli, home, sb, details):
    mirror = Mirror(cli, sb, home, saved_token=True)
    result, report = mirror(*(["-o", "flickr.details=true"] if details else []))
    assert result.returncode == 0, result.stderr
    state = sb.state()
    photos = stream(state)
    assert mirror.stored_ids() == {p["id"] for p in photos}
    assert {p["media"] for p in photos} == {"photo", "video"}
    for position, photo in enumerate(photos, 1):
        assert_photo(mirror, state, photo, position, details)
    assert_containers(mirror, state)

    origin = mirror.record(photos[5]["id"])
    assert ORIGIN_TAG not in origin["tags"] and origin["id"] == photos[5]["id"]
    assert origin["source_metadata"]["origin"] == {"source": "ipernity", "id": "4711"}
    assert origin["source_metadata"]["migrator_tags"] == [ORIGIN_TAG]
    tags = [t for p in photos for t in mirror.record(p["id"])["tags"]]
    assert "dc:title=two words" in tags  # a machine tag's value keeps its spaces, listing or not
    assert any(" " in t and "=" not in t for t in tags) is details  # plain multi-word tags: as getInfo spells them

    calls = report["api_calls"]["flickr"]
    n, videos = len(photos), sum(p["media"] == "video" for p in photos)
    commented = sum(bool(p["comments"]) for p in photos)
    assert calls["flickr.people.getPhotos"] == 1 and calls.get("flickr.photos.getInfo", 0) == (n if details else 0)
    assert calls["flickr.photosets.getPhotos"] == len(state["photosets"])
    assert calls["flickr.photos.comments.getList"] == commented
    assert calls["flickr.photos.getSizes"] == videos  # photos come from url_o, no getSizes
    assert sum(calls.values()) == listing_calls(calls) + commented + videos + (n if details else 0)
    assert report["warnings"] == [] and report["counts"]["new"] == n
    # one GET per file (a video's goes through Flickr's play/orig redirect), never a HEAD
    assert sb.file_methods == {"GET": n + videos}
    assert sorted(status for _, _, status in sb.file_requests) == [200] * n + [302] * videos

    sb.reset_counters()
    result, report = mirror(*(["-o", "flickr.details=true"] if details else []))
    assert result.returncode == 0, result.stderr
    assert report["counts"]["unchanged"] == n and report["counts"]["new"] == 0
    assert mirror.downloads() == [] and sb.file_requests == []
    assert set(sb.calls) <= set(LISTING)
    assert not (Path(os.environ["HOME"]) / ".flickr").exists()


def test_missing_video_original_is_flagged_then_fetched_once_back(cli, home, sb):
    sb.knobs.video_without_original = True
    mirror = Mirror(cli, sb, home)
    result, report = mirror()
    assert result.returncode == 0, result.stderr
    videos = [p for p in sb.state()["photos"] if p["media"] == "video"]
    warned = " ".join(w["warning"] for w in report["warnings"])
    for video in videos:
        record = mirror.record(video["id"])
        assert record["source_metadata"]["fallback"] == "HD MP4"  # the largest rendition left
        assert record["file"]["ext"] == "mp4" and mirror.sha256(video["id"]) != video["original"]["sha256"]
        assert video["id"] in warned
    assert "NOT the original" in warned and len(report["warnings"]) == len(videos)

    sb.knobs.video_without_original = False
    result, report = mirror()
    assert result.returncode == 0, result.stderr
    assert report["warnings"] == [] and report["counts"]["updated"] == len(videos)
    for video in videos:
        assert "fallback" not in mirror.record(video["id"])["source_metadata"]
        assert mirror.sha256(video["id"]) == video["original"]["sha256"]

    # the retry run stored the listing-time marker it had (none); one metadata look re-arms the normal check
    result, report = mirror()
    assert result.returncode == 0 and report["counts"]["unchanged"] == len(sb.account.photos)
    calls = report["api_calls"]["flickr"]
    assert report["bytes"] == 0 and calls["flickr.photos.getSizes"] == len(videos)
    assert "flickr.photos.getInfo" not in calls
    sb.reset_counters()
    result, report = mirror()
    assert result.returncode == 0 and report["counts"]["unchanged"] == len(sb.account.photos)
    assert mirror.downloads() == [] and set(sb.calls) <= set(LISTING)


def test_forbidden_originals_fall_back_to_the_largest_size(cli, home, sb):
    sb.knobs.originals_403 = True
    mirror = Mirror(cli, sb, home)
    result, report = mirror()
    assert result.returncode == 0, result.stderr
    photos = sb.state()["photos"]
    assert len(report["warnings"]) == len(photos)
    for photo in photos:
        meta = mirror.record(photo["id"])["source_metadata"]
        assert "HTTP 403" in meta["fallback_reason"]
        assert meta["fallback"] == ("HD MP4" if photo["media"] == "video" else largest_derived(sb, photo["id"]))


def test_short_pages_and_429_bursts_still_list_everything_in_order(cli, home, sb):
    sb.knobs.short_pages = True
    sb.knobs.burst(4, 429, targets=("rest",))
    sb.knobs.burst(2, 429, targets=("files",))
    mirror = Mirror(cli, sb, home)
    result, report = mirror("-o", "flickr.per_page=7")
    assert result.returncode == 0, result.stderr
    state = sb.state()
    assert mirror.stored_ids() == {p["id"] for p in state["photos"]}
    assert_containers(mirror, state)
    for position, photo in enumerate(stream(state), 1):
        assert mirror.record(photo["id"])["position"] == position
        assert mirror.record(photo["id"])["albums"] == expected_albums(state, photo["id"])
    assert report["api_calls"]["flickr"]["flickr.people.getPhotos"] > -(-len(state["photos"]) // 7)
    assert sb.knobs.pending_bursts == 0


def test_missing_token_asks_for_authorization(cli, home, sb):
    result = cli("run", "flickr", "folder", *endpoints(sb), "-o", f"folder.path={home}/out", env=ENV)
    assert result.returncode == 3, result.stderr
    assert "migrator auth flickr" in result.stderr and "Traceback" not in result.stderr


def test_secrets_stay_out_of_output_and_report(cli, home, sb):
    mirror = Mirror(cli, sb, home)
    result, report = mirror("-v", "--limit", "2")
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr + json.dumps(report)
    for secret in (sb.api_secret, mirror.token[1]):
        assert secret not in text


def test_sandbox_flag_mirrors_the_seeded_account(cli, home):
    result = cli("run", "flickr", "folder", "--sandbox", "-o", f"folder.path={home / 'backup'}", env=ENV)
    assert result.returncode == 0, result.stderr
    assert "60 listed, 60 new" in result.stdout + result.stderr


# -- in process -----------------------------------------------------------------------------------
def open_source(sb: FlickrSandbox, tmp_path: Path, **overrides: Any) -> FlickrSource:
    token, secret = sb.grant_token("read")
    config = {o.name: o.default for o in FlickrSource.options} | {
        "api_key": sb.api_key, "api_secret": sb.api_secret, "oauth_token": token, "oauth_token_secret": secret,
        "rest_url": sb.rest_url, "upload_url": sb.upload_url, "oauth_url": sb.oauth_url, "rate": 0.0,
        "backoff": 0.01} | overrides
    source = FlickrSource(config, Context("flickr", "source", config_dir=tmp_path, workdir=tmp_path))
    source.open()
    return source


def test_photo_gone_or_garbled_fails_only_that_photo(sb, tmp_path):
    """With photos.getInfo (flickr.details): a photo it no longer knows, or a garbled answer, fails that photo."""
    source = open_source(sb, tmp_path, details=True)
    try:
        entries = {e.id: e for e in source.entries()}
        assert source.account() == sb.account.user.nsid and len(entries) == len(sb.account.photos)
        gone, garbled, fine = list(entries)[:3]
        with sb.lock:
            sb.account.remove_photo(gone)
        with pytest.raises(DocumentError, match=f"{gone} is gone"):
            entries[gone].load()
        real_call = source.client.call
        source.client.call = lambda method, **kw: {"photo": "???"} if kw.get("photo_id") == garbled \
            else real_call(method, **kw)
        with pytest.raises(DocumentError, match=garbled):
            entries[garbled].load()
        item = entries[fine].load()
        with item.original.open() as stream_:
            data = b"".join(iter(lambda: stream_.read(), b""))
        assert hashlib.sha256(data).hexdigest() == sb.account.photos[fine].sha256
    finally:
        source.close()


def test_notes_origin_and_unknown_dates_map_as_received():
    info = {"id": "9", "title": {"_content": " Two  spaces "}, "description": {"_content": "<b>x</b>"},
            "safety_level": "0", "license": "9", "media": "video",
            "dates": {"posted": "1700000000", "taken": "2001-02-03 04:05:06", "takenunknown": "1",
                      "takengranularity": "0", "lastupdate": "1700000100"},
            "visibility": {"ispublic": 0, "isfriend": 1, "isfamily": "0"},
            "notes": {"note": [{"id": "n1", "author": "1@N01", "authorname": "ann", "x": "10", "y": "20",
                                "w": "30", "h": "40", "_content": "a note"}]},
            "tags": {"tag": [{"raw": "new york", "_content": "newyork", "machine_tag": 0},
                             {"raw": "Migrator:flickr=77", "_content": "migrator:flickr=77", "machine_tag": 1},
                             {"raw": "dc:title=two words", "_content": "dc:title=two words", "machine_tag": 1}]}}
    listed = {"id": "9", "latitude": 0, "longitude": 0, "accuracy": 0}
    doc = fr.document(listed, info, None, 3, [], FileInfo(ext="mov"))
    assert (doc.title, doc.description, doc.media, doc.safety) == (" Two  spaces ", "<b>x</b>", "video", 1)
    assert doc.tags == ["new york", "dc:title=two words"]
    assert doc.source_metadata["origin"] == {"source": "flickr", "id": "77"}
    assert (doc.taken_at, doc.taken_granularity, doc.geo, doc.comments) == (None, None, None, [])
    assert doc.posted_at == "2023-11-14T22:13:20Z" and doc.license == "CC0-1.0"
    assert [(n.id, n.author, n.text, n.x, n.y, n.width, n.height) for n in doc.notes] == \
        [("n1", "ann", "a note", 10, 20, 30, 40)]
    assert "photos.comments.getList" not in doc.source_metadata


def test_merge_answers_recovers_order_from_short_pages():
    assert fr.merge_answers([["a", "c", "d"], ["a", "b", "c"]]) == (["a", "b", "c", "d"], True)
    assert fr.merge_answers([["a"], ["b"]])[1] is False  # nothing says which comes first
    assert fr.merge_answers([["a", "b"], ["b", "a"]]) == (["a", "b"], False)  # the list changed meanwhile


def test_flags_are_numbers_digit_texts_booleans_or_the_words_true_and_false():
    assert [fr.flag(v) for v in (1, "1", " 2 ", True, "true", "True")] == [True] * 6
    assert [fr.flag(v) for v in (0, "0", None, "", False, "false", "yes?")] == [False] * 7


@pytest.mark.parametrize(("comments", "fetched"), [("off", False), ("keep", True), ("description", True)])
def test_the_comments_option_decides_whether_comments_are_fetched(sb, tmp_path, comments, fetched):
    """One option for source and sink: only `off` leaves comments out of the record."""
    source = open_source(sb, tmp_path, comments=comments)
    try:
        photo_id = next(i for i, found in sb.account.comments.items() if found and i in sb.account.photos)
        entry = next(e for e in source.entries() if e.id == photo_id)
        sb.reset_counters()
        doc = entry.load().document
        assert bool(doc.comments) is fetched
        assert sb.calls["flickr.photos.comments.getList"] == int(fetched)
        assert (entry.updated_at.split("/")[1] == "-") is not fetched  # the change check counts them only if fetched
    finally:
        source.close()

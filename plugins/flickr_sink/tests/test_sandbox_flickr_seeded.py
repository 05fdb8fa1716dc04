"""The seeded account: what a mirroring source (flickrmirrorer-style) reads, the state dump, the CLI."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys

import requests
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account

MIRROR_EXTRAS = ("description,license,date_upload,date_taken,owner_name,icon_server,original_format,last_update,"
                 "geo,tags,machine_tags,o_dims,media,views")


def test_seeded_account_content():
    acct = build_seeded_account(5)
    photos = list(acct.photos.values())
    assert len(photos) == 60
    assert {p.media for p in photos} == {"photo", "video"}
    assert {p.license for p in photos} == set(range(11))
    assert any(not p.is_public for p in photos) and any(p.is_friend for p in photos)
    assert any(p.hidden == 2 for p in photos) and {1, 2, 3} <= {p.safety_level for p in photos}
    assert any(p.geo for p in photos) and any(not p.geo for p in photos)
    assert {0, 4, 6, 8} <= {p.date_taken_granularity for p in photos}
    assert any(p.date_taken_unknown for p in photos)
    raws = {t.raw for p in photos for t in p.tags}
    assert "new york" in raws or "black and white" in raws
    assert any(t.machine for p in photos for t in p.tags)
    titles = [s.title for s in acct.photosets]
    assert titles.count("Holidays") == 2
    assert any(c.collections for c in acct.collections)
    assert any(acct.comments.values())
    in_sets = {pid for s in acct.photosets for pid in s.photos}
    assert set(acct.photos) - in_sets  # some items in no album
    assert build_seeded_account(5).state() == acct.state()  # deterministic per seed
    assert build_seeded_account(6).state() != acct.state()
    assert len(build_seeded_account(1, n_photos=7).photos) == 7


def test_mirror_like_a_flickrmirrorer_source(seeded):
    f = seeded.flickrapi_client("read", format="parsed-json")
    assert f.token_valid(perms="read")
    items, page = [], 1
    while True:
        rsp = f.people.getPhotos(user_id="me", extras=MIRROR_EXTRAS, per_page=25, page=page)["photos"]
        items += rsp["photo"]
        if page >= rsp["pages"]:
            break
        page += 1
    assert len(items) == 60 == int(rsp["total"])
    state = {p["id"]: p for p in seeded.state()["photos"]}
    for it in items:
        st = state[it["id"]]
        assert it["title"] == st["title"] and it["description"]["_content"] == st["description"]
        assert it["license"] == str(st["license"]) and it["dateupload"] == str(st["date_posted"])
        assert it["datetaken"] == st["date_taken"] and it["datetakengranularity"] == st["date_taken_granularity"]
        assert it["tags"].split() == st["tags_normalized"]
        if it["media"] == "photo":
            url = (f"{seeded.static_url}{it['server']}/{it['id']}_{it['originalsecret']}_o."
                   f"{it['originalformat']}")
            body = requests.get(url, timeout=10).content
            assert hashlib.sha256(body).hexdigest() == st["original"]["sha256"]
    videos = [it for it in items if it["media"] == "video"]
    assert videos
    sizes = f.photos.getSizes(photo_id=videos[0]["id"])["sizes"]["size"]
    vo = next(s for s in sizes if s["label"] == "Video Original")
    body = requests.get(vo["source"], timeout=10).content
    assert hashlib.sha256(body).hexdigest() == state[videos[0]["id"]]["original"]["sha256"]
    # albums in the user's order, members in album order
    sets = f.photosets.getList(per_page=500, page=1)["photosets"]["photoset"]
    assert [s["id"] for s in sets] == [s.id for s in seeded.account.photosets]
    for s in sets:
        n = int(s["photos"]) + int(s["videos"])
        got = []
        for p in range(1, max(1, math.ceil(n / 500)) + 1):
            got += [x["id"] for x in f.photosets.getPhotos(photoset_id=s["id"], extras="original_format,media",
                                                           per_page=500, page=p)["photoset"]["photo"]]
        assert got == seeded.account.get_set(s["id"]).photos
    not_in = f.photos.getNotInSet(extras="original_format,media", per_page=500)["photos"]["photo"]
    in_sets = {pid for s in seeded.account.photosets for pid in s.photos}
    assert {x["id"] for x in not_in} == set(seeded.account.photos) - in_sets
    tree = f.collections.getTree()["collections"]["collection"]
    travel = next(c for c in tree if c["title"] == "Travel")
    assert travel["collection"][0]["title"] == "Europe" and travel["set"]
    empty = next(c for c in travel["collection"] if c["title"] == "Empty for now")
    assert "set" not in empty  # as Flickr: no key for an empty list (flickrmirrorer issue #18)
    info = f.collections.getInfo(collection_id=travel["id"])["collection"]
    assert info["title"]["_content"] == "Travel"
    commented = next(pid for pid, lst in seeded.account.comments.items() if lst)
    com = f.photos.comments.getList(photo_id=commented)["comments"]["comment"]
    assert [c["_content"] for c in com] == [c.text for c in seeded.account.comments[commented]]


def test_anonymous_caller_sees_public_items_only(seeded, raw_factory):
    anon = raw_factory(seeded)
    rsp = anon.call("flickr.people.getPhotos", sign=False, api_key=seeded.api_key, user_id=seeded.account.user.nsid,
                    extras="original_format", per_page=500)
    public = [p for p in seeded.account.photos.values() if p.is_public]
    assert int(rsp["photos"]["total"]) == len(public) < 60
    assert all("originalsecret" not in p for p in rsp["photos"]["photo"])
    private = next(p for p in seeded.account.photos.values() if not p.is_public)
    assert anon.call("flickr.photos.getInfo", sign=False, api_key=seeded.api_key, photo_id=private.id)["code"] == 1


def test_state_dump_is_json_and_complete(seeded):
    st = seeded.state()
    text = json.dumps(st)
    assert json.loads(text) == st
    p = st["photos"][0]
    for key in ("id", "title", "description", "tags", "machine_tags", "is_public", "is_friend", "is_family",
                "safety_level", "hidden", "date_taken", "date_taken_granularity", "date_posted", "geo", "license",
                "media", "original", "sets"):
        assert key in p
    s = st["photosets"][0]
    assert set(s) >= {"id", "title", "description", "primary", "photos"}
    assert st["collections"][0]["collections"]


def test_seed_account_method_and_empty_default():
    sb = FlickrSandbox(seed=2)
    assert sb.account.photos == {} and sb.account.user.username == "sandbox"
    acct = sb.seed_account(n_photos=12)
    assert sb.account is acct and len(acct.photos) == 12


def test_standalone_cli_prints_urls_and_token(tmp_path):
    env = dict(os.environ)
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_root, env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "migrator_flickr.sandbox", "--seeded", "--photos", "5",
                             "--seed", "4", "--knob", "search_lag=2"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        lines = {}
        for line in proc.stdout:
            if line.startswith("Press Ctrl-C"):
                break
            m = re.fullmatch(r"(\w+) +(\S+)", line.strip())
            if m:
                lines[m.group(1)] = m.group(2)
        import flickrapi
        from flickrapi.auth import FlickrAccessToken

        tok = FlickrAccessToken(lines["oauth_token"], lines["oauth_token_secret"], "write")
        f = flickrapi.FlickrAPI(lines["api_key"], lines["api_secret"], token=tok, format="parsed-json")
        f.REST_URL = lines["REST_URL"]
        assert f.people.getPhotos(user_id="me")["photos"]["total"] == "5"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    assert proc.returncode == 0

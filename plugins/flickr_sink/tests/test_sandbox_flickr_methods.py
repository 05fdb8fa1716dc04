"""REST methods of the Flickr sandbox, driven with the real flickrapi client."""

from __future__ import annotations

import time

import flickrapi
import pytest


def _code(fn, **kw) -> int:
    with pytest.raises(flickrapi.FlickrError) as ei:
        fn(**kw)
    return ei.value.code


@pytest.fixture
def three(flickr, up, make_jpeg):
    return [up(flickr, make_jpeg(40 + i, 30, f"p{i}"), title=f"t{i}") for i in range(3)]


def test_meta_tags_perms_safety(sb, flickr, three):
    a = three[0]
    before = sb.account.photos[a].last_update
    flickr.photos.setMeta(photo_id=a, title="New", description="Desc")
    assert _code(flickr.photos.setMeta, photo_id=a) == 2
    assert _code(flickr.photos.setMeta, photo_id="1", title="x") == 1
    flickr.photos.setTags(photo_id=a, tags='one "two words" ns:pred=val')
    flickr.photos.addTags(photo_id=a, tags='three "Two Words"')  # same normalised tag: not added twice
    p = sb.state()["photos"][0]
    assert p["title"] == "New" and p["description"] == "Desc"
    assert p["tags"] == ["one", "two words", "three"] and p["machine_tags"] == ["ns:pred=val"]
    flickr.photos.setTags(photo_id=a, tags="only")
    assert sb.state()["photos"][0]["tags"] == ["only"] and sb.state()["photos"][0]["machine_tags"] == []
    assert _code(flickr.photos.addTags, photo_id=a, tags=" ".join(f"t{i}" for i in range(80))) == 2
    assert sb.account.photos[a].last_update > before
    rsp = flickr.photos.setPerms(photo_id=a, is_public=0, is_friend=1, is_family=1, perm_comment=1)
    assert rsp["photoid"]["_content"] == a and rsp["photoid"]["originalsecret"]
    assert _code(flickr.photos.setPerms, photo_id=a, is_public=1) == 2
    flickr.photos.setSafetyLevel(photo_id=a, safety_level=3, hidden=1)
    p = sb.state()["photos"][0]
    assert (p["is_public"], p["is_friend"], p["is_family"], p["safety_level"], p["hidden"]) == (0, 1, 1, 3, 2)
    assert flickr.photos.getInfo(photo_id=a)["photo"]["safety_level"] == "2"
    assert _code(flickr.photos.setSafetyLevel, photo_id=a, safety_level=5) == 2
    assert _code(flickr.photos.setSafetyLevel, photo_id=a, hidden=7) == 3
    assert flickr.photos.setContentType(photo_id=a, content_type=2)["photo"]["content_type"] == 2
    tag_id = flickr.photos.getInfo(photo_id=a)["photo"]["tags"]["tag"][0]["id"]
    flickr.photos.removeTag(tag_id=tag_id)
    assert sb.state()["photos"][0]["tags"] == []


def test_set_dates_and_errors(sb, flickr, three):
    a = three[0]
    sb.account.user.created_at = 946684800  # 2000-01-01
    flickr.photos.setDates(photo_id=a, date_taken="1999-12", date_taken_granularity=4, date_posted=1000000000)
    p = sb.state()["photos"][0]
    assert (p["date_taken"], p["date_taken_granularity"], p["date_posted"]) == ("1999-12-01 00:00:00", 4, 1000000000)
    d = flickr.photos.getInfo(photo_id=a)["photo"]["dates"]
    assert d["taken"] == "1999-12-01 00:00:00" and d["takengranularity"] == 4 and d["posted"] == "1000000000"
    assert _code(flickr.photos.setDates, photo_id=a) == 2
    assert _code(flickr.photos.setDates, photo_id=a, date_taken_granularity=42) == 3
    assert _code(flickr.photos.setDates, photo_id=a, date_posted=946684799) == 4  # before the account existed
    assert _code(flickr.photos.setDates, photo_id=a, date_posted=int(time.time()) + 86400) == 4  # future
    assert _code(flickr.photos.setDates, photo_id=a, date_posted="yesterday") == 4
    assert _code(flickr.photos.setDates, photo_id=a, date_taken="12/31/1999") == 5
    assert _code(flickr.photos.setDates, photo_id=a, date_taken="2001-02-30 00:00:00") == 6
    assert _code(flickr.photos.setDates, photo_id=a, date_taken="2999-01-01 00:00:00") == 6
    assert _code(flickr.photos.setDates, photo_id=a, date_taken="1700-01-01") == 6
    sb.knobs.reject_dates_before = 1200000000
    assert _code(flickr.photos.setDates, photo_id=a, date_posted=1100000000) == 4
    sb.knobs.taken_range = ("1990-01-01 00:00:00", "2000-01-01 00:00:00")
    assert _code(flickr.photos.setDates, photo_id=a, date_taken="2005-01-01 00:00:00") == 6
    flickr.photos.setDates(photo_id=a, date_taken="1995-06-01 12:00:00")
    # photostream order follows date_posted
    order = [x["id"] for x in flickr.people.getPhotos(user_id="me")["photos"]["photo"]]
    assert order[-1] == a


def test_geo_and_licenses(sb, flickr, three):
    a = three[0]
    flickr.photos.geo.setLocation(photo_id=a, lat="48.85884430000", lon="2.2943506", accuracy=16, context=2)
    g = sb.state()["photos"][0]["geo"]
    assert (g["latitude"], g["longitude"], g["accuracy"], g["context"]) == (48.858844, 2.29435, 16, 2)
    loc = flickr.photos.geo.getLocation(photo_id=a)["photo"]["location"]
    assert loc["latitude"] == "48.858844"
    assert _code(flickr.photos.geo.getLocation, photo_id=three[1]) == 2
    assert _code(flickr.photos.geo.setLocation, photo_id=a, lat=91, lon=0) == 3
    assert _code(flickr.photos.geo.setLocation, photo_id=a, lat=0, lon=181) == 4
    assert _code(flickr.photos.geo.setLocation, photo_id=a, lat=0, lon=0, accuracy=17) == 5
    assert _code(flickr.photos.geo.setLocation, photo_id=a, lat=0) == 2
    sb.knobs.geo_refuse = True
    assert _code(flickr.photos.geo.setLocation, photo_id=three[1], lat=1, lon=1) == 7
    lic = flickr.photos.licenses.getInfo()["licenses"]["license"]
    assert [x["id"] for x in lic] == list(range(11)) and lic[0]["name"] == "All Rights Reserved"
    flickr.photos.licenses.setLicense(photo_id=a, license_id=4)
    assert sb.state()["photos"][0]["license"] == 4
    assert _code(flickr.photos.licenses.setLicense, photo_id=a, license_id=7) == 2
    assert _code(flickr.photos.licenses.setLicense, photo_id=a, license_id=99) == 2
    flickr.photos.licenses.setLicense(photo_id=a, license_id=0)


def test_photosets(sb, flickr, three):
    a, b, c = three
    s1 = flickr.photosets.create(title="Trip", description="first", primary_photo_id=a)["photoset"]
    assert s1["url"].endswith(f"/sets/{s1['id']}/")
    assert _code(flickr.photosets.create, title="", primary_photo_id=a) == 1
    assert _code(flickr.photosets.create, title="x", primary_photo_id="123") == 2
    s2 = flickr.photosets.create(title="Trip", primary_photo_id=b)["photoset"]  # same title is allowed
    assert _code(flickr.photosets.addPhoto, photoset_id=s1["id"], photo_id=a) == 3  # primary already in
    flickr.photosets.addPhoto(photoset_id=s1["id"], photo_id=b)
    flickr.photosets.addPhoto(photoset_id=s1["id"], photo_id=c)
    assert _code(flickr.photosets.addPhoto, photoset_id="1", photo_id=c) == 1
    assert _code(flickr.photosets.addPhoto, photoset_id=s1["id"], photo_id="1") == 2
    flickr.photosets.reorderPhotos(photoset_id=s1["id"], photo_ids=f"{c},{a}")
    flickr.photosets.editMeta(photoset_id=s1["id"], title="Trip 2020", description="<i>desc</i>")
    assert _code(flickr.photosets.editMeta, photoset_id=s1["id"], title="") == 2
    lst = flickr.photosets.getList()["photosets"]
    assert [s["id"] for s in lst["photoset"]] == [s2["id"], s1["id"]]  # new sets come first
    first = lst["photoset"][1]
    assert first["title"]["_content"] == "Trip 2020" and first["photos"] == 3 and first["videos"] == 0
    got = flickr.photosets.getPhotos(photoset_id=s1["id"], extras="media")["photoset"]
    assert [p["id"] for p in got["photo"]] == [c, a, b] and got["photo"][1]["isprimary"] == "1"
    info = flickr.photosets.getInfo(photoset_id=s1["id"])["photoset"]
    assert info["description"]["_content"] == "<i>desc</i>" and info["primary"] == a
    st = sb.state()["photosets"]
    assert st[1] == {"id": s1["id"], "title": "Trip 2020", "description": "<i>desc</i>", "primary": a,
                     "photos": [c, a, b], "date_create": st[1]["date_create"], "date_update": st[1]["date_update"]}
    flickr.photosets.editPhotos(photoset_id=s1["id"], primary_photo_id=b, photo_ids=f"{b},{c}")
    assert sb.account.get_set(s1["id"]).photos == [b, c]
    assert _code(flickr.photosets.editPhotos, photoset_id=s1["id"], primary_photo_id=a, photo_ids=c) == 4
    flickr.photosets.orderSets(photoset_ids=f"{s1['id']},{s2['id']}")
    assert [s.id for s in sb.account.photosets] == [s1["id"], s2["id"]]
    flickr.photosets.removePhoto(photoset_id=s2["id"], photo_id=b)  # last photo: the set disappears
    assert sb.account.get_set(s2["id"]) is None
    flickr.photosets.delete(photoset_id=s1["id"])
    assert flickr.photosets.getList()["photosets"]["photoset"] == []
    assert _code(flickr.photosets.getPhotos, photoset_id=s1["id"]) == 1


def test_comments_delete_and_sizes(sb, flickr, three):
    a = three[0]
    assert "comment" not in flickr.photos.comments.getList(photo_id=a)["comments"]
    cid = flickr.photos.comments.addComment(photo_id=a, comment_text="nice")["comment"]["id"]
    com = flickr.photos.comments.getList(photo_id=a)["comments"]["comment"]
    assert com[0]["id"] == cid and com[0]["_content"] == "nice"
    sizes = flickr.photos.getSizes(photo_id=a)["sizes"]["size"]
    assert sizes[0]["label"] == "Square" and sizes[-1]["label"] == "Original"
    assert all(s["media"] == "photo" for s in sizes)
    ft = sb.flickrapi_client("delete")
    assert _code(flickr.photos.delete, photo_id=a) == 99
    ft.photos.delete(photo_id=a)
    assert a not in sb.account.photos and _code(flickr.photos.getInfo, photo_id=a) == 1


def test_search_lag_and_getphotos(sb, flickr, up, make_jpeg):
    sb.knobs.search_lag = 0.4
    pid = up(flickr, make_jpeg(8, 8, "lag"), tags="ipernity:docid=77 findme")
    assert [p["id"] for p in flickr.people.getPhotos(user_id="me")["photos"]["photo"]] == [pid]
    assert flickr.photos.search(user_id="me", machine_tags="ipernity:docid=77")["photos"]["photo"] == []
    time.sleep(0.45)
    assert [p["id"] for p in flickr.photos.search(user_id="me", machine_tags="ipernity:docid=77")
            ["photos"]["photo"]] == [pid]
    assert flickr.photos.search(user_id="me", machine_tags="ipernity:docid=")["photos"]["total"] == "1"
    assert flickr.photos.search(user_id="me", machine_tags="ipernity:")["photos"]["total"] == "1"
    assert flickr.photos.search(user_id="me", machine_tags="*:docid=78")["photos"]["total"] == "0"
    assert flickr.photos.search(user_id="me", tags="FindMe")["photos"]["total"] == "1"
    up_date = sb.account.photos[pid].date_posted
    assert flickr.photos.search(user_id="me", min_upload_date=up_date + 10)["photos"]["total"] == "0"
    assert flickr.people.getPhotos(user_id="me", min_upload_date=up_date)["photos"]["total"] == "1"
    assert _code(flickr.photos.search) == 3
    assert _code(flickr.people.getPhotos, user_id="nobody@N00") == 2
    assert _code(flickr.people.getPhotos) == 1


def test_paging_short_pages_and_search_cap(sb, flickr, up, make_jpeg):
    ids = [up(flickr, make_jpeg(8, 8, f"pg{i}")) for i in range(12)]
    r = flickr.people.getPhotos(user_id="me", per_page=5, page=2)["photos"]
    assert (r["page"], r["pages"], r["perpage"], r["total"], len(r["photo"])) == (2, 3, 5, "12", 5)
    last = flickr.people.getPhotos(user_id="me", per_page=5, page=9)["photos"]
    assert last["page"] == 3 and len(last["photo"]) == 2  # out of range pages repeat the last page
    assert flickr.people.getPhotos(user_id="me", per_page=5000)["photos"]["perpage"] == 500
    seen = []
    for page in (1, 2, 3):
        seen += [p["id"] for p in flickr.people.getPhotos(user_id="me", per_page=5, page=page)["photos"]["photo"]]
    assert sorted(seen) == sorted(ids)
    sb.knobs.short_pages = True
    r = flickr.people.getPhotos(user_id="me", per_page=5, page=1)["photos"]
    assert len(r["photo"]) < 5 and r["pages"] == 3 and r["total"] == "12"
    assert len(flickr.people.getPhotos(user_id="me", per_page=5, page=3)["photos"]["photo"]) == 2  # final page
    sb.knobs.short_pages = 0
    sb.knobs.search_cap = 10
    assert len(flickr.photos.search(user_id="me", per_page=5, page=2)["photos"]["photo"]) == 5
    assert _code(flickr.photos.search, user_id="me", per_page=5, page=3) == 20


def test_unknown_method_and_format(sb, flickr, raw):
    assert _code(flickr.photos.doesNotExist) == 112
    r = raw.rest("flickr.test.login", fmt="php_serial")
    assert b'code="111"' in r.content


def test_recently_updated_not_in_set_perms_contexts(sb, flickr, three):
    a, b, c = three
    flickr.photosets.create(title="S", primary_photo_id=a)
    nis = flickr.photos.getNotInSet()["photos"]
    assert {p["id"] for p in nis["photo"]} == {b, c}
    ctx = flickr.photos.getAllContexts(photo_id=a)
    assert ctx["set"][0]["title"] == "S"
    assert "set" not in flickr.photos.getAllContexts(photo_id=b)
    perms = flickr.photos.getPerms(photo_id=a)["perms"]
    assert perms["ispublic"] == 1 and perms["permcomment"] == 3
    ru = flickr.photos.recentlyUpdated(min_date=0, extras="last_update")["photos"]
    assert ru["total"] == "3"
    assert _code(flickr.photos.recentlyUpdated) == 1


def test_transform_rotate_adds_up_and_is_not_idempotent(sb, flickr, three):
    a = three[0]
    before = sb.account.photos[a]
    secret, size = before.secret, (before.width, before.height)
    rsp = flickr.photos.transform.rotate(photo_id=a, degrees=90)
    assert rsp["photoid"]["_content"] == a and rsp["photoid"]["secret"] != secret  # rotated sizes: a new secret
    assert (before.width, before.height) == size[::-1]
    flickr.photos.transform.rotate(photo_id=a, degrees=90)  # the same call again turns it further
    assert flickr.photos.getInfo(photo_id=a)["photo"]["rotation"] == 180
    flickr.photos.transform.rotate(photo_id=a, degrees=270)
    assert sb.state()["photos"][0]["rotation"] == 90
    assert _code(flickr.photos.transform.rotate, photo_id=a, degrees=45) == 2
    assert _code(flickr.photos.transform.rotate, photo_id="1", degrees=90) == 1

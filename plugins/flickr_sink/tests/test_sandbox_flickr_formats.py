"""Wire formats, replayed against the documented example answers (reference §2-§5).

The examples below are the documented answers' *shapes*: same keys, same nesting, same JSON
types (Flickr mixes numbers and strings on purpose; ``ANY`` marks fields whose type the docs
leave open)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs

import requests

ANY = object()


def assert_shape(actual, example, path="$"):
    if example is ANY:
        return
    if isinstance(example, dict):
        assert isinstance(actual, dict), f"{path}: expected object, got {actual!r}"
        for k, v in example.items():
            assert k in actual, f"{path}: missing key {k!r} in {sorted(actual)}"
            assert_shape(actual[k], v, f"{path}.{k}")
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{path}: expected array, got {actual!r}"
        for i, item in enumerate(actual):
            assert_shape(item, example[0], f"{path}[{i}]")
    else:
        assert type(actual) is type(example), f"{path}: {actual!r} is not a {type(example).__name__}"


# -- documented JSON answers (values are placeholders, types and structure are the documented ones) --
EX_LOGIN = {"user": {"id": "12037949754@N01", "username": {"_content": "Bees"}}, "stat": "ok"}
EX_FAIL = {"stat": "fail", "code": 112, "message": 'Method "flickr.nope" not found'}
EX_NULL = {"stat": "ok"}
EX_PHOTOS = {"photos": {"page": 1, "pages": 1, "perpage": 500, "total": "1",
                        "photo": [{"id": "1", "owner": "x@N01", "secret": "s", "server": "65535", "farm": 66,
                                   "title": "t", "ispublic": 1, "isfriend": 0, "isfamily": 0}]}, "stat": "ok"}
EX_PHOTO_EXTRAS = {"description": {"_content": ""}, "license": "0", "dateupload": "1",
                   "datetaken": "2004-11-19 12:51:19",
                   "datetakengranularity": 0, "datetakenunknown": "0", "ownername": "x", "iconserver": ANY,
                   "iconfarm": ANY, "originalsecret": "x", "originalformat": "jpg", "lastupdate": "1",
                   "latitude": ANY, "longitude": ANY, "accuracy": ANY, "context": ANY, "tags": "a b",
                   "machine_tags": "", "o_width": ANY, "o_height": ANY, "media": "photo", "media_status": "ready",
                   "views": ANY, "url_o": "u", "height_o": ANY, "width_o": ANY}
EX_CREATE = {"photoset": {"id": "72157", "url": "https://www.flickr.com/photos/x/sets/72157/"}, "stat": "ok"}
EX_SIZES = {"sizes": {"canblog": ANY, "canprint": ANY, "candownload": ANY,
                      "size": [{"label": "Square", "width": ANY, "height": ANY, "source": "u", "url": "u",
                                "media": "photo"}]}, "stat": "ok"}
EX_GETINFO = {"photo": {"id": "2733", "secret": "123456", "server": "12", "farm": ANY, "dateuploaded": "1100897479",
                        "isfavorite": ANY, "license": ANY, "safety_level": ANY, "rotation": ANY,
                        "originalsecret": "1bc09ce34a", "originalformat": "png",
                        "owner": {"nsid": "x", "username": "x", "realname": "x", "location": "x"},
                        "title": {"_content": "x"}, "description": {"_content": "x"},
                        "visibility": {"ispublic": 1, "isfriend": 0, "isfamily": 0},
                        "dates": {"posted": "1", "taken": "x", "takengranularity": ANY, "takenunknown": ANY,
                                  "lastupdate": "1"},
                        "permissions": {"permcomment": ANY, "permaddmeta": ANY}, "views": ANY,
                        "editability": ANY, "publiceditability": ANY, "usage": ANY, "comments": {"_content": "0"},
                        "notes": {"note": []}, "people": {"haspeople": ANY},
                        "tags": {"tag": [{"id": "x", "author": "x", "authorname": "x", "raw": "woo yay",
                                          "_content": "wooyay", "machine_tag": ANY}]},
                        "urls": {"url": [{"type": "photopage", "_content": "u"}]}, "media": "photo"}, "stat": "ok"}
EX_GETLIST = {"photosets": {"page": ANY, "pages": ANY, "perpage": ANY, "total": ANY, "cancreate": ANY,
                            "photoset": [{"id": "x", "primary": "x", "secret": "x", "server": "x", "farm": ANY,
                                          "photos": ANY, "videos": ANY, "count_views": ANY, "count_comments": ANY,
                                          "can_comment": ANY, "date_create": ANY, "date_update": ANY,
                                          "title": {"_content": "x"}, "description": {"_content": "x"}}]},
              "stat": "ok"}
EX_SET_PHOTOS = {"photoset": {"id": "x", "primary": "x", "page": ANY, "perpage": ANY, "pages": ANY, "total": ANY,
                              "photo": [{"id": "x", "secret": "x", "server": "x", "title": "x", "isprimary": ANY}]},
                 "stat": "ok"}
EX_TREE = {"collections": {"collection": [{"id": "12-72157", "title": "x", "description": "x", "iconlarge": "x",
                                           "iconsmall": "x", "set": [{"id": "x", "title": "x", "description": "x"}]}]},
           "stat": "ok"}
EX_COMMENTS = {"comments": {"photo_id": "x", "comment": [{"id": "x", "author": "x", "authorname": "x",
                                                          "datecreate": "1", "permalink": "u", "_content": "x"}]},
               "stat": "ok"}
EX_TICKETS = {"uploader": {"ticket": [{"id": "128", "complete": 1, "photoid": "2995"}]}, "stat": "ok"}


def test_json_examples(seeded, raw_factory):
    raw = raw_factory(seeded, seeded.grant_token("read"))
    assert_shape(raw.call("flickr.test.login"), EX_LOGIN)
    fail = raw.call("flickr.nope")
    assert_shape(fail, EX_FAIL)
    assert fail == {"stat": "fail", "code": 112, "message": 'Method "flickr.nope" not found'}
    assert raw.call("flickr.test.null") == EX_NULL
    extras = "description,license,date_upload,date_taken,owner_name,icon_server,original_format,last_update,geo," \
             "tags,machine_tags,o_dims,media,views,url_o"
    photos = raw.call("flickr.people.getPhotos", user_id="me", extras=extras, per_page=500)
    assert_shape(photos, EX_PHOTOS)
    for p in photos["photos"]["photo"]:
        assert_shape(p, EX_PHOTO_EXTRAS)
    pid = photos["photos"]["photo"][0]["id"]
    sizes = raw.call("flickr.photos.getSizes", photo_id=pid)
    assert_shape(sizes, EX_SIZES)
    first, second = sizes["sizes"]["size"][:2]
    assert first["width"] == 75 and second["width"] == "150"  # Flickr mixes int and str in one answer
    tagged = next(p for p in seeded.account.photos.values() if p.tags)
    assert_shape(raw.call("flickr.photos.getInfo", photo_id=tagged.id), EX_GETINFO)
    sets = raw.call("flickr.photosets.getList")
    assert_shape(sets, EX_GETLIST)
    sid = sets["photosets"]["photoset"][0]["id"]
    assert_shape(raw.call("flickr.photosets.getPhotos", photoset_id=sid, extras="original_format,media"),
                 EX_SET_PHOTOS)
    tree = raw.call("flickr.collections.getTree")
    assert_shape(tree, EX_TREE)
    commented = next(pid for pid, lst in seeded.account.comments.items() if lst)
    assert_shape(raw.call("flickr.photos.comments.getList", photo_id=commented), EX_COMMENTS)


def test_create_and_tickets_examples(sb, raw, up, make_jpeg):
    f = sb.flickrapi_client("write")
    pid = up(f, make_jpeg())
    assert_shape(raw.call("flickr.photosets.create", title="t", primary_photo_id=pid), EX_CREATE)
    sb.knobs.async_delay = 0
    tid = up(f, make_jpeg(9, 9), **{"async": 1})
    assert_shape(raw.call("flickr.photos.upload.checkTickets", tickets=tid), EX_TICKETS)


def test_json_callback_wrapper(sb, raw):
    r = raw.rest("flickr.test.login", fmt="json", nojsoncallback=False)
    assert r.text.startswith("jsonFlickrApi({") and r.text.endswith("})")
    assert json.loads(r.text[len("jsonFlickrApi("):-1])["stat"] == "ok"
    r = raw.rest("flickr.test.login", fmt="json", nojsoncallback=False, jsoncallback="cb")
    assert r.text.startswith("cb({")
    r = raw.rest("flickr.nope", fmt="json", nojsoncallback=False)
    assert r.text.startswith("jsonFlickrApi(") and '"code":112' in r.text


def test_xml_answers(seeded, raw_factory, make_jpeg):
    raw = raw_factory(seeded, seeded.grant_token("write"))
    login = ET.fromstring(raw.rest("flickr.test.login", fmt=None).content)  # no format -> rest (XML)
    assert login.tag == "rsp" and login.get("stat") == "ok"
    assert login.find("user").get("id") == seeded.account.user.nsid
    assert login.find("user/username").text == seeded.account.user.username
    err = ET.fromstring(raw.rest("flickr.photos.getInfo", fmt="rest", photo_id="1").content)
    assert err.get("stat") == "fail" and err.find("err").get("code") == "1" and err.find("err").get("msg")
    tagged = next(p for p in seeded.account.photos.values() if any(" " in t.raw for t in p.tags))
    info = ET.fromstring(raw.rest("flickr.photos.getInfo", fmt="rest", photo_id=tagged.id).content).find("photo")
    assert info.get("id") == tagged.id and info.find("owner").get("nsid") and info.find("title") is not None
    assert info.find("dates").get("posted") == str(tagged.date_posted)
    tag = next(t for t in info.find("tags") if " " in t.get("raw"))
    assert " " not in tag.text
    chk = ET.fromstring(raw.rest("flickr.auth.oauth.checkToken", fmt="rest").content).find("oauth")
    assert chk.find("perms").text == "write" and chk.find("user").get("nsid") == seeded.account.user.nsid
    tree = ET.fromstring(raw.rest("flickr.collections.getTree", fmt="rest").content).find("collections")
    nested = tree.find("collection/collection")
    assert nested is not None and nested.get("title")
    # upload answers: <photoid>, errors with <err code msg>
    ok = ET.fromstring(raw.upload(make_jpeg(8, 8, "xml")).content)
    assert ok.get("stat") == "ok" and re.fullmatch(r"\d+", ok.find("photoid").text)
    bad = ET.fromstring(raw.upload(b"").content)
    assert bad.get("stat") == "fail" and bad.find("err").get("code") == "4"
    seeded.account.remove_photo(ok.find("photoid").text)


def test_flickrapi_formats(seeded):
    et = seeded.flickrapi_client("read", format="etree")
    assert et.test.login().find("user").get("id") == seeded.account.user.nsid
    xn = seeded.flickrapi_client("read", format="xmlnode")
    assert xn.test.login().user[0]["id"] == seeded.account.user.nsid
    rawjson = seeded.flickrapi_client("read", format="json")
    assert json.loads(rawjson.test.login())["stat"] == "ok"
    pj = seeded.flickrapi_client("read", format="parsed-json")
    assert pj.photos.licenses.getInfo(format="etree").find("licenses") is not None  # per-call override


def test_oauth_reply_examples(sb):
    from requests_oauthlib import OAuth1

    r = requests.post(sb.request_token_url, data={"oauth_callback": "oob"}, auth=OAuth1(sb.api_key, sb.api_secret),
                      timeout=10)
    q = parse_qs(r.text)
    assert list(q) == ["oauth_callback_confirmed", "oauth_token", "oauth_token_secret"]
    assert re.fullmatch(r"\d+-[0-9a-f]+", q["oauth_token"][0])

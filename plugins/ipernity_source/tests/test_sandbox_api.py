"""The sandbox REST API over HTTP: routing, check order, auth flow, visibility, paging, fields."""

import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from migrator_ipernity.sandbox import IpernitySandbox
from migrator_ipernity.sandbox.account import UNKNOWN_DATE
from migrator_ipernity.sandbox.signing import api_sig, sign

# --------------------------------------------------------------------------------------
# basics


def test_credentials_and_urls(sandbox):
    assert re.fullmatch(r"[0-9a-f]{32}", sandbox.api_key)
    assert re.fullmatch(r"[0-9a-f]{16}", sandbox.api_secret)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", sandbox.api_url)
    assert sandbox.auth_url == sandbox.api_url[: -len("/api/")] + "/apps/authorize"


def test_routes_with_and_without_format_get_and_post(anon):
    for http in ("GET", "POST"):
        for fmt in (None, "json"):
            body = anon.ok("test.echo", echo="Hallo Echo!", http=http, fmt=fmt, sign=False)
            assert body["echo"] == "Hallo Echo!"
    assert anon.ok("test.hello", sign=False)["hello"] == "hello world!"


def test_multipart_body(sandbox):
    params = sign({"api_key": sandbox.api_key, "echo": "multi \u00e9"}, "test.echo", sandbox.api_secret)
    files = {k: (None, v) for k, v in params.items()}
    files["file"] = ("x.jpg", b"\xff\xd8 binary", "image/jpeg")
    rsp = requests.post(sandbox.api_url + "test.echo", files=files, timeout=10)
    assert rsp.json() == {"echo": "multi \u00e9", "api": {"status": "ok"}}


def test_other_formats_give_102_in_json(anon):
    for fmt in ("xml", "php", "yaml"):
        assert anon.error("test.hello", fmt=fmt) == 102


def test_unknown_method_103(anon):
    assert anon.error("doc.albums.add") == 103
    assert anon.error("no.such.method", sign=False) == 103


def test_api_key_missing_and_invalid(sandbox):
    rsp = requests.get(sandbox.api_url + "test.hello", timeout=10).json()
    assert rsp["api"] == {"status": "error", "code": "100", "message": "API Key is missing"}
    rsp = requests.get(sandbox.api_url + "test.hello", params={"api_key": "0" * 32}, timeout=10).json()
    assert rsp["api"]["code"] == "101"


def test_methods_getlist_without_key(sandbox):
    rsp = requests.get(sandbox.api_url + "api.methods.getList", timeout=10).json()
    methods = {m["name"]: m for m in rsp["methods"]["method"]}
    assert {"auth.getFrob", "auth.getToken", "auth.checkToken", "doc.getList", "doc.search", "doc.get",
            "doc.getContainers", "doc.getMedias", "doc.comments.getList", "album.getList", "album.get",
            "album.docs.getList", "user.get", "test.echo"} <= set(methods)
    assert methods["auth.checkToken"]["authentication"] == {"token": "1", "sign": "1", "post": "0"}
    assert methods["doc.get"]["permissions"] == {"doc": "read"}
    assert methods["doc.getList"]["permissions"] == []
    assert rsp["methods"]["total"] == str(len(methods))


def test_post_only_method_120(owner):
    assert owner.error("doc.tags.add", doc_id="1", keywords="x", http="GET") == 120


# --------------------------------------------------------------------------------------
# signature and token checks


def test_unsigned_signed_method_104(anon):
    body = anon.call("auth.getFrob", sign=False)
    assert body["api"]["code"] == "104"
    assert "Signature" in body["api"]["message"]


def test_wrong_signature_105(sandbox):
    params = {"api_key": sandbox.api_key, "api_sig": "0" * 32}
    body = requests.post(sandbox.api_url + "auth.getFrob", data=params, timeout=10).json()
    assert body["api"] == {"status": "error", "code": "105", "message": "Signature is invalid"}
    # signed for another method / with a changed parameter
    good = sign({"api_key": sandbox.api_key, "echo": "a"}, "test.hello", sandbox.api_secret)
    body = requests.post(sandbox.api_url + "test.echo", data=good, timeout=10).json()
    assert body["api"]["code"] == "105"
    good = sign({"api_key": sandbox.api_key, "echo": "a"}, "test.echo", sandbox.api_secret)
    body = requests.post(sandbox.api_url + "test.echo", data={**good, "echo": "b"}, timeout=10).json()
    assert body["api"]["code"] == "105"


def test_signature_covers_unknown_and_empty_params(sandbox):
    params = {"api_key": sandbox.api_key, "echo": "x", "stray": "", "api_secret": "nonsense"}
    signed = sign(params, "test.echo", sandbox.api_secret)
    assert requests.post(sandbox.api_url + "test.echo", data=signed, timeout=10).json()["echo"] == "x"


def test_signature_over_raw_utf8(sandbox):
    text = "Caf\u00e9 & \U0001f600 a+b=c/%20"
    signed = sign({"api_key": sandbox.api_key, "echo": text}, "test.echo", sandbox.api_secret)
    assert requests.get(sandbox.api_url + "test.echo", params=signed, timeout=10).json()["echo"] == text


def test_token_requires_signature(sandbox, owner):
    params = {"api_key": sandbox.api_key, "auth_token": owner.token, "user_id": sandbox.account.user.user_id}
    body = requests.post(sandbox.api_url + "doc.getList", data=params, timeout=10).json()
    assert body["api"]["code"] == "104"


def test_token_missing_invalid_revoked(sandbox, anon, make_client):
    assert anon.error("auth.checkToken") == 106
    bogus = make_client(sandbox, "123-0123456789abcdef")
    assert bogus.error("auth.checkToken") == 107
    token = sandbox.grant_token()
    client = make_client(sandbox, token)
    client.ok("auth.checkToken")
    sandbox.revoke_token(token)
    assert client.error("auth.checkToken") == 107
    assert client.error("doc.getList") == 107


def test_permission_level_110(sandbox, owner, make_client):
    assert owner.error("account.getQuota") == 110
    assert owner.error("doc.tags.add", doc_id=sandbox.account.docs[0].doc_id, keywords="x") == 110
    no_doc = make_client(sandbox, sandbox.grant_token(perm_doc=None, perm_blog="read"))
    assert no_doc.error("doc.getPerms", doc_id=sandbox.account.docs[0].doc_id) == 110
    writer = make_client(sandbox, sandbox.grant_token("write"))
    quota = writer.ok("account.getQuota")["quota"]
    assert quota["user_id"] == sandbox.account.user.user_id


def test_check_order(sandbox):
    url = sandbox.api_url
    # 100 before 103, 103 before 104, 120 before 104, 104 before 106
    assert requests.get(url + "nope", timeout=10).json()["api"]["code"] == "100"
    assert requests.get(url + "nope", params={"api_key": sandbox.api_key}, timeout=10).json()["api"]["code"] == "103"
    assert requests.get(url + "doc.tags.add", params={"api_key": sandbox.api_key},
                        timeout=10).json()["api"]["code"] == "120"
    assert requests.post(url + "auth.checkToken", data={"api_key": sandbox.api_key},
                         timeout=10).json()["api"]["code"] == "104"
    signed = sign({"api_key": sandbox.api_key}, "auth.checkToken", sandbox.api_secret)
    assert requests.post(url + "auth.checkToken", data=signed, timeout=10).json()["api"]["code"] == "106"
    # 105 before 107
    bad = {"api_key": sandbox.api_key, "auth_token": "1-2", "api_sig": "f" * 32}
    assert requests.post(url + "auth.checkToken", data=bad, timeout=10).json()["api"]["code"] == "105"


# --------------------------------------------------------------------------------------
# frob flow end to end


def test_frob_flow_end_to_end(sandbox, anon, make_client):
    frob = anon.ok("auth.getFrob")["auth"]["frob"]
    assert re.fullmatch(r"\d+-[0-9a-f]+", frob)
    # before approval the frob cannot be swapped
    assert anon.error("auth.getToken", frob=frob) == 2

    link = {"api_key": sandbox.api_key, "frob": frob, "perm_doc": "read"}
    link["api_sig"] = api_sig(link, None, sandbox.api_secret)
    page = requests.get(sandbox.auth_url, params=link, timeout=10)
    assert page.status_code == 200 and "<form" in page.text and "Approve" in page.text
    approved = requests.post(sandbox.auth_url, data={**link, "decision": "approve"}, timeout=10)
    assert approved.status_code == 200

    auth = anon.ok("auth.getToken", frob=frob)["auth"]
    assert re.fullmatch(r"\d+-[0-9a-f]{16}", auth["token"])
    assert auth["permissions"] == {"doc": "read"}
    user = sandbox.account.user
    assert auth["user"] == {"user_id": user.user_id, "username": user.username, "realname": user.realname,
                            "lg": "en", "is_pro": str(user.is_pro)}
    # single use
    body = anon.call("auth.getToken", frob=frob)
    assert body["api"]["code"] == "2"
    assert anon.error("auth.getToken") == 1

    client = make_client(sandbox, auth["token"])
    checked = client.ok("auth.checkToken")["auth"]
    assert checked["token"] == auth["token"]
    assert checked["permissions"] == {"doc": "read"}
    assert "blog" not in checked["permissions"]
    assert checked["user"]["user_id"] == user.user_id


def test_authorize_page_rejects_bad_links(sandbox, anon):
    frob = anon.ok("auth.getFrob")["auth"]["frob"]
    link = {"api_key": sandbox.api_key, "frob": frob, "perm_doc": "read"}
    assert requests.get(sandbox.auth_url, params=link, timeout=10).status_code == 400  # unsigned
    bad = {**link, "api_sig": api_sig(link, "auth.getToken", sandbox.api_secret)}  # method name appended
    assert requests.get(sandbox.auth_url, params=bad, timeout=10).status_code == 400
    assert requests.post(sandbox.auth_url, data={**bad, "decision": "approve"}, timeout=10).status_code == 400
    assert anon.error("auth.getToken", frob=frob) == 2
    good = sandbox.authorize_link(frob, perm_doc="read")
    assert requests.get(good, timeout=10).status_code == 200


def test_deny_and_frob_expiry(sandbox, anon):
    frob = anon.ok("auth.getFrob")["auth"]["frob"]
    link = dict(parse_qs(urlsplit(sandbox.authorize_link(frob)).query, keep_blank_values=True))
    link = {k: v[0] for k, v in link.items()}
    requests.post(sandbox.auth_url, data={**link, "decision": "deny"}, timeout=10)
    assert anon.error("auth.getToken", frob=frob) == 2

    frob = anon.ok("auth.getFrob")["auth"]["frob"]
    sandbox.approve(frob)
    sandbox.knobs.frob_ttl = 0.0
    assert anon.error("auth.getToken", frob=frob) == 2


def test_approve_helper_and_write_perms(sandbox, anon):
    frob = anon.ok("auth.getFrob")["auth"]["frob"]
    sandbox.approve(frob, perm_doc="write", perm_blog="read")
    perms = anon.ok("auth.getToken", frob=frob)["auth"]["permissions"]
    assert perms == {"doc": "write", "blog": "read"}


def test_web_flow_redirects_to_callback(make_client):
    with IpernitySandbox(seed=0, callback_url="http://localhost:9/cb") as sb:
        link = dict(parse_qs(urlsplit(sb.authorize_link(None, perm_doc="read")).query))
        link = {k: v[0] for k, v in link.items()}
        rsp = requests.post(sb.auth_url, data={**link, "decision": "approve"}, allow_redirects=False, timeout=10)
        assert rsp.status_code == 302
        frob = parse_qs(urlsplit(rsp.headers["Location"]).query)["frob"][0]
        token = make_client(sb).ok("auth.getToken", frob=frob)["auth"]["token"]
        assert make_client(sb, token).ok("auth.checkToken")["auth"]["permissions"] == {"doc": "read"}


# --------------------------------------------------------------------------------------
# visibility


def _all_pages(client, method, key, **params):
    page, out = 1, []
    while True:
        body = client.ok(method, page=page, **params)
        coll = body
        for part in key.split("."):
            coll = coll[part]
        items = coll.get("doc") or coll.get("album") or coll.get("comment") or []
        out.extend(items)
        if page >= int(coll["pages"]) or not items:
            return out
        page += 1


def test_owner_sees_all_anonymous_sees_public(sandbox, owner, anon):
    acc = sandbox.account
    uid = acc.user.user_id
    mine = _all_pages(owner, "doc.getList", "docs", user_id=uid, per_page=100)
    assert [d["doc_id"] for d in mine] == [d.doc_id for d in reversed(acc.docs)]  # newest first
    public = _all_pages(anon, "doc.getList", "docs", user_id=uid, per_page=100)
    assert [d["doc_id"] for d in public] == [d.doc_id for d in reversed(acc.docs) if d.ispublic]
    assert len(public) < len(mine)


def test_private_doc_is_not_found_for_anonymous(sandbox, owner, anon, make_client):
    private = next(d for d in sandbox.account.docs if not d.ispublic)
    assert anon.error("doc.get", doc_id=private.doc_id) == 1
    assert anon.error("doc.comments.getList", doc_id=private.doc_id) == 1
    assert owner.ok("doc.get", doc_id=private.doc_id)["doc"]["doc_id"] == private.doc_id
    # a token without perm_doc read behaves like anonymous
    blog_only = make_client(sandbox, sandbox.grant_token(perm_doc=None, perm_blog="read"))
    assert blog_only.error("doc.get", doc_id=private.doc_id) == 1


def test_original_for_anonymous_only_when_downloadable(sandbox, anon):
    public = [d for d in sandbox.account.docs if d.ispublic]
    yes = next(d for d in public if d.can_download)
    no = next(d for d in public if not d.can_download)
    assert "original" in anon.ok("doc.get", doc_id=yes.doc_id)["doc"]
    body = anon.ok("doc.get", doc_id=no.doc_id)["doc"]
    assert "original" not in body and body["can"]["download"] == "0"


def test_album_visibility(sandbox, owner, anon):
    uid = sandbox.account.user.user_id
    private = [a for a in sandbox.account.albums if not a.ispublic]
    assert private
    anon_albums = _all_pages(anon, "album.getList", "albums", user_id=uid, empty=1)
    assert private[0].album_id not in {a["album_id"] for a in anon_albums}
    assert anon.error("album.get", album_id=private[0].album_id) == 1
    assert owner.ok("album.get", album_id=private[0].album_id)["album"]["album_id"] == private[0].album_id


def test_unknown_user_and_user_get(sandbox, owner, anon):
    assert anon.error("doc.getList", user_id="999") == 1
    assert anon.error("doc.getList") == 1  # no user and no token
    me = owner.ok("user.get")["user"]
    assert me["user_id"] == sandbox.account.user.user_id
    assert me["count"]["docs"] == str(len(sandbox.account.docs))
    pub = anon.ok("user.get", user_id=sandbox.account.user.alias)["user"]
    assert pub["count"]["docs"] == str(sum(1 for d in sandbox.account.docs if d.ispublic))
    assert anon.call("user.get", user_id=me["user_id"], sign=False)["api"]["code"] == "104"


# --------------------------------------------------------------------------------------
# pagination


@pytest.mark.parametrize("method,key,default,maximum,extra", [
    ("doc.getList", "docs", 20, 100, {}),
    ("doc.search", "docs", 20, 100, {}),
    ("album.getList", "albums", 100, 100, {"empty": 1}),
])
def test_pagination_defaults_and_clamping(sandbox, owner, method, key, default, maximum, extra):
    uid = sandbox.account.user.user_id
    coll = owner.ok(method, user_id=uid, **extra)[key]
    total = int(coll["total"])
    assert int(coll["per_page"]) == default and coll["page"] == "1"
    assert int(coll["pages"]) == math.ceil(total / default)
    coll = owner.ok(method, user_id=uid, per_page=1000, **extra)[key]
    assert int(coll["per_page"]) == maximum
    coll = owner.ok(method, user_id=uid, per_page="abc", **extra)[key]
    assert int(coll["per_page"]) == default


def test_pages_cover_everything_and_beyond_last_page(sandbox, owner):
    uid = sandbox.account.user.user_id
    seen = []
    for page in (1, 2):
        coll = owner.ok("doc.getList", user_id=uid, per_page=100, page=page)["docs"]
        assert coll["count"] == str(len(coll["doc"]))
        seen += [d["doc_id"] for d in coll["doc"]]
    assert len(seen) == len(set(seen)) == 150
    coll = owner.ok("doc.getList", user_id=uid, per_page=100, page=3)["docs"]
    assert coll["total"] == "150" and "doc" not in coll and coll["count"] == "0"


def test_comments_pagination(sandbox, anon):
    big = max(sandbox.account.docs, key=lambda d: len(d.comments))
    assert big.ispublic and len(big.comments) > 100
    first = anon.ok("doc.comments.getList", doc_id=big.doc_id)["comments"]
    assert first["per_page"] == "100" and first["total"] == str(len(big.comments)) and first["pages"] == "2"
    comments = _all_pages(anon, "doc.comments.getList", "comments", doc_id=big.doc_id)
    assert [c["comment_id"] for c in comments] == [c.comment_id for c in big.comments]
    replies = [c for c in comments if "parent_id" in c]
    assert replies and all(c["parent_id"] in {x["comment_id"] for x in comments} for c in replies)
    assert any("modified_at" in c for c in comments)
    quiet = next(d for d in sandbox.account.docs if d.ispublic and not d.comments)
    body = anon.ok("doc.comments.getList", doc_id=quiet.doc_id)["comments"]
    assert body["total"] == "0" and "comment" not in body


def test_album_docs_in_album_order(sandbox, owner):
    big = max(sandbox.account.albums, key=lambda a: len(a.doc_ids))
    docs = _all_pages(owner, "album.docs.getList", "album.docs", album_id=big.album_id, per_page=100)
    assert [d["doc_id"] for d in docs] == big.doc_ids
    first = owner.ok("album.docs.getList", album_id=big.album_id)["album"]
    assert first["docs"]["per_page"] == "20" and first["album_id"] == big.album_id
    assert first["cover"]["doc_id"] == big.cover_doc_id


def test_album_list_empty_flag_order_and_duplicates(sandbox, owner):
    uid = sandbox.account.user.user_id
    with_empty = owner.ok("album.getList", user_id=uid, empty=1)["albums"]["album"]
    without = owner.ok("album.getList")["albums"]["album"]
    assert [a["album_id"] for a in with_empty] == [a.album_id for a in sandbox.account.albums]
    empty = [a for a in sandbox.account.albums if not a.doc_ids]
    assert len(with_empty) == len(without) + len(empty)
    e = next(a for a in with_empty if a["album_id"] == empty[0].album_id)
    assert e["count"]["docs"] == "0" and "cover" not in e
    titles = [a["title"] for a in with_empty]
    assert any(titles.count(t) > 1 for t in titles)
    assert owner.ok("album.get", album_id=empty[0].album_id)["album"]["description"] == empty[0].description


# --------------------------------------------------------------------------------------
# documents: fields


def test_doc_get_fields(sandbox, owner):
    acc = sandbox.account
    d = next(x for x in acc.docs if x.geo and x.tags and x.media == "photo")
    got = owner.ok("doc.get", doc_id=d.doc_id, extra="tags,notes,geo,md5")["doc"]
    assert got["doc_id"] == d.doc_id and got["media"] == d.media and got["title"] == d.title
    assert got["description"] == d.description and got["license"] == str(d.license)
    assert got["safety"] == str(d.safety)
    assert got["dates"] == {"posted_at": str(d.posted_at), "created": d.created_at,
                            "last_update_at": str(d.last_update_at), "last_comment_at": str(d.last_comment_at)}
    vis = got["visibility"]
    assert (vis["ispublic"], vis["isfriend"], vis["isfamily"]) == (str(d.ispublic), str(d.isfriend), str(d.isfamily))
    assert vis["share"] == ("5" if d.ispublic else str(d.share))
    assert set(got["permissions"]) == {"comment", "tag", "tagme"}
    assert got["count"]["comments"] == str(len(d.comments))
    assert got["count"]["albums"] == str(len(d.album_ids))
    assert [t["tag"] for t in got["tags"]["tag"]] == [t["tag"] for t in d.tags]
    assert got["tags"]["total"] == str(len(d.tags))
    assert all(set(t) >= {"id", "type", "user_id", "tag", "title"} for t in got["tags"]["tag"])
    assert float(got["geo"]["lat"]) == d.geo["lat"] and float(got["geo"]["lng"]) == d.geo["lng"]
    o = got["original"]
    assert o["filename"] == d.original.filename and o["bytes"] == str(d.original.bytes)
    assert o["ext"] == d.original.ext and o["md5"] == d.original.md5 and got["md5"] == d.original.md5
    assert isinstance(got["thumbs"]["thumb"], list)
    assert got["owner"]["user_id"] == acc.user.user_id
    # without extras: no tags / notes / geo / md5
    plain = owner.ok("doc.get", doc_id=d.doc_id)["doc"]
    assert not {"tags", "notes", "geo", "md5"} & set(plain)
    assert "md5" not in plain["original"]


def test_doc_get_notes_geo_absent_unknown_date(sandbox, owner):
    acc = sandbox.account
    noted = next(d for d in acc.docs if d.notes)
    notes = owner.ok("doc.get", doc_id=noted.doc_id, extra="notes")["doc"]["notes"]
    assert notes["total"] == str(len(noted.notes))
    assert [n["note_id"] for n in notes["note"]] == [n.note_id for n in noted.notes]
    assert set(notes["note"][0]) >= {"note_id", "x", "y", "w", "h", "content", "user_id", "username"}
    nogeo = next(d for d in acc.docs if not d.geo)
    assert "geo" not in owner.ok("doc.get", doc_id=nogeo.doc_id, extra="geo")["doc"]
    unknown = next(d for d in acc.docs if d.created_at == UNKNOWN_DATE)
    assert owner.ok("doc.get", doc_id=unknown.doc_id)["doc"]["dates"]["created"] == "0000-00-00 00:00:00"
    untagged = next(d for d in acc.docs if not d.tags)
    tags = owner.ok("doc.get", doc_id=untagged.doc_id, extra="tags")["doc"]["tags"]
    assert tags == {"total": "0"}


def test_video_original_and_medias(sandbox, owner):
    video = next(d for d in sandbox.account.docs if d.media == "video")
    got = owner.ok("doc.get", doc_id=video.doc_id)["doc"]
    assert got["original"]["length"] == str(video.original.length)
    assert all("lenght" in m for m in got["medias"]["media"])
    medias = owner.ok("doc.getMedias", doc_id=video.doc_id)
    assert set(medias) >= {"thumbs", "medias", "original", "api"}
    photo = next(d for d in sandbox.account.docs if d.media == "photo")
    assert "medias" not in owner.ok("doc.getMedias", doc_id=photo.doc_id)


def test_list_extras(sandbox, owner):
    uid = sandbox.account.user.user_id
    plain = owner.ok("doc.getList", user_id=uid, per_page=5)["docs"]["doc"]
    assert all(set(d) == {"doc_id", "media", "license", "title", "safety", "thumb"} for d in plain)
    assert isinstance(plain[0]["thumb"], dict)
    full = owner.ok("doc.getList", user_id=uid, per_page=100,
                    extra="dates,count,geo,medias,original,md5")["docs"]["doc"]
    by_id = {d.doc_id: d for d in sandbox.account.docs}
    for e in full:
        d = by_id[e["doc_id"]]
        assert e["dates"]["posted_at"] == str(d.posted_at)
        assert e["count"]["comments"] == str(len(d.comments))
        assert ("geo" in e) == bool(d.geo)
        assert ("medias" in e) == (d.media in ("video", "audio"))
        assert e["original"]["bytes"] == str(d.original.bytes) and e["md5"] == d.original.md5
    search = owner.ok("doc.search", user_id=uid, per_page=3, extra="owner,md5,original")["docs"]["doc"]
    assert all("owner" in e and "original" in e and "md5" not in e for e in search)


def test_doc_search_filters_and_sort(sandbox, owner, anon):
    acc = sandbox.account
    uid = acc.user.user_id
    asc = _all_pages(owner, "doc.search", "docs", user_id=uid, sort="posted-asc", per_page=100)
    assert [d["doc_id"] for d in asc] == [d.doc_id for d in acc.docs]
    mid = acc.docs[50].posted_at
    hi = acc.docs[59].posted_at
    window = owner.ok("doc.search", user_id=uid, sort="posted-asc", posted_min=mid, posted_max=hi,
                      per_page=100)["docs"]
    assert [d["doc_id"] for d in window["doc"]] == [d.doc_id for d in acc.docs[50:60]]
    videos = owner.ok("doc.search", user_id=uid, media="video,audio", per_page=100)["docs"]
    assert int(videos["total"]) == sum(1 for d in acc.docs if d.media in ("video", "audio"))
    lic = owner.ok("doc.search", user_id=uid, license="255", per_page=100)["docs"]
    assert int(lic["total"]) == sum(1 for d in acc.docs if d.license == 255)
    everyone = anon.ok("doc.search", per_page=100)["docs"]
    assert int(everyone["total"]) == sum(1 for d in acc.docs if d.ispublic)
    tagged = owner.ok("doc.search", user_id=uid, tags="new york", per_page=100)["docs"]
    assert int(tagged["total"]) == sum(1 for d in acc.docs if any(t["tag"] == "new york" for t in d.tags))


def test_doc_getcontainers(sandbox, owner):
    d = next(x for x in sandbox.account.docs if len(x.album_ids) > 1)
    body = owner.ok("doc.getContainers", doc_id=d.doc_id)
    assert sorted(a["album_id"] for a in body["albums"]["album"]) == sorted(d.album_ids)
    assert body["albums"]["total"] == str(len(d.album_ids))
    assert body["groups"] == {"total": "0", "added": "0", "pending": "0", "invited": "0"}
    lonely = next(x for x in sandbox.account.docs if not x.album_ids)
    assert owner.ok("doc.getContainers", doc_id=lonely.doc_id)["albums"] == {"total": "0"}


def test_folders(sandbox, owner):
    folders = owner.ok("folder.getList")["folders"]
    assert folders["total"] == str(len(sandbox.account.folders))
    f = sandbox.account.folders[0]
    albums = owner.ok("folder.albums.getList", folder_id=f.folder_id)["folder"]["albums"]["album"]
    assert [a["album_id"] for a in albums] == f.album_ids
    assert owner.error("folder.albums.getList", folder_id="1") == 1


def test_tags_user_getlist(sandbox, owner):
    tags = owner.ok("tags.user.getList")["tags"]["tag"]
    assert "new york" in {t["tag"] for t in tags}


def test_doc_tags_add_with_write_token(fresh_sandbox, make_client):
    sb = fresh_sandbox
    client = make_client(sb, sb.grant_token("write"))
    d = sb.account.docs[3]
    before = d.last_update_at
    body = client.ok("doc.tags.add", doc_id=d.doc_id, keywords="easy,new tag")
    assert {"easy", "new tag"} <= {t["tag"] for t in body["tags"]["tag"]}
    assert {"easy", "new tag"} <= {t["tag"] for t in sb.account.doc(d.doc_id).tags}
    assert sb.account.doc(d.doc_id).last_update_at > before


def test_calls_counter(sandbox, anon):
    anon.call("test.hello", sign=False)
    anon.call("test.hello", fmt="xml")
    anon.call("doc.get", doc_id="1")
    assert sandbox.calls["test.hello"] == 2
    assert sandbox.calls["doc.get"] == 1
    sandbox.reset_counters()
    assert not sandbox.calls

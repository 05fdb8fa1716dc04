"""Sandbox knobs (JSON quirks, quota, rate limit, faults, latency), the file host and
ground-truth edits."""

import hashlib
import time

import pytest
import requests
from migrator_ipernity.sandbox import IpernitySandbox, Knobs

# --------------------------------------------------------------------------------------
# JSON quirks


def test_default_strings(sandbox, owner):
    body = owner.ok("doc.getList", per_page=2, extra="dates")["docs"]
    assert body["total"] == "150" and isinstance(body["doc"][0]["doc_id"], str)
    assert isinstance(body["doc"][0]["dates"]["posted_at"], str)


def test_numeric_scalars(sandbox, owner):
    sandbox.knobs.numeric_scalars = True
    body = owner.ok("doc.getList", per_page=2, extra="dates,original")["docs"]
    assert body["total"] == 150 and body["per_page"] == 2
    d = body["doc"][0]
    assert isinstance(d["doc_id"], int) and isinstance(d["license"], int)
    assert isinstance(d["dates"]["posted_at"], int)
    assert isinstance(d["title"], str) and isinstance(d["dates"]["created"], str)
    checked = owner.ok("auth.checkToken")["auth"]
    assert checked["user"]["is_pro"] in (0, 1) and isinstance(checked["token"], str)


def test_numeric_scalars_keep_text_as_text(fresh_sandbox, make_client):
    doc = fresh_sandbox.add_doc(title="12345", description="007")
    fresh_sandbox.knobs.numeric_scalars = True
    got = make_client(fresh_sandbox, fresh_sandbox.grant_token()).ok("doc.get", doc_id=doc.doc_id)["doc"]
    assert got["title"] == "12345" and got["description"] == "007" and got["doc_id"] == int(doc.doc_id)


@pytest.mark.parametrize("style,expected", [("[]", []), ('""', ""), ("{}", {})])
def test_empty_object_style(sandbox, style, expected):
    sandbox.knobs.empty_object_style = style
    rsp = requests.get(sandbox.api_url + "api.methods.getList", timeout=10).json()
    methods = {m["name"]: m for m in rsp["methods"]["method"]}
    assert methods["doc.getList"]["permissions"] == expected
    assert methods["doc.get"]["permissions"] == {"doc": "read"}


def test_knob_validation():
    with pytest.raises(AttributeError):
        Knobs(no_such_knob=1)
    knobs = Knobs()
    with pytest.raises(ValueError):
        knobs.empty_object_style = "null"
    with pytest.raises(AttributeError):
        knobs.latencyy = 1


def test_code_as_number(sandbox, anon):
    body = anon.call("doc.get", doc_id="1")
    assert body["api"] == {"status": "error", "code": "1", "message": "Document not found"}
    sandbox.knobs.code_as_number = True
    assert anon.call("doc.get", doc_id="1")["api"]["code"] == 1


# --------------------------------------------------------------------------------------
# quota, rate limit, faults, latency


def test_quota_after(sandbox, anon):
    sandbox.knobs.quota_after = 3
    codes = [anon.call("test.hello")["api"].get("code") for _ in range(5)]
    assert codes == [None, None, None, "112", "112"]
    body = anon.call("test.hello")
    assert body["api"] == {"status": "error", "code": "112", "message": "Application Quota Error"}
    sandbox.knobs.quota_after = None
    anon.ok("test.hello")
    sandbox.knobs.quota_after = 1  # counted again from the moment the knob is set
    anon.ok("test.hello")
    assert anon.call("test.hello")["api"]["code"] == "112"
    assert sandbox.calls["test.hello"] == 9


def test_rate_limit(sandbox, anon):
    sandbox.knobs.rate_limit = 1.0
    assert anon.call("test.hello")["api"]["code"] == "113"
    sandbox.knobs.rate_limit = 0.5
    codes = [anon.call("test.hello")["api"].get("code") for _ in range(40)]
    assert "113" in codes and None in codes


def test_fault_rate_mix(sandbox, anon):
    sandbox.knobs.fault_rate = 1.0
    seen = set()
    for _ in range(40):
        rsp = anon.raw("test.hello")
        if rsp.status_code == 500:
            seen.add("http500")
        else:
            assert rsp.status_code == 200
            seen.add(rsp.json()["api"]["code"])
    assert seen == {"http500", "500", "501", "503"}
    assert sandbox.calls["test.hello"] == 40


def test_faults_are_seeded(make_client):
    def run():
        with IpernitySandbox(seed=5, fault_rate=0.4) as sb:
            client = make_client(sb)
            out = []
            for _ in range(25):
                rsp = client.raw("test.hello")
                out.append("http500" if rsp.status_code == 500 else rsp.json()["api"].get("code"))
            return out
    first = run()
    assert first == run()
    assert None in first and len(set(first)) > 1


def test_latency(sandbox, anon):
    sandbox.knobs.latency = 0.3
    start = time.monotonic()
    anon.ok("test.hello")
    assert time.monotonic() - start >= 0.3


# --------------------------------------------------------------------------------------
# file host


def _downloadable(sb):
    return next(d for d in sb.account.docs if d.ispublic and d.can_download and d.original.bytes > 4096)


def test_original_download_exact(sandbox, owner):
    d = _downloadable(sandbox)
    url = owner.ok("doc.get", doc_id=d.doc_id)["doc"]["original"]["url"]
    assert url.startswith(sandbox.api_url[: -len("/api/")] + "/files/")
    assert url.endswith(f"/{d.doc_id}.{d.original.secret}.{d.original.ext}")
    rsp = requests.get(url, timeout=10)  # no auth at all
    assert rsp.status_code == 200
    assert int(rsp.headers["Content-Length"]) == d.original.bytes == len(rsp.content)
    assert hashlib.md5(rsp.content).hexdigest() == d.original.md5
    assert rsp.content == d.original.content()
    assert sandbox.downloads[d.doc_id] == 1
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == d.original.bytes
    assert sandbox.downloads[d.doc_id] == 1


def test_private_original_url_works_without_auth(sandbox, owner):
    d = next(x for x in sandbox.account.docs if not x.ispublic)
    url = owner.ok("doc.get", doc_id=d.doc_id)["doc"]["original"]["url"]
    assert requests.get(url, timeout=10).content == d.original.content()


def test_wrong_secret_or_path_404(sandbox):
    d = _downloadable(sandbox)
    good = sandbox.file_url(d)
    assert requests.get(good.replace(d.original.secret, "deadbeef"), timeout=10).status_code == 404
    assert requests.get(good.replace("/files/", "/files/9/"), timeout=10).status_code == 404
    assert requests.get(good.rsplit(".", 1)[0] + ".xyz", timeout=10).status_code == 404
    assert not sandbox.downloads


def test_thumbs_and_medias_served(sandbox, owner):
    video = next(d for d in sandbox.account.docs if d.media == "video")
    body = owner.ok("doc.getMedias", doc_id=video.doc_id)
    for t in body["thumbs"]["thumb"] + body["medias"]["media"]:
        rsp = requests.get(t["url"], timeout=10)
        assert rsp.status_code == 200 and len(rsp.content) == int(rsp.headers["Content-Length"]) > 0
    assert not sandbox.downloads


def test_range_request(sandbox):
    d = _downloadable(sandbox)
    rsp = requests.get(sandbox.file_url(d), headers={"Range": "bytes=100-"}, timeout=10)
    assert rsp.status_code == 206
    assert rsp.content == d.original.content()[100:]
    assert rsp.headers["Content-Range"] == f"bytes 100-{d.original.bytes - 1}/{d.original.bytes}"


def test_truncated_downloads(sandbox):
    d = _downloadable(sandbox)
    url = sandbox.file_url(d)
    sandbox.knobs.truncate_rate = 1.0
    sandbox.knobs.truncate_style = "short"
    rsp = requests.get(url, timeout=10)
    assert rsp.status_code == 200
    assert len(rsp.content) == int(rsp.headers["Content-Length"]) < d.original.bytes
    sandbox.knobs.truncate_style = "close"
    with pytest.raises(requests.exceptions.RequestException):
        rsp = requests.get(url, timeout=10)
        # some stacks hand back the short body instead of raising
        if len(rsp.content) < d.original.bytes:
            raise requests.exceptions.ChunkedEncodingError("short")
    sandbox.knobs.truncate_rate = 0.0
    assert requests.get(url, timeout=10).content == d.original.content()
    assert sandbox.downloads[d.doc_id] == 3


def test_bandwidth(sandbox):
    d = _downloadable(sandbox)
    sandbox.knobs.bandwidth = d.original.bytes * 4  # about 0.25 s
    start = time.monotonic()
    rsp = requests.get(sandbox.file_url(d), timeout=10)
    assert len(rsp.content) == d.original.bytes
    assert time.monotonic() - start >= 0.2


# --------------------------------------------------------------------------------------
# ground-truth edits


def test_edit_doc(fresh_sandbox, make_client):
    sb = fresh_sandbox
    client = make_client(sb, sb.grant_token())
    d = sb.account.docs[10]
    before = d.last_update_at
    sb.edit_doc(d.doc_id, title="New title", description="<i>new</i>", tags=["fresh", "geo:country=de"],
                visibility=(0, 1, 0), license=255)
    assert d.last_update_at > before
    got = client.ok("doc.get", doc_id=d.doc_id, extra="tags")["doc"]
    assert got["title"] == "New title" and got["description"] == "<i>new</i>" and got["license"] == "255"
    assert got["dates"]["last_update_at"] == str(d.last_update_at)
    assert [(t["tag"], t["type"]) for t in got["tags"]["tag"]] == [("fresh", "keyword"), ("geo:country=de", "machine")]
    assert got["visibility"] == {"ispublic": "0", "isfriend": "1", "isfamily": "0", "share": "2"}
    assert make_client(sb).error("doc.get", doc_id=d.doc_id) == 1
    with pytest.raises(TypeError):
        sb.edit_doc(d.doc_id, no_such_field=1)


def test_delete_doc(fresh_sandbox, make_client):
    sb = fresh_sandbox
    client = make_client(sb, sb.grant_token())
    d = next(x for x in sb.account.docs if x.album_ids)
    album_id = d.album_ids[0]
    url = sb.file_url(d)
    sb.delete_doc(d.doc_id)
    assert client.error("doc.get", doc_id=d.doc_id) == 1
    assert requests.get(url, timeout=10).status_code == 404
    assert client.ok("doc.getList")["docs"]["total"] == "149"
    assert d.doc_id not in sb.account.album(album_id).doc_ids
    with pytest.raises(KeyError):
        sb.account.doc(d.doc_id)


def test_add_doc(fresh_sandbox, make_client):
    sb = fresh_sandbox
    client = make_client(sb, sb.grant_token())
    album = sb.account.albums[0]
    last = sb.account.docs[-1]
    doc = sb.add_doc(title="Fresh upload", media="video", filename="clip.mov", albums=[album.album_id])
    assert doc.posted_at > last.posted_at and int(doc.doc_id) > int(last.doc_id)
    assert sb.account.doc(doc.doc_id) is doc and sb.account.docs[-1] is doc
    first = client.ok("doc.getList", per_page=1, extra="original")["docs"]["doc"][0]
    assert first["doc_id"] == doc.doc_id and first["title"] == "Fresh upload"
    data = requests.get(first["original"]["url"], timeout=10).content
    assert len(data) == doc.original.bytes and hashlib.md5(data).hexdigest() == doc.original.md5
    assert doc.doc_id in sb.account.album(album.album_id).doc_ids
    assert doc.album_ids == [album.album_id]


# --------------------------------------------------------------------------------------
# transport faults: resets, truncated answers, a server that stops answering


def test_reset_api_drops_calls_without_carrying_them_out(sandbox, owner):
    sandbox.knobs.reset_api = 2
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            owner.raw("doc.get", {"doc_id": sandbox.account.docs[0].doc_id})
    assert sandbox.calls["doc.get"] == 0 and sandbox.knobs.reset_api == 0
    assert owner.ok("doc.get", doc_id=sandbox.account.docs[0].doc_id)


def test_truncate_api_cuts_one_answer_in_half(sandbox, owner):
    sandbox.knobs.truncate_api = 1
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        owner.raw("doc.get", {"doc_id": sandbox.account.docs[0].doc_id}).json()
    assert sandbox.calls["doc.get"] == 1  # carried out; only the answer was cut
    assert owner.ok("doc.get", doc_id=sandbox.account.docs[0].doc_id)


def test_stall_holds_calls_and_downloads_until_the_client_gives_up(sandbox, owner):
    doc = sandbox.account.docs[0]
    sandbox.knobs.stall = True
    with pytest.raises(requests.Timeout):
        owner.http.post(sandbox.api_url + "doc.get", data={"doc_id": doc.doc_id}, timeout=0.5)
    with pytest.raises(requests.Timeout):
        requests.get(sandbox.file_url(doc), timeout=0.5)
    assert sandbox.calls["doc.get"] == 0 and not sandbox.downloads
    sandbox.knobs.stall = False
    assert owner.ok("doc.get", doc_id=doc.doc_id)


def test_stopping_releases_stalled_requests():
    import threading

    sb = IpernitySandbox(seed=1, stall=True, hang_seconds=600).start()
    seen: list[BaseException] = []

    def call() -> None:
        try:
            requests.post(sb.api_url + "api.methods.getList", timeout=120)
        except requests.RequestException as exc:
            seen.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    for _ in range(3000):  # until the request is being held (bounded: the test ends by itself)
        if sb.stalled:
            break
        worker.join(0.01)
    assert sb.stalled == 1
    sb.stop()
    worker.join(30)
    assert not worker.is_alive() and isinstance(seen[0], requests.ConnectionError)


def test_received_signatures_are_recorded(sandbox, owner):
    owner.ok("auth.checkToken")
    assert len(sandbox.signatures_seen) >= 1 and all(len(s) == 32 for s in sandbox.signatures_seen)


def test_counted_5xx_and_113_bursts(sandbox, owner):
    sandbox.knobs.fail_api = 1
    sandbox.knobs.limit_api = 1
    assert owner.raw("auth.checkToken").status_code == 503
    assert owner.error("auth.checkToken") == 113
    assert owner.ok("auth.checkToken") and sandbox.knobs.fail_api == sandbox.knobs.limit_api == 0

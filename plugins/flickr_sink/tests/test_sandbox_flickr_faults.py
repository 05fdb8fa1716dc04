"""Trouble on demand: 429/5xx, bursts, resets, latency, file host refusals, counters."""

from __future__ import annotations

import time

import flickrapi
import pytest
import requests
from migrator_flickr.sandbox import Knobs, media


def test_429_with_retry_after_and_bursts(sb, raw, flickr):
    sb.knobs.burst(2, 429)
    sb.knobs.retry_after = 7
    r = raw.rest("flickr.test.login")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    with pytest.raises(flickrapi.FlickrError) as ei:
        flickr.test.login()
    assert ei.value.code is None and "429" in str(ei.value)
    assert raw.rest("flickr.test.login").status_code == 200
    sb.knobs.burst(3, 503)
    assert [raw.rest("flickr.test.login").status_code for _ in range(4)] == [503, 503, 503, 200]
    sb.knobs.burst(1, 106)  # Flickr-level error: HTTP 200, stat=fail
    r = raw.rest("flickr.test.login")
    assert r.status_code == 200 and r.json()["code"] == 106
    assert sb.calls["flickr.test.login"] == 8  # rejected requests are counted too
    assert sb.knobs.pending_bursts == 0


def test_rate_and_fault_fractions_are_seeded(sb, raw):
    sb.knobs.rate_limit_429 = 0.5
    codes = [raw.rest("flickr.test.echo").status_code for _ in range(40)]
    assert 5 < codes.count(429) < 35 and set(codes) <= {200, 429}
    sb.knobs.rate_limit_429 = 0
    sb.knobs.fault_rate = 1.0
    assert {raw.rest("flickr.test.echo").status_code for _ in range(10)} <= {500, 502, 503}
    sb.knobs.fault_rate = 0
    a, b = Knobs(seed=1, fault_rate=0.3), Knobs(seed=1, fault_rate=0.3)
    assert [a.pick_fault("rest", 0.0) for _ in range(50)] == [b.pick_fault("rest", 0.0) for _ in range(50)]
    with pytest.raises(AttributeError):
        sb.knobs.no_such_knob = 1


def test_max_rps(sb, raw):
    sb.knobs.max_rps = 3
    codes = [raw.rest("flickr.test.echo").status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    time.sleep(1.05)
    assert raw.rest("flickr.test.echo").status_code == 200


def test_upload_faults_and_reset(sb, raw, make_jpeg):
    sb.knobs.burst(1, 502)
    assert raw.upload(make_jpeg()).status_code == 502
    sb.knobs.burst(1, "reset")
    with pytest.raises(requests.ConnectionError):
        raw.upload(make_jpeg(300, 300, "reset"))
    assert raw.upload(make_jpeg()).status_code == 200
    assert len(sb.account.photos) == 1 and sb.calls["upload"] == 3


def test_latency_and_call_log(sb, raw):
    sb.knobs.latency = 0.15
    t0 = time.monotonic()
    raw.rest("flickr.test.echo")
    assert time.monotonic() - t0 >= 0.15
    sb.knobs.latency = (0.0, 0.01)
    raw.rest("flickr.test.login")
    assert [m for _, m in sb.call_log] == ["flickr.test.echo", "flickr.test.login"]
    assert sb.call_log[0][0] <= sb.call_log[1][0]
    sb.reset_counters()
    assert not sb.calls and sb.call_log == []


def test_file_host_originals_403_and_ranges(sb, flickr, up, make_jpeg):
    data = make_jpeg(200, 100, "file")
    pid = up(flickr, data)
    item = flickr.people.getPhotos(user_id="me", extras="url_o,original_format,url_m,url_sq")["photos"]["photo"][0]
    assert item["originalformat"] == "jpg" and item["width_o"] == 200
    assert "url_m" not in item  # no 500px size for a 200px original
    assert requests.get(item["url_o"], timeout=10).content == data
    sq = requests.get(item["url_sq"], timeout=10)
    assert sq.status_code == 200 and media.image_size(sq.content) == (75, 75)
    part = requests.get(item["url_o"], headers={"Range": "bytes=10-19"}, timeout=10)
    assert part.status_code == 206 and part.content == data[10:20]
    assert requests.head(item["url_o"], timeout=10).headers["Content-Length"] == str(len(data))
    wrong = item["url_o"].replace(item["originalsecret"], "0" * 10)
    assert requests.get(wrong, timeout=10).status_code == 404
    sb.knobs.originals_403 = True
    assert requests.get(item["url_o"], timeout=10).status_code == 403
    assert requests.get(item["url_sq"], timeout=10).status_code == 200
    sb.knobs.originals_403 = False
    sb.knobs.burst(1, 429)
    r = requests.get(item["url_o"], timeout=10)
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert [s for _, _, s in sb.file_log][-1] == -1
    assert pid in sb.account.photos


def test_videos_and_video_original(sb, flickr, up):
    vid = media.make_video("clip", size=5000)
    pid = up(flickr, vid)
    sizes = {s["label"]: s for s in flickr.photos.getSizes(photo_id=pid)["sizes"]["size"]}
    assert sizes["Original"]["media"] == "photo" and sizes["Original"]["source"].endswith("_o.jpg")
    assert {"Video Player", "Site MP4", "Mobile MP4", "HD MP4", "Video Original"} <= set(sizes)
    still = requests.get(sizes["Original"]["source"], timeout=10)
    assert still.headers["Content-Type"] == "image/jpeg" and still.content[:3] == b"\xff\xd8\xff"
    orig = requests.get(sizes["Video Original"]["source"], timeout=10)
    assert orig.status_code == 200 and orig.content == vid
    assert orig.url.endswith(f"/video/{pid}_{sb.account.photos[pid].originalsecret}.mp4")  # after a 302
    site = requests.get(sizes["Site MP4"]["source"], timeout=10)
    assert site.status_code == 200 and site.content != vid
    item = flickr.people.getPhotos(user_id="me", extras="media,url_o,original_format")["photos"]["photo"][0]
    assert item["media"] == "video" and item["url_o"].endswith(".jpg") and item["originalformat"] == "mp4"
    sb.knobs.video_without_original = True
    labels = [s["label"] for s in flickr.photos.getSizes(photo_id=pid)["sizes"]["size"]]
    assert "Video Original" not in labels and "Site MP4" in labels
    assert requests.get(sizes["Video Original"]["source"], timeout=10).status_code == 404
    sb.knobs.video_without_original = False
    sb.knobs.originals_403 = True
    assert requests.get(sizes["Video Original"]["source"], timeout=10).status_code == 403


def test_api_error_rate(sb, raw):
    sb.knobs.api_error_rate = 1.0
    r = raw.rest("flickr.test.echo")
    assert r.status_code == 200 and r.json()["code"] == 105


def test_oauth_endpoints_outside_fault_targets(sb):
    from requests_oauthlib import OAuth1

    sb.knobs.fault_rate = 1.0
    r = requests.post(sb.request_token_url, data={"oauth_callback": "oob"}, auth=OAuth1(sb.api_key, sb.api_secret),
                      timeout=10)
    assert r.status_code == 200
    sb.knobs.fault_targets = ("rest", "upload", "files", "oauth")
    r = requests.post(sb.request_token_url, data={"oauth_callback": "oob"}, auth=OAuth1(sb.api_key, sb.api_secret),
                      timeout=10)
    assert r.status_code in (500, 502, 503)


# -- lost answers: the call is carried out and committed, the client sees only a failure ---------------
def _set_titles(sb) -> list[str]:
    return [s.title for s in sb.account.photosets]


@pytest.mark.parametrize("how", ["500", 503, "reset", "truncate"])
def test_lost_answer_commits_the_rest_call(sb, raw, flickr, up, how):
    pid = up(flickr)
    sb.knobs.lose_answer("flickr.photosets.create", how=how)
    if how in ("500", 503):
        assert raw.rest("flickr.photosets.create", title="kept", primary_photo_id=pid).status_code == int(how)
    else:
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):  # reset / cut short
            raw.rest("flickr.photosets.create", title="kept", primary_photo_id=pid)
    assert _set_titles(sb) == ["kept"]  # the set exists although the client saw a failure
    assert sb.lost_answers == [("flickr.photosets.create", str(how))]
    assert sb.knobs.pending_losses == 0
    answer = raw.call("flickr.photosets.create", title="second", primary_photo_id=pid)  # n=1: answered again
    assert answer["stat"] == "ok" and _set_titles(sb) == ["second", "kept"]


def test_lost_answer_through_flickrapi_and_refusals_lose_their_answer_too(sb, flickr, up):
    pid = up(flickr)
    set_id = flickr.photosets.create(title="s", primary_photo_id=pid)["photoset"]["id"]
    other = up(flickr)
    sb.knobs.lose_answer("flickr.photosets.addPhoto", n=2, how="502")
    for _ in range(2):  # the second call is refused (error 3: already in the set), its answer lost as well
        with pytest.raises(flickrapi.FlickrError) as ei:
            flickr.photosets.addPhoto(photoset_id=set_id, photo_id=other)
        assert ei.value.code is None and "502" in str(ei.value)
    assert sb.account.get_set(set_id).photos == [pid, other]
    with pytest.raises(flickrapi.FlickrError) as ei:
        flickr.photosets.addPhoto(photoset_id=set_id, photo_id=other)
    assert ei.value.code == 3
    assert [m for m, _ in sb.lost_answers] == ["flickr.photosets.addPhoto"] * 2


@pytest.mark.parametrize("how", ["500", "reset", "hang"])
def test_lost_upload_answer_keeps_the_photo(sb, raw, make_jpeg, how):
    sb.knobs.lose_answer("upload", how=how)
    if how == "500":
        assert raw.upload(make_jpeg(note=how)).status_code == 500
    else:
        with pytest.raises((requests.ConnectionError, requests.Timeout)):
            upload_with_timeout(raw, make_jpeg(note=how), timeout=1)
    assert len(sb.account.photos) == 1 and sb.calls["upload"] == 1
    assert sb.lost_answers == [("upload", how)]
    assert raw.upload(make_jpeg(note="next")).status_code == 200 and len(sb.account.photos) == 2


def test_hang_holds_the_answer_until_the_client_gives_up(sb, raw):
    """A hang never answers: the client's own timeout is what ends the wait (no sleep here)."""
    sb.knobs.lose_answer("flickr.photos.setMeta", how="hang")
    pid = raw.upload(jpeg_bytes()).text.split("<photoid>")[1].split("<")[0]
    with pytest.raises(requests.Timeout):
        rest_with_timeout(raw, "flickr.photos.setMeta", 0.5, photo_id=pid, title="after the hang")
    assert sb.account.photos[pid].title == "after the hang"
    sb.knobs.burst(1, "hang")  # not carried out at all
    with pytest.raises(requests.Timeout):
        rest_with_timeout(raw, "flickr.photos.setMeta", 0.5, photo_id=pid, title="never")
    assert sb.account.photos[pid].title == "after the hang"


def test_stopping_the_sandbox_releases_a_hang(raw_factory):
    import threading

    from migrator_flickr.sandbox import FlickrSandbox

    sandbox = FlickrSandbox(seed=1, hang_seconds=600).start()
    client = raw_factory(sandbox, sandbox.grant_token("write"))
    sandbox.knobs.burst(1, "hang")
    seen: list[BaseException] = []

    def call() -> None:
        try:
            rest_with_timeout(client, "flickr.test.login", 120)
        except requests.RequestException as exc:
            seen.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    for _ in range(3000):  # until the request is being held (bounded: the test ends by itself)
        if sandbox.calls["flickr.test.login"]:
            break
        worker.join(0.01)
    assert sandbox.calls["flickr.test.login"] == 1
    sandbox.stop()
    worker.join(30)
    assert not worker.is_alive() and isinstance(seen[0], requests.ConnectionError)


def test_outage_from_a_method_on_until_it_ends(sb, raw, flickr, up):
    pid = up(flickr)
    sb.knobs.outage(503, from_method="flickr.photosets.create")
    assert raw.rest("flickr.test.login").status_code == 200 and not sb.knobs.outage_started
    assert raw.rest("flickr.photosets.create", title="x", primary_photo_id=pid).status_code == 503
    assert sb.account.photosets == [] and sb.knobs.outage_started  # the trigger itself is not carried out
    assert raw.rest("flickr.test.login").status_code == 503
    sb.knobs.end_outage()
    assert raw.rest("flickr.test.login").status_code == 200


def test_bad_loss_kind_and_received_signatures(sb, raw):
    with pytest.raises(ValueError):
        sb.knobs.lose_answer("upload", how="explode")
    raw.rest("flickr.test.login")
    assert len(sb.signatures) == 1 and all(len(s) >= 20 for s in sb.signatures)


def jpeg_bytes() -> bytes:
    return media.make_jpeg(32, 32, comment="hang")


def rest_with_timeout(raw, method: str, timeout: float, **params) -> requests.Response:
    """A signed REST call like ``Raw.rest``, with the client's own read timeout."""
    data = {"method": method, "format": "json", "nojsoncallback": "1", **params}
    return requests.post(raw.sb.rest_url, data=data, auth=raw.auth(), timeout=timeout)


def upload_with_timeout(raw, data: bytes, timeout: float) -> requests.Response:
    """A signed multipart upload like ``Raw.upload``, with the client's own read timeout."""
    import io

    from requests_toolbelt import MultipartEncoder

    fields = {"api_key": raw.key}
    signed = requests.Request("POST", raw.sb.upload_url, data=fields, auth=raw.auth()).prepare()
    body = MultipartEncoder(fields={**fields, "photo": ("x.jpg", io.BytesIO(data))})
    headers = {"Authorization": signed.headers["Authorization"], "Content-Type": body.content_type}
    return requests.post(raw.sb.upload_url, data=body, headers=headers, timeout=timeout)

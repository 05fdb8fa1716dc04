"""One retry layer for Flickr: reads repeat under the core policy, creating calls are sent once.

Exact request counts come from the sandbox's counters (rejected requests are counted too). The same
through a whole run: tests/test_chain_flickr_sink.py."""

from __future__ import annotations

import io
import time

import pytest
from flickrapi.auth import FlickrAccessToken
from migrator_flickr.client import CONNECTION_OPTIONS, FlickrCallError, FlickrClient, build_api, request_timeout
from migrator_flickr.sandbox import FlickrSandbox
from migrator_flickr.sandbox.model import Account

from migrator.errors import AnswerLost, ServiceStopped, UsageError
from migrator.http import RetryPolicy

ATTEMPTS = 6  # RetryPolicy().attempts
YEAR_2000 = 946684800
FAST = RetryPolicy(attempts=ATTEMPTS, first_delay=0.0)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048 + b"\xff\xd9"


@pytest.fixture
def fl():
    with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=YEAR_2000), retry_after=0) as sb:
        yield sb


def client(sb: FlickrSandbox, timeout: float = 60) -> FlickrClient:
    token, secret = sb.grant_token("write")
    user = sb.account.user
    api = build_api(sb.api_key, sb.api_secret, sb.rest_url, sb.upload_url, sb.oauth_url,
                    FlickrAccessToken(token, secret, "write", user.realname, user.username, user.nsid), timeout=timeout)
    return FlickrClient(api, rate=0, policy=FAST)


def upload(c: FlickrClient, title: str = "p") -> str:
    return c.upload_once("p.jpg", io.BytesIO(JPEG), {"title": title})


# -- reads and idempotent updates: repeated under the policy --------------------------------------------
def test_a_read_survives_a_burst_shorter_than_the_policy(fl):
    fl.knobs.burst(ATTEMPTS - 1, 503)
    assert client(fl).call("flickr.test.login")["user"]["id"]
    assert fl.calls["flickr.test.login"] == ATTEMPTS


def test_a_read_that_keeps_failing_stops_after_exactly_the_policy_attempts(fl):
    fl.knobs.burst(20, 503)
    with pytest.raises(ServiceStopped) as info:
        client(fl).call("flickr.test.login")
    assert "flickr.test.login" in str(info.value) and "HTTP 503" in str(info.value)
    assert fl.calls["flickr.test.login"] == ATTEMPTS  # was 7 (the client's own 6 retries)


# -- creating calls: sent once ---------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [503, 502, "reset", 105, 106])
def test_photosets_create_with_a_lost_answer_is_sent_once(fl, fault):
    c = client(fl)
    photo = upload(c)
    fl.knobs.burst(1, fault, targets=("rest",))
    with pytest.raises(AnswerLost):
        c.call_once("flickr.photosets.create", title="album", primary_photo_id=photo)
    assert fl.calls["flickr.photosets.create"] == 1  # was 2 (an immediate retry after 503)


@pytest.mark.parametrize("fault", [503, "reset"])
def test_photosets_add_photo_with_a_lost_answer_is_sent_once(fl, fault):
    c = client(fl)
    first, second = upload(c, "a"), upload(c, "b")
    set_id = c.call_once("flickr.photosets.create", title="album", primary_photo_id=first)["photoset"]["id"]
    fl.knobs.burst(1, fault, targets=("rest",))
    with pytest.raises(AnswerLost):
        c.call_once("flickr.photosets.addPhoto", photoset_id=set_id, photo_id=second)
    assert fl.calls["flickr.photosets.addPhoto"] == 1


def test_a_429_means_not_done_and_is_waited_out(fl):
    c = client(fl)
    photo = upload(c)
    fl.knobs.burst(2, 429, targets=("rest",))
    c.call_once("flickr.photosets.create", title="album", primary_photo_id=photo)
    assert fl.calls["flickr.photosets.create"] == 3
    assert len(fl.state()["photosets"]) == 1


def test_call_once_passes_flickr_refusals_as_before(fl):
    with pytest.raises(FlickrCallError) as info:
        client(fl).call_once("flickr.photosets.create", title="album", primary_photo_id="999999")
    assert info.value.code == 2 and fl.calls["flickr.photosets.create"] == 1


@pytest.mark.parametrize("fault", [3, 503, "reset"])
def test_an_upload_with_a_lost_answer_is_sent_once(fl, fault):
    """Upload error 3 ("general upload failure") and HTTP trouble: the photo may exist; look first."""
    fl.knobs.burst(1, fault, targets=("upload",))
    with pytest.raises(AnswerLost):
        upload(client(fl))
    assert fl.calls["upload"] == 1


def test_an_upload_refused_with_429_is_sent_again_from_the_start(fl):
    fl.knobs.burst(1, 429, targets=("upload",))
    photo = upload(client(fl))
    assert fl.calls["upload"] == 2
    assert [p["id"] for p in fl.state()["photos"]] == [photo]


# -- timeouts ----------------------------------------------------------------------------------------
def test_a_silent_server_is_timed_out_on_reads_and_creates(fl):
    c = client(fl, timeout=0.3)
    fl.knobs.latency = 3.0
    started = time.monotonic()
    with pytest.raises(ServiceStopped) as info:
        c.call("flickr.test.login")
    assert "Timeout" in str(info.value) and fl.calls["flickr.test.login"] == ATTEMPTS
    with pytest.raises(AnswerLost):
        c.call_once("flickr.photosets.create", title="album", primary_photo_id="1")
    assert fl.calls["flickr.photosets.create"] == 1
    assert time.monotonic() - started < (ATTEMPTS + 1) * 0.3 + 2.5


def test_timeout_option_is_checked():
    assert any(o.name == "timeout" and o.default == 60.0 for o in CONNECTION_OPTIONS)
    assert request_timeout({"timeout": 2.5}) == 2.5
    for bad in (0, -1.0, True):
        with pytest.raises(UsageError):
            request_timeout({"timeout": bad})

"""OAuth 1.0a in the Flickr sandbox: the dance, signature checks, permissions."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import flickrapi
import pytest
import requests
from flickrapi.auth import FlickrAccessToken


def _click_authorize(auth_url: str, decision: str = "allow", allow_redirects: bool = True) -> requests.Response:
    """What a user does in the browser: open the page, submit the form."""
    page = requests.get(auth_url, timeout=10)
    assert page.status_code == 200
    assert "<form" in page.text and "oauth_token" in page.text
    form = dict(re.findall(r"name='(oauth_token|perms)' value='([^']*)'", page.text))
    form["decision"] = decision
    action = re.search(r"<form method='post' action='([^']+)'", page.text).group(1)
    base = "{0.scheme}://{0.netloc}".format(urlparse(auth_url))
    return requests.post(base + action, data=form, timeout=10, allow_redirects=allow_redirects)


def test_oob_dance_with_flickrapi(sb):
    f = flickrapi.FlickrAPI(sb.api_key, sb.api_secret, store_token=False, format="parsed-json")
    sb.configure_flickrapi(f)
    f.get_request_token(oauth_callback="oob")
    url = f.auth_url(perms="write")
    assert url.startswith(sb.authorize_url + "?oauth_token=") and url.endswith("&perms=write")
    page = _click_authorize(url)
    verifier = re.search(r"<span id='verifier'>([^<]+)</span>", page.text).group(1)
    assert re.fullmatch(r"\d{3}-\d{3}-\d{3}", verifier)
    f.get_access_token(verifier)
    tok = f.token_cache.token
    assert tok.user_nsid == sb.account.user.nsid and tok.username == "sandbox"
    assert f.test.login()["user"]["username"]["_content"] == "sandbox"
    assert f.token_valid(perms="write")
    assert sb.oauth_calls["request_token"] == 1 and sb.oauth_calls["access_token"] == 1
    # the request token is single use
    with pytest.raises(flickrapi.FlickrError) as ei:
        f.flickr_oauth.oauth.client.resource_owner_key = url.split("oauth_token=")[1].split("&")[0]
        f.flickr_oauth.verifier = verifier
        f.flickr_oauth.get_access_token()
    assert ei.value.code is None  # HTTP 401 -> FlickrError without code


def test_callback_flow_redirects_with_verifier(sb):
    f = flickrapi.FlickrAPI(sb.api_key, sb.api_secret, store_token=False, format="etree")
    sb.configure_flickrapi(f)
    f.get_request_token(oauth_callback="http://127.0.0.1:9/cb?x=1")
    rsp = _click_authorize(f.auth_url(perms="read"), allow_redirects=False)
    assert rsp.status_code == 302
    loc = urlparse(rsp.headers["Location"])
    q = parse_qs(loc.query)
    assert loc.path == "/cb" and q["x"] == ["1"] and q["oauth_verifier"][0]
    f.get_access_token(q["oauth_verifier"][0])
    assert f.test.login().find("user").get("id") == sb.account.user.nsid
    with pytest.raises(flickrapi.FlickrError) as ei:  # read token, write method
        f.photos.setMeta(photo_id="1", title="x")
    assert ei.value.code == 99


def test_raw_request_token_and_access_token_replies(sb):
    from requests_oauthlib import OAuth1

    r = requests.post(sb.request_token_url, data={"oauth_callback": "oob"},
                      auth=OAuth1(sb.api_key, sb.api_secret), timeout=10)
    assert r.status_code == 200
    got = parse_qs(r.text)
    assert got["oauth_callback_confirmed"] == ["true"]
    token, secret = got["oauth_token"][0], got["oauth_token_secret"][0]
    verifier = sb.authorize(token, "delete")
    r = requests.post(sb.access_token_url, auth=OAuth1(sb.api_key, sb.api_secret, token, secret, verifier=verifier),
                      timeout=10)
    assert r.status_code == 200
    assert "%40N0" in r.text  # user_nsid is form-encoded
    got = parse_qs(r.text)
    assert set(got) == {"fullname", "oauth_token", "oauth_token_secret", "user_nsid", "username"}
    assert sb.oauth.access_tokens[got["oauth_token"][0]].perms == "delete"


def test_token_endpoint_failures(sb):
    from requests_oauthlib import OAuth1

    bad = requests.post(sb.request_token_url, data={"oauth_callback": "oob"},
                        auth=OAuth1(sb.api_key, "wrong-secret"), timeout=10)
    assert bad.status_code == 401 and "oauth_problem=signature_invalid" in bad.text and "debug_sbs" in bad.text
    unknown = requests.post(sb.request_token_url, data={"oauth_callback": "oob"},
                            auth=OAuth1("0" * 32, sb.api_secret), timeout=10)
    assert unknown.status_code == 401 and "consumer_key_unknown" in unknown.text
    nocb = requests.post(sb.request_token_url, auth=OAuth1(sb.api_key, sb.api_secret), timeout=10)
    assert nocb.status_code == 400 and "oauth_parameters_absent=oauth_callback" in nocb.text
    # flickrapi's authenticate_for_test sends the verifier "test": not what the user was shown
    f = flickrapi.FlickrAPI(sb.api_key, sb.api_secret, store_token=False)
    sb.configure_flickrapi(f)
    f.get_request_token(oauth_callback="oob")
    f.flickr_oauth.auth_for_test(perms="write")
    with pytest.raises(flickrapi.FlickrError):
        f.get_access_token()
    # denying on the page makes the token unusable
    f.get_request_token(oauth_callback="oob")
    page = _click_authorize(f.auth_url(perms="write"), decision="deny")
    assert "id='denied'" in page.text
    with pytest.raises(flickrapi.FlickrError):
        f.get_access_token("123-456-789")
    assert requests.get(sb.authorize_url + "?oauth_token=nope&perms=write", timeout=10).status_code == 400


def test_rest_signature_errors(sb, raw_factory):
    tok = sb.grant_token("write")
    good = raw_factory(sb, tok).call("flickr.test.login")
    assert good["stat"] == "ok"
    bad_secret = raw_factory(sb, tok, secret="0" * 16).call("flickr.test.login")
    assert bad_secret == {"stat": "fail", "code": 96, "message": "Invalid signature"}
    wrong_token_secret = raw_factory(sb, (tok[0], "f" * 16)).call("flickr.test.login")
    assert wrong_token_secret["code"] == 96
    bad_key = raw_factory(sb, tok, key="a" * 32).call("flickr.test.login")
    assert bad_key["code"] == 100
    unknown_token = raw_factory(sb, ("72157000000000000-0000000000000000", "x" * 16)).call("flickr.test.login")
    assert unknown_token["code"] == 98
    # oauth parameters without a signature
    r = requests.post(sb.rest_url, data={"method": "flickr.test.login", "format": "json", "nojsoncallback": 1,
                                         "oauth_consumer_key": sb.api_key, "oauth_token": tok[0],
                                         "oauth_nonce": "1", "oauth_timestamp": "1",
                                         "oauth_signature_method": "HMAC-SHA1"}, timeout=10)
    assert r.json()["code"] == 97
    # no OAuth at all and no api_key
    assert raw_factory(sb).call("flickr.test.echo", sign=False)["code"] == 100
    # unsigned but with a valid api_key: public methods work, private ones need a login
    assert raw_factory(sb).call("flickr.test.echo", sign=False, api_key=sb.api_key, foo="bar")["foo"] == {
        "_content": "bar"}
    assert raw_factory(sb).call("flickr.test.login", sign=False, api_key=sb.api_key)["code"] == 99
    # a parameter changed after signing breaks the signature
    from requests_oauthlib import OAuth1

    req = requests.Request("POST", sb.rest_url, data={"method": "flickr.test.login", "format": "json",
                                                      "nojsoncallback": "1"},
                           auth=OAuth1(sb.api_key, sb.api_secret, *tok)).prepare()
    req.body = req.body + b"&extra=1"
    req.headers["Content-Length"] = str(len(req.body))
    with requests.Session() as s:
        assert s.send(req, timeout=10).json()["code"] == 96


def test_revoked_token_and_permissions(sb, raw_factory):
    read = raw_factory(sb, sb.grant_token("read"))
    assert read.call("flickr.test.login")["stat"] == "ok"
    assert read.call("flickr.photos.setMeta", photo_id="1", title="x")["code"] == 99
    write = sb.grant_token("write")
    assert raw_factory(sb, write).call("flickr.photos.delete", photo_id="1")["code"] == 99  # needs delete
    sb.revoke_token(write[0])
    assert raw_factory(sb, write).call("flickr.test.login")["code"] == 98


def test_flickrapi_wrong_secret_raises_96(sb):
    u = sb.account.user
    t, s = sb.grant_token("write")
    f = flickrapi.FlickrAPI(sb.api_key, "0" * 16, token=FlickrAccessToken(t, s, "write", "", u.username, u.nsid),
                            format="parsed-json")
    sb.configure_flickrapi(f)
    with pytest.raises(flickrapi.FlickrError) as ei:
        f.test.login()
    assert ei.value.code == 96


def test_check_token_lenient_and_strict(sb):
    f = sb.flickrapi_client("write", format="parsed-json")
    assert f.token_valid(perms="write")  # flickr.auth.oauth.checkToken without oauth_token argument
    rsp = f.auth.oauth.checkToken(oauth_token=f.token_cache.token.token)
    assert rsp["oauth"]["perms"]["_content"] == "write"
    assert rsp["oauth"]["user"]["nsid"] == sb.account.user.nsid
    sb.knobs.strict_checktoken = True
    assert f.auth.oauth.checkToken(oauth_token=f.token_cache.token.token)["stat"] == "ok"
    assert not f.token_valid(perms="write")  # issue #123 behaviour: the token is dropped
    assert f.token_cache.token is None


def test_auth_failure_mode_401(sb, raw_factory):
    sb.knobs.auth_failure_mode = "401"
    r = raw_factory(sb, sb.grant_token("write"), secret="1" * 16).rest("flickr.test.login")
    assert r.status_code == 401 and "oauth_problem=signature_invalid" in r.text
    u = sb.account.user
    t, s = sb.grant_token("write")
    f = flickrapi.FlickrAPI(sb.api_key, "1" * 16, token=FlickrAccessToken(t, s, "write", "", u.username, u.nsid))
    sb.configure_flickrapi(f)
    with pytest.raises(flickrapi.FlickrError) as ei:
        f.test.login()
    assert ei.value.code is None


def test_timestamp_window(sb, raw_factory):
    sb.knobs.timestamp_window = 300
    tok = sb.grant_token("write")
    assert raw_factory(sb, tok).call("flickr.test.login")["stat"] == "ok"
    r = requests.post(sb.rest_url, data={"method": "flickr.test.login", "format": "json", "nojsoncallback": 1},
                      headers={"Authorization": f'OAuth oauth_consumer_key="{sb.api_key}", oauth_token="{tok[0]}", '
                                                'oauth_nonce="n", oauth_timestamp="1000", '
                                                'oauth_signature_method="HMAC-SHA1", oauth_signature="x"'},
                      timeout=10)
    assert r.json()["code"] == 96

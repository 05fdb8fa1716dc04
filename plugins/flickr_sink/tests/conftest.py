"""Fixtures for the Flickr sandbox tests: sandboxes, real flickrapi clients, raw signed requests."""

from __future__ import annotations

import io
import os
import sys

import pytest

try:
    import migrator_flickr.sandbox  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _no_flickr_token_files(tmp_path_factory, monkeypatch):
    """flickrapi must never write a token cache: HOME points to an empty folder checked afterwards."""
    import flickrapi.tokencache

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    flickrapi.tokencache.OAuthTokenCache.RAM_CACHE.clear()
    yield
    assert not (home / ".flickr").exists(), "flickrapi wrote a token cache"
    flickrapi.tokencache.OAuthTokenCache.RAM_CACHE.clear()


@pytest.fixture
def sb():
    from migrator_flickr.sandbox import FlickrSandbox

    with FlickrSandbox(seed=7) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def seeded():
    from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account

    with FlickrSandbox(seed=3, account=build_seeded_account(3)) as sandbox:
        yield sandbox


@pytest.fixture
def flickr(sb):
    """flickrapi.FlickrAPI (parsed-json) with an in-memory write token."""
    return sb.flickrapi_client("write", format="parsed-json")


class Raw:
    """Signed requests made by hand (requests + requests-oauthlib), independent of flickrapi."""

    def __init__(self, sb, token: tuple[str, str] | None = None, key: str | None = None,
                 secret: str | None = None) -> None:
        self.sb = sb
        self.token = token
        self.key = key or sb.api_key
        self.secret = secret or sb.api_secret

    def auth(self):
        from requests_oauthlib import OAuth1

        t, s = self.token or (None, None)
        return OAuth1(self.key, self.secret, t, s, signature_type="auth_header")

    def rest(self, method: str, fmt: str | None = "json", sign: bool = True, nojsoncallback: bool = True,
             **params):
        import requests

        data = {"method": method, **params}
        if fmt:
            data["format"] = fmt
            if fmt == "json" and nojsoncallback:
                data["nojsoncallback"] = "1"
        return requests.post(self.sb.rest_url, data=data, auth=self.auth() if sign else None, timeout=10)

    def call(self, method: str, **params):
        r = self.rest(method, **params)
        assert r.status_code == 200, r.text
        return r.json()

    def upload(self, data: bytes, fields: dict | None = None, filename: str = "dummy name",
               url: str | None = None, sign_fields: dict | None = None):
        """Multipart upload signed like flickrapi does it: all fields except ``photo``."""
        import requests
        from requests_toolbelt import MultipartEncoder

        fields = {"api_key": self.key, **(fields or {})}
        url = url or self.sb.upload_url
        dummy = requests.Request("POST", url, data=sign_fields if sign_fields is not None else fields,
                                 auth=self.auth()).prepare()
        enc = MultipartEncoder(fields={**fields, "photo": (filename, io.BytesIO(data))})
        headers = {"Authorization": dummy.headers["Authorization"], "Content-Type": enc.content_type}
        return requests.post(url, data=enc, headers=headers, timeout=30)


@pytest.fixture
def raw(sb):
    """Raw signed client with a write token."""
    return Raw(sb, sb.grant_token("write"))


@pytest.fixture
def raw_factory():
    """``raw_factory(sb, token=None, key=None, secret=None)`` -> Raw client."""
    return Raw


def jpeg(w: int = 64, h: int = 48, note: str = "", exif_date: str | None = None) -> bytes:
    from migrator_flickr.sandbox.media import make_jpeg

    return make_jpeg(w, h, comment=note or None, exif_date=exif_date)


def _upload(flickr, data: bytes | None = None, **fields) -> str:
    """Upload through flickrapi (always with a fileobj: flickrapi never closes files it opens)."""
    data = data if data is not None else jpeg(note=repr(sorted(fields.items())))
    rsp = flickr.upload("pic.jpg", fileobj=io.BytesIO(data), format="etree", **fields)
    node = rsp.find("photoid")
    if node is None:
        node = rsp.find("ticketid")
    return node.text


@pytest.fixture
def make_jpeg():
    """``make_jpeg(w=64, h=48, note="", exif_date=None)`` -> JPEG bytes."""
    return jpeg


@pytest.fixture
def up():
    """``up(flickr, data=None, **fields)`` -> photo id (or ticket id with async=1)."""
    return _upload

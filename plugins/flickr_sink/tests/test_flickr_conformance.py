"""The conformance suite against the `flickr` sink, talking to the Flickr sandbox."""

from __future__ import annotations

import pytest
from migrator_flickr.client import machine_tag
from migrator_flickr.sandbox import Account, FlickrSandbox, build_seeded_account

from migrator.testing import SinkConformance, SourceConformance


class TestFlickrSink(SinkConformance):
    sink = "flickr"

    @pytest.fixture
    def sink_options(self):
        with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=946684800)) as self.sb:
            token, secret = self.sb.grant_token("write")
            yield {"api_key": self.sb.api_key, "api_secret": self.sb.api_secret, "oauth_token": token,
                   "oauth_token_secret": secret, "rest_url": self.sb.rest_url, "upload_url": self.sb.upload_url,
                   "oauth_url": self.sb.oauth_url, "rate": 0.0, "backoff": 0.05}

    def count_copies(self, sink, document) -> int:
        tag = machine_tag(document.source, document.id).lower()
        return sum(tag in [t.lower() for t in p["machine_tags"]] for p in self.sb.state()["photos"])

    def read_back(self, sink, stored) -> bytes:
        return self.sb.account.photos[stored.ref].read_original()


class TestFlickrSource(SourceConformance):
    source = "flickr"

    @pytest.fixture
    def source_options(self):
        with FlickrSandbox(seed=3, account=build_seeded_account(3, n_photos=20)) as sb:
            token, secret = sb.grant_token("read")
            yield {"api_key": sb.api_key, "api_secret": sb.api_secret, "oauth_token": token,
                   "oauth_token_secret": secret, "rest_url": sb.rest_url, "upload_url": sb.upload_url,
                   "oauth_url": sb.oauth_url, "rate": 0.0, "backoff": 0.05}

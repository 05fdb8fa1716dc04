"""What the Flickr source and sink say up front about a free account, once, when they open (in process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox import api as sandbox_api
from migrator_flickr.sink import FlickrSink
from migrator_flickr.source import FlickrSource

from migrator.api import Context


@pytest.fixture
def sb():
    with FlickrSandbox(seed=2, account=build_seeded_account(2, n_photos=3), free_account=True) as sandbox:
        yield sandbox


def opened(cls: type, sb: FlickrSandbox, tmp_path: Path, perms: str) -> Any:
    token, secret = sb.grant_token(perms)
    config = {o.name: o.default for o in cls.options} | {
        "api_key": sb.api_key, "api_secret": sb.api_secret, "oauth_token": token, "oauth_token_secret": secret,
        "rest_url": sb.rest_url, "upload_url": sb.upload_url, "oauth_url": sb.oauth_url, "rate": 0.0, "backoff": 0.01}
    plugin = cls(config, Context("flickr", "source" if cls is FlickrSource else "sink", config_dir=tmp_path,
                                 workdir=tmp_path))
    plugin.open()
    plugin.close()
    return plugin


def test_the_sink_reports_the_item_caps_and_pro_only_replace_once(sb, tmp_path):
    [warning] = opened(FlickrSink, sb, tmp_path, "write").context.warnings
    assert "free Flickr account" in warning and "1,000 items" in warning and "50 non-public" in warning
    assert "997 items" in warning  # what is left, from getUploadStatus
    assert "Only Pro accounts may replace a photo's file" in warning
    sb.knobs.free_account = False
    assert opened(FlickrSink, sb, tmp_path, "write").context.warnings == []


def test_the_source_detects_the_cap_with_one_call_and_says_it_once(sb, tmp_path):
    source = opened(FlickrSource, sb, tmp_path, "read")
    [warning] = source.context.warnings
    assert source.capped and "1024 px" in warning and '"Request my Flickr Data"' in warning
    assert sb.calls == {"flickr.test.login": 1, "flickr.people.getUploadStatus": 1}
    sb.knobs.free_account = False
    source = opened(FlickrSource, sb, tmp_path, "read")
    assert not source.capped and source.context.warnings == []


def test_a_refused_upload_status_counts_as_pro(sb, tmp_path, monkeypatch):
    """Unknown is no reason to give up originals: they are asked for, and a refusal falls back photo by photo."""
    def refuse(call):
        raise sandbox_api.ApiError(112, 'Method "flickr.people.getUploadStatus" not found')

    monkeypatch.setitem(sandbox_api.METHODS, "flickr.people.getUploadStatus", (refuse, sandbox_api.READ))
    source = opened(FlickrSource, sb, tmp_path, "read")
    assert not source.capped and source.context.warnings == []
    assert sb.calls["flickr.people.getUploadStatus"] >= 1

"""Token files: one per service address and API key; the file saved before that naming still counts for the
real service, and only for it."""

from __future__ import annotations

import stat

from migrator_flickr.client import REST_URL
from migrator_flickr.client import token_place as flickr_place
from migrator_ipernity.source import API_URL
from migrator_ipernity.source import token_place as ipernity_place

from migrator.tokens import load_token, save_token, token_path


def test_each_address_and_key_has_its_own_file(tmp_path):
    real = save_token("ipernity", {"token": "real"}, tmp_path, endpoint=API_URL, key="the-api-key")
    sandbox = save_token("ipernity", {"token": "sandbox"}, tmp_path, endpoint="http://127.0.0.1:8080/api/", key="k")
    other_key = save_token("ipernity", {"token": "other"}, tmp_path, endpoint=API_URL, key="k2")
    assert len({real, sandbox, other_key}) == 3
    assert real.name.startswith("ipernity-api.ipernity.com-") and sandbox.name.startswith("ipernity-127.0.0.1_8080-")
    assert load_token("ipernity", tmp_path, endpoint=API_URL, key="the-api-key")["token"] == "real"
    assert "the-api-key" not in real.read_text() + real.name  # the key itself is never written
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_a_token_saved_before_counts_for_the_real_service_only(tmp_path):
    old = token_path("ipernity", tmp_path)
    old.parent.mkdir(parents=True)
    old.write_text('{"token": "saved-before"}')
    real = ipernity_place({"api_url": API_URL, "api_key": "k"})
    sandbox = ipernity_place({"api_url": "http://127.0.0.1:8080/api/", "api_key": "k"})
    assert load_token("ipernity", tmp_path, **real)["token"] == "saved-before"
    assert load_token("ipernity", tmp_path, **sandbox) is None
    save_token("ipernity", {"token": "new"}, tmp_path, endpoint=real["endpoint"], key=real["key"])
    assert load_token("ipernity", tmp_path, **real)["token"] == "new"  # a new authorization wins
    assert old.read_text() == '{"token": "saved-before"}'  # and leaves the old file alone
    assert flickr_place({"rest_url": REST_URL, "api_key": "k"})["legacy"]
    assert not flickr_place({"rest_url": "http://127.0.0.1:1/services/rest/", "api_key": "k"})["legacy"]

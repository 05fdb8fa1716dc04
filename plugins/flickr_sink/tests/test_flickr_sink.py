"""The flickr sink alone, fed by the core's test source (`jsonfile`): authorization, adoption of earlier
uploads, tag quoting. Chains with other plugins are in tests/test_chain_flickr_*.py."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import pytest
import requests
from migrator_flickr.client import machine_tag, quote_tags
from migrator_flickr.sandbox import FlickrSandbox
from migrator_flickr.sandbox.media import make_jpeg
from migrator_flickr.sandbox.model import Account

from migrator.testing.cli import query_value
from migrator.tokens import token_path

YEAR_2000 = 946684800
ENV = {"MIGRATOR_LOAD_PLUGINS": "memtest,flickr"}


@pytest.fixture
def flickr():
    with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=YEAR_2000)) as sb:
        yield sb


def test_bad_signature_is_rejected(flickr):
    token, _ = flickr.grant_token("write")
    from requests_oauthlib import OAuth1

    auth = OAuth1(flickr.api_key, "wrong-secret", token, "wrong-token-secret")
    answer = requests.post(flickr.rest_url, data={"method": "flickr.test.login", "format": "json",
                                                  "nojsoncallback": "1"}, auth=auth, timeout=10).json()
    assert answer["stat"] == "fail" and answer["code"] in (96, 98)


def test_auth_flow_token_file_is_private_and_no_flickr_cache(cli, flickr, home):
    proc, line = cli.start("auth", "flickr", *flickr.app_options(), wait_for="oauth_token=",
                           env={"MIGRATOR_LOAD_PLUGINS": "flickr"})
    request_token = query_value(line, "oauth_token")
    assert "perms=write" in line
    verifier = flickr.authorize(request_token, perms="write")
    out, err = proc.communicate(verifier + "\n", timeout=60)
    assert proc.returncode == 0, err
    token_file = token_path("flickr", Path(os.environ["MIGRATOR_CONFIG_DIR"]), endpoint=flickr.rest_url,
                            key=flickr.api_key)  # a test server's token never takes the real one's place
    assert not (token_file.parent / "flickr.json").exists()
    assert token_file.stat().st_mode & 0o777 == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["oauth_token_secret"] not in out + err
    assert not (Path(os.environ["HOME"]) / ".flickr").exists()
    # the saved token works for a run without any token option
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": [{"id": "1", "title": "t", "content": "x" * 100,
                                               "file": {"ext": "jpg"}}]}))
    result = cli("run", "jsonfile", "flickr", "-o", f"jsonfile.file={data}", *flickr.app_options(),
                 "-o", "flickr.rate=0", env={"MIGRATOR_LOAD_PLUGINS": "memtest,flickr"})
    assert result.returncode == 0, result.stderr
    assert not (Path(os.environ["HOME"]) / ".flickr").exists()


def test_missing_token_needs_authorization(cli, flickr, home):
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": []}))
    result = cli("run", "jsonfile", "flickr", "-o", f"jsonfile.file={data}", "-o", f"flickr.api_key={flickr.api_key}",
                 "-o", f"flickr.api_secret={flickr.api_secret}", "-o", f"flickr.rest_url={flickr.rest_url}",
                 env={"MIGRATOR_LOAD_PLUGINS": "memtest,flickr"})
    assert result.returncode == 3 and "migrator auth flickr" in result.stderr


def test_tag_quoting():
    assert quote_tags(["new york", "cat", 'say "hi"', " "]) == "\"new york\" cat \"say 'hi'\""
    assert machine_tag("ipernity", "12") == "migrator:ipernity=12"
    assert machine_tag("my-source", "x") == "migrator:my_source=x"
    assert machine_tag("9lives", "x") == "migrator:s9lives=x"


# -- earlier uploads (flop's, or any tagged with the source's name) ------------------------------------
JPEGS = {str(n): make_jpeg(64, 48, comment=f"photo {n}") for n in range(1, 6)}
PHOTOS = [{"id": n, "title": f"photo {n}", "content_b64": base64.b64encode(data).decode(), "media": "photo",
           "file": {"ext": "jpg"}, "taken_at": f"2011-0{n}-02T03:04:05"} for n, data in JPEGS.items()]


def upload_earlier(sb: FlickrSandbox, photos: list[dict], tag: str) -> None:
    """What flop did: title, a plain tag naming the source, the date taken; no machine tag."""
    client = sb.flickrapi_client("write", format="etree")
    for photo in photos:
        rsp = client.upload("x.jpg", fileobj=io.BytesIO(JPEGS[photo["id"]]), title=photo["title"],
                            tags=tag, is_public=1, format="etree")
        client.photos.setDates(photo_id=rsp.findtext("photoid"), date_taken=photo["taken_at"].replace("T", " "),
                               format="etree")


def replay_json(cli, sb: FlickrSandbox, home: Path, *extra: str):
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": PHOTOS}))
    return cli("run", "jsonfile", "flickr", "-o", f"jsonfile.file={data}", *sb.cli_options(), *extra,
               "--state", str(home / "state.sqlite3"), env=ENV)


@pytest.mark.parametrize(("adopt", "adopted"), [("mem", 2), ("ipernity, mem", 2), ("", 0), (None, 0)])
def test_uploads_tagged_with_the_source_name_are_adopted_as_the_option_says(cli, flickr, home, adopt, adopted):
    """jsonfile's documents have the source `mem`: the default (`ipernity`) and an empty list adopt none."""
    upload_earlier(flickr, PHOTOS[:2], "mem")
    flickr.reset_counters()
    extra = () if adopt is None else ("-o", f"flickr.adopt_tagged={adopt}")
    result = replay_json(cli, flickr, home, *extra)
    assert result.returncode == 0, result.stderr
    assert flickr.calls["upload"] == len(PHOTOS) - adopted
    photos = flickr.state()["photos"]
    assert len(photos) == 2 + len(PHOTOS) - adopted
    tagged = [p for p in photos if any(t.startswith("migrator:mem=") for t in p["machine_tags"])]
    assert sorted(p["title"] for p in tagged) == [p["title"] for p in PHOTOS]


def test_uploads_tagged_with_another_name_are_not_adopted(cli, flickr, home):
    upload_earlier(flickr, PHOTOS[:2], "ipernity")
    flickr.reset_counters()
    result = replay_json(cli, flickr, home, "-o", "flickr.adopt_tagged=ipernity")
    assert result.returncode == 0, result.stderr
    assert flickr.calls["upload"] == len(PHOTOS)

"""One option table for the name `flickr`: a config file holding values for both roles serves a run with
Flickr as the source and a run with Flickr as the sink (regression: `comments` was a bool on the source
and off/description on the sink, so one config file broke one of the two)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account
from migrator_flickr.sandbox.media import make_jpeg
from migrator_flickr.sandbox.model import Account

ENV = {"MIGRATOR_LOAD_PLUGINS": "memtest,flickr"}
BOTH_ROLES = """
[flickr]
comments = "description"   # shared: the source fetches comments, the sink appends them
per_page = 7               # the source's own
privacy = "private"        # the sink's own
"""
PHOTO = {"id": "1", "title": "with a comment", "media": "photo", "file": {"ext": "jpg"},
         "content_b64": base64.b64encode(make_jpeg(32, 24, comment="one")).decode(),
         "comments": [{"id": "c1", "author": "Ann", "posted_at": "2011-01-02T03:04:05Z", "text": "Lovely light"}]}


def config(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text, "utf-8")
    return path


def mirror(cli, home: Path, cfg: Path, sb: FlickrSandbox):
    return cli("run", "flickr", "folder", "--config", str(cfg), *sb.cli_options("read"),
               "-o", f"folder.path={home / 'mirror'}", "--state", str(home / "mirror.sqlite3"), env=ENV)


def upload(cli, home: Path, cfg: Path, sb: FlickrSandbox):
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": [PHOTO]}), "utf-8")
    return cli("run", "jsonfile", "flickr", "--config", str(cfg), "-o", f"jsonfile.file={data}", *sb.cli_options(),
               "--state", str(home / "upload.sqlite3"), env=ENV)


def test_one_config_file_serves_flickr_as_source_and_as_sink(cli, home):
    cfg = config(home, BOTH_ROLES)
    with FlickrSandbox(seed=0, account=build_seeded_account(0, n_photos=12)) as seeded:
        result = mirror(cli, home, cfg, seeded)
        assert result.returncode == 0, result.stderr
        records = [json.loads(p.read_text("utf-8")) for p in (home / "mirror").glob("flickr-*.json")]
        assert len(records) == 12 and any(r["comments"] for r in records)  # comments fetched
        assert seeded.calls["flickr.people.getPhotos"] >= 2  # 12 photos at 7 a page
    with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=946684800)) as empty:
        result = upload(cli, home, cfg, empty)
        assert result.returncode == 0, result.stderr
        [photo] = empty.state()["photos"]
        assert "Lovely light" in photo["description"] and "Ann" in photo["description"]
        assert photo["is_public"] == 0


@pytest.mark.parametrize("value", ["false", "true", '"yes"'])
def test_a_value_neither_role_accepts_is_one_clear_error_for_both(cli, home, value):
    cfg = config(home, f"[flickr]\ncomments = {value}\n")
    with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=946684800)) as sb:
        for result in (mirror(cli, home, cfg, sb), upload(cli, home, cfg, sb)):
            assert result.returncode == 2
            assert "option flickr.comments (from config file)" in result.stderr
            assert "is not one of off, keep, description" in result.stderr and "Traceback" not in result.stderr
        assert sb.calls["upload"] == 0


@pytest.mark.parametrize(("pair", "bounds"), [("rate=-1", "at least 0"), ("backoff=-1", "at least 0"),
                                              ("per_page=0", "1 to 500"), ("per_page=501", "1 to 500")])
def test_values_out_of_range_are_refused_before_anything_is_sent(cli, home, pair, bounds):
    with FlickrSandbox(seed=0, account=Account.empty(0, "sandbox", created_at=946684800)) as sb:
        result = cli("run", "flickr", "folder", *sb.cli_options("read"), "-o", f"flickr.{pair}",
                     "-o", f"folder.path={home / 'out'}", env=ENV)
        assert result.returncode == 2, result.stderr
        assert f"option flickr.{pair.split('=')[0]} (from -o)" in result.stderr and bounds in result.stderr
        assert sum(sb.calls.values()) == 0

"""Plugin discovery, listing, option precedence, records and their JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from migrator.errors import UsageError
from migrator.options import Option, load_config, parse_overrides, resolve, validate_names
from migrator.records import (
    SCHEMA_VERSION,
    AlbumRef,
    Comment,
    Container,
    Document,
    FileInfo,
    Geo,
    Note,
    Original,
    Visibility,
    dumps,
    json_schema,
)


def test_plugins_json_lists_sources_and_sinks(cli):
    result = cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    by_name = {e["name"]: e for e in entries}
    assert by_name["jsonfile"]["kind"] == "source" and by_name["folder"]["kind"] == "sink"
    for entry in entries:
        assert set(entry) >= {"name", "kind", "plugin", "version", "options"}
        assert entry["plugin"] == "migrator-memtest" and entry["version"] == "0.3.1"
    token = next(o for o in by_name["folder"]["options"] if o["name"] == "token")
    assert token["secret"] is True and token["type"] == "str"


def test_plugin_commands_are_added(cli):
    result = cli("memtest-hello")
    assert result.returncode == 0 and result.stdout.strip() == "hello from memtest"


def test_broken_plugin_is_reported_and_does_not_stop_the_cli(cli):
    result = cli("plugins", "--json", env={"MIGRATOR_LOAD_PLUGINS": "memtest,broken"})
    assert result.returncode == 0
    assert "broken" in result.stderr and "broken on purpose" in result.stderr
    assert {e["name"] for e in json.loads(result.stdout)} == {"jsonfile", "folder"}


def test_load_plugins_selects(cli):
    result = cli("plugins", "--json", env={"MIGRATOR_LOAD_PLUGINS": ""})
    assert json.loads(result.stdout) == []


OPTIONS = [Option("rate", float, 1.0), Option("key", str, None, secret=True, env=("SERVICE_KEY",)),
           Option("on", bool, False)]


def test_option_precedence():
    env = {"MIGRATOR_SVC_RATE": "2.5", "SERVICE_KEY": "alias", "MIGRATOR_SVC_KEY": "primary"}
    config = {"rate": 3, "key": "from-config", "on": True}
    assert resolve("svc", OPTIONS, {}, {}, {}) == {"rate": 1.0, "key": None, "on": False}
    assert resolve("svc", OPTIONS, {}, config, {}) == {"rate": 3.0, "key": "from-config", "on": True}
    assert resolve("svc", OPTIONS, {}, config, {"SERVICE_KEY": "alias"})["key"] == "alias"
    assert resolve("svc", OPTIONS, {}, config, env) == {"rate": 2.5, "key": "primary", "on": True}
    assert resolve("svc", OPTIONS, {"rate": "9", "on": "no"}, config, env) == {"rate": 9.0, "key": "primary",
                                                                               "on": False}


def test_option_precedence_through_cli(cli, home):
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": [{"id": "1", "content": "x"}]}))
    config = home / "config.toml"
    config.write_text(f"[folder]\npath = '{home / 'from-config'}'\n")
    args = ["run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "--config", str(config)]
    assert cli(*args, "--state", str(home / "s1")).returncode == 0
    assert (home / "from-config" / "mem-1.bin").exists()
    env = {"MIGRATOR_FOLDER_PATH": str(home / "from-env")}
    assert cli(*args, "--state", str(home / "s2"), env=env).returncode == 0
    assert (home / "from-env" / "mem-1.bin").exists()
    assert cli(*args, "--state", str(home / "s3"), "-o", f"folder.path={home / 'from-o'}", env=env).returncode == 0
    assert (home / "from-o" / "mem-1.bin").exists()


def test_default_config_file_location(cli, home):
    data = home / "docs.json"
    data.write_text(json.dumps({"documents": [{"id": "1", "content": "x"}]}))
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text(f"[folder]\npath = '{home / 'default-cfg'}'\n")
    assert cli("run", "jsonfile", "folder", "-o", f"jsonfile.file={data}").returncode == 0
    assert (home / "default-cfg" / "mem-1.bin").exists()
    assert (home / "xdg_state_home" / "migrator" / "state.sqlite3").exists()


def test_bad_values_and_names():
    with pytest.raises(UsageError, match="svc.rate"):
        resolve("svc", OPTIONS, {"rate": "fast"}, {}, {})
    with pytest.raises(UsageError, match="svc.on"):
        resolve("svc", OPTIONS, {}, {"on": "maybe"}, {})
    with pytest.raises(UsageError, match="unknown plugin 'x'"):
        validate_names({"x": {"a": 1}}, {"svc": {"rate"}}, "-o")
    with pytest.raises(UsageError, match="has no option 'speed'"):
        validate_names({"svc": {"speed": 1}}, {"svc": {"rate"}}, "-o")
    with pytest.raises(UsageError, match="PLUGIN.KEY=VALUE"):
        parse_overrides(["novalue"])


def test_missing_explicit_config(tmp_path: Path):
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml", explicit=True)
    assert load_config(tmp_path / "nope.toml", explicit=False) == {}


def full_document() -> Document:
    return Document(
        source="ipernity", id="42", media="video", title="  Caf\u00e9 / ../x \U0001f600 <i>hi</i>",
        description="line1\nline2 &amp;", tags=["new york", "ns:pred=value"], taken_at="2010-05-01T12:30:00",
        taken_granularity="second", posted_at="2011-01-01T00:00:00Z", updated_at="2012-01-01T00:00:00Z",
        visibility=Visibility(public=False, friends=True, family=True), safety=2, license="CC-BY-NC-SA-2.0",
        geo=Geo(48.85, 2.35, 16), position=7, albums=[AlbumRef("a1", "Trip", 3)],
        comments=[Comment("c1", "Jim", "2011-02-01T00:00:00Z", "nice", None),
                  Comment("c2", "Jo", None, "re", "c1")],
        notes=[Note("n1", "me", "a note", 1, 2, 3, 4)],
        file=FileInfo("IMG 1.MOV", "mov", 1234, "0" * 32, "a" * 64, "video/quicktime"),
        source_metadata={"raw": {"anything": ["kept", 1, None]}})


def test_document_json_schema_and_round_trip():
    doc = full_document()
    data = json.loads(dumps(doc))
    jsonschema.validate(data, json_schema("document"))
    assert Document.from_json(data) == doc
    minimal = Document(source="x", id="1")
    jsonschema.validate(json.loads(dumps(minimal)), json_schema("document"))


def test_json_form_is_what_asdict_gives_and_a_copy():
    import dataclasses
    doc = full_document()
    data = doc.to_json()
    assert data == {"schema": SCHEMA_VERSION, "kind": "document", **dataclasses.asdict(doc)}
    data["source_metadata"]["raw"]["anything"].append("changed")
    data["albums"][0]["title"] = "changed"
    assert doc.source_metadata == {"raw": {"anything": ["kept", 1, None]}} and doc.albums[0].title != "changed"


def test_container_json_schema_and_round_trip():
    album = Container(kind="album", source="ipernity", id="9", title="Same title", description="d",
                      members=["3", "1", "2"], parent=None, updated_at="2020-01-01T00:00:00Z")
    data = json.loads(dumps(album))
    jsonschema.validate(data, json_schema("container"))
    assert Container.from_json(data) == album
    collection = Container(kind="collection", source="flickr", id="c", members=["9"], member_kind="container")
    jsonschema.validate(json.loads(dumps(collection)), json_schema("container"))


def test_schema_rejects_bad_records():
    data = json.loads(dumps(full_document()))
    for field, bad in (("media", "picture"), ("safety", 4), ("taken_at", "2010-05-01 12:30:00"),
                       ("visibility", {"public": "yes", "friends": False, "family": False})):
        broken = dict(data, **{field: bad})
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, json_schema("document"))


def test_text_kept_verbatim_in_json():
    doc = full_document()
    text = dumps(doc)
    assert "Caf\u00e9" in text and "\U0001f600" in text and "<i>hi</i>" in text
    assert Document.from_json(json.loads(text)).title == doc.title


def test_newer_schema_version_is_refused():
    data = json.loads(dumps(full_document()))
    data["schema"] = 99
    with pytest.raises(ValueError, match="schema version"):
        Document.from_json(data)


def test_original_stream_verifies_size_and_hash(tmp_path: Path):
    import io

    from migrator.errors import IntegrityError

    good = Original(lambda: io.BytesIO(b"abcdef"), "doc", size=6)
    with good.open() as stream:
        while stream.read(2):
            pass
    assert stream.sha256 and stream.bytes_read == 6
    short = Original(lambda: io.BytesIO(b"abc"), "doc", size=6)
    with pytest.raises(IntegrityError, match="got 3 bytes, expected 6"), short.open() as stream:
        while stream.read(2):
            pass
    corrupt = Original(lambda: io.BytesIO(b"abcdef"), "doc", size=6, md5="0" * 32)
    with pytest.raises(IntegrityError, match="md5"), corrupt.open() as stream:
        while stream.read(100):
            pass
    path = tmp_path / "f"
    path.write_bytes(b"abcdef")
    good.read_from(path)
    with good.open() as stream:
        assert stream.read(100) == b"abcdef"


def test_date_forms():
    from migrator.dates import utc_from_epoch, wall_clock

    assert utc_from_epoch("1203605781") == "2008-02-21T14:56:21Z" == utc_from_epoch(1203605781)
    assert utc_from_epoch("0") is None and utc_from_epoch("") is None and utc_from_epoch("x") is None
    assert utc_from_epoch(True) is None and utc_from_epoch(-5) is None
    assert wall_clock("2008-01-03 11:22:00") == ("2008-01-03T11:22:00", "second")
    assert wall_clock("2008-05-00 00:00:00") == ("2008-05-01T00:00:00", "month")
    assert wall_clock("2008-00-00 00:00:00") == ("2008-01-01T00:00:00", "year")
    assert wall_clock("0000-00-00 00:00:00") == (None, None)
    assert wall_clock("2008-02-30 00:00:00") == (None, None) and wall_clock(None) == (None, None)

"""One option table per plugin name: role-only values, required options, ranges, and two roles that would
give one key two meanings."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from migrator import Option, Sink, Source, hookimpl
from migrator.errors import UsageError
from migrator.options import check_tables, parse_overrides, resolve, validate_names
from migrator.registry import load

PATH = [Option("path", Path, None, required=True), Option("jobs", int, 2, min=1, max=8)]


def test_a_role_only_value_beats_the_plugin_wide_one_at_each_level():
    parsed = parse_overrides(["local.path=/both", "local.source.path=/from"])
    assert parsed == {"local": {"path": "/both", "source": {"path": "/from"}}}
    overrides = parsed["local"]
    assert resolve("local", PATH, overrides, {}, environ={}, role="source")["path"] == Path("/from")
    assert resolve("local", PATH, overrides, {}, environ={}, role="sink")["path"] == Path("/both")
    config = {"path": "/conf", "sink": {"path": "/conf-sink"}}
    assert resolve("local", PATH, {}, config, environ={}, role="sink")["path"] == Path("/conf-sink")
    assert resolve("local", PATH, {}, config, environ={}, role="source")["path"] == Path("/conf")
    # -o (any role) beats the environment, which beats the config file (any role)
    env = {"MIGRATOR_LOCAL_PATH": "/env"}
    assert resolve("local", PATH, {"path": "/o"}, config, environ=env, role="sink")["path"] == Path("/o")
    assert resolve("local", PATH, {}, config, environ=env, role="sink")["path"] == Path("/env")


@pytest.mark.parametrize("pair", ["local.path", "local=1", "local.both.path=x", ".path=x", "local..path=x",
                                  "local.source.sub.path=x"])
def test_malformed_overrides_say_the_two_forms(pair):
    with pytest.raises(UsageError, match=r"PLUGIN\.KEY=VALUE or PLUGIN\.ROLE\.KEY=VALUE"):
        parse_overrides([pair])


def test_role_tables_are_checked_for_unknown_keys():
    validate_names({"local": {"sink": {"path": "x"}}}, {"local": {"path"}}, "config file")
    with pytest.raises(UsageError, match="plugin 'local' has no option 'pth'"):
        validate_names({"local": {"source": {"pth": "x"}}}, {"local": {"path"}}, "config file")


def test_a_required_option_without_value_names_every_way_to_give_it():
    with pytest.raises(UsageError) as info:
        resolve("local", PATH, {}, {}, environ={}, role="sink")
    message = str(info.value)
    assert "local.path is required" in message and "-o local.path=VALUE" in message
    assert "$MIGRATOR_LOCAL_PATH" in message and "[local]" in message


@pytest.mark.parametrize(("value", "ok"), [("1", True), ("8", True), ("0", False), ("9", False), ("-1", False)])
def test_ranges_are_checked_wherever_the_value_comes_from(value, ok):
    for overrides, config in (({"jobs": value}, {}), ({}, {"jobs": int(value)})):
        if ok:
            assert resolve("x", PATH[1:], overrides, config, environ={})["jobs"] == int(value)
        else:
            with pytest.raises(UsageError, match=r"option x\.jobs .* is out of range \(1 to 8\)"):
                resolve("x", PATH[1:], overrides, config, environ={})


def test_one_key_with_two_meanings_is_refused():
    same = [Option("comments", str, "keep", "the source's help", choices=("off", "keep"))]
    also = [Option("comments", str, "keep", "the sink's own words", choices=("off", "keep"))]
    check_tables("x", [same, also])  # help may differ by role; the meaning may not
    with pytest.raises(TypeError, match="'comments' is declared twice with different meanings"):
        check_tables("x", [[Option("comments", bool, True)], same])
    with pytest.raises(TypeError, match="names a role"):
        check_tables("x", [[Option("source", str)]])


def test_a_plugin_whose_roles_disagree_is_not_loaded_and_says_why(monkeypatch):
    class Reader(Source):
        name = "twofaced"
        options = [Option("comments", bool, True)]

    class Writer(Sink):
        name = "twofaced"
        options = [Option("comments", str, "off", choices=("off", "description"))]

    module = types.ModuleType("twofaced_plugin")
    module.register_sources = hookimpl(lambda register: register(Reader))
    module.register_sinks = hookimpl(lambda register: register(Writer))
    monkeypatch.setitem(sys.modules, "twofaced_plugin", module)
    monkeypatch.setenv("MIGRATOR_LOAD_PLUGINS", "")
    registry = load(extra=[module])
    assert "twofaced" not in registry.sources and "twofaced" not in registry.sinks
    assert any("'comments' is declared twice" in error for _, error in registry.failures)


def test_the_core_enforces_required_options_and_ranges_before_a_plugin_opens(cli, home):
    result = cli("run", "jsonfile", "folder", "-o", f"folder.path={home / 'out'}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "option jsonfile.file is required: give it with -o jsonfile.file=VALUE" in result.stderr
    assert not (home / "out").exists()  # refused before any plugin opened
    data = home / "docs.json"
    data.write_text('{"documents": []}', "utf-8")
    result = cli("run", "jsonfile", "folder", "-o", f"jsonfile.file={data}", "-o", f"folder.path={home / 'out'}",
                 "-o", "folder.quota_after=-1")
    assert result.returncode == 2
    assert "option folder.quota_after (from -o): '-1' is out of range (at least 0)" in result.stderr
    listing = cli("plugins").stdout
    assert "jsonfile.file (Path, required)" in listing and "folder.quota_after (int, at least 0, default 0)" in listing

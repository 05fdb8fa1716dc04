"""`migrator plugins` shows each plugin (distribution) with its hooks, sources, sinks and folder formats."""

from __future__ import annotations

import json

ALL = {"MIGRATOR_LOAD_PLUGINS": "memtest,local,ipernity,flickr"}
MEMTEST_HOOKS = ["document_failed", "document_migrated", "load_failed", "register_commands", "register_sinks",
                 "register_sources", "run_finished"]


def test_plain_listing_groups_by_plugin_with_its_hooks(cli):
    result = cli("plugins", env=ALL)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    head = lines.index(f"migrator-memtest 0.3.1: hooks {', '.join(MEMTEST_HOOKS)}")
    assert lines[head + 1].startswith("  folder (sink): ") and "    jsonfile.file (Path, required) the JSON file to " \
        "read [env: MIGRATOR_JSONFILE_FILE]" in lines
    local = lines.index("migrator-local 0.1.0: hooks register_folder_formats, register_sinks, register_sources")
    assert "  migrator-local (folder format)" in lines[local:]


def test_json_entries_carry_hooks_and_folder_formats(cli):
    entries = {(e["name"], e["kind"]): e for e in json.loads(cli("plugins", "--json", env=ALL).stdout)}
    assert entries[("folder", "sink")]["hooks"] == MEMTEST_HOOKS
    flip = entries[("flip", "folder format")]
    assert flip["plugin"] == "migrator-ipernity" and flip["options"] == []
    assert "register_folder_formats" in flip["hooks"]

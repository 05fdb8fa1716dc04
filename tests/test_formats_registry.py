"""The folder format hook: plugins register formats, the registry orders them (most faithful first) and
records a bad registration as a load failure; `migrator plugins` lists them."""

from __future__ import annotations

import types

from migrator import hookimpl
from migrator.folders import Folder, FolderFormat
from migrator.registry import load


class Faithful(FolderFormat):
    name = "faithful"
    priority = 1

    @classmethod
    def detect(cls, folder: Folder) -> bool:
        return True


class Rough(Faithful):
    name = "rough"
    priority = 200


def plugin(*classes: object) -> types.SimpleNamespace:
    @hookimpl
    def register_folder_formats(register):
        for cls in classes:
            register(cls)

    return types.SimpleNamespace(register_folder_formats=register_folder_formats)


def test_formats_are_ordered_most_faithful_first(monkeypatch):
    monkeypatch.setenv("MIGRATOR_LOAD_PLUGINS", "")
    registry = load(extra=[plugin(Rough, Faithful)])
    assert registry.folder_formats == [Faithful, Rough] and not registry.failures


def test_a_class_that_is_no_folder_format_is_a_load_failure(monkeypatch):
    monkeypatch.setenv("MIGRATOR_LOAD_PLUGINS", "")
    registry = load(extra=[plugin(dict)])
    assert registry.folder_formats == []
    assert any("register_folder_formats" in error for _, error in registry.failures)


def test_plugins_lists_the_formats(cli):
    result = cli("plugins", env={"MIGRATOR_LOAD_PLUGINS": "local,ipernity,flickr"})
    assert result.returncode == 0, result.stderr
    assert "backup folder formats: migrator-local (from migrator-local), flickrmirrorer" in result.stdout

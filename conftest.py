"""Shared fixtures: an isolated home for every test and the third-party test plugin, pip-installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migrator.testing.cli import CliRunner

FIXTURES = Path(__file__).parent / "tests" / "fixtures"


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test plugins installed by pip into their own folder, exactly as a user installs a plugin."""
    target = tmp_path_factory.mktemp("site")
    for name in ("memplugin", "brokenplugin"):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                        "--target", str(target), str(FIXTURES / name)], check=True,
                       env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return target


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, state, tokens and the --sandbox folder in a throwaway folder: tests never touch the real ones."""
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("MIGRATOR_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in list(os.environ):
        if var.startswith(("MIGRATOR_", "IPERNITY_", "FLICKR_")) and var != "MIGRATOR_CONFIG_DIR":
            monkeypatch.delenv(var)
    return tmp_path


@pytest.fixture
def cli(plugin_site: Path, home: Path) -> CliRunner:
    """The real `migrator` command with the test plugins installed; only `memtest` loads unless a call's
    env names others in MIGRATOR_LOAD_PLUGINS."""
    return CliRunner(plugin_site, home, plugins="memtest")


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path

"""Fixtures for the local plugin: an isolated home, the core's JSON-file test source, a CLI runner,
and in-process helpers that drive LocalSink / LocalSource without a state store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `import local_helpers`
MEMPLUGIN = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "memplugin"


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core's third-party test plugin (source `jsonfile`), pip-installed into its own folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(MEMPLUGIN)], check=True,
                   env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return target


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("MIGRATOR_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in list(os.environ):
        if var.startswith(("MIGRATOR_", "IPERNITY_", "FLICKR_")) and var != "MIGRATOR_CONFIG_DIR":
            monkeypatch.delenv(var)
    return tmp_path


class Cli:
    """`python -m migrator ...` in a subprocess, with the test plugin on its path."""

    def __init__(self, site: Path, home: Path) -> None:
        self.site, self.home = site, home

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.site), env.get("PYTHONPATH", "")]))
        env["MIGRATOR_LOAD_PLUGINS"] = "memtest,local"
        env.update(extra or {})
        return env

    def __call__(self, *args: str, env: dict[str, str] | None = None, script: Path | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        head = [str(script)] if script else ["-m", "migrator"]
        return subprocess.run([sys.executable, *head, *args], capture_output=True, text=True, env=self.env(env),
                              timeout=timeout, cwd=self.home)

    def backup(self, data: Path, out: Path, *extra: str, state: Path | None = None,
               script: Path | None = None) -> subprocess.CompletedProcess:
        """`migrator run jsonfile local` into `out`, with a report at home/report.json."""
        return self("run", "jsonfile", "local", "-o", f"jsonfile.file={data}", "-o", f"local.path={out}",
                    "--state", str(state or self.home / "state.sqlite3"), "--report", str(self.home / "report.json"),
                    *extra, script=script)

    def report(self) -> dict[str, Any]:
        return json.loads((self.home / "report.json").read_text("utf-8"))


@pytest.fixture
def cli(plugin_site: Path, home: Path) -> Cli:
    return Cli(plugin_site, home)

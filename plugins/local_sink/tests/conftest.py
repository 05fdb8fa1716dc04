"""Fixtures for the local plugin: a CLI runner with the JSON-file test source (the isolated `home` and
the pip-installed `plugin_site` come from the root conftest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migrator.testing.cli import CliRunner

sys.path.insert(0, str(Path(__file__).parent))  # for `import local_helpers`


class Cli(CliRunner):
    """The CLI runner with the local plugin and the JSON-file test source loaded."""

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return super().env({"MIGRATOR_LOAD_PLUGINS": "memtest,local", **(extra or {})})

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

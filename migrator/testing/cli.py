"""Running the real `migrator` command from a plugin's tests, isolated from the user's own set-up."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def patched_cli(patch: str) -> str:
    """The text of a wrapper script for `CliRunner(..., script=)`: `patch` (Python that changes something
    first: a policy, a checkpoint, a function that must not be called), then the real `migrator` command
    with the script's arguments."""
    return f"{patch.strip()}\nimport sys\nfrom migrator.cli import main\nsys.argv[0] = 'migrator'\nmain()\n"


class CliRunner:
    """`python -m migrator ...` in a subprocess, with extra plugin folders on its path.

    `site` is a folder a test pip-installed plugins into (or None); `home` is the working directory;
    `plugins` is the default MIGRATOR_LOAD_PLUGINS (an `env` entry given to a call wins).
    """

    def __init__(self, site: Path | None, home: Path, plugins: str | None = None) -> None:
        self.site, self.home, self.plugins = site, home, plugins

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        if self.site is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.site), env.get("PYTHONPATH", "")]))
        if self.plugins is not None:
            env.setdefault("MIGRATOR_LOAD_PLUGINS", self.plugins)
        env.update(extra or {})
        return env

    def __call__(self, *args: str, env: dict[str, str] | None = None, input: str | None = None,
                 timeout: float = 120, script: Path | None = None) -> subprocess.CompletedProcess:
        """Run `migrator ARGS` (or `python SCRIPT ARGS`, for a wrapper that patches something first)."""
        head = [str(script)] if script else ["-m", "migrator"]
        return subprocess.run([sys.executable, *head, *args], capture_output=True, text=True, env=self.env(env),
                              input=input, timeout=timeout, cwd=self.home)

    def start(self, *args: str, wait_for: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
        """Start an interactive `migrator ARGS` (e.g. `auth`) and read its output up to the first line
        holding `wait_for`: returns the process, waiting on stdin, and that line."""
        proc = subprocess.Popen([sys.executable, "-m", "migrator", *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(env),
                                cwd=self.home)
        line = ""
        while wait_for not in line:
            line = proc.stdout.readline()
            if not line:
                proc.kill()
                raise AssertionError(f"`migrator {' '.join(args[:2])}` ended before saying {wait_for!r}: "
                                     f"{proc.stderr.read()}")
        return proc, line


def query_value(line: str, name: str) -> str:
    """The value of `name=` in a URL printed on `line`."""
    found = re.search(rf"[?&]{re.escape(name)}=([^&\s]+)", line)
    assert found, f"no {name}= in {line!r}"
    return found.group(1)

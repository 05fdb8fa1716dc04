"""`migrator new-plugin`: the generated package installs with `pip install -e`, its own test (the
conformance suite) passes unmodified, and `migrator plugins --json` lists it."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

from migrator.cli_new import files


def venv_with_migrator(folder: Path) -> Path:
    """A new venv that sees this interpreter's packages (migrator, pytest, pip, setuptools) through a .pth
    running site.addsitedir, so editable installs here keep working there; `--system-site-packages` alone
    would expose the base interpreter's packages, not this venv's. Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    own = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                         capture_output=True, text=True).stdout.strip()
    lines = "".join(f"import site; site.addsitedir({path!r})\n" for path in site.getsitepackages())
    Path(own, "parent_site.pth").write_text(lines, "utf-8")
    return python


@pytest.mark.parametrize("kind", ["source", "sink"])
def test_generated_package_installs_passes_its_test_and_is_listed(tmp_path: Path, home: Path, kind: str) -> None:
    package = tmp_path / "pkg"
    made = subprocess.run([sys.executable, "-m", "migrator", "new-plugin", f"my_{kind}", "--kind", kind,
                           "--dir", str(package)], capture_output=True, text=True, cwd=home)
    assert made.returncode == 0, made.stderr
    assert {str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()} == set(files(f"my_{kind}", kind))
    python = venv_with_migrator(tmp_path / "venv")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("MIGRATOR_LOAD_PLUGINS", None)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e",
                    str(package)], check=True, env=env, cwd=tmp_path)
    tested = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], capture_output=True,
                            text=True, cwd=package, env=env)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert " passed" in tested.stdout and " failed" not in tested.stdout
    listed = subprocess.run([python, "-m", "migrator", "plugins", "--json"], capture_output=True, text=True,
                            env=env, cwd=home)
    entries = {(e["name"], e["kind"]): e for e in json.loads(listed.stdout)}
    assert entries[(f"my_{kind}", kind)]["plugin"] == f"migrator-my-{kind}"
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--line-length", "120",
                           "--select", "E,F,W,I,B,UP", "--ignore", "B008",
                           str(package)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def test_new_plugin_refuses_a_bad_name_and_a_full_folder(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "migrator", "new-plugin"]
    bad = subprocess.run([*run, "My Plugin", "--kind", "sink"], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "lower-case letters" in bad.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    full = subprocess.run([*run, "pics", "--kind", "sink", "--dir", "full"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert full.returncode == 2 and "is not empty" in full.stderr

"""`migrator new-plugin NAME --kind source|sink [--dir PATH]`: a ready plugin package to start from.

It writes pyproject.toml (entry point group `migrator`), the module (a working folder source or folder
sink that keeps the rules of docs/plugins.md: opaque ids, a record that changes when the file does, no
stale hash, nothing partial left), a test that runs the conformance suite, and a README. The package
installs with `pip install -e DIR` and its test passes unmodified; then replace the folder with a service.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from .cli import cli, expected_errors
from .errors import UsageError

PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A migrator {kind}: {name}"
requires-python = ">=3.11"
dependencies = ["migrator"]

[project.optional-dependencies]
test = ["migrator[test]"]

[project.entry-points.migrator]
{name} = "{module}"

[tool.setuptools]
py-modules = ["{module}"]
'''

SOURCE = '''"""`{name}`: a migrator source (every file of a folder; replace the folder with your service).

Rules it keeps (docs/plugins.md): ids are stable and opaque; the record changes whenever the file does
(size and mtime in it, as this source announces no hash); entries are cheap, load() does the work.
"""

from pathlib import Path

from migrator import Document, Entry, FileInfo, Item, Option, Original, Source, hookimpl
from migrator.errors import UsageError


class {cls}(Source):
    name = "{name}"
    description = "every file of a folder"
    options = [Option("path", Path, None, "the folder to read", required=True)]

    def open(self) -> None:
        if not self.config["path"].is_dir():
            raise UsageError(f"{name}.path {{self.config['path']}} is not a folder: give an existing one")

    def account(self) -> str:
        return str(self.config["path"].resolve())

    def entries(self):
        for path in sorted(p for p in self.config["path"].iterdir() if p.is_file()):
            stat = path.stat()
            yield Entry(self.name, path.name, lambda p=path: self._load(p),
                        updated_at=f"{{stat.st_mtime_ns}}:{{stat.st_size}}", title=path.stem)

    def _load(self, path: Path) -> Item:
        stat = path.stat()
        doc = Document(self.name, path.name, title=path.stem,
                       file=FileInfo(path.name, path.suffix[1:].lower() or None, stat.st_size),
                       source_metadata={{"mtime_ns": stat.st_mtime_ns}})  # a rewritten file changes the record
        return Item(doc, Original.from_file(path, doc.key, size=stat.st_size))


@hookimpl
def register_sources(register):
    register({cls})
'''

SINK = '''"""`{name}`: a migrator sink (a folder of copies with their records; replace the folder with your service).

Rules it keeps (docs/plugins.md): any id works (files are named by a hash of the key); the original is
read to its end (where size and hash are checked) and nothing partial keeps the final name; the hash
stored is the one just read, never an earlier one; the sink says `unchanged` itself when its target
already holds this record and these bytes (after a lost state too). store() never runs in a dry run.
"""

import hashlib
import json
import os
from pathlib import Path

from migrator import Option, Sink, Stored, hookimpl
from migrator.records import dumps


class {cls}(Sink):
    name = "{name}"
    description = "a copy of each original and its record (JSON)"
    options = [Option("path", Path, None, "the folder to write", required=True)]

    def account(self) -> str:
        return str(self.config["path"].resolve())

    def store(self, item, previous):
        doc, root = item.document, self.config["path"]
        root.mkdir(parents=True, exist_ok=True)
        target = root / hashlib.sha256(doc.key.encode("utf-8")).hexdigest()[:32]
        sidecar = target.with_name(target.name + ".json")
        old = json.loads(sidecar.read_text("utf-8")) if sidecar.is_file() else None
        size = sha256 = None
        if item.original is not None:
            part = target.with_name(target.name + ".part")
            try:
                with item.original.open() as stream, open(part, "wb") as out:
                    while chunk := stream.read():
                        out.write(chunk)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            os.replace(part, target)
            size, sha256 = stream.bytes_read, stream.sha256
        new = {{"record": dumps(doc), "sha256": sha256}}
        if new != old:
            sidecar.write_text(json.dumps(new), "utf-8")
        status = "new" if old is None else "unchanged" if new == old else "updated"
        return Stored(ref=target.name, status=status, size=size, sha256=sha256,
                      local_copy=target if sha256 else None)


@hookimpl
def register_sinks(register):
    register({cls})
'''

SOURCE_TEST = '''import pytest

from migrator.testing import SourceConformance, jpeg


class Test{cls}(SourceConformance):
    source = "{name}"  # by its registered name: this also checks the entry point

    @pytest.fixture
    def source_options(self, tmp_path):
        for n in range(3):
            (tmp_path / f"photo {{n}}.jpg").write_bytes(jpeg(f"photo {{n}}"))
        return {{"path": tmp_path}}
'''

SINK_TEST = '''import pytest

from migrator.testing import SinkConformance


class Test{cls}(SinkConformance):
    sink = "{name}"  # by its registered name: this also checks the entry point
    supports_albums = False  # store_container() is the default no-op

    @pytest.fixture
    def sink_options(self, tmp_path):
        return {{"path": tmp_path / "out"}}
'''

README = '''# {dist}

A migrator {kind} named `{name}`, made by `migrator new-plugin`.

    pip install -e ".[test]"
    migrator plugins            # lists {name} ({kind})
    python -m pytest            # the conformance suite (migrator.testing)

Start from `{module}.py`; docs/plugins.md in migrator is the reference.
'''


def files(name: str, kind: str) -> dict[str, str]:
    """The package's files, by path relative to its folder."""
    module = f"migrator_{name}"
    values = {"name": name, "kind": kind, "module": module, "dist": f"migrator-{name.replace('_', '-')}",
              "cls": "".join(part.title() for part in name.split("_")) + kind.title()}
    code, test = (SOURCE, SOURCE_TEST) if kind == "source" else (SINK, SINK_TEST)
    return {"pyproject.toml": PYPROJECT.format(**values), f"{module}.py": code.format(**values),
            f"tests/test_{name}.py": test.format(**values), "README.md": README.format(**values)}


@cli.command(name="new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(["source", "sink"]), required=True, help="What the plugin registers.")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="The package folder to create [default: ./migrator-NAME].")
@expected_errors
def new_plugin(name: str, kind: str, folder: Path | None) -> None:
    """Write a ready plugin package NAME (pyproject, module, conformance test, README)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise UsageError(f"plugin name {name!r}: use lower-case letters, digits and _ (a letter first), e.g. pics")
    folder = folder or Path(f"migrator-{name.replace('_', '-')}")
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty: give another folder with --dir")
    for relative, text in files(name, kind).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, "utf-8")
    click.echo(f"wrote {folder}: pip install -e '{folder}[test]', then python -m pytest {folder}")

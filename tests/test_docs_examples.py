"""Every ```python block of docs/plugins.md, docs/architecture.md and README.md runs here, so no example
in the docs can rot.

Convention: a block whose first line is `# fragment of MODULE` shows the shape of an API, not runnable
code: each class it declares, each method it lists and each call's parameters must exist in MODULE as
printed. Every other block is executed as a module of its own (its imports, classes and functions must
work as printed). The plugin guide's first example is then driven through the conformance harness."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types
from pathlib import Path

import pytest

from migrator.testing import Harness, SinkConformance, SourceConformance, jpeg

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "docs" / "plugins.md", ROOT / "docs" / "architecture.md", ROOT / "README.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text("utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{doc.name}:{line}", match.group(1)))
    return found


def run_block(name: str, code: str) -> types.ModuleType:
    module = types.ModuleType(name.replace(".", "_").replace(":", "_"))
    exec(compile(code, name, "exec"), module.__dict__)
    return module


@pytest.mark.parametrize(("name", "code"), blocks(), ids=[name for name, _ in blocks()])
def test_doc_block_runs(name: str, code: str) -> None:
    if code.startswith("# fragment of "):
        check_fragment(name, code)
    else:
        run_block(name, code)


def check_fragment(name: str, code: str) -> None:
    module = importlib.import_module(code.split()[3].rstrip(":"))
    owner = None
    for line in code.splitlines()[1:]:
        if found := re.match(r"(?:class|@dataclass\s*class)\s+(\w+)", line):
            owner = getattr(module, found[1], None)
            assert owner is not None, f"{name}: {module.__name__} has no class {found[1]}"
        elif (found := re.match(r"\s+def (\w+)", line)) and owner is not None:
            assert hasattr(owner, found[1]), f"{name}: {owner.__name__} has no method {found[1]}"
        elif found := re.match(r"(\w+)\(", line):  # a call as a signature: Option(name, type=str, ...)
            call = ast.parse(code[code.index(line):].split("\n\n")[0]).body[0].value
            shown = [a.id for a in call.args] + [k.arg for k in call.keywords]
            params = list(inspect.signature(getattr(module, found[1])).parameters)
            assert shown == params, f"{name}: {found[1]} takes {params}, the docs show {shown}"


def test_the_guide_plugin_stores_a_same_size_rewrite_with_its_new_hash(tmp_path: Path) -> None:
    """The guide's JpegFolder and CopyFolder: a file rewritten with other bytes of the same size is a
    changed record, and the copy and its hash follow (the stale-hash pattern is gone)."""
    name, code = next((n, c) for n, c in blocks() if "class CopyFolder" in c)
    plugin = run_block(name, code)
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(jpeg("first"))
    harness = Harness(tmp_path / "h")
    try:
        sink = harness.sink(plugin.CopyFolder, {"path": tmp_path / "copies"})
        source = harness.source(plugin.JpegFolder, {"path": photos})
        first = harness.store(sink, harness.entries(source)[0].load())
        rewritten = jpeg("FIRST")
        assert len(rewritten) == (photos / "a.jpg").stat().st_size
        (photos / "a.jpg").write_bytes(rewritten)
        again = harness.store(sink, harness.entries(source)[0].load())
        assert first.ref == again.ref and again.status == "updated"
        assert (tmp_path / "copies" / again.ref).read_bytes() == rewritten
    finally:
        harness.shutdown()


def test_class_names_the_guide_gives_exist() -> None:
    """Every `migrator_x.module.Class` the plugin guide names can be imported as written."""
    text = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    names = set(re.findall(r"`(migrator_\w+(?:\.\w+)*\.[A-Z]\w+)`", text))
    assert len(names) >= 10
    for name in sorted(names):
        module, _, attr = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), f"docs/plugins.md names {name}, which does not exist"


GUIDE = run_block("guide", next(code for _, code in blocks() if "class CopyFolder" in code))


class TestGuideCopyFolder(SinkConformance):
    """The guide's sink passes the conformance suite as printed."""

    sink = GUIDE.CopyFolder
    supports_albums = False

    @pytest.fixture
    def sink_options(self, tmp_path: Path) -> dict:
        return {"path": tmp_path / "copies"}


class TestGuideJpegFolder(SourceConformance):
    """The guide's source passes the conformance suite as printed."""

    source = GUIDE.JpegFolder

    @pytest.fixture
    def source_options(self, tmp_path: Path) -> dict:
        for n in range(3):
            (tmp_path / f"photo{n}.jpg").write_bytes(jpeg(f"photo {n}"))
        return {"path": tmp_path}

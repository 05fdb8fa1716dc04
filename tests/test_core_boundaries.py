"""The shape the architecture promises, checked on the source: the core knows no service, and no plugin
imports another (each plugin's package and tests need only the core and itself)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = {"migrator_ipernity": "ipernity_source", "migrator_local": "local_sink", "migrator_flickr": "flickr_sink",
           "migrator_immich": "immich_sink"}
SERVICE = re.compile(r"ipernity|flickr|flip|flop|immich", re.I)


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (examples may name a service there)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            found.add(id(body[0].value))
    return found


def code_words(path: Path) -> list[tuple[int, str]]:
    """Identifiers, imported names and string constants outside docstrings (comments are not code)."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = docstrings(tree)
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            words.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            words.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            words.append((node.lineno, node.attr))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            words.append((node.lineno, node.name))
        elif isinstance(node, ast.alias):
            words.append((getattr(node, "lineno", 0), node.name))
        elif isinstance(node, ast.ImportFrom) and node.module:
            words.append((node.lineno, node.module))
    return words


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("import_module", "find_spec") \
                and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def test_the_core_names_no_service_outside_docstrings_and_comments():
    found = [f"{path.relative_to(ROOT)}:{line}: {word!r}" for path in sorted((ROOT / "migrator").rglob("*.py"))
             for line, word in code_words(path) if SERVICE.search(word)]
    assert not found, "service knowledge in the core:\n" + "\n".join(found)


@pytest.mark.parametrize("package", sorted(PLUGINS))
def test_a_plugin_and_its_tests_import_no_other_plugin(package):
    folder = ROOT / "plugins" / PLUGINS[package]
    others = set(PLUGINS) - {package}
    found = [f"{path.relative_to(ROOT)} imports {name}" for path in sorted(folder.rglob("*.py"))
             if "build" not in path.parts for name in sorted(imported_modules(path) & others)]
    assert not found, "\n".join(found)

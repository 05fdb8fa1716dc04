"""One answer tree, two wire formats.

Handlers build a small tree of :class:`Node` objects that mirrors Flickr's XML
answer.  The tree is rendered either as Flickr's ``rest`` XML or as Flickr's
JSON, following the published XML-to-JSON rules:

* attributes become keys (their Python type is kept in JSON, so a handler can
  deliberately answer ``"width": 75`` next to ``"width": "150"`` as Flickr does);
* element text becomes ``"_content"``;
* repeated child elements become arrays; names listed in ``Node.arrays`` are
  arrays even when there is a single element or none at all (``[]``); names
  listed in ``Node.lists`` are arrays when present and left out when empty
  (Flickr does both, depending on the method).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr


class Node:
    """An element of an answer: tag, attributes, optional text, children."""

    __slots__ = ("tag", "attrs", "text", "children", "arrays", "lists")

    def __init__(
        self,
        tag: str,
        attrs: dict[str, Any] | None = None,
        children: Iterable[Node] = (),
        text: Any = None,
        arrays: Iterable[str] = (),
        lists: Iterable[str] = (),
    ) -> None:
        self.tag = tag
        self.attrs = {k: v for k, v in (attrs or {}).items() if v is not None}
        self.children = [c for c in children if c is not None]
        self.text = text
        self.arrays = tuple(arrays)
        self.lists = tuple(lists)

    def add(self, child: Node | None) -> Node:
        if child is not None:
            self.children.append(child)
        return self

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Node({self.tag!r}, {self.attrs!r}, text={self.text!r}, children={len(self.children)})"


def _attr_str(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def to_xml_fragment(node: Node, indent: str = "\t") -> str:
    parts: list[str] = []

    def walk(n: Node, depth: int) -> None:
        pad = indent * depth
        attrs = "".join(f" {k}={quoteattr(_attr_str(v))}" for k, v in n.attrs.items())
        if not n.children and n.text is None:
            parts.append(f"{pad}<{n.tag}{attrs} />")
            return
        if not n.children:
            parts.append(f"{pad}<{n.tag}{attrs}>{escape(_attr_str(n.text))}</{n.tag}>")
            return
        head = f"{pad}<{n.tag}{attrs}>"
        if n.text is not None:
            head += escape(_attr_str(n.text))
        parts.append(head)
        for c in n.children:
            walk(c, depth + 1)
        parts.append(f"{pad}</{n.tag}>")

    walk(node, 0)
    return "\n".join(parts)


def to_json_obj(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in node.attrs.items():
        out[k] = v
    if node.text is not None:
        out["_content"] = node.text if isinstance(node.text, str) else _attr_str(node.text)
    groups: dict[str, list[Node]] = {name: [] for name in node.arrays}
    for c in node.children:
        groups.setdefault(c.tag, []).append(c)
    for name, items in groups.items():
        if name in node.arrays or name in node.lists or len(items) > 1:
            out[name] = [to_json_obj(i) for i in items]
        else:
            out[name] = to_json_obj(items[0])
    return out


XML_HEAD = '<?xml version="1.0" encoding="utf-8" ?>\n'


def ok_xml(root: Node) -> str:
    body = "\n".join(to_xml_fragment(c, "\t") for c in root.children)
    body = "\n".join("\t" + line for line in body.splitlines()) if body else ""
    if not body:
        return XML_HEAD + '<rsp stat="ok">\n</rsp>\n'
    return XML_HEAD + '<rsp stat="ok">\n' + body + "\n</rsp>\n"


def fail_xml(code: int, msg: str) -> str:
    return XML_HEAD + f'<rsp stat="fail">\n\t<err code="{int(code)}" msg={quoteattr(msg)} />\n</rsp>\n'


def ok_json_obj(root: Node) -> dict[str, Any]:
    obj = to_json_obj(root)
    obj["stat"] = "ok"
    return obj


def fail_json_obj(code: int, msg: str) -> dict[str, Any]:
    return {"stat": "fail", "code": int(code), "message": msg}


def dump_json(obj: Any, callback: str | None) -> str:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    if callback:
        return f"{callback}({text})"
    return text

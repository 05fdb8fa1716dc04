"""The loss ledger of a `--dry-run`: per sink, what it would not carry, before anything is sent.

Each sink's `losses(record)` says what it would skip or drop of one record (see `migrator.api.Loss`); the
ledger counts the records per (kind, field, reason) and keeps a few examples, for the end of the dry run
and its `--report`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .api import Loss, Sink
from .records import Container, Document

EXAMPLES = 3  # record keys kept per line


@dataclass
class Line:
    kind: str  # "document", "album", "collection", ...
    field: str | None  # None: the whole record would be skipped
    reason: str
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "field": self.field, "reason": self.reason, "count": self.count,
                "examples": list(self.examples)}

    def text(self) -> str:
        noun = self.kind + ("s" if self.count != 1 else "")
        what = f"skips {self.count} {noun}" if self.field is None else \
            f"{self.field} of {self.count} {noun}"
        return f"{what}: {self.reason} (e.g. {', '.join(self.examples)})"


class Ledger:
    def __init__(self, sinks: list[Sink]) -> None:
        self.sinks = sinks
        self._lines: dict[str, dict[tuple[str, str | None, str], Line]] = {s.context.name: {} for s in sinks}
        self._lock = threading.Lock()

    @property
    def needs_records(self) -> bool:
        """Whether any sink says what it loses: only then does a dry run load each document's record."""
        return any(type(sink).losses is not Sink.losses for sink in self.sinks)

    def add(self, record: Document | Container) -> None:
        kind = "document" if isinstance(record, Document) else record.kind
        for sink in self.sinks:
            for loss in sink.losses(record):
                self._note(sink.context.name, kind, loss, record.key)

    def _note(self, sink: str, kind: str, loss: Loss, key: str) -> None:
        with self._lock:
            line = self._lines[sink].setdefault((kind, loss.field, loss.reason), Line(kind, loss.field, loss.reason))
            line.count += 1
            if len(line.examples) < EXAMPLES:
                line.examples.append(key)

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """Per sink, its lines, most records first (an empty list: it carries everything)."""
        return {sink: [line.to_json() for line in self._sorted(lines)] for sink, lines in self._lines.items()}

    @staticmethod
    def _sorted(lines: dict[Any, Line]) -> list[Line]:
        return sorted(lines.values(), key=lambda line: (line.field is not None, -line.count, line.reason))


def render(data: dict[str, list[dict[str, Any]]]) -> str:
    """The ledger as a person reads it at the end of a dry run, from its JSON form (`Report.losses`)."""
    out = ["loss ledger (what each sink would not carry):"]
    for sink, lines in data.items():
        if not lines:
            out.append(f"  {sink}: nothing")
        out.extend(f"  {sink}: {Line(**line).text()}" for line in lines)
    return "\n".join(out)

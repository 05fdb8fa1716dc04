"""The `local` source: replays a backup folder (this sink's, or another tool's in a format an installed plugin
registers) as records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrator import Container, Entry, Option, Source
from migrator.errors import UsageError
from migrator.folders import FolderFormat, Listed
from migrator.paths import folder_problem

from .fsops import Tree


class LocalSource(Source):
    name = "local"
    description = "replays a backup folder: written by the local sink, or in a format an installed plugin reads"
    options = [Option("path", Path, None, "the backup folder to read", required=True)]

    def open(self) -> None:
        path = Path(self.config["path"]).expanduser()
        problem = folder_problem(path)
        if problem:
            raise UsageError(f"local.path {path} {problem}: give the backup folder to read")
        self.tree = Tree(path)
        # most faithful first (the context lists them so): the first to list a document gives its record
        known = self.context.folder_formats
        self.formats: list[FolderFormat] = [cls(self.tree) for cls in known if cls.detect(self.tree)]
        for fmt in self.formats:
            fmt.context = self.context
        if not self.formats:
            names = ", ".join(cls.name for cls in known) or "none installed"
            raise UsageError(f"{path} holds no backup this source knows (folder formats: {names})")
        self.context.log.info("found: %s", ", ".join(f.name for f in self.formats))
        self.listed = self._listing()

    def _listing(self) -> list[Listed]:
        seen: set[tuple[str, str]] = set()
        listed = []
        for fmt in self.formats:
            for item in fmt.documents():
                if (item.source, item.id) not in seen:
                    seen.add((item.source, item.id))
                    listed.append(item)
        return listed

    def account(self) -> str:
        return str(self.tree.root)

    def total(self) -> int:
        return len(self.listed)

    def entries(self) -> Iterator[Entry]:
        for item in self.listed:
            yield Entry(item.source, item.id, item.load, updated_at=None, bookmark=None, size=item.size,
                        title=item.title)

    def containers(self) -> Iterator[Container]:
        seen: set[str] = set()
        for fmt in self.formats:
            for container in fmt.containers():
                if container.key not in seen:
                    seen.add(container.key)
                    yield container

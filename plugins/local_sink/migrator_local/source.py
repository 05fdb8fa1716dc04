"""The `local` source: replays a backup folder (this sink's, flip's or flickrmirrorer's) as records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrator import Container, Entry, Option, Source
from migrator.errors import UsageError

from .formats import Format, Listed
from .formats.flickrmirrorer import MirrorBackup
from .formats.flip import FlipBackup
from .formats.own import OwnBackup
from .fsops import Tree

# Most faithful first: a folder where this sink adopted a flip backup holds both, and ours wins.
FORMATS: tuple[type, ...] = (OwnBackup, FlipBackup, MirrorBackup)


class LocalSource(Source):
    name = "local"
    description = "replays a backup folder: written by the local sink, by flip or by flickrmirrorer"
    options = [Option("path", Path, None, "the backup folder to read (also $MIGRATOR_LOCAL_PATH)", required=True)]

    def open(self) -> None:
        path = Path(self.config["path"]).expanduser()
        if not path.is_dir():
            raise UsageError(f"local.path {path} is not a folder")
        self.tree = Tree(path)
        self.formats: list[Format] = [cls(self.tree) for cls in FORMATS if cls.detect(self.tree)]
        if not self.formats:
            raise UsageError(f"{path} holds no backup this source knows (migrator-local, flip, flickrmirrorer)")
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

"""File system work confined to the backup folder: safe folders, atomic writes, links, digests.

Every folder on the way to a write is checked with lstat: a symlink or a non-folder there is refused,
so a planted `<path>/ipernity -> /elsewhere` can never redirect a write. Files are written to
`<name>.part`, fsynced, then renamed, so a final name never holds a truncated file. The folder is fsynced
after the rename (which makes the rename durable) once per `Writer.grouped()` block: one document's
original and sidecars share one folder sync, done before the block (and `store()`) returns.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TypeVar

from migrator.checkpoints import checkpoint
from migrator.errors import DocumentError
from migrator.folders import Folder, is_file, lstat
from migrator.folders import is_dir as is_dir  # the sink's modules find the folder checks here too
from migrator.folders import list_names as list_names

T = TypeVar("T")
CHUNK = 1 << 20
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
BINARY = getattr(os, "O_BINARY", 0)
# Our .part files: `... [id].ext.part`, `... [id].ext.xmp.part`, `album.json.part`, `index.json.part` (older versions).
OUR_PART = re.compile(r"(\](\.[^./\\]+){0,2}|^[a-z]+\.json)\.part$")
PART = ".part"


class UnsafePath(DocumentError):
    """A write would leave the backup folder or go through a symlink."""


def before_rename(part: Path, final: Path) -> None:
    """Called after a .part file is complete and synced, just before its rename (a test hook)."""
    checkpoint("local:part-written")


def check_name(name: str) -> str:
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise UnsafePath(f"refusing the path component {name!r}")
    return name


class Tree(Folder):
    """The backup folder: every path handed out lies inside it, through real folders only."""

    def folder(self, *parts: str, create: bool = True) -> Path:
        """`root/parts...` as real folders (created when missing); a symlink on the way is refused."""
        current = self.root
        for part in parts:
            current = current / check_name(part)
            st = lstat(current)
            if st is None and create:
                try:
                    os.mkdir(current)
                except FileExistsError:  # another worker made it meanwhile
                    pass
                st = lstat(current)
            if st is None:
                raise FileNotFoundError(current)
            if not stat.S_ISDIR(st.st_mode):
                raise UnsafePath(f"{current} is a symlink or a file, not a folder: refusing to write through it "
                                 "(move it away to let the backup continue)")
        return current

    def resolve(self, ref: str | None) -> Path | None:
        """A stored relative ref as a path inside the tree, or None when it is malformed or outside."""
        if not ref:
            return None
        pure = PurePosixPath(ref)
        if pure.is_absolute() or any(p in ("", ".", "..") or "\\" in p for p in pure.parts):
            return None
        path = self.root.joinpath(*pure.parts)
        return path if self.inside(path.parent) else None


class Writer:
    """Atomic writes; remembers its open .part files so a clean stop can remove them."""

    def __init__(self) -> None:
        self._parts: set[Path] = set()
        self._lock = threading.Lock()
        self._local = threading.local()  # per worker: the folders a grouped() block still has to sync

    def write(self, folder: Path, name: str, fill: Callable[[IO[bytes]], T],
              keep: Callable[[T], bool] | None = None) -> T:
        """Write `folder/name` through a .part file; `keep(result)` False discards it instead."""
        final = folder / check_name(name)
        part = folder / (name + PART)
        remove(part)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY, 0o666)
        self._track(part, True)
        try:
            with os.fdopen(fd, "wb") as fh:
                result = fill(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if keep is not None and not keep(result):
                remove(part)
                return result
            before_rename(part, final)
            os.replace(part, final)
            checkpoint("local:renamed")
        except BaseException as exc:
            remove(part)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = str(final)  # a write() that found the disk full names no file itself
            raise
        finally:
            self._track(part, False)
        self.renamed_in(folder)
        return result

    def renamed_in(self, folder: Path) -> None:
        """A name in `folder` changed: sync it now, or at the end of this thread's grouped() block."""
        pending: dict[Path, None] | None = getattr(self._local, "folders", None)
        if pending is None:
            sync_folder(folder)
        else:
            pending[folder] = None

    @contextlib.contextmanager
    def grouped(self) -> Iterator[None]:
        """Writes in this block sync each folder once, when the block ends (also on an error: what was
        renamed stays durable). The block returns only after those syncs."""
        self._local.folders = {}
        try:
            yield
        finally:
            folders, self._local.folders = self._local.folders, None
            for folder in folders:
                sync_folder(folder)

    def write_bytes(self, folder: Path, name: str, data: bytes) -> None:
        self.write(folder, name, lambda fh: fh.write(data))

    def write_if_changed(self, folder: Path, name: str, data: bytes) -> bool:
        """Rewrite only when the content differs (keeps mtimes of unchanged sidecars)."""
        path = folder / check_name(name)
        if is_file(path) and path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
        self.write_bytes(folder, name, data)
        return True

    def _track(self, part: Path, add: bool) -> None:
        with self._lock:
            (self._parts.add if add else self._parts.discard)(part)

    def abandon(self) -> None:
        """Remove the .part files of writes still in progress (a clean stop)."""
        with self._lock:
            parts, self._parts = list(self._parts), set()
        for part in parts:
            remove(part)


def remove(path: Path) -> None:
    """Unlink a file or symlink (never what it points to); missing is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        raise UnsafePath(f"{path} is a folder where a file was expected")


def remove_entry(path: Path) -> None:
    """Remove one entry of a link folder we own: a link, a copy, or a mirrored folder."""
    st = lstat(path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    elif st is not None:
        os.unlink(path)


def sync_folder(folder: Path) -> None:
    """Persist a rename (POSIX); not possible on every system, so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def clean_parts(root: Path, tops: Iterable[str]) -> list[Path]:
    """Remove .part files a killed run left in our folders (`tops`); other tools' partial downloads
    elsewhere in the folder (gallery-dl, yt-dlp...) are left alone."""
    removed = []
    for top in tops:
        start = root / check_name(top)
        st = lstat(start)
        if st is None or not stat.S_ISDIR(st.st_mode):
            continue  # a symlinked top folder is never walked: it could lead outside
        for folder, _dirs, files in os.walk(start):  # does not follow symlinked sub-folders
            for name in files:
                if OUR_PART.search(name):
                    remove(Path(folder) / name)
                    removed.append(Path(folder) / name)
    return removed


def digests(path: Path) -> tuple[int, str, str]:
    """Size, md5 and sha256 of a regular file, read in chunks."""
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    fd = os.open(path, os.O_RDONLY | NOFOLLOW | BINARY)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            md5.update(chunk)
            sha256.update(chunk)
    return size, md5.hexdigest(), sha256.hexdigest()


def copy_into(writer: Writer, source: Path, folder: Path, name: str) -> None:
    """An atomic copy that keeps the source's mtime (a link fallback)."""
    def fill(out: IO[bytes]) -> None:
        with open(source, "rb") as src:
            shutil.copyfileobj(src, out, CHUNK)

    writer.write(folder, name, fill)
    st = os.stat(source)
    os.utime(folder / name, ns=(st.st_atime_ns, st.st_mtime_ns))


def set_mtime(path: Path, timestamp: float) -> bool:
    """Set a regular file's mtime (keeping atime); False when the date cannot be represented here."""
    st = lstat(path)
    if st is None or not stat.S_ISREG(st.st_mode) or st.st_mtime == timestamp:
        return True
    try:
        os.utime(path, (st.st_atime, timestamp))
    except (OverflowError, OSError, ValueError):  # e.g. dates before 1970 on some systems
        return False
    return True

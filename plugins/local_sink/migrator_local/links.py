"""Album links: relative symlinks, else hard links, else copies (probed once per run).

Some disks (FAT, exFAT, many Windows setups without the symlink privilege) cannot hold symlinks; the
backup must still show albums there, so the same folders are filled with hard links or plain copies.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .fsops import Writer, check_name, copy_into, list_names, lstat, remove, remove_entry

SYMLINK, HARDLINK, COPY = "symlink", "hardlink", "copy"
MAX_DEPTH = 16  # mirrored folders (no symlinks): guards against collection cycles


def probe(folder: Path) -> str:
    """The best link kind `folder`'s file system allows."""
    target, link = folder / "probe-target", folder / "probe-link"
    for path in (target, link):
        remove(path)
    target.write_bytes(b"probe")
    try:
        try:
            os.symlink("probe-target", link)
            if os.readlink(link) == "probe-target":
                return SYMLINK
        except (OSError, NotImplementedError):
            pass
        remove(link)
        try:
            os.link(target, link)
            return HARDLINK
        except (OSError, NotImplementedError):
            return COPY
    finally:
        remove(link)
        remove(target)


class Linker:
    """Places one entry of a link folder, pointing at a file or a folder inside the backup."""

    def __init__(self, mode: str, writer: Writer) -> None:
        self.mode = mode
        self.writer = writer

    def place(self, target: Path, link: Path, depth: int = 0) -> bool:
        """Make `link` show `target`; True when something on disk changed."""
        check_name(link.name)
        target_st = os.stat(target)
        if self.mode == SYMLINK:
            return self._symlink(target, link)
        if stat.S_ISDIR(target_st.st_mode):
            return self._mirror(target, link, depth)
        if self.mode == HARDLINK:
            changed = self._hardlink(target, target_st, link)
            if changed is not None:
                return changed
        return self._copy(target, target_st, link)

    def _symlink(self, target: Path, link: Path) -> bool:
        relative = os.path.relpath(target, link.parent)  # relative: the tree can be moved or restored
        st = lstat(link)
        if st is not None and stat.S_ISLNK(st.st_mode) and os.readlink(link) == relative:
            return False
        if st is not None:
            remove_entry(link)
        os.symlink(relative, link, target_is_directory=os.path.isdir(target))
        return True

    def _hardlink(self, target: Path, target_st: os.stat_result, link: Path) -> bool | None:
        """Whether something changed; None when no hard link is possible here (copy instead)."""
        st = lstat(link)
        if st is not None and (st.st_ino, st.st_dev) == (target_st.st_ino, target_st.st_dev):
            return False
        if st is not None:
            remove_entry(link)
        try:
            os.link(target, link)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise
            return None  # e.g. the link count limit of this file system
        return True

    def _copy(self, target: Path, target_st: os.stat_result, link: Path) -> bool:
        st = lstat(link)
        if (st is not None and stat.S_ISREG(st.st_mode) and st.st_size == target_st.st_size
                and st.st_mtime_ns == target_st.st_mtime_ns):
            return False
        if st is not None:
            remove_entry(link)
        copy_into(self.writer, target, link.parent, link.name)
        return True

    def _mirror(self, target: Path, link: Path, depth: int) -> bool:
        """No symlinks: a folder link becomes a real folder whose entries are linked one by one."""
        if depth >= MAX_DEPTH:
            return False
        st = lstat(link)
        changed = st is None or not stat.S_ISDIR(st.st_mode)
        if st is not None and changed:
            remove_entry(link)
        if changed:
            os.mkdir(link)
        wanted = set(list_names(target))
        for name in list_names(link):
            if name not in wanted:
                remove_entry(link / name)
                changed = True
        for name in sorted(wanted):
            changed |= self.place(target / name, link / name, depth + 1)
        return changed

    def reconcile(self, folder: Path, entries: dict[str, Path], keep: set[str]) -> bool:
        """Make `folder` hold exactly `entries` (name → target) besides `keep`; True when it changed."""
        changed = False
        for name in list_names(folder):
            if name not in entries and name not in keep:
                remove_entry(folder / name)
                changed = True
        for name, target in entries.items():
            changed |= self.place(target, folder / name)
        return changed

"""What is wrong with a path the user gave, in words they can act on ("does not exist", "is a file, not a
folder", "is not writable"), checked before anything is read or written so the error names the real
cause rather than whatever an operation deep inside failed on."""

from __future__ import annotations

import os
from pathlib import Path

NOT_WRITABLE = "is not writable (a read-only disk, or no permission)"


def folder_problem(path: Path, *, write: bool = False) -> str | None:
    """Why an existing folder cannot be read (or written, with `write`) at `path`, or None if it can."""
    if not path.exists():
        return "is a broken link" if path.is_symlink() else "does not exist"
    if not path.is_dir():
        return "is a file, not a folder"
    if not os.access(path, os.R_OK | os.X_OK):
        return "cannot be read (no permission)"
    if write and not os.access(path, os.W_OK):
        return NOT_WRITABLE
    return None


def creatable_folder_problem(path: Path) -> str | None:
    """Why a folder that is created when missing cannot serve at `path` (to write in), or None."""
    if path.exists() or path.is_symlink():
        return folder_problem(path, write=True)
    ancestor = _nearest_existing(path)
    if not ancestor.is_dir():
        return f"cannot be created: {ancestor} is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot be created: {ancestor} {NOT_WRITABLE}"
    return None


def writable_file_problem(path: Path) -> str | None:
    """Why a file that is created when missing, and written with files beside it (a SQLite journal),
    cannot serve at `path`, or None."""
    if path.is_dir():
        return "is a folder, not a file"
    folder = path.parent
    if not folder.exists():
        return creatable_folder_problem(folder)
    problem = folder_problem(folder, write=True)
    if problem:
        return f"cannot be written: its folder {folder} {problem}"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "is read-only (no permission to write it)"
    return None


def _nearest_existing(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path(path.absolute().anchor)

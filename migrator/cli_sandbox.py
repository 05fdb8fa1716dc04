"""`--sandbox` on the command line: the kept sandbox folder, its emulators, and `migrator sandbox ...`.

The folder (see `migrator.sandboxes`) carries a marker file, so that `migrator sandbox reset` only ever
deletes a folder migrator made, and a lock, so that a run, an authorization and a change made with
`migrator sandbox ...` never use it at the same time.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from .errors import EXIT_USAGE, MigratorError, UsageError
from .plugin_commands import PluginCommandsGroup
from .registry import Registered
from .sandboxes import STATE_FILE, default_folder, plugin_folder
from .state import RunLock, StateStore

MARKER = ".migrator-sandbox"


def sandbox_dir_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--sandbox-dir", type=click.Path(file_okay=False, path_type=Path),
                        help=f"Folder where --sandbox keeps the emulated services, the backup and the state between "
                             f"runs [default: {default_folder()}]; implies --sandbox.")(fn)


def chosen_folder(sandbox_dir: Path | None) -> Path:
    return (sandbox_dir or default_folder()).expanduser()


@contextlib.contextmanager
def using(sandbox_dir: Path | None) -> Iterator[Path]:
    """The sandbox folder, made if new, held for this command alone."""
    root = chosen_folder(sandbox_dir)
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise UsageError(f"{root} is not a sandbox folder (it has files, and no {MARKER} marker): give a new "
                         "or empty folder to --sandbox-dir")
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds the emulators' tokens
        (root / MARKER).touch()
    except OSError as exc:
        raise UsageError(f"cannot use {root} as the sandbox folder: {exc.strerror or exc}") from None
    lock = RunLock(root / "sandbox", what="the sandbox folder",
                   hint="or give another folder with --sandbox-dir", shown=root)
    lock.acquire()
    try:
        yield root
    finally:
        lock.release()


def start_sandbox(stack: contextlib.ExitStack, registered: Registered, role: str, root: Path) -> dict[str, Any]:
    """Start the plugin's emulator in its folder of `root` (if it has one); its option values."""
    folder = plugin_folder(root, registered.name, role)
    manager = registered.cls.sandbox(folder)
    if manager is None:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    return dict(stack.enter_context(manager))


def token_folder(root: Path, registered: Registered, role: str) -> Path:
    """Where a sandboxed plugin keeps its tokens: its own folder, never the user's config folder."""
    return plugin_folder(root, registered.name, role)


def where_line(root: Path, state_path: Path, places: list[str], dry_run: bool) -> str:
    """The end of a `--sandbox` run: where to look, and how to go on or start over."""
    if dry_run:
        return (f"sandbox dry run: nothing was written; sandbox folder {root}: the dry run stored nothing there; "
                "`migrator sandbox show` shows it")
    results = f"results in {', '.join(places)} " if places else ""
    return (f"sandbox run: {results}(state in {state_path})\n"
            f"sandbox folder {root} is kept: the same command resumes or updates; "
            "`migrator sandbox show` shows it, `migrator sandbox reset` starts over")


# -- migrator sandbox ... ---------------------------------------------------------------------------
class SandboxGroup(PluginCommandsGroup):
    """Plugins add their sandbox commands with the hook `register_sandbox_commands(group)`. Expected
    failures of any `migrator sandbox` command (a plugin's too) end in one line, not a traceback."""

    hook, argument = "register_sandbox_commands", "group"

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MigratorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:  # e.g. a sandbox folder that cannot be read
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=SandboxGroup)
@click.option("--sandbox-dir", type=click.Path(file_okay=False, path_type=Path),
              help=f"The sandbox folder [default: {default_folder()}].")
@click.pass_context
def sandbox(ctx: click.Context, sandbox_dir: Path | None) -> None:
    """Look at, change or reset what `--sandbox` runs keep between runs.

    \b
    migrator sandbox show                         what is where
    migrator sandbox ipernity edit ID --title T   change the emulated service, then run again
    migrator sandbox reset                        start over
    """
    ctx.obj = chosen_folder(sandbox_dir)


@sandbox.command()
@click.pass_obj
def show(root: Path) -> None:
    """The sandbox folder: each emulated service, the backup and the state."""
    from .cli import registry

    if not (root / MARKER).exists():
        click.echo(f"no sandbox yet at {root}: any `migrator run SOURCE SINK --sandbox` makes one")
        return
    click.echo(f"sandbox folder: {root}")
    reg = registry()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        name, _, role = folder.name.rpartition("-")
        if role not in ("source", "sink"):
            continue  # e.g. a run's spool
        registered = (reg.sources if role == "source" else reg.sinks).get(name)
        lines = registered.cls.sandbox_summary(folder) if registered else ["(plugin not installed)"]
        click.echo(f"  {name} {role}: {folder}")
        for line in lines:
            click.echo(f"    {line}")
    state = root / STATE_FILE
    if state.exists():
        store = StateStore(state)
        try:
            counts = store.status()["counts"]
        finally:
            store.close()
        done = ", ".join(f"{r['sink']} {r['count']} {r['kind']}s {r['status']}" for r in counts) or "nothing yet"
        click.echo(f"  state: {state} ({done})")
    click.echo("change it: `migrator sandbox --help`; start over: `migrator sandbox reset`")


@sandbox.command()
@click.pass_obj
def reset(root: Path) -> None:
    """Delete the sandbox folder: the next `--sandbox` run starts from fresh emulated accounts."""
    if not root.exists():
        click.echo(f"nothing to reset: no sandbox at {root}")
        return
    with using(root):
        shutil.rmtree(root)
    click.echo(f"sandbox reset: {root} deleted; the next --sandbox run starts fresh")


def locked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For a plugin's `migrator sandbox` command: its first argument is the sandbox folder, held by it alone
    while it runs (no run sees a half-made change)."""

    @click.pass_obj
    @functools.wraps(fn)
    def wrapper(root: Path, *args: Any, **kwargs: Any) -> Any:
        with using(root):
            return fn(root, *args, **kwargs)

    return wrapper

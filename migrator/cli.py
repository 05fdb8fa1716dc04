"""The `migrator` command line: run, plugins, auth, status (and whatever plugins add)."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__, cli_sandbox
from . import options as opts
from .api import Sink, Source
from .errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, MigratorError, UsageError
from .interrupts import Interrupts, only_note
from .ledger import render as render_losses
from .plugin_commands import PluginCommandsGroup
from .progress import Progress, plural
from .registry import Registered, Registry, build, load
from .run import Report, Runner, RunOptions, describe
from .sandboxes import STATE_FILE
from .state import RunLock, StateStore, default_path
from .tokens import config_dir

_registries: dict[str | None, Registry] = {}
HELP = {"help_option_names": ["-h", "--help"]}  # -h too, as rclone's users expect; every subcommand inherits it


def registry() -> Registry:
    """Installed plugins, loaded once per MIGRATOR_LOAD_PLUGINS value."""
    key = os.environ.get("MIGRATOR_LOAD_PLUGINS")
    if key not in _registries:
        _registries[key] = load()
        for name, error in _registries[key].failures:
            click.echo(f"warning: plugin {name!r} failed to load and is ignored: {error}", err=True)
    return _registries[key]


class MigratorGroup(PluginCommandsGroup):
    """`migrator`: plugins add commands with the hook `register_commands(cli)`."""

    hook, argument = "register_commands", "cli"


def expected_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Expected failures print one clear line and exit with their code; so do bugs, with code 70.
    Tracebacks only with -v."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MigratorError as exc:
            if kwargs.get("verbose"):
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            click.echo("interrupted", err=True)
            sys.exit(getattr(exc, "exit_code", EXIT_INTERRUPTED))
        except Exception as exc:  # a bug, ours or a plugin's, outside the run loop (which reports its own)
            if kwargs.get("verbose"):
                traceback.print_exc()
            hint = "; rerun with -v for details" if "verbose" in kwargs and not kwargs["verbose"] else ""
            click.echo(f"error: {describe(exc)} (unexpected{hint})", err=True)
            sys.exit(EXIT_BUG)

    return wrapper


def config_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                      help="TOML config file [default: config.toml in migrator's config folder].")(fn)
    fn = click.option("-o", "--option", "overrides", multiple=True, metavar="PLUGIN.KEY=VALUE",
                      help="Set a plugin option (repeatable); beats environment and config file.")(fn)
    return fn


@click.group(cls=MigratorGroup, context_settings=HELP)
@click.version_option(__version__, prog_name="migrator")
def cli() -> None:
    """Move photos, videos, their metadata and albums between services and disks.

    \b
    First try, no account needed:   migrator run ipernity local flickr --sandbox
    Back up ipernity to a folder:   migrator run ipernity local -o local.path=~/Backup
    """


# -- run ------------------------------------------------------------------------------------------
@cli.command()
@click.argument("source")
@click.argument("sinks", nargs=-1, required=True)
@config_options
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"State store file [default: {default_path()}].")
@click.option("--dry-run", is_flag=True, help="List what would be migrated; write and upload nothing.")
@click.option("--limit", type=click.IntRange(min=0), help="Migrate at most N documents this run.")
@click.option("-j", "--jobs", type=click.IntRange(1, 32), default=None,
              help="Documents processed in parallel [default: what the chain's plugins suit, 8 for most].")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a JSON summary of the run to FILE.")
@click.option("--log-file", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the per-document lines, warnings and errors to FILE, timestamped (the terminal then "
                   "shows only what needs your eye).")
@click.option("--sandbox", is_flag=True,
              help="Run against the plugins' built-in service emulators on 127.0.0.1 (no account needed); they, "
                   "the backup and the state are kept between runs, so the same command resumes.")
@cli_sandbox.sandbox_dir_option
@click.option("-q", "--quiet", is_flag=True, help="Only print errors (for cron).")
@click.option("-v", "--verbose", count=True,
              help="-v: a line per document saying what each sink did (paths, ids), retries, libraries' warnings, "
                   "tracebacks on errors; -vv: also debug logs (each API call).")
@expected_errors
def run(source: str, sinks: tuple[str, ...], overrides: tuple[str, ...], config_file: Path | None,
        state_file: Path | None, dry_run: bool, limit: int | None, jobs: int | None, report_file: Path | None,
        log_file: Path | None, sandbox: bool, sandbox_dir: Path | None, quiet: bool, verbose: int) -> None:
    """Migrate every document and album of SOURCE through each SINK in order.

    `local` and `flickr` are both a source and a sink: the position decides which.

    On a terminal: a live line, and only what needs your eye (skips, warnings, errors); in a log or pipe,
    or with -v: a line per document. A summary ends every run.
    """
    if report_file:
        check_writable(report_file, "the report")
    with contextlib.ExitStack() as files:
        log = files.enter_context(_open_log(log_file)) if log_file else None
        progress = Progress(quiet=quiet, verbose=verbose, log=log)
        _logging(verbose, quiet, progress)
        with Interrupts() as interrupts:
            _run(source, sinks, overrides, config_file, state_file,
                 RunOptions(dry_run=dry_run, limit=limit, jobs=jobs), report_file, sandbox or sandbox_dir is not None,
                 progress, interrupts, sandbox_dir)


def check_writable(path: Path, what: str) -> None:
    """Refuse, before a run sends anything, a file it could not write at its end (`what`: "the report")."""
    if path.is_dir():
        raise UsageError(f"cannot write {what} {path}: it is a folder; give a file name")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # missing folders are created at the end
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {what} {path}: {folder} is not a folder")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise UsageError(f"cannot write {what} {path}: permission denied")


@contextlib.contextmanager
def _open_log(path: Path) -> Any:
    """The --log-file, opened for appending before the run starts (so a bad path fails first)."""
    check_writable(path, "the log file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by the context manager
    except OSError as exc:
        raise UsageError(f"cannot write the log file {path}: {exc.strerror}") from None
    with stream:
        yield stream


def _run(source: str, sinks: tuple[str, ...], overrides: tuple[str, ...], config_file: Path | None,
         state_file: Path | None, options: RunOptions, report_file: Path | None, sandbox: bool,
         progress: Progress, interrupts: Interrupts, sandbox_dir: Path | None = None) -> None:
    dry_run = options.dry_run
    reg = registry()
    chosen = [(reg.source(source), "source")] + [(reg.sink(name), "sink") for name in sinks]
    config = _config(reg, config_file)
    cli_values = _cli_values(reg, overrides)
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(cli_sandbox.using(sandbox_dir)) if sandbox else None
        instances = []
        for registered, role in chosen:
            values = dict(cli_values.get(registered.name, {}))
            tokens = None
            if workdir is not None:
                values = {**cli_sandbox.start_sandbox(stack, registered, role, workdir), **values}
                tokens = cli_sandbox.token_folder(workdir, registered, role)
            instances.append(_instantiate(registered, role, values, config, progress, workdir, dry_run,
                                          reg.folder_formats, tokens))
            instances[-1].context.settings_of = functools.partial(_settings_of, reg, cli_values, config, role)
        state_path = state_file or (workdir / STATE_FILE if workdir else default_path())
        store = _open_state(state_path, dry_run)
        stack.callback(store.close)
        if not dry_run:
            lock = RunLock(state_path)
            lock.acquire()
            stack.callback(lock.release)
        src, snks = instances[0], instances[1:]
        run_id = None if dry_run else store.run_started(source, list(sinks))
        runner = Runner(src, snks, store, progress, options, hooks=reg.pm.hook)
        ending = Ending(runner, store, run_id, report_file, interrupts)
        interrupts.on_first, interrupts.on_second = runner.interrupt, ending.now
        try:
            report = runner.run()
        except MigratorError as exc:  # e.g. a plugin's open() refused: the run ends before any document
            ending.claim_or_wait()
            if run_id is not None:
                store.run_finished(run_id, exc.exit_code, {"error": str(exc)})
            raise
        interrupts.on_first = only_note
        ending.claim_or_wait()
        progress.close()
        data = report.to_json()
        if run_id is not None:
            store.run_finished(run_id, report.exit_code, _run_summary(report, data, interrupts))
        if report_file:
            _write_report(report_file, data)
        reg.pm.hook.run_finished(report=data)
    where = None
    if workdir is not None:
        places = [place for i in instances[1:] if (place := i.location())]
        where = cli_sandbox.where_line(workdir, state_path, places, dry_run)
    _conclude(report, progress, report_file, where)


class Ending:
    """The end of a run: either the normal one, or now, on a second stop request (see `Interrupts`).

    The second one does not wait for the documents in flight: the runner saves the bookmark over what
    completed, the run is recorded as interrupted, the summary printed, the sinks drop their partial writes,
    and the process exits at once. Whichever end comes first claims the end; the other one gives way."""

    def __init__(self, runner: Runner, store: StateStore, run_id: int | None, report_file: Path | None,
                 interrupts: Interrupts) -> None:
        self.runner, self.store, self.run_id = runner, store, run_id
        self.report_file, self.interrupts = report_file, interrupts
        self._claimed = threading.Lock()

    def claim_or_wait(self) -> None:
        """For the normal end: go on, or wait for a second signal's `now`, already under way, to exit."""
        if not self._claimed.acquire(blocking=False):
            threading.Event().wait()

    def now(self, code: int) -> None:
        """Runs on its own thread; always ends the process, whatever fails on the way."""
        try:
            if self._claimed.acquire(blocking=False):  # else the normal end has saved everything already
                code = self._report(code)
        finally:
            _flush()
            os._exit(code)

    def _report(self, code: int) -> int:
        progress = self.runner.progress
        progress.error("interrupted again: stopping now; the documents in progress are left undone (a rerun "
                       "redoes them)")
        report = self.runner.stop_now(code)
        data = report.to_json()
        if self.run_id is not None:
            self.store.run_finished(self.run_id, report.exit_code,
                                    _run_summary(report, data, self.interrupts, at_once=True))
        if self.report_file:
            _write_report(self.report_file, data)
        progress.close()
        _tell(report, progress, self.report_file)
        self.runner.abandon()  # last, just before the exit: a worker gets no time to start another write
        return report.exit_code


def _run_summary(report: Report, data: dict[str, Any], interrupts: Interrupts, at_once: bool = False) -> dict:
    """What the `runs` table keeps (`migrator status` shows it): counts, and why the run stopped early."""
    summary: dict[str, Any] = dict(data["counts"])
    summary["per_sink"] = data["per_sink"]
    if report.stopped == "interrupted":
        summary["stopped"] = f"interrupted by {interrupts.name}" + (" twice, stopped at once" if at_once else "")
    elif report.stopped:
        summary["stopped"] = report.stopped
    if report.error:
        summary["error"] = report.error
    return summary


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP) or pipe
            stream.flush()


def _instantiate(registered: Registered, role: str, values: dict[str, Any], config: dict[str, Any],
                 progress: Progress, workdir: Path | None, dry_run: bool,
                 folder_formats: list[type], tokens: Path | None = None) -> Source | Sink:
    """`tokens`: where the plugin keeps its tokens, if not in the config folder (a sandbox's own folder)."""
    return build(registered.cls, role, values, config.get(registered.name, {}), config_dir=tokens or config_dir(),
                 workdir=workdir or Path(tempfile.gettempdir()), dry_run=dry_run, progress=progress,
                 folder_formats=folder_formats)


def _config(reg: Registry, config_file: Path | None) -> dict[str, Any]:
    path = config_file or config_dir() / "config.toml"
    config = opts.load_config(path, explicit=config_file is not None)
    opts.validate_names(config, reg.option_names(), f"config file {path}")
    return config


def _settings_of(reg: Registry, cli_values: dict[str, Any], config: dict[str, Any], role: str,
                 name: str) -> dict[str, Any] | None:
    """An installed plugin's option values as a run of it would resolve them; None if none is called `name`."""
    registered = reg.sources.get(name) or reg.sinks.get(name)
    if registered is None:
        return None
    return opts.resolve(name, registered.cls.options, cli_values.get(name, {}), config.get(name, {}), role=role)


def _cli_values(reg: Registry, overrides: tuple[str, ...]) -> dict[str, dict[str, str]]:
    values = opts.parse_overrides(overrides)
    opts.validate_names(values, reg.option_names(), "-o")
    return values


def _open_state(path: Path, dry_run: bool) -> StateStore:
    if dry_run and not path.exists():
        return StateStore(Path(":memory:"))
    return StateStore(path)


def _write_report(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        click.echo(f"warning: cannot write the report {path}: {exc.strerror}", err=True)


def _conclude(report: Report, progress: Progress, report_file: Path | None, where: str | None) -> None:
    if report.losses is not None:  # a dry run: what each sink would not carry
        _say(render_losses(report.losses), progress)
    _tell(report, progress, report_file, where)
    sys.exit(report.exit_code)


def _tell(report: Report, progress: Progress, report_file: Path | None = None, where: str | None = None) -> None:
    """How the run ended, on stderr, and the summary (on stdout; --log-file gets it too); for a --sandbox
    run, `where` its world is kept."""
    code = report.exit_code
    saved = "nothing was written (a dry run)" if report.dry_run else "progress is saved"
    if report.stopped == "interrupted":
        again = "" if report.dry_run else "; run the same command again to resume"
        _say(f"interrupted: {saved}{again}", progress, err=True)
    elif report.stopped:
        remaining = f"{report.remaining} documents remain" if report.remaining is not None else "documents remain"
        again = "" if report.dry_run else ": running the same command again resumes"
        _say(f"stopped: {report.stopped}\n{remaining}; {saved}{again}", progress, err=True)
    if not progress.quiet or code != EXIT_OK:
        _say(report.summary_line(str(report_file) if report_file else None), progress, err=progress.quiet)
    if where is not None and not progress.quiet:
        _say(where, progress)
    if report.failed and code != EXIT_OK and not report.stopped and not report.error:
        _say(f"{len(report.failed)} failed: see the errors above or `migrator status`; "
             "rerun the same command to retry them", progress, err=True)


def _say(text: str, progress: Progress, err: bool = False) -> None:
    click.echo(text, err=err)
    progress.to_log(text)


class _ProgressHandler(logging.Handler):
    """Log records go where the run's other lines go: above the live line, and into --log-file."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a log line must never break the run
            self.handleError(record)
            return
        if record.levelno >= logging.ERROR:
            self.progress.error(line)
        elif record.levelno >= logging.WARNING:
            self.progress.warn(line)
        else:
            self.progress.detail(line)


class _Format(logging.Formatter):
    """`warning: flickr: …`: the level in lower case, and the logger without the `migrator.` prefix."""

    def format(self, record: logging.LogRecord) -> str:
        name = record.name.removeprefix("migrator.")
        return f"{record.levelname.lower()}: {name}: {record.getMessage()}" + (
            "\n" + self.formatException(record.exc_info) if record.exc_info else "")


def _logging(verbose: int, quiet: bool, progress: Progress | None = None) -> None:
    """Only the loggers of migrator and its plugins (`migrator.*`) print, unless -v: a library's own error
    lines (say, a whole HTML error page) mean nothing to the user next to our message. -v adds libraries'
    warnings and migrator's info logs (retries), -vv migrator's debug logs (each API call), never
    libraries' debug logs: some log keys and tokens there. During a run, through `progress`."""
    logging.basicConfig(level=logging.ERROR if quiet else logging.WARNING, force=True)
    root = logging.getLogger()
    if progress is not None:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(_ProgressHandler(progress))
    for handler in root.handlers:
        handler.setFormatter(_Format())
    level = {0: logging.NOTSET, 1: logging.INFO}.get(int(verbose), logging.DEBUG)
    logging.getLogger("migrator").setLevel(level)
    if not verbose:
        for handler in root.handlers:
            handler.addFilter(logging.Filter("migrator"))


# -- plugins --------------------------------------------------------------------------------------
@cli.command()
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable list: one object per source, sink, folder format (and hooks-only plugin).")
def plugins(as_json: bool) -> None:
    """List installed plugins: each one's hooks, sources, sinks and folder formats, with their options."""
    reg = registry()
    entries = [r.describe() | {"hooks": reg.hooks.get(r.plugin, [])} for r in reg.all()]
    for entry in entries:
        for option in entry["options"]:  # `env` holds only the aliases: every name, in the order they win
            option["environment"] = [opts.env_name(entry["name"], option["name"]), *option["env"]]
    formats = [{"name": cls.name, "kind": "folder format", "plugin": reg.formats[cls.name].plugin,
                "version": reg.formats[cls.name].version, "description": (cls.__doc__ or "").strip().split("\n")[0],
                "options": [], "hooks": reg.hooks.get(reg.formats[cls.name].plugin, [])} for cls in reg.folder_formats]
    listed = {e["plugin"] for e in entries + formats}
    hooks_only = [{"name": dist, "kind": "hooks", "plugin": dist, "version": reg.versions.get(dist, "?"),
                   "description": "", "options": [], "hooks": hooks}
                  for dist, hooks in sorted(reg.hooks.items()) if dist not in listed]
    if as_json:
        click.echo(json.dumps(entries + formats + hooks_only, indent=2))
        return
    if not entries and not formats and not hooks_only:
        click.echo("no plugins installed")
    for dist in sorted({e["plugin"] for e in entries + formats + hooks_only}):
        hooks = reg.hooks.get(dist, [])
        click.echo(f"{dist} {reg.versions.get(dist, '?')}: hooks {', '.join(hooks) or 'none'}")
        for entry in (e for e in entries + formats if e["plugin"] == dist):
            click.echo(f"  {entry['name']} ({entry['kind']})" + (f": {entry['description']}" if entry["description"]
                                                                  else ""))
            for option in entry["options"]:
                click.echo(f"    {entry['name']}.{option['name']} ({_traits(option)}) {option['help']} "
                           f"[env: {', '.join(option['environment'])}]")
    if reg.formats:
        click.echo("backup folder formats: " + ", ".join(f"{cls.name} (from {reg.formats[cls.name].plugin})"
                                                         for cls in reg.folder_formats))
    for name, error in reg.failures:
        click.echo(f"{name}: FAILED TO LOAD: {error}")


def _traits(option: dict[str, Any]) -> str:
    """`str, one of off|keep, default 'keep'`: what `migrator plugins` says of an option before its help."""
    traits = [option["type"]]
    if option["choices"]:
        traits.append("one of " + "|".join(option["choices"]))
    if option["min"] is not None or option["max"] is not None:
        traits.append(opts.bounds(option["min"], option["max"]))
    if option["secret"]:
        traits.append("secret")
    if option["required"]:
        traits.append("required")
    else:
        traits.append("no default" if option["default"] is None else f"default {option['default']!r}")
    return ", ".join(traits)


# -- auth -----------------------------------------------------------------------------------------
@cli.command()
@click.argument("plugin")
@config_options
@click.option("--sandbox", is_flag=True,
              help="Go through the flow against the plugin's service emulator (the one `run --sandbox` uses; for a "
                   "source and sink, the sink's); the token is kept in the sandbox folder, never beside yours.")
@cli_sandbox.sandbox_dir_option
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks on errors.")
@expected_errors
def auth(plugin: str, overrides: tuple[str, ...], config_file: Path | None, sandbox: bool, sandbox_dir: Path | None,
         verbose: bool) -> None:
    """Authorize migrator with PLUGIN's service (interactive: follow the printed steps).

    The token is saved for the service's address and API key, so tokens for other addresses (a sandbox, a
    test server) never replace it."""
    _logging(verbose, False)
    reg = registry()
    sandbox = sandbox or sandbox_dir is not None
    candidates = [r for r in (reg.sources.get(plugin), reg.sinks.get(plugin)) if r is not None]
    usable = [r for r in (candidates[::-1] if sandbox else candidates) if _has_authorize(r.cls)]
    if not usable:
        names = sorted({r.name for r in reg.all() if _has_authorize(r.cls)})
        raise UsageError(f"{plugin!r} has no authorization step (plugins that have one: {', '.join(names) or 'none'})")
    registered = usable[0]
    config = _config(reg, config_file)
    values = dict(_cli_values(reg, overrides).get(plugin, {}))
    with contextlib.ExitStack() as stack:
        tokens = config_dir()
        if sandbox:
            root = stack.enter_context(cli_sandbox.using(sandbox_dir))
            values = {**cli_sandbox.start_sandbox(stack, registered, registered.kind, root), **values}
            tokens = cli_sandbox.token_folder(root, registered, registered.kind)
            click.echo(f"sandbox: the emulator serves the address below while this command waits ({root})")
        instance = build(registered.cls, registered.kind, values, config.get(plugin, {}), config_dir=tokens,
                         workdir=Path.cwd())
        registered.cls.authorize(instance.config, instance.context)


def _has_authorize(cls: type) -> bool:
    """Whether the class (or a base of its own) overrides the default `authorize`, which only refuses."""
    from .api import _Plugin

    return cls.authorize.__func__ is not _Plugin.authorize.__func__


# -- sandbox: look at, change, reset what --sandbox runs keep ---------------------------------------
cli.add_command(cli_sandbox.sandbox)


# -- status ---------------------------------------------------------------------------------------
@cli.command()
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"State store file [default: {default_path()}].")
@click.option("--sandbox", is_flag=True, help="The state of the --sandbox runs (in the sandbox folder).")
@click.option("--sandbox-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The state of the --sandbox runs kept in this sandbox folder (implies --sandbox).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@expected_errors
def status(state_file: Path | None, sandbox: bool, sandbox_dir: Path | None, as_json: bool) -> None:
    """What the state store knows: counts per source and sink, skips and failures and why, recent runs,
    and whether a run is going on now."""
    if (sandbox or sandbox_dir is not None) and state_file is not None:
        raise UsageError("--state and --sandbox name two state files: give one")
    if sandbox_dir is not None:
        from .sandboxes import STATE_FILE

        state_file = sandbox_dir / STATE_FILE
    elif sandbox:
        state_file = sandbox_state_path()
    path = state_file or default_path()
    if not path.exists():
        sandbox = sandbox_state_path()
        if as_json:
            click.echo(json.dumps({"state": str(path), "counts": [], "failed": [], "skipped": [], "runs": [],
                                   "sandbox_state": str(sandbox) if sandbox.exists() else None}))
            return
        click.echo(f"no state yet at {path}: nothing has been migrated with it")
        if state_file is None and sandbox.exists():
            click.echo("the --sandbox runs keep theirs: migrator status --sandbox")
        return
    store = StateStore(path)
    try:
        data = store.status()
    finally:
        store.close()
    running = RunLock(path).holder()
    if as_json:
        click.echo(json.dumps({**data, "running": running is not None, "pid": running or None}, indent=2,
                              ensure_ascii=False))
        return
    click.echo(f"state: {data['state']}")
    for row in data["counts"]:
        click.echo(f"  {row['source']} → {row['sink']} ({row['account']}): {plural(row['count'], row['kind'])} "
                   f"{row['status']}")
    if data["skipped"]:
        click.echo("skipped for good (why):")
        for row in data["skipped"]:
            click.echo(f"  {row['sink']}: {plural(row['count'], row['kind'])}: {row['reason'] or 'no reason given'}")
    if data["failed"]:
        click.echo(f"{len(data['failed'])} not done (rerun to retry):")
        for row in data["failed"]:
            click.echo(f"  {row['source']}:{row['id']} {row['title']!r} → {row['sink']}: {row['reason']} "
                       f"({plural(row['attempts'], 'attempt')})")
    for run_row in data["runs"][:1]:
        details = _run_details(run_row["summary"] or {})
        click.echo(f"last run: {run_row['source']} → {', '.join(run_row['sinks'])}: {_outcome(run_row, running)}"
                   + (f"; {details}" if details else ""))


def _outcome(run_row: dict[str, Any], running: int | None) -> str:
    """How the last run ended, or that it is still going (the state's lock is held) or was killed."""
    if run_row["exit_code"] is not None:
        return f"exit code {run_row['exit_code']}"
    if running is not None:
        return "running now" + (f" (process {running})" if running else "")
    return "did not finish (killed or crashed); run the same command again to resume"


def sandbox_state_path() -> Path:
    """The state file of the `--sandbox` runs (in the kept sandbox folder), which `status` points to when
    the user has no state of their own."""
    from .sandboxes import STATE_FILE, default_folder

    return default_folder() / STATE_FILE


def _run_details(summary: dict[str, Any]) -> str:
    """`interrupted by SIGTERM; 6 listed, 2 new, ...` from what `_run_summary` recorded."""
    notes = [str(summary[key]) for key in ("stopped", "error") if summary.get(key)]
    counts = ", ".join(f"{n} {k}" for k, n in summary.items() if isinstance(n, int) and (n or k == "listed"))
    sinks = " | ".join(f"{sink}: " + ", ".join(f"{n} {status}" for status, n in statuses.items())
                       for sink, statuses in (summary.get("per_sink") or {}).items() if statuses)
    return "; ".join(part for part in (*notes, counts, sinks) if part)


from . import cli_config  # noqa: E402, F401 - registers `migrator config` (it uses the helpers above)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except UsageError as exc:  # pragma: no cover - defensive; commands handle their own
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


__all__ = ["cli", "main", "registry"]

from . import cli_new  # noqa: E402, F401 - registers `migrator new-plugin`

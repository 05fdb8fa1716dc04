"""`migrator config`: where the config file is, and what every plugin option resolves to and why.

Like `rclone config file` / `rclone config show`: `migrator config file` prints the config file's path;
`migrator config` (or `config show`) prints each option's value and its source (`-o`, the environment
variable, the config file, or the default), exactly as `migrator run` would resolve it. Secret values
are never printed, only whether they are set.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import options as opts
from .cli import _cli_values, _config, cli, config_options, expected_errors, registry
from .errors import EXIT_USAGE, UsageError
from .registry import Registered
from .tokens import config_dir

MASK = "***"


class _ShowByDefault(click.Group):
    """`migrator config ARGS` is `migrator config show ARGS` unless ARGS starts with a subcommand (or -h)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_ShowByDefault)
def config() -> None:
    """Where the config file is (`config file`), and every option's value and source (`config show`, the
    default)."""


@config.command("file")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML config file [default: config.toml in migrator's config folder].")
def config_file_command(config_file: Path | None) -> None:
    """Print the config file's path (on stderr: whether it exists)."""
    path = config_file or _default_file()
    click.echo(str(path))
    if not path.exists():
        click.echo("(it does not exist yet: create it to set options, see `migrator config show`)", err=True)


@config.command("show")
@click.argument("names", nargs=-1, metavar="[PLUGIN]...")
@config_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@expected_errors
def show(names: tuple[str, ...], overrides: tuple[str, ...], config_file: Path | None, as_json: bool) -> None:
    """Every plugin option (or only those of PLUGIN...): its value as `migrator run` would use it, and
    where it comes from (-o, environment, config file, default). Secrets show as ***."""
    reg = registry()
    path = config_file or _default_file()
    file_values = _config(reg, config_file)
    cli_values = _cli_values(reg, overrides)
    by_name = _by_name(reg.all())
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise UsageError(f"no plugin named {unknown[0]!r} (installed: {', '.join(sorted(by_name)) or 'none'})")
    rows = [row for name, roles in by_name.items() if not names or name in names
            for row in _rows(name, roles, cli_values.get(name, {}), file_values.get(name, {}))]
    if as_json:
        click.echo(json.dumps({"config_file": str(path), "exists": path.exists(), "options": rows}, indent=2))
    else:
        _print(path, rows)
    if any(row["problem"] for row in rows):
        sys.exit(EXIT_USAGE)


def _default_file() -> Path:
    return config_dir() / "config.toml"


def _by_name(registered: list[Registered]) -> dict[str, list[Registered]]:
    """Sources and sinks grouped by plugin name: one option table per name (see migrator.options)."""
    grouped: dict[str, list[Registered]] = {}
    for entry in registered:
        grouped.setdefault(entry.name, []).append(entry)
    return grouped


def _rows(name: str, roles: list[Registered], overrides: dict[str, Any], file_values: dict[str, Any]) -> list[dict]:
    """One row per option, or one per role where the roles resolve a key differently."""
    rows: list[dict] = []
    keys = list(dict.fromkeys(option.name for entry in roles for option in entry.cls.options))
    for key in keys:
        per_role = [_resolve(name, entry, key, overrides, file_values) for entry in roles
                    if any(option.name == key for option in entry.cls.options)]
        if len(per_role) == len(roles) and all(r == {**per_role[0], "role": r["role"]} for r in per_role):
            rows.append({**per_role[0], "role": None})
        else:
            rows.extend(per_role)
    return rows


def _resolve(name: str, entry: Registered, key: str, overrides: dict[str, Any],
             file_values: dict[str, Any]) -> dict[str, Any]:
    option = next(option for option in entry.cls.options if option.name == key)
    row: dict[str, Any] = {"plugin": name, "role": entry.kind, "key": key, "value": None, "from": None,
                           "secret": option.secret, "required": option.required, "problem": None}
    try:
        value, origin = opts.lookup(name, option, overrides, file_values, os.environ, entry.kind)
    except UsageError as exc:  # a secret never reaches the message: a str option cannot fail to convert
        row["problem"] = "invalid value" if option.secret else str(exc)
        return row
    row["from"] = origin
    if value is not None:
        row["value"] = MASK if option.secret else str(value) if isinstance(value, Path) else value
    return row


def _print(path: Path, rows: list[dict]) -> None:
    click.echo(f"config file: {path}" + ("" if path.exists() else " (does not exist)"))
    cells = [(_label(row), *_value(row)) for row in rows]
    label_width = max((len(label) for label, _, _ in cells), default=0)
    value_width = max((len(value) for _, value, origin in cells if origin), default=0)
    plugin = None
    for row, (label, value, origin) in zip(rows, cells):
        if row["plugin"] != plugin:
            plugin = row["plugin"]
            click.echo(f"[{plugin}]")
        click.echo(f"  {label.ljust(label_width)}  " + (f"{value.ljust(value_width)}  from {origin}" if origin
                                                          else value))


def _label(row: dict) -> str:
    return f"{row['role']}.{row['key']}" if row["role"] else row["key"]


def _value(row: dict) -> tuple[str, str | None]:
    """The value as shown (JSON/TOML-like; a secret as ***) and its origin, if it has one."""
    if row["problem"]:
        return f"error: {row['problem']}", None
    if row["value"] is None:
        return "(not set: required to use this plugin)" if row["required"] else "(not set)", None
    if row["value"] == MASK:
        return MASK, row["from"]
    return json.dumps(row["value"], ensure_ascii=False), row["from"]

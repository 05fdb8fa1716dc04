"""Typed plugin options and where their values come from.

A plugin name has one table of options, whatever the role: the source and the sink registered under one
name declare a shared key identically (`check_tables`), so `[local] path = ...` means one thing. A value
can still be given for one role only, for `migrator run local local` and the like: `-o NAME.ROLE.KEY=VALUE`
or a `[NAME.ROLE]` table in the config file (ROLE is `source` or `sink`).

Precedence, highest first: `-o NAME.ROLE.KEY`, `-o NAME.KEY`, environment `MIGRATOR_<NAME>_<KEY>` (then
any service-specific aliases an option declares, e.g. `IPERNITY_API_KEY`), the config file's
`[NAME.ROLE]`, its `[NAME]`, the default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

ROLES = ("source", "sink")
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Option:
    """One setting a source or sink accepts."""

    name: str
    type: type = str  # str, int, float, bool or Path
    default: Any = None
    help: str = ""
    secret: bool = False
    env: tuple[str, ...] = ()  # extra environment names, lowest after MIGRATOR_<NAME>_<KEY>
    choices: tuple[str, ...] = ()
    required: bool = False  # the core refuses to start without a value
    min: float | None = None  # inclusive bounds of an int or float
    max: float | None = None

    def describe(self) -> dict[str, Any]:
        default = "***" if self.secret and self.default else self.default
        return {"name": self.name, "type": self.type.__name__, "default": _jsonable(default),
                "help": self.help, "secret": self.secret, "env": list(self.env),
                "choices": list(self.choices), "required": self.required, "min": self.min, "max": self.max}

    def convert(self, value: Any, plugin: str, origin: str) -> Any:
        """The value as this option's type, or a UsageError naming plugin, key and origin."""
        where = f"option {plugin}.{self.name} (from {origin})"
        try:
            converted = self._convert(value)
        except (TypeError, ValueError):
            expected = f"one of {', '.join(self.choices)}" if self.choices else f"a valid {self.type.__name__}"
            raise UsageError(f"{where}: {value!r} is not {expected}") from None
        if self.choices and converted not in self.choices:
            raise UsageError(f"{where}: {value!r} is not one of {', '.join(self.choices)}")
        if converted is not None and not self._in_range(converted):
            raise UsageError(f"{where}: {value!r} is out of range ({bounds(self.min, self.max)})")
        return converted

    def _in_range(self, value: Any) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def missing(self, plugin: str) -> UsageError:
        return UsageError(f"option {plugin}.{self.name} is required: give it with -o {plugin}.{self.name}=VALUE, "
                          f"${env_name(plugin, self.name)}, or `{self.name} = ...` under [{plugin}] in the "
                          "config file")

    def _convert(self, value: Any) -> Any:
        if value is None:
            return None
        if self.type is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in TRUE | FALSE:
                return text in TRUE
            raise ValueError(value)
        if self.type is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if self.type is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if self.type is Path:
            if not isinstance(value, (str, os.PathLike)):
                raise TypeError(value)
            return Path(value).expanduser()
        if not isinstance(value, str):
            raise TypeError(value)
        return value


def bounds(low: float | None, high: float | None) -> str:
    """An option's range in words: "1 to 500", "at least 0", "at most 9"."""
    if high is None:
        return f"at least {low:g}"
    if low is None:
        return f"at most {high:g}"
    return f"{low:g} to {high:g}"


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def env_name(plugin: str, key: str) -> str:
    return f"MIGRATOR_{plugin}_{key}".upper().replace("-", "_").replace(".", "_")


def env_names(plugin: str, option: Option) -> list[str]:
    """Every environment variable the option is read from, the one that wins first."""
    return [env_name(plugin, option.name), *option.env]


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, dict[str, Any]]:
    """`-o NAME.KEY=VALUE` and `-o NAME.ROLE.KEY=VALUE` pairs, shaped like the config file:
    {name: {key: value, role: {key: value}}}."""
    result: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        target, sep, value = pair.partition("=")
        parts = target.split(".")
        if not sep or len(parts) not in (2, 3) or not all(parts) or (len(parts) == 3 and parts[1] not in ROLES):
            raise UsageError(f"-o {pair!r}: expected PLUGIN.KEY=VALUE or PLUGIN.ROLE.KEY=VALUE (ROLE: source "
                             "or sink), e.g. -o local.path=~/Backup")
        table = result.setdefault(parts[0], {})
        if len(parts) == 3:
            table = table.setdefault(parts[1], {})
        table[parts[-1]] = value
    return result

def load_config(path: Path, explicit: bool) -> dict[str, dict[str, Any]]:
    """The TOML config as {plugin: {key: value}}; a missing default file is simply empty."""
    if not path.exists():
        if explicit:
            raise UsageError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise UsageError(f"config file {path} cannot be read: {exc.strerror}") from None
    for name, table in data.items():
        if not isinstance(table, dict):
            raise UsageError(f"config file {path}: [{name}] must be a table of options, e.g. [{name}] key = value")
    return data


def validate_names(given: Mapping[str, Mapping[str, Any]], known: Mapping[str, set[str]], origin: str) -> None:
    """Unknown plugin names or keys are usage errors that say what is known."""
    for plugin, values in given.items():
        if plugin not in known:
            names = ", ".join(sorted(known)) or "none installed"
            raise UsageError(f"{origin}: unknown plugin {plugin!r} (known: {names})")
        for key, value in values.items():
            if key in ROLES and isinstance(value, Mapping):
                validate_names({plugin: {k: v for k, v in value.items() if k not in ROLES}}, known, origin)
                continue
            if key not in known[plugin]:
                keys = ", ".join(sorted(known[plugin])) or "none"
                raise UsageError(f"{origin}: plugin {plugin!r} has no option {key!r} (its options: {keys})")


def check_tables(name: str, declared: list[list[Option]]) -> None:
    """The classes registered under one name share one option table: a key declared twice must be the same
    option (else a config value valid for one role would break the other). Raises TypeError."""
    seen: dict[str, Option] = {}
    for options in declared:
        for option in options:
            if option.name in ROLES:
                raise TypeError(f"{name}: an option cannot be called {option.name!r} (it names a role)")
            if _meaning(seen.setdefault(option.name, option)) != _meaning(option):
                raise TypeError(f"{name}: option {option.name!r} is declared twice with different meanings "
                                "(type, default, choices or range): one key must mean one thing")


def _meaning(option: Option) -> tuple:
    """What a value of the option means; the help text may differ per role."""
    return (option.type, option.default, option.secret, option.env, option.choices, option.required,
            option.min, option.max)


def resolve(plugin: str, options: list[Option], overrides: Mapping[str, Any], config: Mapping[str, Any],
            environ: Mapping[str, str] | None = None, role: str | None = None) -> dict[str, Any]:
    """Each option's value by precedence (see the module's docstring); a required option without one is a
    UsageError."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in options:
        value, _ = lookup(plugin, option, overrides, config, environ, role)
        if value is None and option.required:
            raise option.missing(plugin)
        values[option.name] = value
    return values


def lookup(plugin: str, option: Option, overrides: Mapping[str, Any], config: Mapping[str, Any],
           environ: Mapping[str, str], role: str | None = None) -> tuple[Any, str]:
    """The option's value and where it came from: `-o`, `$NAME`, `config file` (with `, ROLE only` for a
    role's own table) or `default`. A value that does not convert is a UsageError naming that origin."""
    for table, origin in _layers(overrides, role, "-o"):
        if option.name in table:
            return option.convert(table[option.name], plugin, origin), origin
    for name in env_names(plugin, option):
        if environ.get(name, "") != "":
            return option.convert(environ[name], plugin, f"${name}"), f"${name}"
    for table, origin in _layers(config, role, "config file"):
        if option.name in table:
            return option.convert(table[option.name], plugin, origin), origin
    return option.default, "default"


def _layers(values: Mapping[str, Any], role: str | None, origin: str) -> list[tuple[Mapping[str, Any], str]]:
    """The role's own table first, then the plugin-wide one."""
    own = values.get(role) if role else None
    layers = [(own, f"{origin}, {role} only")] if isinstance(own, Mapping) else []
    return [*layers, (values, origin)]

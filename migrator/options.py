"""Typed plugin options and where their values come from.

Precedence, highest first: `-o NAME.KEY=VALUE`, environment `MIGRATOR_<NAME>_<KEY>` (then any
service-specific aliases an option declares, e.g. `IPERNITY_API_KEY`), the TOML config file, the default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

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

    def describe(self) -> dict[str, Any]:
        default = "***" if self.secret and self.default else self.default
        return {"name": self.name, "type": self.type.__name__, "default": _jsonable(default),
                "help": self.help, "secret": self.secret, "env": list(self.env),
                "choices": list(self.choices)}

    def convert(self, value: Any, plugin: str, origin: str) -> Any:
        """The value as this option's type, or a UsageError naming plugin, key and origin."""
        where = f"option {plugin}.{self.name} (from {origin})"
        try:
            converted = self._convert(value)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: {value!r} is not a valid {self.type.__name__}") from None
        if self.choices and converted not in self.choices:
            raise UsageError(f"{where}: {value!r} is not one of {', '.join(self.choices)}")
        return converted

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


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def env_name(plugin: str, key: str) -> str:
    return f"MIGRATOR_{plugin}_{key}".upper().replace("-", "_").replace(".", "_")


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, dict[str, str]]:
    """`-o NAME.KEY=VALUE` pairs as {name: {key: value}}."""
    result: dict[str, dict[str, str]] = {}
    for pair in pairs:
        target, sep, value = pair.partition("=")
        plugin, dot, key = target.partition(".")
        if not sep or not dot or not plugin or not key:
            raise UsageError(f"-o {pair!r}: expected PLUGIN.KEY=VALUE, e.g. -o local.path=~/Backup")
        result.setdefault(plugin, {})[key] = value
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
        for key in values:
            if key not in known[plugin]:
                keys = ", ".join(sorted(known[plugin])) or "none"
                raise UsageError(f"{origin}: plugin {plugin!r} has no option {key!r} (its options: {keys})")


def resolve(plugin: str, options: list[Option], overrides: Mapping[str, Any], config: Mapping[str, Any],
            environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Each option's value by precedence: -o, MIGRATOR_ env, alias env, config file, default."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in options:
        if option.name in overrides:
            values[option.name] = option.convert(overrides[option.name], plugin, "-o")
            continue
        for name in (env_name(plugin, option.name), *option.env):
            if environ.get(name, "") != "":
                values[option.name] = option.convert(environ[name], plugin, f"${name}")
                break
        else:
            if option.name in config:
                values[option.name] = option.convert(config[option.name], plugin, "config file")
            else:
                values[option.name] = option.default
    return values


def masked(options: list[Option], values: Mapping[str, Any]) -> dict[str, Any]:
    """Values safe to print: secrets replaced by *** when set."""
    secret = {o.name for o in options if o.secret}
    return {k: ("***" if k in secret and v else _jsonable(v)) for k, v in values.items()}

"""Finding plugins (entry points of group `migrator`) and what they register."""

from __future__ import annotations

import importlib
import os
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

import pluggy

from . import hookspecs
from . import options as opts
from .api import Context, Sink, Source
from .errors import UsageError
from .folders import FolderFormat

GROUP = "migrator"
P = TypeVar("P", Source, Sink)


@dataclass
class Registered:
    cls: type
    kind: str  # "source" | "sink" | "folder format"
    plugin: str  # distribution name
    version: str

    @property
    def name(self) -> str:
        return self.cls.name

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "plugin": self.plugin, "version": self.version,
                "description": getattr(self.cls, "description", ""),
                "options": [o.describe() for o in self.cls.options]}


@dataclass
class Registry:
    pm: pluggy.PluginManager
    sources: dict[str, Registered] = field(default_factory=dict)
    sinks: dict[str, Registered] = field(default_factory=dict)
    formats: dict[str, Registered] = field(default_factory=dict)  # backup folder formats by name
    failures: list[tuple[str, str]] = field(default_factory=list)  # (plugin name, error)
    hooks: dict[str, list[str]] = field(default_factory=dict)  # distribution -> the hooks its module implements
    versions: dict[str, str] = field(default_factory=dict)  # distribution -> version

    def all(self) -> list[Registered]:
        return sorted([*self.sources.values(), *self.sinks.values()], key=lambda r: (r.name, r.kind))

    @property
    def folder_formats(self) -> list[type[FolderFormat]]:
        """The backup folder formats, most faithful (lowest `priority`) first."""
        return sorted((r.cls for r in self.formats.values()), key=lambda cls: (cls.priority, cls.name))

    def source(self, name: str) -> Registered:
        return self._pick(self.sources, name, "source")

    def sink(self, name: str) -> Registered:
        return self._pick(self.sinks, name, "sink")

    def _pick(self, table: dict[str, Registered], name: str, kind: str) -> Registered:
        if name not in table:
            known = ", ".join(sorted(table)) or "none installed"
            raise UsageError(f"no {kind} named {name!r} (installed {kind}s: {known}); see `migrator plugins`")
        return table[name]

    def option_names(self) -> dict[str, set[str]]:
        """Every plugin name's one table of option keys (its source's and its sink's together)."""
        names: dict[str, set[str]] = {}
        for reg in self.all():
            names.setdefault(reg.name, set()).update(o.name for o in reg.cls.options)
        return names

    def _check_option_tables(self) -> None:
        """A name whose source and sink give one key two meanings is refused, both roles: a config file
        valid for one would break the other."""
        for name in sorted(set(self.sources) & set(self.sinks)):
            try:
                opts.check_tables(name, [self.sources[name].cls.options, self.sinks[name].cls.options])
            except TypeError as exc:
                self.failures.append((self.sources[name].plugin, str(exc)))
                del self.sources[name], self.sinks[name]


def _selected() -> set[str] | None:
    raw = os.environ.get("MIGRATOR_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def load(extra: list[Any] | None = None) -> Registry:
    """Load every installed plugin (or those MIGRATOR_LOAD_PLUGINS names) and collect registrations."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    registry = Registry(pm)
    selected = _selected()
    dists: dict[str, tuple[str, str]] = {}
    for ep in entry_points(group=GROUP):
        if selected is not None and ep.name not in selected:
            continue
        dist = ep.dist.name if ep.dist else ep.name
        version = ep.dist.version if ep.dist else "?"
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:  # a broken plugin must not take the CLI down
            registry.failures.append((ep.name, f"{type(exc).__name__}: {exc}"))
            continue
        dists[ep.name] = (dist, version)
        registry.hooks[dist] = sorted(caller.name for caller in pm.get_hookcallers(module) or [])
        registry.versions[dist] = version
    for module in extra or []:
        if isinstance(module, str):
            module = importlib.import_module(module)
        pm.register(module)
    _collect(registry, dists)
    return registry


def _collect(registry: Registry, dists: dict[str, tuple[str, str]]) -> None:
    for impl in registry.pm.hook.register_sources.get_hookimpls():
        _call(registry, impl, "register_sources", "source", registry.sources, Source, dists)
    for impl in registry.pm.hook.register_sinks.get_hookimpls():
        _call(registry, impl, "register_sinks", "sink", registry.sinks, Sink, dists)
    for impl in registry.pm.hook.register_folder_formats.get_hookimpls():
        _call(registry, impl, "register_folder_formats", "folder format", registry.formats, FolderFormat, dists)
    registry._check_option_tables()


def _call(registry: Registry, impl: Any, hook: str, kind: str, table: dict[str, Registered], base: type,
          dists: dict[str, tuple[str, str]]) -> None:
    plugin_name = registry.pm.get_name(impl.plugin) or getattr(impl.plugin, "__name__", "?")
    dist, version = dists.get(plugin_name, (plugin_name, _module_version(impl.plugin)))

    def register(cls: type) -> None:
        if not (isinstance(cls, type) and issubclass(cls, base)) or not getattr(cls, "name", ""):
            raise TypeError(f"{cls!r} is not a migrator {kind} class with a name")
        table[cls.name] = Registered(cls, kind, dist, version)

    try:
        impl.function(register=register)
    except Exception as exc:
        registry.failures.append((plugin_name, f"{hook}: {type(exc).__name__}: {exc}"))


def _module_version(module: Any) -> str:
    return str(getattr(module, "__version__", getattr(sys.modules.get("migrator"), "__version__", "?")))


def build(cls: type[P], role: str, overrides: Mapping[str, Any], config: Mapping[str, Any], *,
          config_dir: Path, workdir: Path, dry_run: bool = False, progress: Any = None,
          environ: Mapping[str, str] | None = None, folder_formats: list[type] | None = None) -> P:
    """A source or sink as every command builds it: options resolved for its role (-o, environment,
    config file, default), and a fresh Context."""
    settings = opts.resolve(cls.name, cls.options, overrides, config, environ=environ, role=role)
    context = Context(cls.name, role, dry_run=dry_run, config_dir=config_dir, workdir=workdir, calls=Counter(),
                      progress=progress, folder_formats=folder_formats)
    return cls(settings, context)

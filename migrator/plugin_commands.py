"""Command groups that plugins add commands to (`migrator` itself, `migrator sandbox`)."""

from __future__ import annotations

from typing import Any

import click


class PluginCommandsGroup(click.Group):
    """A group whose plugins add their commands through the hook named `hook`, called with the group as
    `argument`: the first time a command is looked up or listed, once per registry (MIGRATOR_LOAD_PLUGINS
    picks the registry, and tests change it within one process)."""

    hook = ""
    argument = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._added: set[int] = set()

    def _ensure_plugins(self) -> None:
        from .cli import registry  # the CLI module imports this one

        reg = registry()
        if id(reg) not in self._added:
            self._added.add(id(reg))
            getattr(reg.pm.hook, self.hook)(**{self.argument: self})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure_plugins()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure_plugins()
        return super().list_commands(ctx)

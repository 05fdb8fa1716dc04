"""`migrator sandbox flickr export [DIR]`: Flickr's data export of the emulated account (the one
`migrator run flickr ... --sandbox` mirrors), to try the export route without a Flickr account."""

from __future__ import annotations

from pathlib import Path

import click

from migrator.cli_sandbox import locked
from migrator.errors import UsageError
from migrator.sandboxes import plugin_folder

from . import sandboxed


def register(group: click.Group) -> None:
    @group.group("flickr")
    def flickr() -> None:
        """The emulated Flickr account of `--sandbox` runs."""

    @flickr.command()
    @click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
    @click.option("--missing", type=click.IntRange(min=0), default=0, show_default=True,
                  help="Originals to leave out of the media archives (their JSON stays).")
    @click.option("--orphans", type=click.IntRange(min=0), default=0, show_default=True,
                  help="Media files whose photo_<id>.json is left out.")
    @click.option("--clean", is_flag=True, help="Without Flickr's known defects (empty per-photo album lists, "
                                                "friends and family merged, names not matching the JSON).")
    @click.option("--per-zip", type=click.IntRange(min=1), default=500, show_default=True,
                  help="Originals per media archive (Flickr cuts them at about 500).")
    @click.option("--unpacked", is_flag=True, help="One folder per archive instead of the ZIP files.")
    @locked
    def export(root: Path, folder: Path | None, missing: int, orphans: int, clean: bool, per_zip: int,
               unpacked: bool) -> None:
        """Write the account's data export ("Your Flickr data") as Flickr ships it: a metadata ZIP and media
        ZIPs [default folder: flickr-export in the sandbox folder]."""
        from .sandbox.export import Defects, write_export
        from .source import _seeded_account

        target = (folder or root / "flickr-export").expanduser()
        if target.exists() and any(target.iterdir()):
            raise UsageError(f"{target} is not empty: give a new or empty folder")
        account = sandboxed.open_sandbox(plugin_folder(root, "flickr", "source"), _seeded_account, start=False).account
        defects = Defects() if not clean else Defects.none()
        defects.missing, defects.orphans = missing, orphans
        if missing + orphans > len(account.photos):
            raise UsageError(f"the account has {len(account.photos)} photos: fewer than --missing + --orphans")
        written = write_export(account, target, defects, per_zip=per_zip, unpacked=unpacked)
        click.echo(f"wrote the Flickr data export of {account.user.username} ({len(account.photos)} photos and "
                   f"videos) to {target}: {', '.join(written.archives)}")
        for what, ids in (("originals left out", written.missing), ("JSON files left out", written.orphans)):
            if ids:
                click.echo(f"  {what}: {', '.join(ids)}")
        click.echo(f"back it up: migrator run local local --sandbox -o local.source.path={target}")

"""`migrator sandbox ipernity ...`: change the emulated ipernity account between `--sandbox` runs, so an edit,
a deletion or a new document can be seen arriving in the backup and on Flickr."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from migrator.cli_sandbox import locked
from migrator.errors import UsageError
from migrator.sandboxes import open_saved, plugin_folder

from .source import SANDBOX_FILE

MEDIA = ("photo", "video", "audio", "other")
REFRESH_HINT = "the next run picks it up with `-o ipernity.refresh=true` (a plain run lists only what is new)"


def folder(root: Path) -> Path:
    return plugin_folder(root, "ipernity", "source")


def saved(workdir: Path) -> Any:
    """The emulator saved in `workdir` (a fresh account the first time), not serving."""
    from .sandbox import IpernitySandbox

    return open_saved("ipernity account", workdir,
                      lambda port: IpernitySandbox(seed=0, port=port, save_file=workdir / SANDBOX_FILE), start=False)


def load(root: Path) -> Any:
    """The emulator's saved account (a fresh one the first time), not serving: each change is saved at once."""
    return saved(folder(root))


def summary(workdir: Path) -> list[str]:
    if not (workdir / SANDBOX_FILE).exists():
        return ["not started yet"]
    account = saved(workdir).account
    kinds = ", ".join(f"{sum(d.media == m for d in account.docs)} {m}" for m in MEDIA)
    return [f"account {account.user.username}: {len(account.docs)} documents ({kinds}), {len(account.albums)} albums",
            "change it: `migrator sandbox ipernity --help`"]


def _doc(sb: Any, doc_id: str) -> Any:
    try:
        return sb.account.doc(doc_id)
    except KeyError:
        raise UsageError(f"the sandbox ipernity account has no document {doc_id}: `migrator sandbox ipernity list` "
                         "shows them") from None


def register(group: click.Group) -> None:
    @group.group("ipernity")
    def ipernity() -> None:
        """Change the emulated ipernity account (the source of `--sandbox` runs)."""

    @ipernity.command("list")
    @click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many.")
    @locked
    def list_(root: Path, limit: int) -> None:
        """The newest documents: id, kind, title."""
        sb = load(root)
        docs = sb.account.newest_first()
        for doc in docs[:limit]:
            click.echo(f"{doc.doc_id}  {doc.media:<5}  {doc.title}")
        click.echo(f"({min(limit, len(docs))} of {len(docs)} documents, newest first)")

    @ipernity.command()
    @click.argument("doc_id")
    @click.option("--title", help="New title.")
    @click.option("--description", help="New description (ipernity allows some HTML).")
    @click.option("--tags", help="New keywords, comma-separated (replace the old ones).")
    @click.option("--public/--private", default=None, help="Who may see it.")
    @locked
    def edit(root: Path, doc_id: str, title: str | None, description: str | None, tags: str | None,
             public: bool | None) -> None:
        """Change a document's metadata, as its owner would on ipernity."""
        fields: dict[str, Any] = {name: value for name, value in
                                  (("title", title), ("description", description)) if value is not None}
        if tags is not None:
            fields["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
        if public is not None:
            fields["visibility"] = {"ispublic": int(public), "isfriend": int(public), "isfamily": int(public)}
        if not fields:
            raise UsageError("nothing to change: give --title, --description, --tags or --public/--private")
        sb = load(root)
        _doc(sb, doc_id)
        doc = sb.edit_doc(doc_id, **fields)
        click.echo(f"edited ipernity document {doc.doc_id} {doc.title!r}; {REFRESH_HINT}")

    @ipernity.command()
    @click.argument("doc_id")
    @locked
    def delete(root: Path, doc_id: str) -> None:
        """Delete a document from the account (backups keep their copy; a run reports it deleted)."""
        sb = load(root)
        doc = _doc(sb, doc_id)
        sb.delete_doc(doc_id)
        click.echo(f"deleted ipernity document {doc_id} {doc.title!r}; {REFRESH_HINT}")

    @ipernity.command()
    @click.option("--title", help="Its title [default: New upload <id>].")
    @click.option("--media", type=click.Choice(MEDIA), default="photo", show_default=True)
    @locked
    def add(root: Path, title: str | None, media: str) -> None:
        """Post a new document now (the next run picks it up, no option needed)."""
        sb = load(root)
        fields: dict[str, Any] = {"media": media}
        if title is not None:
            fields["title"] = title
        doc = sb.add_doc(**fields)
        click.echo(f"added ipernity document {doc.doc_id} {doc.title!r} ({doc.media}); the next run picks it up")

"""`--sandbox` for the flickr source and sink: the Flickr emulator, its account kept from run to run."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from migrator.sandboxes import open_saved
from migrator.tokens import load_token, save_token

from .client import token_place

SANDBOX_FILE = "flickr.sandbox"
STATE_DUMP = "flickr-sandbox-state.json"  # the account as JSON, for a person (and tests) to read after a run


def open_sandbox(workdir: Path, new_account: Callable[[], Any], start: bool = True) -> Any:
    """The emulator of `workdir` (its saved account, or `new_account()` the first time), started on the
    port it had last time unless `start` is false."""
    from .sandbox import FlickrSandbox

    def make(port: int) -> FlickrSandbox:
        return FlickrSandbox(seed=0, account=None if (workdir / SANDBOX_FILE).exists() else new_account(),
                             port=port, storage_dir=str(workdir / "files"), save_file=workdir / SANDBOX_FILE)

    return open_saved("Flickr account", workdir, make, start)


@contextlib.contextmanager
def serve(workdir: Path, new_account: Callable[[], Any], perms: str) -> Iterator[dict[str, Any]]:
    """Option values pointing at the emulator; the first time, the sandbox owner's approval is given at once
    and the token saved in `workdir` (see `migrator auth flickr --sandbox` for the whole flow)."""
    sb = open_sandbox(workdir, new_account)
    try:
        values = {"api_key": sb.api_key, "api_secret": sb.api_secret, "rest_url": sb.rest_url,
                  "upload_url": sb.upload_url, "oauth_url": sb.oauth_url, "rate": 0.0}
        place = token_place(values)
        saved = load_token("flickr", workdir, **place) or {}
        live = sb.oauth.access_tokens.get(str(saved.get("oauth_token", "")))
        if live is None or live.revoked:
            token, secret = sb.grant_token(perms)
            user = sb.account.user
            save_token("flickr", {"oauth_token": token, "oauth_token_secret": secret, "perms": perms,
                                  "username": user.username, "user_nsid": user.nsid, "fullname": user.realname},
                       workdir, endpoint=place["endpoint"], key=place["key"])
        yield values
        with contextlib.suppress(OSError):
            (workdir / STATE_DUMP).write_text(json.dumps(sb.state(), indent=2, ensure_ascii=False, default=str),
                                              "utf-8")
    finally:
        sb.stop()


def summary(workdir: Path, new_account: Callable[[], Any]) -> list[str]:
    """What `migrator sandbox show` says of this emulator's account."""
    if not (workdir / SANDBOX_FILE).exists():
        return ["not started yet"]
    account = open_sandbox(workdir, new_account, start=False).account
    counts = account.counts()
    return [f"account {account.user.username} ({account.user.nsid}): {counts['items']} photos and videos, "
            f"{len(account.photosets)} sets, {len(account.collections)} collections"]

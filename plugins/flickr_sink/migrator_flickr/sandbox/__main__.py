"""``python -m migrator_flickr.sandbox``: run the Flickr sandbox standalone.

Prints the endpoint URLs, the API key/secret and a ready OAuth token pair
(write permission), then serves until Ctrl-C.  Options::

    --host H          interface to bind (default 127.0.0.1)
    --port N          port (default 0 = random)
    --seed N          seed for ids, keys and fault injection (default 0)
    --seeded          start with a seeded account (photos, videos, sets, collections, ...)
    --photos N        number of items in the seeded account (default 60)
    --perms P         permission of the printed token: read, write or delete (default write)
    --knob NAME=JSON  set a knob, e.g. --knob search_lag=5 --knob free_account=true (repeatable)
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from . import FlickrSandbox, build_seeded_account
from .knobs import KNOB_DEFAULTS


def _knob(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or name not in KNOB_DEFAULTS:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME one of: {', '.join(sorted(KNOB_DEFAULTS))}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m migrator_flickr.sandbox", description="Run the Flickr sandbox.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeded", action="store_true")
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--perms", choices=("read", "write", "delete"), default="write")
    ap.add_argument("--knob", type=_knob, action="append", default=[])
    args = ap.parse_args(argv)
    account = build_seeded_account(args.seed, n_photos=args.photos) if args.seeded else None
    sb = FlickrSandbox(seed=args.seed, account=account, host=args.host, port=args.port, **dict(args.knob))
    sb.start()
    token, secret = sb.grant_token(args.perms)
    u = sb.account.user
    lines = [
        f"Flickr sandbox running at {sb.base_url}/ (user {u.username}, {u.nsid}, "
        f"{len(sb.account.photos)} items)",
        f"REST_URL           {sb.rest_url}",
        f"UPLOAD_URL         {sb.upload_url}",
        f"REPLACE_URL        {sb.replace_url}",
        f"REQUEST_TOKEN_URL  {sb.request_token_url}",
        f"AUTHORIZE_URL      {sb.authorize_url}",
        f"ACCESS_TOKEN_URL   {sb.access_token_url}",
        f"api_key            {sb.api_key}",
        f"api_secret         {sb.api_secret}",
        f"oauth_token        {token}",
        f"oauth_token_secret {secret}",
        f"token perms        {args.perms}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

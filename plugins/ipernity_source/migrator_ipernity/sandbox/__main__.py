"""``python -m migrator_ipernity.sandbox``: run the ipernity sandbox in the foreground."""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from .server import IpernitySandbox


def stable_token(seed: int) -> str:
    digest = hashlib.md5(f"ipernity-sandbox-token:{seed}".encode()).hexdigest()
    return f"{int(digest[:8], 16) % 900000000 + 100000000}-{digest[8:24]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m migrator_ipernity.sandbox",
                                     description="Run a local emulation of the ipernity API.")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sandbox account")
    parser.add_argument("--perm", default="read", choices=("read", "write", "delete"),
                        help="perm_doc level of the printed token")
    args = parser.parse_args(argv)

    sb = IpernitySandbox(seed=args.seed, host=args.host, port=args.port).start()
    token = sb.auth_store.issue(sb.api_key, sb.account.user.user_id, {"doc": args.perm},
                                value=stable_token(args.seed)).token
    acc = sb.account
    print(f"api_url    {sb.api_url}")
    print(f"auth_url   {sb.auth_url}")
    print(f"api_key    {sb.api_key}")
    print(f"api_secret {sb.api_secret}")
    print(f"token      {token}")
    print(f"user       {acc.user.user_id} ({acc.user.username}), {len(acc.docs)} documents, "
          f"{len(acc.albums)} albums")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

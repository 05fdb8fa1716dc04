"""No secret ever leaves the token files: after `migrator auth` for both services and a verbose
`migrator run ipernity local flickr --report`, not one API key, API secret, token, token secret or request
signature (every `api_sig` and `oauth_signature` the sandboxes received) appears in the output, the report,
any file of the backup, the state store or the config folder beside the tokens. Token files are 0600."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

pytest.importorskip("migrator_local")
pytest.importorskip("migrator_flickr")

from migrator_flickr.sandbox import FlickrSandbox  # noqa: E402
from migrator_flickr.sandbox.model import Account as FlickrAccount  # noqa: E402
from migrator_ipernity.sandbox import IpernitySandbox, build_account  # noqa: E402

from migrator.tokens import token_path  # noqa: E402

ENV = {"MIGRATOR_LOAD_PLUGINS": "ipernity,local,flickr"}
YEAR_2000 = 946684800
TIMEOUT = 60


def interactive_auth(cli, args: list[str], link: str, answer) -> subprocess.CompletedProcess:
    """`migrator auth ...`: read the printed link, act as the user in the browser (`answer(link_line)`
    returns what to type), then finish."""
    proc = subprocess.Popen([sys.executable, "-m", "migrator", "auth", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env(ENV), cwd=cli.home)
    watchdog = threading.Timer(TIMEOUT, proc.kill)  # a silent command must not block readline forever
    watchdog.start()
    try:
        line = ""
        while link not in line:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
        out, err = proc.communicate(answer(line) + "\n", timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, line + out, err)


def authorize_ipernity(cli, ip: IpernitySandbox) -> None:
    def approve(line: str) -> str:
        ip.approve(re.search(r"frob=([^&\s]+)", line).group(1))
        return ""

    result = interactive_auth(cli, ["ipernity", *ip.endpoint_options()], "frob=", approve)
    assert result.returncode == 0, result.stderr


def authorize_flickr(cli, fl: FlickrSandbox) -> None:
    def verifier(line: str) -> str:
        return fl.authorize(re.search(r"oauth_token=([^&\s]+)", line).group(1), perms="write")

    result = interactive_auth(cli, ["flickr", *fl.endpoint_options()], "oauth_token=", verifier)
    assert result.returncode == 0, result.stderr


def forms(secret: str) -> set[bytes]:
    """A secret as it could appear: raw, URL-encoded (signatures are base64 with + / =)."""
    return {s.encode() for s in (secret, quote(secret, safe=""), quote_plus(secret)) if s}


def leaks(secrets: dict[str, str], blobs: Iterator[tuple[str, bytes]]) -> list[str]:
    """'<secret name> in <where>' for every secret found in any blob."""
    found = []
    for where, data in blobs:
        for name, secret in secrets.items():
            if any(form in data for form in forms(secret)):
                found.append(f"{name} in {where}")
    return found


def files_under(root: Path, skip: set[Path] = frozenset()) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path not in skip:
            yield str(path), path.read_bytes()


def state_dump(path: Path) -> Iterator[tuple[str, bytes]]:
    """Every table of the state store, as SQL text."""
    with sqlite3.connect(path) as db:
        yield "state store", "\n".join(db.iterdump()).encode("utf-8", "replace")


def test_no_secret_in_output_report_backup_state_or_config(cli, home):
    config = Path(os.environ["MIGRATOR_CONFIG_DIR"])
    with IpernitySandbox(seed=0, account=build_account(0, n_docs=10)) as ip, \
            FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", created_at=YEAR_2000)) as fl:
        keys = {"IPERNITY_API_KEY": ip.api_key, "IPERNITY_API_SECRET": ip.api_secret,
                "FLICKR_API_KEY": fl.api_key, "FLICKR_API_SECRET": fl.api_secret}
        os.environ.update(keys)  # the `home` fixture restores the environment afterwards
        authorize_ipernity(cli, ip)
        authorize_flickr(cli, fl)
        ip.signatures_seen.clear()  # the authorization links are shown on purpose; the run's must not be
        fl.oauth.signatures_seen.clear()
        report, backup, state = home / "report.json", home / "backup", home / "state.sqlite3"
        result = cli("run", "ipernity", "local", "flickr", "-v", *ip.endpoint_options(), "-o", f"local.path={backup}",
                     *fl.endpoint_options(), "-o", "flickr.rate=0", "--state", str(state), "--report", str(report),
                     env=ENV, timeout=TIMEOUT)
        assert result.returncode == 0, result.stderr
        ipernity_sigs, flickr_sigs = set(ip.signatures_seen), fl.signatures
        token_files = {token_path("ipernity", config, endpoint=ip.api_url, key=ip.api_key),
                       token_path("flickr", config, endpoint=fl.rest_url, key=fl.api_key)}
    tokens = {path.name.split("-")[0]: json.loads(path.read_text("utf-8")) for path in token_files}
    secrets = {**keys, "ipernity auth token": tokens["ipernity"]["token"],
               "flickr oauth token": tokens["flickr"]["oauth_token"],
               "flickr oauth token secret": tokens["flickr"]["oauth_token_secret"]}
    secrets.update({f"ipernity api_sig {s}": s for s in ipernity_sigs})
    secrets.update({f"flickr oauth_signature {s}": s for s in flickr_sigs})
    assert ipernity_sigs and flickr_sigs, "the sandboxes saw the run's signatures"

    blobs = [("stdout", result.stdout.encode()), ("stderr", result.stderr.encode()), ("report", report.read_bytes()),
             *files_under(backup), *state_dump(state), *files_under(config, skip=token_files)]
    assert leaks(secrets, iter(blobs)) == []
    assert len(blobs) > 30  # the scan really read the backup
    for path in token_files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert sorted(p.name for p in (config / "tokens").iterdir()) == sorted(p.name for p in token_files)

"""One retry layer for ipernity: exact request counts against the sandbox's counters.

Runs through the CLI use a wrapper that swaps the core's DEFAULT_POLICY for one without waits, so the
counts are the policy's and the tests do not sleep through its backoff."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from migrator_ipernity.client import IpernityClient
from migrator_ipernity.sandbox import server as sandbox_server

from migrator.errors import ServiceStopped
from migrator.http import RetryPolicy
from migrator.testing.cli import patched_cli

ATTEMPTS = 6  # RetryPolicy().attempts: the bound on requests for one call, all layers together
FAST = RetryPolicy(attempts=ATTEMPTS, first_delay=0.0)

WRAPPER = patched_cli("""
import sys
import migrator.http as core_http
core_http.DEFAULT_POLICY = core_http.RetryPolicy(attempts=int(sys.argv.pop(1)), first_delay=0.0)
""")


def run(cli, sb, home: Path, *extra: str, attempts: int = ATTEMPTS) -> tuple:
    """`migrator run ipernity folder` with a no-wait policy of `attempts`; the result, the JSON report
    and the time it took."""
    script = home / "fast_policy.py"
    script.write_text(WRAPPER)
    report = home / "report.json"
    args = [str(attempts), "run", "ipernity", "folder", *sb.cli_options(), "-o", f"folder.path={home / 'out'}",
            "--state", str(home / "state.sqlite3"), "--report", str(report), *extra]
    started = time.monotonic()
    result = cli(*args, script=script, env={"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity"})
    elapsed = time.monotonic() - started
    return result, (json.loads(report.read_text()) if report.exists() else {}), elapsed


def client(sb, **kwargs) -> IpernityClient:
    return IpernityClient(sb.api_url, sb.api_key, sb.api_secret, sb.grant_token(perm_doc="read"),
                          policy=FAST, **kwargs)


def test_a_method_that_keeps_failing_costs_exactly_the_policy_attempts(fresh_sandbox):
    """Every answer a 5xx or an ipernity 500/501/503 (fault_rate 1): 6 requests, then a stop (was 28)."""
    fresh_sandbox.knobs.fault_rate = 1.0
    with pytest.raises(ServiceStopped):
        client(fresh_sandbox).call("doc.getList", user_id="1")
    assert fresh_sandbox.calls["doc.getList"] == ATTEMPTS


def test_a_run_against_a_failing_api_stops_after_the_policy_attempts(cli, fresh_sandbox, home):
    fresh_sandbox.knobs.fault_rate = 1.0
    result, _, _ = run(cli, fresh_sandbox, home)
    assert result.returncode == 4, result.stderr  # stopped: progress saved, rerun later
    assert "auth.checkToken" in result.stderr
    assert fresh_sandbox.calls["auth.checkToken"] == ATTEMPTS
    assert sum(fresh_sandbox.calls.values()) == ATTEMPTS


def test_a_download_that_keeps_failing_is_bounded_across_all_layers(cli, fresh_sandbox, home, monkeypatch):
    """Persistent 503 from the file host: 6 GETs in all for the document (was 18: urllib3's 3 under
    the run loop's 6), then the document fails alone and the run goes on."""
    gets: list[str] = []

    def busy(handler, path: str, head: bool) -> None:
        gets.append(path)
        handler._send(503, b"busy", "text/plain", head=head)
    monkeypatch.setattr(sandbox_server._Handler, "_file", busy)
    result, report, _ = run(cli, fresh_sandbox, home, "--limit", "1")
    assert result.returncode == 1, result.stderr
    assert len(gets) == ATTEMPTS and len(set(gets)) == 1
    assert "HTTP 503" in result.stderr and report["counts"]["failed"] == 1


def test_a_download_cut_short_every_time_is_bounded(cli, fresh_sandbox, home):
    """Every original cut mid-body: the run loop retries the document (6 tries), but the download's
    budget, shared by those tries, ends it after the policy's attempts (3 here; was 6)."""
    fresh_sandbox.knobs.truncate_rate = 1.0
    fresh_sandbox.knobs.truncate_style = "close"
    result, report, _ = run(cli, fresh_sandbox, home, "--limit", "1", attempts=3)
    assert result.returncode == 1, result.stderr
    assert sum(fresh_sandbox.downloads.values()) == 3
    assert "download interrupted" in result.stderr


def test_a_silent_server_times_out_on_every_request(fresh_sandbox):
    fresh_sandbox.knobs.latency = 3.0
    started = time.monotonic()
    with pytest.raises(ServiceStopped) as info:
        client(fresh_sandbox, timeout=0.3).call("auth.checkToken")
    assert time.monotonic() - started < ATTEMPTS * 0.3 + 2.5  # the timeouts, no hang
    assert "Timeout" in str(info.value) and fresh_sandbox.calls["auth.checkToken"] == ATTEMPTS


def test_a_hanging_server_ends_the_run_within_the_bound(cli, fresh_sandbox, home):
    fresh_sandbox.knobs.latency = 5.0
    result, _, elapsed = run(cli, fresh_sandbox, home, "-o", "ipernity.timeout=1")
    assert result.returncode == 4, result.stderr
    assert "did not answer auth.checkToken" in result.stderr and "Timeout" in result.stderr
    assert fresh_sandbox.calls["auth.checkToken"] == ATTEMPTS
    assert elapsed < ATTEMPTS * 1.0 + 20  # six timeouts and the interpreter's start, never latency × tries


@pytest.mark.parametrize("value", ["0", "-1"])
def test_timeout_must_be_positive(cli, fresh_sandbox, home, value):
    result, _, _ = run(cli, fresh_sandbox, home, "-o", f"ipernity.timeout={value}")
    assert result.returncode == 2 and "ipernity.timeout" in result.stderr
    assert sum(fresh_sandbox.calls.values()) == 0

"""Measuring one CLI run: a fresh folder, a clean environment, wall time, CPU time and peak RSS.

The CLI runs as ``python -m migrator run ...`` under a tiny wrapper process whose only child is the
CLI, so ``RUSAGE_CHILDREN`` of the wrapper is the CLI's own peak RSS and CPU time.  (A direct child
of the harness would not do: on Linux a child's maxrss starts at its parent's RSS when forked.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RUN_TIMEOUT = 3600.0

WRAPPER = """
import json, resource, subprocess, sys, time
out, err, timeout, argv = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
t0 = time.monotonic()
with open(out, "wb") as o, open(err, "wb") as e:
    try:
        rc = subprocess.run(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = -999
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall": wall, "maxrss_kb": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime}))
"""


@dataclass
class Run:
    """One measured ``migrator`` invocation."""

    argv: list[str]
    rc: int
    wall: float
    maxrss_kb: int
    cpu: float  # user + system CPU seconds of the CLI process
    report: dict[str, Any]
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rss_mb(self) -> float:
        return self.maxrss_kb / 1024

    def calls(self, service: str) -> dict[str, int]:
        """API calls of `service` by method, as the run report counts them."""
        return dict((self.report.get("api_calls") or {}).get(service) or {})

    def jobs(self, default: int = 1) -> int:
        """The concurrency the run used: the report's `jobs` when it says, else `default`."""
        for where in (self.report, self.report.get("settings") or {}, self.report.get("options") or {}):
            value = where.get("jobs") if isinstance(where, dict) else None
            if isinstance(value, int) and value > 0:
                return value
        return default

    def raw(self) -> dict[str, Any]:
        """What the JSON keeps of a run: everything but the full report."""
        return {"argv": self.argv, "rc": self.rc, "wall": self.wall, "maxrss_kb": self.maxrss_kb, "cpu": self.cpu,
                "jobs": self.jobs(), "counts": self.report.get("counts"), "bytes": self.report.get("bytes"),
                "api_calls": self.report.get("api_calls"), "extra": self.extra}


def clean_env(home: Path) -> dict[str, str]:
    """The caller's environment minus migrator/service variables, with config and state in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATOR_", "IPERNITY_", "FLICKR_"))}
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env["HOME"] = str(home / "home")
    env["MIGRATOR_CONFIG_DIR"] = str(home / "config")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the runs leave the tree alone; `compile_sources` made the caches
    return env


def compile_sources() -> None:
    """Byte-compile migrator and the plugins once, as pip does when it installs a wheel: without it an
    editable install under PYTHONDONTWRITEBYTECODE compiles every module on every start, which is not
    what a user's start-up costs."""
    import compileall
    import importlib

    for package in ("migrator", "migrator_ipernity", "migrator_local", "migrator_flickr"):
        folder = Path(importlib.import_module(package).__file__ or "").parent
        compileall.compile_dir(folder, quiet=1)


def measure(home: Path, name: str, argv: list[str]) -> tuple[dict[str, Any], str]:
    """Run `argv` under the wrapper: its rc, wall time, peak RSS and CPU time, and its stderr tail."""
    out, err = home / f"{name}.stdout", home / f"{name}.stderr"
    wrapped = [sys.executable, "-c", WRAPPER, str(out), str(err), str(RUN_TIMEOUT), *argv]
    done = subprocess.run(wrapped, capture_output=True, text=True, cwd=home, env=clean_env(home), check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), err.read_text("utf-8", "replace")[-2000:]


def migrator(home: Path, name: str, *args: str) -> Run:
    """`python -m migrator run ARGS --report ...`, measured; the report is read back."""
    report = home / f"{name}.report.json"
    m, stderr = measure(home, name, [sys.executable, "-m", "migrator", "run", *args, "--report", str(report)])
    data = json.loads(report.read_text("utf-8")) if report.exists() else {}
    return Run(argv=["run", *args], rc=m["rc"], wall=m["wall"], maxrss_kb=m["maxrss_kb"], cpu=m["cpu"],
               report=data, stderr=stderr)


def startup_seconds(home: Path) -> float:
    """Wall time of `python -m migrator --help`: interpreter start plus the CLI's imports."""
    m, _ = measure(home, "startup", [sys.executable, "-m", "migrator", "--help"])
    return m["wall"]


def meter_check(size: int) -> float:
    """MiB the meter adds for a child that holds `size` bytes: proof it would see a whole file in memory."""
    with fresh_dir("meter") as home:
        idle, _ = measure(home, "idle", [sys.executable, "-c", "pass"])
        full, _ = measure(home, "full", [sys.executable, "-c", f"data = b\"x\" * {size}"])
    return (full["maxrss_kb"] - idle["maxrss_kb"]) / 1024


@contextmanager
def fresh_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"migrator-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def check(run: Run, what: str, count: str | None = None, wanted: int | None = None) -> Run:
    """Never time a broken run: exit code 0, no failure, and `count` as a correct run says."""
    counts = run.report.get("counts") or {}
    if run.rc != 0:
        raise SystemExit(f"{what}: exit code {run.rc}\n{run.stderr}")
    if counts.get("failed") or (count is not None and counts.get(count) != wanted):
        raise SystemExit(f"{what}: expected {count}={wanted} and no failure, report says {counts}\n{run.stderr}")
    return run


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# figures


def spread(values: Iterable[float]) -> dict[str, Any]:
    """Median, min, max and every value."""
    vals = list(values)
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "values": vals}


def machine() -> dict[str, Any]:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    git = ["git", "-C", str(BENCH.parent)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout.strip())
    return {"cpu_count": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "git_commit": commit,
            "git_dirty": dirty, "load_avg_at_start": list(os.getloadavg())}

"""migrator benchmark: speed, API economy and streaming memory, measured through the real CLI.

Usage (from the repository root, with the project's venv)::

    /work/venv/bin/python bench/run.py            # 5 runs per scenario, N=300 documents (~3 min)
    /work/venv/bin/python bench/run.py --quick    # 3 runs per scenario, N=150 (~1 min)

Options: ``--runs R`` and ``--docs N`` override the defaults; ``--out FILE`` (default
``bench/results/latest.json``).  The script starts the ipernity and Flickr sandboxes itself, in
its own process, on 127.0.0.1; every measured run is ``python -m migrator run ...`` in a
subprocess with a fresh temporary folder, state store and config home.  It prints a Markdown
table and writes every raw run plus the machine description to the JSON file.

Scenarios
---------
1. **backup**: ``migrator run ipernity local`` of an N-document account, ``--jobs 1`` and
   ``--jobs 4``.  The ipernity sandbox answers each API call after 20 ms and sends files at
   5 MB/s per connection (like a real server far away: each connection is limited, more
   connections get more).  Originals are the sandbox's 1-30 KB ones made 8x bigger (8-240 KB)
   so that bytes matter as well as round trips.
2. **api calls**: the ipernity API calls of the backup from the run report, against flip's
   ``1 + ceil(N/100) + N + B`` (B = album memberships); then a no-change rerun on the same
   state: its calls (target <= 3) and downloaded bytes (target 0).
3. **memory**: peak RSS of ``migrator run ipernity local`` on 4 documents whose originals are
   1 MiB each, then 64 MiB each.  Measured as ``RUSAGE_CHILDREN.ru_maxrss`` inside a tiny
   fresh wrapper process whose only child is the CLI.  (Measuring a direct child of this
   script would be wrong on Linux: a child's maxrss starts at its parent's RSS at fork/vfork
   time, and this process holds the sandboxes and the 64 MiB files they serve.)  A meter
   check runs the same wrapper on a child holding 64 MiB: it must read about +64 MiB.
4. **replay**: ``migrator run local flickr`` from a copy of a scenario-1 backup into an empty
   Flickr sandbox with ``flickr.rate=0`` (no pacing) and the default jobs; Flickr calls per
   uploaded document (uploads, setDates, sets ...), then a rerun: uploads must be 0.

How to read the numbers
-----------------------
Machines are shared and noisy: every figure is the **median** of the runs (min-max in the
JSON), and the claims are **ratios** measured on the same machine in the same session:
``speed-up = median wall(jobs 1) / median wall(jobs 4)`` (with 20 ms per call the ideal on
an idle box is close to 4, lower on 2 cores since the sandbox shares them); ``calls ours/flip``
below 1 means fewer API calls than flip; ``peak RSS 64 MiB / 1 MiB`` near 1.0 means no
component holds a whole file in memory (holding one 64 MiB file would add ~64 MiB and give
a ratio well above 2).  Wall times include interpreter start-up and plugin loading.
"CLI CPU" is the user+system CPU time of the migrator process: when jobs 4 gains less than
expected, compare it with the wall time (the sandboxes run in this script and share the cores).
The 5 MB/s knob is per connection and the sandbox sleeps *after* writing each 250 KB chunk,
so a file smaller than that arrives at once and the sleep delays the next request on that
connection instead: MB/s below 5 at jobs 1 mostly reflects the serial 20 ms API calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from migrator_flickr.sandbox import FlickrSandbox
from migrator_flickr.sandbox.model import Account as FlickrAccount
from migrator_ipernity.sandbox import Account, IpernitySandbox, build_account
from migrator_ipernity.sandbox.account import make_content

BENCH = Path(__file__).resolve().parent
LATENCY = 0.020  # seconds per ipernity API call (scenario 1)
BANDWIDTH = 5_000_000  # bytes/s per connection on the ipernity file host (scenario 1)
SCALE = 8  # scenario 1 originals: the sandbox's 1-30 KB sizes times this
MEM_DOCS = 4
MEM_SIZES = {"1MiB": 1 << 20, "64MiB": 64 << 20}
YEAR_2000 = 946684800  # Flickr sandbox account creation: setDates accepts the 2008+ dates
RUN_TIMEOUT = 600.0
MB = 1_000_000

# A fresh, small process whose only child is the CLI: its RUSAGE_CHILDREN is the CLI's peak RSS.
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


# ----------------------------------------------------------------------------------------------
# measuring one CLI run


@dataclass
class Run:
    """One measured `migrator` invocation."""

    argv: list[str]
    rc: int
    wall: float
    maxrss_kb: int
    cpu: float  # user + system CPU seconds of the CLI process
    report: dict[str, Any]
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def clean_env(home: Path) -> dict[str, str]:
    """The caller's environment minus migrator/service variables, with config and state in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATOR_", "IPERNITY_", "FLICKR_"))}
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env["HOME"] = str(home / "home")
    env["MIGRATOR_CONFIG_DIR"] = str(home / "config")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


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


def check(run: Run, what: str) -> None:
    if run.rc != 0:
        raise SystemExit(f"{what}: exit code {run.rc}\n{run.stderr}")


def expect(run: Run, count: str, wanted: int, what: str) -> None:
    """Never time a broken run: the report must say what a correct run says."""
    counts = run.report.get("counts") or {}
    if counts.get(count) != wanted or counts.get("failed"):
        raise SystemExit(f"{what}: expected {count}={wanted} and no failure, report says {counts}")


# ----------------------------------------------------------------------------------------------
# accounts and sandboxes


def resize_originals(account: Account, size: Callable[[int], int]) -> Account:
    """Give every original a new size; the md5 follows (the sandbox regenerates bytes from a key)."""
    for doc in account.docs:
        o = doc.original
        o.bytes = size(o.bytes)
        o.md5 = hashlib.md5(make_content(o.content_key, o.bytes, o.ext)).hexdigest()
    return account


def ipernity_args(sb: IpernitySandbox, token: str) -> list[str]:
    return ["-o", f"ipernity.api_url={sb.api_url}", "-o", f"ipernity.auth_url={sb.auth_url}",
            "-o", f"ipernity.api_key={sb.api_key}", "-o", f"ipernity.api_secret={sb.api_secret}",
            "-o", f"ipernity.auth_token={token}"]


def flickr_args(sb: FlickrSandbox) -> list[str]:
    token, secret = sb.grant_token("write")
    return ["-o", f"flickr.api_key={sb.api_key}", "-o", f"flickr.api_secret={sb.api_secret}",
            "-o", f"flickr.oauth_token={token}", "-o", f"flickr.oauth_token_secret={secret}",
            "-o", f"flickr.rest_url={sb.rest_url}", "-o", f"flickr.upload_url={sb.upload_url}",
            "-o", f"flickr.oauth_url={sb.oauth_url}", "-o", "flickr.rate=0"]


def album_members(account: Account) -> int:
    return sum(len(a.doc_ids) for a in account.albums)


def flip_calls(n: int, in_albums: int) -> int:
    """flip's cost: 1 token check + ceil(N/100) list pages + 1 doc.get per document + 1 per album entry."""
    return 1 + math.ceil(n / 100) + n + in_albums


# ----------------------------------------------------------------------------------------------
# scenarios 1 and 2: backup with jobs 1 / 4, API calls, no-change rerun


def backup_once(sb: IpernitySandbox, token: str, home: Path, jobs: int) -> tuple[Run, Run]:
    """A full backup into `home`/backup, then a no-change rerun on the same state."""
    args = ["ipernity", "local", *ipernity_args(sb, token), "-o", f"local.path={home / 'backup'}",
            "--state", str(home / "state.sqlite3"), "-q"]
    sb.reset_counters()
    full = migrator(home, "full", *args, "--jobs", str(jobs))
    check(full, f"backup --jobs {jobs}")
    expect(full, "new", len(sb.account.docs), f"backup --jobs {jobs}")
    full.extra = {"server_calls": sum(sb.calls.values()), "server_downloads": sum(sb.downloads.values())}
    sb.reset_counters()
    rerun = migrator(home, "rerun", *args, "--jobs", str(jobs))
    check(rerun, f"rerun --jobs {jobs}")
    expect(rerun, "new", 0, f"rerun --jobs {jobs}")
    rerun.extra = {"server_calls": sum(sb.calls.values()), "server_downloads": sum(sb.downloads.values()),
                   "calls": dict(sb.calls)}
    return full, rerun


def scenario_backup(n: int, runs: int, keep: Path) -> dict[str, Any]:
    """Scenarios 1+2.  Leaves the last jobs-4 backup folder in `keep` for scenario 4."""
    account = resize_originals(build_account(0, n_docs=n), lambda b: b * SCALE)
    total_bytes = sum(d.original.bytes for d in account.docs)
    results: dict[int, list[tuple[Run, Run]]] = {1: [], 4: []}
    with IpernitySandbox(seed=0, account=account, latency=LATENCY, bandwidth=BANDWIDTH) as sb:
        token = sb.grant_token(perm_doc="read")
        for rep in range(runs):
            for jobs in ((1, 4) if rep % 2 == 0 else (4, 1)):  # alternate so drift hits both alike
                with fresh_dir(f"backup-j{jobs}") as home:
                    results[jobs].append(backup_once(sb, token, home, jobs))
                    if jobs == 4 and rep == runs - 1:
                        shutil.copytree(home / "backup", keep, symlinks=True)
                print(f"  backup jobs={jobs} run {rep + 1}/{runs}: {results[jobs][-1][0].wall:.2f}s",
                      file=sys.stderr)
    return {"n": n, "bytes": total_bytes, "in_albums": album_members(account),
            "photos_videos": sum(d.media in ("photo", "video") for d in account.docs), "runs": results}


def summarize_backup(data: dict[str, Any]) -> dict[str, Any]:
    n, total = data["n"], data["bytes"]
    out: dict[str, Any] = {"n": n, "mb": total / MB, "latency_ms": LATENCY * 1000, "bandwidth_mb_s": BANDWIDTH / MB}
    for jobs, pairs in data["runs"].items():
        walls = [full.wall for full, _ in pairs]
        wall = statistics.median(walls)
        out[f"jobs{jobs}"] = {"wall_s": wall, "wall_min_max": [min(walls), max(walls)], "docs_s": n / wall,
                              "mb_s": total / MB / wall,
                              "cpu_s": statistics.median(f.cpu for f, _ in pairs),
                              "peak_rss_mb": statistics.median(f.maxrss_kb for f, _ in pairs) / 1024,
                              "rerun_wall_s": statistics.median(r.wall for _, r in pairs)}
    out["speedup_jobs1_over_jobs4"] = out["jobs1"]["wall_s"] / out["jobs4"]["wall_s"]
    return out


def summarize_calls(data: dict[str, Any]) -> dict[str, Any]:
    pairs = [p for ps in data["runs"].values() for p in ps]
    ours = [sum(full.report["api_calls"]["ipernity"].values()) for full, _ in pairs]
    flip = flip_calls(data["n"], data["in_albums"])
    rerun_calls = [sum(r.report["api_calls"]["ipernity"].values()) for _, r in pairs]
    mismatch = [(f.extra["server_calls"], sum(f.report["api_calls"]["ipernity"].values()))
                for f, _ in pairs if f.extra["server_calls"] != sum(f.report["api_calls"]["ipernity"].values())]
    return {"ours": statistics.median(ours), "ours_all": sorted(set(ours)), "flip": flip,
            "ratio": statistics.median(ours) / flip, "per_doc": statistics.median(ours) / data["n"],
            "by_method": pairs[0][0].report["api_calls"]["ipernity"],
            "rerun_calls": max(rerun_calls), "rerun_calls_by_method": pairs[0][1].extra["calls"],
            "rerun_server_calls": max(r.extra["server_calls"] for _, r in pairs),
            "rerun_downloads": max(r.extra["server_downloads"] for _, r in pairs),
            "rerun_report_bytes": max(r.report["bytes"] for _, r in pairs),
            "report_vs_server_mismatches": mismatch}


# ----------------------------------------------------------------------------------------------
# scenario 3: peak RSS with 1 MiB vs 64 MiB originals


def scenario_memory(runs: int) -> dict[str, Any]:
    sandboxes = {label: IpernitySandbox(seed=0, account=resize_originals(build_account(0, n_docs=MEM_DOCS),
                                                                       lambda _b, s=size: s)).start()
                 for label, size in MEM_SIZES.items()}
    results: dict[str, list[Run]] = {label: [] for label in MEM_SIZES}
    try:
        for rep in range(runs):
            for label, sb in sandboxes.items():
                with fresh_dir(f"mem-{label}") as home:
                    run = migrator(home, "mem", "ipernity", "local", *ipernity_args(sb, sb.grant_token("read")),
                                   "-o", f"local.path={home / 'backup'}", "--state", str(home / "state.sqlite3"),
                                   "-q")
                    check(run, f"memory {label}")
                    if run.report["bytes"] != MEM_DOCS * MEM_SIZES[label]:
                        raise SystemExit(f"memory {label}: moved {run.report['bytes']} bytes")
                    results[label].append(run)
                print(f"  memory {label} run {rep + 1}/{runs}: {run.maxrss_kb / 1024:.1f} MiB, {run.wall:.2f}s",
                      file=sys.stderr)
    finally:
        for sb in sandboxes.values():
            sb.stop()
    return results


def summarize_memory(results: dict[str, list[Run]]) -> dict[str, Any]:
    out: dict[str, Any] = {"docs": MEM_DOCS, "meter_check_64MiB": meter_check(MEM_SIZES["64MiB"])}
    for label, runs in results.items():
        rss = [r.maxrss_kb / 1024 for r in runs]
        out[label] = {"peak_rss_mib": statistics.median(rss), "min_max": [min(rss), max(rss)],
                      "wall_s": statistics.median(r.wall for r in runs)}
    out["ratio_64_over_1"] = out["64MiB"]["peak_rss_mib"] / out["1MiB"]["peak_rss_mib"]
    return out


# ----------------------------------------------------------------------------------------------
# scenario 4: replay the backup into Flickr


def replay_once(backup: Path, home: Path) -> tuple[Run, Run, Counter[str]]:
    source = home / "backup"
    shutil.copytree(backup, source, symlinks=True)
    with FlickrSandbox(seed=0, account=FlickrAccount.empty(0, "sandbox", created_at=YEAR_2000)) as sb:
        args = ["local", "flickr", "-o", f"local.path={source}", *flickr_args(sb),
                "--state", str(home / "state.sqlite3"), "-q"]
        first = migrator(home, "replay", *args)
        check(first, "replay")
        calls = Counter(sb.calls)
        photos = sb.state()["photos"]
        first.extra = {"calls": dict(calls), "photos": len(photos),
                       "uploaded_bytes": sum(int(p["original"]["size"]) for p in photos)}
        expect(first, "new", first.extra["photos"], "replay")
        sb.reset_counters()
        again = migrator(home, "replay-rerun", *args)
        check(again, "replay rerun")
        expect(again, "new", 0, "replay rerun")
        again.extra = {"calls": dict(sb.calls)}
    return first, again, calls


def scenario_replay(backup: Path, runs: int) -> list[tuple[Run, Run]]:
    out = []
    for rep in range(runs):
        with fresh_dir("replay") as home:
            first, again, _ = replay_once(backup, home)
            out.append((first, again))
        print(f"  replay run {rep + 1}/{runs}: {first.wall:.2f}s", file=sys.stderr)
    return out


def summarize_replay(pairs: list[tuple[Run, Run]], photos_videos: int) -> dict[str, Any]:
    walls = [f.wall for f, _ in pairs]
    uploaded = pairs[0][0].extra["photos"]
    totals = [sum(f.extra["calls"].values()) for f, _ in pairs]
    return {"wall_s": statistics.median(walls), "wall_min_max": [min(walls), max(walls)],
            "uploaded": uploaded, "expected_uploads": photos_videos,
            "docs_s": uploaded / statistics.median(walls),
            "calls": statistics.median(totals), "calls_per_doc": statistics.median(totals) / uploaded,
            "by_method": pairs[0][0].extra["calls"],
            "rerun_uploads": max(a.extra["calls"].get("upload", 0) for _, a in pairs),
            "rerun_calls": max(sum(a.extra["calls"].values()) for _, a in pairs),
            "rerun_by_method": pairs[0][1].extra["calls"],
            "rerun_wall_s": statistics.median(a.wall for _, a in pairs),
            "uploaded_mb": pairs[0][0].extra["uploaded_bytes"] / MB,
            "report_bytes": pairs[0][0].report.get("bytes"),
            "cpu_s": statistics.median(f.cpu for f, _ in pairs),
            "peak_rss_mb": statistics.median(f.maxrss_kb for f, _ in pairs) / 1024}


# ----------------------------------------------------------------------------------------------
# output


def machine() -> dict[str, Any]:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {"cpu_count": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "git_commit": commit,
            "load_avg_at_start": list(os.getloadavg())}


def table(s: dict[str, Any]) -> str:
    b, c, m, r = s["backup"], s["api_calls"], s["memory"], s["replay"]
    j1, j4 = b["jobs1"], b["jobs4"]
    rows = [
        ("1 backup jobs 1", f"{j1['wall_s']:.2f} s", _speed(j1), ""),
        ("1 backup jobs 4", f"{j4['wall_s']:.2f} s", _speed(j4), ""),
        ("1 speed-up jobs1/jobs4", f"{b['speedup_jobs1_over_jobs4']:.2f}x", "", "> 1, ideally near 4"),
        ("2 ipernity calls (ours / flip)", f"{c['ours']:.0f} / {c['flip']}", f"ratio {c['ratio']:.2f}, "
         f"{c['per_doc']:.2f} per doc", "ratio <= 1"),
        ("2 no-change rerun", f"{c['rerun_calls']} calls", f"{c['rerun_downloads']} downloads, "
         f"{c['rerun_report_bytes']} bytes", "<= 3 calls, 0 bytes"),
        ("3 peak RSS 1 MiB originals", f"{m['1MiB']['peak_rss_mib']:.1f} MiB", f"{m['1MiB']['wall_s']:.2f} s", ""),
        ("3 peak RSS 64 MiB originals", f"{m['64MiB']['peak_rss_mib']:.1f} MiB", f"{m['64MiB']['wall_s']:.2f} s",
         ""),
        ("3 peak RSS ratio 64/1", f"{m['ratio_64_over_1']:.2f}",
         f"meter check: a child holding 64 MiB reads +{m['meter_check_64MiB']:.1f} MiB", "near 1.0"),
        ("4 replay local->flickr", f"{r['wall_s']:.2f} s",
         f"{r['docs_s']:.1f} uploads/s, {r['uploaded']} uploads, CLI CPU {r['cpu_s']:.1f} s", ""),
        ("4 Flickr calls per upload", f"{r['calls_per_doc']:.2f}", _top(r["by_method"]), ""),
        ("4 replay rerun", f"{r['rerun_uploads']} uploads", f"{r['rerun_calls']} calls", "0 uploads"),
        ("4 replay bytes in run report", f"{r['report_bytes'] / MB:.1f} MB", f"{r['uploaded_mb']:.1f} MB uploaded",
         "= uploaded"),
    ]
    head = (f"N={b['n']} docs, {b['mb']:.1f} MB; ipernity {b['latency_ms']:.0f} ms/call, "
            f"{b['bandwidth_mb_s']:.0f} MB/s per connection; medians of {s['runs']} runs")
    lines = [head, "", "| scenario | median | detail | target |", "|---|---|---|---|"]
    lines += [f"| {a} | {v} | {d} | {t} |" for a, v, d, t in rows]
    return "\n".join(lines)


def _speed(j: dict[str, Any]) -> str:
    return f"{j['docs_s']:.1f} docs/s, {j['mb_s']:.2f} MB/s, CLI CPU {j['cpu_s']:.1f} s"


def _top(calls: dict[str, int], k: int = 4) -> str:
    return ", ".join(f"{name.removeprefix('flickr.')} {n}" for name, n in Counter(calls).most_common(k))


def raw_runs(runs: list[Run]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if k != "report"} | {"report_counts": r.report.get("counts"),
                                                                      "report_bytes": r.report.get("bytes"),
                                                                      "api_calls": r.report.get("api_calls")}
            for r in runs]


# ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="3 runs, 150 documents")
    p.add_argument("--runs", type=int, help="runs per scenario (default 5, --quick 3)")
    p.add_argument("--docs", type=int, help="documents in the backup account (default 300, --quick 150)")
    p.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    a = p.parse_args(argv)
    runs = a.runs or (3 if a.quick else 5)
    n = a.docs or (150 if a.quick else 300)
    start = time.monotonic()
    info = machine()
    with fresh_dir("keep") as keep_root:
        keep = keep_root / "backup"
        print(f"scenario 1+2: backup of {n} documents, {runs} runs x jobs 1/4", file=sys.stderr)
        backup = scenario_backup(n, runs, keep)
        print("scenario 3: peak RSS", file=sys.stderr)
        memory = scenario_memory(runs)
        print("scenario 4: replay into Flickr", file=sys.stderr)
        replay = scenario_replay(keep, runs)
    summary = {"runs": runs, "backup": summarize_backup(backup), "api_calls": summarize_calls(backup),
               "memory": summarize_memory(memory), "replay": summarize_replay(replay, backup["photos_videos"])}
    summary["total_seconds"] = time.monotonic() - start
    text = table(summary)
    print(text)
    print(f"\ntotal {summary['total_seconds']:.0f} s; results in {a.out}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    raw = {"backup": {str(j): {"full": raw_runs([f for f, _ in ps]), "rerun": raw_runs([r for _, r in ps])}
                      for j, ps in backup["runs"].items()},
           "memory": {k: raw_runs(v) for k, v in memory.items()},
           "replay": {"full": raw_runs([f for f, _ in replay]), "rerun": raw_runs([r for _, r in replay])}}
    params = {"latency_s": LATENCY, "bandwidth_bytes_s": BANDWIDTH, "original_scale": SCALE,
              "memory_docs": MEM_DOCS, "memory_sizes": MEM_SIZES, "quick": a.quick}
    a.out.write_text(json.dumps({"machine": info, "params": params, "summary": summary, "table": text,
                                 "raw": raw}, indent=1, default=str), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""migrator benchmark: default-settings speed, API economy and flat cost to 100,000 documents, through the CLI.

Usage (from the repository root, with a venv that has migrator and the three plugins)::

    python bench/run.py                      # every scenario (see bench/README.md for the time it takes)
    python bench/run.py --quick              # small accounts, one run each (a few minutes)
    python bench/run.py --only ipernity,flickr-mirror --runs 5 --out /tmp/bench.json

Scenarios (bench/README.md explains each bound and how to read the table):

* ``ipernity``: ``migrator run ipernity local`` at its default settings and at ``--jobs 1``, against a
  flip-like sequential client and the physical limit, 50 ms per request (API call or download).
* ``flickr-mirror``: ``migrator run flickr local`` of a 200-item account at 100 ms per request: REST
  calls by method, file requests by HTTP method, a no-change rerun, against a flickrmirrorer-like client.
* ``scale``: ``ipernity local`` at 1,000 / 10,000 / 100,000 small documents, zero latency: wall and CLI
  CPU per document, peak RSS, no-change rerun overhead; peak RSS with a 2 GiB video.
* ``replay``: ``migrator run local flickr`` at the default rate and burst against the rate-limit bound.

Every measured run is ``python -m migrator run ...`` in a subprocess with a fresh temporary folder, state
and config home; sandboxes run in their own processes.  The table shows medians with min/max, the target
and PASS/MISS; the JSON keeps every raw run and the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import scenarios
import viewer
from measure import BENCH, compile_sources, log, machine

SCENARIOS = ("ipernity", "flickr-mirror", "scale", "replay", "viewer")
FULL = {"runs": 3, "ipernity_docs": 250, "flickr_items": 200, "scale_sizes": [1000, 10_000, 100_000],
        "big_video": 2 << 30, "replay_docs": 100, "viewer_sizes": [100_000]}
QUICK = {"runs": 1, "ipernity_docs": 100, "flickr_items": 60, "scale_sizes": [1000],
         "big_video": 256 << 20, "replay_docs": 80, "viewer_sizes": [10_000]}


def run_scenario(name: str, p: dict[str, Any]) -> dict[str, Any]:
    if name == "ipernity":
        return scenarios.scenario_ipernity(p["runs"], n_docs=p["ipernity_docs"])
    if name == "flickr-mirror":
        n = p["flickr_items"]  # the proportions: 10 sets, 42% commented, 10% videos per 200 items
        return scenarios.scenario_flickr_mirror(p["runs"], items=n, sets=max(3, n // 20),
                                                with_comments=round(n * 0.42), videos=max(1, n // 10))
    if name == "scale":
        return scenarios.scenario_scale(p["scale_sizes"], p["runs"], p["big_video"])
    if name == "viewer":
        return viewer.scenario(p["viewer_sizes"])
    return scenarios.scenario_replay(p["replay_docs"], 1)


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | figure | median | min - max | target | flag | detail |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['figure']} | {_num(r['median'])} {r['unit']} | "
                     f"{_num(r['min'])} - {_num(r['max'])} | {r['target']} | {r['flag']} | {r['detail']} |")
    return "\n".join(lines)


def _num(x: float) -> str:
    if float(x).is_integer():
        return f"{x:.0f}"
    return f"{x:.3f}" if abs(x) < 1 else f"{x:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", help=f"comma-separated scenarios out of {','.join(SCENARIOS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small accounts, one run each")
    parser.add_argument("--runs", type=int, help="runs per measured variant (default 3, --quick 1; "
                                                  "10,000+ documents and replay always run once)")
    parser.add_argument("--sizes", help="scale and viewer series sizes, e.g. 1000,10000 (default 1000,10000,100000; "
                        "viewer: 100000)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    a = parser.parse_args(argv)
    chosen = a.only.split(",") if a.only else list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    params = dict(QUICK if a.quick else FULL)
    if a.runs:
        params["runs"] = a.runs
    if a.sizes:
        params["scale_sizes"] = params["viewer_sizes"] = [int(x) for x in a.sizes.split(",")]
    compile_sources()
    info = machine()
    start = time.monotonic()
    results: dict[str, Any] = {}
    for name in chosen:
        began = time.monotonic()
        results[name] = run_scenario(name, params)
        results[name]["seconds"] = time.monotonic() - began
        log(f"{name}: {results[name]['seconds']:.0f} s")
    rows = [r for name in chosen for r in results[name]["rows"]]
    text = table(rows)
    total = time.monotonic() - start
    print(text)
    print(f"\n{info['cpu_count']} x {info['cpu_model']}, load {info['load_avg_at_start']}, commit {info['git_commit']}"
          f"{' (dirty)' if info['git_dirty'] else ''}; total {total:.0f} s; results in {a.out}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"machine": info, "params": params, "total_seconds": total, "table": text,
                                 "scenarios": results}, indent=1, default=str), "utf-8")
    return 0  # a MISS is a finding, not a failure of the benchmark


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark's scenarios.  Each returns {"rows": [...], "raw": {...}, "params": {...}}: rows for the table
(figure, median/min/max, target, PASS/MISS), raw runs for the JSON.  See bench/README.md."""

from __future__ import annotations

import math
import shutil
import statistics
from pathlib import Path
from typing import Any

import clients
from measure import Run, check, fresh_dir, log, meter_check, migrator, spread, startup_seconds
from migrator_ipernity.source import LIST_EXTRAS
from sandboxes import RemoteSandbox


def row(scenario: str, figure: str, values: list[float] | float, unit: str = "", target: str = "",
        ok: bool | None = None, detail: str = "") -> dict[str, Any]:
    """One table line: the median of `values` with min/max, its target and PASS/MISS (None: no target)."""
    vals = values if isinstance(values, list) else [values]
    return {"scenario": scenario, "figure": figure, "unit": unit, **spread(vals), "target": target,
            "flag": "" if ok is None else ("PASS" if ok else "MISS"), "detail": detail}


def median(values: list[float]) -> float:
    return statistics.median(values)


def per_doc_method(method: str) -> bool:
    """ipernity calls that need not wait for one another: once per document (or per document with comments),
    and the reads of each album, which migrator makes alongside the listing pages, 8 at a time. The rest
    (token check, listing pages, the album list) is a chain of requests one after another."""
    return (method.startswith("doc.") and method != "doc.getList") or method in ("album.get", "album.docs.getList")


# ----------------------------------------------------------------------------------------------
# 1. ipernity -> local at 50 ms per request: default, --jobs 1, flip, physical limit


def ipernity_backup(sb: RemoteSandbox, home: Path, name: str, *extra: str) -> Run:
    """One measured `migrator run ipernity local` into `home`, with the sandbox's counts of that run."""
    sb.call("reset_counters")
    run = migrator(home, name, "ipernity", "local", *sb.ipernity_options(), "-o", f"local.path={home / 'backup'}",
                   "--state", str(home / "state.sqlite3"), "-q", *extra)
    run.extra = {"server_calls": sb.get("calls"), "downloads": sum(sb.get("downloads").values())}
    return run


def physical_limit(run: Run, latency: float) -> dict[str, Any]:
    """latency x (listing requests one after another + every other request spread over the workers), the
    issue's model: its 250-document setup has 11 requests in a chain and 549 that can go side by side."""
    calls = run.calls("ipernity") or run.extra["server_calls"]
    listing = sum(n for m, n in calls.items() if not per_doc_method(m))
    per_doc = sum(n for m, n in calls.items() if per_doc_method(m)) + run.extra["downloads"]
    jobs = run.jobs()
    return {"listing": listing, "per_doc": per_doc, "jobs": jobs,
            "seconds": latency * (listing + math.ceil(per_doc / jobs))}


def scenario_ipernity(runs: int, n_docs: int = 250, albums: int = 12, latency: float = 0.050) -> dict[str, Any]:
    log(f"ipernity: {n_docs} documents, {albums} albums, {latency * 1000:.0f} ms per request; {runs} runs each")
    raw: dict[str, list[Any]] = {"default": [], "jobs1": [], "flip": []}
    with RemoteSandbox("ipernity", "ipernity_issue", {"n_docs": n_docs, "albums": albums},
                       latency=latency, file_latency=latency) as sb:
        account = sb.helper("ipernity_summary")
        token = sb.call("grant_token", perm_doc="read")
        for rep in range(runs):
            order = ("default", "jobs1", "flip") if rep % 2 == 0 else ("flip", "jobs1", "default")
            for what in order:  # alternate so that drift hits every variant alike
                with fresh_dir(f"ipernity-{what}") as home:
                    if what == "flip":
                        sb.call("reset_counters")
                        result = clients.flip(sb.info, token, home / "flip")
                        raw["flip"].append(result)
                        log(f"  flip run {rep + 1}: {result['wall']:.2f}s")
                        continue
                    run = ipernity_backup(sb, home, what, *(["--jobs", "1"] if what == "jobs1" else []))
                    check(run, f"ipernity {what}", "new", n_docs)
                    run.extra["limit"] = physical_limit(run, latency)
                    raw[what].append(run)
                    log(f"  {what} run {rep + 1}: {run.wall:.2f}s (jobs {run.jobs()}, "
                        f"limit {run.extra['limit']['seconds']:.2f}s)")
    default, jobs1, flip = raw["default"], raw["jobs1"], raw["flip"]
    flip_wall = median([f["wall"] for f in flip])
    limits = [r.extra["limit"]["seconds"] for r in default]
    d_walls = [r.wall for r in default]
    ours_calls = [sum(r.calls("ipernity").values()) for r in default]
    lim = default[0].extra["limit"]
    s = "1 ipernity"
    rows = [
        row(s, "wall, default settings", d_walls, "s", detail=f"jobs {default[0].jobs()} (report; 1 if absent)"),
        row(s, "wall, --jobs 1", [r.wall for r in jobs1], "s"),
        row(s, "wall, flip-like sequential client", [f["wall"] for f in flip], "s",
            detail=f"{sum(flip[0]['calls'].values())} calls, {flip[0]['downloads']} downloads"),
        row(s, "physical limit of the default run", limits, "s",
            detail=f"{latency * 1000:.0f} ms x ({lim['listing']} listing + ceil({lim['per_doc']} per-doc / "
                   f"{lim['jobs']} jobs))"),
        row(s, "ratio default / flip", [w / flip_wall for w in d_walls], "x", "<= 0.2",
            median(d_walls) / flip_wall <= 0.2),
        row(s, "ratio default / physical limit", [w / li for w, li in zip(d_walls, limits)], "x", "<= 1.3",
            median([w / li for w, li in zip(d_walls, limits)]) <= 1.3),
        row(s, "API calls, default (flip's)", ours_calls, "", f"<= flip's {sum(flip[0]['calls'].values())}",
            median(ours_calls) <= sum(flip[0]["calls"].values()), detail=_top(default[0].calls("ipernity"))),
        row(s, "CLI CPU, default", [r.cpu for r in default], "s"),
    ]
    return {"rows": rows, "params": {"n_docs": n_docs, "albums": albums, "latency_s": latency, "account": account},
            "raw": {"default": [r.raw() for r in default], "jobs1": [r.raw() for r in jobs1], "flip": flip}}


# ----------------------------------------------------------------------------------------------
# 2. Flickr -> local at 100 ms per request: REST calls, file requests, rerun, flickrmirrorer


def flickr_mirror_run(sb: RemoteSandbox, home: Path, name: str, options: list[str]) -> Run:
    sb.call("reset_counters")
    run = migrator(home, name, "flickr", "local", *options, "-o", f"local.path={home / 'mirror'}",
                   "--state", str(home / "state.sqlite3"), "-q")
    run.extra = {"rest": sb.get("calls"), "files": sb.get("file_methods")}
    return run


def scenario_flickr_mirror(runs: int, latency: float = 0.100, items: int = 200, sets: int = 10,
                           with_comments: int = 84, videos: int = 20) -> dict[str, Any]:
    log(f"flickr-mirror: {items} items, {sets} sets, {latency * 1000:.0f} ms per request; {runs} runs each")
    raw: dict[str, list[Any]] = {"first": [], "rerun": [], "flickrmirrorer": []}
    builder = {"n_items": items, "sets": sets, "with_comments": with_comments, "videos": videos}
    with RemoteSandbox("flickr", "flickr_mirror", builder, latency=latency) as sb:
        account = sb.helper("flickr_summary")
        options = sb.flickr_options("read")
        for rep in range(runs):
            for what in (("migrator", "baseline") if rep % 2 == 0 else ("baseline", "migrator")):
                with fresh_dir(f"flickr-{what}") as home:
                    if what == "baseline":
                        token, secret = sb.call("grant_token", "read")
                        sb.call("reset_counters")
                        result = clients.flickrmirrorer(sb.info, token, secret, home / "mirror")
                        raw["flickrmirrorer"].append(result)
                        log(f"  flickrmirrorer run {rep + 1}: {result['wall']:.2f}s, {result['rest_calls']} calls")
                        continue
                    first = check(flickr_mirror_run(sb, home, "first", options), "flickr mirror", "new", items)
                    rerun = check(flickr_mirror_run(sb, home, "rerun", options), "flickr mirror rerun", "new", 0)
                    raw["first"].append(first)
                    raw["rerun"].append(rerun)
                    log(f"  migrator run {rep + 1}: {first.wall:.2f}s, {sum(first.extra['rest'].values())} REST calls,"
                        f" files {first.extra['files']}; rerun {rerun.wall:.2f}s")
    first, rerun, base = raw["first"], raw["rerun"], raw["flickrmirrorer"]
    base_wall = median([b["wall"] for b in base])
    base_calls = base[0]["rest_calls"]
    rest = [sum(r.extra["rest"].values()) for r in first]
    files = [sum(r.extra["files"].values()) for r in first]
    rest_bound = base_calls + account["with_comments"] + account["videos"]
    walls = [r.wall for r in first]
    s = "2 flickr-mirror"
    rows = [
        row(s, "wall, default settings", walls, "s", detail=f"jobs {first[0].jobs()}"),
        row(s, "wall, flickrmirrorer-like sequential client", [b["wall"] for b in base], "s",
            detail=f"{base_calls} REST calls, files {base[0]['file_requests']}"),
        row(s, "ratio default / flickrmirrorer", [w / base_wall for w in walls], "x", "<= 0.5",
            median(walls) / base_wall <= 0.5),
        row(s, "REST calls, first mirror", rest, "", f"<= {rest_bound} (listing {base_calls} + "
            f"{account['with_comments']} with comments + {account['videos']} videos)", median(rest) <= rest_bound,
            detail=_top(first[0].extra["rest"], 5)),
        row(s, "file requests, first mirror", files, "", f"<= {items} (one per file)", median(files) <= items,
            detail=", ".join(f"{k} {v}" for k, v in sorted(first[0].extra["files"].items()))),
        row(s, "REST calls, no-change rerun", [sum(r.extra["rest"].values()) for r in rerun], "",
            f"<= {base_calls} (listing)", max(sum(r.extra["rest"].values()) for r in rerun) <= base_calls,
            detail=_top(rerun[0].extra["rest"], 5)),
        row(s, "file requests, no-change rerun", [sum(r.extra["files"].values()) for r in rerun], "", "0",
            max(sum(r.extra["files"].values()) for r in rerun) == 0),
        row(s, "wall, no-change rerun", [r.wall for r in rerun], "s"),
    ]
    return {"rows": rows, "params": {"latency_s": latency, "account": account},
            "raw": {"first": [r.raw() for r in first], "rerun": [r.raw() for r in rerun], "flickrmirrorer": base}}


# ----------------------------------------------------------------------------------------------
# 3. scale: 1,000 / 10,000 / 100,000 documents at zero latency; a 2 GB video


def scenario_scale(sizes: list[int], runs: int, big_video: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    raw: dict[str, Any] = {}
    s = "3 scale"
    with fresh_dir("startup") as home:
        startup = [startup_seconds(home) for _ in range(3)]
    rows.append(row(s, "CLI start-up (python -m migrator --help)", startup, "s"))
    for n in sizes:
        reps = runs if n <= 1000 else 1
        log(f"scale: {n} documents, {reps} run(s)")
        full_runs, reruns, listings = [], [], []
        with RemoteSandbox("ipernity", "ipernity_scale", {"n_docs": n}) as sb:
            token = sb.call("grant_token", perm_doc="read")
            for rep in range(reps):
                with fresh_dir(f"scale-{n}") as home:
                    full = check(ipernity_backup(sb, home, "full"), f"scale {n}", "new", n)
                    rerun = check(ipernity_backup(sb, home, "rerun"), f"scale {n} rerun", "new", 0)
                listing = clients.ipernity_listing(sb.info, token, rerun.calls("ipernity"), LIST_EXTRAS)
                full_runs.append(full)
                reruns.append(rerun)
                listings.append(listing)
                log(f"  {n} run {rep + 1}: {full.wall:.1f}s, CPU {full.cpu:.1f}s, {full.rss_mb:.0f} MB; "
                    f"rerun {rerun.wall:.2f}s, its listing alone {listing['wall']:.2f}s")
        overhead = [r.wall - li["wall"] for r, li in zip(reruns, listings)]
        cpu_ms = [f.cpu / n * 1000 for f in full_runs]
        rss = [f.rss_mb for f in full_runs]
        overhead_target = 0.3 if n <= 1000 else 1.0 if n >= 100_000 else None
        label = f"{n:,}"
        rows += [
            row(s, f"{label}: wall per document", [f.wall / n * 1000 for f in full_runs], "ms",
                detail=f"wall {median([f.wall for f in full_runs]):.1f} s, jobs {full_runs[0].jobs()}"),
            row(s, f"{label}: CLI CPU per document", cpu_ms, "ms", "<= 5", median(cpu_ms) <= 5),
            row(s, f"{label}: peak RSS", rss, "MB", "< 150" if n >= 100_000 else "",
                median(rss) < 150 if n >= 100_000 else None),
            row(s, f"{label}: no-change rerun overhead", overhead, "s",
                f"<= {overhead_target}" if overhead_target else "",
                median(overhead) <= overhead_target if overhead_target else None,
                detail=f"rerun {median([r.wall for r in reruns]):.2f} s - its listing alone "
                       f"{median([li['wall'] for li in listings]):.2f} s ({_top(reruns[0].calls('ipernity'), 5)})"),
        ]
        raw[str(n)] = {"full": [r.raw() for r in full_runs], "rerun": [r.raw() for r in reruns], "listing": listings}
    if big_video:
        log(f"scale: peak RSS with one {big_video >> 20} MiB video")
        with RemoteSandbox("ipernity", "ipernity_big_video", {"n_docs": 20, "video_bytes": big_video}) as sb:
            with fresh_dir("big-video") as home:
                run = check(ipernity_backup(sb, home, "video"), "big video", "new", 20)
                if run.report.get("bytes", 0) < big_video:
                    raise SystemExit(f"big video: moved {run.report.get('bytes')} bytes")
        meter = meter_check(64 << 20)
        rows.append(row(s, f"peak RSS with a {big_video >> 20} MiB video among 20 documents", run.rss_mb,
                        "MB", "< 150", run.rss_mb < 150,
                        detail=f"{run.wall:.1f} s; meter check: a child holding 64 MiB reads +{meter:.0f} MiB"))
        raw["big_video"] = run.raw()
    return {"rows": rows, "params": {"sizes": sizes, "big_video_bytes": big_video, "startup_s": startup},
            "raw": raw}


# ----------------------------------------------------------------------------------------------
# 4. replay local -> Flickr at the default rate and burst, against the rate-limit bound


def scenario_replay(n_docs: int, runs: int) -> dict[str, Any]:
    log(f"replay: local -> flickr from a {n_docs}-document backup, default rate and burst")
    raw: dict[str, list[Any]] = {"first": [], "rerun": []}
    rows: list[dict[str, Any]] = []
    with fresh_dir("replay-source") as keep:
        with RemoteSandbox("ipernity", "ipernity_scale", {"n_docs": n_docs, "original_bytes": 20_000}) as ip:
            check(ipernity_backup(ip, keep, "source"), "replay source", "new", n_docs)
        for rep in range(runs):
            with fresh_dir("replay") as home, RemoteSandbox("flickr", "flickr_empty") as sb:
                source = home / "backup"
                shutil.copytree(keep / "backup", source, symlinks=True)
                args = ["local", "flickr", "-o", f"local.path={source}", *sb.flickr_options("write"),
                        "--state", str(home / "state.sqlite3"), "-q"]
                first = migrator(home, "replay", *args)
                first.extra = {"calls": sb.get("calls"), **sb.helper("flickr_uploaded")}
                check(first, "replay", "new", first.extra["photos"])
                sb.call("reset_counters")
                again = check(migrator(home, "replay-rerun", *args), "replay rerun", "new", 0)
                again.extra = {"calls": sb.get("calls")}
                raw["first"].append(first)
                raw["rerun"].append(again)
                log(f"  replay run {rep + 1}: {first.wall:.1f}s, {sum(first.extra['calls'].values())} calls, "
                    f"{first.extra['photos']} uploads")
    first = raw["first"]
    rate, burst = 1.0, 300  # the Flickr plugin's defaults (flickr.rate, flickr.burst)
    calls = [sum(r.extra["calls"].values()) for r in first]
    bounds = [max(0, c - burst) / rate for c in calls]
    walls = [r.wall for r in first]
    ratios = [w / b if b else math.inf for w, b in zip(walls, bounds)]
    s = "4 replay"
    rows += [
        row(s, "wall, default rate and burst", walls, "s",
            detail=f"{first[0].extra['photos']} uploads, jobs {first[0].jobs()}"),
        row(s, "Flickr calls (REST + uploads)", calls, "", detail=_top(first[0].extra["calls"], 5)),
        row(s, "rate-limit bound", bounds, "s", detail=f"max(0, calls - burst {burst}) / rate {rate}/s"),
        row(s, "ratio wall / bound", ratios, "x", "<= 1.2", median(ratios) <= 1.2),
        row(s, "no-change rerun: uploads", [r.extra["calls"].get("upload", 0) for r in raw["rerun"]], "", "0",
            max(r.extra["calls"].get("upload", 0) for r in raw["rerun"]) == 0,
            detail=f"{median([sum(r.extra['calls'].values()) for r in raw['rerun']]):.0f} calls, "
                   f"{median([r.wall for r in raw['rerun']]):.1f} s"),
    ]
    return {"rows": rows, "params": {"n_docs": n_docs, "rate": rate, "burst": burst, "latency_s": 0.0},
            "raw": {k: [r.raw() for r in v] for k, v in raw.items()}}


def _top(calls: dict[str, int], k: int = 4) -> str:
    ranked = sorted(calls.items(), key=lambda kv: -kv[1])[:k]
    return ", ".join(f"{name.removeprefix('flickr.')} {n}" for name, n in ranked)


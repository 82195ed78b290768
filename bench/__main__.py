"""Run geokb's performance suite.

    python -m bench --quick [--check]    10k claims, well under a minute (CI)
    python -m bench --full               10k, 100k and 1M claims (by hand; long)
    python -m bench --sizes 10000,100000 …   the full scenario set at chosen sizes

Every figure is printed beside its baseline measured in the same run on the same data,
with the ratio; results go to docs/benchmarks/results-<mode>.json and, with more than one
size, charts to docs/benchmarks/*.png. ``--check`` compares each ratio with
docs/benchmarks/baseline-quick.json and exits 1 only on a gross regression (a ratio more
than 3× worse than recorded). ``--record`` writes the run's ratios as that baseline.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import (
    doors_cli,
    doors_since,
    doors_validate,
    httpbench,
    report,
    snapshots,
    timetravel,
    writes,
)
from .common import ROOT, dir_size, machine, mem_available, run_worker
from .generate import default_cache, ensure_kb

DOCS = ROOT / "docs" / "benchmarks"

QUICK: dict[str, Any] = {
    "sizes": [10_000], "query_n": 120, "query_seconds": 5, "single_select_n": 3,
    "single_select_seconds": 2, "rdflib": False, "batch_size": 100, "batches": 2, "singles": 6,
    "single_appends": 4, "ingest_seconds": 6, "restart_runs": 2, "replay_runs": 1,
    "http_seconds": 1.5, "http_max": 4000, "clients": 4, "post_seconds": 2, "post_max": 60,
    "post_clients": 4, "fastapi": False, "rdflib_http": False, "disk_queries": False,
    "server_timeout": 60, "raw_bulk_on_disk": True,
    "doors_quick": True, "doors_old_budget": 5, "cli_runs": 2, "doors_since": False,
    "snapshots": False,
}
FULL: dict[str, Any] = {
    **QUICK, "sizes": [10_000, 100_000, 1_000_000], "query_n": 500, "query_seconds": 40,
    "single_select_n": 20, "single_select_seconds": 30, "rdflib": True, "rdflib_n": 10,
    "rdflib_seconds": 60, "batch_size": 500, "batches": 4, "singles": 20,
    "single_appends": 10, "ingest_seconds": 90, "restart_runs": 3, "replay_runs": 1,
    "http_seconds": 5, "http_max": 20000, "post_seconds": 10, "post_max": 400,
    "doors_quick": False, "doors_old_budget": 60, "cli_runs": 3, "doors_since": True,
    "snapshots": True,
    "fastapi": True, "rdflib_http": True, "rdflib_http_seconds": 10, "rdflib_http_max": 300,
    "rdflib_server_timeout": 300, "disk_queries": True, "server_timeout": 900,
}
QUICK.update({"rdflib_http_seconds": 5, "rdflib_http_max": 50, "rdflib_server_timeout": 120})


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def timeout_for(size: int, per_claim: float, base: float = 120) -> float:
    return base + per_claim * size


def phase(r: dict[str, Any], name: str, fn: Any) -> Any:
    t = time.perf_counter()
    value = fn()
    r.setdefault("phase_seconds", {})[name] = round(time.perf_counter() - t, 2)
    return value


def run_size(size: int, cfg: dict[str, Any], seed: int, cache: Path,
             previous: dict[str, Any] | None) -> dict[str, Any]:
    """Every scenario at one KB size; each scenario's failure is recorded, not raised."""
    t_size = time.perf_counter()
    kb_dir, manifest = ensure_kb(size, seed, cache)
    work = cache / f"run-{size}-seed{seed}"
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    nq = work / "dump.nq"
    proj = work / "projection"
    raw_py = work / "raw-pyoxigraph"
    raw_cli = work / "raw-oxigraph-cli"
    nq.unlink(missing_ok=True)
    r: dict[str, Any] = {"claims": manifest["claims"], "events": manifest["events"],
                         "kb": str(kb_dir), "generate": {
                             k: manifest[k] for k in ("events", "sources", "event_types",
                                                      "entities_declared", "claims_per_entity",
                                                      "generation_seconds", "log_bytes")}}
    entities = [slug for slug, _n in manifest["query_entities"]]
    median_entity = sorted(manifest["query_entities"][:200], key=lambda e: e[1])[100][0] \
        if len(entities) >= 200 else entities[0]
    common = {"kb": str(kb_dir), "nq": str(nq), "projection": str(proj), **cfg}

    log(f"{size:,}: catch-up into an on-disk projection, dump, raw on-disk loads …")
    raw_arg = str(raw_py) if cfg["raw_bulk_on_disk"] else None
    r["disk_build"] = phase(r, "disk_build", lambda: run_worker(
        "disk_build", {**common, "raw_dir": raw_arg}, timeout_for(size, 0.01)))
    if "error" in r["disk_build"]:
        log(f"{size:,}: on-disk build failed: {r['disk_build']['error']}")
        return r
    r["oxigraph_load"] = phase(r, "oxigraph_load", lambda: httpbench.oxigraph_load(nq, raw_cli))

    # in memory: only if the projection and a raw store fit (estimated from the last size)
    ours_per_claim, both_per_claim = 15_000.0, 30_000.0
    if previous and _get_num(previous, "inmem", "rss_projection_bytes"):
        ours_per_claim = previous["inmem"]["rss_projection_bytes"] / previous["claims"]
        both_per_claim = ours_per_claim + previous["inmem"].get("rss_raw_bytes", 0) \
            / previous["claims"]
    avail = mem_available()
    limit = int(0.9 * avail)
    inmem_args: dict[str, Any] | None = None
    if both_per_claim * size * 1.3 < 0.8 * avail:
        log(f"{size:,}: in-memory replay, raw loads, in-process queries …")
        inmem_args = {**common, "rdflib": cfg["rdflib"] and size <= 10_000}
    elif ours_per_claim * size * 1.4 < 0.85 * avail:  # 1M fits: 12.8 KB/claim, 1.0x of 100k's
        log(f"{size:,}: in-memory replay, then raw loads one at a time (no room for both) …")
        inmem_args = {**common, "queries": False, "sequential": True}
    else:
        need = ours_per_claim * size * 1.4
        r["inmem"] = {"skipped": f"needs ~{need / 2**30:.1f} GiB, {avail / 2**30:.1f} GiB free"}
    if inmem_args is not None:
        r["inmem"] = phase(r, "inmem", lambda: run_worker(
            "inmem", inmem_args, timeout_for(size, 0.004), rss_limit=limit))
        if inmem_args.get("sequential") and "error" not in r["inmem"]:
            raw = phase(r, "inmem_raw", lambda: run_worker(
                "inmem_raw", common, timeout_for(size, 0.004),
                rss_limit=int(0.9 * mem_available())))
            r["inmem"].update(raw if "error" not in raw else {"raw_error": raw["error"]})
    if cfg["disk_queries"] or "queries" not in r.get("inmem", {}):
        log(f"{size:,}: in-process queries on the on-disk projection …")
        r["disk_queries"] = phase(r, "disk_queries", lambda: run_worker(
            "disk_queries", {**common, "raw_dir": str(raw_py)}, timeout_for(size, 0.001)))

    log(f"{size:,}: restart …")
    r["restart"] = phase(r, "restart", lambda: restart(size, kb_dir, proj, median_entity, cfg,
                                                       logs, r))
    log(f"{size:,}: CLI read commands from a cold process …")
    replay_fits = "skipped" not in r.get("inmem", {}) and "queries" in r.get("inmem", {})
    r["cli"] = phase(r, "cli", lambda: doors_cli.run(
        kb_dir, proj, raw_py, median_entity, runs=cfg["cli_runs"],
        in_memory=replay_fits and size <= 100_000, timeout=timeout_for(size, 0.003, 60)))
    log(f"{size:,}: validated writes …")
    r["writes"] = phase(r, "writes", lambda: run_worker(
        "writes", {**common, "scratch": str(work / "scratch")}, timeout_for(size, 0.002)))
    log(f"{size:,}: writes at scale (remembered lookups, group commit) …")
    r["writes_scale"] = phase(r, "writes_scale", lambda: run_worker(
        "writes_scale", {**common, "scratch": str(work / "scratch-scale"),
                         "batches": cfg["batches"], "batch_size": cfg["batch_size"],
                         "posts_per_client": cfg["post_max"] // 4}, timeout_for(size, 0.004)))
    log(f"{size:,}: SPARQL time travel …")
    r["timetravel"] = phase(r, "timetravel", lambda: timetravel.scenario(
        kb_dir, cfg, timeout_for(size, 0.05)))
    log(f"{size:,}: validate and check, with --since …")
    r["doors_validate"] = phase(r, "doors_validate", lambda: doors_validate.run(
        kb_dir, quick=cfg["doors_quick"], old_budget=cfg["doors_old_budget"],
        timeout=timeout_for(size, 0.05)))
    if cfg["doors_since"]:
        log(f"{size:,}: a pull request's CI through the CLI (validate/check/verify) …")
        r["doors_since"] = phase(r, "doors_since", lambda: doors_since.run(
            size, seed=manifest["seed"], cache=kb_dir.parent, work=work / "since",
            timeout=timeout_for(size, 0.002)))
    if cfg["snapshots"]:
        log(f"{size:,}: a new read node from a snapshot …")
        r["snapshots"] = phase(r, "snapshots", lambda: snapshots.run(
            kb_dir, proj, work / "snapshots", baseline=size <= 100_000,
            timeout=timeout_for(size, 0.002)))
        shutil.rmtree(work / "snapshots", ignore_errors=True)
    log(f"{size:,}: HTTP …")
    r["http"] = phase(r, "http", lambda: http(size, kb_dir, proj, nq, raw_py, raw_cli, entities,
                                              manifest, cfg, logs, work))
    r["disk"] = {"log_bytes": dir_size(kb_dir / "events.jsonl"),
                 "texts_bytes": dir_size(kb_dir / "sources"),
                 "projection_bytes": dir_size(proj) if proj.exists() else 0,
                 "raw_oxigraph_bytes": dir_size(raw_cli) if raw_cli.exists() else
                 (dir_size(raw_py) if raw_py.exists() else 0),
                 "nquads_bytes": nq.stat().st_size if nq.exists() else 0}
    r["disk"]["kb_bytes"] = r["disk"]["log_bytes"] + r["disk"]["texts_bytes"]
    r["seconds"] = time.perf_counter() - t_size
    if not cfg.get("keep"):
        for path in (raw_py, raw_cli):
            shutil.rmtree(path, ignore_errors=True)
        nq.unlink(missing_ok=True)
        (work / "default-graph.nt").unlink(missing_ok=True)
    return r


def _get_num(d: dict[str, Any], *path: str) -> float | None:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return float(d) if isinstance(d, int | float) else None


def restart(size: int, kb_dir: Path, proj: Path, entity: str, cfg: dict[str, Any], logs: Path,
            r: dict[str, Any]) -> dict[str, Any]:
    """Time to first answer: on-disk projection (catch-up) vs cold in-memory replay."""
    out: dict[str, Any] = {}
    out["probe_disk"] = probe(kb_dir, proj, entity, cfg["restart_runs"], 120)
    replay_fits = "skipped" not in r.get("inmem", {}) and "queries" in r.get("inmem", {})
    replay_timeout = timeout_for(size, 0.003, 60)
    if replay_fits:
        out["probe_replay"] = probe(kb_dir, None, entity, cfg["replay_runs"], replay_timeout)
    else:
        out["probe_replay"] = {"skipped": "an in-memory replay does not fit in memory here"}
    if httpbench.has_geokb_http():
        out["http_disk"] = httpbench.geokb_restart(kb_dir, proj, cfg["restart_runs"],
                                                   cfg["server_timeout"], logs)
        if replay_fits:
            out["http_replay"] = httpbench.geokb_restart(kb_dir, None, cfg["replay_runs"],
                                                         replay_timeout, logs)
    return out


def probe(kb_dir: Path, proj: Path | None, entity: str, runs: int,
          timeout: float) -> dict[str, Any]:
    """Process start → first ``kb.status`` answered (the in-process restart)."""
    import subprocess

    times: list[float] = []
    args = json.dumps({"kb": str(kb_dir), "projection": str(proj) if proj else None,
                       "entity": entity})
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bench.worker", "restart_probe", args],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            assert proc.stdout is not None
            ready = None
            deadline = time.perf_counter() + timeout
            for line in proc.stdout:
                if line.startswith("READY"):
                    ready = time.perf_counter()
                    break
                if time.perf_counter() > deadline:
                    break
            if ready is None:
                err = proc.stderr.read() if proc.stderr else ""
                return {"error": f"no answer (exit {proc.poll()}): {err[-600:]}"}
            times.append(ready - t0)
            proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        finally:
            if proc.poll() is None:
                from .common import kill_group

                kill_group(proc)
    return {"seconds": times, "median_s": sorted(times)[len(times) // 2]}


def http(size: int, kb_dir: Path, proj: Path, nq: Path, raw_py: Path, raw_cli: Path,
         entities: list[str], manifest: dict[str, Any], cfg: dict[str, Any], logs: Path,
         work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def guarded(name: str, fn: Any) -> None:
        try:
            out[name] = fn()
        except Exception as exc:  # a failed server is a result to report, not a crash
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:1500]}
            log(f"{size:,}: {name}: {out[name]['error'][:300]}")

    if (raw_cli / "CURRENT").exists() or raw_cli.exists():
        guarded("oxigraph", lambda: httpbench.oxigraph_serve(raw_cli, entities, cfg, logs))
    if cfg["fastapi"] and raw_py.exists():
        guarded("fastapi", lambda: httpbench.fastapi_serve(raw_py, entities, cfg, logs))
    if cfg["rdflib_http"] and size <= 10_000:
        nt = httpbench.default_graph_nt(nq, work / "default-graph.nt")
        guarded("rdflib", lambda: httpbench.rdflib_serve(nt, entities, cfg, logs))
    if httpbench.has_geokb_http():
        guarded("geokb", lambda: httpbench.geokb_serve(kb_dir, proj, entities, cfg, logs))
        guarded("posts", lambda: httpbench.geokb_posts(kb_dir, proj, work / "scratch-http",
                                                       manifest, cfg, logs))
    else:
        out["geokb"] = {"skipped": "src/geokb/http.py is not there yet"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10k claims, well under a minute")
    mode.add_argument("--full", action="store_true", help="10k, 100k and 1M claims")
    parser.add_argument("--sizes", help="comma-separated claim counts (full scenario set)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a ratio is >3× worse than docs/benchmarks/"
                             "baseline-quick.json")
    parser.add_argument("--record", action="store_true",
                        help="write this run's ratios as docs/benchmarks/baseline-quick.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=None,
                        help="where synthetic KBs and scratch stores go (default: "
                             "$GEOKB_BENCH_CACHE or <tmp>/geokb-bench-cache)")
    parser.add_argument("--out", type=Path, default=DOCS, help="results and charts directory")
    parser.add_argument("--keep", action="store_true", help="keep dumps and raw stores")
    parser.add_argument("--name", help="results name: results-<name>.json (default: the mode)")
    parser.add_argument("--merge", action="store_true",
                        help="replace only this run's sizes in an existing results-<name>.json")
    args = parser.parse_args(argv)

    name = args.name or ("full" if args.full else ("custom" if args.sizes else "quick"))
    cfg = dict(FULL if (args.full or args.sizes) else QUICK)
    if args.sizes:
        cfg["sizes"] = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    cfg["keep"] = args.keep
    cache = (args.cache or default_cache()).resolve()
    command = "python -m bench " + " ".join(shlex.quote(a) for a in (argv if argv is not None
                                                                     else sys.argv[1:]))
    info = machine()
    header = (f"command: {command}\nmachine: {info['nproc']} cores, {info['cpu_model']}, "
              f"{info['memory_gib']} GiB; Python {info['versions']['python']}, pyoxigraph "
              f"{info['versions'].get('pyoxigraph')}, pyshacl {info['versions'].get('pyshacl')}, "
              f"rdflib {info['versions'].get('rdflib')}, oxigraph CLI "
              f"{info['versions'].get('oxigraph', 'absent')}; geokb {info['geokb_commit']}")
    print(header, flush=True)
    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    previous = None
    for size in cfg["sizes"]:
        results[str(size)] = run_size(size, cfg, args.seed, cache, previous)
        previous = results[str(size)]
        args.out.mkdir(parents=True, exist_ok=True)  # raw results so far, in case of a crash
        (args.out / f"results-{name}.partial.json").write_text(
            json.dumps({"command": command, "results": results}, indent=1, default=str))
    out_json = args.out / f"results-{name}.json"
    merged_from: list[str] = []
    if args.merge and out_json.exists():
        earlier = json.loads(out_json.read_text())
        for size, res in earlier["results"].items():
            if size not in results:
                results[size] = res
                merged_from.append(size)
        results = dict(sorted(results.items(), key=lambda kv: int(kv[0])))
        if merged_from:
            command += f"  (sizes {', '.join(merged_from)} from: {earlier['command']})"
    figs: list[report.Figure] = []
    all_sizes = [int(s) for s in results]
    biggest = max(all_sizes)
    for size in all_sizes:
        figs += report.figures_for(size, results[str(size)], size == biggest)
        figs += writes.figures(size, results[str(size)])
        figs += timetravel.figures(size, results[str(size)].get("timetravel"))
        figs += doors_validate.figures(size, results[str(size)].get("doors_validate", {}))
        figs += doors_since.figures(size, results[str(size)].get("doors_since"))
        figs += snapshots.figures(size, results[str(size)].get("snapshots"),
                                  (results[str(size)].get("disk_build") or {}).get("rebuild_s"))
        figs += doors_cli.figures(size, results[str(size)].get("cli"))
    figs += report.cross_size(results)
    print()
    print(header)
    for scenario in ("rebuild", "restart", "cli", "writes", "queries", "timetravel", "http",
                     "memory", "validate/check"):
        text = report.table(figs, scenario)
        if text:
            print(f"\n== {scenario} ==\n{text}")
    elapsed = time.perf_counter() - t0
    print(f"\nsuite: {elapsed:.1f} s")
    ratios = report.ratios(figs)
    args.out.mkdir(parents=True, exist_ok=True)
    doc = {"mode": name, "command": command, "machine": info, "seed": args.seed,
           "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "seconds": round(elapsed, 1), "config": cfg, "results": results,
           "figures": report.to_json(figs), "ratios": ratios}
    (args.out / f"results-{name}.partial.json").unlink(missing_ok=True)
    out_json.write_text(json.dumps(doc, indent=1, default=str))
    for path in report.charts(results, figs, args.out):
        print(f"chart: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    baseline = DOCS / "baseline-quick.json"  # the recorded one, wherever --out points
    if args.record:
        baseline.write_text(json.dumps({"recorded": doc["finished"], "command": command,
                                        "machine": {k: info[k] for k in ("nproc", "cpu_model",
                                                                         "memory_gib")},
                                        "ratios": ratios}, indent=1))
        print(f"recorded {len(ratios)} ratios in {baseline}")
    if args.check:
        ok, text = report.check(ratios, baseline)
        print(text)
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The CLI's read commands from a cold process, each beside a raw pyoxigraph process.

    python -m bench.doors_cli --kb DIR --projection DIR --raw DIR [--runs 5] [--in-memory]

What a user or a script meets when it runs ``geokb status X`` (issue 12: every read
command within **1 s of process start** at 1M claims): a fresh interpreter, the imports,
the open of the on-disk projection (its log mark checked against ``events.jsonl``), the
command's own work and its output. Each command runs ``--runs`` times in a new process;
the median wall-clock time is reported beside two baselines measured in the same run:

* **raw pyoxigraph**: a new interpreter that imports pyoxigraph, opens the same quads in a
  read-only on-disk store and answers the status command's question in one SPARQL query —
  the floor of any Python CLI over this engine;
* **``--in-memory``** (with ``--in-memory``; only where a replay fits): ``geokb status``
  replaying the whole log, the behaviour before the persistent projection.

A copy of the KB's log is not needed: the projection stands at the log's head, so each
command only checks the log mark (the file's stat) and answers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import ROOT

#: the read commands of issue 12 and their arguments (``{entity}``, ``{claim}`` filled in)
COMMANDS: dict[str, list[str]] = {
    "status": ["status", "{entity}"],
    "timeline": ["timeline", "{entity}"],
    "show": ["show", "{claim}"],
    "query": ["query", "SELECT ?p ?o WHERE { id:{entity} ?p ?o } LIMIT 20"],
    "log": ["log", "--limit", "20"],
    "conflicts": ["conflicts", "--limit", "20"],
}

RAW_STATUS = """import sys, pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
rows = list(store.query(
    "SELECT ?claim ?status WHERE { ?claim <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> "
    "<https://w3id.org/geokb/id/" + sys.argv[2] + "> ; "
    "<http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?status }"))
print(len(rows))
"""

#: the target of issue 12 for every read command, seconds from process start
TARGET_S = 1.0


def _geokb() -> list[str]:
    script = Path(sys.executable).with_name("geokb")
    return [str(script)] if script.exists() else [sys.executable, "-m", "geokb.cli.app"]


def _first_claim(kb: Path, entity: str) -> str:
    """A claim about ``entity`` from the log's first lines (no replay)."""
    with (kb / "events.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            payload = event.get("payload", {})
            if event.get("type") == "ClaimAsserted" \
                    and str(payload.get("subject", "")).rsplit("/", 1)[-1] == entity:
                return str(payload["claim"])
    raise LookupError(f"no claim about {entity} in {kb}")


def _clock(cmd: list[str], runs: int, timeout: float) -> dict[str, Any]:
    """Median (and every) wall-clock time of ``runs`` fresh processes running ``cmd``."""
    times: list[float] = []
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              check=False)
        times.append(time.perf_counter() - t)
        if done.returncode != 0:
            return {"error": f"{' '.join(cmd[:4])} … exit {done.returncode}: "
                             f"{done.stderr[-600:]}"}
    return {"median_s": statistics.median(times), "runs_s": [round(x, 3) for x in times]}


def run(kb: Path, projection: Path, raw: Path | None, entity: str, *, runs: int = 5,
        in_memory: bool = False, timeout: float = 600) -> dict[str, Any]:
    """Every read command cold, the raw pyoxigraph process and (``in_memory``) the old
    replay, in this order, on the same machine in the same minutes; ``{"error": …}`` if the
    scenario could not run (a command's own failure is recorded in its entry)."""
    try:
        return _run(kb, projection, raw, entity, runs, in_memory, timeout)
    except (OSError, LookupError, subprocess.SubprocessError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def _run(kb: Path, projection: Path, raw: Path | None, entity: str, runs: int,
         in_memory: bool, timeout: float) -> dict[str, Any]:
    claim = _first_claim(kb, entity)
    base = [*_geokb(), "--kb", str(kb), "--projection", str(projection), "--no-progress"]
    out: dict[str, Any] = {"entity": entity, "claim": claim, "runs": runs}
    out["python_s"] = _clock([sys.executable, "-c", "pass"], runs, timeout)
    if raw is not None and raw.exists():
        out["raw_status"] = _clock([sys.executable, "-c", RAW_STATUS, str(raw), entity], runs,
                                   timeout)
    for name, args in COMMANDS.items():
        filled = [a.replace("{entity}", entity).replace("{claim}", claim) for a in args]
        out[name] = _clock([*base, *filled], runs, timeout)
    if in_memory:
        out["status_in_memory"] = _clock(
            [*_geokb(), "--kb", str(kb), "--in-memory", "--no-progress", "status", entity], 1,
            timeout)
    return out


def figures(size: int, r: dict[str, Any] | None) -> list[Any]:
    """Rows of the *cli* table: each command beside raw pyoxigraph (target: ≤ 1 s)."""
    from .report import Figure

    if not r:
        return []
    if "error" in r:
        return [Figure("cli", "CLI cold start", size, None, "", note=str(r["error"])[:200])]
    raw = r.get("raw_status", {}).get("median_s")
    out = []
    for name in COMMANDS:
        ours = r.get(name, {}).get("median_s")
        if ours is None:
            out.append(Figure("cli", f"geokb {name}, cold", size, None, "s",
                              note=str(r.get(name, {}).get("error", ""))[:200]))
            continue
        out.append(Figure("cli", f"geokb {name}, cold (process start → exit), s", size, ours,
                          "s", raw, "raw pyoxigraph process, status query",
                          ours / raw if raw else None, "lower", f"≤ {TARGET_S:g} s",
                          ours <= TARGET_S, f"cli.{name}_vs_raw"))
    old = r.get("status_in_memory", {}).get("median_s")
    if old is not None and "median_s" in r.get("status", {}):
        ours = r["status"]["median_s"]
        out.append(Figure("cli", "geokb status, cold, vs --in-memory replay, s", size, ours,
                          "s", old, "geokb --in-memory status", ours / old, "lower",
                          key="cli.status_vs_in_memory"))
    return out


def print_figures(size: int, r: dict[str, Any]) -> None:
    for fig in figures(size, r):
        if fig.ours is None:
            print(f"  {size:>9,}  {fig.name:<44} failed: {fig.note}")
            continue
        base = f"{fig.baseline_name}: {fig.baseline:.3f} s  {fig.ratio:.2f}×" \
            if fig.baseline else ""
        verdict = "" if fig.met is None else ("  met" if fig.met else "  NOT met")
        print(f"  {size:>9,}  {fig.name:<52} {fig.ours:7.3f} s   {base}{verdict}")
    if "python_s" in r and "median_s" in r["python_s"]:
        print(f"  {'':>9}  python -c pass: {r['python_s']['median_s']:.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.doors_cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--projection", type=Path, required=True,
                        help="the KB's on-disk projection, at the log's head")
    parser.add_argument("--raw", type=Path, help="a raw pyoxigraph store of the same quads")
    parser.add_argument("--entity", required=True, help="an entity slug to ask about")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--in-memory", action="store_true",
                        help="also time geokb --in-memory status once (a whole replay)")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args(argv)
    r = run(args.kb, args.projection, args.raw, args.entity, runs=args.runs,
            in_memory=args.in_memory)
    manifest = args.kb / "manifest.json"  # the synthetic KB's (bench/generate.py)
    claims = json.loads(manifest.read_text())["claims"] if manifest.exists() else 0
    print_figures(claims, r)
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

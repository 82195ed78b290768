"""``geokb validate`` and ``geokb check`` at scale, each beside its baseline in the same run.

    python -m bench.doors_validate --claims 10000 [--seed 1] [--cache DIR] [--added 100]

On a copy of the synthetic KB with ``--added`` claims appended after an anchor (the head
before them), in one fresh process:

* **SHACL, whole KB**: the whole projection as one graph by pyshacl-turbo (what ``geokb
  validate`` did before partitions: the baseline) against the partitions of
  :mod:`geokb.ops.partitions` by the KB's whole-KB engine; both reports must agree;
* **validate --since**: ``ops.validate`` with the anchor (trusted prefix applied without
  rules, the new events replayed with every rule, SHACL over what they touch) against
  the full ``ops.validate`` (baseline);
* **check**: the four shipped checks against the old whole-graph check queries
  (:data:`OLD_CHECKS`, each within ``--old-budget`` seconds: an old check past it is
  counted at the budget, so its ratio is a lower bound), and ``check --since``.

Prints each figure beside its baseline and writes JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, machine
from .generate import ensure_kb

OLD_PREFIXES = """PREFIX gk: <https://w3id.org/geokb/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX modality: <https://w3id.org/geokb/modality/>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
#: the four checks as shipped before they were rewritten for the indexes
OLD_CHECKS = {
    "analysis-not-in-current-view": OLD_PREFIXES + """ASK {
  ?claim gk:modality ?modality ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
  FILTER(?modality != modality:asserted)
  FILTER NOT EXISTS { ?claim gk:knownUntilPosition ?ended }
  ?s ?p ?o .
  FILTER NOT EXISTS {
    ?other rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; gk:modality modality:asserted .
    FILTER NOT EXISTS { ?other gk:knownUntilPosition ?end }
  } }""",
    "every-claim-has-evidence": OLD_PREFIXES + """ASK { FILTER NOT EXISTS { ?claim a gk:Claim .
  FILTER NOT EXISTS { ?claim prov:wasDerivedFrom ?source ; gk:evidence ?e .
    ?e oa:hasSelector ?s . ?s oa:exact ?quote . } } }""",
    "facilities-have-status": OLD_PREFIXES + """ASK { FILTER NOT EXISTS {
  VALUES ?type { gk:MilitaryFacility gk:NavalBase gk:Airfield } ?facility a ?type .
  FILTER NOT EXISTS { ?claim rdf:subject ?facility ; rdf:predicate gk:status .
    FILTER NOT EXISTS { ?claim gk:knownUntilPosition ?end } } } }""",
    "no-live-claim-cites-retracted-source": OLD_PREFIXES + """ASK { FILTER NOT EXISTS {
  ?claim prov:wasDerivedFrom ?source . ?source gk:retractedIn ?event .
  FILTER NOT EXISTS { ?claim gk:knownUntilPosition ?end } } }""",
}


def prepare(kb: Path, work: Path, added: int) -> str:
    """Copy ``kb`` to ``work`` and append ``added`` claims modelled on its first ones;
    returns the anchor (the head before them)."""
    from geokb.log.events import Event
    from geokb.log.file import FileEventStore
    from geokb.ops.anchor import head_text

    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(kb, work, ignore=shutil.ignore_patterns("manifest.json"))
    (work / "checks").mkdir(exist_ok=True)
    for rq in (ROOT / "kb" / "checks").glob("*.rq"):
        shutil.copy(rq, work / "checks" / rq.name)
    log = FileEventStore(work)
    anchor = head_text(log)
    models = [e for e in log.read() if e.type == "ClaimAsserted"][:added]
    events = [Event("ClaimAsserted", {**m.payload, "claim": f"{m.payload['claim']}-pr{i}"})
              for i, m in enumerate(models)]
    log.append(events, expected_position=None, recorded_by="bench:synthetic")
    return anchor


def measure(work: Path, anchor: str, old_budget: float, quick: bool = False) -> dict[str, Any]:
    """Every figure, in this process (see the module's text). ``quick`` (``python -m
    bench --quick``) leaves out the whole-graph baseline and the two full ``validate``
    runs, and compares SHACL over what the new claims touch with SHACL in partitions."""
    from pyoxigraph import DefaultGraph

    from geokb.kb import KnowledgeBase
    from geokb.ops.checks import ask_within
    from geokb.ops.partitions import PartitionedShacl
    from geokb.projection.quads import SYSTEM_GRAPH, shacl_input
    from geokb.projection.store import ProjectionStore
    from geokb.shacl.engines import shared
    from geokb.shacl.reach import reach_of

    out: dict[str, Any] = {}
    kb = KnowledgeBase(work, catch_up=False)
    t = time.perf_counter()
    store = ProjectionStore()
    store.apply(kb.log.read(after=0))
    out["replay_s"] = time.perf_counter() - t
    engine = kb.shacl.for_whole_kb(kb.shapes, kb.ontology)
    turbo = shared("turbo", kb.shapes, kb.ontology)
    parts = PartitionedShacl(store, engine, reach_of(kb.shapes))
    bases = list(dict.fromkeys(
        b for e in kb.log.read() for b in (
            e.payload.get("claim") or e.payload.get("entity") or e.payload.get("source"),
            f"https://w3id.org/geokb/event/{e.id}") if b))
    t = time.perf_counter()
    outcome = parts.run(bases)
    out["shacl_partitions_s"] = time.perf_counter() - t
    out["shacl_engine"] = engine.name
    out["partitions"] = outcome.partitions
    out["largest_partition_triples"] = outcome.largest
    position = int(anchor.split()[0])
    t = time.perf_counter()
    touched = parts.run(parts.affected(kb.log.read(after=position)))
    out["shacl_since_s"] = time.perf_counter() - t
    out["shacl_since_nodes"] = touched.bases
    if quick:
        out["shacl_reports_agree"] = True  # not compared: no whole-graph run
    else:
        t = time.perf_counter()
        whole = turbo.validate(shacl_input([*store.quads(graph=DefaultGraph()),
                                            *store.quads(graph=SYSTEM_GRAPH)]))
        out["shacl_whole_turbo_s"] = time.perf_counter() - t
        key = [(r.focus, r.path, r.message) for r in whole.results]
        out["shacl_reports_agree"] = key == [(r.focus, r.path, r.message)
                                             for r in outcome.report.results]
        del whole
    del store
    _validate_runs(kb, anchor, out, quick)
    live = KnowledgeBase(work)
    t = time.perf_counter()
    results = live.check(work / "checks")
    out["check_s"] = time.perf_counter() - t
    out["check_each_s"] = {r.name: round(r.seconds, 3) for r in results}
    t = time.perf_counter()
    live.check(work / "checks", since=anchor)
    out["check_since_s"] = time.perf_counter() - t
    t = time.perf_counter()  # the baseline of the checks: pyoxigraph reading every quad once
    for _row in live.projection.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"):
        pass
    out["scan_s"] = time.perf_counter() - t
    old_total = 0.0
    out["old_check_each_s"] = {}
    for name, text in OLD_CHECKS.items():
        answer, seconds = ask_within(live.query, text, old_budget, prepare=live.prepare,
                                     hold=live.holding_still)
        old_total += seconds
        out["old_check_each_s"][name] = round(seconds, 3) if answer is not None else \
            f">{old_budget:g}"
    out["old_check_s"] = old_total
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _validate_runs(kb: Any, anchor: str, out: dict[str, Any], quick: bool) -> None:
    """``validate --since`` and a full ``validate`` (not in ``quick``)."""
    if quick:
        return
    t = time.perf_counter()
    since = kb.validate(since=anchor)
    out["validate_since_s"] = time.perf_counter() - t
    out["validate_since_ok"] = since.ok
    t = time.perf_counter()
    full = kb.validate()
    out["validate_full_s"] = time.perf_counter() - t
    out["validate_full_ok"] = full.ok


def run(kb: Path, *, added: int = 100, old_budget: float = 10.0,
        timeout: float = 1800, quick: bool = False) -> dict[str, Any]:
    """:func:`measure` in a fresh process on a prepared copy of ``kb``; ``{"error": …}`` if
    it failed or ran out of ``timeout`` seconds."""
    with tempfile.TemporaryDirectory(prefix="geokb-doors-validate-") as tmp:
        work = Path(tmp) / "kb"
        anchor = prepare(kb, work, added)
        cmd = [sys.executable, "-m", "bench.doors_validate", "--worker", str(work), anchor,
               str(old_budget), "quick" if quick else "full"]
        try:
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:g} s"}
        if done.returncode != 0:
            return {"error": done.stderr[-2000:]}
        result: dict[str, Any] = json.loads(done.stdout)
        result["added"] = added
        return result


def ratios(size: int, r: dict[str, Any]) -> list[tuple[str, str, float, str, float, str]]:
    """(key, figure, ours, baseline name, baseline, better) for the report and --check."""
    if "error" in r:
        return []
    out = [("doors_validate.shacl_since_vs_partitions",
            f"SHACL over what +{r['added']} claims touch", r["shacl_since_s"],
            "SHACL over the KB in partitions", r["shacl_partitions_s"], "lower"),
           ("doors_validate.check_vs_old", "the four checks", r["check_s"],
            "the old check queries (capped)", r["old_check_s"], "lower")]
    if "scan_s" in r:  # uncapped, so its ratio does not drift with the load (--check's)
        out.append(("doors_validate.check_vs_scan", "the four checks", r["check_s"],
                    "pyoxigraph counting every quad", r["scan_s"], "lower"))
    if "shacl_whole_turbo_s" in r:
        out.append(("doors_validate.shacl_partitions_vs_whole",
                    "SHACL over the KB in partitions", r["shacl_partitions_s"],
                    "whole graph, pyshacl-turbo", r["shacl_whole_turbo_s"], "lower"))
    if "validate_full_s" in r:
        out.append(("doors_validate.since_vs_full", f"validate --since (+{r['added']} claims)",
                    r["validate_since_s"], "full validate", r["validate_full_s"], "lower"))
    return out


def figures(size: int, r: dict[str, Any]) -> list[Any]:
    """The figures of one size for :mod:`bench.report` (scenario ``validate/check``)."""
    from .report import Figure

    return [Figure("validate/check", name, size, ours, "s", base, base_name,
                   ours / max(base, 1e-9), better, key=key)
            for key, name, ours, base_name, base, better in ratios(size, r)]


def print_figures(size: int, r: dict[str, Any]) -> None:
    if "error" in r:
        print(f"  {size:,}: validate/check bench failed: {r['error']}")
        return
    for _key, name, ours, base_name, base, _better in ratios(size, r):
        print(f"  {size:>9,}  {name:<38} {ours:8.2f} s   {base_name}: {base:8.2f} s   "
              f"{ours / max(base, 1e-9):6.3f}×")
    print(f"  {'':>9}  replay {r['replay_s']:.1f} s; {r['partitions']} partitions of up to "
          f"{r['largest_partition_triples']:,} triples ({r['shacl_engine']}); reports agree: "
          f"{r['shacl_reports_agree']}; check --since {r['check_since_s']:.2f} s; peak RSS "
          f"{r['peak_rss_mib']:.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        print(json.dumps(measure(Path(argv[1]), argv[2], float(argv[3]),
                                 quick=argv[4:5] == ["quick"])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--added", type=int, default=100)
    parser.add_argument("--old-budget", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    kb, manifest = ensure_kb(args.claims, args.seed, args.cache)
    m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu_model']}, {m['memory_gib']} GiB; "
          f"{manifest['claims']:,} claims", flush=True)
    r = run(kb, added=args.added, old_budget=args.old_budget, quick=args.quick)
    print_figures(manifest["claims"], r)
    if args.json is not None:
        args.json.write_text(json.dumps(r, indent=1))
    return 0 if "error" not in r and r.get("shacl_reports_agree") else 1


if __name__ == "__main__":
    sys.exit(main())

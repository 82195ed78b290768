"""Write the measured part of docs/benchmarks.md from docs/benchmarks/results-<mode>.json:
the command, the machine, the targets at the largest size, and every figure with its
baseline and ratio. The prose around the markers is kept as written.

    python -m bench.docs [--mode full]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import ROOT
from .report import Figure, fmt, markdown_table

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- results:begin (written by python -m bench.docs) -->"
END = "<!-- results:end -->"

#: the issue's targets and the figure (scenario, name prefix) that answers each
TARGETS: list[tuple[str, str, str | tuple[str, ...]]] = [
    ("1. Rebuild ≥ 70% of raw pyoxigraph's load rate", "rebuild", "replay in memory, quads/s"),
    ("1. 1M claims rebuilt well under a minute", "rebuild", "replay in memory, seconds"),
    ("2. Restart on disk ≤ 2 s at 1M", "restart", "on-disk restart"),
    ("3. Batch ingest ≥ 2,000 claims/s with SHACL (projection in memory, the default)",
     "writes", "batch ingest with SHACL, projection in memory"),
    ("3. Batch ingest ≥ 2,000 claims/s with SHACL (projection on disk)", "writes",
     "batch ingest with SHACL, projection on disk"),
    ("3. Single-claim HTTP posts ≥ 300/s", "writes", "HTTP POST"),
    ("3. Validation (SHACL) cost per claim at 1M ≤ 1.2 × at 10k", "writes",
     "SHACL (compiled engine) per claim in a batch: cost"),
    ("3. Admission (rules + lookups + SHACL) per claim at 1M ≤ 1.2 × at 10k", "writes",
     "admission per claim in a batch: cost"),
    ("4. status p50 ≤ 1 ms, ≤ 1.5 × raw", "queries",
     ("status on disk, p50", "status in memory, p50")),
    ("4. status p99 ≤ 5 ms", "queries",
     ("status on disk, p99", "status in memory, p99")),
    ("4. as-of status p50 ≤ 1 ms, ≤ 1.5 × raw", "queries",
     ("as-of status on disk, p50", "as-of status in memory, p50")),
    ("4. as-of status p99 ≤ 5 ms", "queries",
     ("as-of status on disk, p99", "as-of status in memory, p99")),
    ("4. timeline p50 ≤ 5 ms, ≤ 1.5 × raw", "queries",
     ("timeline on disk, p50", "timeline in memory, p50")),
    ("5. cached status over HTTP ≥ oxigraph serve", "http", "SPARQL status query, cached, 4"),
    ("5. unique status over HTTP ≥ 70% of oxigraph serve", "http",
     "SPARQL status query, unique, 4"),
    ("5. ≥ 100 × rdflib-endpoint", "http", "SPARQL status query, unique, 4"),
    ("6. 1M served on disk within 1.5 GB RSS", "memory", "serving on disk"),
]


def figures(doc: dict[str, Any]) -> list[Figure]:
    return [Figure(**f) for f in doc["figures"]]


def target_rows(figs: list[Figure]) -> list[str]:
    sizes = sorted({f.size for f in figs})
    biggest = sizes[-1] if sizes else 0
    rows = ["| target | measured at the largest size that ran | met |", "|---|---|---|"]
    for label, scenario, prefix in TARGETS:
        prefixes = (prefix,) if isinstance(prefix, str) else prefix
        cands = [f for f in figs if f.scenario == scenario and f.name.startswith(prefixes)
                 and f.target]
        if "rdflib" in label:
            cands = [f for f in cands if "rdflib" in f.baseline_name]
        elif scenario == "http":
            cands = [f for f in cands if f.baseline_name == "oxigraph serve"]
        if not cands:
            rows.append(f"| {label} | not measured | — |")
            continue
        best = max(cands, key=lambda f: (f.size, -next(
            i for i, p in enumerate(prefixes) if f.name.startswith(p))))
        at = f"{best.size:,} claims: {fmt(best.ours, best.unit)} {best.unit}"
        if best.baseline is not None:
            at += f" vs {fmt(best.baseline, best.unit)} ({best.baseline_name})"
        if best.ratio is not None:
            at += f", ratio {best.ratio:.2f}×"
        if best.size != biggest:
            at += f" (largest size with this figure; the run went to {biggest:,})"
        met = "—" if best.met is None else ("**met**" if best.met else "**not met**")
        rows.append(f"| {label} | {at} | {met} |")
    return rows


def render(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    figs = figures(doc)
    sizes = sorted({f.size for f in figs})
    lines = [
        BEGIN,
        "",
        f"Measured by `{doc['command']}` (finished {doc['finished']}, {doc['seconds']:,.0f} s).",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu_model']}), {m['memory_gib']} GiB; "
        f"Python {m['versions'].get('python')}, pyoxigraph {m['versions'].get('pyoxigraph')}, "
        f"pySHACL {m['versions'].get('pyshacl')}, rdflib {m['versions'].get('rdflib')}, "
        f"oxigraph CLI {m['versions'].get('oxigraph', 'absent')}, rdflib-endpoint "
        f"{m['versions'].get('rdflib-endpoint', 'absent')}; geokb {m['geokb_commit']}.",
        "",
        "Sizes: " + ", ".join(f"{s:,}" for s in sizes) + " claims. Per size, the synthetic KB:",
        "",
        "| claims | events | sources | entities | claims per entity (median / p99 / max) "
        "| log | generated in |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for size in sizes:
        g = doc["results"][str(size)].get("generate", {})
        cpe = g.get("claims_per_entity", {})
        lines.append(f"| {size:,} | {g.get('events', 0):,} | {g.get('sources', 0):,} | "
                     f"{g.get('entities_declared', 0):,} | {cpe.get('median')} / {cpe.get('p99')}"
                     f" / {cpe.get('max')} | {g.get('log_bytes', 0) / 2**20:,.0f} MiB | "
                     f"{g.get('generation_seconds', 0):.0f} s |")
    lines += ["", "### Targets", "", *target_rows(figs), "", "### Every figure", "",
              markdown_table(figs), ""]
    charts = sorted((ROOT / "docs" / "benchmarks").glob("*.png"))
    if charts:
        lines += ["### Charts", ""]
        lines += [f"![{c.stem}](benchmarks/{c.name})" for c in charts]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.docs")
    parser.add_argument("--mode", default="full")
    args = parser.parse_args(argv)
    doc = json.loads((ROOT / "docs" / "benchmarks" / f"results-{args.mode}.json").read_text())
    from .report import charts

    for path in charts(doc["results"], figures(doc), ROOT / "docs" / "benchmarks"):
        print(f"chart: {path}")
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    DOC.write_text(head + render(doc) + tail)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

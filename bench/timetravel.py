"""Time travel on SPARQL: the same query on the current view (the baseline), ``as_of`` a
past log position (first at that position, then again at it) and ``valid_at`` a date,
with the process's RSS after many distinct ``as_of`` values.

Run in a fresh process by :func:`scenario` (``python -m bench.timetravel JSON``), so the
RSS figures are this scenario's alone. The figures for the report: :func:`figures`.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import RESULT_MARK, ROOT, emit, kill_group, latency_summary, proc_status
from .generate import load_manifest
from .report import Figure
from .sparql import ID

#: One entity's statements in the current view and its records, with the objects' labels
#: (a join across the default graph): what a reader of the dataset asks most.
QUERY = """SELECT ?p ?o ?label WHERE {
  <ENTITY> ?p ?o .
  OPTIONAL { ?o rdfs:label ?label }
}"""
DATES = ("2023", "2024-06", "2025-01-15", "2025-09", "2026")


def _rss() -> int:
    import gc

    gc.collect()
    return proc_status("self", "VmRSS")


def run(args: dict[str, Any]) -> dict[str, Any]:
    """The measurements on the KB at ``args["kb"]`` (replayed in memory first)."""
    from geokb.kb import KnowledgeBase

    kb_dir = Path(args["kb"])
    manifest = load_manifest(kb_dir)
    kb = KnowledgeBase(kb_dir)
    head = kb.position
    rng = random.Random(23)
    entities = [slug for slug, _n in manifest["query_entities"]][:200]
    n = int(args.get("n", 40))
    distinct = int(args.get("distinct_as_of", 6))

    def clock(slug: str, **time_: Any) -> float:
        text = QUERY.replace("ENTITY", ID + slug)
        t = time.perf_counter()
        list(kb.query(text, **time_))
        return time.perf_counter() - t

    for slug in entities[:5]:  # warm-up
        clock(slug)
    current = [clock(slug) for slug in entities[:n]]
    positions = sorted({rng.randint(head // 2, head - 1) for _ in range(distinct * 3)})
    positions = positions[:distinct]
    r0 = _rss()
    first: list[float] = []
    again: list[float] = []
    growth: list[int] = []  # RSS growth after each distinct position
    deadline = time.perf_counter() + float(args.get("seconds", 120))
    for i, pos in enumerate(positions):
        if time.perf_counter() > deadline:
            break
        slug = entities[i % len(entities)]
        first.append(clock(slug, as_of=pos))
        again.append(clock(slug, as_of=pos))
        growth.append(_rss() - r0)
    rss_after = growth[-1] if growth else 0
    valid = []
    for i, day in enumerate(DATES[: int(args.get("valid_n", 3))]):
        slug = entities[i % len(entities)]
        valid.append(clock(slug, valid_at=day))
    return {"claims": manifest["claims"], "events": head,
            "current": latency_summary(current), "as_of_first": latency_summary(first),
            "as_of_again": latency_summary(again), "valid_at": latency_summary(valid),
            "distinct_as_of": len(first), "rss_growth_bytes": rss_after,
            "rss_growth_each_mib": [round(g / 2**20) for g in growth]}


def scenario(kb_dir: Path, cfg: dict[str, Any], timeout: float) -> dict[str, Any]:
    """:func:`run` in a fresh process; ``{"error": …}`` if it failed or ran out of time."""
    args = {"kb": str(kb_dir), "n": cfg.get("timetravel_n", 40),
            "distinct_as_of": cfg.get("timetravel_distinct", 6),
            "valid_n": cfg.get("timetravel_valid_n", 3),
            "seconds": cfg.get("timetravel_seconds", 120)}
    proc = subprocess.Popen([sys.executable, "-m", "bench.timetravel", json.dumps(args)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.communicate()
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
            return result
    return {"error": f"exited {proc.returncode} without a result", "stderr": err[-2000:]}


def figures(size: int, r: dict[str, Any] | None) -> list[Figure]:
    """The time-travel rows: p50 of each time-travel query beside the same query on the
    current view (target: within 3×), and the RSS growth over the distinct ``as_of``."""
    if not r:
        return []
    if "error" in r:
        return [Figure("timetravel", "SPARQL time travel", size, None, "",
                       note=str(r["error"])[:200])]
    base = r["current"]["p50_ms"]
    out = []
    for key, name in (("as_of_first", "as_of, first query at a position, p50 ms"),
                      ("as_of_again", "as_of, again at the same position, p50 ms"),
                      ("valid_at", "valid_at, p50 ms")):
        ours = r[key]["p50_ms"]
        ratio = ours / base if base else None
        out.append(Figure("timetravel", name, size, ours, "ms", base, "same query, current view",
                          ratio, "lower", "≤ 3×", ratio is not None and ratio <= 3,
                          f"timetravel.{key}_vs_current"))
    each = r.get("rss_growth_each_mib", [])
    out.append(Figure("timetravel", f"RSS growth after {r['distinct_as_of']} distinct as_of, MiB",
                      size, r["rss_growth_bytes"] / 2**20, "MiB",
                      note="after each: " + ", ".join(map(str, each))))
    return out


if __name__ == "__main__":
    emit(run(json.loads(sys.argv[1])))

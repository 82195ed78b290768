"""Time travel on SPARQL: the same query on the current view (the baseline), ``as_of`` a
past log position (first at that position, then again at it) and ``valid_at`` a date,
with the process's RSS after many distinct ``as_of`` values.

Run in a fresh process by :func:`scenario` (``python -m bench.timetravel JSON``), so the
RSS figures are this scenario's alone. The figures for the report: :func:`figures`.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from geokb.vocab import PREFIXES as PREFIXES_

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


def _projection(args: dict[str, Any], kb_dir: Path, work: Path) -> tuple[Path, float]:
    """An on-disk projection with its checkpoints for this run, in ``work``: a hard-link
    copy of ``args["projection"]`` (and its history) if given, else built here (seconds)."""
    import pyoxigraph as ox

    from geokb.kb import KnowledgeBase

    target = work / "projection"
    given = args.get("projection")
    t = time.perf_counter()
    if given:
        ox.Store.read_only(given).backup(str(target))
        history = Path(given + ".history")
        if history.is_dir():
            (work / "projection.history").mkdir()
            for point in history.iterdir():
                ox.Store.read_only(str(point)).backup(str(work / "projection.history" /
                                                          point.name))
    else:
        KnowledgeBase(kb_dir, projection_path=target).close()
    return target, time.perf_counter() - t


def run(args: dict[str, Any]) -> dict[str, Any]:
    """The measurements on the KB at ``args["kb"]`` with its projection on disk (with
    checkpoints: :mod:`geokb.projection.history`), and the old way (a replay of the prefix
    in memory) once as the reference."""
    import tempfile

    from geokb.kb import KnowledgeBase
    from geokb.projection.store import ProjectionStore

    kb_dir = Path(args["kb"])
    manifest = load_manifest(kb_dir)
    work = Path(tempfile.mkdtemp(prefix="geokb-bench-tt-"))
    try:
        projection, built = _projection(args, kb_dir, work)
        kb = KnowledgeBase(kb_dir, projection_path=projection)
        assert kb.past is not None
        result = _measure(kb, manifest, args)
        head = kb.position
        rng = random.Random(5)
        replay = []  # the old mechanism: the prefix replayed into memory
        for _ in range(int(args.get("replay_n", 1))):
            pos = rng.randint(head // 2, head - 1)
            t = time.perf_counter()
            store = ProjectionStore()
            store.apply(kb.log.read(after=0, limit=pos))
            list(store.query(QUERY.replace("ENTITY", ID + result["slug"]),
                             prefixes=PREFIXES_))
            replay.append(time.perf_counter() - t)
            del store
        kb.close()
        result.update(replay=latency_summary(replay), build_s=round(built, 2),
                      projection_bytes=_unique_size([projection]),
                      history_bytes=_unique_size([projection, work / "projection.history"])
                      - _unique_size([projection]),
                      checkpoints=len(kb.past.checkpoints()), every=kb.past.every)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _unique_size(paths: list[Path]) -> int:
    """Bytes of the files under ``paths``, each inode once (checkpoints share hard links)."""
    seen: dict[tuple[int, int], int] = {}
    for root in paths:
        for f in root.rglob("*") if root.is_dir() else ():
            if f.is_file():
                st = f.stat()
                seen[(st.st_dev, st.st_ino)] = st.st_size
    return sum(seen.values())


def _measure(kb: Any, manifest: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
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
    positions = list(dict.fromkeys(rng.randint(head // 2, head - 1)
                                   for _ in range(distinct * 3)))[:distinct]
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
    valid, valid_again = [], []
    for i, day in enumerate(DATES[: int(args.get("valid_n", 3))]):
        slug = entities[i % len(entities)]
        valid.append(clock(slug, valid_at=day))
        valid_again.append(clock(slug, valid_at=day))
    return {"claims": manifest["claims"], "events": head, "slug": entities[0],
            "current": latency_summary(current), "as_of_first": latency_summary(first),
            "as_of_again": latency_summary(again), "valid_at": latency_summary(valid),
            "valid_at_again": latency_summary(valid_again),
            "distinct_as_of": len(first), "rss_growth_bytes": growth[-1] if growth else 0,
            "rss_growth_each_mib": [round(g / 2**20) for g in growth[::max(len(growth) // 10,
                                                                            1)]]}


def scenario(kb_dir: Path, cfg: dict[str, Any], timeout: float) -> dict[str, Any]:
    """:func:`run` in a fresh process; ``{"error": …}`` if it failed or ran out of time."""
    args = {"kb": str(kb_dir), "n": cfg.get("timetravel_n", 40),
            "distinct_as_of": cfg.get("timetravel_distinct", 200),
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
                      ("valid_at", "valid_at, first query at a date, p50 ms"),
                      ("valid_at_again", "valid_at, again at the same date, p50 ms"),
                      ("replay", "as_of the old way (replay of the prefix), ms")):
        if key not in r:
            continue
        ours = r[key]["p50_ms"]
        ratio = ours / base if base else None
        old = key == "replay"  # the reference, not held to the target
        out.append(Figure("timetravel", name, size, ours, "ms", base, "same query, current view",
                          ratio, "lower", "" if old else "≤ 3×",
                          None if old else ratio is not None and ratio <= 3,
                          f"timetravel.{key}_vs_current"))
    each = r.get("rss_growth_each_mib", [])
    out.append(Figure("timetravel", f"RSS growth after {r['distinct_as_of']} distinct as_of, MiB",
                      size, r["rss_growth_bytes"] / 2**20, "MiB",
                      note="sampled along the way: " + ", ".join(map(str, each))))
    if "history_bytes" in r:
        out.append(Figure("timetravel", f"checkpoints (every {r['every']:,} events), MiB "
                          "beyond the projection's", size, r["history_bytes"] / 2**20, "MiB",
                          r["projection_bytes"] / 2**20, "the projection on disk",
                          note=f"{r['checkpoints']} checkpoints; built in {r['build_s']} s"))
    return out


if __name__ == "__main__":
    emit(run(json.loads(sys.argv[1])))

"""From raw measurements to figures: each beside its same-run baseline, as a ratio, with
its target marked met or not; tables on stdout, JSON, PNG charts, and the ``--check``
comparison against recorded ratios."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

GROSS = 3.0  # --check fails only when a ratio is more than this many times worse


@dataclass
class Figure:
    scenario: str
    name: str
    size: int
    ours: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None  # ours / baseline
    better: str = "higher"  # which way the ratio improves
    target: str = ""
    met: bool | None = None
    key: str = ""  # stable id of the ratio for --check
    note: str = ""


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or (isinstance(a, float) and math.isnan(a)) \
            or (isinstance(b, float) and math.isnan(b)):
        return None
    return a / b


def figures_for(size: int, r: dict[str, Any], biggest: bool) -> list[Figure]:
    """Every figure of one size's results (``biggest``: the largest size of the run, where
    the issue's at-1M targets are judged)."""
    out: list[Figure] = []
    at_1m = size >= 1_000_000

    def add(f: Figure) -> None:
        out.append(f)

    # -- rebuild ---------------------------------------------------------------------
    im = r.get("inmem") or {}
    if "rebuild_s" in im:
        quads = im["quads"]
        ours = quads / im["rebuild_s"]
        raw = im["raw_quads"] / im["raw_load_s"] if "raw_load_s" in im else None
        ratio = _ratio(ours, raw)
        if raw is not None:
            add(Figure("rebuild", "replay in memory, quads/s", size, ours, "quads/s", raw,
                       "pyoxigraph Store().load (N-Quads bytes)", ratio, "higher",
                       "≥ 0.70 × raw", None if ratio is None else ratio >= 0.70,
                       "rebuild.inmem_vs_load"))
        if "raw_bulk_load_s" in im:
            raw_b = im["raw_quads"] / im["raw_bulk_load_s"]
            rb = _ratio(ours, raw_b)
            add(Figure("rebuild", "replay in memory, quads/s", size, ours, "quads/s", raw_b,
                       "pyoxigraph Store().bulk_load", rb, "higher",
                       "≥ 0.70 × raw" if raw is None else "",
                       (rb >= 0.70 if rb is not None else None) if raw is None else None,
                       key="rebuild.inmem_vs_bulk_load",
                       note="" if raw is not None else "Store().load needs the file and the "
                       "store in memory together: not run at this size"))
        if "raw_extend_s" in im:
            raw_e = im["raw_quads"] / im["raw_extend_s"]
            add(Figure("rebuild", "replay in memory, quads/s", size, ours, "quads/s", raw_e,
                       "pyoxigraph Store().extend (parsed quads)", _ratio(ours, raw_e),
                       "higher", key="rebuild.inmem_vs_extend"))
        add(Figure("rebuild", "replay in memory, claims/s", size, im["claims"] / im["rebuild_s"],
                   "claims/s"))
        raw_s = im.get("raw_load_s") or im.get("raw_bulk_load_s")
        add(Figure("rebuild", "replay in memory, seconds", size, im["rebuild_s"], "s",
                   raw_s, "pyoxigraph load" if "raw_load_s" in im else "pyoxigraph bulk_load",
                   _ratio(im["rebuild_s"], raw_s), "lower",
                   "1M well under a minute (≤ 45 s)" if at_1m else "",
                   (im["rebuild_s"] <= 45) if at_1m else None))
        add(Figure("rebuild", "read + decode + hash-check only, s", size, im["read_s"], "s",
                   note="part of the replay time spent in the log reader"))
    elif im.get("skipped") or im.get("error"):
        add(Figure("rebuild", "replay in memory", size, None, "", note=str(
            im.get("skipped") or im.get("error"))[:200]))
    db = r.get("disk_build") or {}
    if "rebuild_s" in db:
        ours = db["quads"] / db["rebuild_s"]
        raw = db["raw_quads"] / db["raw_bulk_load_s"] if "raw_bulk_load_s" in db else None
        add(Figure("rebuild", "catch-up into on-disk projection, quads/s", size, ours,
                   "quads/s", raw, "pyoxigraph on-disk bulk_load", _ratio(ours, raw), "higher",
                   key="rebuild.disk_vs_bulk_load"))
        ox = r.get("oxigraph_load") or {}
        if "load_s" in ox:
            raw2 = db["quads"] / ox["load_s"]
            add(Figure("rebuild", "catch-up into on-disk projection, quads/s", size, ours,
                       "quads/s", raw2, "oxigraph load (CLI)", _ratio(ours, raw2), "higher",
                       key="rebuild.disk_vs_oxigraph_load"))
        add(Figure("rebuild", "catch-up into on-disk projection, seconds", size,
                   db["rebuild_s"], "s", (r.get("oxigraph_load") or {}).get("load_s"),
                   "oxigraph load (CLI)", _ratio(db["rebuild_s"],
                                                 (r.get("oxigraph_load") or {}).get("load_s")),
                   "lower"))
    # -- restart ---------------------------------------------------------------------
    rs = r.get("restart") or {}
    disk = rs.get("http_disk") or rs.get("probe_disk") or {}
    cold = rs.get("http_replay") or rs.get("probe_replay") or {}
    how = "geokb serve → first /api/health" if rs.get("http_disk") else \
        "process start → first kb.status answered"
    if "median_s" in disk:
        add(Figure("restart", f"on-disk restart ({how}), s", size, disk["median_s"], "s",
                   cold.get("median_s"), "cold in-memory replay (same path)",
                   _ratio(disk["median_s"], cold.get("median_s")), "lower",
                   "≤ 2 s at 1M" if at_1m else "≤ 2 s",
                   disk["median_s"] <= 2.0, "restart.disk_vs_replay",
                   "" if "median_s" in cold else str(cold.get("error") or cold.get("skipped")
                                                     or "")[:160]))
    elif disk.get("error"):
        add(Figure("restart", "on-disk restart", size, None, "", note=str(disk["error"])[:200]))
    # -- validated writes ------------------------------------------------------------
    w = r.get("writes") or {}
    if "ingest_claims_per_s" in w:
        raw = 1000 / w["raw_pyshacl_batch_per_claim_ms"] \
            if w.get("raw_pyshacl_batch_per_claim_ms") else None
        if "ingest_inmem_claims_per_s" in w:
            rate = w["ingest_inmem_claims_per_s"]
            add(Figure("writes", f"batch ingest with SHACL, projection in memory (the default; "
                       f"batches of {w['batch_size']}), claims/s", size, rate, "claims/s", raw,
                       "pySHACL alone on the same batch graph", _ratio(rate, raw), "higher",
                       "≥ 2,000 claims/s", rate >= 2000, "writes.ingest_inmem_vs_pyshacl"))
        add(Figure("writes", f"batch ingest with SHACL, projection on disk (batches of "
                   f"{w['batch_size']}), claims/s", size, w["ingest_claims_per_s"], "claims/s",
                   raw, "pySHACL alone on the same batch graph",
                   _ratio(w["ingest_claims_per_s"], raw), "higher", "≥ 2,000 claims/s",
                   w["ingest_claims_per_s"] >= 2000, "writes.ingest_vs_pyshacl"))
        add(Figure("writes", "admission per claim in a batch, ms", size,
                   w["admission_batch_per_claim_ms"], "ms",
                   w.get("raw_pyshacl_batch_per_claim_ms"), "pySHACL alone, same graph",
                   _ratio(w["admission_batch_per_claim_ms"],
                          w.get("raw_pyshacl_batch_per_claim_ms")), "lower",
                   key="writes.admission_batch_vs_pyshacl"))
        if "shacl_batch_per_claim_ms" in w:
            add(Figure("writes", "SHACL (compiled engine) per claim in a batch, ms", size,
                       w["shacl_batch_per_claim_ms"], "ms",
                       w.get("raw_pyshacl_batch_per_claim_ms"), "pySHACL alone, same graph",
                       _ratio(w["shacl_batch_per_claim_ms"],
                              w.get("raw_pyshacl_batch_per_claim_ms")), "lower",
                       key="writes.shacl_batch_vs_pyshacl"))
        add(Figure("writes", "admission of one claim, p50 ms", size,
                   w["admission_single"]["p50_ms"], "ms", w["raw_pyshacl_single"]["p50_ms"],
                   "pySHACL alone, same graph",
                   _ratio(w["admission_single"]["p50_ms"], w["raw_pyshacl_single"]["p50_ms"]),
                   "lower", key="writes.admission_single_vs_pyshacl"))
        add(Figure("writes", "one-claim append through the facade, p50 ms", size,
                   w["single_append"]["p50_ms"], "ms"))
    elif w.get("error"):
        add(Figure("writes", "validated writes", size, None, "", note=str(w["error"])[:200]))
    posts = _get(r, "http", "posts") or {}
    if "rps" in posts:
        add(Figure("writes", f"HTTP POST /api/claims ({posts['clients']} clients), claims/s",
                   size, posts["rps"], "claims/s", target="≥ 300/s", met=posts["rps"] >= 300,
                   note=f"{posts['errors']} errors of {posts['requests']}"
                   if posts["errors"] else ""))
    # -- queries ---------------------------------------------------------------------
    for where, res in (("in memory", _get(r, "inmem", "queries")),
                       ("on disk", _get(r, "disk_queries", "queries"))):
        if not res:
            continue
        tag = "inmem" if where == "in memory" else "disk"
        for name, ours_k, raw_k, p50_t, p99_t in (
                ("status", "status", "raw_status", 1.0, 5.0),
                ("as-of status", "asof", "raw_asof", 1.0, 5.0),
                ("timeline", "timeline", "raw_timeline", 5.0, None)):
            o, b = res[ours_k], res[raw_k]
            ratio = _ratio(o["p50_ms"], b["p50_ms"])
            add(Figure("queries", f"{name} {where}, p50 ms", size, o["p50_ms"], "ms",
                       b["p50_ms"], "raw pyoxigraph, same answer by SPARQL", ratio, "lower",
                       f"≤ {p50_t:g} ms and ≤ 1.5 × raw",
                       o["p50_ms"] <= p50_t and ratio is not None and ratio <= 1.5,
                       f"queries.{tag}.{ours_k}_p50"))
            if p99_t is not None:
                add(Figure("queries", f"{name} {where}, p99 ms", size, o["p99_ms"], "ms",
                           b["p99_ms"], "raw pyoxigraph, same answer by SPARQL",
                           _ratio(o["p99_ms"], b["p99_ms"]), "lower", f"≤ {p99_t:g} ms",
                           o["p99_ms"] <= p99_t))
        single = res.get("raw_single_select") or {}
        if single.get("n"):
            add(Figure("queries", f"status {where}, p50 ms", size, res["status"]["p50_ms"], "ms",
                       single["p50_ms"], "raw pyoxigraph, one SELECT with OPTIONALs",
                       _ratio(res["status"]["p50_ms"], single["p50_ms"]), "lower"))
        lab = res.get("status_by_label") or {}
        if lab.get("n"):
            add(Figure("queries", f"status by label {where}, p50 ms", size, lab["p50_ms"], "ms",
                       note="name → entity through the lower-cased label index"))
        if res.get("mismatches"):
            add(Figure("queries", f"answers that differ from raw ({where})", size,
                       res["mismatches"], "answers"))
    rdfl = _get(r, "inmem", "rdflib")
    ours_status = _get(r, "inmem", "queries", "status", "p50_ms")
    if rdfl and ours_status:
        add(Figure("queries", "status in memory, p50 ms", size, ours_status, "ms",
                   rdfl["status"]["p50_ms"], "rdflib SPARQL, same SELECTs",
                   _ratio(ours_status, rdfl["status"]["p50_ms"]), "lower"))
        if rdfl["single_select"].get("n"):
            add(Figure("queries", "status in memory, p50 ms", size, ours_status, "ms",
                       rdfl["single_select"]["p50_ms"], "rdflib SPARQL, one SELECT",
                       _ratio(ours_status, rdfl["single_select"]["p50_ms"]), "lower"))
    # -- http ------------------------------------------------------------------------
    h = r.get("http") or {}
    g = h.get("geokb") or {}
    oxs = h.get("oxigraph") or {}
    for mode, target in (("cached", 1.0), ("unique", 0.7)):
        ours = _get(g, mode, "rps")
        base = _get(oxs, mode, "rps")
        if ours is None:
            continue
        ratio = _ratio(ours, base)
        add(Figure("http", f"SPARQL status query, {mode}, 4 clients, req/s", size, ours,
                   "req/s", base, "oxigraph serve", ratio, "higher",
                   f"≥ {target:g} × oxigraph serve",
                   None if ratio is None else ratio >= target, f"http.{mode}_vs_oxigraph"))
        fa = _get(h, "fastapi", mode, "rps")
        if fa:
            add(Figure("http", f"SPARQL status query, {mode}, 4 clients, req/s", size, ours,
                       "req/s", fa, "FastAPI over pyoxigraph", _ratio(ours, fa), "higher",
                       key=f"http.{mode}_vs_fastapi"))
        rl = _get(h, "rdflib", mode, "rps")
        if rl:
            ratio = _ratio(ours, rl)
            add(Figure("http", f"SPARQL status query, {mode}, 4 clients, req/s", size, ours,
                       "req/s", rl, "rdflib-endpoint", ratio, "higher", "≥ 100 × rdflib",
                       None if ratio is None else ratio >= 100))
        lat = _get(g, mode, "latency")
        if lat:
            add(Figure("http", f"SPARQL status query, {mode}, latency p50 / p99 ms", size,
                       lat["p50_ms"], "ms", _get(oxs, mode, "latency", "p50_ms"),
                       "oxigraph serve p50", note=f"p99 {lat['p99_ms']:.2f} ms (oxigraph "
                       f"{_get(oxs, mode, 'latency', 'p99_ms') or float('nan'):.2f})"))
        rest = _get(g, "rest_status", mode, "rps")
        if rest is not None:
            add(Figure("http", f"REST /api/entities/…/status, {mode}, 4 clients, req/s", size,
                       rest, "req/s", base, "oxigraph serve (SPARQL status query)",
                       _ratio(rest, base), "higher", key=f"http.rest_{mode}_vs_oxigraph",
                       note="full answer with evidence vs a one-BGP SPARQL query"))
    for name, block in (("geokb", g), ("oxigraph", oxs)):
        if block.get("error") or block.get("skipped"):
            add(Figure("http", f"{name} server", size, None, "",
                       note=str(block.get("error") or block.get("skipped"))[:200]))
    # -- memory ----------------------------------------------------------------------
    claims = r.get("claims") or size
    if "rss_projection_bytes" in im:
        ours = im["rss_projection_bytes"] / claims
        raw = im["rss_raw_bytes"] / claims if im.get("rss_raw_bytes") else None
        add(Figure("memory", "in-memory projection, bytes/claim (RSS delta)", size, ours,
                   "B/claim", raw, "raw pyoxigraph, same quads", _ratio(ours, raw), "lower",
                   key="memory.inmem_vs_raw"))
    sizes = r.get("disk") or {}
    if sizes.get("kb_bytes"):
        ours = (sizes["kb_bytes"] + sizes.get("projection_bytes", 0)) / claims
        raw = sizes["raw_oxigraph_bytes"] / claims if sizes.get("raw_oxigraph_bytes") else None
        add(Figure("memory", "on disk: log + texts + projection, bytes/claim", size, ours,
                   "B/claim", raw, "oxigraph store of the same quads", _ratio(ours, raw),
                   "lower", key="memory.disk_vs_raw",
                   note=f"log {sizes['log_bytes'] / claims:,.0f} + texts "
                        f"{sizes['texts_bytes'] / claims:,.0f} + projection "
                        f"{sizes.get('projection_bytes', 0) / claims:,.0f} B/claim"))
    serve_rss = g.get("rss_peak_bytes") or _get(r, "disk_queries", "rss_peak_bytes")
    if serve_rss:
        src = "geokb serve after the HTTP load" if g.get("rss_peak_bytes") else \
            "in-process on-disk queries"
        add(Figure("memory", f"serving on disk, peak RSS MB ({src})", size, serve_rss / 2**20,
                   "MB", (oxs.get("rss_peak_bytes") or 0) / 2**20 or None, "oxigraph serve",
                   _ratio(serve_rss, oxs.get("rss_peak_bytes")), "lower",
                   "≤ 1.5 GB at 1M" if at_1m else "", (serve_rss <= 1.5 * 2**30)
                   if at_1m else None))
    del biggest
    return out


def cross_size(results: dict[str, Any]) -> list[Figure]:
    """Figures that compare sizes: validation cost per claim at the largest vs 10k."""
    sizes = sorted(int(s) for s in results)
    out: list[Figure] = []
    if len(sizes) < 2:
        return out
    small, big = sizes[0], sizes[-1]
    for label, path in (("SHACL (compiled engine) per claim in a batch",
                         ("shacl_batch_per_claim_ms",)),
                        ("admission of one claim, p50", ("admission_single", "p50_ms")),
                        ("admission per claim in a batch", ("admission_batch_per_claim_ms",))):
        a = _get(results[str(small)], "writes", *path)
        b = _get(results[str(big)], "writes", *path)
        if a and b:
            ratio = b / a
            out.append(Figure("writes", f"{label}: cost at {big:,} / cost at {small:,}", big,
                              b, "ms", a, f"same at {small:,}", ratio, "lower", "≤ 1.2 ×",
                              ratio <= 1.2))
    return out


# -- printing -------------------------------------------------------------------------


def fmt(v: float | None, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if unit in ("quads/s", "claims/s", "req/s", "B/claim", "answers"):
        return f"{v:,.0f}"
    if unit == "MB":
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def table(figs: list[Figure], scenario: str) -> str:
    rows = [f for f in figs if f.scenario == scenario]
    if not rows:
        return ""
    head = ["size", "figure", "ours", "baseline", "ratio", "target", "met"]
    body = []
    for f in rows:
        base = f"{fmt(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None \
            else (f.baseline_name or "")
        ours = f"{fmt(f.ours, f.unit)} {f.unit}" if f.ours is not None else "not run"
        met = "" if f.met is None else ("met" if f.met else "NOT MET")
        body.append([f"{f.size:,}", f.name + (f"  [{f.note}]" if f.note else ""), ours, base,
                     "" if f.ratio is None else f"{f.ratio:.2f}×", f.target, met])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    widths[1] = min(widths[1], 90)
    def line(cells: list[str]) -> str:
        return "  ".join(str(c)[:w].ljust(w) for c, w in zip(cells, widths, strict=False))

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])


def markdown_table(figs: list[Figure]) -> str:
    lines = ["| scenario | size | figure | ours | baseline | ratio | target | met |",
             "|---|---:|---|---:|---|---:|---|---|"]
    for f in figs:
        base = f"{fmt(f.baseline, f.unit)} — {f.baseline_name}" if f.baseline is not None \
            else f.baseline_name
        ours = f"{fmt(f.ours, f.unit)} {f.unit}" if f.ours is not None else "not run"
        met = "" if f.met is None else ("**met**" if f.met else "**not met**")
        name = f.name + (f" ({f.note})" if f.note else "")
        lines.append(f"| {f.scenario} | {f.size:,} | {name} | {ours} | {base} | "
                     f"{'' if f.ratio is None else f'{f.ratio:.2f}×'} | {f.target} | {met} |")
    return "\n".join(lines)


# -- check ----------------------------------------------------------------------------


def ratios(figs: list[Figure]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in figs:
        if f.key and f.ratio is not None and math.isfinite(f.ratio) and f.ratio > 0:
            out[f"{f.key}@{f.size}"] = {"value": round(f.ratio, 4), "better": f.better}
    return out


def check(current: dict[str, dict[str, Any]], recorded_path: Path) -> tuple[bool, str]:
    """Compare ratios with the recorded ones; fail on a gross regression, or on a recorded
    ratio this run did not measure."""
    if not recorded_path.exists():
        return True, f"check: no recorded ratios at {recorded_path}; nothing compared"
    recorded = json.loads(recorded_path.read_text())["ratios"]
    lines = [f"check: ratios vs {recorded_path} (fails only if more than {GROSS:g}× worse)"]
    ok = True
    for key, rec in sorted(recorded.items()):
        cur = current.get(key)
        if cur is None:  # a scenario that failed must not pass the check by its absence
            lines.append(f"  FAIL  {key}: not measured in this run (its scenario failed: "
                         "see the bench's log above)")
            ok = False
            continue
        if rec["better"] == "higher":
            worse = rec["value"] / cur["value"]
        else:
            worse = cur["value"] / rec["value"]
        verdict = "FAIL" if worse > GROSS else "ok  "
        ok &= worse <= GROSS
        how = "worse" if worse > 1 else "as good or better"
        lines.append(f"  {verdict}  {key}: {cur['value']:.3f} now, {rec['value']:.3f} recorded "
                     f"({rec['better']} is better; {worse:.2f}× {how})")
    return ok, "\n".join(lines)


def to_json(figs: list[Figure]) -> list[dict[str, Any]]:
    return [asdict(f) for f in figs]


# -- charts ---------------------------------------------------------------------------


def charts(results: dict[str, Any], figs: list[Figure], out_dir: Path) -> list[Path]:
    """PNG charts of each figure against KB size (log-log where apt)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    sizes = sorted(int(s) for s in results)
    if len(sizes) < 2:
        return []
    written: list[Path] = []

    def series(pick: Any) -> tuple[list[int], list[float]]:
        xs, ys = [], []
        for s in sizes:
            with_value = pick(results[str(s)])
            if with_value is not None and with_value > 0:
                xs.append(s)
                ys.append(with_value)
        return xs, ys

    def chart(name: str, title: str, ylabel: str, lines: list[tuple[str, Any, str]],
              loglog: bool = True, hline: tuple[float, str] | None = None) -> None:
        fig, ax = plt.subplots(figsize=(9.5, 4.8))
        ax.set_prop_cycle(color=[plt.get_cmap("tab20")(i) for i in range(20)])
        drawn = 0
        for label, pick, style in lines:
            xs, ys = series(pick)
            if xs:
                ax.plot(xs, ys, style, label=label, marker="o")
                drawn += 1
        if not drawn:
            plt.close(fig)
            return
        if hline is not None:
            ax.axhline(hline[0], color="grey", linestyle=":", label=hline[1])
        ax.set_xscale("log")
        if loglog:
            ax.set_yscale("log")
        ax.set_xlabel("KB size (claims)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    def rate(*path: str, quads: tuple[str, ...], secs: tuple[str, ...]) -> Any:
        def pick(r: dict[str, Any]) -> float | None:
            q, t = _get(r, *quads), _get(r, *secs)
            return q / t if q and t else None
        del path
        return pick

    chart("rebuild", "Rebuild rate vs KB size", "quads per second", [
        ("geokb replay, in memory", rate(quads=("inmem", "quads"), secs=("inmem", "rebuild_s")),
         "-"),
        ("pyoxigraph load, in memory", rate(quads=("inmem", "raw_quads"),
                                            secs=("inmem", "raw_load_s")), "--"),
        ("pyoxigraph bulk_load, in memory", rate(quads=("inmem", "raw_quads"),
                                                 secs=("inmem", "raw_bulk_load_s")), "--"),
        ("geokb catch-up, on disk", rate(quads=("disk_build", "quads"),
                                         secs=("disk_build", "rebuild_s")), "-"),
        ("oxigraph load (CLI), on disk", rate(quads=("disk_build", "quads"),
                                              secs=("oxigraph_load", "load_s")), ":"),
    ], loglog=False)
    q = [("status", "status", "raw_status"), ("as-of", "asof", "raw_asof"),
         ("timeline", "timeline", "raw_timeline")]
    lines = []
    for where in ("inmem", "disk_queries"):
        tag = "in memory" if where == "inmem" else "on disk"
        for label, ours, raw in q:
            lines.append((f"geokb {label}, {tag}",
                          (lambda r, w=where, k=ours: _get(r, w, "queries", k, "p50_ms")), "-"))
            lines.append((f"raw pyoxigraph {label}, {tag}",
                          (lambda r, w=where, k=raw: _get(r, w, "queries", k, "p50_ms")), "--"))
    chart("queries", "In-process query latency (p50) vs KB size", "ms (p50)", lines,
          hline=(1.0, "status target 1 ms"))
    chart("http", "HTTP status-query throughput, 4 client processes", "requests per second", [
        ("geokb serve, cached", lambda r: _get(r, "http", "geokb", "cached", "rps"), "-"),
        ("geokb serve, unique", lambda r: _get(r, "http", "geokb", "unique", "rps"), "-"),
        ("oxigraph serve, cached", lambda r: _get(r, "http", "oxigraph", "cached", "rps"), "--"),
        ("oxigraph serve, unique", lambda r: _get(r, "http", "oxigraph", "unique", "rps"), "--"),
        ("FastAPI+pyoxigraph, unique", lambda r: _get(r, "http", "fastapi", "unique", "rps"),
         ":"),
        ("geokb REST status, unique",
         lambda r: _get(r, "http", "geokb", "rest_status", "unique", "rps"), "-."),
        ("rdflib-endpoint, unique", lambda r: _get(r, "http", "rdflib", "unique", "rps"), ":"),
    ])
    chart("writes", "Validated writes vs KB size", "claims per second", [
        ("batch ingest, projection in memory (admission + append + apply)",
         lambda r: _get(r, "writes", "ingest_inmem_claims_per_s"), "-"),
        ("batch ingest, projection on disk",
         lambda r: _get(r, "writes", "ingest_claims_per_s"), "-."),
        ("compiled SHACL alone on the batch graph",
         lambda r: (1000 / v) if (v := _get(r, "writes", "shacl_batch_per_claim_ms"))
         else None, "--"),
        ("pySHACL alone on the batch graph",
         lambda r: (1000 / v) if (v := _get(r, "writes", "raw_pyshacl_batch_per_claim_ms"))
         else None, "--"),
        ("HTTP POST /api/claims", lambda r: _get(r, "http", "posts", "rps"), ":"),
    ], hline=(2000, "target 2,000 claims/s"))
    chart("restart", "Restart vs KB size", "seconds to first answer", [
        ("on-disk projection (geokb serve)",
         lambda r: _get(r, "restart", "http_disk", "median_s"), "-"),
        ("cold in-memory replay (geokb serve)",
         lambda r: _get(r, "restart", "http_replay", "median_s"), "--"),
        ("on-disk projection (in-process open)",
         lambda r: _get(r, "restart", "probe_disk", "median_s"), ":"),
    ], hline=(2.0, "target 2 s"))
    chart("memory", "Bytes per claim vs KB size", "bytes per claim", [
        ("in-memory projection (RSS)",
         lambda r: (v / r["claims"]) if (v := _get(r, "inmem", "rss_projection_bytes")) else None,
         "-"),
        ("raw pyoxigraph in memory (RSS)",
         lambda r: (v / r["claims"]) if (v := _get(r, "inmem", "rss_raw_bytes")) else None, "--"),
        ("on disk: log + texts + projection",
         lambda r: ((v + (_get(r, "disk", "projection_bytes") or 0)) / r["claims"])
         if (v := _get(r, "disk", "kb_bytes")) else None, "-"),
        ("oxigraph store on disk",
         lambda r: (v / r["claims"]) if (v := _get(r, "disk", "raw_oxigraph_bytes")) else None,
         "--"),
    ], loglog=False)
    del figs
    return written

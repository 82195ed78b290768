"""In-process scenarios, each run in a fresh process: ``python -m bench.worker NAME JSON``.

A fresh process per scenario and size gives clean RSS figures and keeps a crash or a
memory blow-up of one measurement from taking the suite down. Each prints one marked
JSON line (``common.emit``).
"""

from __future__ import annotations

import gc
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import sparql
from .common import emit, latency_summary, percentile, proc_status
from .generate import AGENT, load_manifest


def rss() -> int:
    gc.collect()
    return proc_status("self", "VmRSS")


# -- rebuild, in memory -------------------------------------------------------------


def inmem(args: dict[str, Any]) -> dict[str, Any]:
    """Replay the log into an in-memory projection; load the same quads into raw
    pyoxigraph three ways; then the in-process queries on both; rdflib if asked."""
    import pyoxigraph as ox

    from geokb.log.file import FileEventStore
    from geokb.projection.store import ProjectionStore

    kb_dir = Path(args["kb"])
    nq_path = Path(args["nq"])
    manifest = load_manifest(kb_dir)
    out: dict[str, Any] = {"claims": manifest["claims"], "events": manifest["events"]}

    t0 = time.perf_counter()
    n = sum(1 for _ in FileEventStore(kb_dir).read())
    out["read_s"] = time.perf_counter() - t0  # decode + canonical check + hash chain only
    assert n == manifest["events"]

    r0 = rss()
    ps = ProjectionStore()
    t0 = time.perf_counter()
    ps.apply(FileEventStore(kb_dir).read())
    out["rebuild_s"] = time.perf_counter() - t0
    out["quads"] = ps.size() - 1  # minus the applied-position marker
    out["rss_projection_bytes"] = rss() - r0
    if not nq_path.exists():
        tmp = nq_path.with_suffix(".tmp")
        ps.dump(tmp)
        os.replace(tmp, nq_path)
    out["nquads_bytes"] = nq_path.stat().st_size
    if args.get("sequential"):  # no room for two stores: the raw loads run in their own
        out["rss_peak_bytes"] = proc_status("self", "VmHWM")  # process (inmem_raw)
        return out

    r0 = rss()
    data = nq_path.read_bytes()
    raw = ox.Store()
    t0 = time.perf_counter()
    raw.load(data, format=ox.RdfFormat.N_QUADS)
    out["raw_load_s"] = time.perf_counter() - t0
    out["raw_quads"] = len(raw)
    out["rss_raw_bytes"] = rss() - r0

    other = ox.Store()
    t0 = time.perf_counter()
    other.bulk_load(data, format=ox.RdfFormat.N_QUADS)
    out["raw_bulk_load_s"] = time.perf_counter() - t0
    del other
    out["raw_extend_s"] = _timed_extend(data)
    del data
    gc.collect()

    if args.get("queries", True):
        from geokb.kb import KnowledgeBase

        kb = KnowledgeBase(kb_dir, catch_up=False)
        kb.projection = ps  # the store just rebuilt: no second replay
        out["queries"] = bench_queries(kb, raw, manifest, args)
    if args.get("rdflib"):
        out["rdflib"] = rdflib_queries(nq_path, manifest, args)
    out["rss_peak_bytes"] = proc_status("self", "VmHWM")
    return out


def inmem_raw(args: dict[str, Any]) -> dict[str, Any]:
    """The raw in-memory loads alone, for a size that leaves no room for two stores.

    Store.load reads the whole file into memory first: there is no room for the file and
    a store either, so the raw baseline here is the streaming bulk_load, then extend.
    """
    import pyoxigraph as ox

    nq_path = Path(args["nq"])
    out: dict[str, Any] = {}
    r0 = rss()
    raw = ox.Store()
    t0 = time.perf_counter()
    raw.bulk_load(path=str(nq_path), format=ox.RdfFormat.N_QUADS)
    out["raw_bulk_load_s"] = time.perf_counter() - t0
    out["raw_quads"] = len(raw)
    out["rss_raw_bytes"] = rss() - r0
    del raw
    gc.collect()
    out["raw_extend_s"] = _timed_extend_file(nq_path)
    out["rss_raw_peak_bytes"] = proc_status("self", "VmHWM")
    return out


def _timed_extend_file(path: Path, chunk_lines: int = 500_000) -> float:
    """Like :func:`_timed_extend`, reading the file a chunk at a time."""
    import pyoxigraph as ox

    store = ox.Store()
    total = 0.0
    with open(path, "rb") as fh:
        while True:
            lines = [line for _, line in zip(range(chunk_lines), fh, strict=False)]
            if not lines:
                break
            quads = list(ox.parse(b"".join(lines), format=ox.RdfFormat.N_QUADS))
            del lines
            t0 = time.perf_counter()
            store.extend(quads)
            total += time.perf_counter() - t0
            del quads
    return total


def _timed_extend(data: bytes, chunk_lines: int = 500_000) -> float:
    """Store().extend of the same quads as Python objects, parsed beforehand in chunks
    (only the extend calls are timed; chunks bound the memory of the quad lists)."""
    import pyoxigraph as ox

    store = ox.Store()
    total = 0.0
    start = 0
    while start < len(data):
        end = start
        for _ in range(chunk_lines):
            nl = data.find(b"\n", end)
            if nl < 0:
                end = len(data)
                break
            end = nl + 1
        quads = list(ox.parse(data[start:end], format=ox.RdfFormat.N_QUADS))
        t0 = time.perf_counter()
        store.extend(quads)
        total += time.perf_counter() - t0
        del quads
        start = end
    return total


# -- queries ------------------------------------------------------------------------


def bench_queries(kb: Any, raw: Any, manifest: dict[str, Any],
                  args: dict[str, Any]) -> dict[str, Any]:
    """status / as-of status / timeline through ``kb`` vs the same answer from ``raw``.

    Each entity is asked of both in turn (interleaved, so machine noise hits both).
    """
    from pyoxigraph import NamedNode

    from geokb.read.reader import as_int
    from geokb.vocab import GK

    n_max = int(args.get("query_n", 300))
    budget = float(args.get("query_seconds", 20))
    rng = random.Random(11)
    head = kb.projection.position
    entities = [slug for slug, _n in manifest["query_entities"]][: max(n_max, 50)]
    as_of: dict[str, int] = {}
    for slug in entities:
        kf = as_int(kb.projection.one(NamedNode(sparql.ID + slug), GK.knownFromPosition))
        as_of[slug] = rng.randint(kf or 1, head)
    times: dict[str, list[float]] = {k: [] for k in (
        "status", "raw_status", "asof", "raw_asof", "timeline", "raw_timeline")}
    claims_seen: list[int] = []
    mismatches = 0

    def clock(fn: Callable[[], Any]) -> tuple[float, Any]:
        t = time.perf_counter()
        value = fn()
        return time.perf_counter() - t, value

    for slug in entities[:10]:  # warm-up
        kb.status(slug)
        sparql.run_lookup(raw, sparql.ID + slug)
    deadline = time.perf_counter() + budget
    done = 0
    for slug in entities:
        if done >= n_max or time.perf_counter() > deadline:
            break
        iri = sparql.ID + slug
        a = as_of[slug]
        dt, st = clock(lambda: kb.status(slug))  # noqa: B023
        times["status"].append(dt)
        dt, (count, _rows) = clock(lambda: sparql.run_lookup(raw, iri))  # noqa: B023
        times["raw_status"].append(dt)
        mismatches += count != st["page"]["total"]
        claims_seen.append(count)
        dt, st = clock(lambda: kb.status(slug, as_of=a))  # noqa: B023
        times["asof"].append(dt)
        dt, (count, _rows) = clock(lambda: sparql.run_lookup(raw, iri, a))  # noqa: B023
        times["raw_asof"].append(dt)
        mismatches += count != st["page"]["total"]
        dt, tl = clock(lambda: kb.timeline(slug))  # noqa: B023
        times["timeline"].append(dt)
        dt, (count, _rows) = clock(lambda: sparql.run_lookup(raw, iri))  # noqa: B023
        times["raw_timeline"].append(dt)
        mismatches += count != tl["page"]["total"]
        done += 1
    out: dict[str, Any] = {k: latency_summary(v) for k, v in times.items()}
    out["entities"] = done
    out["mismatches"] = mismatches
    out["claims_per_answer"] = {"p50": percentile(claims_seen, 0.5),
                                "p99": percentile(claims_seen, 0.99),
                                "max": max(claims_seen) if claims_seen else 0}
    # the literal single SELECT with OPTIONALs (what the issue calls "the same SPARQL")
    single: list[float] = []
    deadline = time.perf_counter() + float(args.get("single_select_seconds", 10))
    for slug in entities[: int(args.get("single_select_n", 30))]:
        if time.perf_counter() > deadline:
            break
        dt, _ = clock(lambda: sparql.run_raw(raw, sparql.ID + slug))  # noqa: B023
        single.append(dt)
    out["raw_single_select"] = latency_summary(single)
    # name resolution by label (a SPARQL scan over every entity's labels)
    by_label: list[float] = []
    for slug in entities[:10]:
        label = kb.entity(slug)
        name = str(kb.projection.one(label, NamedNode(
            "http://www.w3.org/2000/01/rdf-schema#label")).value)
        dt, _ = clock(lambda: kb.status(name.lower()))  # noqa: B023
        by_label.append(dt)
    out["status_by_label"] = latency_summary(by_label)
    return out


def rdflib_queries(nq_path: Path, manifest: dict[str, Any],
                   args: dict[str, Any]) -> dict[str, Any]:
    """rdflib's own SPARQL engine on the default graph of the same data (what a user
    would build without us): load time, and the lookup-style and single SELECTs."""
    import rdflib

    lines = [line for line in nq_path.read_text(encoding="utf-8").splitlines(keepends=True)
             if _is_default_graph(line)]
    t0 = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(data="".join(lines), format="nt")
    load_s = time.perf_counter() - t0
    n = int(args.get("rdflib_n", 10))
    budget = float(args.get("rdflib_seconds", 15))
    lookup: list[float] = []
    single: list[float] = []
    deadline = time.perf_counter() + budget
    for slug, _c in manifest["query_entities"][:n]:
        if time.perf_counter() > deadline:
            break
        t = time.perf_counter()
        sparql.run_lookup(graph, sparql.ID + slug)
        lookup.append(time.perf_counter() - t)
        if len(single) < 3:
            t = time.perf_counter()
            sparql.run_rdflib(graph, sparql.ID + slug)
            single.append(time.perf_counter() - t)
    return {"load_s": load_s, "triples": len(graph), "status": latency_summary(lookup),
            "single_select": latency_summary(single)}


def _is_default_graph(line: str) -> bool:
    """Whether an N-Quads line (no blank nodes, as geokb writes) has no graph name."""
    body = line.rstrip()[:-1].rstrip()  # drop the final " ."
    if not body.endswith(">"):
        return True  # ends with a literal: a triple in the default graph
    # four terms end with an IRI graph name; three end with an IRI object
    return _terms(body) == 3


def _terms(body: str) -> int:
    count = 0
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "<":
            i = body.index(">", i) + 1
            count += 1
        elif ch == '"':
            i += 1
            while body[i] != '"':
                i += 2 if body[i] == "\\" else 1
            i += 1
            while i < len(body) and body[i] not in " \t":
                i += 1  # @lang or ^^<datatype>
            count += 1
        else:
            i += 1
    return count


# -- on disk ------------------------------------------------------------------------


def disk_build(args: dict[str, Any]) -> dict[str, Any]:
    """Catch an empty on-disk projection up from position 0; dump its N-Quads; load the
    same N-Quads into an on-disk raw pyoxigraph store with bulk_load."""
    import pyoxigraph as ox

    from geokb.log.file import FileEventStore
    from geokb.projection.store import ProjectionStore

    kb_dir = Path(args["kb"])
    proj = Path(args["projection"])
    nq_path = Path(args["nq"])
    shutil.rmtree(proj, ignore_errors=True)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    ps = ProjectionStore(proj)
    ps.apply(FileEventStore(kb_dir).read())
    ps.flush()
    out["rebuild_s"] = time.perf_counter() - t0
    out["quads"] = ps.size() - 1
    out["rss_peak_bytes"] = proc_status("self", "VmHWM")
    t0 = time.perf_counter()
    tmp = nq_path.with_suffix(".tmp")
    ps.dump(tmp)
    os.replace(tmp, nq_path)
    out["dump_s"] = time.perf_counter() - t0
    out["nquads_bytes"] = nq_path.stat().st_size
    del ps
    gc.collect()
    if args.get("raw_dir"):
        raw_dir = Path(args["raw_dir"])
        shutil.rmtree(raw_dir, ignore_errors=True)
        t0 = time.perf_counter()
        raw = ox.Store(str(raw_dir))
        raw.bulk_load(path=str(nq_path), format=ox.RdfFormat.N_QUADS)
        raw.flush()
        out["raw_bulk_load_s"] = time.perf_counter() - t0
        out["raw_quads"] = len(raw)
    return out


def disk_queries(args: dict[str, Any]) -> dict[str, Any]:
    """Open the on-disk projection (catch-up, no replay) and run the query set against
    it and against a raw on-disk pyoxigraph store of the same quads."""
    import pyoxigraph as ox

    from geokb.kb import KnowledgeBase

    kb_dir = Path(args["kb"])
    manifest = load_manifest(kb_dir)
    t0 = time.perf_counter()
    kb = KnowledgeBase(kb_dir, projection_path=args["projection"])
    out: dict[str, Any] = {"open_s": time.perf_counter() - t0}
    raw = ox.Store(args["raw_dir"])
    out["queries"] = bench_queries(kb, raw, manifest, args)
    out["rss_bytes"] = proc_status("self", "VmRSS")
    out["rss_peak_bytes"] = proc_status("self", "VmHWM")
    return out


def restart_probe(args: dict[str, Any]) -> dict[str, Any]:
    """Open the KB (on disk or by replay) and answer one status query; print READY."""
    from geokb.kb import KnowledgeBase

    kb = KnowledgeBase(args["kb"], projection_path=args.get("projection"))
    kb.status(args["entity"])
    print("READY", flush=True)
    return {"rss_peak_bytes": proc_status("self", "VmHWM"), "position": kb.position}


# -- validated writes ---------------------------------------------------------------


def scratch_copy(kb_dir: Path, proj: Path | None, scratch: Path) -> tuple[Path, Path | None]:
    """A writable copy of a cached KB (log copied, texts linked, projection copied).

    The projection is copied as a RocksDB checkpoint (``Store.backup``: hard links on the
    same file system, instant): a byte copy of a 1M KB's 6 GB, twice, left the kernel
    writing it back while the figures were taken, and every ``fsync`` of the writes
    measured waited on it. The store is opened to write and flushed first (so no other
    process may hold it): a checkpoint of a read-only handle leaves out what is still
    only in the write-ahead log (the last batches, and the position: the copy would be
    rebuilt)."""
    from pyoxigraph import Store

    shutil.rmtree(scratch, ignore_errors=True)
    target = scratch / "kb"
    target.mkdir(parents=True)
    shutil.copyfile(kb_dir / "events.jsonl", target / "events.jsonl")
    shutil.copyfile(kb_dir / "manifest.json", target / "manifest.json")
    (target / "sources").symlink_to((kb_dir / "sources").resolve())
    proj_copy = None
    if proj is not None:
        proj_copy = scratch / "projection"
        source = Store(str(proj))
        source.flush()
        source.backup(str(proj_copy))
        del source
        for name in os.listdir(proj):  # the files beside the store (the log mark)
            if name.endswith(".json") and not (proj_copy / name).exists():
                shutil.copyfile(proj / name, proj_copy / name)
    return target, proj_copy


def claim_specs(manifest: dict[str, Any], tag: str) -> Iterator[dict[str, Any]]:
    """An endless stream of new, valid claim specs quoting the synthetic sources."""
    material = manifest["write_material"]
    ents = manifest["write_entities"]
    statuses = ["operational", "under-review", "uncertain", "suspended", "withdrawn", "closed"]
    i = 0
    while True:
        m = material[i % len(material)]
        quote = m["quotes"][(i // len(material)) % len(m["quotes"])]
        spec: dict[str, Any] = {"id": f"bench-{tag}-{i:07d}", "source": m["source"],
                                "quote": quote}
        kind = i % 4
        pick = ents["facility"][i % len(ents["facility"])]
        if kind == 0:
            spec.update(subject=pick, predicate="status",
                        object=f"status:{statuses[i % len(statuses)]}", modality="asserted",
                        valid_at=f"{2000 + i % 25}-{1 + i % 12:02d}")
        elif kind == 1:
            spec.update(subject=ents["event"][i % len(ents["event"])], predicate="participant",
                        object="id:" + ents["person"][i % len(ents["person"])],
                        modality="quoted", speaker=ents["person"][(i + 7) % len(ents["person"])],
                        reported_via=["syn-outlet-00000"])
        elif kind == 2:
            spec.update(subject=ents["state"][i % len(ents["state"])],
                        predicate="maintainsRelationsWith",
                        object="id:" + ents["state"][(i + 1) % len(ents["state"])],
                        modality="asserted", valid_from=str(1990 + i % 30), confidence="0.8")
        else:
            spec.update(subject=pick, predicate="locatedIn",
                        object="id:" + ents["place"][i % len(ents["place"])],
                        modality="uncertain", note="Synthetic note (benchmark write).")
        yield spec
        i += 1


def writes(args: dict[str, Any]) -> dict[str, Any]:
    """Validated batch ingest through ``KnowledgeBase.append`` on a copy of the KB, the
    admission cost per claim (batch and single), and raw pySHACL on the same graphs."""
    from geokb.kb import KnowledgeBase
    from geokb.shacl.validation import write_engine
    from geokb.write.admission import Admission
    from geokb.write.claimfile import claim_event

    kb_dir = Path(args["kb"])
    manifest = load_manifest(kb_dir)
    scratch = Path(args["scratch"])
    proj = Path(args["projection"]) if args.get("projection") else None
    t0 = time.perf_counter()
    target, proj_copy = scratch_copy(kb_dir, proj, scratch)
    out: dict[str, Any] = {"copy_s": time.perf_counter() - t0}
    try:
        t0 = time.perf_counter()
        kb = KnowledgeBase(target, projection_path=proj_copy)
        out["open_s"] = time.perf_counter() - t0
        texts: dict[str, str] = {}
        specs = claim_specs(manifest, "w")

        def next_events(k: int) -> list[Any]:
            events = []
            for _ in range(k):
                spec = next(specs)
                if spec["source"] not in texts:
                    texts[spec["source"]] = kb.source_text(spec["source"])
                events.append(claim_event(spec, texts[spec["source"]]))
            return events

        batch_size = int(args.get("batch_size", 500))
        engine = write_engine(kb.shapes, kb.ontology)  # compiled before timing, as on open
        gc.freeze()  # as `geokb` does once it has opened a KB (cli.open_kb)
        admission = Admission(kb.projection, kb.ontology, kb.shapes, kb.texts, engine=engine)
        # admission (rules + SHACL) alone, single claims and one batch
        singles = next_events(int(args.get("singles", 20)))
        single_t: list[float] = []
        raw_single_t: list[float] = []
        for ev in singles:
            t = time.perf_counter()
            drafts = admission.check([ev], pending_texts={}, recorded_by=AGENT)
            single_t.append(time.perf_counter() - t)
            raw_single_t.append(_raw_pyshacl(kb, admission, drafts))
        out["admission_single"] = latency_summary(single_t)
        out["raw_pyshacl_single"] = latency_summary(raw_single_t)
        batch = next_events(batch_size)
        t = time.perf_counter()
        drafts = admission.check(batch, pending_texts={}, recorded_by=AGENT)
        out["admission_batch_per_claim_ms"] = (time.perf_counter() - t) * 1000 / batch_size
        out["raw_pyshacl_batch_per_claim_ms"] = _raw_pyshacl(kb, admission, drafts) * 1000 \
            / batch_size
        # the SHACL part of admission alone (the compiled engine on the same graph): what
        # must not grow with the KB; the rest of admission is the rules' and the context's
        # lookups in the projection
        shacl_alone = _engine_alone(admission, drafts)
        out["shacl_batch_per_claim_ms"] = shacl_alone * 1000 / batch_size
        # validated batch ingest: admit + append (fsync) + apply
        budget = float(args.get("ingest_seconds", 20))
        n_batches = int(args.get("batches", 4))
        appended, spent, per_batch = _ingest(kb, next_events, batch_size, n_batches, budget)
        out["ingest_claims"] = appended
        out["ingest_s"] = spent
        out["ingest_claims_per_s"] = appended / spent if spent else 0.0
        out["batch_size"] = batch_size
        out["batch_s"] = latency_summary(per_batch)
        # one-claim appends through the facade (what one HTTP POST does underneath)
        one_t: list[float] = []
        for ev in next_events(int(args.get("single_appends", 10))):
            t = time.perf_counter()
            kb.append([ev], recorded_by=AGENT)
            one_t.append(time.perf_counter() - t)
        out["single_append"] = latency_summary(one_t)
        # the same ingest with the projection in memory (geokb's default: `serve` without
        # --projection), where the KB's replay fits in memory
        if args.get("inmem_writes", True) and manifest["claims"] <= int(
                args.get("inmem_writes_max_claims", 100_000)):
            mem = KnowledgeBase(target)
            mem_engine = write_engine(mem.shapes, mem.ontology)
            assert mem_engine is engine
            gc.freeze()  # after the replay, as `geokb` does once it has opened a KB
            appended, spent, _ = _ingest(mem, next_events, batch_size, n_batches, budget)
            out["ingest_inmem_claims"] = appended
            out["ingest_inmem_claims_per_s"] = appended / spent if spent else 0.0
        out["rss_peak_bytes"] = proc_status("self", "VmHWM")
        return out
    finally:
        if not args.get("keep"):
            shutil.rmtree(scratch, ignore_errors=True)


def _ingest(kb: Any, next_events: Callable[[int], list[Any]], batch_size: int,
            n_batches: int, budget: float) -> tuple[int, float, list[float]]:
    """Validated batch ingest (admit + append with fsync + apply), bounded in batches and in
    seconds: (claims appended, seconds spent in append, seconds per batch)."""
    appended, spent = 0, 0.0
    per_batch: list[float] = []
    while len(per_batch) < n_batches and spent < budget:
        events = next_events(batch_size)
        t = time.perf_counter()
        kb.append(events, recorded_by=AGENT)
        dt = time.perf_counter() - t
        per_batch.append(dt)
        spent += dt
        appended += len(events)
    return appended, spent, per_batch


def _admission_graph(admission: Any, drafts: list[Any]) -> tuple[list[Any], Any]:
    """The quads and focus set admission hands the compiled engine for ``drafts``
    (captured from its own call, so it stays the same graph however admission builds it)."""
    engine = admission.engine
    captured: list[tuple[list[Any], Any]] = []
    original = engine.validate

    def spy(quads: Any, *, focus: Any = None) -> Any:
        quads = list(quads)
        captured.append((quads, focus))
        return original(quads, focus=focus)

    engine.validate = spy
    try:
        admission.shacl(drafts)
    finally:
        del engine.validate
    return captured[0]


def _engine_alone(admission: Any, drafts: list[Any], runs: int = 3) -> float:
    """Seconds the compiled SHACL engine takes on the graph admission gives it for
    ``drafts`` (the best of ``runs``), without the rules and the projection lookups."""
    quads, focus = _admission_graph(admission, drafts)
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        admission.engine.validate(quads, focus=focus)
        best = min(best, time.perf_counter() - t)
    return best


def _raw_pyshacl(kb: Any, admission: Any, drafts: list[Any]) -> float:
    """Seconds pySHACL alone takes on the very graph admission validates for ``drafts``:
    that graph turned into rdflib with the ontology mixed in (as
    ``geokb.shacl.validation.run_shacl`` does); only ``pyshacl.validate`` is timed.
    """
    import pyshacl

    from geokb.shacl.validation import to_rdflib

    quads, _focus = _admission_graph(admission, drafts)
    graph = to_rdflib(quads)
    for triple in kb.ontology.graph:
        graph.add(triple)
    t = time.perf_counter()
    pyshacl.validate(graph, shacl_graph=kb.shapes, inference="none", advanced=False,
                     allow_warnings=True, abort_on_first=False)
    return time.perf_counter() - t


# -- entry point --------------------------------------------------------------------

SCENARIOS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "inmem": inmem,
    "inmem_raw": inmem_raw,
    "disk_build": disk_build,
    "disk_queries": disk_queries,
    "restart_probe": restart_probe,
    "writes": writes,
    "writes_scale": lambda args: _writes_scale(args),
}


def _writes_scale(args: dict[str, Any]) -> dict[str, Any]:
    from .writes import scale

    return scale(args)


def main(argv: list[str]) -> int:
    name, raw_args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = SCENARIOS[name](raw_args)
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Writes at scale (issues 11 and 12): batch ingest with the projection on disk, one-claim
posts from several threads at once, and admission per claim — each beside its baseline
measured in the same run on a copy of the same KB.

* ingest: ``KnowledgeBase.append`` of batches (admit + append with fsync + apply), with
  admission's remembered lookups (:mod:`geokb.write.context`) against the path before
  them (every lookup a projection read), batches alternating between two copies; and the
  raw pyoxigraph write (``Store.load`` into an on-disk store) of the same quads; timed
  after one batch of the same size (``first_batch_s``: the first batch after opening the
  KB reads the busy keys' claims once, which a long-lived writer then keeps);
* posts: threads each asserting one claim at a time, group-committed
  (``assert_claim(grouped=True)``, what ``POST /api/claims`` does) against one at a time
  under the write lock (the previous path), in rounds that alternate which goes first;
* admission: ``Admission.check`` of one claim, remembered lookups against none.

    python -m bench.writes --kb <kb dir> --projection <on-disk projection> [--batches 4]

``python -m bench`` runs it as the ``writes_scale`` scenario of every size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from .generate import AGENT, load_manifest
from .report import Figure


def scale(args: dict[str, Any]) -> dict[str, Any]:
    from pyoxigraph import RdfFormat, Store

    from geokb.kb import KnowledgeBase
    from geokb.projection.quads import quads_for
    from geokb.write.admission import Admission
    from geokb.write.claimfile import claim_event

    from .worker import claim_specs, scratch_copy

    class Uncached(KnowledgeBase):
        """The path before the context cache: every admission lookup reads the store."""

        def _admission(self) -> Admission:
            return Admission(self.projection, self.ontology, self.shapes, self.texts,
                             engine=self.shacl.for_writes(self.shapes, self.ontology))

    kb_dir = Path(args["kb"])
    proj = Path(args["projection"])
    scratch = Path(args["scratch"])
    manifest = load_manifest(kb_dir)
    batch_size, batches = int(args.get("batch_size", 500)), int(args.get("batches", 4))
    out: dict[str, Any] = {"batch_size": batch_size}
    try:
        a_dir, a_proj = scratch_copy(kb_dir, proj, scratch / "a")
        b_dir, b_proj = scratch_copy(kb_dir, proj, scratch / "b")
        ours = KnowledgeBase(a_dir, projection_path=a_proj)
        before = Uncached(b_dir, projection_path=b_proj)
        texts: dict[str, str] = {}
        specs = claim_specs(manifest, "s")

        def events(k: int) -> list[Any]:
            found = []
            for _ in range(k):
                spec = next(specs)
                if spec["source"] not in texts:
                    texts[spec["source"]] = ours.source_text(spec["source"])
                found.append(claim_event(spec, texts[spec["source"]]))
            return found

        for kb, key in ((ours, "first_batch_s"), (before, "first_batch_before_s")):
            # warm: engines compiled, the busy keys' claims read once (a long-lived writer's
            # state); the first batch after opening the KB is reported on its own
            t = time.perf_counter()
            kb.append(events(batch_size), recorded_by=AGENT)
            out[key] = time.perf_counter() - t
        t_ours: list[float] = []
        t_before: list[float] = []
        t_raw: list[float] = []
        raw = Store(str(scratch / "raw"))
        for round_ in range(batches):
            batch = events(batch_size)
            pair = [(ours, t_ours), (before, t_before)]
            for kb, times in pair if round_ % 2 == 0 else pair[::-1]:  # neither always first
                t = time.perf_counter()
                appended = kb.append(batch, recorded_by=AGENT)
                times.append(time.perf_counter() - t)
                if kb is ours:
                    recorded = appended
            data = "".join(line + "\n" for e in recorded for line in quads_for(e)).encode()
            t = time.perf_counter()
            raw.load(data, format=RdfFormat.N_QUADS)
            raw.flush()
            t_raw.append(time.perf_counter() - t)
        n = batch_size * batches
        out["ingest_claims_per_s"] = n / sum(t_ours)
        out["ingest_before_claims_per_s"] = n / sum(t_before)
        out["raw_write_claims_per_s"] = n / sum(t_raw)
        cache = ours.context_cache
        out["context_hits"], out["context_misses"] = cache.hits, cache.misses
        # admission of one claim: remembered lookups against none
        engine = ours.shacl.for_writes(ours.shapes, ours.ontology)
        cached = Admission(ours.projection, ours.ontology, ours.shapes, ours.texts,
                           engine=engine, context=cache)
        plain = Admission(ours.projection, ours.ontology, ours.shapes, ours.texts,
                          engine=engine)
        a_t: list[float] = []
        p_t: list[float] = []
        for i, ev in enumerate(events(int(args.get("singles", 40)))):
            both = [(cached, a_t), (plain, p_t)]  # the second of a pair reads a warm store
            for adm, times in both if i % 2 == 0 else both[::-1]:
                t = time.perf_counter()
                adm.check([ev], pending_texts={}, recorded_by=AGENT)
                times.append(time.perf_counter() - t)
        out["admission_ms"] = statistics.median(a_t) * 1000
        out["admission_before_ms"] = statistics.median(p_t) * 1000
        # one-claim writes from several threads: group commit against one at a time, in
        # rounds that alternate which goes first (the copies share their files' page cache)
        clients, per = int(args.get("post_clients", 4)), int(args.get("posts_per_client", 25))
        spent = {"posts": 0.0, "posts_before": 0.0}
        rounds = int(args.get("post_rounds", 2))
        paths = [(ours, True, "posts"), (before, False, "posts_before")]
        for round_ in range(rounds):
            for kb, grouped, key in paths if round_ % 2 == 0 else paths[::-1]:
                work = [[next(specs) for _ in range(per)] for _ in range(clients)]
                gate = threading.Barrier(clients)

                def client(specs_: list[dict[str, Any]], kb: Any = kb,
                           grouped: bool = grouped, gate: threading.Barrier = gate) -> None:
                    gate.wait()
                    for spec in specs_:
                        kb.assert_claim(spec, recorded_by="http:bench", grouped=grouped)

                threads = [threading.Thread(target=client, args=(w,)) for w in work]
                t = time.perf_counter()
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                spent[key] += time.perf_counter() - t
        for key, seconds in spent.items():
            out[f"{key}_per_s"] = rounds * clients * per / seconds
        out["post_groups"], out["post_requests"] = ours.committer.groups, \
            ours.committer.requests
        return out
    finally:
        if not args.get("keep"):
            shutil.rmtree(scratch, ignore_errors=True)


def figures(size: int, r: dict[str, Any]) -> list[Figure]:
    """The figures of :func:`scale`'s results at one size (ratios for ``--check``)."""
    w = r.get("writes_scale") or {}
    if "ingest_claims_per_s" not in w:
        return []
    out = []
    ing, before, raw = (w["ingest_claims_per_s"], w["ingest_before_claims_per_s"],
                        w["raw_write_claims_per_s"])
    out.append(Figure("writes", "ingest, projection on disk, claims/s", size, ing, "claims/s",
                      before, "the same batches without remembered lookups", ing / before,
                      "higher", "≥ 2,000 at 1M" if size >= 1_000_000 else "",
                      ing >= 2000 if size >= 1_000_000 else None, "writes.ingest_vs_before"))
    out.append(Figure("writes", "ingest, projection on disk, claims/s", size, ing, "claims/s",
                      raw, "raw pyoxigraph load of the same quads (on disk)", ing / raw,
                      "higher", key="writes.ingest_vs_raw_write"))
    out.append(Figure("writes", "admission of one claim, ms", size, w["admission_ms"], "ms",
                      w["admission_before_ms"], "without remembered lookups",
                      w["admission_ms"] / w["admission_before_ms"], "lower",
                      key="writes.admission_vs_before"))
    out.append(Figure("writes", f"one-claim writes, {w['post_requests']} from 4 threads, /s",
                      size, w["posts_per_s"], "claims/s", w["posts_before_per_s"],
                      "one at a time (no group commit)",
                      w["posts_per_s"] / w["posts_before_per_s"], "higher",
                      "≥ 300 at 1M" if size >= 1_000_000 else "",
                      w["posts_per_s"] >= 300 if size >= 1_000_000 else None,
                      "writes.grouped_posts_vs_sequential",
                      note=f"{w['post_groups']} groups"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", required=True)
    parser.add_argument("--projection", required=True)
    parser.add_argument("--scratch", default="/tmp/geokb-bench-writes")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=500)
    a = parser.parse_args()
    r = scale({"kb": a.kb, "projection": a.projection, "scratch": a.scratch,
               "batches": a.batches, "batch_size": a.batch_size})
    print(json.dumps(r, indent=1))
    for f in figures(0, {"writes_scale": r}):
        print(f"{f.name}: {f.ours:,.1f} vs {f.baseline:,.1f} ({f.baseline_name}): "
              f"{f.ratio:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

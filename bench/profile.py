"""Where the time goes, for the targets the suite marks not met: pyinstrument profiles of
replay, validated writes, the status query, the HTTP handlers and restart, each on a
synthetic KB, with the hottest functions of geokb's own code (inclusive % of wall time).

    python -m bench.profile [--claims 10000] [--only rebuild,writes,…]

Writes docs/benchmarks/profiles/<scenario>-<claims>.txt (the call tree) and
docs/benchmarks/profiles/summary-<claims>.json (the hot spots), and prints the summary.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import ROOT
from .generate import AGENT, ensure_kb, load_manifest

OUT = ROOT / "docs" / "benchmarks" / "profiles"


def hot_spots(session: Any, top: int = 12) -> list[dict[str, Any]]:
    """geokb functions by inclusive share of the profile, plus library self time."""
    root = session.root_frame()
    total = root.time or 1e-9
    ours: dict[str, float] = {}
    libs: dict[str, float] = {}

    def walk(frame: Any, seen: frozenset[str]) -> None:
        path = frame.file_path or ""
        key = None
        if "/src/geokb/" in path:
            key = f"src/geokb/{path.split('/src/geokb/', 1)[1]}:{frame.function}"
        if key and key not in seen:
            ours[key] = ours.get(key, 0.0) + frame.time
            seen = seen | {key}
        lib = _library(path, frame.function)
        own = frame.time - sum(c.time for c in frame.children)
        for child in frame.children:
            if child.is_synthetic:  # pyinstrument's "[self]" / "[await]" leaves
                own += child.time
            else:
                walk(child, seen)
        if own > 0:
            libs[lib] = libs.get(lib, 0.0) + own

    walk(root, frozenset())
    spots = [{"where": k, "percent": round(100 * v / total, 1)}
             for k, v in sorted(ours.items(), key=lambda kv: -kv[1])[:top]]
    spots.append({"self time by library": {
        k: round(100 * v / total, 1) for k, v in sorted(libs.items(), key=lambda kv: -kv[1])[:8]}})
    return spots


def _library(path: str, function: str) -> str:
    if "/src/geokb/" in path or path.startswith("geokb/"):
        return "geokb"
    if path.startswith(("threading.py", "selectors.py", "asyncio/", "json/")):
        return "stdlib:" + path.split(".py", 1)[0]
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if path.startswith("<built-in>") or not path:
        return f"built-in ({function.split('.')[0]})"
    if "/lib/python3" in path:
        return "stdlib:" + path.rsplit("/", 1)[-1]
    return path.rsplit("/", 1)[-1]


def profiled(name: str, claims: int, fn: Callable[[], Any]) -> dict[str, Any]:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    t = time.perf_counter()
    profiler.start()
    try:
        fn()
    finally:
        profiler.stop()
    elapsed = time.perf_counter() - t
    OUT.mkdir(parents=True, exist_ok=True)
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    (OUT / f"{name}-{claims}.txt").write_text(text)
    assert profiler.last_session is not None
    return {"seconds": round(elapsed, 2), "hot": hot_spots(profiler.last_session)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="rebuild,writes,status,http,restart")
    parser.add_argument("--projection", type=Path, default=None,
                        help="an on-disk projection of this KB to reuse (else built first)")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    kb_dir, manifest = ensure_kb(args.claims, args.seed)
    from geokb.kb import KnowledgeBase
    from geokb.log.file import FileEventStore
    from geokb.projection.store import ProjectionStore

    summary: dict[str, Any] = {"claims": args.claims}
    earlier = OUT / f"summary-{args.claims}.json"
    if earlier.exists():  # --only replaces its own scenarios and keeps the others
        summary = {**json.loads(earlier.read_text()), **summary}
    work = Path(tempfile.mkdtemp(prefix="geokb-profile-"))
    try:
        proj = args.projection or work / "projection"
        if args.projection is None:
            ProjectionStore(proj).apply(FileEventStore(kb_dir).read())
        if "rebuild" in wanted:
            summary["rebuild"] = profiled("rebuild", args.claims, lambda: ProjectionStore().apply(
                FileEventStore(kb_dir).read()))
        if "restart" in wanted:
            summary["restart"] = profiled("restart", args.claims, lambda: KnowledgeBase(
                kb_dir, projection_path=proj).status(manifest["query_entities"][0][0]))
        entities = [slug for slug, _n in manifest["query_entities"][:300]]
        if "status" in wanted:
            kb = KnowledgeBase(kb_dir, projection_path=proj)

            def statuses() -> None:
                for slug in entities:
                    kb.status(slug)
            summary["status"] = profiled("status", args.claims, statuses)
            del kb
        if "writes" in wanted:
            summary["writes"] = profile_writes(kb_dir, proj, work, args.claims)
        if "http" in wanted:
            summary["http"] = profile_http(kb_dir, proj, entities, args.claims)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (OUT / f"summary-{args.claims}.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


def profile_writes(kb_dir: Path, proj: Path, work: Path, claims: int) -> dict[str, Any]:
    from geokb.kb import KnowledgeBase
    from geokb.write.claimfile import claim_event

    from .worker import claim_specs, scratch_copy

    manifest = load_manifest(kb_dir)
    target, proj_copy = scratch_copy(kb_dir, proj, work / "scratch")
    kb = KnowledgeBase(target, projection_path=proj_copy)
    specs = claim_specs(manifest, "p")
    texts: dict[str, str] = {}
    batches = []
    for _ in range(2):
        batch = []
        for _ in range(100):
            spec = next(specs)
            texts.setdefault(spec["source"], kb.source_text(spec["source"]))
            batch.append(claim_event(spec, texts[spec["source"]]))
        batches.append(batch)
    from geokb.shacl.validation import write_engine

    write_engine(kb.shapes, kb.ontology)  # compiled before the profile, as on open
    gc.freeze()  # as `geokb` does once it has opened a KB

    def ingest() -> None:
        for batch in batches:
            kb.append(batch, recorded_by=AGENT)
    return profiled("writes", claims, ingest)


def profile_http(kb_dir: Path, proj: Path, entities: list[str], claims: int) -> dict[str, Any]:
    """py-spy on a real ``geokb serve`` (its handlers run in threads) under the unique
    SPARQL load and then the REST status load, 4 client processes each."""
    import subprocess
    import sys

    from . import httpbench
    from .common import free_port, server

    spy = Path(sys.executable).with_name("py-spy")
    out: dict[str, Any] = {}
    port = free_port()
    cmd = [httpbench.geokb_bin(), "--kb", str(kb_dir), "--projection", str(proj), "serve",
           "--host", "127.0.0.1", "--port", str(port)]
    with server(cmd, ready_url=f"http://127.0.0.1:{port}/api/health", timeout=300,
                env={"GEOKB_TOKEN": ""}) as srv:
        for name, template in (("http-sparql", httpbench.sparql_template("/sparql", unique=True)),
                               ("http-rest-status", f"/api/entities/{httpbench.ENTITY_TOKEN}"
                                                    "/status")):
            raw = OUT / f"{name}-{claims}.pyspy.txt"
            OUT.mkdir(parents=True, exist_ok=True)
            rec = subprocess.Popen([str(spy), "record", "--pid", str(srv["pid"]), "--format",
                                    "raw", "--duration", "4", "--rate", "200", "--output",
                                    str(raw)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            try:
                httpbench.run_load(port, template=template, entities=entities, clients=4,
                                   duration=4.5, max_requests=20000, unique=True,
                                   headers=httpbench.SPARQL_JSON)
                rec.wait(timeout=30)
            finally:
                if rec.poll() is None:
                    rec.kill()
            out[name] = {"hot": pyspy_hot(raw)} if raw.exists() else {"error": "no py-spy data"}
    return out


def pyspy_hot(raw: Path, top: int = 12) -> list[dict[str, Any]]:
    """Hot spots from py-spy's raw (collapsed) stacks: inclusive % for geokb functions,
    self % by library for the leaves."""
    import re

    pattern = re.compile(r"^(.*) \((.*?)(?::(\d+))?\)$")
    ours: dict[str, int] = {}
    libs: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        seen: set[str] = set()
        frames = stack.split(";")
        for frame in frames:
            m = pattern.match(frame)
            if not m:
                continue
            function, path = m.group(1), m.group(2)
            if "/src/geokb/" in path or path.startswith("geokb/"):
                key = f"src/geokb/{path.split('geokb/', 1)[1]}:{function}"
                if key not in seen:
                    ours[key] = ours.get(key, 0) + count
                    seen.add(key)
        m = pattern.match(frames[-1])
        lib = _library(m.group(2), m.group(1)) if m else frames[-1]
        libs[lib] = libs.get(lib, 0) + count
    total = total or 1
    spots: list[dict[str, Any]] = [
        {"where": k, "percent": round(100 * v / total, 1)}
        for k, v in sorted(ours.items(), key=lambda kv: -kv[1])[:top]]
    spots.append({"self time by library": {
        k: round(100 * v / total, 1) for k, v in sorted(libs.items(), key=lambda kv: -kv[1])[:8]}})
    return spots


if __name__ == "__main__":
    raise SystemExit(main())

"""A new read node from a snapshot (issue 12): ``geokb snapshot create`` on a node that has
its projection, claims appended after it, then on a new node with only the log,
``geokb snapshot restore`` and its first ``status`` answer, each command through the CLI
in a fresh process — beside the new node's first answer without a snapshot (the first
on-disk build) in the same run.

    python -m bench.snapshots --kb DIR --projection DIR [--work DIR] [--added 1000]
                              [--no-baseline] [--json FILE]

``--kb``/``--projection``: a KB with its projection on disk (the bench's cached KB and the
projection ``python -m bench`` builds, or any KB), which no other process may hold: the
projection is opened to flush it before its checkpoint is taken (what it holds does not
change). In ``--work``: the
old node (a copy: its log copied, its projection as a RocksDB checkpoint), the snapshot,
and the new node (a copy of the old node's log once ``--added`` claims were appended after
the snapshot). Issue 12's target: the new node answers within 60 s at 1M claims.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .common import ROOT, machine
from .doors_since import timed
from .generate import load_manifest
from .worker import scratch_copy

TARGET_S = 60.0

_APPEND = """
import sys
from pathlib import Path
from bench.generate import AGENT, load_manifest
from bench.worker import claim_specs
from geokb.kb import KnowledgeBase
from geokb.write.claimfile import claim_event
kb = KnowledgeBase(Path(sys.argv[1]), projection_path=Path(sys.argv[2]))
specs = claim_specs(load_manifest(Path(sys.argv[1])), "snapshot")
texts = {}
left = int(sys.argv[3])
while left:
    batch = []
    for _ in range(min(500, left)):
        spec = next(specs)
        if spec["source"] not in texts:
            texts[spec["source"]] = kb.source_text(spec["source"])
        batch.append(claim_event(spec, texts[spec["source"]]))
    kb.append(batch, recorded_by=AGENT)
    left -= len(batch)
"""


def _new_node(old: Path, target: Path) -> Path:
    """A node with the old node's log and texts, and no projection."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(old / "events.jsonl", target / "events.jsonl")
    shutil.copyfile(old / "manifest.json", target / "manifest.json")
    (target / "sources").symlink_to((old / "sources").resolve())
    return target


def run(kb: Path, projection: Path, work: Path, *, added: int = 1000, baseline: bool = True,
        timeout: float = 3600) -> dict[str, Any]:
    entity = load_manifest(kb)["query_entities"][0][0]
    out: dict[str, Any] = {"added": added, "entity": entity}
    old, old_projection = scratch_copy(kb, projection, work / "old")
    assert old_projection is not None
    snap = work / "snapshot"
    shutil.rmtree(snap, ignore_errors=True)
    out["create"] = timed(["--kb", str(old), "--projection", str(old_projection),
                           "--no-progress", "snapshot", "create", str(snap)], timeout=timeout)
    subprocess.run([sys.executable, "-c", _APPEND, str(old), str(old_projection), str(added)],
                   cwd=ROOT, check=True)
    node = _new_node(old, work / "node")
    out["restore"] = timed(["--kb", str(node), "--no-progress", "snapshot", "restore",
                            str(snap)], timeout=timeout)
    out["first_status"] = timed(["--kb", str(node), "--no-progress", "status", entity],
                                timeout=timeout)
    out["bootstrap_s"] = sum(x.get("s", float("inf")) if x.get("rc") == 0 else float("inf")
                             for x in (out["restore"], out["first_status"]))  # failed: inf
    if baseline:
        bare = _new_node(old, work / "bare")
        out["first_status_built"] = timed(["--kb", str(bare), "--no-progress", "status",
                                           entity], timeout=timeout)
        shutil.rmtree(bare, ignore_errors=True)
    out["snapshot_bytes"] = sum(f.stat().st_size for f in snap.rglob("*") if f.is_file())
    return out


def figures(size: int, r: dict[str, Any] | None, built_s: float | None = None) -> list[Any]:
    """The figures of one size for :mod:`bench.report` (scenario ``restart``): a new node's
    first answer from a snapshot beside its first answer without one (measured here, or
    ``built_s``: the same run's first on-disk build)."""
    from .report import Figure

    if not r or "error" in r:
        return []
    base = (r.get("first_status_built") or {}).get("s", built_s)
    if base is None:
        return []
    ours = r["bootstrap_s"]
    return [Figure("restart", f"a new read node's first answer from a snapshot "
                              f"(+{r['added']} claims to catch up), s", size, ours, "s",
                   base, "first on-disk build", ours / max(base, 1e-9), "lower",
                   target=f"≤ {TARGET_S:g} s at 1M", met=(ours <= TARGET_S)
                   if size >= 1_000_000 else None, key="snapshots.bootstrap_vs_build")]


def print_figures(r: dict[str, Any]) -> None:
    for name, key in (("snapshot create", "create"), ("snapshot restore (+ catch-up of "
                                                      f"{r['added']} claims)", "restore"),
                      ("first status after it", "first_status")):
        x = r.get(key, {})
        print(f"  {name:<46} {x.get('s', float('nan')):8.2f} s {x.get('rss_mib', 0):7.0f} MiB"
              f"  rc {x.get('rc')}")
    line = f"  a new node answers after {r['bootstrap_s']:.1f} s (target {TARGET_S:g} s at 1M)"
    built = r.get("first_status_built")
    if built and "s" in built:
        line += (f"; without a snapshot (first on-disk build) {built['s']:.1f} s, "
                 f"{built['rss_mib']:.0f} MiB: {r['bootstrap_s'] / built['s']:.3f}×")
    print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--projection", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/geokb-bench-snapshots"))
    parser.add_argument("--added", type=int, default=1000)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    print(json.dumps(machine()))
    try:
        r = run(args.kb, args.projection, args.work, added=args.added,
                baseline=args.baseline)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    print_figures(r)
    if args.json is not None:
        args.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

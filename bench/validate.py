"""``geokb validate`` on a synthetic KB with pySHACL and with pyshacl-turbo, side by side.

    python -m bench.validate --claims 10000 [--seed 1] [--cache DIR] [--engines pyshacl,turbo]

Each engine runs the real command (``geokb --kb DIR validate --format json``) in a fresh
process, chosen by ``GEOKB_SHACL_ENGINE``; the figures are its wall time and its peak RSS
(the child's ``ru_maxrss``). The two reports must be identical (same verdict, same
problems): the run exits 1 if they differ, or if a run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import ROOT, machine
from .generate import ensure_kb


def geokb_command() -> list[str]:
    script = Path(sys.executable).with_name("geokb")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from geokb.cli import main; main()"]


def run_validate(kb: Path, engine: str, timeout: float) -> dict[str, Any]:
    """One ``geokb validate`` with ``engine``: seconds, peak RSS (bytes), exit code, report."""
    env = {**os.environ, "GEOKB_SHACL_ENGINE": engine}
    cmd = [*geokb_command(), "--kb", str(kb), "validate", "--format", "json"]
    out_path = kb.parent / f"validate-{engine}.json"
    with out_path.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE)
        deadline = t0 + timeout
        while True:  # bounded: the child is killed at the deadline
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    try:
        report = json.loads(out_path.read_bytes())
    except ValueError:
        report = None
    return {"engine": engine, "seconds": round(seconds, 2),
            "peak_rss": usage.ru_maxrss * 1024, "exit": proc.returncode, "report": report,
            "stderr": err[-2000:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--engines", default="pyshacl,turbo")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args(argv)
    kb, manifest = ensure_kb(args.claims, args.seed, args.cache)
    m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu_model']}, {m['memory_gib']} GiB; geokb "
          f"{m['geokb_commit']}; geokb validate on "
          f"{manifest['claims']:,} claims ({manifest['events']:,} events), {kb}", flush=True)
    runs = []
    for engine in args.engines.split(","):
        run = run_validate(kb, engine, args.timeout)
        runs.append(run)
        problems = len(run["report"]["problems"]) if run["report"] else "?"
        print(f"  {engine:>8}: {run['seconds']:8.1f} s  {run['peak_rss'] / 2**20:8.0f} MiB peak "
              f"RSS  exit {run['exit']}  {problems} problem(s)", flush=True)
        if run["report"] is None:
            print(run["stderr"], file=sys.stderr)
    ok = all(r["report"] is not None and r["exit"] in (0, 1) for r in runs)
    if ok and len(runs) > 1:
        first = runs[0]
        for other in runs[1:]:
            same = other["report"] == first["report"]
            ok = ok and same
            print(f"  {other['engine']} vs {first['engine']}: "
                  f"{first['seconds'] / max(other['seconds'], 1e-9):.1f}x faster, "
                  f"{first['peak_rss'] / max(other['peak_rss'], 1):.1f}x less memory; "
                  f"reports {'identical' if same else 'DIFFER'}")
    if args.json is not None:
        args.json.write_text(json.dumps({"claims": manifest["claims"], "machine": m,
                                         "runs": [{k: v for k, v in r.items() if k != "report"}
                                                  for r in runs]}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

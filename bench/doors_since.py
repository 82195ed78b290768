"""A pull request's CI at scale: ``validate --since``, ``check --since`` and ``verify
--base`` through the CLI, each beside its O(KB) baseline in the same run.

    python -m bench.doors_since --claims N [--seed 1] [--cache DIR] [--added 100]
                                [--work DIR] [--no-baseline] [--json FILE]

On a copy of the synthetic KB (``--work``, reused when it holds a prepared copy) with
``--added`` claims appended after an anchor (the head before them, as
:func:`bench.doors_validate.prepare` makes them), its projection built on disk by the
CLI's first command (timed: the first on-disk build, checkpoints in the last 16,000
events), each command runs in a fresh process, its wall-clock time and peak RSS taken
from ``wait4``:

* ``validate --since ANCHOR``: from the checkpoint at or before the anchor; baseline:
  ``--in-memory validate --since ANCHOR`` (no checkpoint: the events up to the anchor
  replayed in memory, what it did before checkpoints);
* ``check --since ANCHOR``: the four shipped checks bound to what changed; baseline: the
  four checks whole;
* ``verify --base ANCHOR``: the lines the anchor vouches for checked by their bytes;
  baseline: ``verify``, every line decoded.

Issue 12's target: the three ``--since``/``--base`` commands together within 30 s at 1M.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, machine
from .generate import ensure_kb

TARGET_S = 30.0
ANCHOR_FILE = "bench-anchor.txt"


def _geokb() -> list[str]:
    script = Path(sys.executable).with_name("geokb")
    return [str(script)] if script.exists() else [sys.executable, "-m", "geokb.cli.app"]


def timed(args: list[str], *, timeout: float) -> dict[str, Any]:
    """Run ``geokb ARGS`` in a fresh process: seconds, peak RSS (MiB, from ``wait4``), exit
    code and the end of its output; killed (by its pid) after ``timeout`` seconds."""
    with tempfile.TemporaryFile() as output, open(os.devnull, "wb") as sink:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*_geokb(), *args], cwd=ROOT, stdout=output, stderr=sink)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {"error": f"timed out after {timeout:g} s"}
            time.sleep(0.02)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    return {"s": seconds, "rss_mib": usage.ru_maxrss / 1024, "rc": proc.returncode,
            "out": text[-2000:]}


def prepared(kb: Path, work: Path, added: int) -> str:
    """The anchor of the prepared copy in ``work``, made now (in a child process, which
    reads the whole log: a child's peak RSS as ``wait4`` reports it starts from its
    parent's, so the parent stays small) if it holds none."""
    marker = work / ANCHOR_FILE
    if not marker.is_file():
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                        "from bench.doors_validate import prepare; "
                        "a = prepare(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])); "
                        "(Path(sys.argv[2]) / sys.argv[4]).write_text(a + '\\n')",
                        str(kb), str(work), str(added), ANCHOR_FILE], cwd=ROOT, check=True)
    return marker.read_text().strip()


def run(claims: int, *, seed: int = 1, cache: Path | None = None, added: int = 100,
        work: Path | None = None, baseline: bool = True, timeout: float = 3600) -> dict[str, Any]:
    kb, _manifest = ensure_kb(claims, seed, cache, quiet=True)
    work = work or kb.parent / f"since-{claims}-seed{seed}"
    fresh = not (work / ANCHOR_FILE).is_file()
    anchor = prepared(kb, work, added)
    for rq in (ROOT / "kb" / "checks").glob("*.rq"):  # the checks as shipped now
        shutil.copy(rq, work / "checks" / rq.name)
    base = ["--kb", str(work), "--no-progress"]
    out: dict[str, Any] = {"claims": claims, "added": added, "anchor": anchor}
    build = timed([*base, "log", "--limit", "1"], timeout=timeout)
    out["build" if fresh else "open"] = build
    out["validate_since"] = timed([*base, "validate", "--since", anchor, "--format", "json"],
                                  timeout=timeout)
    out["check_since"] = timed([*base, "check", "--since", anchor, "--timeout", "600"],
                               timeout=timeout)
    out["verify_base"] = timed([*base, "verify", "--base", anchor], timeout=timeout)
    out["together_s"] = sum(out[k].get("s", float("inf"))
                            for k in ("validate_since", "check_since", "verify_base"))
    if baseline:
        out["validate_since_replayed"] = timed(
            ["--kb", str(work), "--no-progress", "--in-memory", "validate", "--since", anchor,
             "--format", "json"], timeout=timeout)
        out["check_whole"] = timed([*base, "check", "--timeout", "600"], timeout=timeout)
        out["verify_whole"] = timed([*base, "verify"], timeout=timeout)
    return out


ROWS = [("validate --since", "validate_since", "--in-memory validate --since (replay)",
         "validate_since_replayed"),
        ("check --since", "check_since", "check (the four whole)", "check_whole"),
        ("verify --base", "verify_base", "verify (every line decoded)", "verify_whole")]


def figures(size: int, r: dict[str, Any] | None) -> list[Any]:
    """The figures of one size for :mod:`bench.report` (scenario ``validate/check``)."""
    from .report import Figure

    if not r or "error" in r:
        return []
    out = []
    for name, key, base_name, base_key in ROWS:
        ours, theirs = r.get(key, {}), r.get(base_key, {})
        if "s" in ours and "s" in theirs:
            out.append(Figure("validate/check", f"CLI {name} (+{r['added']} claims)", size,
                              ours["s"], "s", theirs["s"], base_name,
                              ours["s"] / max(theirs["s"], 1e-9), "lower",
                              key=f"doors_since.{key}_vs_whole"))
    return out


def print_figures(r: dict[str, Any]) -> None:
    first = r.get("build") or r.get("open") or {}
    what = "first on-disk build" if "build" in r else "open (projection already built)"
    print(f"  {r['claims']:,} claims, +{r['added']} after the anchor; {what}: "
          f"{first.get('s', float('nan')):.1f} s, {first.get('rss_mib', 0):.0f} MiB")
    for name, key, base_name, base_key in ROWS:
        ours, theirs = r.get(key, {}), r.get(base_key, {})
        line = (f"  {name:<18} {ours.get('s', float('nan')):8.2f} s "
                f"{ours.get('rss_mib', 0):7.0f} MiB  rc {ours.get('rc')}")
        if "s" in theirs:
            line += (f"   {base_name}: {theirs['s']:8.2f} s {theirs['rss_mib']:7.0f} MiB"
                     f"  ({ours['s'] / theirs['s']:.3f}×)")
        print(line)
    print(f"  together: {r['together_s']:.1f} s (target {TARGET_S:g} s at 1M)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--added", type=int, default=100)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    print(json.dumps(machine()))
    r = run(args.claims, seed=args.seed, cache=args.cache, added=args.added, work=args.work,
            baseline=args.baseline)
    print_figures(r)
    if args.json is not None:
        args.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Crash trials: SIGKILL writers (CLI, HTTP, KnowledgeBase) at random points; print the tally.

    .venv/bin/python scripts/reliability/crash.py            # 140 CLI + 70 HTTP + more
    .venv/bin/python scripts/reliability/crash.py --scale 0.2 --seed 7

After every kill it checks what tests/reliability/test_crash.py checks: the log is a valid
prefix (verify
clean once the next writer recovered it), no partial event or batch is visible, every
acknowledged append is present, and the projection after a restart equals a fresh replay.
Exit status 0 when every trial held, 1 otherwise. Runs in a temporary directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.reliability.test_crash import (  # noqa: E402
    run_catch_up_trials,
    run_cli_trials,
    run_driver_trials,
    run_http_trials,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every trial count")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--keep", type=Path, help="run here and keep the KBs")
    args = parser.parse_args()

    def n(count: int) -> int:
        return max(1, round(count * args.scale))

    root = args.keep or Path(tempfile.mkdtemp(prefix="geokb-crash-"))
    root.mkdir(parents=True, exist_ok=True)
    runs = [
        ("cli", lambda: run_cli_trials(root / "cli", n(140), args.seed)),
        ("http", lambda: run_http_trials(root / "http", n(70), args.seed + 1)),
        ("driver", lambda: run_driver_trials(root / "driver", n(40), args.seed + 2,
                                             faults=False)),
        ("faults", lambda: run_driver_trials(root / "faults", n(80), args.seed + 3,
                                             faults=True)),
        ("catch-up", lambda: run_catch_up_trials(root / "catch-up", n(20), args.seed + 4,
                                                 claims=6000)),
    ]
    failures = 0
    total_kills = 0
    started = time.monotonic()
    for name, run in runs:
        (root / name).mkdir(exist_ok=True)
        t0 = time.monotonic()
        tally = run()
        print(f"{tally.line()}  [{time.monotonic() - t0:.0f}s]", flush=True)
        for failure in tally.failures[:20]:
            print(f"  FAIL {failure}", flush=True)
        failures += len(tally.failures)
        total_kills += tally.counts.get("killed", 0)
    print(f"crash trials: {total_kills} kills in {time.monotonic() - started:.0f}s, "
          f"{failures} failure(s); seed {args.seed}; KBs in {root}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Concurrent writers and readers for a bounded time, then a Jepsen-style check.

    .venv/bin/python scripts/reliability/concurrency.py              # 60 s
    .venv/bin/python scripts/reliability/concurrency.py --seconds 20

4 KnowledgeBase writer processes (2 naming their expected position), 4 `geokb assert`
writers, 4 HTTP clients of a real `geokb serve`, 2 HTTP readers checking that no query
sees a half-applied event, and `geokb rebuild` in a loop; then: nothing lost, nothing
duplicated, nothing unacknowledged written, one hash chain, real-time order, idempotency
keys recorded once. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.reliability.test_concurrency import run_concurrency  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=4, help="of each kind")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="geokb-concurrency-"))
    tally, _ = run_concurrency(root, args.seconds, api_writers=args.writers,
                               cli_writers=args.writers, http_clients=args.writers)
    print(tally.line())
    for failure in tally.failures[:30]:
        print(f"  FAIL {failure}")
    print(f"KB in {root}")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

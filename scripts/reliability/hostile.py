#!/usr/bin/env python3
"""Every hostile-input case of tests/reliability/test_hostile_input.py, counted per surface.

    .venv/bin/python scripts/reliability/hostile.py

For each surface: how many inputs were tried and how many were refused cleanly (a clear,
specific error; nothing changed in kb/). Exit status 1 if any was not.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.reliability.test_hostile_input import (  # noqa: E402
    CLAIM_FILES,
    CLI,
    EVENT_FILES,
    HTTP,
    SOURCE_TEXTS,
    TOKEN,
    prepared_kb,
    run_case,
    run_event_file_case,
    run_http_case,
)


def main() -> int:
    from fastapi.testclient import TestClient

    from geokb.http.app import Settings, create_app
    from geokb.kb import KnowledgeBase

    root = Path(tempfile.mkdtemp(prefix="geokb-hostile-"))
    shared = prepared_kb(root / "shared")
    pristine = prepared_kb(root / "pristine")
    tried: Counter[str] = Counter()
    clean: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()

    def record(surface: str, name: str, problem: str | None) -> None:
        tried[surface] += 1
        if problem is None:
            clean[surface] += 1
        else:
            failures.append(f"{surface}: {name}: {problem}")

    for i, case in enumerate(CLI + CLAIM_FILES + SOURCE_TEXTS):
        work = root / f"w{i}"
        work.mkdir()
        record(case.surface, case.name, run_case(case, shared, work))
    for i, case in enumerate(EVENT_FILES):
        work = root / f"e{i}"
        work.mkdir()
        record(case.surface, case.name, run_event_file_case(case, pristine, work))
    settings = Settings(tokens={"tester": TOKEN}, query_timeout=1.0, max_rows=100,
                        max_body_bytes=65_536)
    with TestClient(create_app(KnowledgeBase(shared), settings),
                    raise_server_exceptions=False) as client:
        for case in HTTP:
            record(case.surface, case.name, run_http_case(case, client, shared))

    print(f"{'surface':<14} {'tried':>6} {'refused cleanly':>16}")
    for surface in tried:
        print(f"{surface:<14} {tried[surface]:>6} {clean[surface]:>16}")
    print(f"{'total':<14} {sum(tried.values()):>6} {sum(clean.values()):>16}"
          f"   [{time.monotonic() - started:.0f}s]")
    for failure in failures:
        print(f"  FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

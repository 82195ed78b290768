"""KB assertions kept with the KB as SPARQL ASK files (``kb/checks/*.rq``).

Each file is one ASK query that must answer ``true``; a first comment line gives its
title, and ``# expect: false`` flips the expectation (for "no X exists" checks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from geokb.errors import QueryError


@dataclass(frozen=True)
class CheckResult:
    path: str
    title: str
    passed: bool


def run_checks(query: Callable[[str], object], directory: Path) -> list[CheckResult]:
    """Run every ``*.rq`` in ``directory`` through ``query`` (SPARQL text → a pyoxigraph
    result: the KB's projection). Raises :class:`QueryError` for a bad file or a check
    that is not an ASK query."""
    results = []
    files = sorted(directory.glob("*.rq"))
    if not files:
        raise QueryError(f"no checks (*.rq) in {directory}")
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QueryError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
        title = path.stem
        expect = True
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("# expect:"):
                expect = stripped.split(":", 1)[1].strip().lower() == "true"
            elif stripped.startswith("#") and title == path.stem:
                title = stripped.lstrip("# ").strip() or title
        try:
            answer = query(text)
        except QueryError as exc:  # a parse error, from the one place the engine is asked
            raise QueryError(f"{path}: {exc}") from exc
        if not isinstance(answer, ox.QueryBoolean):
            raise QueryError(f"{path}: a check must be an ASK query")
        results.append(CheckResult(str(path), title, bool(answer) == expect))
    return results

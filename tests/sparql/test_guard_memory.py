"""The guard reads a query of up to 1 MB in bounded memory: its lexer matched a string
literal with a backtracking loop, ~150 bytes of regex state per character, so one 900 kB
literal took 169 MB in the server (the hostile-query run went over its memory cap)."""

from __future__ import annotations

import subprocess
import sys

MEASURE = """
import resource
from geokb.sparql.guard import guard
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for quote in ('"', "'", '\"\"\"', "'''"):
    guard('ASK { FILTER(' + quote + 'x' * 900_000 + quote + ' = "y") }')
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_900_kb_literal_is_guarded_in_a_few_megabytes() -> None:
    done = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True,
                          timeout=120, check=True)
    grown_mib = int(done.stdout.strip())
    assert grown_mib < 40, f"the guard's peak grew by {grown_mib} MiB"

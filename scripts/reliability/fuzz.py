#!/usr/bin/env python3
"""The long fuzzing and property runs: hypothesis with many more examples, then atheris.

    .venv/bin/python scripts/reliability/fuzz.py                  # atheris 60 s per target
    .venv/bin/python scripts/reliability/fuzz.py --atheris-seconds 0

Runs tests/reliability/test_fuzz.py and tests/reliability/test_properties.py with
GEOKB_LONG=1 (5000 examples per
parser property, 400 per API operation and mode, 60 command sequences of up to 20 steps),
then scripts/reliability/fuzz_atheris.py on both targets if atheris is installed. Prints
the time each took and exits 1 if any found a failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def run(name: str, cmd: list[str], env: dict[str, str]) -> bool:
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    took = time.monotonic() - started
    tail = (result.stdout + result.stderr).strip().splitlines()[-6:]
    verdict = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
    print(f"{name}: {verdict} in {took:.0f}s", flush=True)
    for line in tail:
        if "schemathesis:" in line or line.startswith("Done ") or result.returncode:
            print(f"  {line}", flush=True)
    return result.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--atheris-seconds", type=int, default=60)
    args = parser.parse_args()
    env = {**os.environ, "GEOKB_LONG": "1"}
    ok = run("hypothesis: parsers, read API, HTTP API (schemathesis)",
             [PYTHON, "-m", "pytest", "-q", "-s", "-p", "no:randomly",
              "tests/reliability/test_fuzz.py"],
             env)
    ok &= run("hypothesis: command sequences, as-of, export/import",
              [PYTHON, "-m", "pytest", "-q", "-p", "no:randomly",
               "tests/reliability/test_properties.py"],
              env)
    if args.atheris_seconds and importlib.util.find_spec("atheris") is not None:
        for target in ("decode", "claimfile"):
            ok &= run(f"atheris: {target} for {args.atheris_seconds}s",
                      [PYTHON, "scripts/reliability/fuzz_atheris.py", target, "--seconds",
                       str(args.atheris_seconds)], os.environ.copy())
    elif args.atheris_seconds:
        print("atheris: not installed (.venv/bin/pip install atheris); skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``geokb serve`` stops on Ctrl-C (SIGINT) and SIGTERM promptly, even while an
event-stream client is connected (it used to run on until every stream client left)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.harness.http import build_kb, free_port

EXIT_WITHIN = 2.0


#: Counts 96^5 rows of a cross join: minutes of work inside the engine, in constant memory,
#: before its one row — a query no cancel flag can reach.
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
           "?m ?n2 ?o }")


def start(kb_dir: Path, env_extra: dict[str, str] | None = None
          ) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log_path = kb_dir.parent / f"serve-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOKB_")}
    env.update(env_extra or {})
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from geokb.cli.main import main; main()", "--kb",
             str(kb_dir), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"geokb serve exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return proc, base, log_path
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    raise RuntimeError(f"geokb serve did not start in 30 s: {log_path.read_text()}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_exits_promptly_with_a_stream_client_connected(tmp_path: Path,
                                                             signum: int) -> None:
    kb = build_kb(tmp_path / "kb")
    proc, base, log_path = start(kb.directory)
    try:
        with httpx.stream("GET", f"{base}/api/events/stream", params={"after": 0},
                          timeout=10) as r:
            lines = r.iter_lines()
            assert next(lines) == "id: 1"  # connected, and the stream is flowing
            while next(lines) != f"id: {kb.position}":  # read every event: now it waits
                pass
            os.kill(proc.pid, signum)
            sent = time.monotonic()
            try:
                proc.wait(timeout=EXIT_WITHIN)
            except subprocess.TimeoutExpired:
                pytest.fail(f"geokb serve still running {EXIT_WITHIN} s after "
                            f"{signal.Signals(signum).name}: {log_path.read_text()}")
            took = time.monotonic() - sent
        assert took < EXIT_WITHIN
        assert "Traceback" not in log_path.read_text()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def test_serve_exits_promptly_with_a_query_stuck_inside_the_engine(tmp_path: Path) -> None:
    """pyoxigraph cannot interrupt a query: the process leaves without it, and says so.
    (In-process evaluation, as with GEOKB_QUERY_ISOLATION=0: a worker would be killed.)"""
    kb = build_kb(tmp_path / "kb")
    proc, base, log_path = start(kb.directory, {"GEOKB_QUERY_TIMEOUT": "0.5",
                                                "GEOKB_QUERY_ISOLATION": "0"})
    try:
        r = httpx.get(f"{base}/sparql", params={"query": RUNAWAY}, timeout=10)
        assert r.status_code == 503  # the client is answered; the query runs on
        assert httpx.get(f"{base}/api/health", timeout=5).status_code == 200
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=EXIT_WITHIN + 1)  # uvicorn's 1 s grace, then 0.5 s for queries
        except subprocess.TimeoutExpired:
            pytest.fail(f"geokb serve still running with a stuck query: {log_path.read_text()}")
        assert "abandoned" in log_path.read_text()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

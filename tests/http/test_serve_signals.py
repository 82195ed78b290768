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


def start(kb_dir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log_path = kb_dir.parent / f"serve-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOKB_")}
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

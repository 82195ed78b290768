"""Shared parts of the HTTP tests: a small KB, and a real ``geokb serve`` process.

Imported by the ``test_http_*``, ``test_w3c_protocol`` and ``test_clients`` modules; it
holds no tests of its own beyond a check that the fixture KB is what they expect.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from geokb.kb import KnowledgeBase

TOKEN = "test-token-8c1f"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

TEXT = ("Talks continued in Moscow on Tuesday. The future of the naval base at Tartus "
        "remains unclear, officials said. The Hmeimim air base is still operated by Russia, "
        "the minister said. Analysts expect a review of the agreements.")

DOC: dict[str, Any] = {
    "sources": [{"id": "article-one", "title": "Talks in Moscow", "text": TEXT,
                 "language": "en"}],
    "entities": [
        {"id": "tartus-naval-base", "types": ["gk:NavalBase"], "label": "Tartus naval base",
         "aliases": ["Tartus"]},
        {"id": "hmeimim-air-base", "types": ["gk:Airfield"], "label": "Hmeimim air base",
         "aliases": ["Hmeimim"]},
        {"id": "russia", "types": ["gk:State"], "label": "Russia", "aliases": []},
    ],
    "claims": [
        {"id": "tartus-status", "subject": "tartus-naval-base", "predicate": "gk:status",
         "object": "status:uncertain", "modality": "asserted", "source": "article-one",
         "quote": "remains unclear"},
        {"id": "hmeimim-status", "subject": "hmeimim-air-base", "predicate": "gk:status",
         "object": "status:operational", "modality": "asserted", "source": "article-one",
         "quote": "is still operated by Russia"},
    ],
}


def build_kb(directory: Path) -> KnowledgeBase:
    """A KB in ``directory`` with one source, three entities and two claims (5 events)."""
    directory.mkdir(parents=True, exist_ok=True)
    kb = KnowledgeBase(directory)
    kb.ingest(DOC, base_dir=directory, recorded_by="test:fixture")
    return kb


def copy_prefix(src: Path, dst: Path, count: int) -> None:
    """A KB directory holding only the first ``count`` events of ``src`` (and its texts)."""
    dst.mkdir(parents=True, exist_ok=True)
    lines = (src / "events.jsonl").read_bytes().splitlines(keepends=True)[:count]
    (dst / "events.jsonl").write_bytes(b"".join(lines))
    if (src / "sources").is_dir():
        shutil.copytree(src / "sources", dst / "sources", dirs_exist_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(kb_dir: Path, *, env: Mapping[str, str] | None = None,
          token: str | None = TOKEN) -> Iterator[str]:
    """Run ``geokb --kb DIR serve`` on a free port; yields its base URL, stops it by pid."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GEOKB_")}
    environ.update(env or {})
    if token:
        environ["GEOKB_TOKEN"] = token
    log_path = kb_dir.parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from geokb.cli.main import main; main()", "--kb", str(kb_dir),
             "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"geokb serve exited with {proc.returncode}: "
                                   f"{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"geokb serve did not start in 30 s: {log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        errors = log_path.read_text(errors="replace")
        if "Traceback" in errors:
            print(errors, file=sys.stderr)  # shown by pytest for a failing test

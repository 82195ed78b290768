"""Small helpers shared by the suite: machine facts, timing statistics, processes, ports."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH-RESULT "


# -- machine ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, versions: printed at the top of every report."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_total = _meminfo("MemTotal")
    versions: dict[str, str] = {"python": platform.python_version()}
    from importlib import metadata

    for pkg in ("pyoxigraph", "pyshacl", "rdflib", "fastapi", "uvicorn", "oxigraph",
                "rdflib-endpoint"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[pkg] = metadata.version(pkg)
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if dirty:
            commit += " (src/ modified)"
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "memory_bytes": mem_total,
        "memory_gib": round(mem_total / 2**30, 1),
        "kernel": platform.release(),
        "versions": versions,
        "geokb_commit": commit,
    }


def _meminfo(key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def mem_available() -> int:
    return _meminfo("MemAvailable")


def proc_status(pid: int | str = "self", key: str = "VmRSS") -> int:
    """A byte figure from /proc/<pid>/status (VmRSS, VmHWM); 0 if the process is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def dir_size(path: Path) -> int:
    total = 0
    if path.is_file():
        return path.stat().st_size
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


# -- statistics ---------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p99 / mean in milliseconds, and the sample count."""
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(percentile(ms, 0.5), 4), "p99_ms": round(percentile(ms, 0.99), 4),
            "mean_ms": round(sum(ms) / len(ms), 4) if ms else float("nan"), "n": len(ms)}


# -- processes ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def emit(result: dict[str, Any]) -> None:
    """A worker's answer: one marked JSON line on stdout."""
    print(RESULT_MARK + json.dumps(result), flush=True)


def run_worker(name: str, args: dict[str, Any], timeout: float,
               rss_limit: int | None = None) -> dict[str, Any]:
    """Run ``bench.worker <name>`` in a fresh process (clean RSS, contained failures).

    Returns its JSON answer, or ``{"error": …}`` if it failed, ran out of time or grew
    past ``rss_limit`` bytes (the worker's process group, which this call started, is
    then killed).
    """
    import threading

    cmd = [sys.executable, "-m", "bench.worker", name, json.dumps(args)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    over: list[int] = []

    def watch() -> None:
        while proc.poll() is None:
            now = proc_status(proc.pid, "VmRSS")
            if rss_limit is not None and now > rss_limit:
                over.append(now)
                kill_group(proc)
                return
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        return {"error": f"timed out after {timeout:.0f} s", "stderr": err[-2000:]}
    finally:
        if proc.poll() is None:
            kill_group(proc)
    if over:
        return {"error": f"stopped: RSS reached {over[0] / 2**30:.1f} GiB "
                         f"(limit {(rss_limit or 0) / 2**30:.1f} GiB)"}
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
            return result
    return {"error": f"worker {name} exited {proc.returncode} without a result",
            "stderr": err[-3000:]}


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """Kill a process this suite started (in its own session) and its group, by its id."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextlib.contextmanager
def server(cmd: Sequence[str], *, ready_url: str, timeout: float, env: dict[str, str] | None
           = None, log: Path | None = None) -> Iterator[dict[str, Any]]:
    """Start a server on loopback, wait until ``ready_url`` answers 200, stop it after.

    Yields ``{"pid", "startup_s"}``. Raises ``RuntimeError`` if it is not ready in time.
    """
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        startup = wait_ready(ready_url, timeout, proc)
        if startup is None:
            tail = log.read_bytes()[-1500:].decode(errors="replace") if log else ""
            raise RuntimeError(f"{cmd[0]} not ready within {timeout:.0f} s "
                               f"(exit {proc.poll()}): {tail}")
        yield {"pid": proc.pid, "startup_s": startup - t0, "proc": proc}
    finally:
        kill_group(proc)
        if log is not None:
            out.close()  # type: ignore[union-attr]


def wait_ready(url: str, timeout: float, proc: subprocess.Popen[Any] | None = None,
               interval: float = 0.01) -> float | None:
    """Poll ``url`` until it answers 200; the perf_counter time it did, or None."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc is not None and proc.poll() is not None:
            return None
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return time.perf_counter()
        time.sleep(interval)
    return None


def http_get(url: str, timeout: float = 10.0, accept: str = "application/json") -> bytes:
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        data: bytes = resp.read()
        return data

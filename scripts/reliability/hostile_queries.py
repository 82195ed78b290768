#!/usr/bin/env python3
"""Hostile queries against a real ``geokb serve``, while a prober measures what users feel.

    .venv/bin/python scripts/reliability/hostile_queries.py            # 90 s
    .venv/bin/python scripts/reliability/hostile_queries.py --short    # 25 s, for CI
    .venv/bin/python scripts/reliability/hostile_queries.py --kb PATH  # e.g. a generated KB

Starts ``geokb serve`` on 127.0.0.1 (a free port) over a scratch copy of the KB, with a
time and a memory budget per query worker; fires ``--clients`` (16) concurrent hostile
requests of every kind in a loop (a cartesian product sorted, a ``CONCAT`` memory bomb, a
long query with no result, deep nesting of ``{`` and ``(``, ``SERVICE`` to a loopback
listener and escaped ways of spelling it, a huge literal, ``LOAD`` in an update without
the token, a 10 MB header) while one prober asks ``/api/health``, a REST read and a cheap
SPARQL query in turn, and a sampler reads the server's memory (``VmRSS`` and ``Pss`` of
it and of its worker children, from ``/proc``; the cap applies to the ``Pss`` sum, which
counts a page that a worker shares with the server once, and to the server's own
``VmRSS``).

Prints p50/p99/max per probe, the probes' errors, each hostile kind's answers (status
histogram) and the peak memory beside the cap. Exit status 1 if a probe's p99 is over
1 s, any probe failed, a hostile request got an answer outside its kind's expected set
(a 500 is always a failure), the memory went over the cap, or the loopback listener was
ever connected to (SERVICE must be refused before any fetch). The server is stopped by
its pid; every loop is bounded in time.

Size: one scenario end to end (the hostile kinds, the listener, the server, the prober,
the memory sampler, the report), read top to bottom; a script, not a module of geokb.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parents[2]
TOKEN = "hostile-queries-token"
P99_LIMIT = 1.0
ORDER_BY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
CONCAT = ('SELECT ?n WHERE { BIND("' + "a" * 64 + '" AS ?a0) '
          + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(30))
          + " BIND(STRLEN(?a30) AS ?n) }")
#: a filter over three patterns' terms cannot be pushed into any one of them
NO_RESULT = ("SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
             'FILTER(CONCAT(STR(?c), STR(?f), STR(?i)) = "no such value") }')
DEEP_BRACES = "SELECT * WHERE " + "{" * 20000 + "}" * 20000
DEEP_PARENS = "ASK { FILTER(" + "(" * 20000 + "1" + ")" * 20000 + ") }"
#: an ASK over a literal of 8 MiB (past the body limit) and one of 900 kB (under it)
HUGE_LITERAL = 'ASK { FILTER("' + "x" * (8 << 20) + '" = "y") }'
BIG_LITERAL = 'ASK { FILTER("' + "x" * 900_000 + '" = "y") }'
HEADER_BYTES = 10 << 20
CHEAP = "SELECT ?s ?p WHERE {{ ?s ?p ?o }} LIMIT {n}"


def services(port: int) -> list[str]:
    """SERVICE to the loopback listener, written plainly and in escaped ways."""
    url = f"http://127.0.0.1:{port}/sparql"
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"PREFIX l: <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE l:sp\\-arql "
        "{ ?s ?p ?o } }",
        f"PREFIX l: <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE l:%73parql "
        "{ ?s ?p ?o } }",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <\\u0068ttp://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?u {{ <{url}> }} SERVICE ?u {{ ?s ?p ?o }} }}",
        f"ASK {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    ]


class Listener:
    """A loopback TCP listener that counts the connections it is offered."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def big_header(base: str, timeout: float) -> str:
    """A GET whose one header is 10 MB, on a raw socket: the status, or how it ended."""
    host, port = base.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
            chunk = b"a" * (1 << 20)
            for _ in range(HEADER_BYTES >> 20):
                sock.sendall(chunk)
            sock.sendall(b"\r\n\r\n")
            line = sock.recv(64).split(b"\r\n", 1)[0].split()
            return line[1].decode() if len(line) > 1 else "closed"
    except (ConnectionError, BrokenPipeError):
        return "closed"
    except TimeoutError:
        return "timeout"


def kinds(port: int) -> dict[str, tuple[Callable[[httpx.Client, str], str], set[str]]]:
    """Each hostile kind: how to send it, and the answers it may get."""

    def query(text: str) -> Callable[[httpx.Client, str], str]:
        def send(client: httpx.Client, base: str) -> str:
            r = client.post(f"{base}/sparql", content=text.encode(),
                            headers={"Content-Type": "application/sparql-query"})
            return str(r.status_code)
        return send

    def update(text: str) -> Callable[[httpx.Client, str], str]:
        def send(client: httpx.Client, base: str) -> str:
            r = client.post(f"{base}/sparql", content=text.encode(),
                            headers={"Content-Type": "application/sparql-update"})
            return str(r.status_code)
        return send

    def each(sends: list[Callable[[httpx.Client, str], str]]) -> Callable[[httpx.Client, str],
                                                                          str]:
        turn = iter(range(10**9))
        return lambda client, base: sends[next(turn) % len(sends)](client, base)

    budget = {"503"}  # stopped at its time or memory budget
    refused = {"400", "403"}
    return {
        "order-by-cartesian": (query(ORDER_BY), budget),
        "concat-bomb": (query(CONCAT), budget),
        "no-result-runaway": (query(NO_RESULT), budget),
        "deep-braces": (query(DEEP_BRACES), refused),
        "deep-parens": (query(DEEP_PARENS), refused),
        "service": (each([query(q) for q in services(port)]), refused),
        # past the body limit: 413; under it: answered (false) or stopped at a budget
        "huge-literal": (each([query(HUGE_LITERAL), query(BIG_LITERAL)]),
                         {"413", "400", "200", "503"}),
        "load-no-token": (each([update(f"LOAD <http://127.0.0.1:{port}/data.ttl>"),
                                update(f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE "
                                       f"<http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}")]),
                          {"401"}),
        "header-10mb": (lambda client, base: big_header(base, 30), {"431", "400", "closed"}),
    }


class Memory:
    """Peaks of the server's memory, itself and with its worker children."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.server_rss = self.total_rss = self.total_pss = 0
        self.most_workers = 0

    @staticmethod
    def _field(path: str, name: str) -> int:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(name):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
        return 0

    def children(self) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == self.pid:
                    found.append(int(entry))
        return found

    def sample(self) -> None:
        pids = [self.pid, *self.children()]
        rss = [self._field(f"/proc/{p}/status", "VmRSS:") for p in pids]
        pss = sum(self._field(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        self.server_rss = max(self.server_rss, rss[0])
        self.total_rss = max(self.total_rss, sum(rss))
        self.total_pss = max(self.total_pss, pss)
        self.most_workers = max(self.most_workers, len(pids) - 1)


def start(kb_dir: Path, env: dict[str, str], log: Path, startup: float) -> tuple[
        subprocess.Popen[bytes], str]:
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from geokb.cli.main import main; main()", "--kb",
             str(kb_dir), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    ends = time.monotonic() + startup
    while time.monotonic() < ends:
        if proc.poll() is not None:
            raise SystemExit(f"geokb serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"geokb serve did not answer in {startup:g} s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=90.0, help="how long the load runs")
    ap.add_argument("--short", action="store_true", help="25 s (for CI)")
    ap.add_argument("--kb", type=Path, default=REPO / "kb", help="the KB to copy and serve")
    ap.add_argument("--clients", type=int, default=16, help="concurrent hostile requests")
    ap.add_argument("--workers", type=int, default=2, help="GEOKB_QUERY_WORKERS")
    ap.add_argument("--memory-mb", type=int, default=256, help="GEOKB_QUERY_MEMORY_MB")
    ap.add_argument("--timeout", type=float, default=3.0, help="GEOKB_QUERY_TIMEOUT (s)")
    ap.add_argument("--cap-mb", type=float, default=None,
                    help="the cap on the memory of the server with its workers (peak Pss "
                         "sum, and the server's own VmRSS); default: its idle VmRSS, plus "
                         "each worker's budget, plus --headroom-mb")
    ap.add_argument("--headroom-mb", type=int, default=256,
                    help="for what the server does in process, under no budget (parsing "
                         "each query, cheap answers)")
    ap.add_argument("--keepalive", action="store_true",
                    help="the prober keeps its connection alive between probes")
    args = ap.parse_args()
    seconds = 25.0 if args.short else args.seconds

    scratch = Path(tempfile.mkdtemp(prefix="geokb-hostile-queries-"))
    listener = Listener()
    try:
        kb_dir = scratch / "kb"
        shutil.copytree(args.kb, kb_dir, ignore=shutil.ignore_patterns("*.lock"))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GEOKB_") or k == "GEOKB_HOME"}  # settings are ours
        env.update(GEOKB_TOKEN=TOKEN, GEOKB_QUERY_WORKERS=str(args.workers),
                   GEOKB_QUERY_MEMORY_MB=str(args.memory_mb),
                   GEOKB_QUERY_TIMEOUT=str(args.timeout))
        proc, base = start(kb_dir, env, scratch / "server.log", startup=300)
        try:
            return load(args, seconds, proc, base, listener)
        finally:
            stop(proc)
            log = (scratch / "server.log").read_text(errors="replace")
            for i, block in enumerate(log.split("Traceback (most recent call last):")[1:4]):
                print(f"server traceback {i + 1}:" + block[:3000], file=sys.stderr)
    finally:
        listener.close()
        shutil.rmtree(scratch, ignore_errors=True)


def rest_path(base: str) -> str:
    """A REST read that exists in this KB: the first entity's status."""
    listed = httpx.get(f"{base}/api/entities", timeout=30).json()
    items = listed["entities"] if isinstance(listed, dict) else listed
    slugs = [str(e.get("id") or e["iri"]).rsplit("/", 1)[-1] for e in items]
    slug = "tartus-naval-base" if "tartus-naval-base" in slugs else slugs[0]
    return f"/api/entities/{slug}/status"


def load(args: argparse.Namespace, seconds: float, proc: subprocess.Popen[bytes], base: str,
         listener: Listener) -> int:
    memory = Memory(proc.pid)
    memory.sample()
    idle = memory.server_rss
    cap = args.cap_mb * 2**20 if args.cap_mb else \
        idle + (args.workers * args.memory_mb + args.headroom_mb) * 2**20
    rest = rest_path(base)
    hostile = kinds(listener.port)
    answers: dict[str, Counter[str]] = defaultdict(Counter)
    latencies: dict[str, list[float]] = defaultdict(list)
    probe_errors: Counter[str] = Counter()
    ends = time.monotonic() + seconds
    lock = threading.Lock()
    names = list(hostile)

    def attacker(i: int) -> None:
        with httpx.Client(timeout=args.timeout + 30) as client:
            turn = i
            while time.monotonic() < ends:
                name = names[turn % len(names)]
                turn += 1
                try:
                    got = hostile[name][0](client, base)
                except httpx.TimeoutException:
                    got = "timeout"
                except httpx.TransportError as exc:
                    got = type(exc).__name__
                with lock:
                    answers[name][got] += 1

    def prober() -> None:
        probes: dict[str, Callable[[int], str]] = {
            "health": lambda n: "/api/health", "rest": lambda n: f"{rest}?limit={n}",
            "cheap-sparql": lambda n: "/sparql?query=" + quote(CHEAP.format(n=n))}
        n = 0
        # a new connection per probe, as a monitor opens one; --keepalive reuses one
        keep = httpx.Limits(max_keepalive_connections=1 if args.keepalive else 0)
        with httpx.Client(timeout=10, limits=keep) as client:
            while time.monotonic() < ends:
                n = n % 999 + 1  # a new answer each time: the cache does not hide the work
                for name, path in probes.items():
                    started = time.monotonic()
                    try:
                        ok = client.get(base + path(n)).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    latencies[name].append(time.monotonic() - started)
                    if not ok:
                        probe_errors[name] += 1
                time.sleep(0.05)

    def sampler() -> None:
        while time.monotonic() < ends + 1:
            memory.sample()
            time.sleep(0.1)

    load_before = os.getloadavg()
    threads = [threading.Thread(target=attacker, args=(i,), daemon=True)
               for i in range(args.clients)]
    threads += [threading.Thread(target=prober, daemon=True),
                threading.Thread(target=sampler, daemon=True)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, ends - time.monotonic()) + args.timeout + 60)
    took = time.monotonic() - started
    alive = proc.poll() is None
    return report(args, took, load_before, latencies, probe_errors, answers, hostile, memory,
                  idle, cap, listener.connections, alive)


def report(args: argparse.Namespace, took: float, load_before: tuple[float, ...],
           latencies: dict[str, list[float]], probe_errors: Counter[str],
           answers: dict[str, Counter[str]],
           hostile: dict[str, tuple[Callable[[httpx.Client, str], str], set[str]]],
           memory: Memory, idle: int, cap: float, connections: int, alive: bool) -> int:
    mib = 2**20
    failures: list[str] = []
    print(f"hostile queries: {took:.0f} s, {args.clients} clients, {args.workers} workers, "
          f"{args.timeout:g} s / {args.memory_mb} MiB per query, {os.cpu_count()} cores, "
          f"load average {load_before[0]:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end")
    print(f"{'probe':<14}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for name in ("health", "rest", "cheap-sparql"):
        values = latencies.get(name, [])
        p99 = percentile(values, 0.99)
        print(f"{name:<14}{len(values):>6}{statistics.median(values) * 1e3 if values else 0:>9.1f}"
              f"{p99 * 1e3:>9.1f}{max(values, default=0) * 1e3:>9.1f}{probe_errors[name]:>8}")
        if not values or p99 > P99_LIMIT:
            failures.append(f"{name} p99 {p99:.3f} s > {P99_LIMIT:g} s")
        if probe_errors[name]:
            failures.append(f"{name}: {probe_errors[name]} probes failed")
    print(f"{'hostile kind':<22}{'sent':>6}  answers")
    for name, (_, expected) in hostile.items():
        got = answers.get(name, Counter())
        histogram = ", ".join(f"{k}: {v}" for k, v in sorted(got.items()))
        print(f"{name:<22}{sum(got.values()):>6}  {histogram}")
        wrong = {k: v for k, v in got.items() if k not in expected}
        if wrong:
            failures.append(f"{name}: answers outside {sorted(expected)}: {wrong}")
        if not got:
            failures.append(f"{name}: never answered")
    print(f"memory: server VmRSS idle {idle / mib:.0f} MiB, peak {memory.server_rss / mib:.0f} "
          f"MiB; with workers (up to {memory.most_workers}) peak VmRSS "
          f"{memory.total_rss / mib:.0f} MiB, Pss {memory.total_pss / mib:.0f} MiB; "
          f"cap {cap / mib:.0f} MiB")
    # Pss shares each page among the processes mapping it: a worker's copy-on-write view
    # of the server counts once (the VmRSS sum counts it again for every worker)
    for what, peak in (("Pss of the server with its workers", memory.total_pss),
                       ("VmRSS of the server", memory.server_rss)):
        if peak > cap:
            failures.append(f"peak {what} {peak / mib:.0f} MiB > cap {cap / mib:.0f} MiB")
    print(f"loopback listener: {connections} connections")
    if connections:
        failures.append(f"the SERVICE listener was connected to {connections} times")
    if not alive:
        failures.append("the server died")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("OK" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""HTTP scenarios: servers on 127.0.0.1 (free ports), load from 4 client processes
bounded in count and time, every server killed by its pid when done.

Servers: ``geokb serve`` (on-disk projection), ``oxigraph serve-read-only`` (the same
quads loaded with ``oxigraph load``), a plain FastAPI over pyoxigraph
(``bench.baseline_app``) and rdflib-endpoint (the default graph as N-Triples).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from . import sparql
from .common import ROOT, free_port, kill_group, latency_summary, proc_status, server, wait_ready

ENTITY_TOKEN = "ENTITYSLUG"
NONCE_TOKEN = "424242424242"  # digits: a literal in the SPARQL, replaced per request


def geokb_bin() -> str:
    return str(Path(sys.executable).with_name("geokb"))


def oxigraph_bin() -> str | None:
    path = Path(sys.executable).with_name("oxigraph")
    return str(path) if path.exists() else shutil.which("oxigraph")


def rdflib_endpoint_bin() -> str | None:
    path = Path(sys.executable).with_name("rdflib-endpoint")
    return str(path) if path.exists() else shutil.which("rdflib-endpoint")


def has_geokb_http() -> bool:
    try:
        import geokb.http.app  # noqa: F401
    except ImportError:
        return False
    return True


# -- load ----------------------------------------------------------------------------


def run_load(port: int, *, template: str, entities: list[str], clients: int, duration: float,
             max_requests: int, unique: bool, headers: dict[str, str] | None = None,
             method: str = "GET", bodies: list[str] | None = None) -> dict[str, Any]:
    """``clients`` loadgen processes against 127.0.0.1:port, started together."""
    paths: list[str] = []
    if unique:
        total = min(clients * max_requests, 200_000)
        for n in range(total):
            paths.append(template.replace(ENTITY_TOKEN, entities[n % len(entities)])
                         .replace(NONCE_TOKEN, str(n + 1)))
    else:
        paths = [template.replace(ENTITY_TOKEN, entities[0]).replace(NONCE_TOKEN, "1")]
    spec = {"host": "127.0.0.1", "port": port, "paths": paths, "duration": duration,
            "max_requests": max_requests, "clients": clients, "method": method,
            "headers": headers or {}, "bodies": bodies, "start_at": time.time() + 0.5}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        spec_path = fh.name
    procs: list[subprocess.Popen[str]] = []
    results: list[dict[str, Any]] = []
    try:
        for i in range(clients):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "bench.loadgen", spec_path, str(i)], cwd=ROOT,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True))
        for proc in procs:
            try:
                out, _err = proc.communicate(timeout=duration + 60)
            except subprocess.TimeoutExpired:
                kill_group(proc)
                continue
            with contextlib.suppress(json.JSONDecodeError, IndexError):
                results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_group(proc)
        os.unlink(spec_path)
    if not results:
        return {"error": "no client finished"}
    count = sum(r["count"] for r in results)
    errors = sum(r["errors"] for r in results)
    elapsed = max(r["t_last"] for r in results) - min(r["t_first"] for r in results)
    lat = [x for r in results for x in r["latencies"]]
    statuses: dict[str, int] = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return {"requests": count, "errors": errors, "statuses": statuses, "seconds": elapsed,
            "rps": (count - errors) / elapsed if elapsed > 0 else 0.0, "clients": len(results),
            "latency": latency_summary(lat)}


def sparql_template(path: str, *, unique: bool) -> str:
    query = sparql.http_status_query(sparql.ID + ENTITY_TOKEN,
                                     nonce=int(NONCE_TOKEN) - 1 if unique else None)
    return f"{path}?{urllib.parse.urlencode({'query': query})}"


def query_loads(port: int, path: str, entities: list[str], cfg: dict[str, Any],
                headers: dict[str, str]) -> dict[str, Any]:
    """The cached (same query) and unique (varying literal and entity) SPARQL loads."""
    out: dict[str, Any] = {}
    for name, unique in (("cached", False), ("unique", True)):
        out[name] = run_load(port, template=sparql_template(path, unique=unique),
                             entities=entities, clients=cfg["clients"],
                             duration=cfg["http_seconds"], max_requests=cfg["http_max"],
                             unique=unique, headers=headers)
    return out


SPARQL_JSON = {"Accept": "application/sparql-results+json"}


# -- the servers ----------------------------------------------------------------------


def oxigraph_load(nq: Path, target: Path) -> dict[str, Any]:
    """``oxigraph load`` of the dump into ``target`` (timed)."""
    binary = oxigraph_bin()
    if binary is None:
        return {"skipped": "the oxigraph CLI is not installed (pip install oxigraph)"}
    shutil.rmtree(target, ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.run([binary, "load", "--location", str(target), "--file", str(nq)],
                          capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"error": proc.stderr[-1000:]}
    return {"load_s": elapsed}


def oxigraph_serve(store_dir: Path, entities: list[str], cfg: dict[str, Any],
                   logs: Path) -> dict[str, Any]:
    binary = oxigraph_bin()
    if binary is None:
        return {"skipped": "the oxigraph CLI is not installed (pip install oxigraph)"}
    port = free_port()
    ask = urllib.parse.urlencode({"query": "ASK {}"})
    with server([binary, "serve-read-only", "--location", str(store_dir), "--bind",
                 f"127.0.0.1:{port}"], ready_url=f"http://127.0.0.1:{port}/query?{ask}",
                timeout=cfg["server_timeout"], log=logs / "oxigraph-serve.log") as srv:
        out = query_loads(port, "/query", entities, cfg, SPARQL_JSON)
        out["startup_s"] = srv["startup_s"]
        out["rss_peak_bytes"] = proc_status(srv["pid"], "VmHWM")
    return out


def fastapi_serve(store_dir: Path, entities: list[str], cfg: dict[str, Any],
                  logs: Path) -> dict[str, Any]:
    port = free_port()
    with server([sys.executable, "-m", "bench.baseline_app", "--store", str(store_dir),
                 "--port", str(port)], ready_url=f"http://127.0.0.1:{port}/health",
                timeout=cfg["server_timeout"], log=logs / "fastapi-pyoxigraph.log") as srv:
        out = query_loads(port, "/sparql", entities, cfg, SPARQL_JSON)
        out["startup_s"] = srv["startup_s"]
        out["rss_peak_bytes"] = proc_status(srv["pid"], "VmHWM")
    return out


def rdflib_serve(nt_file: Path, entities: list[str], cfg: dict[str, Any],
                 logs: Path) -> dict[str, Any]:
    binary = rdflib_endpoint_bin()
    if binary is None:
        return {"skipped": "rdflib-endpoint is not installed (pip install rdflib-endpoint)"}
    port = free_port()
    ask = urllib.parse.urlencode({"query": "ASK {}"})
    # rdflib-endpoint's CLI mounts its SparqlEndpoint at "/"
    with server([binary, "serve", str(nt_file), "--host", "127.0.0.1", "--port", str(port)],
                ready_url=f"http://127.0.0.1:{port}/?{ask}",
                timeout=cfg["rdflib_server_timeout"], log=logs / "rdflib-endpoint.log") as srv:
        small = {**cfg, "http_seconds": cfg["rdflib_http_seconds"],
                 "http_max": cfg["rdflib_http_max"]}
        out = query_loads(port, "/", entities, small, SPARQL_JSON)
        out["startup_s"] = srv["startup_s"]
        out["rss_peak_bytes"] = proc_status(srv["pid"], "VmHWM")
    return out


def geokb_serve(kb_dir: Path, projection: Path, entities: list[str], cfg: dict[str, Any],
                logs: Path) -> dict[str, Any]:
    """Load ``geokb serve`` (on-disk projection): SPARQL like the others, and REST status."""
    port = free_port()
    cmd = [geokb_bin(), "--kb", str(kb_dir), "--projection", str(projection), "serve",
           "--host", "127.0.0.1", "--port", str(port)]
    with server(cmd, ready_url=f"http://127.0.0.1:{port}/api/health",
                timeout=cfg["server_timeout"], log=logs / "geokb-serve.log",
                env={"GEOKB_TOKEN": ""}) as srv:
        out = query_loads(port, "/sparql", entities, cfg, SPARQL_JSON)
        rest: dict[str, Any] = {}
        for name, unique in (("cached", False), ("unique", True)):
            rest[name] = run_load(port, template=f"/api/entities/{ENTITY_TOKEN}/status",
                                  entities=entities, clients=cfg["clients"],
                                  duration=cfg["http_seconds"], max_requests=cfg["http_max"],
                                  unique=unique, headers={"Accept": "application/json"})
        out["rest_status"] = rest
        out["startup_s"] = srv["startup_s"]
        out["rss_bytes"] = proc_status(srv["pid"], "VmRSS")
        out["rss_peak_bytes"] = proc_status(srv["pid"], "VmHWM")
    return out


def geokb_restart(kb_dir: Path, projection: Path | None, runs: int, timeout: float,
                  logs: Path) -> dict[str, Any]:
    """Seconds from starting ``geokb serve`` to its first answered /api/health."""
    times: list[float] = []
    rss: list[int] = []
    for i in range(runs):
        port = free_port()
        cmd = [geokb_bin(), "--kb", str(kb_dir)]
        if projection is not None:
            cmd += ["--projection", str(projection)]
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(port)]
        log = logs / f"geokb-restart-{'disk' if projection else 'replay'}-{i}.log"
        t0 = time.perf_counter()
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, env={**os.environ,
                                                                 "GEOKB_TOKEN": ""})
            try:
                ready = wait_ready(f"http://127.0.0.1:{port}/api/health", timeout, proc,
                                   interval=0.005)
                if ready is None:
                    return {"error": f"not answering within {timeout:.0f} s (exit "
                                     f"{proc.poll()}): {log.read_text()[-800:]}",
                            "runs": times}
                times.append(ready - t0)
                rss.append(proc_status(proc.pid, "VmHWM"))
            finally:
                kill_group(proc)
    return {"seconds": times, "median_s": sorted(times)[len(times) // 2],
            "rss_peak_bytes": max(rss) if rss else 0}


def geokb_posts(kb_dir: Path, projection: Path, scratch: Path, manifest: dict[str, Any],
                cfg: dict[str, Any], logs: Path) -> dict[str, Any]:
    """Single-claim ``POST /api/claims`` throughput on a copy of the KB."""
    from .worker import claim_specs, scratch_copy

    target, proj_copy = scratch_copy(kb_dir, projection, scratch)
    try:
        token = secrets.token_hex(16)
        port = free_port()
        cmd = [geokb_bin(), "--kb", str(target), "--projection", str(proj_copy), "serve",
               "--host", "127.0.0.1", "--port", str(port)]
        total = cfg["post_max"] * cfg["post_clients"]
        specs = claim_specs(manifest, "h")
        bodies = [json.dumps(next(specs)) for _ in range(total)]
        with server(cmd, ready_url=f"http://127.0.0.1:{port}/api/health",
                    timeout=cfg["server_timeout"], log=logs / "geokb-posts.log",
                    env={"GEOKB_TOKEN": token}) as srv:
            out = run_load(port, template="/api/claims", entities=["x"],
                           clients=cfg["post_clients"], duration=cfg["post_seconds"],
                           max_requests=cfg["post_max"], unique=False, method="POST",
                           bodies=bodies, headers={"Authorization": f"Bearer {token}",
                                                   "Content-Type": "application/json"})
            out["rss_peak_bytes"] = proc_status(srv["pid"], "VmHWM")
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def default_graph_nt(nq: Path, target: Path) -> Path:
    """The default graph of an N-Quads dump as N-Triples (what rdflib-endpoint serves)."""
    from .worker import _is_default_graph

    if not target.exists():
        with open(nq, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as dst:
            for line in src:
                if _is_default_graph(line):
                    dst.write(line)
    return target

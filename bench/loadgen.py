"""One load-generating client process: keep-alive HTTP requests to a loopback server,
bounded in count and in time.

    python -m bench.loadgen SPEC.json INDEX

SPEC holds ``host``, ``port``, ``paths`` (request targets, cycled from this client's
offset), ``headers``, ``start_at`` (a ``time.time()`` to begin at, so all clients start
together), ``duration`` and ``max_requests``; the optional ``method``/``bodies`` send POSTs.
Prints one JSON line: count, errors, first/last times and the latencies.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from typing import Any


def run(spec: dict[str, Any], index: int) -> dict[str, Any]:
    host = spec["host"]
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loadgen: loopback targets only")
    paths: list[str] = spec["paths"]
    bodies: list[str] | None = spec.get("bodies")
    method = spec.get("method", "GET")
    headers = dict(spec.get("headers", {}))
    duration = float(spec["duration"])
    max_requests = int(spec["max_requests"])
    clients = int(spec.get("clients", 1))
    conn = http.client.HTTPConnection(host, int(spec["port"]), timeout=30)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    wait = float(spec.get("start_at", 0)) - time.time()
    if wait > 0:
        time.sleep(wait)
    t_first = time.time()
    deadline = time.perf_counter() + duration
    i = index
    sent = 0
    while sent < max_requests and time.perf_counter() < deadline:
        target = paths[i % len(paths)]
        body = bodies[i % len(bodies)].encode() if bodies else None
        i += clients
        t = time.perf_counter()
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            code = resp.status
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(host, int(spec["port"]), timeout=30)
            sent += 1
            continue
        latencies.append(time.perf_counter() - t)
        statuses[str(code)] = statuses.get(str(code), 0) + 1
        if code >= 400:
            errors += 1
        sent += 1
    t_last = time.time()
    conn.close()
    return {"count": sent, "errors": errors, "statuses": statuses, "t_first": t_first,
            "t_last": t_last, "latencies": latencies}


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as fh:
        spec = json.load(fh)
    print(json.dumps(run(spec, int(argv[1]))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

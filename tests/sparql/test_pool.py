"""The pool of long-lived query workers: reused while the state stands still, replaced when
it moves, killed at the deadline, dead of a memory bomb, and never holding a socket of the
server's. Real forks; the served function is a real one of this module (the worker is a fork,
so it has it)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geokb.errors import QueryBudgetExceeded
from geokb.http.app import Settings, create_app
from geokb.sparql.pool import Pool
from tests.harness.http import build_kb


def serve(request: Any) -> Any:
    kind, arg = request
    if kind == "echo":
        return (arg, os.getpid())
    if kind == "sleep":
        time.sleep(arg)
        return "slept"
    if kind == "grow":
        return len(b"x" * arg)
    if kind == "raise":
        raise ValueError(arg)
    if kind == "fds":  # what each open descriptor is, seen from inside the worker
        links = []
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                links.append(os.readlink(f"/proc/self/fd/{name}"))
        return links
    raise AssertionError(kind)


@pytest.fixture
def state() -> dict[str, int]:
    return {"generation": 0}


@pytest.fixture
def pool(state: dict[str, int]) -> Iterator[Pool]:
    p = Pool(2, serve=serve, hold=contextlib.nullcontext, generation=lambda: state["generation"],
             memory=128 * 2**20)
    yield p
    p.close()


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_one_worker_answers_many_requests(pool: Pool) -> None:
    pids = {pool.run(("echo", i), deadline=soon())[1] for i in range(50)}
    assert [pool.run(("echo", "x"), deadline=soon())[0]] == ["x"]
    assert len(pids) == 1 and pool.forks == 1 and pids.pop() != os.getpid()


def test_concurrent_callers_use_up_to_size_workers(pool: Pool) -> None:
    pids: set[int] = set()
    lock = threading.Lock()

    def call() -> None:
        for _ in range(20):
            pid = pool.run(("echo", 0), deadline=soon())[1]
            with lock:
                pids.add(pid)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= len(pids) <= 2 and pool.forks <= 2


def test_a_new_generation_retires_the_idle_workers(pool: Pool, state: dict[str, int]) -> None:
    first = pool.run(("echo", 0), deadline=soon())[1]
    state["generation"] = 1
    second = pool.run(("echo", 0), deadline=soon())[1]
    assert first != second and pool.pids() == [second]
    with pytest.raises(ChildProcessError):
        os.waitpid(first, os.WNOHANG)  # reaped: no zombie left behind


def test_past_the_deadline_the_worker_is_killed_and_replaced(pool: Pool) -> None:
    pid = pool.run(("echo", 0), deadline=soon())[1]
    started = time.monotonic()
    with pytest.raises(QueryBudgetExceeded) as err:
        pool.run(("sleep", 30), deadline=soon(0.5), seconds=0.5)
    assert err.value.budget == "time" and time.monotonic() - started < 3
    assert pid not in pool.pids()
    assert pool.run(("echo", "after"), deadline=soon())[0] == "after"


def test_a_memory_bomb_dies_at_the_budget_and_the_pool_goes_on(pool: Pool) -> None:
    with pytest.raises(QueryBudgetExceeded) as err:
        pool.run(("grow", 1 << 30), deadline=soon(20))
    assert err.value.budget == "memory"
    assert pool.run(("grow", 1 << 20), deadline=soon()) == 1 << 20


def test_an_error_comes_back_and_the_worker_stays(pool: Pool) -> None:
    pid = pool.run(("echo", 0), deadline=soon())[1]
    with pytest.raises(ValueError, match="bad request"):
        pool.run(("raise", "bad request"), deadline=soon())
    assert pool.run(("echo", 0), deadline=soon())[1] == pid


def test_a_worker_holds_no_socket_of_the_server(pool: Pool) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        links = pool.run(("fds", None), deadline=soon())
        assert any(link.startswith("pipe:") for link in links)  # its own two pipes
        assert not [link for link in links if link.startswith("socket:")], links


def test_close_stops_every_idle_worker(pool: Pool) -> None:
    pid = pool.run(("echo", 0), deadline=soon())[1]
    pool.close()
    assert pool.pids() == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="closed"):
        pool.run(("echo", 0), deadline=soon())


def test_the_endpoint_reuses_workers_and_sees_each_write(tmp_path: Any) -> None:
    """Unique queries that are not cheap (ORDER BY) share one worker; after a write the
    next one is answered by a worker forked after it, that sees it."""
    kb = build_kb(tmp_path / "kb")
    app = create_app(kb, Settings(query_workers=1))
    svc = app.state.service
    query = ("SELECT ?s WHERE {{ GRAPH <https://example.org/notes> {{ ?s ?p ?o }} "
             "FILTER(STR(?o) != \"{n}\") }} ORDER BY ?s")
    with TestClient(app) as c:
        for n in range(30):
            r = c.get("/sparql", params={"query": query.format(n=n)})
            assert r.status_code == 200 and r.json()["results"]["bindings"] == []
        assert svc.pool.forks == 1
        kb.update("INSERT DATA { GRAPH <https://example.org/notes> { "
                  "<https://example.org/n1> <https://example.org/says> \"hello\" } }",
                  recorded_by="test:pool")
        r = c.get("/sparql", params={"query": query.format(n="after")})
        assert [b["s"]["value"] for b in r.json()["results"]["bindings"]] == [
            "https://example.org/n1"]
        assert svc.pool.forks == 2

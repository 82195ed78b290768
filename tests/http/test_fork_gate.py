"""Forking the busy server never hangs the worker: while threads read the store in
process (cheap queries evaluated and their lazy results serialised, REST reads), a fork
for a worker waits for the instant no thread is inside pyoxigraph (the KB's fork gate),
so no worker inherits a lock that a thread of the parent held.

Without the gate, 3 reader threads hung about 3 % of 200 forks until the deadline killed
them. ``GEOKB_FORK_STRESS=200`` runs the long version (docs/reliability.md).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from geokb.http.protocol import QueryTimeout
from geokb.http.results import Limits
from geokb.http.service import Service
from geokb.http.settings import Settings
from geokb.kb import KnowledgeBase
from tests.harness.http import build_kb

FORKS = int(os.environ.get("GEOKB_FORK_STRESS", "60"))
READERS = 3
#: far beyond what a fork and a tiny query take, even on a loaded machine
WORKER_DEADLINE = 5.0
#: bounds the whole test whatever happens
WALL = 120.0

CHEAP = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 200"
ISOLATED = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module", params=["memory", "disk"])
def kb(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
       ) -> KnowledgeBase:
    """The KB in memory, and on disk as ``geokb serve`` keeps it (``KB/.projection``)."""
    directory = Path(tmp_path_factory.mktemp("forkgate")) / "kb"
    build_kb(directory)
    if request.param == "memory":
        return KnowledgeBase(directory)
    return KnowledgeBase(directory, projection_path=directory / ".projection")


def stress(svc: Service, forks: int, readers: int) -> tuple[int, int, int]:
    """``forks`` worker queries while ``readers`` threads hammer the store in process:
    (answered, hung, reads done)."""
    stop = threading.Event()
    reads = [0] * readers
    failures: list[BaseException] = []
    limits = Limits(max_rows=10**9, timeout=WORKER_DEADLINE)

    def reader(i: int) -> None:
        try:
            while not stop.is_set():
                if i % 3 == 2:  # a REST read, through the KB's own locks
                    svc.kb.status("tartus-naval-base")
                    svc.kb.entity("russia")
                else:  # a cheap query, evaluated and serialised here
                    svc.evaluate(svc.prepared(CHEAP, fresh=True), JSON, svc.limits())
                reads[i] += 1
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(readers)]
    for t in threads:
        t.start()
    answered = hung = 0
    ends = time.monotonic() + WALL
    try:
        for _ in range(forks):
            if time.monotonic() > ends:
                break
            run = svc.prepared(ISOLATED, fresh=True)
            try:
                found = svc.in_worker(run, JSON, Limits(
                    max_rows=limits.max_rows, timeout=WORKER_DEADLINE))
            except QueryTimeout:  # the worker hung until it was killed at the deadline
                hung += 1
            else:
                assert b'"n"' in found.body
                answered += 1
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert not failures, failures
    return answered, hung, sum(reads)


def test_no_worker_hangs_while_threads_read_the_store(kb: KnowledgeBase) -> None:
    svc = Service(kb, Settings(max_rows=10**9, query_timeout=WORKER_DEADLINE,
                               query_memory_mb=256))
    answered, hung, reads = stress(svc, FORKS, READERS)
    print(f"forks={FORKS} readers={READERS} answered={answered} hung={hung} reads={reads}")
    assert hung == 0
    assert answered == FORKS
    assert reads > FORKS  # the readers really were inside the store around the forks


def test_the_gate_lets_readers_share_and_a_fork_wait_for_them() -> None:
    from geokb.sparql.workers import ForkGate

    gate = ForkGate()
    inside = threading.Event()
    leave = threading.Event()
    forked = threading.Event()

    def reader() -> None:
        with gate.reading():
            inside.set()
            leave.wait(10)

    def forker() -> None:
        with gate.forking():
            forked.set()

    r = threading.Thread(target=reader)
    r.start()
    assert inside.wait(10)
    with gate.reading():  # readers share
        f = threading.Thread(target=forker)
        f.start()
        time.sleep(0.1)
        assert not forked.is_set()  # the fork waits for the readers inside
        with gate.reading():  # a thread already inside may go deeper while a fork waits
            pass
        with pytest.raises(RuntimeError, match="wait for itself"), gate.forking():
            pass
    leave.set()
    r.join(10)
    f.join(10)
    assert forked.is_set() and gate.readers == 0

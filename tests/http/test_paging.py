"""The HTTP read path: paged status and timeline answers, answers kept per log head, the
log watch that tells when another process has appended, and the reused query threads."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from geokb.http import models, results
from geokb.http.app import LogWatch, Settings, create_app
from geokb.http.protocol import ProtocolError, ResultTooLarge, ServerBusy
from geokb.http.routes.entities import MAX_PAGE
from geokb.http.runner import QueryRunner
from geokb.kb import KnowledgeBase
from tests.harness.http import AUTH, TOKEN, build_kb

REPO_SRC = Path(__file__).resolve().parents[2] / "src"
QUOTES = ["remains unclear", "is still operated by Russia", "The future of the naval base"]


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    """The HTTP fixture KB with five more dated claims about Tartus (six in all)."""
    kb = build_kb(tmp_path / "kb")
    for i in range(5):
        kb.assert_claim({"id": f"tartus-{i}", "subject": "tartus-naval-base",
                         "predicate": "gk:status", "object": "status:operational",
                         "modality": "asserted", "source": "article-one",
                         "quote": QUOTES[i % 3], "valid_from": str(2020 - i)})
    return kb


@pytest.fixture
def client(kb: KnowledgeBase) -> Iterator[TestClient]:
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as c:
        yield c


def ids(body: dict[str, Any]) -> list[str]:
    return [c["id"] for c in body["claims"]]


def follow(client: TestClient, path: str) -> list[dict[str, Any]]:
    """Every page from ``path`` on, by the Link headers."""
    pages = []
    while path:
        r = client.get(path)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        link = r.headers.get("link")
        assert (link is None) == (pages[-1]["page"]["next"] is None)
        path = link[1:link.index(">")] if link else ""
    return pages


# -- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["status", "timeline"])
def test_pages_by_link_are_the_whole_answer(client: TestClient, kb: KnowledgeBase,
                                            view: str) -> None:
    whole = client.get(f"/api/entities/Tartus/{view}", params={"limit": 1000}).json()
    assert len(whole["claims"]) == 6 and whole["page"]["next"] is None
    pages = follow(client, f"/api/entities/Tartus/{view}?limit=4")
    assert [len(p["claims"]) for p in pages] == [4, 2]
    assert [c for p in pages for c in p["claims"]] == whole["claims"]
    assert pages[0]["page"] == {"offset": 0, "limit": 4, "total": 6, "next": {
        "as_of": kb.position, "valid_at": None, "offset": 4, "limit": 4},
        "said_total": 0, "passed_on_total": 0}
    model = models.StatusOut if view == "status" else models.TimelineOut
    for page in pages:
        model.model_validate(page)
    # the same JSON as the facade's (what the CLI prints)
    assert pages[0] == json.loads(json.dumps(getattr(kb, view)("Tartus", limit=4)))


def test_the_link_keeps_the_time_travel(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.get("/api/entities/tartus-naval-base/timeline",
                   params={"valid_at": "2019", "limit": 1, "as_of": kb.position})
    assert r.status_code == 200
    # valid from 2016 … 2019 (2020 is after 2019), and the undated claim (any date)
    assert ids(r.json()) == ["tartus-4"] and r.json()["page"]["total"] == 5
    link = r.headers["link"]
    assert link.endswith('>; rel="next"') and "valid_at=2019" in link
    assert f"as_of={kb.position}" in link and "offset=1" in link


def test_a_page_read_before_a_write_continues_before_it(client: TestClient,
                                                         kb: KnowledgeBase) -> None:
    first = client.get("/api/entities/Tartus/status", params={"limit": 3})
    before = client.get("/api/entities/Tartus/status", params={"limit": 1000}).json()
    posted = client.post("/api/claims", headers=AUTH, json={
        "subject": "tartus-naval-base", "predicate": "gk:status", "object": "status:closed",
        "modality": "asserted", "source": "article-one", "quote": "remains unclear",
        "valid_from": "1999"})
    assert posted.status_code == 201, posted.text
    link = first.headers["link"]
    second = client.get(link[1:link.index(">")]).json()
    assert ids(second) == ids(before)[3:6]
    now = client.get("/api/entities/Tartus/status", params={"limit": 3}).json()
    assert now["page"]["total"] == 7 and ids(now)[0] == posted.json()["id"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1},
                                    {"limit": "many"}])
def test_page_parameters_are_checked(client: TestClient, params: dict[str, Any]) -> None:
    for view in ("status", "timeline"):
        r = client.get(f"/api/entities/Tartus/{view}", params=params)
        assert r.status_code == 422, r.text
        assert "error" in r.json()


def test_the_default_page_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in
              spec["paths"]["/api/entities/{slug}/status"]["get"]["parameters"]}
    assert params["limit"]["schema"]["default"] == 50
    assert params["limit"]["schema"]["maximum"] == MAX_PAGE


# -- answers per log head, and other writers --------------------------------------------------


def other_process(directory: Path, code: str) -> None:
    """Run ``code`` with ``kb`` (a KnowledgeBase over ``directory``) in another process."""
    script = ("import sys; from geokb.kb import KnowledgeBase; "
              f"kb = KnowledgeBase(sys.argv[1]); {code}")
    subprocess.run([sys.executable, "-c", script, str(directory)], check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(REPO_SRC)})


def test_another_process_append_is_seen_by_the_next_request(client: TestClient,
                                                             kb: KnowledgeBase) -> None:
    query = {"query": "SELECT ?c WHERE { ?c gk:retractedIn ?e }"}
    accept = {"Accept": "text/csv"}
    assert client.get("/sparql", params=query, headers=accept).text.split() == ["c"]
    status = client.get("/api/entities/Hmeimim/status").json()
    assert [c.rsplit("/", 1)[-1] for c in status["undated"]] == ["hmeimim-status"]
    position = kb.position
    other_process(kb.directory, "kb.retract('hmeimim-status', 'checked again', "
                                "recorded_by='cli:other')")
    # no request has caught up yet: each of these must notice the append by itself
    assert client.get("/sparql", params=query, headers=accept).text.split() == [
        "c", "https://w3id.org/geokb/claim/hmeimim-status"]
    assert client.get("/api/entities/Hmeimim/status").json()["undated"] == []
    assert client.get("/api/health").json() == {"position": position + 1}
    claim = client.get("/api/claims/hmeimim-status").json()
    assert claim["lifecycle"]["retracted"]["recorded_by"] == "cli:other"


def test_the_watch_reads_the_head_only_after_a_change(kb: KnowledgeBase) -> None:
    watch = LogWatch(kb.log)
    reads: list[int] = []
    real = kb.log.head

    def counted() -> Any:
        head = real()
        reads.append(head.position)
        return head

    kb.log.head = counted  # type: ignore[method-assign]
    assert watch.cached() is None  # never read yet
    assert watch.head() == watch.head() == kb.position
    assert watch.cached() == kb.position and len(reads) == 1
    KnowledgeBase(kb.directory).retract("tartus-0", "other writer")
    assert watch.cached() is None
    assert watch.head() == kb.position + 1 and len(reads) == 2
    # a batch being written (its marker) is a change too, and so is the marker's end
    pending = kb.directory / ".pending"
    pending.write_text(f"{(kb.directory / 'events.jsonl').stat().st_size}\n")
    assert watch.cached() is None and watch.head() == kb.position + 1 and len(reads) == 3
    pending.unlink()
    assert watch.cached() is None and watch.head() == kb.position + 1 and len(reads) == 4


# -- query threads ------------------------------------------------------------------------------


def test_query_threads_are_reused() -> None:
    runner = QueryRunner(slots=2)
    limits = results.Limits(max_rows=10, timeout=5)

    async def run_many() -> list[int]:
        one_by_one = [await runner.run(lambda _lim: threading.get_ident(), limits)
                      for _ in range(20)]

        def slow(_lim: results.Limits) -> int:
            time.sleep(0.01)
            return threading.get_ident()

        together = await asyncio.gather(*(runner.run(slow, limits) for _ in range(12)))
        return [*one_by_one, *together]

    assert len(set(asyncio.run(run_many()))) <= 2  # never more threads than slots


def test_closing_the_runner_ends_its_threads_and_refuses_work() -> None:
    runner = QueryRunner(slots=2)
    limits = results.Limits(max_rows=10, timeout=5)
    thread = asyncio.run(runner.run(lambda _lim: threading.current_thread(), limits))
    runner.close()
    thread.join(5)
    assert not thread.is_alive()
    with pytest.raises(ProtocolError, match="shutting down") as caught:
        asyncio.run(runner.run(lambda _lim: 1, limits))
    assert caught.value.status == 503


def test_a_query_that_waited_out_its_deadline_in_the_queue_never_runs() -> None:
    runner = QueryRunner(slots=1)
    release = threading.Event()
    ran: list[str] = []

    def hold(_lim: results.Limits) -> None:
        release.wait(5)

    async def run() -> None:
        busy = asyncio.ensure_future(runner.run(hold, results.Limits(max_rows=1, timeout=5)))
        await asyncio.sleep(0.05)
        with pytest.raises(ServerBusy):  # no thread came free before its deadline
            await runner.run(lambda _lim: ran.append("late"),
                             results.Limits(max_rows=1, timeout=0.1))
        release.set()
        await busy

    asyncio.run(run())
    assert ran == [] and runner.wait_idle(5)
    runner.close()


def test_a_query_error_does_not_lose_the_thread() -> None:
    runner = QueryRunner(slots=1)

    def fail(_lim: results.Limits) -> int:
        raise ValueError("boom")

    async def run() -> int:
        with pytest.raises(ValueError, match="boom"):
            await runner.run(fail, results.Limits(max_rows=1, timeout=5))
        return await runner.run(lambda _lim: 7, results.Limits(max_rows=1, timeout=5))

    started = time.monotonic()
    assert asyncio.run(run()) == 7
    assert time.monotonic() - started < 5


# -- SELECT results under the row limit ------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_results_are_pyoxigraphs_and_counted_only_when_they_could_pass_the_limit(
        kb: KnowledgeBase, accept: str) -> None:
    """pyoxigraph writes every format; the exact row count only where the body is big."""
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    rows = len(list(kb.query(query)))
    fmt = ox.QueryResultsFormat.from_media_type(accept)
    assert fmt is not None
    theirs = kb.query(query).serialize(format=fmt)
    runs: list[int] = []

    def again() -> Any:
        runs.append(1)
        return kb.query(query)

    def answer(max_rows: int) -> Any:
        return results.answer(kb.query(query), accept,
                              results.Limits(max_rows=max_rows, timeout=30), again=again)

    assert answer(10**6).body == theirs and runs == []  # small enough: written once
    # a body that could hold more rows than allowed: counted again, then written again
    assert answer(rows).body == theirs and runs == [1, 1]
    runs.clear()
    with pytest.raises(ResultTooLarge):
        answer(rows - 1)
    assert runs == [1]

"""Concurrency: several processes append at once; a Jepsen-style check of the history.

Writers of three kinds run together against one KB for a bounded time: processes calling
``KnowledgeBase`` (half of them naming their expected position, so they see
:class:`AppendConflict` and retry), ``geokb assert`` subprocesses, and HTTP clients of a
real ``geokb serve``. Every request is recorded with when it was invoked and when it
completed. Then: no acknowledged event is lost, none is duplicated, nothing unacknowledged
was written, the log is one hash chain, its order respects real time (an append that
completed before another was invoked sits before it), and an idempotency key sent twice
records one event. Readers keep answering through all of it and through rebuilds, and no
query sees a half-applied event.

The suite runs a few seconds of it; ``scripts/reliability/concurrency.py`` runs longer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from geokb.errors import AppendConflict
from geokb.kb import KnowledgeBase
from geokb.vocab import PREFIXES
from tests.harness.reliability import (
    FACILITIES,
    GEOKB,
    REPO,
    Tally,
    claim_spec,
    inspect_log,
    keys_of,
    lines_of,
    make_base_kb,
    server,
)

TOKEN = "concurrency-token-" + "5" * 20

#: Counts what no snapshot may show: an ended claim whose statement is still in the
#: current view (with no other live asserted claim stating it), a live asserted claim whose
#: statement is missing from it, a retraction or supersession event without its lifecycle
#: triples, and log events (in the system graph) whose positions leave gaps.
HALF_APPLIED = """
SELECT (COUNT(*) AS ?bad) WHERE {
  {
    ?c gk:knownUntilPosition ?u .
    GRAPH ?c { ?s ?p ?o }
    ?s ?p ?o .
    FILTER NOT EXISTS {
      ?c2 gk:modality modality:asserted . FILTER(?c2 != ?c)
      FILTER NOT EXISTS { ?c2 gk:knownUntilPosition ?u2 }
      GRAPH ?c2 { ?s ?p ?o }
    }
  } UNION {
    ?c gk:modality modality:asserted .
    FILTER NOT EXISTS { ?c gk:knownUntilPosition ?u }
    GRAPH ?c { ?s ?p ?o }
    FILTER NOT EXISTS { ?s ?p ?o }
  } UNION {
    GRAPH graph:system { ?ev gk:eventType ?t }
    FILTER(?t IN ("ClaimRetracted", "ClaimSuperseded"))
    FILTER NOT EXISTS { ?c gk:knownUntilPosition ?pos . { ?c gk:retractedIn ?ev }
                        UNION { ?c gk:supersededIn ?ev } }
  } UNION {
    { SELECT (COUNT(?e) AS ?n) (MAX(?pos) AS ?max) WHERE {
        GRAPH graph:system { ?e a gk:LogEvent ; gk:position ?pos } } }
    FILTER(?n != ?max)
  }
}
"""
SPARQL_PREFIXES = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())


@dataclass(frozen=True)
class Op:
    """One write request as its client saw it."""

    writer: str
    name: str
    invoked: float
    completed: float
    outcome: str  # "ok" or "conflict"
    position: int | None
    event_id: str | None = None
    retried: int = 0
    key: str | None = None


class History:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.reads = 0
        self.read_errors: list[str] = []
        self.rebuilds = 0
        self._lock = threading.Lock()

    def add(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)

    def read(self, error: str | None = None) -> None:
        with self._lock:
            self.reads += 1
            if error:
                self.read_errors.append(error)


# -- writers ------------------------------------------------------------------------------


def _api_writer(directory: Path, tag: str, seconds: float, explicit: bool,
                history: History) -> tuple[subprocess.Popen[bytes], threading.Thread]:
    """A writer process and the thread that reads its OP lines (join it before reading
    the history: ``communicate()`` would race it for the last lines of stdout)."""
    cmd = [sys.executable, "-m", "tests.harness.reliability", "write", str(directory),
           "--tag", tag, "--seconds", str(seconds), "--idem-every", "5"]
    if explicit:
        cmd.append("--explicit")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def collect() -> None:
        assert proc.stdout is not None
        for word, args in lines_of(proc.stdout):
            if word == "OP":
                name, invoked, completed, outcome, position, event_id, retried, key = args
                history.add(Op(tag, name, invoked, completed, outcome, position, event_id,
                               retried, key))

    collector = threading.Thread(target=collect, daemon=True)
    collector.start()
    return proc, collector


def _cli_writer(directory: Path, tag: str, deadline: float, history: History) -> None:
    n = 0
    while time.monotonic() < deadline:
        n += 1
        name = f"{tag}-{n}"
        spec = claim_spec(name, FACILITIES[n % 2])
        while True:
            invoked = time.monotonic()
            result = subprocess.run(
                [GEOKB, "--kb", str(directory), "--as", f"test:{tag}", "assert", "--id", name,
                 "--subject", spec["subject"], "--predicate", "gk:status", "--object",
                 spec["object"], "--modality", "asserted", "--source", "art", "--quote",
                 spec["quote"]], capture_output=True, text=True, timeout=120)
            completed = time.monotonic()
            if result.returncode == 0:
                found = re.search(r"at position (\d+)", result.stdout)
                history.add(Op(tag, name, invoked, completed, "ok",
                               int(found.group(1)) if found else None))
                break
            if "append conflict" in result.stderr:
                history.add(Op(tag, name, invoked, completed, "conflict", None))
                continue
            history.add(Op(tag, name, invoked, completed, f"error: {result.stderr.strip()}",
                           None))
            return


def _http_writer(base: str, tag: str, deadline: float, history: History) -> None:
    import httpx

    n = 0
    with httpx.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < deadline:
            n += 1
            name = f"{tag}-{n}"
            key = f"idem-{name}" if n % 4 == 0 else None
            headers = {"Authorization": f"Bearer {TOKEN}"}
            if key:
                headers["Idempotency-Key"] = key
            for _ in range(2 if key else 1):  # a keyed request is retried once
                while True:
                    invoked = time.monotonic()
                    r = http.post("/api/claims", json=claim_spec(name, FACILITIES[n % 2]),
                                  headers=headers)
                    completed = time.monotonic()
                    if r.status_code == 201:
                        asserted = r.json()["lifecycle"]["asserted"]
                        history.add(Op(tag, name, invoked, completed, "ok",
                                       asserted["position"], asserted["event"], 0, key))
                        break
                    if r.status_code == 409:
                        history.add(Op(tag, name, invoked, completed, "conflict", None))
                        continue
                    history.add(Op(tag, name, invoked, completed,
                                   f"error: {r.status_code} {r.text[:200]}", None))
                    return


# -- readers -------------------------------------------------------------------------------


def _http_reader(base: str, deadline: float, history: History) -> None:
    import httpx

    query = SPARQL_PREFIXES + HALF_APPLIED
    with httpx.Client(base_url=base, timeout=60) as http:
        first = True
        while first or time.monotonic() < deadline:  # at least one round, however late
            first = False
            r = http.get("/sparql", params={"query": query},
                         headers={"Accept": "application/sparql-results+json"})
            if r.status_code != 200:
                history.read(f"/sparql -> {r.status_code} {r.text[:200]}")
                continue
            bad = int(r.json()["results"]["bindings"][0]["bad"]["value"])
            history.read(f"a query saw {bad} half-applied event(s)" if bad else None)
            r = http.get("/api/entities/tartus-naval-base/status")
            history.read(None if r.status_code == 200 else
                         f"status -> {r.status_code} {r.text[:200]}")


def _rebuilder(directory: Path, deadline: float, history: History) -> None:
    while time.monotonic() < deadline:
        result = subprocess.run([GEOKB, "--kb", str(directory), "rebuild"],
                                capture_output=True, text=True, timeout=120)
        with history._lock:
            history.rebuilds += 1
        if result.returncode != 0:
            history.read(f"geokb rebuild exited {result.returncode}: {result.stderr[-200:]}")


# -- the run and its checks ------------------------------------------------------------------


def run_concurrency(root: Path, seconds: float, *, api_writers: int = 4, cli_writers: int = 4,
                    http_clients: int = 4, readers: int = 2) -> tuple[Tally, History]:
    """All writers and readers at once for ``seconds``; returns the tally and the history."""
    directory = root / "kb"
    make_base_kb(directory)
    history = History()
    tally = Tally("concurrent writers")
    server_log = root / "server.log"
    with server(directory, token=TOKEN, log_path=server_log) as (_, base):
        started = time.monotonic()
        deadline = started + seconds
        procs = [_api_writer(directory, f"api{i}", seconds, explicit=i % 2 == 1,
                             history=history) for i in range(api_writers)]
        threads = [threading.Thread(target=_cli_writer, args=(directory, f"cli{i}", deadline,
                                                              history))
                   for i in range(cli_writers)]
        threads += [threading.Thread(target=_http_writer, args=(base, f"http{i}", deadline,
                                                                history))
                    for i in range(http_clients)]
        threads += [threading.Thread(target=_http_reader, args=(base, deadline, history))
                    for _ in range(readers)]
        threads.append(threading.Thread(target=_rebuilder, args=(directory, deadline,
                                                                 history)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for proc, collector in procs:
            proc.wait(timeout=300)
            collector.join(timeout=60)
            assert proc.stderr is not None
            err = proc.stderr.read()
            if proc.returncode != 0:
                tally.fail(f"writer process exited {proc.returncode}: {err.decode()[-300:]}")
        tally.add("seconds", round(time.monotonic() - started))
    check_history(directory, history, tally)
    text = server_log.read_text(encoding="utf-8", errors="replace")
    if TOKEN in text:
        tally.fail("the write token appears in the server's log")
    return tally, history


def check_history(directory: Path, history: History, tally: Tally) -> None:
    state = inspect_log(directory)
    for p in state.problems:
        tally.fail(f"log: {p}")
    if state.torn_tail:
        tally.fail("log: torn tail after a clean run")
    by_position = {e.position: e for e in state.events}
    if sorted(by_position) != list(range(1, len(state.events) + 1)):
        tally.fail("log positions are not 1..n")
    log_claims = Counter(k.split(":", 1)[1] for k in state.keys if k.startswith("claim:"))
    ok = [op for op in history.ops if op.outcome == "ok"]
    errors = [op for op in history.ops if op.outcome not in ("ok", "conflict")]
    for op in errors:
        tally.fail(f"{op.writer} {op.name}: {op.outcome}")
    acked = {op.name for op in ok}
    written = {name for name in log_claims if name.split("-", 1)[0].rstrip("0123456789")
               in ("api", "cli", "http")}
    for name in sorted(acked - written):
        tally.fail(f"lost: {name} was acknowledged but is not in the log")
    for name in sorted(written - acked):
        tally.fail(f"phantom: {name} is in the log but no request for it succeeded")
    for name, count in log_claims.items():
        if count > 1:
            tally.fail(f"duplicated: {name} is in the log {count} times")
    for op in ok:
        event = by_position.get(op.position or 0)
        if event is None or f"claim:{op.name}" not in keys_of(event):
            tally.fail(f"{op.writer} {op.name}: acknowledged at position {op.position}, "
                       f"which holds {event.payload.get('claim') if event else 'nothing'}")
        elif op.event_id is not None and event.id != op.event_id:
            tally.fail(f"{op.name}: acknowledged as event {op.event_id}, log has {event.id}")
    keyed: dict[str, set[str | None]] = {}
    for op in ok:
        if op.key:
            keyed.setdefault(op.key, set()).add(op.event_id)
    for key, ids in keyed.items():
        if len(ids) != 1:
            tally.fail(f"idempotency key {key} answered with {len(ids)} different events")
    stored_keys = Counter(e.idempotency_key for e in state.events if e.idempotency_key)
    for key, count in stored_keys.items():
        if count > 1:
            tally.fail(f"idempotency key {key} recorded {count} times")
    # real time: an append that completed before another was invoked comes first in the log
    # (a keyed request's retry is answered with the event of its first send: leave it out)
    first: dict[str, Op] = {}
    for op in sorted(ok, key=lambda op: op.invoked):
        first.setdefault(op.name, op)
    by_completion = sorted(first.values(), key=lambda op: op.completed)
    for b in first.values():
        for a in by_completion:
            if a.completed >= b.invoked:
                break
            if a.position is not None and b.position is not None and a.position > b.position:
                tally.fail(f"order: {a.name} completed before {b.name} was invoked, but sits "
                           f"after it ({a.position} > {b.position})")
                break
    for msg in history.read_errors[:20]:
        tally.fail(f"reader: {msg}")
    writers = {op.writer for op in history.ops}
    tally.add("writers", len(writers))
    tally.add("events appended", len(acked))
    tally.add("idempotent retries", sum(1 for key in keyed))
    tally.add("conflicts reported and retried", sum(1 for op in history.ops
                                                    if op.outcome == "conflict"))
    tally.add("conflicts retried inside the KB", sum(op.retried for op in history.ops))
    tally.add("reads", history.reads)
    tally.add("rebuilds", history.rebuilds)
    tally.add("log length", len(state.events))


# -- the quick tests ----------------------------------------------------------------------


def test_concurrent_writers_and_readers(tmp_path: Path) -> None:
    pytest.importorskip("geokb.http.app")
    tally, history = run_concurrency(tmp_path, 3.0)
    print(tally.line())
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert tally.counts["writers"] >= 10
    assert history.reads > 0


@pytest.mark.skipif(os.environ.get("GEOKB_LONG") != "1",
                    reason="60 s of writers: GEOKB_LONG=1, or scripts/reliability/concurrency.py")
def test_concurrent_writers_and_readers_long(tmp_path: Path) -> None:
    tally, _ = run_concurrency(tmp_path, 60.0)
    print(tally.line())
    assert not tally.failures, "\n".join(tally.failures[:20])


def test_explicit_expected_position_gets_conflict_and_writes_nothing(
        make_kb: Any) -> None:
    kb: KnowledgeBase = make_kb()
    kb.ingest({"sources": [{"id": "art", "text": "Their future remains unclear.",
                            "title": "T"}],
               "entities": [{"id": "tartus-naval-base", "types": ["gk:NavalBase"],
                             "label": "Tartus"}]}, base_dir=kb.directory)
    other = KnowledgeBase(kb.directory)
    stale = kb.position
    other.assert_claim(claim_spec("first", "tartus-naval-base"))
    before = (kb.directory / "events.jsonl").read_bytes()
    from geokb.write import claimfile

    event = claimfile.claim_event(claim_spec("second", "tartus-naval-base"),
                                  kb.source_text("art"))
    with pytest.raises(AppendConflict) as info:
        kb.append([event], expected_position=stale)
    assert (info.value.expected, info.value.actual) == (stale, stale + 1)
    assert (kb.directory / "events.jsonl").read_bytes() == before


def test_readers_never_see_half_applied_events_in_process(tmp_path: Path) -> None:
    """One process, like the server: a writer thread, reader threads and a rebuild."""
    directory = tmp_path / "kb"
    make_base_kb(directory)
    kb = KnowledgeBase(directory)
    stop = threading.Event()
    seen: list[int] = []
    errors: list[str] = []

    def writer() -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                kb.assert_claim(claim_spec(f"w{n}", FACILITIES[n % 2]))
                if n % 2 == 0:
                    kb.retract(f"w{n - 1}", "withdrawn")
                if n % 4 == 0:
                    kb.supersede(f"w{n - 2}", f"w{n}", "newer")
        except Exception as exc:  # a thread's exception would otherwise go unseen
            errors.append(f"writer: {exc!r}")
            stop.set()

    def reader() -> None:
        while not stop.is_set():
            [row] = list(kb.query(HALF_APPLIED))
            bad = int(row["bad"].value)
            seen.append(bad)
            if bad:
                errors.append(f"half-applied: {bad}")

    def status_reader() -> None:
        """status() reads the store in many steps: none may straddle an event (it did:
        a claim retracted between two reads was listed as live with state "retracted")."""
        while not stop.is_set():
            for facility in FACILITIES:
                for claim in kb.status(facility)["claims"]:
                    if claim["lifecycle"]["state"] != "live":
                        errors.append(f"status listed {claim['id']} as current while "
                                      f"{claim['lifecycle']['state']}")

    def rebuilder() -> None:
        while not stop.is_set():
            kb.rebuild()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader),
               threading.Thread(target=status_reader), threading.Thread(target=rebuilder)]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert len(seen) > 10
    assert kb.projection.canonical_hash() == kb.rebuild()


def test_status_is_read_from_one_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic form of the race above: a retraction that lands while status() is
    between its reads must wait, or the answer would list a retracted claim as current."""
    from geokb.read import about

    directory = tmp_path / "kb"
    make_base_kb(directory)
    kb = KnowledgeBase(directory)
    kb.assert_claim(claim_spec("r1", "tartus-naval-base"))
    applied = threading.Event()
    writer = threading.Thread(target=lambda: (kb.retract("r1", "now"), applied.set()))
    real = about.claims_about

    def claims_then_a_retraction(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        writer.start()
        applied.wait(0.5)  # without the lock the retraction is applied here
        return found

    monkeypatch.setattr(about, "claims_about", claims_then_a_retraction)
    answer = kb.status("tartus-naval-base")
    writer.join()
    states = {c["id"]: c["lifecycle"]["state"] for c in answer["claims"]}
    assert states["r1"] == "live"
    monkeypatch.undo()
    assert "r1" not in {c["id"] for c in kb.status("tartus-naval-base")["claims"]}

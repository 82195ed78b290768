"""Shared parts of the reliability tests (crash, concurrency) and of ``scripts/reliability/``.

Run as a module, this is the writer process the crash tests kill::

    python -m tests.harness.reliability drive KB --tag T [--projection P] [--fault-seed N]
    python -m tests.harness.reliability catch-up KB --projection P

``drive`` appends through :class:`geokb.kb.KnowledgeBase` (the object the CLI and the HTTP
app call) in a loop, printing ``BEGIN`` before and ``ACK`` after every append, so the parent
knows which appends were acknowledged when it killed the process. With ``--fault-seed`` the
event store's ``os`` calls are intercepted and the process SIGKILLs itself at a random one
(after writing a random prefix when that call is a ``write``): SQLite-style fault injection.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geokb.errors import GeoKBError
from geokb.kb import KnowledgeBase
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    SOURCE_REGISTERED,
    Event,
    RecordedEvent,
)
from geokb.log.file import FileEventStore
from geokb.ops.verify import scan_chain
from geokb.projection.store import ProjectionStore
from geokb.write import claimfile
from tests.harness.documents import ARTICLE, mini_document

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GEOKB = str(BIN / "geokb")
#: The quote of the base article that supports each status value the writers assert.
QUOTES = {"status:uncertain": "Their future remains unclear",
          "status:operational": "the Tartus base is operational"}
FACILITIES = ("tartus-naval-base", "hmeimim-airfield")
TORN = ("unterminated final line", "append never finished")


# -- building blocks --------------------------------------------------------------------


def make_base_kb(directory: Path) -> None:
    """A KB holding the test article, five entities and three claims (``mini_document``)."""
    directory.mkdir(parents=True, exist_ok=True)
    kb = KnowledgeBase(directory)
    kb.ingest(mini_document(), base_dir=directory)
    del kb
    closed()


def closed() -> None:
    """Collect dropped KBs now: pyoxigraph releases an on-disk store's lock when collected."""
    gc.collect()


def claim_spec(claim_id: str, subject: str, status: str = "status:uncertain",
               modality: str = "asserted") -> dict[str, Any]:
    return {"id": claim_id, "subject": subject, "predicate": "gk:status", "object": status,
            "modality": modality, "source": "art", "quote": QUOTES[status]}


def ingest_document(tag: str, count: int) -> dict[str, Any]:
    """A claim file with ``count`` new facilities and one status claim about each."""
    entities = [{"id": f"{tag}-f{i}", "types": ["gk:NavalBase"], "label": f"Base {tag} {i}"}
                for i in range(count)]
    claims = [claim_spec(f"{tag}-c{i}", f"{tag}-f{i}", ("status:uncertain",
                                                        "status:operational")[i % 2])
              for i in range(count)]
    return {"recorded_by": "test:crash", "entities": entities, "claims": claims}


def keys_of(event: RecordedEvent) -> list[str]:
    """What an event records, as keys a writer can predict before it appends."""
    p = event.payload
    if event.type == CLAIM_ASSERTED:
        return [f"claim:{p['claim'].rsplit('/', 1)[-1]}"]
    if event.type == ENTITY_DECLARED:
        return [f"entity:{p['entity'].rsplit('/', 1)[-1]}"]
    if event.type == SOURCE_REGISTERED:
        return [f"source:{p['source'].rsplit('/', 1)[-1]}"]
    if event.type == CLAIM_RETRACTED:
        return [f"retract:{p['claim'].rsplit('/', 1)[-1]}"]
    if event.type == CLAIM_SUPERSEDED:
        return [f"supersede:{p['claim'].rsplit('/', 1)[-1]}"]
    return [f"event:{event.id}"]


def document_keys(doc: dict[str, Any]) -> list[str]:
    return ([f"source:{s['id']}" for s in doc.get("sources", [])]
            + [f"entity:{e['id']}" for e in doc.get("entities", [])]
            + [f"claim:{c['id']}" for c in doc.get("claims", [])])


@dataclass
class LogState:
    """What a reader sees in ``kb/``, and what ``geokb verify`` says about the file."""

    events: list[RecordedEvent]
    keys: list[str]
    problems: list[str]  # every verify problem but a torn (unterminated) final line
    torn_tail: bool

    @property
    def live_claims(self) -> list[str]:
        ended = {k.split(":", 1)[1] for k in self.keys if k.startswith(("retract:",
                                                                          "supersede:"))}
        return [k.split(":", 1)[1] for k in self.keys
                if k.startswith("claim:") and k.split(":", 1)[1] not in ended]


def inspect_log(directory: Path) -> LogState:
    """The log as readers see it (:meth:`FileEventStore.read`) and as verify checks it."""
    store = FileEventStore(directory)
    report, _ = scan_chain(store)
    torn = False
    problems = []
    for p in report.problems:
        if any(t in p.message for t in TORN):
            torn = True
        else:
            problems.append(p.annotation())
    try:
        events = list(store.read())
    except GeoKBError as exc:
        problems.append(f"read: {exc}")
        events = []
    keys = [k for e in events for k in keys_of(e)]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        problems.append(f"duplicated events: {sorted(duplicates)[:5]}")
    return LogState(events, keys, problems, torn)


def projection_problems(directory: Path, projection: Path | None) -> list[str]:
    """Reopen the KB (catching up the on-disk projection): it must equal a fresh replay."""
    kb = KnowledgeBase(directory, projection_path=projection)
    try:
        live, fresh = kb.projection.canonical_hash(), kb.rebuild()
        position, head = kb.position, kb.log.head().position
    finally:
        del kb
        closed()
    problems = []
    if live != fresh:
        problems.append(f"projection {live[:12]} differs from a fresh replay {fresh[:12]}")
    if position != head:
        problems.append(f"projection at {position}, log head at {head}")
    return problems


def recover(directory: Path, projection: Path | None, tag: str) -> RecordedEvent:
    """A writer after a crash: its append moves any torn tail aside."""
    kb = KnowledgeBase(directory, projection_path=projection)
    try:
        return kb.declare_entity({"id": f"{tag}-rec", "types": ["gk:Person"],
                                  "label": f"Recovery {tag}"}, recorded_by="test:recover")
    finally:
        del kb
        closed()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_server(directory: Path, env: dict[str, str], log_path: Path, first_id: str,
                  timeout: float) -> tuple[subprocess.Popen[bytes], str] | None:
    """One attempt; None if the port was taken meanwhile (by another test's server)."""
    import httpx

    port = free_port()
    with open(log_path, "ab") as out:
        proc = subprocess.Popen([GEOKB, "--kb", str(directory), "serve", "--port", str(port)],
                                stdout=out, stderr=out, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            said = log_path.read_text(encoding="utf-8", errors="replace")[-600:]
            if "already in use" in said:
                return None
            raise RuntimeError(f"geokb serve exited with {proc.returncode}: {said}")
        try:
            r = httpx.get(f"{base}/api/events", params={"limit": 1}, timeout=1)
            if r.status_code == 200:
                if r.json()["events"][0]["id"] != first_id:  # someone else's server
                    proc.kill()
                    proc.wait()
                    return None
                return proc, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError("geokb serve did not answer in time")
        time.sleep(0.05)


@contextmanager
def server(directory: Path, *, tokens: str = "", token: str = "",
           log_path: Path | None = None, extra_env: dict[str, str] | None = None,
           timeout: float = 30.0) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``geokb serve`` on a free port of 127.0.0.1 (a real process); yields it and its URL.

    The KB must hold at least one event: the server is known to be ours by its first one.
    """
    env = {**os.environ, "GEOKB_TOKEN": token, "GEOKB_TOKENS": tokens, **(extra_env or {})}
    log_path = log_path or directory.parent / f"{directory.name}.serve.log"
    first_id = json.loads((directory / "events.jsonl").read_bytes().split(b"\n", 1)[0])["id"]
    started = None
    for _ in range(5):
        started = _start_server(directory, env, log_path, first_id, timeout)
        if started is not None:
            break
    if started is None:
        raise RuntimeError("no free port for geokb serve after 5 tries")
    proc, base = started
    try:
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


# -- the writer process that crash trials kill -----------------------------------------


class _FaultyOs:
    """The ``os`` module, but the ``at``-th call of a write-path function kills the process."""

    WATCHED = frozenset({"write", "pwrite", "fsync", "close", "open", "ftruncate", "replace",
                         "unlink", "rename", "truncate"})

    def __init__(self, real: Any, rng: random.Random, at: int) -> None:
        self._real, self._rng, self._at, self.calls = real, rng, at, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name not in self.WATCHED:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self._at:
                if name == "write":  # a torn write: a random prefix reaches the file
                    data = bytes(args[1])
                    self._real.write(args[0], data[:self._rng.randrange(len(data) + 1)])
                self._real.kill(self._real.getpid(), signal.SIGKILL)
            return attr(*args, **kwargs)

        return call


def install_faults(seed: int, max_call: int = 60) -> None:
    import geokb.log.file
    import geokb.log.sources

    rng = random.Random(seed)
    faulty = _FaultyOs(os, rng, rng.randint(1, max_call))
    geokb.log.file.os = faulty  # type: ignore[attr-defined]
    geokb.log.sources.os = faulty  # type: ignore[attr-defined]


def _emit(*parts: object) -> None:
    """One JSON array per line (a pipe write this short is atomic)."""
    sys.stdout.write(json.dumps(parts) + "\n")
    sys.stdout.flush()


def drive(directory: Path, tag: str, projection: Path | None, fault_seed: int | None,
          ops: Sequence[str], limit: int | None) -> None:
    """Append forever (or ``limit`` times), announcing each append and its acknowledgement."""
    rng = random.Random(f"{tag}/{fault_seed}")
    if fault_seed is not None:
        install_faults(fault_seed)
    kb = KnowledgeBase(directory, projection_path=projection)
    live = inspect_log(directory).live_claims
    _emit("READY", kb.position)
    n = 0
    while limit is None or n < limit:
        n += 1
        op = rng.choice(ops)
        if op in ("retract", "supersede") and len(live) < 2:
            op = "assert"
        name = f"{tag}-{n}"
        events: list[RecordedEvent]
        if op == "assert":
            keys = [f"claim:{name}"]
            _emit("BEGIN", op, keys)
            spec = claim_spec(name, rng.choice(FACILITIES), rng.choice(list(QUOTES)))
            events = [kb.assert_claim(spec, recorded_by="test:drive")]
            live.append(name)
        elif op == "retract":
            target = live.pop(rng.randrange(len(live)))
            keys = [f"retract:{target}"]
            _emit("BEGIN", op, keys)
            events = [kb.retract(target, f"trial {name}", recorded_by="test:drive")]
        elif op == "supersede":
            # an earlier claim by the latest one (a claim is replaced by a later one), of
            # any facility (so the event records why it may cross entities)
            old = live.pop(rng.randrange(len(live) - 1))
            by = live[-1]
            keys = [f"supersede:{old}"]
            _emit("BEGIN", op, keys)
            events = [kb.supersede(old, by, f"trial {name}", recorded_by="test:drive",
                                   cross_entity="a trial: any facility")]
        else:  # ingest: one batch of 2 x count events
            doc = ingest_document(name, rng.randint(1, 12))
            keys = document_keys(doc)
            _emit("BEGIN", op, keys)
            events = kb.ingest(doc, base_dir=directory, recorded_by="test:drive")
            live.extend(c["id"] for c in doc["claims"])
        _emit("ACK", op, keys, [e.position for e in events])


def write(directory: Path, tag: str, seconds: float, explicit: bool, idem_every: int) -> None:
    """A writer of the concurrency tests: appends claims until ``seconds`` have passed.

    Prints one ``OP`` message per request: name, invoked and completed (monotonic clock,
    which is system-wide), outcome, position, event id, and how many conflicts the KB
    retried inside the call. With ``explicit`` every append names its expected position,
    so a stale writer gets :class:`AppendConflict`, reports it and retries; the claim keeps
    its name, so a conflicted attempt that had been written would fail the retry.
    """
    from geokb.errors import AppendConflict

    kb = KnowledgeBase(directory)
    conflicts = {"n": 0}
    real_append = kb.log.append

    def counting_append(events: Any, **options: Any) -> Any:
        try:
            return real_append(events, **options)
        except AppendConflict:
            conflicts["n"] += 1
            raise

    kb.log.append = counting_append  # type: ignore[method-assign]
    _emit("READY", kb.position)
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        name = f"{tag}-{n}"
        spec = claim_spec(name, FACILITIES[n % 2], ("status:uncertain",
                                                   "status:operational")[n % 2])
        key = f"idem-{name}" if idem_every and n % idem_every == 0 else None
        tries = 2 if key else 1  # a keyed request is sent twice, as a client whose answer
        for _ in range(tries):    # was lost would retry it
            while True:
                conflicts["n"] = 0
                invoked = time.monotonic()
                try:
                    if explicit:
                        kb.catch_up()
                        event = claimfile.claim_event(spec, ARTICLE)
                        event = Event(event.type, event.payload, key)
                        [recorded] = kb.append([event], recorded_by=f"test:{tag}",
                                               expected_position=kb.position)
                    else:
                        recorded = kb.assert_claim(spec, recorded_by=f"test:{tag}",
                                                   idempotency_key=key)
                except AppendConflict:
                    _emit("OP", name, invoked, time.monotonic(), "conflict", None, None,
                          conflicts["n"], key)
                    continue
                _emit("OP", name, invoked, time.monotonic(), "ok", recorded.position,
                      recorded.id, conflicts["n"], key)
                break


def catch_up(directory: Path, projection: Path) -> None:
    """Open the KB with an on-disk projection: applies the whole backlog, then exits."""
    _emit("START")  # imports done: what follows is the catch-up
    kb = KnowledgeBase(directory, projection_path=projection)
    _emit("DONE", kb.position)


# -- a large backlog, written straight to the log ---------------------------------------


def write_backlog(directory: Path, claims: int, *, entities: int = 50,
                  retract_every: int = 40) -> int:
    """A valid log of about ``claims + entities`` events, sealed without admission (fast).

    Every ``retract_every``-th claim is retracted later, so catch-up also applies events
    that remove quads. Returns the log's length.
    """
    store = FileEventStore(directory)
    kb = KnowledgeBase(directory, catch_up=False)
    src = claimfile.source_event({"id": "art", "title": "Test article"}, ARTICLE)
    kb.texts.put(ARTICLE)
    batch: list[Event] = [src.event]
    for i in range(entities):
        batch.append(claimfile.entity_event({"id": f"b{i}", "types": ["gk:NavalBase"],
                                             "label": f"Base {i}", "aliases": [f"B{i}"]}))
    for i in range(claims):
        spec = claim_spec(f"bc{i}", f"b{i % entities}",
                          ("status:uncertain", "status:operational")[i % 2])
        batch.append(claimfile.claim_event(spec, ARTICLE))
        if i % retract_every == retract_every - 1:
            batch.append(claimfile.retraction_event(f"bc{i - 7}", "backlog"))
    for start in range(0, len(batch), 2000):
        store.append(batch[start:start + 2000], expected_position=None,
                     recorded_by="test:backlog")
    del kb
    closed()
    return store.head().position


def projection_state(path: Path) -> tuple[int, str, str]:
    """Position, head hash and canonical hash of an on-disk projection (closed again)."""
    store = ProjectionStore(path)
    state = (store.position, store.head_hash, store.canonical_hash())
    del store
    gc.collect()
    return state


def replay_hash(directory: Path, upto: int) -> str:
    """The canonical hash of a fresh replay of the first ``upto`` events."""
    fresh = ProjectionStore()
    fresh.apply(FileEventStore(directory).read(after=0, limit=upto))
    return fresh.canonical_hash()


# -- tallies --------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of a reliability run, and every failure seen (empty when all held)."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def line(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        verdict = "all held" if not self.failures else f"{len(self.failures)} FAILURE(S)"
        return f"{self.name}: {counts}: {verdict}"


def lines_of(proc_output: Iterable[bytes]) -> Iterator[tuple[str, list[Any]]]:
    """The messages of a writer process; a line cut short by the kill is ignored."""
    for raw in proc_output:
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        if isinstance(message, list) and message:
            yield str(message[0]), message[1:]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.harness.reliability")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("drive")
    d.add_argument("kb", type=Path)
    d.add_argument("--tag", required=True)
    d.add_argument("--projection", type=Path)
    d.add_argument("--fault-seed", type=int)
    d.add_argument("--ops", default="assert,retract,supersede,ingest")
    d.add_argument("--limit", type=int)
    w = sub.add_parser("write")
    w.add_argument("kb", type=Path)
    w.add_argument("--tag", required=True)
    w.add_argument("--seconds", type=float, default=5.0)
    w.add_argument("--explicit", action="store_true")
    w.add_argument("--idem-every", type=int, default=0)
    c = sub.add_parser("catch-up")
    c.add_argument("kb", type=Path)
    c.add_argument("--projection", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "drive":
        drive(args.kb, args.tag, args.projection, args.fault_seed, args.ops.split(","),
              args.limit)
    elif args.command == "write":
        write(args.kb, args.tag, args.seconds, args.explicit, args.idem_every)
    else:
        catch_up(args.kb, args.projection)


if __name__ == "__main__":
    main()

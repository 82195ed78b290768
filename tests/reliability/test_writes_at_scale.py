"""Issue 11 and 12: appends that name no expected position retry a lost race with backoff
until a deadline (three real writer processes: none fails); concurrent one-claim posts are
group-committed, each answered alone; admission's remembered lookups always agree with
the projection."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import DefaultGraph, NamedNode

from geokb.errors import AppendConflict, InvalidEvent, SettingsError
from geokb.kb import KnowledgeBase
from geokb.log.retry import Backoff
from geokb.vocab import RDF
from geokb.write.committer import GroupCommitter, Request
from tests.harness.reliability import FACILITIES, REPO, claim_spec, lines_of, make_base_kb


def test_three_writer_processes_without_expected_position_never_fail(tmp_path: Path) -> None:
    directory = tmp_path / "kb"
    make_base_kb(directory)
    cmd = [sys.executable, "-m", "tests.harness.reliability", "write", str(directory),
           "--seconds", "4", "--idem-every", "0"]
    procs = [subprocess.Popen([*cmd, "--tag", f"w{i}"], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for i in range(3)]
    outcomes: list[str] = []
    retried = 0
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-500:]
        for word, args in lines_of(out.splitlines(keepends=True)):
            if word == "OP":
                outcomes.append(args[3])
                retried += args[6]
    assert outcomes and set(outcomes) == {"ok"}, f"{outcomes.count('conflict')} conflicts"
    kb = KnowledgeBase(directory)
    assert kb.position >= len(outcomes)
    print(f"{len(outcomes)} appends by 3 processes, {retried} lost races retried")


def test_backoff_gives_up_at_its_deadline_saying_how_many_tries(make_kb: Any) -> None:
    kb: KnowledgeBase = make_kb()
    kb.ingest({"sources": [{"id": "art", "text": "Their future remains unclear.",
                            "title": "T"}],
               "entities": [{"id": "tartus-naval-base", "types": ["gk:NavalBase"],
                             "label": "Tartus"}]}, base_dir=kb.directory)
    kb.append_backoff = Backoff(deadline=0.2, base=0.001, cap=0.01)
    real = kb.log.append
    calls = {"n": 0}

    def always_beaten(events: Any, **options: Any) -> Any:
        calls["n"] += 1
        raise AppendConflict(options["expected_position"], options["expected_position"] + 1)

    kb.log.append = always_beaten  # type: ignore[method-assign]
    started = time.monotonic()
    with pytest.raises(AppendConflict) as info:
        kb.assert_claim(claim_spec("c1", "tartus-naval-base"))
    assert 0.2 <= time.monotonic() - started < 2
    assert info.value.tries == calls["n"] > 3
    assert f"after {calls['n']} tries" in str(info.value)
    kb.log.append = real  # type: ignore[method-assign]
    assert kb.assert_claim(claim_spec("c1", "tartus-naval-base")).position == kb.position


def test_backoff_setting() -> None:
    assert Backoff.from_env({}).deadline == 2.0
    with pytest.raises(SettingsError, match="GEOKB_APPEND_DEADLINE"):
        Backoff.from_env({"GEOKB_APPEND_DEADLINE": "soon"})


def test_group_commit_merges_concurrent_claims_and_answers_each(tmp_path: Path) -> None:
    directory = tmp_path / "kb"
    make_base_kb(directory)
    kb = KnowledgeBase(directory)
    start = kb.position
    results: dict[str, Any] = {}
    gate = threading.Barrier(8)

    def post(n: int) -> None:
        spec = claim_spec(f"g{n}", FACILITIES[n % 2])
        if n == 5:
            spec["subject"] = "nowhere-base"  # refused: must not sink the others
        gate.wait()
        try:
            results[f"g{n}"] = kb.assert_claim(spec, recorded_by="http:t", grouped=True)
        except InvalidEvent as exc:
            results[f"g{n}"] = exc

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert isinstance(results.pop("g5"), InvalidEvent)
    assert {r.payload["claim"].rsplit("/", 1)[1] for r in results.values()} == \
        {f"g{n}" for n in range(8) if n != 5}
    assert sorted(r.position for r in results.values()) == list(range(start + 1, start + 8))
    assert kb.committer.requests == 8 and kb.committer.groups < 8  # some were merged
    assert kb.projection.canonical_hash() == kb.rebuild()


def test_committer_raises_a_failed_group_in_every_caller() -> None:
    def broken(group: list[Request[int]]) -> list[int]:
        time.sleep(0.05)
        raise OSError("disk gone")

    committer: GroupCommitter[int] = GroupCommitter(broken)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            committer.submit([1], recorded_by="a")
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(errors) == 5 and committer.requests == 5


def test_context_cache_agrees_with_the_projection(tmp_path: Path) -> None:
    """After assertions, retractions, supersessions, amendments and a SPARQL update,
    every lookup admission remembers is what the projection says."""
    directory = tmp_path / "kb"
    make_base_kb(directory)
    kb = KnowledgeBase(directory)
    cache = kb.context_cache

    def agree() -> None:
        for entries in cache._by_base.values():
            for (s, p, g), quads in entries.items():
                graph = NamedNode(g) if g else DefaultGraph()
                assert set(quads) == set(kb.projection.quads(NamedNode(s), NamedNode(p),
                                                             None, graph)), (s, p, g)

    for n in range(6):
        kb.assert_claim(claim_spec(f"k{n}", FACILITIES[n % 2], ("status:uncertain",
                                                               "status:operational")[n % 2]))
        agree()
    assert cache.hits > 0
    # a claim about a facility forgets what is said of it under the claim's predicate only
    facility = f"https://w3id.org/geokb/id/{FACILITIES[0]}"
    assert (facility, RDF.type.value, "") in cache._by_base[facility]
    kb.retract("k0", "wrong")
    agree()
    kb.supersede("k1", "k3", "newer")
    agree()
    kb.amend_entity({"id": FACILITIES[0], "add_aliases": ["Tartous"], "reason": "spelling"})
    agree()
    # a GraphUpdated (the evidence model lets it write only a client's own graph): the
    # cache forgets everything, and still agrees
    kb.update("INSERT DATA { GRAPH <https://example.org/notes> { "
              "<https://w3id.org/geokb/id/hmeimim-airfield> "
              "<http://www.w3.org/2000/01/rdf-schema#comment> \"seen from the sea\" } }",
              recorded_by="test:u")
    agree()
    kb.assert_claim(claim_spec("k9", FACILITIES[1]))  # still declared: answered afresh
    agree()
    other = KnowledgeBase(directory)  # a writer the cache did not follow
    other.assert_claim(claim_spec("k10", FACILITIES[0]))
    kb.assert_claim(claim_spec("k11", FACILITIES[0]))
    agree()

"""``validate --since`` and ``check --since``/``--timeout`` on a copy of the shipped KB.

A violation appended after the anchor is found by ``--since``; one appended before it is
not re-reported by ``--since`` but is by a full validate; a source retracted after the
anchor makes ``check --since`` look again at the old claims citing it; a check past its
budget is stopped and named, with its own exit code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geokb.cli import app
from geokb.kb import KnowledgeBase
from geokb.log.events import Event
from geokb.log.file import FileEventStore
from tests.harness.documents import REPO

SOURCE = "https://w3id.org/geokb/source/article-syria-russia"


def claim_event(log: FileEventStore, name: str, *, source: str = SOURCE) -> Event:
    """A copy of the shipped KB's first claim under another id, citing ``source``."""
    first = next(e for e in log.read() if e.type == "ClaimAsserted")
    payload: dict[str, Any] = {**first.payload, "claim": f"https://w3id.org/geokb/claim/{name}",
                               "source": source}
    return Event("ClaimAsserted", payload)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target)
    return target


def append(kb_dir: Path, event: Event) -> None:
    FileEventStore(kb_dir).append([event], expected_position=None, recorded_by="test")


def head(kb_dir: Path) -> str:
    return KnowledgeBase(kb_dir, catch_up=False).head().strip()


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_since_finds_what_came_after_the_anchor_and_only_that(kb_copy: Path) -> None:
    log = FileEventStore(kb_copy)
    append(kb_copy, claim_event(log, "before-the-anchor",
                                source="https://w3id.org/geokb/source/never-registered"))
    anchor = head(kb_copy)
    append(kb_copy, claim_event(log, "after-the-anchor",
                                source="https://w3id.org/geokb/source/not-registered-either"))
    full = run("--kb", str(kb_copy), "validate", "--format", "json")
    since = run("--kb", str(kb_copy), "validate", "--format", "json", "--since", anchor)
    assert full.exit_code == 1 and since.exit_code == 1, (full.output, since.output)
    full_text = json.dumps(json.loads(full.stdout)["problems"])
    since_report = json.loads(since.stdout)
    since_text = json.dumps(since_report["problems"])
    assert "never-registered" in full_text and "not-registered-either" in full_text
    assert "not-registered-either" in since_text and "never-registered" not in since_text
    assert any("validate --since: 1 new event(s)" in w for w in since_report["warnings"])


def test_since_on_a_clean_tail_conforms_and_an_edited_history_does_not(kb_copy: Path) -> None:
    anchor = head(kb_copy)
    kb = KnowledgeBase(kb_copy)
    kb.retract("https://w3id.org/geokb/claim/visit-place-moscow", "test: a later retraction")
    assert kb.validate(since=anchor).ok
    position, _digest = anchor.split()
    wrong = f"{position} {'0' * 64}"
    report = kb.validate(since=wrong)
    assert not report.ok and report.problems[0].kind == "anchor"


def test_check_since_looks_again_at_old_claims_of_a_source_retracted_after(
        kb_copy: Path) -> None:
    anchor = head(kb_copy)
    assert run("--kb", str(kb_copy), "check", "--since", anchor).exit_code == 0
    # a retraction that leaves the source's claims live (no ClaimRetracted with it)
    append(kb_copy, Event("SourceRetracted", {"source": SOURCE, "reason": "test: withdrawn"}))
    since = run("--kb", str(kb_copy), "check", "--since", anchor)
    assert since.exit_code == 1, since.output
    assert "FAIL" in since.output and "no-live-claim-cites-retracted-source" in since.output
    assert "(changed nodes only)" in since.output


def test_check_since_does_not_rerun_a_concerned_check_on_old_claims(kb_copy: Path) -> None:
    checks = kb_copy / "checks"
    (checks / "no-moscow-visit.rq").write_text(
        "# The Moscow visit claim is not in the KB\n# expect: false\n# concerns: ?claim\n"
        "ASK { ?claim a <https://w3id.org/geokb/ontology#Claim> .\n"
        "  FILTER(?claim = <https://w3id.org/geokb/claim/visit-place-moscow>) }\n",
        encoding="utf-8")
    anchor = head(kb_copy)
    assert run("--kb", str(kb_copy), "check").exit_code == 1
    assert run("--kb", str(kb_copy), "check", "--since", anchor).exit_code == 0
    KnowledgeBase(kb_copy).retract("https://w3id.org/geokb/claim/visit-place-moscow",
                                   "test: touched after the anchor")
    assert run("--kb", str(kb_copy), "check", "--since", anchor).exit_code == 1


def test_a_check_past_its_budget_is_stopped_named_and_exits_5(kb_copy: Path) -> None:
    (kb_copy / "checks" / "slow.rq").write_text(
        "# A cartesian product of every triple with every triple, twice\n"
        "ASK { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . FILTER(STR(?c) = CONCAT(STR(?f), STR(?i), "
        "'never')) }\n", encoding="utf-8")
    result = run("--kb", str(kb_copy), "check", "--timeout", "0.5")
    assert result.exit_code == 5, result.output
    assert "check slow took more than 0.5 s (budget 0.5 s): stopped" in result.output
    assert "FAIL" in result.output


def test_checks_answer_while_another_thread_keeps_querying_the_kb(kb_copy: Path) -> None:
    """A check is forked while the KB holds still: a thread of the same process that is in
    the middle of a query (the engine's locks, the parser's) is not copied mid-way into
    the check's worker, which would wait on that lock until the budget and fail "over
    budget" (it did, once, in CI under load: the README's tour, exit 5)."""
    import threading
    import time

    kb = KnowledgeBase(kb_copy)
    stop = threading.Event()
    asked = 0

    def busy() -> None:
        nonlocal asked
        while not stop.is_set():
            kb.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(STRLEN(STR(?o)) > 3) }")
            asked += 1

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    try:
        t0 = time.monotonic()
        for _ in range(6):
            results = kb.check(kb_copy / "checks", budget=20)
            assert [(r.name, r.timed_out, r.seconds) for r in results if not r.passed] == []
        assert time.monotonic() - t0 < 60
    finally:
        stop.set()
        thread.join(10)
    assert asked > 0  # the other thread really was querying meanwhile

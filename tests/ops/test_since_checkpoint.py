"""``validate --since`` in O(what changed): from a checkpoint at or before the anchor, the
lines the anchor vouches for checked by their bytes, the views checked around what the
new events touch — each compared with the slower path it replaces, on a real on-disk
projection of a copy of the shipped KB (checkpoints every :data:`EVERY` events).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import DefaultGraph, NamedNode, Quad

from geokb.kb import KnowledgeBase, restore_snapshot
from geokb.log.events import Event
from geokb.log.file import FileEventStore
from geokb.ops import anchor as anchors
from geokb.ops.validate import validate
from geokb.ops.verify import Report, scan_after, scan_chain
from geokb.projection import history
from geokb.projection.store import ProjectionStore
from geokb.vocab import RDF
from tests.harness.documents import REPO

EVERY = 10
SOURCE = "https://w3id.org/geokb/source/article-syria-russia"


@pytest.fixture
def kb_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(history, "EVERY", EVERY)
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target)
    return target


def open_kb(kb_dir: Path) -> KnowledgeBase:
    return KnowledgeBase(kb_dir, projection_path=kb_dir.parent / "projection")


def copy_of_first_claim(kb: KnowledgeBase, name: str, **changes: Any) -> Event:
    first = next(e for e in kb.log.read() if e.type == "ClaimAsserted")
    return Event("ClaimAsserted", {**first.payload,
                                   "claim": f"https://w3id.org/geokb/claim/{name}", **changes})


def slow_path(kb: KnowledgeBase, since: str) -> Report:
    """The same validation without a checkpoint: the prefix replayed in memory."""
    return validate(kb.log, texts=kb.texts, ontology=kb.ontology, shapes=kb.shapes,
                    validator=kb.shacl.for_whole_kb(kb.shapes, kb.ontology),
                    since=anchors.resolve(since, kb.directory), projection=kb.projection)


def described(report: Report) -> list[tuple[int, str, str]]:
    return sorted((p.line, p.kind, p.message) for p in report.problems)


def test_since_starts_from_a_checkpoint_and_finds_what_the_slow_path_finds(
        kb_dir: Path) -> None:
    kb = open_kb(kb_dir)
    anchor = kb.head().strip()
    assert kb.past is not None and kb.past.checkpoints()  # there is one to start from
    kb.retract("https://w3id.org/geokb/claim/visit-place-moscow", "test: after the anchor")
    FileEventStore(kb_dir).append(
        [copy_of_first_claim(kb, "cites-nothing",
                             source="https://w3id.org/geokb/source/never-registered")],
        expected_position=None, recorded_by="test")
    kb.catch_up()
    fast = kb.validate(since=anchor)
    slow = slow_path(kb, anchor)
    assert not any("no checkpoint" in w for w in fast.warnings), fast.warnings
    assert any("no checkpoint" in w for w in slow.warnings), slow.warnings
    assert described(fast) == described(slow) != []
    assert "never-registered" in " ".join(p.message for p in fast.problems)
    assert (fast.events, fast.claims) == (slow.events, slow.claims)
    assert not list(Path(kb.past.scratch or kb_dir / "none").glob("*"))  # its copy is gone


def test_a_clean_tail_conforms_from_a_checkpoint(kb_dir: Path) -> None:
    kb = open_kb(kb_dir)
    anchor = kb.head().strip()
    kb.append([copy_of_first_claim(kb, "a-second-reading")])
    report = kb.validate(since=anchor)
    assert report.ok, report.problems
    assert any("1 new event(s)" in w for w in report.warnings)


def test_a_past_line_edited_without_resealing_is_caught_by_its_bytes(kb_dir: Path) -> None:
    kb = open_kb(kb_dir)
    anchor = kb.head().strip()
    log = kb_dir / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if n > 20 and b"Tartus" in line)
    lines[at] = lines[at].replace(b"Tartus", b"Tartos", 1)  # hashes left as they were
    log.write_bytes(b"".join(lines))
    report = slow_path(kb, anchor)
    assert [(p.line, p.kind) for p in report.problems] == [(at + 1, "anchor")]
    assert "no longer matches its own hash" in report.problems[0].message


def test_scan_after_reads_only_the_tail_in_full_and_agrees_with_the_whole_scan(
        kb_dir: Path) -> None:
    log = FileEventStore(kb_dir)
    head = log.head()
    whole, events = scan_chain(log)
    report, tail = scan_after(log, head.position - 5, events[-6][1].hash)
    assert report.ok and whole.ok and report.events == whole.events == head.position
    assert [e for _line, e in tail] == [e for _line, e in events[-5:]]
    wrong, _ = scan_after(log, head.position - 5, "0" * 64)
    assert [p.kind for p in wrong.problems] == ["anchor"]
    assert "the anchor has 000000000000" in wrong.problems[0].message


def test_views_are_checked_around_the_touched_claims_of_the_projection_on_disk(
        kb_dir: Path) -> None:
    kb = open_kb(kb_dir)
    anchor = kb.head().strip()
    event = copy_of_first_claim(kb, "damaged-after")
    kb.append([event])
    statement = next(kb.projection.quads(NamedNode(event.payload["claim"]), RDF.subject, None,
                                         DefaultGraph()))
    subject = statement.object
    assert isinstance(subject, NamedNode)
    line = kb.head().split()[0]
    path = kb.projection_path
    del kb
    damaged = ProjectionStore(path)
    predicate = next(damaged.quads(NamedNode(event.payload["claim"]), RDF.predicate, None,
                                   DefaultGraph())).object
    obj = next(damaged.quads(NamedNode(event.payload["claim"]), RDF.object, None,
                             DefaultGraph())).object
    assert isinstance(predicate, NamedNode)
    # the first claim states the same: drop both claims' support from the current view
    damaged.discard([Quad(subject, predicate, obj, DefaultGraph())])
    del damaged
    kb = KnowledgeBase(kb_dir, projection_path=path, catch_up=False)
    report = kb.validate(since=anchor)
    views = [p for p in report.problems if p.kind == "view"]
    assert views and all("the projection on disk" in p.message for p in views), report.problems
    assert any(str(p.line) == line and "is not in the view" in p.message for p in views)


def test_a_restored_snapshot_is_a_checkpoint_to_validate_since_from(kb_dir: Path,
                                                                    tmp_path: Path) -> None:
    """CI restores the base branch's snapshot, then validates the pull request since it."""
    kb = open_kb(kb_dir)
    kb.create_snapshot(tmp_path / "snapshot")
    anchor = kb.head().strip()
    kb.append([copy_of_first_claim(kb, "in-the-pull-request")])
    kb.close()
    del kb
    fresh = tmp_path / "ci-projection"
    restore_snapshot(tmp_path / "snapshot", fresh, directory=kb_dir)
    kb = KnowledgeBase(kb_dir, projection_path=fresh)
    report = kb.validate(since=anchor)
    assert report.ok, report.problems
    assert not any("no checkpoint" in w for w in report.warnings), report.warnings

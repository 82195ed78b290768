"""Conflicts found by geokb itself (the single-valued rule), with today's claim-file keys:
two dated sources that give Tartus different statuses for overlapping times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from geokb.kb import KnowledgeBase

TEXT_A = "The naval base at Tartus is operational, the ministry said."
TEXT_B = "The naval base at Tartus has been closed since early January."


def claim(i: str, source: str, status: str, quote: str, **extra: Any) -> dict[str, Any]:
    return {"id": i, "subject": "tartus-naval-base", "predicate": "gk:status",
            "object": f"status:{status}", "modality": "asserted", "source": source,
            "quote": quote, **extra}


@pytest.fixture
def kb(kb_dir: Path) -> KnowledgeBase:
    kb = KnowledgeBase(kb_dir)
    kb.ingest({
        "entities": [{"id": "tartus-naval-base", "types": ["gk:NavalBase"],
                      "label": "Tartus naval base", "aliases": ["Tartus"]}],
        "sources": [
            {"id": "a", "title": "Report A", "text": TEXT_A, "published": "2025-01-10"},
            {"id": "b", "title": "Report B", "text": TEXT_B, "published": "2025-01-12"},
        ],
        "claims": [
            claim("a-operational", "a", "operational", "is operational", valid_from="2025-01"),
            claim("b-closed", "b", "closed", "has been closed", valid_from="2025-01-05"),
            claim("b-reported", "b", "suspended", "since early January"),  # no valid time
        ],
    }, base_dir=kb_dir)
    return kb


def test_two_sources_two_values_overlapping_times_are_contested(kb: KnowledgeBase) -> None:
    answer = kb.status("Tartus", valid_at="2025-01-07")
    assert answer["assessment"] == "contested"
    [c] = answer["conflicts"]
    assert c["rules"] == ["single-valued"] and c["contested_since"] == "2025-01-05"
    assert [s["label"] for s in c["sides"]] == ["operational", "closed"]
    assert c["line"] == ("contested since 2025-01-05: operational (Report A) vs closed "
                         "(Report B)")
    # a claim with only a reported time holds on the day it was reported, not before
    assert [s["claim"].rsplit("/", 1)[-1] for s in answer["status"]] == [
        "a-operational", "b-closed"]
    assert answer["undated"] == []
    later = kb.status("Tartus", valid_at="2025-01-12")
    assert {s["claim"].rsplit("/", 1)[-1]: s["holding"] for s in later["status"]} == {
        "a-operational": "last_reported", "b-closed": "holds", "b-reported": "holds"}
    # it overlaps only its own source's claim: not a side
    [c] = later["conflicts"]
    assert all(x["id"] != "b-reported" for s in c["sides"] for x in s["claims"])


def test_before_the_overlap_one_value_is_settled(kb: KnowledgeBase) -> None:
    answer = kb.status("Tartus", valid_at="2025-01-02")
    assert answer["assessment"] == "settled"
    assert answer["line"] == "settled: operational (Report A)"
    assert kb.status("Tartus", valid_at="2024")["assessment"] == "unknown"


def test_a_retraction_ends_the_conflict_and_as_of_brings_it_back(kb: KnowledgeBase) -> None:
    before = kb.position
    kb.retract("b-closed", "misread")
    assert kb.conflicts()["conflicts"] == []
    assert kb.status("Tartus", valid_at="2025-01-07")["assessment"] == "settled"
    assert len(kb.conflicts(as_of=before, valid_at="2025-01-07")["conflicts"]) == 1
    assert kb.status("Tartus", as_of=before, valid_at="2025-01")["assessment"] == "contested"


def test_one_origin_disagreeing_with_itself_is_not_a_conflict(kb_dir: Path) -> None:
    kb = KnowledgeBase(kb_dir)
    kb.ingest({
        "entities": [{"id": "tartus-naval-base", "types": ["gk:NavalBase"],
                      "label": "Tartus naval base", "aliases": ["Tartus"]}],
        "sources": [{"id": "b", "title": "Report B", "text": TEXT_B + " " + TEXT_A,
                     "published": "2025-01-12"}],
        "claims": [
            claim("b-closed", "b", "closed", "has been closed", valid_from="2025-01-05"),
            claim("b-operational", "b", "operational", "is operational",
                  valid_from="2025-01-05"),
        ],
    }, base_dir=kb_dir)
    answer = kb.status("Tartus", valid_at="2025-01-07")
    assert answer["assessment"] == "unknown" and answer["conflicts"] == []
    assert answer["line"].startswith("unknown — 2 claims that differ, no conflict")
    assert kb.conflicts()["page"]["total"] == 0

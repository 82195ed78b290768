"""Ingest that helps: every problem of a claim file at once, each at its file and line,
entries named one way, unknown values answered with the allowed ones or the nearest name;
and a dry run that checks everything and writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from geokb.errors import InvalidClaimFile
from geokb.kb import KnowledgeBase
from geokb.write.claimfile import load_document
from geokb.write.problems import entry_name
from tests.harness.documents import mini_document

NEW_CLAIMS = """\
claims:
  - id: a-typo
    subject: tartus-navalbase
    predicate: gk:status
    object: status:closed
    modality: asserted
    source: art
    quote: Their future remains unclear
  - subject: tartus-naval-base
    predicate: gk:status
    object: status:clossed
    modality: asserted
    source: art
    quote: Their future remains unclear
  - id: bad-modality
    subject: tartus-naval-base
    predicate: gk:status
    object: status:closed
    modality: quotd
    source: art
    quote: Their future remains unclear
  - id: not-in-text
    subject: tartus-naval-base
    predicate: gk:status
    object: status:closed
    modality: asserted
    source: art
    quote: the base has closed
    valid_form: 2025
"""


def log_bytes(kb: KnowledgeBase) -> bytes:
    return (kb.directory / "events.jsonl").read_bytes()


def problems_of(kb: KnowledgeBase, text: str, name: str = "new.yaml") -> list[str]:
    doc = load_document(text.encode("utf-8"), name=name)
    with pytest.raises(InvalidClaimFile) as info:
        kb.ingest(doc, base_dir=kb.directory)
    return info.value.problems


def test_entries_are_named_one_way() -> None:
    assert entry_name("claims", {"id": "x"}, 3) == "claim x"
    assert entry_name("claims", {}, 3) == "claim #3 (no id)"
    assert entry_name("entities", {"id": "syria"}, 1) == "entity syria"
    assert entry_name("retractions", {"claim": "x"}, 1) == "retraction of claim x"


def test_load_document_keeps_each_mapping_line() -> None:
    doc = load_document(NEW_CLAIMS.encode(), name="new.yaml")
    assert [getattr(c, "line", None) for c in doc["claims"]] == [2, 9, 15, 22]
    assert getattr(doc, "name", None) == "new.yaml"


def test_every_error_of_a_file_comes_at_once_in_line_order(mini_kb: KnowledgeBase) -> None:
    before = log_bytes(mini_kb)
    problems = problems_of(mini_kb, NEW_CLAIMS)
    # the claim that cannot compile, and admission's problems with the claims that can
    assert [p.split(":", 2)[1] for p in problems] == ["2", "9", "15", "22"], problems
    assert problems[3] == ("new.yaml:22: claim not-in-text: unknown field(s) valid_form; "
                           "did you mean valid_from?")
    assert log_bytes(mini_kb) == before


def test_admission_errors_come_all_at_once_with_file_and_line(mini_kb: KnowledgeBase) -> None:
    before = log_bytes(mini_kb)
    text = NEW_CLAIMS.replace("    valid_form: 2025\n", "").replace(
        "quote: the base has closed", "quote: Their future remains unclear\n    occurrence: 1")
    problems = problems_of(mini_kb, text)
    assert len(problems) == 3, problems
    assert re.fullmatch(r"new\.yaml:2: claim a-typo: unknown entity \S+/tartus-navalbase as "
                        r"subject: declare it first; did you mean tartus-naval-base\?",
                        problems[0]), problems[0]
    assert problems[1].startswith("new.yaml:9: claim #2 (no id): unknown status "), problems[1]
    assert "use one of closed, operational, suspended, uncertain, under-review, withdrawn; " \
           "did you mean" in problems[1]
    assert problems[2].startswith("new.yaml:15: claim bad-modality: unknown modality "), problems
    assert "use one of analysis, asserted, denied, quoted, uncertain" in problems[2]
    assert log_bytes(mini_kb) == before


def test_a_json_claim_file_names_the_file_without_a_line(mini_kb: KnowledgeBase) -> None:
    import json

    data = yaml.safe_load(NEW_CLAIMS)
    problems = problems_of(mini_kb, json.dumps(data), name="new.json")
    assert problems[0].startswith("new.json: claim not-in-text: unknown field(s) valid_form")


def test_a_dry_run_plans_the_events_and_their_effect_and_writes_nothing(
        mini_kb: KnowledgeBase) -> None:
    before, position = log_bytes(mini_kb), mini_kb.position
    text = """\
claims:
  - id: tartus-closed
    subject: tartus-naval-base
    predicate: gk:status
    object: status:operational
    modality: asserted
    source: art
    quote: Later reports say the Tartus base is operational
  - id: shaibani-denies-unclear
    subject: tartus-naval-base
    predicate: gk:status
    object: status:uncertain
    modality: denied
    speaker: al-shaibani
    source: art
    quote: Their future remains unclear
    denies: [tartus-unclear]
retractions:
  - claim: hmeimim-unclear
    reason: misread
"""
    plan = mini_kb.ingest_plan(load_document(text.encode(), name="n.yaml"),
                               base_dir=mini_kb.directory)
    assert [(e.type, e.position) for e in plan.events] == [
        ("ClaimAsserted", position + 1), ("ClaimAsserted", position + 2),
        ("ClaimRetracted", position + 3)]
    effects = {e["entity"].rsplit("/", 1)[-1]: e for e in plan.effects}
    assert "contested" not in effects["tartus-naval-base"]["before"]
    assert effects["tartus-naval-base"]["after"].startswith("contested")
    assert effects["tartus-naval-base"]["contested"] is True
    [conflict] = plan.new_conflicts
    assert conflict["rules"] == ["denial"] and [c.rsplit("/", 1)[-1] for c in
                                                conflict["claims"]] == [
        "shaibani-denies-unclear", "tartus-unclear"]
    assert plan.ended_conflicts == []
    hmeimim = effects["hmeimim-airfield"]
    assert hmeimim["contested"] is False and hmeimim["before"] != hmeimim["after"]
    assert hmeimim["before"] == mini_kb.status("hmeimim-airfield")["line"]  # as it is now
    assert log_bytes(mini_kb) == before and mini_kb.position == position
    # and the same file then ingests for real, as planned
    events = mini_kb.ingest(load_document(text.encode(), name="n.yaml"),
                            base_dir=mini_kb.directory)
    assert [e.position for e in events] == [e.position for e in plan.events]


def test_a_dry_run_reports_every_problem(mini_kb: KnowledgeBase) -> None:
    doc = load_document(NEW_CLAIMS.encode(), name="new.yaml")
    with pytest.raises(InvalidClaimFile, match=r"new\.yaml:22: claim not-in-text"):
        mini_kb.ingest_plan(doc, base_dir=mini_kb.directory)


def test_a_plain_mapping_is_named_input(kb_dir: Path) -> None:
    kb = KnowledgeBase(kb_dir)
    doc = mini_document()
    doc["claims"][0]["modality"] = "assertd"
    with pytest.raises(InvalidClaimFile, match=r"^<input>: claim tartus-unclear: unknown "
                                               r"modality .*did you mean .*asserted"):
        kb.ingest(doc, base_dir=kb_dir)

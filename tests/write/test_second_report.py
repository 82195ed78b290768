"""The second report's claim file (tests/fixtures/second-report/) compiles to the payloads
of ``payloads.json`` (golden: the plan's a.2/a.3 forms, written out), in the event order of
a.4 whatever the order of the file, and the seed KB admits them."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from geokb.kb import KnowledgeBase
from geokb.write.claimfile import load_document
from geokb.write.document import compile_document
from tests.harness.documents import REPO

FIXTURE = REPO / "tests" / "fixtures" / "second-report"
GOLDEN = FIXTURE / "payloads.json"


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    target = tmp_path_factory.mktemp("seed") / "kb"
    shutil.copytree(REPO / "kb", target, ignore=shutil.ignore_patterns(".lock", ".torn"))
    return KnowledgeBase(target)


def document() -> dict[str, Any]:
    return load_document((FIXTURE / "second-report.yaml").read_bytes(),
                         name="second-report.yaml")


def compiled(kb: KnowledgeBase, doc: dict[str, Any]) -> list[dict[str, Any]]:
    batch = compile_document(doc, base_dir=FIXTURE, lookup=kb._log_lookup())
    return [{"type": e.type, "payload": e.payload} for e in batch.events]


def test_the_claim_file_compiles_to_the_golden_payloads(seed: KnowledgeBase) -> None:
    events = compiled(seed, document())
    if os.environ.get("GEOKB_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(events, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    assert events == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_golden_payloads_say_what_the_plan_says() -> None:
    events = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert [e["type"] for e in events] == ["EntityDeclared"] * 3 + ["SourceRegistered"] + \
        ["ClaimAsserted"] * 3
    source = events[3]["payload"]
    assert source["publisher"] == "https://w3id.org/geokb/id/example-wire"
    assert (source["reliability"], source["credibility"]) == (
        "https://w3id.org/geokb/reliability/B", "https://w3id.org/geokb/credibility/6")
    officials, remained, denial = (e["payload"] for e in events[4:])
    assert officials["speakers"] == [{"anonymous": {
        "description": "two Syrian officials", "count": 2,
        "affiliation": "https://w3id.org/geokb/id/syria"}}]
    assert "speaker" not in officials and "said_on" not in officials
    assert officials["basis"] == ["https://w3id.org/geokb/basis/officials",
                                  "https://w3id.org/geokb/basis/satelliteImagery"]
    assert remained["confirms"] == [officials["claim"]]
    assert denial["speech_act"] == "https://w3id.org/geokb/speech-act/denies"
    assert denial["denies"] == [officials["claim"]]
    assert denial["speakers"][0]["anonymous"]["spokesperson_for"] == \
        "https://w3id.org/geokb/id/russian-defence-ministry"


def test_any_order_in_the_file_gives_the_same_batch(seed: KnowledgeBase) -> None:
    doc = document()
    shuffled = copy.deepcopy(doc)
    shuffled["claims"].reverse()  # the denial and the confirmation before what they link to
    shuffled["entities"].reverse()
    reordered = {"claims": shuffled["claims"], "sources": shuffled["sources"],
                 "entities": shuffled["entities"]}  # entities after the claims that use them
    events = compiled(seed, reordered)
    expected = compiled(seed, doc)
    assert [e["type"] for e in events] == [e["type"] for e in expected]
    claims = [e["payload"]["claim"].rsplit("/", 1)[1] for e in events[4:]]
    assert claims[0] == "tartus-withdrawn-per-syrian-officials"  # the claim the others link to
    def canonical(items: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(e, sort_keys=True) for e in items)

    assert canonical(events) == canonical(expected)  # the same events, ordered by dependency


def test_the_seed_kb_admits_it_at_the_expected_positions(seed: KnowledgeBase,
                                                         tmp_path: Path) -> None:
    target = tmp_path / "kb"
    shutil.copytree(seed.directory, target, ignore=shutil.ignore_patterns(".lock", ".torn"))
    kb = KnowledgeBase(target)
    before = kb.position
    recorded = kb.ingest(document(), base_dir=FIXTURE)
    assert [(e.position - before, e.type) for e in recorded] == [
        (1, "EntityDeclared"), (2, "EntityDeclared"), (3, "EntityDeclared"),
        (4, "SourceRegistered"), (5, "ClaimAsserted"), (6, "ClaimAsserted"),
        (7, "ClaimAsserted")]
    # as in expected.trig (on the seed article's 83 events: kb/ has the upgrade after them)
    assert recorded[3].position == before + 4
    assert all(e.schema == 2 for e in recorded)

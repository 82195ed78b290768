"""Every belief-model key of a claim file: its payload form, and errors that name the claim
and say what to write instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from geokb.errors import InvalidEvent
from geokb.kb import KnowledgeBase
from geokb.write.claimfile import load_document
from geokb.write.document import LogLookup, compile_document
from tests.harness.documents import mini_document

ID = "https://w3id.org/geokb/id/"


def _no_log(iri: str) -> str:
    raise AssertionError(f"the test file registers its own source, not {iri}")


def compile_with(claim: dict[str, Any], **sections: Any) -> list[Any]:
    doc = mini_document()
    doc["claims"].append({"id": "new-claim", "subject": "syria", "predicate": "gk:needs",
                          "object": {"text": "partnerships", "lang": "en"},
                          "modality": "quoted", "source": "art",
                          "quote": "Syria needs international partnerships", **claim})
    doc.update(sections)
    return compile_document(doc, base_dir=Path("."), lookup=LogLookup(_no_log)).events


def payload_of(claim: dict[str, Any]) -> dict[str, Any]:
    event = compile_with(claim)[-1]
    assert event.payload["claim"].endswith("/new-claim")
    return dict(event.payload)


def test_speakers_forms() -> None:
    p = payload_of({"speakers": ["al-shaibani",
                                 {"anonymous": "two officials", "count": 2,
                                  "affiliation": "syria"},
                                 {"spokesperson_for": "syria"}]})
    assert p["speakers"] == [
        {"entity": ID + "al-shaibani"},
        {"anonymous": {"description": "two officials", "count": 2, "affiliation": ID + "syria"}},
        {"anonymous": {"description": "spokesperson for Syria", "spokesperson_for": ID + "syria"}},
    ]
    assert payload_of({"speaker": "al-shaibani"})["speakers"] == [{"entity": ID + "al-shaibani"}]
    assert "speaker" not in payload_of({"speaker": "al-shaibani"})


def test_other_keys_forms() -> None:
    p = payload_of({"speaker": "al-shaibani", "speech_act": "promises",
                    "basis": ["officials"], "occasion": "syria", "said_on": "2025-09",
                    "confirms": ["tartus-unclear"], "reliability": "B", "credibility": 2})
    assert p["speech_act"] == "https://w3id.org/geokb/speech-act/pledges"
    assert p["basis"] == ["https://w3id.org/geokb/basis/officials"]
    assert p["occasion"] == ID + "syria" and p["said_on"] == "2025-09"
    assert p["confirms"] == ["https://w3id.org/geokb/claim/tartus-unclear"]
    assert (p["reliability"], p["credibility"]) == ("https://w3id.org/geokb/reliability/B",
                                                    "https://w3id.org/geokb/credibility/2")
    entity = compile_with({}, entities=[{"id": "lavrov", "types": ["gk:Person"],
                                         "label": "Lavrov", "curator_aliases": ["Sergey"]}])[0]
    assert entity.payload["curator_aliases"] == ["Sergey"]


@pytest.mark.parametrize("keys, message", [
    ({"speaker": "syria", "speakers": ["syria"]}, "give 'speaker' or 'speakers', not both"),
    ({"speakers": []}, "'speakers' must be a non-empty list"),
    ({"speakers": "syria"}, "'speakers' must be a non-empty list"),
    ({"speakers": [{"anonymous": ""}]}, "speaker 1: 'anonymous' is the source's words"),
    ({"speakers": [{"count": 2}]}, "speaker 1: write an entity id"),
    ({"speakers": ["syria", {"anonymous": "x", "count": 0}]}, "speaker 2: 'count' must be"),
    ({"speakers": [{"anonymous": "x", "side": "a"}]}, "speaker 1: unknown field.*side"),
    ({"speakers": ["Not A Slug"]}, "speaker 1 must be an entity id"),
    ({"speech_act": "shouts"}, "unknown speech_act 'shouts': one of states"),
    ({"basis": ["rumour"]}, "unknown basis 'rumour': one of officials"),
    ({"basis": []}, "'basis' must be a non-empty list"),
    ({"occasion": "Press Conference"}, "occasion must be an entity id"),
    ({"reliability": "G"}, "reliability must be one of A, B, C, D, E, F"),
    ({"credibility": 7}, "credibility must be one of 1, 2, 3, 4, 5, 6"),
    ({"credibility": True}, "credibility must be one of"),
    ({"denies": ["Bad Id"]}, "denies item must be a claim id"),
    ({"confirms": ["tartus-unclear", "tartus-unclear"]}, "'confirms' names a claim twice"),
    ({"contradicts": {"claim": "x"}}, "'contradicts' must be a list of claim ids"),
    ({"said_of": "2025"}, "unknown field.*said_of"),
])
def test_key_errors_name_the_claim(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        compile_with(keys)
    assert str(info.value).startswith("claim 4 (new-claim): "), info.value
    assert re.search(message, str(info.value)), info.value


def test_a_cycle_of_links_names_its_claims() -> None:
    doc = mini_document()
    doc["claims"][0]["contradicts"] = ["hmeimim-unclear"]
    doc["claims"][1]["contradicts"] = ["tartus-unclear"]
    with pytest.raises(InvalidEvent, match="cycle: hmeimim-unclear, tartus-unclear"):
        compile_document(doc, base_dir=Path("."), lookup=LogLookup(_no_log))


def test_dependency_order_within_the_file() -> None:
    doc = mini_document()
    doc["claims"][0]["confirms"] = ["syria-needs"]  # the first claim needs the last
    events = compile_document(doc, base_dir=Path("."), lookup=LogLookup(_no_log)).events
    claims = [e.payload["claim"].rsplit("/", 1)[1] for e in events if e.type == "ClaimAsserted"]
    assert claims == ["hmeimim-unclear", "syria-needs", "tartus-unclear"]


def test_sections_errors() -> None:
    with pytest.raises(InvalidEvent, match=r"unknown section.*retract_claims"):
        load_document(b"retract_claims: []\n", name="x.yaml")
    load_document(b"links: []\namend_entities: []\nretract_sources: []\n", name="x.yaml")
    with pytest.raises(InvalidEvent, match="amendment of syria: 'reason' is required"):
        compile_with({"speaker": "syria"}, amend_entities=[{"id": "syria", "label": "S"}])
    with pytest.raises(InvalidEvent, match="amendment of syria changes nothing"):
        compile_with({"speaker": "syria"}, amend_entities=[{"id": "syria", "reason": "r"}])
    with pytest.raises(InvalidEvent, match="link of tartus-unclear: give denies"):
        compile_with({"speaker": "syria"}, links=[{"claim": "tartus-unclear"}])
    with pytest.raises(InvalidEvent, match="retraction of source art: 'reason' is required"):
        compile_with({"speaker": "syria"}, retract_sources=[{"source": "art"}])


def test_the_file_order_of_events(mini_kb: KnowledgeBase) -> None:
    doc: dict[str, Any] = {
        "retract_sources": [{"source": "art", "reason": "the article was withdrawn"}],
        "links": [{"claim": "hmeimim-unclear", "contradicts": ["tartus-unclear"]}],
        "amend_entities": [{"id": "syria", "curator_aliases": ["Syrian Arab Republic"],
                            "reason": "its official name"}],
        "entities": [{"id": "lavrov", "types": ["gk:Person"], "label": "Sergey Lavrov"}],
    }
    events = compile_document(doc, base_dir=Path("."), lookup=mini_kb._log_lookup()).events
    assert [e.type for e in events] == [
        "EntityDeclared", "EntityAmended", "ClaimsLinked", "ClaimRetracted", "ClaimRetracted",
        "ClaimRetracted", "SourceRetracted"]
    assert events[3].payload["reason"] == "source retracted: the article was withdrawn"
    recorded = mini_kb.ingest(doc, base_dir=Path("."))
    assert len(recorded) == 7 and recorded[-1].type == "SourceRetracted"

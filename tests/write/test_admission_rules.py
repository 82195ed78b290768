"""The reference rules of the belief model, each with a failing case, through the KB's
admission (nothing is written when a rule fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from geokb.errors import InvalidEvent
from geokb.kb import KnowledgeBase
from geokb.log.events import Event

C = "https://w3id.org/geokb/claim/"
ID = "https://w3id.org/geokb/id/"
SRC = "https://w3id.org/geokb/source/art"


def claim(**keys: Any) -> dict[str, Any]:
    return {"id": "new-claim", "subject": "syria", "predicate": "gk:needs",
            "object": {"text": "partnerships", "lang": "en"}, "modality": "quoted",
            "source": "art", "quote": "Syria needs international partnerships",
            "speaker": "al-shaibani", **keys}


def refused(kb: KnowledgeBase, message: str, **sections: Any) -> None:
    before = kb.position
    with pytest.raises(InvalidEvent, match=message):
        kb.ingest(sections, base_dir=Path("."))
    assert kb.position == before


@pytest.mark.parametrize("keys, message", [
    ({"speaker": None}, "ClaimAsserted .*new-claim: a quoted claim names at least one speaker"),
    ({"modality": "asserted"}, "an asserted claim is the source's own voice"),
    ({"speaker": None, "speakers": [{"anonymous": "officials", "affiliation": "atlantis"}]},
     "unknown entity .*atlantis as speaker 1 affiliation"),
    ({"occasion": "atlantis"}, "unknown entity .*atlantis as occasion"),
    ({"denies": ["no-such-claim"]}, "denies: no claim .*no-such-claim"),
    ({"denies": ["tartus-unclear"]}, "denies .*tartus-unclear, a claim of another subject "
                                     "or predicate: write contradicts"),
])
def test_claim_rules(mini_kb: KnowledgeBase, keys: dict[str, Any], message: str) -> None:
    refused(mini_kb, message, claims=[claim(**keys)])


def test_links_to_claims_of_the_log_and_of_the_file(mini_kb: KnowledgeBase) -> None:
    other = claim(id="other-claim", speaker=None, speakers=[{"anonymous": "a minister"}],
                  modality="denied", denies=["new-claim"])
    recorded = mini_kb.ingest({"claims": [other, claim(contradicts=["tartus-unclear"])]},
                              base_dir=Path("."))
    assert [e.payload["claim"] for e in recorded] == [C + "new-claim", C + "other-claim"]


def test_said_on_is_not_after_the_publication(mini_kb: KnowledgeBase) -> None:
    source = {"id": "dated", "text": "Syria needs international partnerships, he said.",
              "title": "Dated", "published": "2025-09"}
    refused(mini_kb, "said_on 2025-10-01 is after the source's publication date 2025-09",
            sources=[source], claims=[claim(source="dated", said_on="2025-10-01")])
    refused(mini_kb, "impossible date", claims=[claim(said_on="2025-02-30")])
    recorded = mini_kb.ingest({"sources": [source],
                               "claims": [claim(source="dated", said_on="2025-09-30")]},
                              base_dir=Path("."))
    assert recorded[-1].payload["said_on"] == "2025-09-30"


def test_speech_act_and_basis_are_concepts_of_their_schemes(mini_kb: KnowledgeBase) -> None:
    from geokb.write.claimfile import claim_event

    event = claim_event(claim(), mini_kb.source_text("art"))
    bad = {**event.payload, "speech_act": "https://w3id.org/geokb/status/operational"}
    with pytest.raises(InvalidEvent, match="is not a concept of gk:SpeechActScheme"):
        mini_kb.append([Event(event.type, bad)])
    bad = {**event.payload, "basis": ["https://w3id.org/geokb/speech-act/states"]}
    with pytest.raises(InvalidEvent, match="is not a concept of gk:BasisScheme"):
        mini_kb.append([Event(event.type, bad)])


def test_claims_linked(mini_kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidEvent, match=r"ClaimsLinked .*no claim .*no-such"):
        mini_kb.link_claims("no-such", contradicts=["tartus-unclear"])
    with pytest.raises(InvalidEvent, match=r"contradicts: no claim .*no-such"):
        mini_kb.link_claims("tartus-unclear", contradicts=["no-such"])
    with pytest.raises(InvalidEvent, match="cannot link to itself"):
        mini_kb.link_claims("tartus-unclear", confirms=["tartus-unclear"])
    with pytest.raises(InvalidEvent, match="a claim of another subject or predicate"):
        mini_kb.link_claims("tartus-unclear", denies=["syria-needs"])
    mini_kb.retract("hmeimim-unclear", "test")
    event = mini_kb.link_claims("tartus-unclear", contradicts=["hmeimim-unclear"],
                                note="an ended claim may be linked (inert)")
    assert event.type == "ClaimsLinked" and event.schema == 2
    assert event.payload == {"claim": C + "tartus-unclear", "contradicts": [C + "hmeimim-unclear"],
                             "note": "an ended claim may be linked (inert)"}


def test_entity_amended(mini_kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidEvent, match=r"unknown entity .*atlantis as entity to amend"):
        mini_kb.amend_entity({"id": "atlantis", "label": "A", "reason": "r"})
    with pytest.raises(InvalidEvent, match="has no alias 'Tartous' to remove"):
        mini_kb.amend_entity({"id": "tartus-naval-base", "remove_aliases": ["Tartous"],
                              "reason": "r"})
    with pytest.raises(InvalidEvent, match=r"unknown class .*Claim"):
        mini_kb.amend_entity({"id": "syria", "add_types": ["gk:Claim"], "reason": "r"})
    with pytest.raises(InvalidEvent, match="'reason' is required"):
        mini_kb.amend_entity({"id": "syria", "label": "S", "reason": " "})
    event = mini_kb.amend_entity({"id": "hmeimim-airfield", "remove_aliases": ["Khmeimim"],
                                  "curator_aliases": ["Khmeimim"], "add_types": ["gk:Airfield"],
                                  "reason": "the article does not use it"})
    assert event.payload == {"entity": ID + "hmeimim-airfield",
                             "reason": "the article does not use it",
                             "add_types": ["https://w3id.org/geokb/ontology#Airfield"],
                             "remove_aliases": ["Khmeimim"], "curator_aliases": ["Khmeimim"]}


def test_an_alias_removed_earlier_in_the_batch_is_gone(mini_kb: KnowledgeBase) -> None:
    amend = {"id": "hmeimim-airfield", "remove_aliases": ["Khmeimim"], "reason": "r"}
    refused(mini_kb, "event 2 of 2: EntityAmended .*has no alias 'Khmeimim'",
            amend_entities=[amend, amend])


def test_source_retracted(mini_kb: KnowledgeBase) -> None:
    alone = Event("SourceRetracted", {"source": SRC, "reason": "withdrawn"})
    with pytest.raises(InvalidEvent, match=r"claim\(s\) .*hmeimim-unclear.*syria-needs.*"
                                           "tartus-unclear stay live"):
        mini_kb.append([alone])
    with pytest.raises(InvalidEvent, match=r"unknown source .*nowhere"):
        mini_kb.retract_source("nowhere", "r")
    mini_kb.retract("syria-needs", "test")
    events = mini_kb.retract_source("art", "withdrawn by its publisher")
    assert [e.type for e in events] == ["ClaimRetracted", "ClaimRetracted", "SourceRetracted"]
    assert {e.payload["claim"] for e in events[:2]} == {C + "hmeimim-unclear",
                                                        C + "tartus-unclear"}
    assert events[0].payload["reason"] == "source retracted: withdrawn by its publisher"


def test_a_claim_citing_a_retracted_source_is_refused(mini_kb: KnowledgeBase) -> None:
    from geokb.write.claimfile import claim_event

    retractions = [Event("ClaimRetracted", {"claim": C + c, "reason": "r"})
                   for c in ("tartus-unclear", "hmeimim-unclear", "syria-needs")]
    retracted = Event("SourceRetracted", {"source": SRC, "reason": "withdrawn"})
    late = claim_event(claim(), mini_kb.source_text("art"))
    with pytest.raises(InvalidEvent, match=r"event 5 of 5: ClaimAsserted .*new-claim: source "
                                           r".*art is retracted: a claim cannot cite it"):
        mini_kb.append([*retractions, retracted, late])
    mini_kb.append([*retractions, retracted])
    with pytest.raises(InvalidEvent, match=r"source .*art is already retracted"):
        mini_kb.retract_source("art", "again")
    with pytest.raises(InvalidEvent, match=r"source .*art is retracted: a claim cannot cite it"):
        mini_kb.assert_claim(claim())

"""Schema 2: old lines verify and re-encode unchanged, replay identically through the
upcast, and the new payload fields and event types are checked field by field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from geokb.errors import InvalidEvent
from geokb.log.codec import SUPPORTED, current_payload, decode, encode, upcast_payload
from geokb.log.contract import Head, seal
from geokb.log.events import SCHEMA_VERSION, Event, RecordedEvent
from geokb.log.schemas import check_payload
from geokb.projection.quads import quads_for
from geokb.projection.store import ProjectionStore
from tests.harness.documents import REPO

SEED = REPO / "kb" / "events.jsonl"
C = "https://w3id.org/geokb/claim/"
ID = "https://w3id.org/geokb/id/"


#: the seed article's ingest of 2026-11-28: the schema-1 history (later files are schema 2)
SEED_EVENTS = 83


def seed_lines() -> list[bytes]:
    return [line + b"\n" for line in SEED.read_bytes().splitlines()[:SEED_EVENTS]]


def test_later_lines_of_the_kb_are_schema_2_and_re_encode_byte_for_byte() -> None:
    later = [line + b"\n" for line in SEED.read_bytes().splitlines()[SEED_EVENTS:]]
    for line in later:
        event = decode(line)
        assert event.schema == 2
        assert encode(event) == line


def test_versions() -> None:
    assert SCHEMA_VERSION == 2 and SUPPORTED == (1, 2)


def test_seed_log_decodes_and_re_encodes_byte_for_byte() -> None:
    lines = seed_lines()
    assert lines, "the seed log is empty"
    for line in lines:
        event = decode(line)
        assert event.schema == 1  # history is never rewritten
        assert encode(event) == line


def test_seed_log_replays_through_the_upcast_with_the_same_quads() -> None:
    events = [decode(line) for line in seed_lines()]
    speakers = 0
    for event in events:
        upcast = dataclasses.replace(event, schema=2, payload=current_payload(event))
        assert "speaker" not in upcast.payload
        speakers += len(upcast.payload.get("speakers", []))
        assert sorted(quads_for(upcast)) == sorted(quads_for(event)), event.position
    assert speakers > 0  # the seed has quoted claims with a speaker: the upcast moved them
    stored, upcast_store = ProjectionStore(), ProjectionStore()
    stored.apply(events)
    upcast_store.apply([dataclasses.replace(e, schema=2, payload=current_payload(e))
                        for e in events])
    assert stored.canonical_hash() == upcast_store.canonical_hash()


def test_upcast_moves_the_speaker_and_leaves_the_rest() -> None:
    v1 = {"claim": C + "x", "speaker": ID + "lavrov", "note": "n"}
    assert upcast_payload("ClaimAsserted", v1, 1) == {
        "claim": C + "x", "note": "n", "speakers": [{"entity": ID + "lavrov"}]}
    assert v1["speaker"] == ID + "lavrov"  # not changed in place
    other = {"claim": C + "x", "reason": "r"}
    assert upcast_payload("ClaimRetracted", other, 1) is other
    with pytest.raises(InvalidEvent, match="unsupported schema version 3"):
        upcast_payload("ClaimRetracted", other, 3)


def test_a_v2_line_round_trips() -> None:
    event = seal([Event("ClaimsLinked", {"claim": C + "a", "denies": [C + "b"]})],
                 Head(0, "0" * 64, ""), "test:x")[0]
    assert event.schema == 2
    line = encode(event)
    assert decode(line) == event and encode(decode(line)) == line


def _v1_line(event_type: str, payload: dict[str, Any]) -> bytes:
    draft = seal([Event(event_type, payload)], Head(0, "0" * 64, ""), "test:x")[0]
    from geokb.log.codec import content_hash, envelope_of

    env = envelope_of(dataclasses.replace(draft, schema=1))
    return encode(RecordedEvent(**{**draft.__dict__, "schema": 1, "hash": content_hash(env)}))


def test_new_event_types_do_not_exist_in_schema_1() -> None:
    line = _v1_line("ClaimsLinked", {"claim": C + "a", "denies": [C + "b"]})
    with pytest.raises(InvalidEvent, match="ClaimsLinked exists only from schema version 2"):
        decode(line)


def test_a_v1_line_is_checked_as_v1() -> None:
    line = _v1_line("ClaimRetracted", {"claim": C + "a", "reason": "r"})
    assert decode(line).schema == 1
    with pytest.raises(InvalidEvent, match=r"unknown field.*speakers"):
        check_payload("ClaimAsserted", {"speakers": []}, schema=1)


SPEAKERS_BAD = [
    ([], "'speakers' must be a non-empty list"),
    ([{"entity": "not an iri"}], "speaker 1 is not an absolute IRI"),
    ([{"entity": ID + "a", "anonymous": {}}], "speaker 1 must be"),
    ([{"anonymous": {"description": ""}}], "speaker 1: 'description' must not be empty"),
    ([{"anonymous": {"description": "x" * 501}}], "longer than 500"),
    ([{"anonymous": {"description": "two", "count": 0}}], "'count' must be an integer"),
    ([{"anonymous": {"description": "two", "count": True}}], "'count' must be an integer"),
    ([{"anonymous": {"description": "two", "rank": 1}}], "unknown field.*rank"),
    ([{"anonymous": {"description": "two", "affiliation": "x y"}}], "affiliation is not"),
]


@pytest.mark.parametrize("speakers, message", SPEAKERS_BAD)
def test_speakers_are_checked(speakers: object, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        check_payload("ClaimAsserted", {"claim": C + "a", "speakers": speakers})


@pytest.mark.parametrize("fields, message", [
    ({"speaker": ID + "a"}, "'speaker' is schema 1"),
    ({"reliability": "https://w3id.org/geokb/reliability/G"}, "Admiralty grade IRI \\(A-F\\)"),
    ({"credibility": "3"}, "Admiralty grade IRI \\(1-6\\)"),
    ({"basis": []}, "'basis' must be a non-empty list"),
    ({"speech_act": "states"}, "speech_act is not an absolute IRI"),
    ({"said_on": "2025-02-30"}, "impossible date"),
    ({"denies": [C + "a"]}, "cannot link to itself"),
    ({"confirms": [C + "b", C + "b"]}, "names a claim twice"),
    ({"contradicts": []}, "'contradicts' must be a non-empty list"),
])
def test_new_claim_fields_are_checked(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        check_payload("ClaimAsserted", {"claim": C + "a", **fields})


@pytest.mark.parametrize("event_type, payload, message", [
    ("ClaimsLinked", {"claim": C + "a"}, "at least one of 'denies'"),
    ("ClaimsLinked", {"claim": C + "a", "denies": [C + "a"]}, "cannot link to itself"),
    ("ClaimsLinked", {"claim": C + "a", "denies": [C + "b"], "why": "x"}, "unknown field"),
    ("EntityAmended", {"entity": ID + "a", "reason": "r"}, "changes at least one of"),
    ("EntityAmended", {"entity": ID + "a", "label": "L"}, "'reason' is required"),
    ("EntityAmended", {"entity": ID + "a", "reason": "r", "label": ""}, "must not be empty"),
    ("EntityAmended", {"entity": ID + "a", "reason": "r", "add_types": ["x"]},
     "not an absolute IRI"),
    ("EntityAmended", {"entity": ID + "a", "reason": "r", "remove_aliases": []},
     "non-empty list"),
    ("SourceRetracted", {"source": "https://w3id.org/geokb/source/s"}, "'reason' is required"),
    ("SourceRetracted", {"source": "s", "reason": "r"}, "not an absolute IRI"),
])
def test_new_event_payloads_are_checked(event_type: str, payload: dict[str, Any],
                                        message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        check_payload(event_type, payload)


def test_new_event_payloads_accepted() -> None:
    check_payload("ClaimsLinked", {"claim": C + "a", "denies": [C + "b"], "note": "n"})
    check_payload("EntityAmended", {"entity": ID + "a", "reason": "r", "curator_aliases": ["K"],
                                    "remove_aliases": ["K"], "label": "A"})
    check_payload("SourceRetracted", {"source": "https://w3id.org/geokb/source/s",
                                      "reason": "r"})

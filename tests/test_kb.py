"""The KnowledgeBase core: admission, projection, time travel, rebuild — on real stores."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest

from geokb.errors import (
    Ambiguous,
    AppendConflict,
    BadTime,
    InvalidEvent,
    NotFound,
    ShapeViolation,
)
from geokb.kb import KnowledgeBase
from geokb.vocab import CLAIM
from tests.harness.documents import mini_document


def log_bytes(kb: KnowledgeBase) -> bytes:
    path = kb.directory / "events.jsonl"
    return path.read_bytes() if path.exists() else b""


def test_status_answers_with_evidence(mini_kb: KnowledgeBase) -> None:
    answer = mini_kb.status("tartus")
    # the article is undated and so is the claim: listed apart, never holding
    assert answer["status"] == [] and answer["assessment"] == "unknown"
    assert answer["undated"] == [CLAIM["tartus-unclear"].value]
    [claim] = answer["claims"]
    assert claim["evidence"]["quote"] == "Their future remains unclear"
    start, end = claim["evidence"]["start"], claim["evidence"]["end"]
    assert mini_kb.source_text("art")[start:end] == "Their future remains unclear"
    assert claim["source"]["title"] == "Test article"


def test_entities_found_by_alias_any_case(mini_kb: KnowledgeBase) -> None:
    assert mini_kb.entity("KHMEIMIM").value.endswith("/hmeimim-airfield")
    assert mini_kb.entity("naval base at tartus").value.endswith("/tartus-naval-base")
    with pytest.raises(NotFound):
        mini_kb.entity("Atlantis")


def test_ambiguous_name_lists_candidates(mini_kb: KnowledgeBase) -> None:
    mini_kb.declare_entity({"id": "tartus-city", "types": ["gk:City"], "label": "Tartus city",
                            "aliases": ["Tartus"]})
    with pytest.raises(Ambiguous) as info:
        mini_kb.entity("tartus")
    assert {iri.rsplit("/", 1)[-1] for iri, _ in info.value.candidates} == {
        "tartus-naval-base", "tartus-city"}


def test_attribution_chain_and_speaker(mini_kb: KnowledgeBase) -> None:
    claim = mini_kb.claim("syria-needs")
    assert claim["modality"] == "quoted"
    assert claim["speaker"]["label"] == "Assaad al-Shaibani"
    assert [v["label"] for v in claim["reported_via"]] == ["Digi24"]


@pytest.mark.parametrize("change, message", [
    ({"subject": "atlantis"}, "unknown entity"),
    ({"predicate": "gk:ownedBy"}, "unknown predicate"),
    ({"object": "status:gone"}, "unknown entity"),
    ({"quote": "Their future is bright"}, "quote not found"),
    ({"modality": "rumour"}, "unknown modality"),
    ({"source": "nowhere"}, "unknown source"),
    ({"valid_from": "2024-02-30"}, "impossible date"),
    ({"speaker": "nobody"}, "unknown entity"),
])
def test_invalid_claims_are_refused_and_change_nothing(
        mini_kb: KnowledgeBase, change: dict[str, str], message: str) -> None:
    before = log_bytes(mini_kb)
    quads = mini_kb.projection.size()
    spec = {"subject": "tartus-naval-base", "predicate": "gk:status",
            "object": "status:operational", "modality": "asserted", "source": "art",
            "quote": "the Tartus base is operational", **change}
    with pytest.raises((InvalidEvent, NotFound), match=message):
        mini_kb.assert_claim(spec)
    assert log_bytes(mini_kb) == before
    assert mini_kb.projection.size() == quads


def test_shape_violation_is_refused_with_the_shapes_message(mini_kb: KnowledgeBase) -> None:
    before = log_bytes(mini_kb)
    spec = {"subject": "al-shaibani", "predicate": "gk:status", "object": "status:operational",
            "modality": "asserted", "source": "art", "quote": "the Tartus base is operational"}
    with pytest.raises(ShapeViolation) as info:
        mini_kb.assert_claim(spec)
    assert "status" in str(info.value).lower()
    assert log_bytes(mini_kb) == before


def test_a_batch_is_all_or_nothing(kb_dir: Path) -> None:
    kb = KnowledgeBase(kb_dir)
    doc = mini_document()
    doc["claims"][-1]["quote"] = "not in the article"
    with pytest.raises(InvalidEvent, match="claim 3"):
        kb.ingest(doc, base_dir=kb_dir)
    assert log_bytes(kb) == b""
    assert kb.position == 0
    assert list(kb_dir.glob("sources/*.txt")) == []  # the text is stored only on success


def test_retraction_leaves_current_view_but_stays_in_history(mini_kb: KnowledgeBase) -> None:
    ask = ("ASK { id:tartus-naval-base gk:status status:uncertain }")
    assert bool(mini_kb.query(ask))
    before = mini_kb.position
    mini_kb.retract("tartus-unclear", "misread the article")
    assert not bool(mini_kb.query(ask))
    assert mini_kb.status("Tartus")["status"] == mini_kb.status("Tartus")["undated"] == []
    # history: the claim and its graph are still there, marked retracted
    claim = mini_kb.claim("tartus-unclear")
    assert claim["lifecycle"]["state"] == "retracted"
    assert claim["lifecycle"]["retracted"]["reason"] == "misread the article"
    assert bool(mini_kb.query(f"ASK {{ GRAPH <{CLAIM['tartus-unclear'].value}> {{ ?s ?p ?o }} }}"))
    # as known before the retraction: the status is back
    assert mini_kb.status("Tartus", as_of=before)["undated"] == [CLAIM["tartus-unclear"].value]
    assert bool(mini_kb.query(ask, as_of=before))
    with pytest.raises(InvalidEvent, match="already retracted"):
        mini_kb.retract("tartus-unclear", "again")


def test_shared_statement_survives_one_retraction(mini_kb: KnowledgeBase) -> None:
    mini_kb.assert_claim({"id": "tartus-unclear-2", "subject": "tartus-naval-base",
                          "predicate": "gk:status", "object": "status:uncertain",
                          "modality": "asserted", "source": "art",
                          "quote": "Notably absent from the discussion"})
    mini_kb.retract("tartus-unclear", "duplicate")
    assert bool(mini_kb.query("ASK { id:tartus-naval-base gk:status status:uncertain }"))


def test_supersession(mini_kb: KnowledgeBase) -> None:
    mini_kb.assert_claim({"id": "tartus-operational", "subject": "tartus-naval-base",
                          "predicate": "gk:status", "object": "status:operational",
                          "modality": "asserted", "source": "art",
                          "quote": "the Tartus base is operational"})
    mini_kb.supersede("tartus-unclear", "tartus-operational", "later report")
    assert mini_kb.status("Tartus")["undated"] == [CLAIM["tartus-operational"].value]
    old = mini_kb.claim("tartus-unclear")
    assert old["lifecycle"]["superseded"]["by"].endswith("/tartus-operational")
    with pytest.raises(InvalidEvent, match="does not exist"):
        mini_kb.supersede("hmeimim-unclear", "nope", "x")


def test_valid_at_world_time(mini_kb: KnowledgeBase) -> None:
    # hmeimim-unclear holds from 2025-01 (no end, undated article: known in 2025-01 only);
    # tartus-unclear has no known time: undated, never holding
    assert mini_kb.status("Hmeimim", valid_at="2024-06")["status"] == []
    [held] = mini_kb.status("Hmeimim", valid_at="2025-01-20")["status"]
    assert held["holding"] == "holds"
    [later] = mini_kb.status("Hmeimim", valid_at="2025-03")["status"]
    assert later["holding"] == "last_reported"
    tartus = mini_kb.status("Tartus", valid_at="1999")
    assert tartus["status"] == [] and len(tartus["undated"]) == 1
    ask = "ASK { id:hmeimim-airfield gk:status status:uncertain }"
    assert not bool(mini_kb.query(ask, valid_at="2024-06-01"))
    assert bool(mini_kb.query(ask, valid_at="2025-01-15"))


def test_as_of_transaction_time(mini_kb: KnowledgeBase) -> None:
    assert mini_kb.resolve_as_of("2000-01-01T00:00:00Z") == 0
    assert mini_kb.resolve_as_of("2999-01-01T00:00:00Z") == mini_kb.position
    with pytest.raises(BadTime):
        mini_kb.resolve_as_of("yesterday")


def test_replay_is_deterministic(mini_kb: KnowledgeBase) -> None:
    mini_kb.retract("syria-needs", "test")
    assert mini_kb.rebuild() == mini_kb.rebuild() == mini_kb.projection.canonical_hash()


def test_on_disk_projection_catches_up(kb_dir: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "projection"
    kb = KnowledgeBase(kb_dir, projection_path=store_dir)
    kb.ingest(mini_document(), base_dir=kb_dir)
    position = kb.position
    del kb
    gc.collect()  # pyoxigraph releases the on-disk store's lock when the store is collected
    writer = KnowledgeBase(kb_dir)  # another process appends while the server is down
    writer.retract("tartus-unclear", "wrong")
    reopened = KnowledgeBase(kb_dir, projection_path=store_dir, catch_up=False)
    assert reopened.position == position  # kept with the data, no replay
    assert reopened.catch_up() == 1
    assert reopened.projection.canonical_hash() == writer.projection.canonical_hash()


def test_expected_position_conflict(mini_kb: KnowledgeBase) -> None:
    with pytest.raises(AppendConflict):
        mini_kb.append([], expected_position=mini_kb.position - 1)


def test_two_kbs_on_one_log_retry_and_stay_consistent(
        kb_dir: Path, make_kb: Callable[..., KnowledgeBase]) -> None:
    a = KnowledgeBase(kb_dir)
    a.ingest(mini_document(), base_dir=kb_dir)
    b = KnowledgeBase(kb_dir)
    a.retract("tartus-unclear", "from a")
    b.retract("hmeimim-unclear", "from b")  # b is stale: it catches up and retries
    assert b.position == a.position + 1
    a.catch_up()
    assert a.projection.canonical_hash() == b.projection.canonical_hash()


def test_replay_across_many_batches_applies_every_event(
        mini_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: events after the first full batch were once skipped."""
    import geokb.projection.store

    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 40)
    fresh = KnowledgeBase(mini_kb.directory)
    assert fresh.position == mini_kb.position
    assert fresh.projection.canonical_hash() == mini_kb.projection.canonical_hash()


def test_on_disk_first_build_bulk_loads_and_an_interrupted_one_starts_over(
        mini_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import geokb.projection.store
    from geokb.log.file import FileEventStore
    from geokb.projection.store import ProjectionStore

    monkeypatch.setattr(geokb.projection.store, "BATCH_QUADS", 40)  # several bulk batches
    built = KnowledgeBase(mini_kb.directory, projection_path=tmp_path / "p1")
    assert built.projection.canonical_hash() == mini_kb.projection.canonical_hash()
    # a first build killed after some bulk batches: data on disk, no position recorded
    partial = ProjectionStore(tmp_path / "p2")
    partial._store.bulk_load(b'<http://ex.org/s> <http://ex.org/p> "left over" .\n',
                             format=geokb.projection.store.ox.RdfFormat.N_QUADS)
    del partial
    gc.collect()
    reopened = ProjectionStore(tmp_path / "p2")
    assert reopened.position == 0 and reopened.size() == 0
    reopened.apply(FileEventStore(mini_kb.directory).read())
    assert reopened.canonical_hash() == mini_kb.projection.canonical_hash()

"""The answers' memory belongs to one KB: two KBs in one process share nothing, and what
is remembered lasts for one log position of the projection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from geokb.errors import NotFound
from geokb.kb import KnowledgeBase
from geokb.read.memo import AnswerMemo
from geokb.vocab import ID
from tests.harness.documents import mini_document


def renamed_document(label: str) -> dict[str, object]:
    document = mini_document()
    entities = document["entities"]
    entities[0] = {**entities[0], "label": label, "aliases": [label.split()[0]]}
    return document


def two_kbs(make_kb: Callable[..., KnowledgeBase]) -> tuple[KnowledgeBase, KnowledgeBase]:
    """Two KBs at the same log position whose Tartus has different names."""
    first, second = make_kb(), make_kb()
    first.ingest(renamed_document("Tartus naval base"), base_dir=first.directory)
    second.ingest(renamed_document("Tartous naval base"), base_dir=second.directory)
    assert first.position == second.position
    return first, second


def test_two_kbs_in_one_process_do_not_share_answers(
        make_kb: Callable[..., KnowledgeBase]) -> None:
    first, second = two_kbs(make_kb)
    assert first.reader.memo is not second.reader.memo
    for _ in range(2):  # the second round is answered from what each remembers
        assert first.status("tartus-naval-base")["entity"]["label"] == "Tartus naval base"
        assert second.status("tartus-naval-base")["entity"]["label"] == "Tartous naval base"
        assert first.timeline("tartus-naval-base")["claims"][0]["statement"]["subject"][
            "label"] == "Tartus naval base"
        assert second.claim("tartus-unclear")["statement"]["subject"][
            "label"] == "Tartous naval base"


def test_two_kbs_in_one_process_keep_their_own_name_index(
        make_kb: Callable[..., KnowledgeBase]) -> None:
    first, second = two_kbs(make_kb)
    tartus = NamedNode(ID["tartus-naval-base"].value)
    assert first.entity("Tartus") == tartus and second.entity("tartous") == tartus
    with pytest.raises(NotFound):
        first.entity("Tartous")
    with pytest.raises(NotFound):
        second.entity("Tartus")
    assert first.reader.memo.names is not None and second.reader.memo.names is not None
    assert first.reader.memo.names is not second.reader.memo.names


def test_what_is_remembered_lasts_one_position(kb_dir: Path) -> None:
    kb = KnowledgeBase(kb_dir)
    kb.ingest(mini_document(), base_dir=kb_dir)
    kb.status("tartus-naval-base")
    remembered = kb.reader.remembered()
    assert remembered.position == kb.position
    assert ID["tartus-naval-base"].value in remembered.found
    assert kb.reader.remembered() is remembered
    kb.update("INSERT DATA { id:tartus-naval-base rdfs:comment 'a note' }",
              recorded_by="test:memo")
    fresh = kb.reader.remembered()
    assert fresh is not remembered and fresh.position == kb.position
    assert not fresh.found and not fresh.labels


def test_a_memo_starts_empty_and_is_replaced_when_the_position_moves() -> None:
    memo = AnswerMemo()
    at_three = memo.at(3)
    at_three.labels["x"] = "X"
    assert memo.at(3) is at_three
    assert memo.at(4).labels == {} and memo.at(4).position == 4
    assert memo.names is None


def test_a_replaced_projection_gets_a_new_memo(kb_dir: Path) -> None:
    """A KB whose projection is swapped for another store (the bench does this) reads
    the new store and forgets what it remembered of the old one."""
    kb = KnowledgeBase(kb_dir)
    kb.ingest(mini_document(), base_dir=kb_dir)
    kb.status("tartus-naval-base")
    memo = kb.reader.memo
    fresh = KnowledgeBase(kb_dir, catch_up=False)
    with pytest.raises(NotFound):
        fresh.entity("Tartus")  # its own projection is empty (and its name index so)
    fresh.projection = kb.projection
    assert fresh.status("Tartus")["entity"]["label"] == "Tartus naval base"
    assert fresh.reader.store is kb.projection and fresh.reader.memo is not memo

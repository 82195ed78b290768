"""The read models: status and timeline a page at a time, and names resolved by index.

Pages: the pages of an answer, put end to end, are the whole answer (same claims, same
order), every page carries the entity's status claims and the total, and ``page.next``
fetches the next page from the state the first one was read in. Names: a label or alias
in any case finds its entity, also after events that declare, rename or alias entities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from geokb.errors import Ambiguous, InvalidEvent, NotFound
from geokb.kb import KnowledgeBase
from tests.harness.documents import ARTICLE, mini_document

DATES = ["2024-03", "2019", "2022-07-01", "2021", "2023-11", "2020-02"]
STATUSES = ["operational", "uncertain", "closed", "suspended", "under-review", "withdrawn"]


def status_claim(i: int, **extra: Any) -> dict[str, Any]:
    quote = "the Tartus base is operational" if i % 2 else "Their future remains unclear"
    return {"id": f"tartus-{i}", "subject": "tartus-naval-base", "predicate": "gk:status",
            "object": f"status:{STATUSES[i % len(STATUSES)]}", "modality": "asserted",
            "source": "art", "quote": quote, **extra}


@pytest.fixture
def kb(kb_dir: Path) -> KnowledgeBase:
    """The mini KB plus six dated status claims about Tartus (eight claims about it)."""
    document = mini_document()
    document["claims"] += [status_claim(i, valid_from=d) for i, d in enumerate(DATES)]
    document["claims"].append({**status_claim(9), "modality": "uncertain"})  # no date: last
    kb = KnowledgeBase(kb_dir)
    kb.ingest(document, base_dir=kb_dir)
    return kb


def ids(answer: dict[str, Any]) -> list[str]:
    return [c["id"] for c in answer["claims"]]


def all_pages(call: Any, name: str, **first: Any) -> list[dict[str, Any]]:
    pages = [call(name, **first)]
    while pages[-1]["page"]["next"] is not None:
        pages.append(call(name, **pages[-1]["page"]["next"]))
    return pages


# -- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["status", "timeline"])
def test_pages_put_end_to_end_are_the_whole_answer(kb: KnowledgeBase, method: str) -> None:
    call = getattr(kb, method)
    whole = call("Tartus", limit=None)
    assert len(whole["claims"]) == 8
    assert whole["page"] == {"offset": 0, "limit": None, "total": 8, "next": None,
                             "said_total": 0, "passed_on_total": 0}
    dated = [c["valid_time"]["from"]["value"] for c in whole["claims"]
             if c["valid_time"]["from"]]
    assert dated == sorted(dated)  # world-time order, the undated claims last
    pages = all_pages(call, "Tartus", limit=3)
    assert [len(p["claims"]) for p in pages] == [3, 3, 2]
    assert [c for p in pages for c in p["claims"]] == whole["claims"]
    assert [p["page"]["offset"] for p in pages] == [0, 3, 6]
    assert {p["page"]["total"] for p in pages} == {8}
    assert pages[0]["page"]["next"] == {"as_of": kb.position, "valid_at": None, "offset": 3,
                                        "limit": 3}
    assert pages[-1]["page"]["next"] is None
    if method == "status":  # the status is the entity's, whatever the page
        assert len(whole["status"]) == 6 and len(whole["undated"]) == 2
        assert all(p["status"] == whole["status"] and p["undated"] == whole["undated"]
                   for p in pages)


def test_the_default_page_is_the_first_fifty(kb: KnowledgeBase) -> None:
    for i in range(10, 56):  # 46 more: 54 claims about Tartus
        kb.assert_claim(status_claim(i, valid_from=str(1950 + i)))
    whole = kb.status("Tartus", limit=None)
    first = kb.status("Tartus")
    assert len(whole["claims"]) == 54
    assert first["claims"] == whole["claims"][:50]
    assert first["page"]["total"] == 54 and first["page"]["next"]["offset"] == 50
    assert first["status"] == whole["status"]
    assert kb.timeline("Tartus")["claims"] == whole["claims"][:50]


def test_a_status_claim_off_the_page_still_gives_the_status(kb: KnowledgeBase) -> None:
    only = kb.status("Tartus", limit=1)
    assert ids(only) == ["tartus-1"]  # 2019, the earliest
    # six dated (each last reported: no end, an undated article), two undated, apart
    assert len(only["status"]) == 6 and len(only["undated"]) == 2
    assert {s["holding"] for s in only["status"]} == {"last_reported"}
    last = kb.status("Tartus", limit=1, offset=7)
    assert ids(last) == ["tartus-9"] and last["status"] == only["status"]
    assert last["undated"] == only["undated"]
    assert last["undated"][-1] == "https://w3id.org/geokb/claim/tartus-9"
    assert last["status"][-1] == {"value": "https://w3id.org/geokb/status/operational",
                                  "label": "operational", "modality": "asserted",
                                  "claim": "https://w3id.org/geokb/claim/tartus-0",
                                  "negated": False, "holding": "last_reported",
                                  "reported_time": None}


def test_the_next_page_comes_from_the_state_of_the_first(kb: KnowledgeBase) -> None:
    before = kb.status("Tartus", limit=None)
    first = kb.status("Tartus", limit=3)
    kb.assert_claim(status_claim(20, valid_from="1990"))  # would come first now
    kb.retract("tartus-3", "corrected")  # 2021: on the second page
    second = kb.status("Tartus", **first["page"]["next"])
    assert second["claims"] == before["claims"][3:6]
    assert second["as_of"] == first["page"]["next"]["as_of"]
    now = kb.status("Tartus", limit=3)
    assert ids(now)[0] == "tartus-20" and now["page"]["total"] == 8
    assert "tartus-3" not in ids(kb.status("Tartus", limit=None))


def test_pages_of_a_time_travel_answer_keep_its_times(kb: KnowledgeBase) -> None:
    as_of = kb.position
    kb.assert_claim(status_claim(30, valid_from="2023"))
    whole = kb.timeline("Tartus", as_of=as_of, valid_at="2024", limit=None)
    assert "tartus-30" not in ids(whole)
    pages = all_pages(kb.timeline, "Tartus", as_of=as_of, valid_at="2024", limit=2)
    assert [c for p in pages for c in p["claims"]] == whole["claims"]
    assert pages[0]["page"]["next"]["as_of"] == as_of
    assert pages[0]["page"]["next"]["valid_at"] == "2024"


def test_page_arguments_are_checked(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidEvent, match="limit"):
        kb.status("Tartus", limit=0)
    with pytest.raises(InvalidEvent, match="offset"):
        kb.timeline("Tartus", offset=-1)
    past = kb.status("Tartus", limit=5, offset=100)
    assert past["claims"] == [] and past["page"]["next"] is None
    assert past["page"]["total"] == 8 and len(past["status"]) + len(past["undated"]) == 8


def test_an_entity_with_no_claims_has_one_empty_page(kb: KnowledgeBase) -> None:
    answer = kb.status("Digi24")
    assert answer["claims"] == [] and answer["status"] == []
    # it passed one claim on (the article cites it): apart from the claims about it
    assert answer["page"] == {"offset": 0, "limit": 50, "total": 0, "next": None,
                              "said_total": 0, "passed_on_total": 1}
    assert [c["as"] for c in answer["passed_on"]] == ["cited"]


def test_labels_in_answers_follow_updates(kb: KnowledgeBase) -> None:
    assert kb.status("Tartus", limit=1)["entity"]["label"] == "Tartus naval base"
    kb.update("DELETE DATA { id:tartus-naval-base rdfs:label 'Tartus naval base'@en } ; "
              "INSERT DATA { id:tartus-naval-base rdfs:label 'Tartous naval base'@en }",
              recorded_by="test:rename")
    answer = kb.status("tartus-naval-base", limit=1)
    assert answer["entity"]["label"] == "Tartous naval base"
    assert answer["claims"][0]["statement"]["subject"]["label"] == "Tartous naval base"


# -- names -------------------------------------------------------------------------------------


def resolved(kb: KnowledgeBase, name: str, **options: Any) -> str:
    """The slug ``name`` resolves to, or the kind of error."""
    try:
        return kb.entity(name, **options).value.rsplit("/", 1)[-1]
    except (NotFound, Ambiguous) as exc:
        return type(exc).__name__


NAMES = ["Tartus", "TARTUS NAVAL BASE", "naval base at tartus", "khmeimim", "SYRIA",
         "Latakia", "latakia port", "Tartous", "Port", "Atlantis", "tartus-naval-base"]


def test_names_in_any_case(kb: KnowledgeBase) -> None:
    assert resolved(kb, "tartus") == resolved(kb, "TARTUS NAVAL BASE") == "tartus-naval-base"
    assert resolved(kb, "Khmeimim") == "hmeimim-airfield"
    assert resolved(kb, "id:syria") == resolved(kb, "syria") == "syria"
    assert resolved(kb, "Atlantis") == "NotFound"


def test_names_follow_new_events(kb: KnowledgeBase) -> None:
    assert resolved(kb, "Tartus") == "tartus-naval-base"  # the index exists from here on
    before = kb.position
    kb.declare_entity({"id": "latakia-port", "types": ["gk:City"], "label": "Latakia port",
                       "aliases": ["Latakia"]})
    assert resolved(kb, "LATAKIA") == "latakia-port"
    assert resolved(kb, "latakia", as_of=before) == "NotFound"  # not declared then
    kb.update("INSERT DATA { id:tartus-naval-base skos:altLabel 'Tartous'@en }",
              recorded_by="test:alias")
    assert resolved(kb, "tartous") == "tartus-naval-base"
    kb.update("DELETE DATA { id:tartus-naval-base skos:altLabel 'Tartous'@en }",
              recorded_by="test:alias")
    assert resolved(kb, "tartous") == "NotFound"
    kb.declare_entity({"id": "tartus-city", "types": ["gk:City"], "label": "Tartus city",
                       "aliases": ["Tartus"]})
    with pytest.raises(Ambiguous) as info:
        kb.entity("tartus")
    assert [iri.rsplit("/", 1)[-1] for iri, _ in info.value.candidates] == [
        "tartus-city", "tartus-naval-base"]
    assert resolved(kb, "Tartus", as_of=before) == "tartus-naval-base"
    # the index kept up to date answers as one built afresh from the log does
    fresh = KnowledgeBase(kb.directory)
    assert [resolved(kb, n) for n in NAMES] == [resolved(fresh, n) for n in NAMES]


def test_names_appended_by_another_writer(kb: KnowledgeBase) -> None:
    assert resolved(kb, "Tartus") == "tartus-naval-base"
    other = KnowledgeBase(kb.directory)  # another process on the same log
    other.declare_entity({"id": "port-of-latakia", "types": ["gk:NavalBase"], "label": "Port",
                          "aliases": ["Latakia"]})
    other.assert_claim({"id": "latakia-op", "subject": "port-of-latakia",
                        "predicate": "gk:status", "object": "status:operational",
                        "modality": "asserted", "source": "art",
                        "quote": "the Tartus base is operational"})
    assert resolved(kb, "latakia") == "NotFound"  # this KB has not caught up yet
    kb.catch_up()
    assert resolved(kb, "latakia") == "port-of-latakia"
    assert kb.status("PORT")["undated"] == ["https://w3id.org/geokb/claim/latakia-op"]
    assert [resolved(kb, n) for n in NAMES] == [resolved(other, n) for n in NAMES]


def test_a_name_lookup_is_exact_not_a_substring(kb: KnowledgeBase) -> None:
    assert resolved(kb, "naval base") == "NotFound"
    assert resolved(kb, "al-shaibani") == "al-shaibani"
    assert resolved(kb, "Assaad al-Shaibani") == "al-shaibani"
    assert "Al-Shaibani said" in ARTICLE  # a quote is no name
    assert resolved(kb, "Al-Shaibani said") == "NotFound"


def test_a_claim_that_names_an_entity_names_it(kb: KnowledgeBase) -> None:
    """A live claim "x skos:altLabel y" (refused by today's rules, but a log may hold one
    from other rules) puts the alias in the current view, and its retraction removes it."""
    from geokb.write import claimfile

    assert resolved(kb, "their future") == "NotFound"  # the index exists from here on
    spec = {"id": "syria-alias", "subject": "syria", "predicate": "skos:altLabel",
            "object": {"text": "Their future", "lang": "en"}, "modality": "asserted",
            "source": "art", "quote": "Their future remains unclear"}
    event = claimfile.claim_event(spec, ARTICLE)
    kb.log.append([event], expected_position=kb.position, recorded_by="test:old-rules")
    kb.catch_up()
    assert resolved(kb, "THEIR FUTURE") == "syria"
    retraction = claimfile.retraction_event("syria-alias", "not a name")
    kb.log.append([retraction], expected_position=kb.position, recorded_by="test:old-rules")
    kb.catch_up()
    assert resolved(kb, "their future") == "NotFound"

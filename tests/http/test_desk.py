"""The desk's read endpoints, over real stores: the entity list (by type, with claim
counts), the sources (grades, claim counts), the recent events, the home page's answer,
the search (names by their key, descriptions, passages of source texts), what a speaker
said and an outlet passed on, and every ready example of the web page on the shipped KB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geokb.http.app import create_app
from geokb.kb import KnowledgeBase
from geokb.read.catalogue import normalise, passages
from tests.harness.belief import HEAD, build, seed_copy

EXAMPLES = Path(__file__).resolve().parents[2] / "src/geokb/http/static/examples.json"
ID = "https://w3id.org/geokb/id/"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The shipped KB (a copy of ``kb/``), as the web page reads it."""
    kb = KnowledgeBase(seed_copy(tmp_path_factory.mktemp("shipped") / "kb"))
    with TestClient(create_app(kb)) as client:
        yield client


@pytest.fixture(scope="module")
def contested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The shipped KB with the second report: Tartus's status is disputed."""
    kb = build(tmp_path_factory.mktemp("contested") / "kb")
    with TestClient(create_app(kb)) as client:
        yield client


def get(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_entity_list_by_type_with_claim_counts(contested: TestClient) -> None:
    body = get(contested, "/api/entities")
    rows = {e["id"]: e for e in body["entities"]}
    assert rows["tartus-naval-base"]["claims"] == 8
    assert rows["tartus-naval-base"]["types"] == ["gk:NavalBase"]
    assert rows["example-wire"]["claims"] == 0  # an outlet: it passes claims on
    assert body["types"]["gk:Person"] == sum("gk:Person" in e["types"] for e in rows.values())
    labels = [normalise(e["label"]) for e in body["entities"]]
    assert labels == sorted(labels)
    people = get(contested, "/api/entities", type="gk:Person")["entities"]
    assert {e["id"] for e in people} >= {"bashar-al-assad", "assaad-al-shaibani"}
    assert all("gk:Person" in e["types"] for e in people)
    same = get(contested, "/api/entities", type="https://w3id.org/geokb/ontology#Person")
    assert same["entities"] == people
    bad = contested.get("/api/entities", params={"type": "nope:Person"})
    assert bad.status_code == 400 and "nope" in bad.json()["detail"]


@pytest.mark.parametrize("q, first", [
    ("Al‑Shaibani", "assaad-al-shaibani"),  # a non-breaking hyphen
    ("al shaibani", "assaad-al-shaibani"), ("AL-SHAIBANI", "assaad-al-shaibani"),
    ("Ḥmeimim", "hmeimim-airfield"), ("tartus base", "tartus-naval-base"),
    ("syria’s new leadership", "new-syrian-government"),
])
def test_entity_search_uses_the_name_key(contested: TestClient, q: str, first: str) -> None:
    matches = get(contested, "/api/entities", q=q)["matches"]
    assert matches and matches[0]["id"] == first
    assert set(matches[0]) == {"iri", "id", "label", "types", "aliases"}


def test_entity_search_within_a_type(contested: TestClient) -> None:
    assert [m["id"] for m in get(contested, "/api/entities", q="syria",
                                 type="gk:Government")["matches"]] == ["new-syrian-government"]


def test_sources_with_grades_and_claim_counts(contested: TestClient) -> None:
    rows = {s["id"]: s for s in get(contested, "/api/sources")["sources"]}
    wire = rows["example-wire-2025-09-16-tartus"]
    assert wire["publisher"] == "Example Wire" and wire["published"] == "2025-09-16"
    assert wire["claims"] >= 3 and wire["retracted"] is False
    notes = rows["curator-notes-2026-12"]
    assert (notes["reliability"], notes["credibility"], notes["claims"]) == ("B", "2", 3)
    article = rows["article-syria-russia"]
    assert article["claims"] == 60 and article["reliability"] is None
    claims_per_source = get(contested, "/api/desk")["counts"]["claims"]
    assert claims_per_source == sum(s["claims"] for s in rows.values())


def test_recent_events_newest_first(contested: TestClient) -> None:
    body = get(contested, "/api/events/recent", limit=5)
    assert body["head"] == HEAD
    assert [e["position"] for e in body["events"]] == list(range(HEAD, HEAD - 5, -1))
    types = {e["type"] for e in body["events"]}
    assert "ClaimAsserted" in types
    claim = next(e for e in body["events"] if e["type"] == "ClaimAsserted")
    assert claim["link"].startswith("#/claim/") and claim["summary"].startswith("claim ")
    assert claim["recorded_by"] and claim["recorded_at"].endswith("Z")
    everything = get(contested, "/api/events/recent", limit=200)["events"]
    assert len(everything) == HEAD and everything[-1]["position"] == 1
    assert contested.get("/api/events/recent", params={"limit": 0}).status_code == 422


def test_desk_opens_on_the_contested_and_the_latest(contested: TestClient,
                                                     shipped: TestClient) -> None:
    body = get(contested, "/api/desk", limit=3)
    assert body["position"] == HEAD and body["counts"]["contested"] == 1
    [k] = body["contested"]
    assert k["on"]["iri"] == ID + "tartus-naval-base"
    assert [s["label"] for s in k["sides"]] == ["withdrawn", "not withdrawn"]
    latest = body["latest_claims"]
    assert len(latest) == 3
    positions = [c["lifecycle"]["asserted"]["position"] for c in latest]
    assert positions == sorted(positions, reverse=True) and positions[0] == HEAD
    assert all(c["lifecycle"]["state"] == "live" for c in latest)
    quiet = get(shipped, "/api/desk")
    assert quiet["counts"]["contested"] == 0 and quiet["contested"] == []
    assert len(quiet["latest_claims"]) == 8


def test_search_finds_damascus_by_description_and_in_the_text(shipped: TestClient) -> None:
    body = get(shipped, "/api/search", q="damascus")
    found = [e["id"] for e in body["entities"]]
    assert found[0] == "new-syrian-government" and "syria" in found  # by their descriptions
    assert all("Damascus" in e["description"] for e in body["entities"])
    [src] = body["sources"]
    assert src["id"] == "article-syria-russia" and src["count"] == 3
    text = shipped.get("/api/sources/article-syria-russia").json()["text"]
    for p in src["passages"]:
        assert text[p["start"]:p["end"]] == p["match"] == "Damascus"
        assert text[:p["start"]].endswith(p["before"])
    assert get(shipped, "/api/search", q="Atlantis") == {"q": "Atlantis", "entities": [],
                                                         "sources": []}
    assert shipped.get("/api/search").status_code == 422


def test_passages_count_code_points_and_fold_names() -> None:
    text = "𝐍𝐞𝐰𝐬 from Ḍamascus — and al‑Assad’s DAMASCUS."
    found = passages(text, "damascus", context=5)
    assert [p["match"] for p in found] == ["Ḍamascus", "DAMASCUS"]
    assert [text[p["start"]:p["end"]] for p in found] == ["Ḍamascus", "DAMASCUS"]
    assert found[0]["before"] == "from "
    assert [p["match"] for p in passages(text, "AL ASSAD'S")] == ["al‑Assad’s"]
    assert passages(text, "  ") == []


def test_a_speaker_said_and_an_outlet_passed_on(contested: TestClient) -> None:
    ministry = get(contested, "/api/entities/russian-defence-ministry/status")
    said = {c["id"]: c["as"] for c in ministry["said"]}
    assert said == {"russian-ministry-denies-tartus-withdrawal": "affiliate"}
    assert ministry["page"]["said_total"] == 1
    wire = get(contested, "/api/entities/example-wire/status")
    passed = {c["id"]: c["as"] for c in wire["passed_on"]}
    assert passed["tartus-withdrawn-per-syrian-officials"] == "publisher"
    assert wire["page"]["passed_on_total"] == len(passed) >= 3
    assert wire["said"] == []


def examples() -> list[dict[str, str]]:
    loaded = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    return loaded


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["id"])
def test_every_ready_example_returns_rows_on_the_shipped_kb(shipped: TestClient,
                                                            example: dict[str, str]) -> None:
    assert example["title"] and example["note"]
    r = shipped.get("/sparql", params={"query": example["query"]},
                    headers={"Accept": "application/sparql-results+json, "
                                       "application/n-triples;q=0.9"})
    assert r.status_code == 200, r.text
    if r.headers["content-type"].startswith("application/sparql-results+json"):
        assert len(r.json()["results"]["bindings"]) >= 1
    else:
        assert len([line for line in r.text.splitlines() if line.strip()]) >= 1

"""The belief model's REST writes: amend an entity, retract a source, link claims; token
protected like the other writes, with 404 for an unknown path and 422 for a broken rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geokb.http.app import Settings, create_app
from geokb.kb import KnowledgeBase
from tests.harness.http import AUTH, TOKEN, build_kb

C = "https://w3id.org/geokb/claim/"


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return build_kb(tmp_path / "kb")


@pytest.fixture
def client(kb: KnowledgeBase) -> Iterator[TestClient]:
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as c:
        yield c


def last(kb: KnowledgeBase) -> dict[str, Any]:
    line = (kb.directory / "events.jsonl").read_text().splitlines()[-1]
    return dict(json.loads(line))


@pytest.mark.parametrize("path, body", [
    ("/api/entities/tartus-naval-base/amend", {"label": "Tartus", "reason": "r"}),
    ("/api/sources/article-one/retract", {"reason": "r"}),
    ("/api/claims/tartus-status/links", {"contradicts": ["hmeimim-status"]}),
])
def test_writes_need_a_token(client: TestClient, kb: KnowledgeBase, path: str,
                             body: dict[str, Any]) -> None:
    before = kb.log.head().position
    assert client.post(path, json=body).status_code == 401
    bad = {"Authorization": "Bearer wrong"}
    assert client.post(path, json=body, headers=bad).status_code == 401
    assert kb.log.head().position == before


def test_amend_an_entity(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.post("/api/entities/Tartus/amend", headers=AUTH,
                    json={"curator_aliases": ["Tartous"], "remove_aliases": ["Tartus"],
                          "reason": "the spelling of the port authority"})
    assert r.status_code == 200, r.text
    assert r.json()["entity"] == "https://w3id.org/geokb/id/tartus-naval-base"
    assert r.json()["event"]["type"] == "EntityAmended"
    event = last(kb)
    assert event["schema"] == 2 and event["recorded_by"] == "http:default"
    assert event["payload"]["curator_aliases"] == ["Tartous"]
    assert client.post("/api/entities/atlantis/amend", headers=AUTH,
                       json={"label": "A", "reason": "r"}).status_code == 404
    r = client.post("/api/entities/russia/amend", headers=AUTH,
                    json={"remove_aliases": ["Rossiya"], "reason": "r"})
    assert r.status_code == 422 and "no alias 'Rossiya'" in r.json()["error"]
    r = client.post("/api/entities/russia/amend", headers=AUTH, json={"reason": "r"})
    assert r.status_code == 422 and "changes nothing" in r.json()["error"]
    assert client.post("/api/entities/russia/amend", headers=AUTH,
                       json={"label": "R"}).status_code == 422  # no reason


def test_retract_a_source(client: TestClient, kb: KnowledgeBase) -> None:
    assert client.post("/api/sources/nowhere/retract", headers=AUTH,
                       json={"reason": "r"}).status_code == 404
    r = client.post("/api/sources/article-one/retract", headers=AUTH,
                    json={"reason": "withdrawn by the outlet"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "https://w3id.org/geokb/source/article-one"
    assert sorted(body["retracted_claims"]) == [C + "hmeimim-status", C + "tartus-status"]
    assert [e["type"] for e in body["events"]] == ["ClaimRetracted", "ClaimRetracted",
                                                   "SourceRetracted"]
    assert client.get("/api/claims/tartus-status").json()["lifecycle"]["state"] == "retracted"
    r = client.post("/api/sources/article-one/retract", headers=AUTH, json={"reason": "again"})
    assert r.status_code == 422 and "already retracted" in r.json()["error"]


def test_link_claims(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.post("/api/claims/tartus-status/links", headers=AUTH,
                    json={"contradicts": ["hmeimim-status"], "note": "test"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "tartus-status"
    assert last(kb)["payload"] == {"claim": C + "tartus-status",
                                   "contradicts": [C + "hmeimim-status"], "note": "test"}
    assert client.post("/api/claims/nope/links", headers=AUTH,
                       json={"confirms": ["tartus-status"]}).status_code == 404
    r = client.post("/api/claims/tartus-status/links", headers=AUTH,
                    json={"denies": ["hmeimim-status"]})
    assert r.status_code == 422 and "write contradicts" in r.json()["error"]
    r = client.post("/api/claims/tartus-status/links", headers=AUTH, json={})
    assert r.status_code == 422 and "give denies, confirms or contradicts" in r.json()["error"]

"""The evidence-first REST API under /api, through TestClient, over a real KB."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geokb.errors import SettingsError
from geokb.http import models as http
from geokb.http.app import Settings, create_app
from geokb.kb import KnowledgeBase
from tests.harness.http import AUTH, DOC, TOKEN, build_kb

NEW_CLAIM = {"subject": "tartus-naval-base", "predicate": "gk:status",
             "object": "status:operational", "modality": "uncertain", "source": "article-one",
             "quote": "The future of the naval base", "valid_from": "2025-01",
             "confidence": "0.4", "note": "posted over HTTP"}


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return build_kb(tmp_path / "kb")


@pytest.fixture
def client(kb: KnowledgeBase) -> Iterator[TestClient]:
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as c:
        yield c


def lines(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (kb.directory / "events.jsonl").read_text().splitlines()]


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("q, ids", [
    ("Tartus", ["tartus-naval-base"]), ("tartus", ["tartus-naval-base"]),
    ("TARTUS base", ["tartus-naval-base"]), ("air base", ["hmeimim-air-base"]),
    ("base", ["hmeimim-air-base", "tartus-naval-base"]), ("russia", ["russia"]),
    ("hmeimim-air-base", ["hmeimim-air-base"]), ("Atlantis", []),
])
def test_entity_lookup(client: TestClient, q: str, ids: list[str]) -> None:
    r = client.get("/api/entities", params={"q": q})
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["matches"]] == ids
    for m in r.json()["matches"]:
        http.EntityMatch.model_validate(m)


def test_entity_lookup_fields(client: TestClient) -> None:
    [match] = client.get("/api/entities", params={"q": "Tartus"}).json()["matches"]
    assert match == {"iri": "https://w3id.org/geokb/id/tartus-naval-base",
                     "id": "tartus-naval-base", "label": "Tartus naval base",
                     "types": ["gk:NavalBase"], "aliases": ["Tartus"]}
    assert "entities" in client.get("/api/entities").json()  # no q: the whole list


def test_status_answers_with_evidence(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.get("/api/entities/Tartus/status")
    assert r.status_code == 200
    body = r.json()
    assert body == json.loads(json.dumps(kb.status("Tartus")))  # the CLI's JSON shape
    http.StatusOut.model_validate(body)
    # the article is undated: its status claim is listed apart, never as holding
    assert body["assessment"] == "unknown" and body["status"] == []
    assert [c.rsplit("/", 1)[-1] for c in body["undated"]] == ["tartus-status"]
    evidence = body["claims"][0]["evidence"]
    assert evidence["quote"] == "remains unclear"
    assert DOC["sources"][0]["text"][evidence["start"]:evidence["end"]] == "remains unclear"


def test_status_and_timeline_time_travel(client: TestClient, kb: KnowledgeBase) -> None:
    before = kb.position
    assert client.post("/api/claims", json=NEW_CLAIM, headers=AUTH).status_code == 201
    now = client.get("/api/entities/tartus-naval-base/timeline").json()
    assert len(now["claims"]) == 2
    http.TimelineOut.model_validate(now)
    then = client.get("/api/entities/tartus-naval-base/timeline",
                      params={"as_of": before}).json()
    assert then["as_of"] == before and len(then["claims"]) == 1
    valid = client.get("/api/entities/tartus-naval-base/status",
                       params={"valid_at": "2024-06"}).json()
    assert [c["id"] for c in valid["claims"]] == ["tartus-status"]
    r = client.get("/api/entities/tartus-naval-base/status", params={"valid_at": "2024-13"})
    assert r.status_code == 400 and "date" in r.json()["detail"]


def test_claim(client: TestClient) -> None:
    r = client.get("/api/claims/tartus-status")
    assert r.status_code == 200
    body = r.json()
    http.ClaimOut.model_validate(body)
    assert body["statement"]["object"]["iri"].endswith("/uncertain")
    assert body["modality"] == "asserted"
    assert body["lifecycle"]["state"] == "live"
    assert body["source"]["sha256"] == body["evidence"]["sha256"]
    assert client.get("/api/claims/tartus-status", params={"as_of": 1}).status_code == 404
    r = client.get("/api/claims/no-such-claim")
    assert r.status_code == 404 and "no claim" in r.json()["detail"]


def test_source(client: TestClient) -> None:
    r = client.get("/api/sources/article-one")
    assert r.status_code == 200
    body = r.json()
    http.SourceOut.model_validate(body)
    assert body["text"] == DOC["sources"][0]["text"]
    assert [s["quote"] for s in body["spans"]] == ["remains unclear",
                                                    "is still operated by Russia"]
    assert client.get("/api/sources/nope").status_code == 404


def test_ambiguous_name(client: TestClient, kb: KnowledgeBase) -> None:
    kb.declare_entity({"id": "tartus-city", "types": ["gk:City"], "label": "Tartus city",
                       "aliases": ["Tartus"]})
    r = client.get("/api/entities/Tartus/status")
    assert r.status_code == 409
    assert {c["iri"].rsplit("/", 1)[-1] for c in r.json()["candidates"]} == {
        "tartus-city", "tartus-naval-base"}
    assert client.get("/api/entities/Atlantis/status").status_code == 404


def test_events_feed(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.get("/api/events", params={"after": 0, "limit": 4})
    body = r.json()
    http.EventsPage.model_validate(body)
    assert [e["seq"] for e in body["events"]] == [1, 2, 3, 4]
    assert body["next"] == 4 and body["head"] == kb.position == 6
    assert body["events"] == lines(kb)[:4]
    body = client.get("/api/events", params={"after": 4, "limit": 4}).json()
    assert [e["seq"] for e in body["events"]] == [5, 6] and body["next"] is None
    assert client.get("/api/events", params={"after": 6}).json()["events"] == []
    assert client.get("/api/events", params={"limit": 0}).status_code == 422


def read_sse(client: TestClient, url: str, headers: dict[str, str] | None = None
             ) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    with client.stream("GET", url, headers=headers or {}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        current: dict[str, str] = {}
        for line in r.iter_lines():
            if not line:
                if current:
                    messages.append(current)
                current = {}
                continue
            key, _, value = line.partition(": ")
            current[key] = value
    return messages


def test_event_stream_and_resume(client: TestClient, kb: KnowledgeBase) -> None:
    messages = read_sse(client, "/api/events/stream?after=0&limit=3")
    assert [m["id"] for m in messages] == ["1", "2", "3"]
    assert [m["event"] for m in messages] == ["EntityDeclared"] * 3  # entities come first
    assert json.loads(messages[0]["data"]) == lines(kb)[0]
    resumed = read_sse(client, "/api/events/stream?after=0&limit=2",
                       headers={"Last-Event-ID": "4"})
    assert [m["id"] for m in resumed] == ["5", "6"]


def test_event_stream_sees_other_writers(client: TestClient, kb: KnowledgeBase) -> None:
    def other_process() -> None:  # another KnowledgeBase over the same directory
        time.sleep(0.4)
        KnowledgeBase(kb.directory).retract("hmeimim-status", "checked again",
                                            recorded_by="cli:other")

    writer = threading.Thread(target=other_process)
    writer.start()
    try:
        messages = read_sse(client, "/api/events/stream?after=6&limit=1")
    finally:
        writer.join()
    assert [(m["id"], m["event"]) for m in messages] == [("7", "ClaimRetracted")]
    assert json.loads(messages[0]["data"])["recorded_by"] == "cli:other"
    # the projection catches up too
    body = client.get("/api/claims/hmeimim-status").json()
    assert body["lifecycle"]["state"] == "retracted"
    assert client.get("/api/health").json() == {"position": 7}


# -- writing --------------------------------------------------------------------------------


def test_post_claim(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.post("/api/claims", json=NEW_CLAIM, headers=AUTH)
    assert r.status_code == 201, r.text
    body = r.json()
    http.ClaimOut.model_validate(body)
    assert body == json.loads(json.dumps(kb.claim(body["id"])))
    assert body["valid_time"]["from"] == {"value": "2025-01", "precision": "month"}
    assert lines(kb)[-1]["recorded_by"] == "http:default"


def test_post_claim_idempotency(client: TestClient, kb: KnowledgeBase) -> None:
    headers = {**AUTH, "Idempotency-Key": "req-42"}
    first = client.post("/api/claims", json=NEW_CLAIM, headers=headers)
    again = client.post("/api/claims", json=NEW_CLAIM, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert [e["type"] for e in lines(kb)].count("ClaimAsserted") == 3
    assert lines(kb)[-1]["idem"] == "req-42"
    r = client.post("/api/claims", json=NEW_CLAIM, headers=AUTH)  # no key: a duplicate
    assert r.status_code == 422 and "already exists" in r.json()["detail"]


@pytest.mark.parametrize("change, status, words", [
    ({"quote": "not in the text"}, 422, "quote not found"),
    ({"source": "no-such-source"}, 422, "unknown source"),
    ({"subject": "russia"}, 422, "gk:status"),
    ({"modality": "rumoured"}, 422, "modality"),
    ({"colour": "red"}, 422, "colour"),
    ({"subject": None}, 422, "subject"),
])
def test_post_invalid_claim(client: TestClient, kb: KnowledgeBase, change: dict[str, Any],
                            status: int, words: str) -> None:
    before = kb.position
    body = {k: v for k, v in {**NEW_CLAIM, **change}.items() if v is not None}
    r = client.post("/api/claims", json=body, headers=AUTH)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    assert isinstance(r.json()["results"], list)
    assert kb.position == before


def test_shape_violation_lists_results(client: TestClient) -> None:
    r = client.post("/api/claims", json={**NEW_CLAIM, "subject": "russia"}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["results"] and r.json()["results"][0]["focus"].startswith("https://")


def test_retract_and_supersede(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.post("/api/claims/tartus-status/retract", json={"reason": "the source erred"},
                    headers=AUTH)
    assert r.status_code == 200
    assert r.json()["lifecycle"]["state"] == "retracted"
    assert r.json()["lifecycle"]["retracted"]["reason"] == "the source erred"
    r = client.post("/api/claims/tartus-status/retract", json={"reason": "again"}, headers=AUTH)
    assert r.status_code == 422 and "already" in r.json()["detail"]
    assert client.post("/api/claims/nope/retract", json={"reason": "x"},
                       headers=AUTH).status_code == 404
    new = client.post("/api/claims", json={**NEW_CLAIM, "id": "hmeimim-2", "subject":
                                           "hmeimim-air-base"}, headers=AUTH)
    assert new.status_code == 201
    r = client.post("/api/claims/hmeimim-status/supersede",
                    json={"by": "hmeimim-2", "reason": "newer report"}, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["lifecycle"]["state"] == "superseded"
    assert r.json()["lifecycle"]["superseded"]["by"].endswith("/hmeimim-2")
    assert [e["type"] for e in lines(kb)[-3:]] == ["ClaimRetracted", "ClaimAsserted",
                                                  "ClaimSuperseded"]


def test_writes_need_the_token(kb: KnowledgeBase) -> None:
    with TestClient(create_app(kb, Settings())) as c:
        r = c.post("/api/claims", json=NEW_CLAIM, headers=AUTH)
        assert r.status_code == 403 and "read-only" in r.json()["detail"]
    with TestClient(create_app(kb, Settings(tokens={"ci": "ci-secret"}))) as c:
        assert c.post("/api/claims", json=NEW_CLAIM).status_code == 401
        assert c.post("/api/claims/tartus-status/retract", json={"reason": "x"},
                      headers={"Authorization": "Bearer nope"}).status_code == 401
        r = c.post("/api/claims", json=NEW_CLAIM, headers={"Authorization": "Bearer ci-secret"})
        assert r.status_code == 201
    assert lines(kb)[-1]["recorded_by"] == "http:ci"


# -- the app ---------------------------------------------------------------------------------


def test_openapi_lists_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/entities", "/api/entities/{slug}/status", "/api/entities/{slug}/timeline",
            "/api/claims/{claim_id}", "/api/sources/{slug}", "/api/events",
            "/api/events/stream", "/api/claims", "/api/claims/{claim_id}/retract",
            "/api/claims/{claim_id}/supersede", "/api/health", "/sparql",
            "/graph"} <= set(spec["paths"])
    assert "ClaimOut" in spec["components"]["schemas"]
    assert spec["paths"]["/api/claims"]["post"]["security"]
    assert client.get("/docs").status_code == 200


def test_settings_from_env() -> None:
    s = Settings.from_env(token="t0", environ={
        "GEOKB_TOKENS": "alice:a1, bob:b:2", "GEOKB_QUERY_TIMEOUT": "2.5",
        "GEOKB_MAX_ROWS": "10", "GEOKB_CORS_ORIGINS": "https://a.example, https://b.example",
        "GEOKB_ALLOW_SERVICE": "1"})
    assert dict(s.tokens) == {"default": "t0", "alice": "a1", "bob": "b:2"}
    assert (s.query_timeout, s.max_rows, s.allow_service) == (2.5, 10, True)
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert "a1" not in repr(s) and "t0" not in repr(s)
    assert Settings.from_env(environ={}).tokens == {}
    with pytest.raises(SettingsError, match="GEOKB_TOKENS entry 1") as err:
        Settings.from_env(environ={"GEOKB_TOKENS": "no-secret-here"})
    assert "no-secret-here" not in str(err.value)
    with pytest.raises(SettingsError, match="GEOKB_MAX_ROWS"):
        Settings.from_env(environ={"GEOKB_MAX_ROWS": "lots"})


def test_unknown_paths_and_health(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.get("/api/nothing")
    assert r.status_code == 404 and "error" in r.json()
    assert client.get("/api/health").json() == {"position": kb.position}


def test_api_docs_load_nothing_from_a_cdn(client: TestClient) -> None:
    """The OpenAPI docs page works offline: every script and stylesheet is served by us."""
    import re

    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets, page.text[:500]
        for asset in assets:
            assert not asset.startswith(("http://", "https://", "//")), asset
            if asset.startswith("/"):
                assert client.get(asset).status_code == 200, asset


def test_cached_answers_never_outlive_the_log_position(client: TestClient) -> None:
    """Answers are cached per log position: a write makes the next answer fresh."""
    query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    accept = {"Accept": "text/csv"}
    first = client.get("/sparql", params=query, headers=accept).text
    assert client.get("/sparql", params=query, headers=accept).text == first
    written = client.post("/sparql", data={"update": "INSERT DATA { id:tartus-naval-base "
                                                     "rdfs:comment 'new' }"},
                          headers={"Authorization": f"Bearer {TOKEN}"})
    assert written.status_code == 200, written.text
    after = client.get("/sparql", params=query, headers=accept).text
    assert after != first
    assert int(after.split()[-1]) == int(first.split()[-1]) + 1  # its event: graph:system

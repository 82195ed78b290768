"""The evidence model holds on every write path (issue 11, "hostile input"): a regression
test for each probe of the review, against a real KB, a real FastAPI app and the real CLI.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geokb.cli import app as cli_app
from geokb.errors import InvalidEvent, ModelViolation, StillAsserted
from geokb.http import Settings, create_app
from geokb.kb import KnowledgeBase
from geokb.projection.invariant import view_problems
from tests.harness.http import AUTH, DOC, TEXT, TOKEN, build_kb

ID = "https://w3id.org/geokb/id/"
GK = "https://w3id.org/geokb/ontology#"
STATUS = "https://w3id.org/geokb/status/"
TARTUS_STATUS = (f"<{ID}tartus-naval-base> <{GK}status> <{STATUS}uncertain>")


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return build_kb(tmp_path / "kb")


@pytest.fixture
def client(kb: KnowledgeBase) -> Any:
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as c:
        yield c


def later_claim(kb: KnowledgeBase, claim_id: str, subject: str, obj: str, quote: str) -> None:
    kb.assert_claim({"id": claim_id, "subject": subject, "predicate": "gk:status",
                     "object": obj, "modality": "asserted", "source": "article-one",
                     "quote": quote}, recorded_by="test")


# -- SPARQL Update ---------------------------------------------------------------------


@pytest.mark.parametrize("sparql, error, words", [
    ("DROP ALL", ModelViolation, "DROP ALL refused"),
    ("CLEAR ALL", ModelViolation, "CLEAR ALL refused"),
    ("CLEAR DEFAULT", ModelViolation, "CLEAR DEFAULT refused"),
    ("DROP NAMED", ModelViolation, "DROP NAMED refused"),
    ("DELETE WHERE { ?s ?p ?o }", StillAsserted, "retract the claim"),
    ("INSERT DATA { id:russia gk:status status:operational }", ModelViolation, "has no claim"),
    ("INSERT DATA { id:nobody rdfs:label 'x'@en }", ModelViolation, "has no claim"),
    ("DROP GRAPH <https://w3id.org/geokb/claim/tartus-status>", ModelViolation,
     "retract the claim tartus-status instead"),
    ("INSERT DATA { GRAPH <https://w3id.org/geokb/claim/tartus-status> "
     "{ id:russia gk:status status:closed } }", ModelViolation, "one statement"),
    ("INSERT DATA { GRAPH <https://w3id.org/geokb/claim/not-yet> "
     "{ id:russia gk:status status:closed } }", ModelViolation, "one statement"),
    ("DELETE DATA { id:tartus-naval-base gk:status status:uncertain }", StillAsserted,
     "the live claim tartus-status asserts"),
    ("INSERT DATA { <https://w3id.org/geokb/claim/tartus-status> gk:modality "
     "<https://w3id.org/geokb/modality/quoted> }", ModelViolation, "record changes only"),
    ("DELETE WHERE { <https://w3id.org/geokb/claim/tartus-status> gk:knownFromPosition ?p }",
     ModelViolation, "record changes only"),
    ("INSERT DATA { GRAPH <https://w3id.org/geokb/graph/attributed> "
     "{ id:russia gk:status status:closed } }", ModelViolation, "derived"),
    ("DELETE WHERE { id:russia gk:declaredIn ?e }", ModelViolation, "bookkeeping"),
])
def test_updates_that_break_the_model_are_refused(kb: KnowledgeBase, sparql: str,
                                                  error: type[Exception], words: str) -> None:
    before = kb.position
    with pytest.raises(error, match=words):
        kb.update(sparql, recorded_by="test")
    assert kb.position == before and view_problems(kb.projection) == []


def test_updates_that_keep_the_model_still_work(kb: KnowledgeBase) -> None:
    kb.update("INSERT DATA { id:russia skos:altLabel 'Rossiya'@en }", recorded_by="test")
    kb.update("INSERT DATA { GRAPH <http://example.org/mine> { id:russia gk:status "
              "status:closed } }", recorded_by="test")
    kb.update("CLEAR GRAPH <http://example.org/mine>", recorded_by="test")
    # a no-op for the model: the statement is already the live claim's
    assert kb.update(f"INSERT DATA {{ {TARTUS_STATUS} }}", recorded_by="test") == []
    assert view_problems(kb.projection) == []


def test_http_answers_409_and_422_saying_what_to_do(client: TestClient) -> None:
    def post(sparql: str) -> Any:
        return client.post("/sparql", content=sparql.encode(), headers={
            "Content-Type": "application/sparql-update", **AUTH})
    r = post("DROP ALL")
    assert r.status_code == 422 and r.json()["type"].endswith("/evidence-model")
    r = post(f"DELETE DATA {{ {TARTUS_STATUS} }}")
    assert r.status_code == 409 and r.json()["type"].endswith("/still-asserted")
    assert "retract the claim tartus-status instead" in r.json()["detail"]
    r = post("INSERT DATA { id:russia gk:status status:closed }")
    assert r.status_code == 422 and "has no claim" in r.json()["detail"]


def test_a_raw_graph_updated_event_is_checked_too(kb: KnowledgeBase) -> None:
    from geokb.log.events import GRAPH_UPDATED, Event

    with pytest.raises(ModelViolation, match="has no claim"):
        kb.append([Event(GRAPH_UPDATED, {"delete": [], "insert": [
            f"<{ID}russia> <{GK}status> <{STATUS}closed> ."]})], recorded_by="test")


# -- validate ----------------------------------------------------------------------


def _validate(kb: Path, projection: Path) -> subprocess.CompletedProcess[str]:
    """``geokb --projection DIR validate`` in a process of its own (the store's lock)."""
    return subprocess.run([sys.executable, "-m", "geokb.cli", "--kb", str(kb), "--projection",
                           str(projection), "validate"], capture_output=True, text=True,
                          timeout=120, check=False)


def test_validate_finds_a_projection_damaged_on_disk(kb: KnowledgeBase, tmp_path: Path) -> None:
    projection = tmp_path / "projection"
    on_disk = KnowledgeBase(kb.directory, projection_path=projection)
    on_disk.projection.flush()
    del on_disk
    gc.collect()
    first = _validate(kb.directory, projection)
    assert first.returncode == 0, first.stdout + first.stderr
    store = ox.Store(str(projection))
    tartus, status = ox.NamedNode(ID + "tartus-naval-base"), ox.NamedNode(GK + "status")
    store.add(ox.Quad(ox.NamedNode(ID + "russia"), status, ox.NamedNode(STATUS + "closed")))
    store.remove(ox.Quad(tartus, status, ox.NamedNode(STATUS + "uncertain")))
    store.add(ox.Quad(tartus, status, ox.NamedNode(STATUS + "closed"),
                      ox.NamedNode("https://w3id.org/geokb/claim/tartus-status")))
    store.flush()
    del store
    gc.collect()
    damaged = _validate(kb.directory, projection)
    out = damaged.stdout
    assert damaged.returncode == 1, out + damaged.stderr
    assert "current view does not match the live claims" in out
    assert f"no live claim states <{ID}russia>" in out
    assert "the live claim's statement" in out and "is not in the view" in out
    assert "is not the claim's statement" in out  # the padded claim graph
    assert "4 violation(s)" not in out and "3 violation(s)" in out


def test_validate_finds_a_wipe_in_the_log(kb: KnowledgeBase) -> None:
    """A GraphUpdated that wiped the view before this rule (a log of an older geokb)."""
    from geokb.log.events import GRAPH_UPDATED, Event

    line = f"{TARTUS_STATUS} ."
    kb.log.append([Event(GRAPH_UPDATED, {"delete": [line], "insert": []})],
                  expected_position=kb.position, recorded_by="old-geokb")
    report = KnowledgeBase(kb.directory).validate()
    assert not report.ok
    assert any("GraphUpdated" in p.message and "tartus-status" in p.message
               for p in report.problems)


# -- supersede ----------------------------------------------------------------------


def test_supersede_across_entities_needs_a_recorded_reason(kb: KnowledgeBase,
                                                           client: TestClient) -> None:
    with pytest.raises(ModelViolation, match="same subject"):
        kb.supersede("tartus-status", "hmeimim-status", "newer")
    r = client.post("/api/claims/tartus-status/supersede", headers=AUTH,
                    json={"by": "hmeimim-status", "reason": "newer"})
    assert r.status_code == 422 and "--cross-entity" in r.json()["detail"]
    assert r.json()["type"].endswith("/evidence-model")
    r = client.post("/api/claims/tartus-status/supersede", headers=AUTH,
                    json={"by": "hmeimim-status", "reason": "newer",
                          "cross_entity": "the base is Russia's to report on"})
    assert r.status_code == 200, r.text
    last = json.loads((kb.directory / "events.jsonl").read_text().splitlines()[-1])
    assert last["payload"]["cross_entity"] == "the base is Russia's to report on"


def test_supersede_by_an_older_or_ended_claim_is_refused(kb: KnowledgeBase) -> None:
    later_claim(kb, "tartus-later", "tartus-naval-base", "status:operational",
                "The future of the naval base")
    with pytest.raises(ModelViolation, match="recorded before"):
        kb.supersede("tartus-later", "tartus-status", "the older report")
    kb.supersede("tartus-status", "tartus-later", "a later report")
    later_claim(kb, "tartus-third", "tartus-naval-base", "status:closed", "Talks continued")
    kb.retract("tartus-third", "misread")
    with pytest.raises(InvalidEvent, match="not live"):
        kb.supersede("tartus-later", "tartus-third", "x")


def test_supersede_rules_hold_in_claim_files_and_the_cli(kb: KnowledgeBase) -> None:
    doc = {"supersessions": [{"claim": "tartus-status", "by": "hmeimim-status",
                              "reason": "newer"}]}
    with pytest.raises(InvalidEvent, match="same subject"):
        kb.ingest(doc, base_dir=kb.directory)
    runner = CliRunner()
    r = runner.invoke(cli_app, ["--kb", str(kb.directory), "supersede", "tartus-status",
                                "--by", "hmeimim-status", "--reason", "newer"])
    assert r.exit_code == 1 and "same subject" in r.output
    r = runner.invoke(cli_app, ["--kb", str(kb.directory), "supersede", "tartus-status",
                                "--by", "hmeimim-status", "--reason", "newer",
                                "--cross-entity", "one report, two subjects"])
    assert r.exit_code == 0, r.output


# -- bad literals: a clean 422 naming the field on every surface -------------------------

BAD_CONFIDENCES = ["NaN", "nan", "INF", "-INF", "Infinity", "abc", "1e0", "-0.1", "1.5"]


@pytest.mark.parametrize("value", BAD_CONFIDENCES)
def test_bad_confidence_in_a_claim_file(kb: KnowledgeBase, value: str) -> None:
    doc = {"claims": [{**DOC["claims"][0], "id": "c-bad", "confidence": value}]}
    with pytest.raises(InvalidEvent, match="confidence"):
        kb.ingest(doc, base_dir=kb.directory)


@pytest.mark.parametrize("raw", [*(json.dumps(v) for v in BAD_CONFIDENCES),
                                 "NaN", "Infinity", "-Infinity", "1e400"])
def test_bad_confidence_in_a_rest_post(client: TestClient, raw: str) -> None:
    spec = json.dumps({**DOC["claims"][0], "id": "c-bad"})[:-1] + f', "confidence": {raw}}}'
    r = client.post("/api/claims", content=spec.encode(),
                    headers={"Content-Type": "application/json", **AUTH})
    assert r.status_code == 422, r.text
    assert "confidence" in r.text


@pytest.mark.parametrize("key, value", [("valid_from", "2024-13-01"),
                                        ("valid_until", "2023-02-29"),
                                        ("valid_from", "NaN")])
def test_bad_dates_on_claims(kb: KnowledgeBase, client: TestClient, key: str,
                             value: str) -> None:
    spec = {**DOC["claims"][0], "id": "c-bad", key: value}
    with pytest.raises(InvalidEvent, match=key):
        kb.ingest({"claims": [spec]}, base_dir=kb.directory)
    r = client.post("/api/claims", json=spec, headers=AUTH)
    assert r.status_code == 422 and key in r.text, r.text


@pytest.mark.parametrize("literal", ['"NaN"^^xsd:double', '"INF"^^xsd:double',
                                     '"-INF"^^xsd:double', '"abc"^^xsd:double',
                                     '"2024-13-01"^^xsd:date', '"0.5x"^^xsd:decimal'])
def test_bad_literals_by_sparql_update(client: TestClient, literal: str) -> None:
    """A confidence (a claim's record) never comes by update; an ill-formed literal is
    refused anywhere; NaN and INF are doubles, which a graph of one's own may hold."""
    well_formed = "NaN" in literal or "INF" in literal
    for sparql, ok in (
            (f"INSERT DATA {{ <https://w3id.org/geokb/claim/tartus-status> "
             f"gk:confidence {literal} }}", False),
            (f"INSERT DATA {{ id:tartus-naval-base gk:status {literal} }}", False),
            (f"INSERT DATA {{ id:russia rdfs:comment {literal} }}", well_formed),
            (f"INSERT DATA {{ GRAPH <http://example.org/g> {{ <http://example.org/s> "
             f"<http://example.org/p> {literal} }} }}", well_formed)):
        r = client.post("/sparql", content=sparql.encode(), headers={
            "Content-Type": "application/sparql-update", **AUTH})
        assert r.status_code == (200 if ok else 422), (sparql, r.status_code, r.text)
        if not well_formed:
            assert "is not a valid xsd:" in r.json()["detail"]


def test_the_source_text_is_what_the_fixture_says() -> None:
    assert "remains unclear" in TEXT


# -- recorded_by (claimed) apart from verified_as (vouched for) ----------------------


def test_http_writes_record_who_the_token_authenticated(kb: KnowledgeBase,
                                                       client: TestClient) -> None:
    before = kb.position
    r = client.post("/api/claims/hmeimim-status/retract", headers=AUTH,
                    json={"reason": "misread"})
    assert r.status_code == 200, r.text
    r = client.post("/sparql", content=b"INSERT DATA { id:russia skos:altLabel 'RF'@en }",
                    headers={"Content-Type": "application/sparql-update", **AUTH})
    assert r.status_code == 200, r.text
    lines = [json.loads(x) for x in (kb.directory / "events.jsonl").read_text().splitlines()]
    assert [(e["recorded_by"], e["verified_as"]) for e in lines[before:]] == [
        ("http:default", "default"), ("http:default", "default")]
    assert all("verified_as" not in e for e in lines[:before])  # old lines: as they were
    page = client.get("/api/events", params={"after": before - 1}).json()["events"]
    assert [e.get("verified_as") for e in page] == [None, "default", "default"]
    reopened = KnowledgeBase(kb.directory)  # the new lines decode, hash and replay
    assert [e.verified_as for e in reopened.history(after=before)] == ["default"] * 2
    assert reopened.validate().ok


def test_local_writes_claim_an_identity_and_authenticate_none(kb: KnowledgeBase) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["--kb", str(kb.directory), "--as", "curator:ana", "retract",
                                "hmeimim-status", "--reason", "misread"])
    assert r.exit_code == 0, r.output
    last = json.loads((kb.directory / "events.jsonl").read_text().splitlines()[-1])
    assert last["recorded_by"] == "curator:ana" and "verified_as" not in last
    kb.catch_up()
    kb.retract("tartus-status", "misread", recorded_by="curator:ana",
               verified_as="ana-token")
    shown = runner.invoke(cli_app, ["--kb", str(kb.directory), "log", "--type",
                                    "ClaimRetracted"]).output.splitlines()
    assert "curator:ana" in shown[0] and "authenticated" not in shown[0]
    assert "curator:ana" in shown[1] and shown[1].endswith("(verified as ana-token)")


def test_an_authenticated_name_no_line_should_carry_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidEvent, match="verified_as"):
        kb.retract("tartus-status", "x", verified_as="a\nb")

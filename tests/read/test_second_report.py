"""The answers of tests/fixtures/second-report/expected.md, through the KB, the CLI's JSON
and text, and the REST API, on a copy of the seed KB with the second report ingested.

The KB is built once per module (seed replay plus the report) with its projection on disk,
so that the CLI, which opens the KB itself, reads the same projection.
"""

from __future__ import annotations

import gc
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geokb.cli import app
from geokb.errors import BadTime, InvalidEvent, NotFound
from geokb.http.app import Settings, create_app
from geokb.kb import KnowledgeBase
from tests.harness.belief import SEED_HEAD, build

CLAIM = "https://w3id.org/geokb/claim/"
WITHDRAWN = CLAIM + "tartus-withdrawn-per-syrian-officials"
DENIAL = CLAIM + "russian-ministry-denies-tartus-withdrawal"
VESSELS = CLAIM + "tartus-two-vessels-remained"
UNDATED = CLAIM + "tartus-future-unclear"
CONFLICT = "https://w3id.org/geokb/conflict/a20b681396573863"
LINE = ("contested since 2025-09-15: withdrawn (two Syrian officials, unnamed, via Example "
        "Wire) vs not withdrawn (spokesperson, Russian defence ministry, via Example Wire)")
SEED_TARTUS = {"tartus-operated-by-russia", "tartus-located-in-syria", "tartus-not-discussed",
               "tartus-key-role", "tartus-future-unclear"}
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The KB directory; its projection on disk beside it, closed (one writer at a time)."""
    root = tmp_path_factory.mktemp("second-report")
    kb = build(root / "kb", projection=root / "projection")
    kb.projection.flush()
    del kb
    gc.collect()  # the store's lock goes with the store
    shutil.copytree(root / "projection", root / "projection-cli")
    return root


@pytest.fixture(scope="module")
def where(built: Path) -> tuple[Path, Path]:
    """What the CLI opens: the KB and a copy of its projection."""
    return built / "kb", built / "projection-cli"


@pytest.fixture(scope="module")
def kb(built: Path) -> KnowledgeBase:
    return KnowledgeBase(built / "kb", projection_path=built / "projection")


@pytest.fixture(scope="module")
def client(kb: KnowledgeBase) -> Iterator[TestClient]:
    with TestClient(create_app(kb, Settings())) as c:
        yield c


def cli(where: tuple[Path, Path], *args: str) -> str:
    result = runner.invoke(app, ["--kb", str(where[0]), "--projection", str(where[1]), *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in items]


# -- 1. Tartus is contested ------------------------------------------------------------------


def test_tartus_is_contested(kb: KnowledgeBase) -> None:
    answer = kb.status("Tartus")
    today = kb.log.head().recorded_at[:10]
    assert answer["at"] == {"from": today, "until": today}
    assert answer["as_of"] is None and answer["valid_at"] is None
    assert answer["assessment"] == "contested"
    assert answer["status"] == [
        {"value": "https://w3id.org/geokb/status/withdrawn", "label": "withdrawn",
         "modality": "quoted", "negated": False, "claim": WITHDRAWN,
         "holding": "last_reported",
         "reported_time": {"value": "2025-09-16", "precision": "day", "from": "source"}},
        {"value": "https://w3id.org/geokb/status/withdrawn", "label": "withdrawn",
         "modality": "denied", "negated": True, "claim": DENIAL,
         "holding": "last_reported",
         "reported_time": {"value": "2025-09-16", "precision": "day", "from": "source"}},
    ]
    assert answer["undated"] == [UNDATED]  # not a third side, never holding
    [conflict] = answer["conflicts"]
    assert conflict["conflict"] == CONFLICT
    assert answer["line"] == conflict["line"] == LINE
    assert set(ids(answer["claims"])) == SEED_TARTUS | {
        "tartus-withdrawn-per-syrian-officials", "tartus-two-vessels-remained",
        "russian-ministry-denies-tartus-withdrawal"}
    assert answer["page"]["total"] == 8
    for c in answer["claims"]:
        assert c["holding"] in ("holds", "last_reported", "undated", None)
        assert "reported_time" in c and "speakers" in c and "grades" in c


def test_the_conflict_and_its_sides(kb: KnowledgeBase) -> None:
    answer = kb.conflicts("Tartus")
    assert answer["page"] == {"offset": 0, "limit": 50, "total": 1, "next": None}
    [c] = answer["conflicts"]
    assert c["on"] == {"iri": "https://w3id.org/geokb/id/tartus-naval-base",
                       "label": "Tartus naval base"}
    assert c["property"] == {"iri": "https://w3id.org/geokb/ontology#status",
                             "label": "status"}
    assert c["rules"] == ["denial"] and c["contested_since"] == "2025-09-15"
    first, second = c["sides"]
    assert (first["label"], first["negated"], second["label"], second["negated"]) == (
        "withdrawn", False, "not withdrawn", True)
    [officials] = first["claims"]
    assert officials == {
        "claim": WITHDRAWN, "id": "tartus-withdrawn-per-syrian-officials",
        "modality": "quoted", "speech_act": "states",
        "speakers": [{"anonymous": "two Syrian officials", "count": 2,
                      "affiliation": {"iri": "https://w3id.org/geokb/id/syria",
                                      "label": "Syria"},
                      "spokesperson_for": None}],
        "source": {"iri": "https://w3id.org/geokb/source/example-wire-2025-09-16-tartus",
                   "title": "Russian warships leave Tartus, Syrian officials say; Moscow "
                            "denies any withdrawal",
                   "publisher": {"iri": "https://w3id.org/geokb/id/example-wire",
                                 "label": "Example Wire"}},
        "reported_time": {"value": "2025-09-16", "precision": "day", "from": "source"},
        "valid_time": {"from": {"value": "2025-09-15", "precision": "day"}, "until": None},
        "holding": "last_reported", "basis": ["officials", "satelliteImagery"],
        "grades": {"reliability": "F", "credibility": "3", "from": "claim"}}
    [ministry] = second["claims"]
    assert ministry["speech_act"] == "denies" and ministry["basis"] == []
    assert ministry["speakers"][0]["spokesperson_for"]["label"] == "Russian defence ministry"
    assert ministry["valid_time"] == {"from": None, "until": None}
    assert ministry["grades"] == {"reliability": "C", "credibility": "3", "from": "claim"}
    # the confirming claim is of gk:assessment, not the conflict's gk:status: not a side
    assert VESSELS not in {x["claim"] for s in c["sides"] for x in s["claims"]}
    assert kb.claim("tartus-withdrawn-per-syrian-officials")["links"]["confirmed_by"] == [
        VESSELS]
    assert kb.conflicts()["conflicts"] == answer["conflicts"]


# -- 3. World time ---------------------------------------------------------------------------


@pytest.mark.parametrize(("valid_at", "assessment", "holding"), [
    ("2025-09-14", "unknown", []),
    ("2025-09-15", "contested", ["holds", "holds"]),
    ("2025-09", "contested", ["holds", "holds"]),
    ("2026-06", "contested", ["last_reported", "last_reported"]),
    ("2014", "unknown", []),
])
def test_world_time(kb: KnowledgeBase, valid_at: str, assessment: str,
                    holding: list[str]) -> None:
    answer = kb.status("Tartus", valid_at=valid_at)
    assert answer["assessment"] == assessment
    assert [s["holding"] for s in answer["status"]] == holding
    assert answer["undated"] == [UNDATED]
    assert bool(answer["conflicts"]) is (assessment == "contested")
    assert bool(kb.conflicts(valid_at=valid_at)["conflicts"]) is (assessment == "contested")


def test_nothing_holds_at_hmeimim_in_2014(kb: KnowledgeBase) -> None:
    answer = kb.status("Hmeimim", valid_at="2014")
    assert answer["status"] == [] and answer["assessment"] == "unknown"
    assert answer["undated"] == [CLAIM + "hmeimim-future-unclear"]
    assert all(c["holding"] != "holds" for c in answer["claims"])
    assert answer["line"] == ("unknown — 1 undated claim: uncertain (asserted, "
                              "article-syria-russia)")


def test_russias_support_for_assad_is_not_presented_as_holding_in_2026(kb: KnowledgeBase) -> None:
    answer = kb.timeline("Bashar al-Assad", valid_at="2026-06")
    def support(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in claims if c["statement"]["predicate"]["iri"].endswith(
            ("#supports", "#backedBy"))]

    # the upgrade ends it in December 2024: not part of 2026-06; never presented as holding
    assert all(c["holding"] != "holds" for c in support(answer["claims"]))
    whole = kb.timeline("Bashar al-Assad", limit=None)
    assert support(whole["claims"]), "Russia's support is in the timeline, in its place"
    ask = "ASK { id:russia gk:supports id:bashar-al-assad }"
    assert not bool(kb.query(ask, valid_at="2026-06"))


def test_undated_claims_never_hold_in_the_valid_at_view(kb: KnowledgeBase) -> None:
    ask = "ASK { id:tartus-naval-base gk:status status:uncertain }"
    assert bool(kb.query(ask))  # the current view: live asserted
    assert not bool(kb.query(ask, valid_at="2025"))  # undated: not at any world time


# -- 4. As of before the report --------------------------------------------------------------


def test_as_of_before_the_report_is_the_old_answer(kb: KnowledgeBase) -> None:
    answer = kb.status("Tartus", as_of=SEED_HEAD)
    [seed_head] = kb.history(after=SEED_HEAD - 1, limit=1)
    seed_day = seed_head.recorded_at[:10]
    assert answer["at"] == {"from": seed_day, "until": seed_day}
    assert answer["assessment"] == "unknown" and answer["status"] == []
    assert answer["undated"] == [UNDATED] and answer["conflicts"] == []
    assert set(ids(answer["claims"])) == SEED_TARTUS
    assert answer["line"] == ("unknown — 1 undated claim: uncertain (asserted, "
                              "article-syria-russia)")
    assert kb.conflicts(as_of=SEED_HEAD)["conflicts"] == []
    assert len(kb.conflicts(as_of=SEED_HEAD + 7)["conflicts"]) == 1


# -- 5. Speakers and outlets -----------------------------------------------------------------


def test_what_an_outlet_passed_on_and_what_a_state_said(kb: KnowledgeBase) -> None:
    wire = kb.status("Example Wire")
    assert [(c["id"], c["as"]) for c in wire["passed_on"]] == [
        ("tartus-withdrawn-per-syrian-officials", "publisher"),
        ("tartus-two-vessels-remained", "publisher"),
        ("russian-ministry-denies-tartus-withdrawal", "publisher")]
    assert wire["claims"] == [] and wire["page"]["passed_on_total"] == 3
    syria = kb.status("Syria")
    assert [(c["id"], c["as"]) for c in syria["said"]] == [
        ("tartus-withdrawn-per-syrian-officials", "affiliate"),
        ("tartus-two-vessels-remained", "affiliate")]
    ministry = kb.status("Russian defence ministry")
    assert [(c["id"], c["as"]) for c in ministry["said"]] == [
        ("russian-ministry-denies-tartus-withdrawal", "affiliate")]
    digi24 = kb.status("Digi24")
    assert digi24["claims"] == [] and len(digi24["passed_on"]) == 2
    assert {c["as"] for c in digi24["passed_on"]} == {"cited"}
    shaibani = kb.timeline("al-Shaibani")
    assert len(shaibani["said"]) == 6 and {c["as"] for c in shaibani["said"]} == {"speaker"}


def test_said_and_passed_on_are_paged_with_the_claims(kb: KnowledgeBase) -> None:
    first = kb.status("Example Wire", limit=2)
    assert len(first["passed_on"]) == 2 and first["page"]["next"]["offset"] == 2
    second = kb.status("Example Wire", **first["page"]["next"])
    assert ids(first["passed_on"]) + ids(second["passed_on"]) == ids(
        kb.status("Example Wire")["passed_on"])


@pytest.mark.parametrize("name", ["russian DEFENCE ministry", "Russian Ministry of Defence",
                                  "Russian  defence ministry", "Rússian defence ministry"])
def test_names_ignore_case_spacing_and_diacritics(kb: KnowledgeBase, name: str) -> None:
    assert kb.entity(name).value == "https://w3id.org/geokb/id/russian-defence-ministry"


def test_names_ignore_apostrophe_style(kb: KnowledgeBase) -> None:
    found = kb.query("SELECT ?e ?l WHERE { ?e rdfs:label ?l FILTER(CONTAINS(?l, \"’\")) }")
    rows = list(found)
    if not rows:
        pytest.skip("no label with a typographic apostrophe in this KB")
    label = rows[0]["l"].value
    assert kb.entity(label.replace("’", "'").upper()).value == rows[0]["e"].value


# -- 6. The views ----------------------------------------------------------------------------


def test_the_current_view_holds_no_quoted_statement(kb: KnowledgeBase) -> None:
    assert not bool(kb.query("ASK { id:tartus-naval-base gk:status status:withdrawn }"))
    assert bool(kb.query("ASK { GRAPH <https://w3id.org/geokb/graph/attributed> { "
                         "id:tartus-naval-base gk:status status:withdrawn } }"))
    assert not bool(kb.query("ASK { id:russia gk:supports id:syria-reconstruction }"))


# -- the front doors -------------------------------------------------------------------------


def test_cli_json_is_the_kb_answer(where: tuple[Path, Path], kb: KnowledgeBase) -> None:
    status = json.loads(cli(where, "status", "Tartus", "--format", "json"))
    assert status == json.loads(json.dumps(kb.status("Tartus")))
    conflicts = json.loads(cli(where, "conflicts", "Tartus", "--format", "json"))
    assert conflicts == json.loads(json.dumps(kb.conflicts("Tartus")))
    before = json.loads(cli(where, "conflicts", "--as-of", str(SEED_HEAD), "--format", "json"))
    assert before["conflicts"] == []


def test_cli_text_says_it_in_words(where: tuple[Path, Path]) -> None:
    out = cli(where, "status", "Tartus")
    assert f"status: {LINE}" in out
    assert "last reported 2025-09-16" in out
    assert "undated (never counted as holding): tartus-future-unclear" in out
    before = cli(where, "status", "Tartus", "--as-of", str(SEED_HEAD))
    assert ("status: unknown — 1 undated claim: uncertain (asserted, article-syria-russia)"
            in before)
    listed = cli(where, "conflicts")
    assert listed.splitlines() == [listed.splitlines()[0], f"Tartus naval base status: {LINE}"]
    assert cli(where, "conflicts", "--valid-at", "2014").startswith("0 conflicts")


def test_rest_answers(client: TestClient, kb: KnowledgeBase) -> None:
    r = client.get("/api/conflicts", params={"entity": "tartus-naval-base"})
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(json.dumps(kb.conflicts("tartus-naval-base")))
    assert client.get("/api/conflicts", params={"as_of": SEED_HEAD}).json()["conflicts"] == []
    r = client.get("/api/entities/tartus-naval-base/status", params={"valid_at": "2025-09"})
    assert r.json()["assessment"] == "contested"
    assert client.get("/api/conflicts", params={"entity": "nowhere"}).status_code == 404
    bad = client.get("/api/conflicts", params={"valid_at": "2025-13"})
    assert bad.status_code == client.get("/api/entities/tartus-naval-base/status",
                                         params={"valid_at": "2025-13"}).status_code
    assert bad.status_code in (400, 422)
    paged = client.get("/api/conflicts", params={"limit": 1, "entity": "Tartus"})
    assert paged.json()["page"]["next"] is None


def test_kb_errors(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFound):
        kb.conflicts("nowhere")
    with pytest.raises(BadTime):
        kb.conflicts(valid_at="2025-13")
    with pytest.raises(InvalidEvent, match="limit"):
        kb.conflicts(limit=0)

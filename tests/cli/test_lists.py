"""``geokb entity list``, ``geokb source list``, substring ``entity find``, and query tables
that fit a width, on a copy of the repository's KB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geokb.kb import KnowledgeBase
from tests.cli.test_cli import geokb, repo_kb  # noqa: F401  (repo_kb is a fixture)
from tests.harness.documents import REPO

QUERY = ("SELECT ?c ?quote WHERE { ?c gk:reportedVia id:digi24 ; "
         "gk:evidence/oa:hasSelector/oa:exact ?quote } ORDER BY ?c")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase(REPO / "kb")


def test_entities_by_type_with_claim_counts(kb: KnowledgeBase) -> None:
    bases = kb.entities(type="gk:NavalBase")
    assert [(e["id"], e["label"], e["types"]) for e in bases] == [
        ("tartus-naval-base", "Tartus naval base", ["gk:NavalBase"])]
    assert bases[0]["claims"] == len(kb.status("tartus-naval-base", limit=None)["claims"])
    everything = kb.entities()
    assert len(everything) > 10 and {"tartus-naval-base", "moscow"} <= {
        e["id"] for e in everything}
    assert kb.entities(type="https://w3id.org/geokb/ontology#NavalBase") == bases


def test_find_by_any_part_of_a_name(kb: KnowledgeBase) -> None:
    found = kb.find_entities("naval")
    assert [e["id"] for e in found] == ["tartus-naval-base"]
    assert kb.find_entities("HMEIMIM")[0]["id"] == "hmeimim-airfield"
    # an exact name ranks before names that merely contain it
    syria = [e["id"] for e in kb.find_entities("syria")]
    assert syria[0] == "syria" and len(syria) > 1
    assert kb.find_entities("shaibani")[0]["id"] == "assaad-al-shaibani"
    assert kb.find_entities("al shaibani") == kb.find_entities("Al-Shaibani")
    assert kb.find_entities("atlantis") == [] and kb.find_entities("  ") == []


def test_sources_with_claim_counts(kb: KnowledgeBase) -> None:
    by_id = {s["id"]: s for s in kb.sources()}
    source = by_id["article-syria-russia"]
    assert [s["id"] for s in kb.sources()] == sorted(by_id, key=lambda i: str(
        by_id[i]["title"]).casefold().replace("’", "'"))  # by title
    live = kb.query("SELECT (COUNT(?c) AS ?n) WHERE { ?c prov:wasDerivedFrom "
                    "source:article-syria-russia . FILTER NOT EXISTS "
                    "{ ?c gk:knownUntilPosition ?p } }")
    assert source["claims"] == int(next(iter(live))["n"].value)
    assert source["retracted"] is False


def test_cli_lists(repo_kb: Path) -> None:  # noqa: F811
    code, out, err = geokb(repo_kb, "entity", "list", "--type", "gk:NavalBase")
    assert code == 0, err
    assert out.splitlines() == ["gk:NavalBase (1)",
                                "  tartus-naval-base  Tartus naval base  5 claims", "(1 entity)"]
    code, out, _ = geokb(repo_kb, "entity", "list", "--format", "json")
    assert any(e["id"] == "moscow" for e in json.loads(out))
    code, out, _ = geokb(repo_kb, "entity", "list", "--type", "nope:X")
    assert code == 1
    code, out, _ = geokb(repo_kb, "source", "list")
    lines = out.splitlines()
    assert code == 0 and any(line.startswith("article-syria-russia ") and
                             "Putin’s ‘lost’ ally" in line for line in lines), out
    assert lines[-1] == f"({len(lines) - 1} sources)"
    graded = [s for s in json.loads(geokb(repo_kb, "source", "list", "--format", "json")[1])
              if s["reliability"]]
    for s in graded:  # the grades the sources were given show in the list
        assert any(f"grade {s['reliability']}{s['credibility'] or ''}" in line
                   for line in lines if line.startswith(s["id"] + " ")), out
    code, out, _ = geokb(repo_kb, "entity", "find", "naval")
    assert code == 0 and out.startswith("https://w3id.org/geokb/id/tartus-naval-base  Tartus "
                                        "naval base [gk:NavalBase] 5 claims")
    code, _, err = geokb(repo_kb, "entity", "find", "Atlantis")
    assert code == 1 and "no entity is named 'Atlantis'" in err


def test_query_tables_fit_the_width_and_mark_what_they_cut(repo_kb: Path) -> None:  # noqa: F811
    code, out, _ = geokb(repo_kb, "query", QUERY, "--width", "60")
    lines = out.splitlines()
    assert code == 0 and all(len(line) <= 60 for line in lines), out
    assert lines[2].endswith("…") and "…" in lines[2].split(" | ")[0]
    code, out, _ = geokb(repo_kb, "query", QUERY, "--width", "60", "--wrap")
    assert all(len(line) <= 60 for line in out.splitlines()) and "…" not in out
    quote_column = [line.split("|", 1)[1] for line in out.splitlines()[2:-1]]
    assert "Al-Shaibani said that Syria needs international partnerships" in " ".join(
        part.strip() for part in quote_column)
    code, out, _ = geokb(repo_kb, "query", QUERY, "--width", "0")
    assert "According to Digi24, Al-Shaibani said that Syria needs international " \
           "partnerships" in out and "…" not in out

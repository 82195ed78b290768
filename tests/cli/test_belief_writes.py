"""``geokb entity amend``, ``geokb source retract`` and ``geokb link``: they append the
belief model's events, and a broken rule is one clear line (exit 1), nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import cli_kb, geokb

__all__ = ["cli_kb"]


def events(kb: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (kb / "events.jsonl").read_text().splitlines()]


def test_entity_amend(cli_kb: Path) -> None:
    code, out, err = geokb(cli_kb, "entity", "amend", "hmeimim-airfield", "--remove-alias",
                           "Khmeimim", "--curator-alias", "Khmeimim", "--add-alias",
                           "Hmeimim air base", "--label", "Hmeimim air base", "--reason",
                           "the article does not use Khmeimim")
    assert code == 0, err
    assert out.startswith("amended https://w3id.org/geokb/id/hmeimim-airfield at position 10")
    last = events(cli_kb)[-1]
    assert last["type"] == "EntityAmended" and last["recorded_by"] == "test:cli"
    assert last["payload"] == {
        "entity": "https://w3id.org/geokb/id/hmeimim-airfield",
        "reason": "the article does not use Khmeimim", "label": "Hmeimim air base",
        "add_aliases": ["Hmeimim air base"], "remove_aliases": ["Khmeimim"],
        "curator_aliases": ["Khmeimim"]}
    code, _, err = geokb(cli_kb, "entity", "amend", "syria", "--remove-alias", "Sham",
                         "--reason", "r")
    assert code == 1 and "has no alias 'Sham'" in err and len(err.strip().splitlines()) == 1
    code, _, err = geokb(cli_kb, "entity", "amend", "syria", "--label", "S")
    assert code == 2 and "--reason" in err  # required
    assert len(events(cli_kb)) == 10


def test_source_retract(cli_kb: Path) -> None:
    code, out, err = geokb(cli_kb, "source", "retract", "art", "--reason", "withdrawn")
    assert code == 0, err
    assert out.strip() == ("retracted https://w3id.org/geokb/source/art and 3 claim(s) of it; "
                           "log at position 13")
    assert [e["type"] for e in events(cli_kb)[-4:]] == ["ClaimRetracted"] * 3 + [
        "SourceRetracted"]
    code, out, _ = geokb(cli_kb, "show", "tartus-unclear")
    assert "source retracted: withdrawn" in out
    code, _, err = geokb(cli_kb, "source", "retract", "art", "--reason", "again")
    assert code == 1 and "already retracted" in err


def test_link(cli_kb: Path) -> None:
    code, out, err = geokb(cli_kb, "link", "tartus-unclear", "--contradicts", "hmeimim-unclear",
                           "--confirms", "syria-needs", "--note", "test")
    assert code == 0, err
    assert out.startswith("linked https://w3id.org/geokb/claim/tartus-unclear at position 10")
    c = "https://w3id.org/geokb/claim/"
    assert events(cli_kb)[-1]["payload"] == {
        "claim": c + "tartus-unclear", "contradicts": [c + "hmeimim-unclear"],
        "confirms": [c + "syria-needs"], "note": "test"}
    code, _, err = geokb(cli_kb, "link", "tartus-unclear", "--denies", "syria-needs")
    assert code == 1 and "write contradicts" in err
    code, _, err = geokb(cli_kb, "link", "tartus-unclear")
    assert code == 1 and "give denies, confirms or contradicts" in err

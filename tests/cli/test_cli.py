"""The CLI on real knowledge bases: answers, errors as one line, validation pointers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from geokb.cli import app
from tests.harness.documents import REPO, mini_document

runner = CliRunner()


def geokb(kb: Path, *args: str) -> tuple[int, str, str]:
    # the repository's own kb/ is read in memory: no projection is left in it
    memory = ["--in-memory"] if kb == REPO / "kb" else []
    result = runner.invoke(app, ["--kb", str(kb), *memory, "--as", "test:cli", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def repo_kb(tmp_path: Path) -> Path:
    """A copy of this repository's own kb/, so tests can corrupt it."""
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target, ignore=shutil.ignore_patterns(".lock", ".torn",
                                                                     ".projection"))
    return target


@pytest.fixture
def cli_kb(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    assert geokb(kb, "init")[0] == 0
    claim_file = tmp_path / "claims.yaml"
    claim_file.write_text(yaml.safe_dump(mini_document(), allow_unicode=True), encoding="utf-8")
    code, _, err = geokb(kb, "ingest", str(claim_file))
    assert code == 0, err
    return kb


def test_status_tartus_from_the_repo_kb() -> None:
    code, out, _ = geokb(REPO / "kb", "status", "Tartus")
    assert code == 0
    # the seed article is undated, and so is its status claim: listed apart, not concluded
    assert "status: unknown — 1 undated claim: uncertain (asserted, article-syria-russia)" in out
    assert "notDiscussedAt" in out
    assert "remains unclear" in out
    assert "Putin’s ‘lost’ ally comes crawling back" in out


def test_status_json_schema(cli_kb: Path) -> None:
    code, out, _ = geokb(cli_kb, "status", "khmeimim", "--format", "json")
    assert code == 0
    answer = json.loads(out)
    assert set(answer) == {"entity", "as_of", "valid_at", "at", "assessment", "line", "status",
                           "undated", "conflicts", "claims", "said", "passed_on", "page"}
    claim = answer["claims"][0]
    assert set(claim) >= {"claim", "statement", "modality", "source", "evidence", "speaker",
                          "reported_via", "valid_time", "lifecycle"}
    assert claim["valid_time"]["from"] == {"value": "2025-01", "precision": "month"}


def test_assert_retract_supersede_and_log(cli_kb: Path) -> None:
    code, out, err = geokb(cli_kb, "assert", "--id", "tartus-op", "--subject",
                           "tartus-naval-base", "--predicate", "gk:status", "--object",
                           "status:operational", "--modality", "asserted", "--source", "art",
                           "--quote", "the Tartus base is operational", "--valid-at", "2025-02")
    assert code == 0, err
    assert geokb(cli_kb, "supersede", "tartus-unclear", "--by", "tartus-op", "--reason",
                 "later report")[0] == 0
    # valid in 2025-02 only (a start and an end): settled then, not part of today's answer
    assert "status: settled: operational (Test article)" in geokb(
        cli_kb, "status", "tartus", "--valid-at", "2025-02")[1]
    assert "status: unknown — no status claim" in geokb(cli_kb, "status", "tartus")[1]
    code, out, _ = geokb(cli_kb, "log", "--type", "ClaimSuperseded", "--format", "json")
    [line] = out.splitlines()
    assert json.loads(line)["recorded_by"] == "test:cli"
    code, out, _ = geokb(cli_kb, "show", "tartus-unclear")
    assert "superseded by" in out


def test_errors_are_one_line_without_traceback(cli_kb: Path) -> None:
    code, _, err = geokb(cli_kb, "status", "Atlantis")
    assert code == 1
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert "no entity is named 'Atlantis'" in err
    code, _, err = geokb(cli_kb, "assert", "--subject", "tartus-naval-base", "--predicate",
                         "gk:status", "--object", "status:operational", "--modality", "asserted",
                         "--source", "art", "--quote", "words nobody wrote")
    assert code == 1 and "quote not found" in err


def test_ambiguous_name_lists_candidates(cli_kb: Path) -> None:
    geokb(cli_kb, "entity", "add", "--id", "tartus-city", "--type", "gk:City", "--label",
          "Tartus city", "--alias", "Tartus")
    code, _, err = geokb(cli_kb, "status", "tartus")
    assert code == 1 and "ambiguous" in err and "tartus-city" in err


def test_query_formats(cli_kb: Path) -> None:
    q = "SELECT ?c WHERE { ?c gk:modality modality:quoted }"
    code, out, _ = geokb(cli_kb, "query", q)
    assert code == 0 and "syria-needs" in out and "(1 rows)" in out
    code, out, _ = geokb(cli_kb, "query", q, "--format", "json")
    assert json.loads(out)["results"]["bindings"][0]["c"]["value"].endswith("/syria-needs")
    code, out, _ = geokb(cli_kb, "query", q, "--format", "csv")
    assert out.splitlines()[0] == "c"
    code, _, err = geokb(cli_kb, "query", "SELECT WHERE {")
    assert code == 1 and "SPARQL syntax error" in err


def test_as_of_before_a_retraction(cli_kb: Path) -> None:
    position = int(geokb(cli_kb, "log")[1].splitlines()[-1].split()[0])
    assert geokb(cli_kb, "retract", "tartus-unclear", "--reason", "wrong")[0] == 0
    assert "status: unknown — no status claim" in geokb(cli_kb, "status", "tartus")[1]
    assert "1 undated claim: uncertain (asserted, art)" in geokb(cli_kb, "status", "tartus",
                                                                 "--as-of", str(position))[1]


def test_export_and_rebuild(cli_kb: Path, tmp_path: Path) -> None:
    code, out, _ = geokb(cli_kb, "rebuild")
    assert code == 0 and len(out.strip()) == 64
    assert geokb(cli_kb, "rebuild", "--expect", out.strip())[0] == 0
    assert geokb(cli_kb, "rebuild", "--expect", "0" * 64)[0] == 1
    for fmt in ("trig", "nquads", "jsonld"):
        target = tmp_path / f"export.{fmt}"
        assert geokb(cli_kb, "export", "--format", fmt, "-o", str(target))[0] == 0
        assert target.stat().st_size > 1000


def test_repo_kb_validates_and_checks_pass() -> None:
    code, out, _ = geokb(REPO / "kb", "validate")
    assert code == 0, out
    assert geokb(REPO / "kb", "verify")[0] == 0
    code, out, _ = geokb(REPO / "kb", "check")
    assert code == 0 and "0 failed" in out


def _rewrite_event(kb: Path, index: int, edit: dict[str, object]) -> int:
    """Replace the payload fields of the index-th ClaimAsserted and re-seal the whole chain.

    This models a hand edit by someone who also fixed up the hashes, so that only the
    validator (not the hash chain) can catch it.
    """
    from geokb.log.codec import content_hash, decode, encode
    from geokb.log.events import GENESIS_HASH, RecordedEvent

    path = kb / "events.jsonl"
    events = [decode(line + b"\n") for line in path.read_bytes().splitlines()]
    claims = [i for i, e in enumerate(events) if e.type == "ClaimAsserted"]
    target = claims[index]
    payload = dict(events[target].payload)
    for key, value in edit.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    prev = GENESIS_HASH
    out = []
    for i, e in enumerate(events):
        e = RecordedEvent(**{**e.__dict__, "payload": payload if i == target else e.payload,
                             "prev": prev, "hash": ""})
        from geokb.log.codec import envelope_of

        e = RecordedEvent(**{**e.__dict__, "hash": content_hash(envelope_of(e))})
        prev = e.hash
        out.append(encode(e))
    path.write_bytes(b"".join(out))
    return target + 1


def _assert_validate_points_at_first_claim(kb: Path, edit: dict[str, object],
                                           message: str) -> None:
    """Edit the first ClaimAsserted; ``validate`` must name its line and say ``message``."""
    line = _rewrite_event(kb, 0, edit)
    code, out, _ = geokb(kb, "validate", "--format", "annotations")
    assert code == 1
    assert any(row.startswith(f"{kb.name}/events.jsonl:{line}:") or
               f"events.jsonl:{line}:" in row for row in out.splitlines()), out
    assert message in out.lower() or message in out


@pytest.mark.parametrize("edit, message", [
    ({"evidence": None}, "evidence"),
    ({"object": {"iri": "https://w3id.org/geokb/status/vanished"}}, "vanished"),
])
def test_validate_points_at_the_bad_event(repo_kb: Path, edit: dict[str, object],
                                          message: str) -> None:
    _assert_validate_points_at_first_claim(repo_kb, edit, message)


def test_validate_points_at_a_quote_not_in_the_source(repo_kb: Path) -> None:
    from geokb.log.codec import decode

    first = next(decode(x + b"\n")
                 for x in (repo_kb / "events.jsonl").read_bytes().splitlines()
                 if b'"ClaimAsserted"' in x)
    evidence = first.payload["evidence"]
    # a quote of the right length whose words are not in the source at that span
    wrong = dict(evidence, quote="X" * (evidence["end"] - evidence["start"]))
    _assert_validate_points_at_first_claim(repo_kb, {"evidence": wrong}, "quote")


def test_unknown_status_points_at_the_event(repo_kb: Path) -> None:
    from geokb.log.codec import decode

    claims = [decode(x + b"\n") for x in (repo_kb / "events.jsonl").read_bytes().splitlines()
              if b'"ClaimAsserted"' in x]
    index = next(i for i, e in enumerate(claims) if e.payload["predicate"].endswith("#status"))
    line = _rewrite_event(repo_kb, index, {"object": {"iri": "https://w3id.org/geokb/status/lost"}})
    code, out, _ = geokb(repo_kb, "validate", "--format", "json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert any(p["line"] == line and "status/lost" in p["message"] for p in problems), problems


def test_verify_names_an_edited_event(repo_kb: Path) -> None:
    path = repo_kb / "events.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = lines[4].replace("Tartus", "Tartous", 1) if "Tartus" in lines[4] else \
        lines[4].replace('"label":"', '"label":"X', 1)
    path.write_text("".join(lines), encoding="utf-8")
    code, out, _ = geokb(repo_kb, "verify")
    assert code == 1
    assert "events.jsonl:5:" in out and "edited" in out


def test_validate_cannot_run_exits_2(repo_kb: Path) -> None:
    (repo_kb / "events.jsonl").unlink()
    (repo_kb / "events.jsonl").mkdir()  # unreadable as a file
    code, _, err = geokb(repo_kb, "validate")
    assert code == 2 and "Traceback" not in err


def test_validate_bad_turtle_exits_2(repo_kb: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    shutil.copytree(REPO / "ontology", home / "ontology")
    shutil.copytree(REPO / "shapes", home / "shapes")
    (home / "shapes" / "broken.ttl").write_text("this is not turtle .", encoding="utf-8")
    monkeypatch.setenv("GEOKB_HOME", str(home))
    from geokb.ontology import load_ontology
    from geokb.shacl.validation import load_shapes

    load_ontology.cache_clear()
    load_shapes.cache_clear()
    try:
        code, _, err = geokb(repo_kb, "validate")
        assert code == 2 and "cannot parse Turtle" in err
    finally:
        load_ontology.cache_clear()
        load_shapes.cache_clear()

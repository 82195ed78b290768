"""`geokb draft`: a claim file proposed from an article, with nothing appended."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from geokb.cli import app
from tests.harness.documents import REPO

FIXTURE = REPO / "tests" / "draft" / "fixtures" / "port-closure.txt"


def test_draft_writes_a_reviewable_file_and_appends_nothing(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb)
    before = (kb / "events.jsonl").read_bytes()
    out = tmp_path / "draft.yaml"
    result = CliRunner().invoke(app, ["--kb", str(kb), "draft", str(FIXTURE),
                                      "--published", "2025-09-17", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    quoted = [c for c in document["claims"] if c.get("modality") == "quoted"]
    assert quoted and all(c.get("speakers") or c.get("speaker") for c in quoted)
    text = FIXTURE.read_text(encoding="utf-8")
    assert all(c["quote"] in text for c in document["claims"])
    # entities already in the KB are matched, not proposed again
    assert "syria" not in {e["id"] for e in document.get("entities", [])}
    assert (kb / "events.jsonl").read_bytes() == before


def test_draft_of_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb)
    result = CliRunner().invoke(app, ["--kb", str(kb), "draft", str(tmp_path / "nope.txt")])
    assert result.exit_code in (1, 2)
    assert "nope.txt" in result.output

"""One process, many invocations: nothing one run of ``app`` is given leaks into the next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from geokb.cli import app
from tests.harness.documents import mini_document


@pytest.fixture
def two_kbs(tmp_path: Path) -> tuple[Path, Path]:
    runner = CliRunner()
    kbs = tmp_path / "a", tmp_path / "b"
    claim_file = tmp_path / "claims.yaml"
    claim_file.write_text(yaml.safe_dump(mini_document(), allow_unicode=True), encoding="utf-8")
    for kb in kbs:
        assert runner.invoke(app, ["--kb", str(kb), "init"]).exit_code == 0
    result = runner.invoke(app, ["--kb", str(kbs[0]), "ingest", str(claim_file)])
    assert result.exit_code == 0, result.stderr
    return kbs


def test_kb_of_one_run_is_not_the_next_runs(two_kbs: tuple[Path, Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)  # no ./kb here
    monkeypatch.delenv("GEOKB_KB", raising=False)
    first = runner.invoke(app, ["--kb", str(two_kbs[0]), "status", "Tartus"])
    assert first.exit_code == 0, first.stderr
    second = runner.invoke(app, ["status", "Tartus"])
    assert second.exit_code == 2, second.stdout
    assert "no knowledge base at kb" in second.stderr


def test_agent_of_one_run_is_not_the_next_runs(two_kbs: tuple[Path, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.delenv("GEOKB_AGENT", raising=False)
    monkeypatch.setenv("USER", "someone")
    kb = str(two_kbs[1])
    add = ["entity", "add", "--type", "gk:Person", "--label"]
    assert runner.invoke(app, ["--kb", kb, "--as", "alice", *add, "A", "--id", "a"]
                         ).exit_code == 0
    assert runner.invoke(app, ["--kb", kb, *add, "B", "--id", "b"]).exit_code == 0
    log = runner.invoke(app, ["--kb", kb, "log", "--format", "json"])
    agents = [json.loads(line)["recorded_by"] for line in log.stdout.splitlines()]
    assert agents == ["alice", "cli:someone"]


def test_projection_of_one_run_is_not_the_next_runs(two_kbs: tuple[Path, Path],
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.delenv("GEOKB_PROJECTION", raising=False)
    projection = tmp_path / "projection"
    kb = str(two_kbs[0])
    assert runner.invoke(app, ["--kb", kb, "--projection", str(projection), "rebuild"]
                         ).exit_code == 0
    assert projection.is_dir()
    # the second run keeps its projection in memory: were it given the first one's, it
    # would find another history there and clear it
    result = runner.invoke(app, ["--kb", str(two_kbs[1]), "status", "Tartus"])
    assert result.exit_code == 1 and "no entity is named 'Tartus'" in result.stderr
    from geokb.projection.store import ProjectionStore

    assert ProjectionStore(projection).position == 9

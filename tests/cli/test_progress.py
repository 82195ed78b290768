"""Progress bars: on stderr when asked for (or on a terminal), nothing extra otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from geokb.cli import app
from geokb.cli.progress import Bars
from tests.harness.documents import REPO, mini_document

runner = CliRunner()
BAR = "━"  # rich's bar


@pytest.fixture
def claim_file(tmp_path: Path) -> Path:
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(mini_document(), allow_unicode=True), encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--kb", str(REPO / "kb"), "--in-memory", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [("rebuild",), ("validate",), ("export", "--format",
                                                                     "nquads")])
def test_nothing_extra_when_stderr_is_not_a_terminal(command: tuple[str, ...]) -> None:
    code, out, err = run(*command, env={"GEOKB_PROGRESS": ""})
    assert code == 0 and err == "" and BAR not in out


@pytest.mark.parametrize("command, stage", [
    (("rebuild",), "replaying the log"),
    (("validate",), "replaying with every rule"),
    (("export", "--format", "nquads"), "reading quads"),
    (("status", "Tartus"), "catching up with the log"),
])
def test_forced_bars_go_to_stderr_only(command: tuple[str, ...], stage: str) -> None:
    plain = run(*command)
    code, out, err = run("--progress", *command)
    assert code == 0
    assert stage in err and BAR in err
    assert out == plain[1]  # stdout carries the answer alone


def test_the_environment_variable_forces_them_and_no_progress_wins() -> None:
    assert "replaying the log" in run("rebuild", env={"GEOKB_PROGRESS": "1"})[2]
    assert run("--no-progress", "rebuild", env={"GEOKB_PROGRESS": "1"})[2] == ""


def test_ingest_shows_its_stages(tmp_path: Path, claim_file: Path) -> None:
    kb = tmp_path / "kb"
    assert runner.invoke(app, ["--kb", str(kb), "init"]).exit_code == 0
    result = runner.invoke(app, ["--kb", str(kb), "--progress", "ingest", str(claim_file)])
    assert result.exit_code == 0, result.stderr
    for stage in ("reading claims", "checking rules and shapes", "applying"):
        assert stage in result.stderr
    assert result.stdout.startswith("ingested 9 events")


def test_bars_off_give_no_callback() -> None:
    with Bars(enabled=False) as progress:
        assert progress is None


class _Terminal:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_by_default_bars_follow_whether_stderr_is_a_terminal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from geokb.cli.progress import wanted

    monkeypatch.setattr("sys.stderr", _Terminal(True))
    assert wanted(None) and not wanted(False)
    monkeypatch.setattr("sys.stderr", _Terminal(False))
    assert not wanted(None) and wanted(True)

"""The one edge: errors to exit codes, environment variables, --version, --help."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geokb.cli import app
from geokb.cli.errors import EXIT_CODES, TABLE, exit_code_for
from geokb.errors import AppendConflict, CorruptLog, QueryRefused, SettingsError, Unavailable
from geokb.kb import KnowledgeBase
from tests.harness.documents import REPO

runner = CliRunner()


def test_the_table_gives_every_documented_class_one_code() -> None:
    codes = {c.code for c in EXIT_CODES}
    assert all(code.code in codes for code in TABLE.values())
    assert exit_code_for(QueryRefused("SERVICE")) == 1
    assert exit_code_for(CorruptLog("bad line", path="kb/events.jsonl", line=3)) == 1
    assert exit_code_for(AppendConflict(1, 2)) == 4
    assert exit_code_for(SettingsError("x")) == exit_code_for(Unavailable("y")) == 2
    assert exit_code_for(FileNotFoundError(2, "No such file")) == 2


def test_a_bug_exits_3_with_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: KnowledgeBase, name: str, **_: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(KnowledgeBase, "status", broken)
    result = runner.invoke(app, ["--kb", str(REPO / "kb"), "--in-memory", "status", "Tartus"])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "KeyError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("geokb: internal error")


def test_an_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: KnowledgeBase, name: str, **_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(KnowledgeBase, "status", interrupted)
    result = runner.invoke(app, ["--kb", str(REPO / "kb"), "--in-memory", "status", "Tartus"])
    assert result.exit_code == 130 and result.stderr == "geokb: interrupted\n"


def test_usage_errors_stay_click_s_and_exit_2() -> None:
    result = runner.invoke(app, ["--kb", str(REPO / "kb"), "--in-memory", "status"])
    assert result.exit_code == 2 and "Missing argument" in result.stderr
    result = runner.invoke(app, ["--kb", str(REPO / "kb"), "--in-memory", "log", "--limit", "0"])
    assert result.exit_code == 2 and "Invalid value" in result.stderr


def test_no_kb_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--kb", str(tmp_path / "nowhere"), "status", "Tartus"])
    assert result.exit_code == 2
    assert result.stderr == (f"geokb: error: no knowledge base at {tmp_path / 'nowhere'}/ "
                             "(run 'geokb init' or pass --kb)\n")


def test_a_log_url_that_is_not_postgresql_exits_2() -> None:
    result = runner.invoke(app, ["--log", "mysql://h/db", "status", "Tartus"])
    assert result.exit_code == 2 and "not a PostgreSQL URL" in result.stderr


def test_global_options_come_from_the_environment(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    env = {"GEOKB_KB": str(kb), "GEOKB_AGENT": "env:agent"}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    assert (kb / "events.jsonl").exists()
    added = runner.invoke(app, ["entity", "add", "--id", "x", "--type", "gk:Person",
                                "--label", "X"], env=env)
    assert added.exit_code == 0, added.stderr
    log = runner.invoke(app, ["log"], env=env)
    assert "env:agent" in log.stdout
    # an option given on the command line wins over its variable
    other = runner.invoke(app, ["--kb", str(tmp_path / "none"), "log"], env=env)
    assert other.exit_code == 2


def test_help_names_the_environment_variables() -> None:
    result = runner.invoke(app, ["--help"], env={"GEOKB_LOG": "postgresql://u:secret@h/db"})
    assert result.exit_code == 0
    for var in ("GEOKB_KB", "GEOKB_PROJECTION", "GEOKB_LOG", "GEOKB_AGENT", "GEOKB_PROGRESS"):
        assert var in result.stdout
    assert "secret" not in result.stdout  # the variable's name is shown, never its value


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"geokb {metadata.version('geokb')}\n"

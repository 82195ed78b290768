"""docs/cli.md is generated from the app: it must say what the code does."""

from __future__ import annotations

from geokb.cli.docs import COMMAND, DEFAULT_PATH, render
from tests.harness.documents import REPO


def test_docs_cli_md_is_up_to_date() -> None:
    assert DEFAULT_PATH == REPO / "docs" / "cli.md"
    current = DEFAULT_PATH.read_text(encoding="utf-8") if DEFAULT_PATH.exists() else ""
    assert current == render(), f"docs/cli.md is out of date: run `{COMMAND}` and commit it"


def test_docs_name_every_command_env_var_and_exit_code() -> None:
    text = render()
    for name in ("status", "timeline", "show", "query", "log", "assert", "ingest", "retract",
                 "supersede", "source add", "entity find", "verify", "validate", "check",
                 "rebuild", "export", "migrate", "serve", "init"):
        assert f"### `geokb {name}`" in text, name
    for var in ("GEOKB_KB", "GEOKB_PROJECTION", "GEOKB_LOG", "GEOKB_AGENT", "GEOKB_PROGRESS"):
        assert f"`{var}`" in text
    for code in (0, 1, 2, 3, 4, 130):
        assert f"\n| {code} |" in text

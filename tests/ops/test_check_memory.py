"""``geokb check`` remembers its last whole run beside the on-disk projection: a check that
passed is asked next time only about what changed since, and still sees a violation the
new events bring; a failed, new or edited check runs whole, and so does ``--whole``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geokb.cli import app
from geokb.kb import KnowledgeBase
from geokb.log.events import Event
from geokb.log.file import FileEventStore
from tests.harness.documents import REPO

SOURCE = "https://w3id.org/geokb/source/article-syria-russia"
CITES = "no-live-claim-cites-retracted-source"


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target)
    return target


def check(kb_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--kb", str(kb_dir), "check", *args])


def scopes(output: str) -> dict[str, str]:
    """check name -> what it was asked about ('' for the whole KB)."""
    out = {}
    for line in output.splitlines():
        if line.startswith(("ok   ", "FAIL ")) and ".rq:" in line:
            name = Path(line.split()[1].rstrip(":")).stem
            out[name] = line.split("(", 1)[1].rstrip(")") if line.endswith(")") else ""
    return out


def test_a_second_run_asks_only_about_what_changed_and_still_sees_a_new_violation(
        kb_copy: Path) -> None:
    first = check(kb_copy)
    assert first.exit_code == 0, first.output
    assert set(scopes(first.output).values()) == {""}  # nothing remembered yet: all whole
    assert (kb_copy / ".projection" / "geokb-checks.json").is_file()
    head = KnowledgeBase(kb_copy, catch_up=False).head().split()[0]
    again = check(kb_copy)
    assert again.exit_code == 0, again.output
    assert set(scopes(again.output).values()) == {
        f"changed since position {head}, where it last passed"}
    # a retraction that leaves the source's claims live: the restricted check sees them
    FileEventStore(kb_copy).append([Event("SourceRetracted", {
        "source": SOURCE, "reason": "test: withdrawn"})], expected_position=None,
        recorded_by="test")
    third = check(kb_copy)
    assert third.exit_code == 1, third.output
    assert f"FAIL {kb_copy}/checks/{CITES}.rq" in third.output
    assert scopes(third.output)[CITES].startswith("changed since position")
    fourth = check(kb_copy)  # it failed: not remembered, so asked about the whole KB
    assert fourth.exit_code == 1 and scopes(fourth.output)[CITES] == ""


def test_whole_and_an_edited_check_ignore_the_memory(kb_copy: Path) -> None:
    assert check(kb_copy).exit_code == 0
    assert set(scopes(check(kb_copy, "--whole").output).values()) == {""}
    edited = kb_copy / "checks" / f"{CITES}.rq"
    edited.write_text(edited.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    found = scopes(check(kb_copy).output)
    assert found[CITES] == ""
    assert all(v.startswith("changed since") for k, v in found.items() if k != CITES)

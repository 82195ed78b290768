"""The README's CLI tour, run as its reader would: on a scratch copy of ``kb/``
(``cp -r kb /tmp/kb-tour`` and ``GEOKB_KB=/tmp/kb-tour``). Every command exits 0, and the
repository's own ``kb/`` is left byte for byte as it was."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from typer.testing import CliRunner

from geokb.cli import app
from tests.harness.documents import REPO

DIGI24_QUOTES = ("SELECT ?c ?quote WHERE { ?c gk:reportedVia id:digi24 ; "
                 "gk:evidence/oa:hasSelector/oa:exact ?quote }")

#: The tour, in the README's order (after `cp -r kb /tmp/kb-tour`, `export GEOKB_KB=…`).
TOUR: list[list[str]] = [
    ["status", "Tartus"],
    ["status", "Tartus", "--limit", "2"],
    ["status", "khmeimim", "--format", "json"],
    ["timeline", "Bashar al-Assad"],
    ["show", "syria-needs-international-partnerships"],
    ["entity", "list"],
    ["entity", "list", "--type", "gk:NavalBase"],
    ["entity", "find", "naval"],
    ["source", "list"],
    ["query", DIGI24_QUOTES, "--width", "100"],
    ["query", DIGI24_QUOTES, "--width", "100", "--wrap"],
    ["log", "--type", "ClaimAsserted", "--about", "tartus-naval-base"],
    ["conflicts"],
    ["retract", "tartus-key-role", "--reason", "misread"],
    ["status", "Tartus", "--as-of", "83"],
    ["status", "Hmeimim", "--valid-at", "2014"],
    ["validate"],
    ["verify"],
    ["check"],
    ["rebuild"],
    ["export", "--format", "trig"],
]


def _digests(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_the_tour_runs_on_a_scratch_copy_and_leaves_the_repository_clean(
        tmp_path: Path) -> None:
    before = _digests(REPO / "kb")
    scratch = tmp_path / "kb-tour"
    shutil.copytree(REPO / "kb", scratch,  # cp -r kb /tmp/kb-tour
                    ignore=shutil.ignore_patterns(".projection"))
    runner = CliRunner()
    env = {"GEOKB_KB": str(scratch), "GEOKB_AGENT": "analyst:tour", "COLUMNS": "100"}
    outputs = []
    for command in TOUR:
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
        outputs.append(result.stdout)
    said = dict(zip((" ".join(c) for c in TOUR), outputs, strict=True))
    assert "claim: tartus-key-role" in said["status Tartus"]
    assert "claim: tartus-key-role" in said["status Tartus --as-of 83"]  # as known before
    now = runner.invoke(app, ["status", "Tartus"], env=env).stdout
    assert "claim: tartus-key-role" not in now  # the retraction left the current view
    assert "tartus-naval-base" in said["entity find naval"]
    assert "analyst:tour" in (scratch / "events.jsonl").read_text(encoding="utf-8")
    assert _digests(REPO / "kb") == before
    assert _digests(scratch) != before  # the retraction went to the copy

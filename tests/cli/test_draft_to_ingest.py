"""The desk end to end: draft a report, review the draft as an analyst would, dry-run it,
ingest it, and find what it said in the KB — on a scratch copy of ``kb/``.

The review is what the draft's comments ask for: choose each TODO subject and predicate,
drop the headline (framing, not a report), give the new place its type (the port,
closed to foreign warships, as a naval facility: only facilities and agreements have a
status). Nothing else of
the draft is touched, so every quote, speaker, ``said_on``, ``basis`` and ``reported_via``
that reaches the log is the drafter's own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from geokb.draft.drafter import _BASIS
from geokb.write.attribution import BASES
from tests.cli.test_cli import geokb
from tests.harness.documents import REPO

FIXTURE = REPO / "tests" / "draft" / "fixtures" / "port-closure.txt"

#: The analyst's choices for each drafted claim id: subject, predicate, object (None: keep
#: the draft's object). A claim not listed is dropped from the file.
REVIEW: dict[str, tuple[str, str, str | None]] = {
    "syria-closed-port-latakia-foreign": ("latakia", "gk:status", "status:closed"),
    "foreign-vessel-dock-here-until": ("latakia", "gk:status", "status:closed"),
    "russian-defence-ministry-denied-port": ("latakia", "gk:status", "status:closed"),
    "remains-unclear-whether-closure-permanent": ("latakia", "gk:status", "status:uncertain"),
}


def _review(draft: dict[str, Any]) -> dict[str, Any]:
    for entity in draft["entities"]:
        if entity["id"] == "latakia":  # the report is about the port, closed to warships
            entity["types"], entity["label"] = ["gk:NavalBase"], "Port of Latakia"
    kept = []
    for claim in draft["claims"]:
        choice = REVIEW.get(claim["id"])
        if choice is None:
            continue
        claim["subject"], claim["predicate"], obj = choice
        if obj is not None:
            claim["object"] = obj
        kept.append(claim)
    draft["claims"] = kept
    return draft


def test_every_basis_the_drafter_proposes_is_one_ingest_accepts() -> None:
    assert {name for _, name in _BASIS} <= set(BASES)


def test_draft_review_dry_run_ingest_and_read_back(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "kb", kb)
    log = kb / "events.jsonl"
    before = log.read_bytes()
    draft_file = tmp_path / "latakia.yaml"

    code, out, err = geokb(kb, "draft", str(FIXTURE), "--published", "2025-09-17",
                           "-o", str(draft_file))
    assert code == 0, err
    assert log.read_bytes() == before  # a draft registers nothing

    # as drafted, ingest refuses the placeholders — all of them at once, each at its line
    code, out, err = geokb(kb, "ingest", str(draft_file), "--dry-run")
    assert code != 0
    todo_lines = [line for line in err.splitlines() if "TODO-choose" in line]
    assert len(todo_lines) >= 5 and all(line.startswith(f"geokb: error: {draft_file}:")
                                        or "latakia.yaml:" in line for line in todo_lines), err
    assert log.read_bytes() == before

    reviewed = _review(yaml.safe_load(draft_file.read_text(encoding="utf-8")))
    draft_file.write_text(yaml.safe_dump(reviewed, allow_unicode=True, sort_keys=False),
                          encoding="utf-8")

    code, out, err = geokb(kb, "ingest", str(draft_file), "--dry-run")
    assert code == 0, err + out
    assert out.startswith("dry run: would append"), out
    assert "id:latakia" in out
    assert log.read_bytes() == before  # a dry run writes nothing

    code, out, err = geokb(kb, "ingest", str(draft_file))
    assert code == 0, err + out
    assert len(log.read_bytes()) > len(before)

    code, out, err = geokb(kb, "status", "latakia", "--format", "json")
    assert code == 0, err
    status = json.loads(out)
    claims = {c["claim"].rsplit("/", 1)[-1].removeprefix("claim:"): c
              for c in _claims_of(status)}
    # the officials' report and the ministry's denial both reached the KB
    assert any("syria-closed-port-latakia-foreign" in k for k in claims), claims
    assert any("russian-defence-ministry-denied-port" in k for k in claims), claims

    code, out, err = geokb(kb, "conflicts")
    assert code == 0, err
    # the ministry's denial contests the officials' report, from the day they spoke
    assert "Port of Latakia status: contested since 2025-09-15: closed (two Syrian officials" \
        in out, out
    assert "vs not closed (Russian Defence Ministry" in out, out

    code, out, err = geokb(kb, "verify")
    assert code == 0, err
    code, out, err = geokb(kb, "validate")
    assert code == 0, err + out


def _claims_of(status: Any) -> list[dict[str, Any]]:
    """Every claim record of a ``status --format json`` answer, wherever it nests."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("claim"), str):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(status)
    return found

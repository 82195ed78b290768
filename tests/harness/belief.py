"""A copy of the seed KB (``kb/``: the seed article and the belief-model upgrade) with the
second report (tests/fixtures/second-report/) ingested by ``geokb ingest``'s own path: its
seven events come right after the seed's head (``expected.md`` numbers them 84–90, before
the upgrade moved the positions)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from geokb.kb import KnowledgeBase
from tests.harness.documents import REPO

FIXTURE = REPO / "tests" / "fixtures" / "second-report"
#: the seed KB's head (83 events, then the belief-model upgrade of kb/ingest/2026-12-02-…)
SEED_HEAD = len((REPO / "kb" / "events.jsonl").read_bytes().splitlines())
HEAD = SEED_HEAD + 7


def seed_copy(directory: Path) -> Path:
    """``kb/``'s log and source texts, copied into ``directory`` (returned)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "kb" / "events.jsonl", directory / "events.jsonl")
    shutil.copytree(REPO / "kb" / "sources", directory / "sources", dirs_exist_ok=True)
    return directory


def document() -> dict[str, Any]:
    loaded = yaml.safe_load((FIXTURE / "second-report.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def ingest_second_report(kb: KnowledgeBase) -> None:
    """Ingest the fixture on ``kb`` (at the seed's head)."""
    assert kb.position == SEED_HEAD
    doc = document()
    kb.ingest(doc, base_dir=FIXTURE, recorded_by=doc["recorded_by"])
    assert kb.position == HEAD


def build(directory: Path, *, projection: Path | None = None) -> KnowledgeBase:
    """A KB in ``directory``: the seed plus the second report (head :data:`HEAD`)."""
    kb = KnowledgeBase(seed_copy(directory), projection_path=projection)
    ingest_second_report(kb)
    return kb

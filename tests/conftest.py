"""Shared fixtures: small real knowledge bases in temporary directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geokb.kb import KnowledgeBase
from tests.harness.documents import ARTICLE, REPO, SHARED, mini_document

__all__ = ["ARTICLE", "REPO", "SHARED", "mini_document"]


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "kb"
    directory.mkdir()
    return directory


@pytest.fixture
def mini_kb(kb_dir: Path) -> KnowledgeBase:
    kb = KnowledgeBase(kb_dir)
    kb.ingest(mini_document(), base_dir=kb_dir)
    return kb


@pytest.fixture
def make_kb(tmp_path: Path) -> Callable[..., KnowledgeBase]:
    counter = iter(range(1000))

    def make(**options: Any) -> KnowledgeBase:
        directory = tmp_path / f"kb{next(counter)}"
        directory.mkdir()
        return KnowledgeBase(directory, **options)

    return make

"""The HTTP tests' fixture KB is what they expect."""

from __future__ import annotations

from pathlib import Path

from tests.harness.http import build_kb


def test_fixture_kb(tmp_path: Path) -> None:
    kb = build_kb(tmp_path / "kb")
    assert kb.position == 6
    assert kb.status("Tartus")["undated"][0].endswith("/tartus-status")

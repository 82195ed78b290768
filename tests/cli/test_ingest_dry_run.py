"""``geokb ingest --dry-run`` and the error lines of ``geokb ingest``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import cli_kb, geokb  # noqa: F401  (cli_kb is a fixture)

ADD = """\
claims:
  - id: tartus-operational
    subject: tartus-naval-base
    predicate: gk:status
    object: status:operational
    modality: asserted
    source: art
    quote: Later reports say the Tartus base is operational
  - id: shaibani-denies-unclear
    subject: tartus-naval-base
    predicate: gk:status
    object: status:uncertain
    modality: denied
    speaker: al-shaibani
    source: art
    quote: Their future remains unclear
    denies: [tartus-unclear]
"""

BAD = """\
claims:
  - id: typo
    subject: tartus-navalbase
    predicate: gk:status
    object: status:operational
    modality: asserted
    source: art
    quote: Later reports say the Tartus base is operational
  - subject: tartus-naval-base
    predicate: gk:status
    object: status:operational
    modality: asserted
    source: art
    quote: not in the article
"""


def test_dry_run_prints_the_events_and_effects_and_writes_nothing(cli_kb: Path,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "add.yaml"
    path.write_text(ADD, encoding="utf-8")
    before = (cli_kb / "events.jsonl").read_bytes()
    code, out, err = geokb(cli_kb, "ingest", str(path), "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("dry run: would append 2 events")
    assert "ClaimAsserted" in lines[1] and "claim:tartus-operational" in lines[1]
    [effect] = [line for line in lines if line.startswith("  id:tartus-naval-base: ")]
    assert " → contested" in effect and effect.endswith("  CONTESTED"), out
    assert "conflicts it would raise:\n  id:tartus-naval-base gk:status (denial): " \
           "claim:shaibani-denies-unclear, claim:tartus-unclear" in out, out
    assert lines[-1] == "nothing was written"
    assert (cli_kb / "events.jsonl").read_bytes() == before
    code, out, _ = geokb(cli_kb, "ingest", str(path), "--dry-run", "--format", "json")
    plan = json.loads(out)
    assert plan["events"][0]["type"] == "ClaimAsserted"
    assert plan["effects"][0]["contested"] is True
    assert (cli_kb / "events.jsonl").read_bytes() == before
    assert geokb(cli_kb, "ingest", str(path))[0] == 0
    assert (cli_kb / "events.jsonl").read_bytes() != before


def test_every_problem_is_one_line_at_its_file_and_line(cli_kb: Path,  # noqa: F811
                                                        tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    before = (cli_kb / "events.jsonl").read_bytes()
    for extra in ((), ("--dry-run",)):
        code, out, err = geokb(cli_kb, "ingest", str(path), *extra)
        assert code == 1 and out == ""
        lines = err.splitlines()
        assert len(lines) == 3, err
        assert lines[0].startswith(f"geokb: error: {path}:2: claim typo: unknown entity ")
        assert lines[0].endswith("did you mean tartus-naval-base?")
        assert lines[1] == (f"geokb: error: {path}:9: claim #2 (no id): quote not found "
                            "verbatim in the source: 'not in the article'")
        assert lines[2] == f"geokb: {path}: 2 problems; nothing was appended"
    assert (cli_kb / "events.jsonl").read_bytes() == before

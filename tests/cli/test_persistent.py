"""The CLI keeps its projection on disk beside the log: built once, reused, checked.

Real parts only: a copy of the repository's kb/, the real RocksDB store in
``KB/.projection``, a real ``geokb serve`` subprocess holding it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from geokb.cli import app
from geokb.kb import KnowledgeBase
from geokb.projection.logmark import MARK_NAME
from tests.harness.documents import REPO
from tests.harness.http import serve

runner = CliRunner()
GEOKB = [sys.executable, "-c", "from geokb.cli.main import main; main()"]
ASK_PORT = "ASK { <https://w3id.org/geokb/id/persist-test-port> ?p ?o }"
ENTITY = ["entity", "add", "--id", "persist-test-port", "--type", "gk:City",
          "--label", "Persistent test port"]


def geokb(kb: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--kb", str(kb), "--as", "test:persist", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def mark(kb: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((kb / ".projection" / MARK_NAME).read_text())
    return data


def head(kb: Path) -> int:
    return len((kb / "events.jsonl").read_bytes().splitlines())


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(REPO / "kb", target, ignore=shutil.ignore_patterns(
        ".lock", ".torn", ".pending", ".projection"))
    return target


@pytest.fixture
def caught_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many events each catch-up of the run applied (observed, not replaced)."""
    counts: list[int] = []
    original = KnowledgeBase.catch_up

    def observed(self: KnowledgeBase, **options: Any) -> int:
        n = original(self, **options)
        counts.append(n)
        return n

    monkeypatch.setattr(KnowledgeBase, "catch_up", observed)
    yield counts


def test_the_first_run_builds_the_projection_and_the_next_ones_reuse_it(
        kb: Path, caught_up: list[int]) -> None:
    code, first, err = geokb(kb, "status", "Tartus")
    assert code == 0, err
    assert caught_up == [head(kb)]  # the whole log, once
    assert mark(kb)["position"] == head(kb)
    caught_up.clear()
    code, second, _ = geokb(kb, "status", "Tartus")
    assert code == 0 and second == first
    assert caught_up == [0]  # nothing replayed
    # a write appends and applies its one event; the next run again replays nothing
    caught_up.clear()
    assert geokb(kb, *ENTITY)[0] == 0
    assert mark(kb)["position"] == head(kb)
    caught_up.clear()
    code, out, _ = geokb(kb, "query", ASK_PORT)
    assert code == 0 and "true" in out
    assert caught_up == [0]


def test_the_projection_catches_up_with_events_another_writer_appended(
        kb: Path, tmp_path: Path, caught_up: list[int]) -> None:
    assert geokb(kb, "status", "Tartus")[0] == 0
    other = KnowledgeBase(kb)  # another writer, in memory: it leaves the projection alone
    other.declare_entity({"id": "persist-other", "types": ["gk:City"], "label": "Other"})
    caught_up.clear()
    code, _, _ = geokb(kb, "log", "--limit", "1")
    assert code == 0
    assert caught_up == [1]  # the tail only
    assert mark(kb)["position"] == head(kb)


def test_a_log_edited_under_the_projection_is_refused_and_the_projection_kept(
        kb: Path) -> None:
    assert geokb(kb, "status", "Tartus")[0] == 0
    before = mark(kb)
    log = kb / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    assert b"United States" in lines[4]
    lines[4] = lines[4].replace(b"United States", b"United Stetes", 1)  # hash mismatch
    log.write_bytes(b"".join(lines))
    for command in (["status", "Tartus"], [*ENTITY]):
        code, out, err = geokb(kb, *command)
        assert code == 1, (command, out)
        assert "events.jsonl:5" in err  # the broken line, named
    assert head(kb) == len(lines)  # nothing was appended
    assert mark(kb)["position"] == before["position"]  # and the projection not thrown away
    lines[4] = lines[4].replace(b"United Stetes", b"United States", 1)  # put back: served
    log.write_bytes(b"".join(lines))
    code, _, err = geokb(kb, "status", "Tartus")
    assert code == 0, err


def test_another_sound_history_is_rebuilt_not_served(kb: Path, caught_up: list[int]) -> None:
    log = kb / "events.jsonl"
    original = log.read_bytes()
    assert geokb(kb, *ENTITY)[0] == 0  # the projection holds a history with one more event
    log.write_bytes(original)  # "git checkout": the log without that event
    caught_up.clear()
    assert geokb(kb, "entity", "add", "--id", "persist-other", "--type", "gk:City",
                 "--label", "Other port")[0] == 0  # same length as before, another event
    assert caught_up[0] == original.count(b"\n")  # rebuilt from the whole log, then written
    caught_up.clear()
    code, out, _ = geokb(kb, "query", ASK_PORT)
    assert code == 0 and "false" in out
    assert caught_up == [0]


def test_a_projection_of_another_format_is_rebuilt(kb: Path, caught_up: list[int]) -> None:
    assert geokb(kb, "status", "Tartus")[0] == 0
    path = kb / ".projection" / MARK_NAME
    path.write_text(json.dumps({**mark(kb), "format": 0}))
    caught_up.clear()
    assert geokb(kb, "status", "Tartus")[0] == 0
    assert caught_up == [head(kb)]
    assert mark(kb)["format"] != 0


def test_in_memory_leaves_no_projection(kb: Path) -> None:
    code, out, _ = geokb(kb, "--in-memory", "status", "Tartus")
    assert code == 0 and "Tartus" in out
    code, _, _ = geokb(kb, "status", "Tartus", env={"GEOKB_IN_MEMORY": "1"})
    assert code == 0
    assert not (kb / ".projection").exists()


def test_projection_option_chooses_the_place(kb: Path, tmp_path: Path) -> None:
    place = tmp_path / "elsewhere"
    assert geokb(kb, "--projection", str(place), "status", "Tartus")[0] == 0
    assert (place / MARK_NAME).is_file()
    assert not (kb / ".projection").exists()


def test_reads_and_writes_work_while_serve_holds_the_projection(kb: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GEOKB_")}
    with serve(kb) as base:
        read = subprocess.run([*GEOKB, "--kb", str(kb), "status", "Tartus"], env=environ,
                              capture_output=True, text=True, timeout=120)
        assert read.returncode == 0, read.stderr
        assert "Tartus naval base" in read.stdout
        assert "replaying" not in read.stderr  # read-only, from the server's projection
        write = subprocess.run([*GEOKB, "--kb", str(kb), "--as", "test:persist", *ENTITY],
                               env=environ, capture_output=True, text=True, timeout=120)
        assert write.returncode == 0, write.stderr
        assert "held by another process" in write.stderr  # the write replayed in memory
        deadline = time.monotonic() + 20
        url = f"{base}/api/entities/persist-test-port/status"
        while httpx.get(url, timeout=5).status_code != 200:  # the server follows the log
            assert time.monotonic() < deadline, "the server did not see the write"
            time.sleep(0.2)
        read = subprocess.run([*GEOKB, "--kb", str(kb), "query", ASK_PORT],
                              env=environ, capture_output=True, text=True, timeout=120)
        assert read.returncode == 0 and "true" in read.stdout, read.stderr


def test_snapshot_round_trip_catches_up_only_the_tail(kb: Path, tmp_path: Path,
                                                      caught_up: list[int]) -> None:
    snap = tmp_path / "snap"
    code, out, err = geokb(kb, "snapshot", "create", str(snap))
    assert code == 0, err
    taken = head(kb)
    assert f"position {taken}" in out
    assert json.loads((snap / "snapshot.json").read_text())["position"] == taken
    assert geokb(kb, *ENTITY)[0] == 0  # the log moves on after the snapshot
    # a new read node: the log (copied), no projection; it starts from the snapshot
    node = tmp_path / "node"
    shutil.copytree(kb, node, ignore=shutil.ignore_patterns(".projection", ".lock"))
    caught_up.clear()
    code, out, err = geokb(node, "snapshot", "restore", str(snap))
    assert code == 0, err
    assert caught_up == [1]  # only the event after the snapshot
    assert f"now at {head(node)}" in out
    caught_up.clear()
    code, out, _ = geokb(node, "query", ASK_PORT)
    assert code == 0 and "true" in out and caught_up == [0]
    restored = KnowledgeBase(node, projection_path=node / ".projection")
    assert restored.projection.canonical_hash() == KnowledgeBase(node).projection.canonical_hash()


def test_restore_refuses_a_snapshot_of_another_log(kb: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    assert geokb(kb, "snapshot", "create", str(snap))[0] == 0
    # another KB: the first events of this one, then a history of its own
    other = tmp_path / "other"
    other.mkdir()
    lines = (kb / "events.jsonl").read_bytes().splitlines(keepends=True)
    (other / "events.jsonl").write_bytes(b"".join(lines[:20]))
    shutil.copytree(kb / "sources", other / "sources")
    assert geokb(other, *ENTITY)[0] == 0  # builds its own projection
    before = mark(other)
    code, _, err = geokb(other, "snapshot", "restore", str(snap))
    assert code != 0
    assert "of another log" in err
    assert mark(other) == before  # its projection is untouched
    code, _, err = geokb(other, "snapshot", "restore", str(tmp_path / "nothing"))
    assert code != 0 and "not a geokb snapshot" in err
    code, _, err = geokb(kb, "--in-memory", "snapshot", "create", str(tmp_path / "s2"))
    assert code != 0 and "--in-memory" in err

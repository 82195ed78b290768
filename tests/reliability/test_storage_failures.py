"""A full disk, a read-only ``kb/``, a PostgreSQL that is down and a failing SERVICE
endpoint are said plainly, over HTTP (507 / 503 / 502) and on the CLI (exit 2, one line,
no traceback), and leave nothing behind: the log is byte for byte as before and no
``kb/sources/*.tmp*`` stays.

The full disk is a real 256 KiB tmpfs, the read-only ``kb/`` a real read-only bind mount:
both need root (skipped otherwise). The PostgreSQL is a real server, stopped mid-test.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geokb.cli.main import app as cli
from geokb.errors import StorageFull
from geokb.http.app import Settings, create_app
from geokb.kb import KnowledgeBase
from geokb.log.sources import FileSourceTexts
from tests.harness.http import AUTH, DOC, TOKEN, build_kb, free_port
from tests.harness.postgres import PostgresServer, unavailable_reason

NEW_CLAIM = {"subject": "tartus-naval-base", "predicate": "gk:status",
             "object": "status:operational", "modality": "uncertain", "source": "article-one",
             "quote": "The future of the naval base"}
ASSERT = ["assert", "--subject", "hmeimim-air-base", "--predicate", "gk:status",
          "--object", "status:uncertain", "--modality", "uncertain", "--source", "article-one",
          "--quote", "is still operated by Russia"]

runner = CliRunner()


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount ({' '.join(args)}): {done.stderr.strip()}")


def umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("a tiny full file system and a read-only bind mount need root")


def fill(directory: Path) -> None:
    """Write a filler file until the file system is full."""
    with open(directory / "filler", "wb", buffering=0) as fh:
        for _ in range(10_000):
            try:
                fh.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                return
    raise AssertionError("the file system did not fill up")


def snapshot(kb_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(kb_dir)): p.read_bytes() for p in sorted(kb_dir.rglob("*"))
            if p.is_file() and p.name != "filler"}


@pytest.fixture
def full_kb(tmp_path: Path) -> Iterator[Path]:
    """A copy of the fixture KB on a 256 KiB tmpfs that is then filled up."""
    needs_root()
    source = build_kb(tmp_path / "src").directory
    disk = tmp_path / "disk"
    disk.mkdir()
    mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk))
    try:
        shutil.copytree(source, disk / "kb")
        fill(disk)
        yield disk / "kb"
    finally:
        umount(disk)


@pytest.fixture
def read_only_kb(tmp_path: Path) -> Iterator[Path]:
    """The fixture KB seen through a read-only bind mount."""
    needs_root()
    source = build_kb(tmp_path / "src").directory
    view = tmp_path / "ro"
    view.mkdir()
    mount("--bind", str(source), str(view))
    try:
        mount("-o", "remount,ro,bind", str(view))
        yield view
    finally:
        umount(view)


def test_a_full_disk_is_507_and_nothing_is_appended(full_kb: Path) -> None:
    before = snapshot(full_kb)
    kb = KnowledgeBase(full_kb)
    start = kb.position
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as client:
        for _ in range(3):  # again and again: each time refused, nothing left
            r = client.post("/api/claims", json=NEW_CLAIM, headers=AUTH)
            assert r.status_code == 507, r.text
            assert r.headers["content-type"] == "application/problem+json"
            body = r.json()
            assert body["type"].endswith("/storage-full")
            assert "is full" in body["detail"] and "nothing was appended" in body["detail"]
    assert snapshot(full_kb) == before
    assert kb.position == start
    (full_kb.parent / "filler").unlink()  # space again: the same write goes through
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as client:
        assert client.post("/api/claims", json=NEW_CLAIM, headers=AUTH).status_code == 201
    assert KnowledgeBase(full_kb).position == start + 1


def test_a_full_disk_on_the_cli_is_one_line_and_exit_2(full_kb: Path, tmp_path: Path) -> None:
    before = snapshot(full_kb)
    result = runner.invoke(cli, ["--kb", str(full_kb), *ASSERT])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"geokb: error: the disk holding {full_kb}/ is full" in result.output
    assert "nothing was appended" in result.output
    text = tmp_path / "new.txt"
    text.write_text("A new article about the bases, long enough to need a page. " * 200)
    result = runner.invoke(cli, ["--kb", str(full_kb), "source", "add", str(text), "--id",
                                 "new-article", "--title", "New"])
    assert result.exit_code == 2, result.output
    assert "is full" in result.output and "the source text was not stored" in result.output
    assert snapshot(full_kb) == before  # no event, no text, no temporary file


def test_a_source_text_on_a_full_disk_leaves_no_temporary_file(full_kb: Path) -> None:
    texts = FileSourceTexts(full_kb)
    with pytest.raises(StorageFull, match="the source text was not stored"):
        texts.put("x" * 200_000)
    assert not list((full_kb / "sources").glob("*.tmp*"))


def test_a_read_only_kb_is_503(read_only_kb: Path) -> None:
    before = snapshot(read_only_kb)
    kb = KnowledgeBase(read_only_kb)
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as client:
        assert client.get("/api/claims/tartus-status").status_code == 200  # reads go on
        r = client.post("/api/claims", json=NEW_CLAIM, headers=AUTH)
        assert r.status_code == 503, r.text
        assert r.json()["type"].endswith("/storage-read-only")
        assert "is read-only" in r.json()["detail"]
    result = runner.invoke(cli, ["--kb", str(read_only_kb), *ASSERT])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "is read-only" in result.output
    assert snapshot(read_only_kb) == before


def test_a_stale_temporary_source_file_is_removed(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    texts = FileSourceTexts(kb_dir)
    texts.put("first text")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(gone.stdout)  # a process that has ended: its temporary file is litter
    digest = hashlib.sha256(b"half").hexdigest()
    stale = kb_dir / "sources" / f"{digest}.tmp{dead}"
    stale.write_bytes(b"ha")
    live = kb_dir / "sources" / f"{digest}.tmp{os.getppid()}"  # a live writer's: kept
    live.write_bytes(b"h")
    fresh = FileSourceTexts(kb_dir)
    assert not fresh.has(digest)  # a temporary file is never taken for the text
    fresh.put("second text")
    assert not stale.exists() and live.exists()
    assert sorted(p.suffix for p in (kb_dir / "sources").iterdir()) == [
        f".tmp{os.getppid()}", ".txt", ".txt"]


@pytest.fixture
def own_pg() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, which the test stops."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_postgres_down_is_503_with_retry_after(own_pg: PostgresServer, tmp_path: Path) -> None:
    from geokb.log.postgres import PostgresEventStore, PostgresSourceTexts

    dsn = own_pg.dsn("postgres")
    kb = KnowledgeBase(tmp_path / "kb", log=PostgresEventStore(dsn),
                       texts=PostgresSourceTexts(dsn))
    kb.ingest(DOC, base_dir=tmp_path, recorded_by="test:fixture")
    with TestClient(create_app(kb, Settings(tokens={"default": TOKEN}))) as client:
        assert client.get("/api/claims/tartus-status").status_code == 200
        own_pg._run([str(own_pg.bin_dir / "pg_ctl"), "-D", str(own_pg.data), "-m", "immediate",
                     "-w", "stop"])
        r = client.post("/api/claims", json=NEW_CLAIM, headers=AUTH)
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        assert r.json()["type"].endswith("/database-unavailable")
        r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert r.status_code in (200, 503), r.text  # answered from the projection, or 503
    result = runner.invoke(cli, ["--log", dsn, *ASSERT])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "geokb: error: cannot connect to postgresql://" in result.output


class _Garbage(http.server.BaseHTTPRequestHandler):
    """A "SPARQL endpoint" whose answers are not SPARQL results."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(b"{not json")

    do_POST = do_GET

    def log_message(self, *_args: object) -> None:
        pass


def test_a_failing_service_is_502(tmp_path: Path) -> None:
    """SERVICE (when allowed) at an endpoint that is down or answers garbage: a 502 that
    names what failed, not a 500."""
    garbage = http.server.HTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=garbage.serve_forever, daemon=True)
    thread.start()
    try:
        kb = build_kb(tmp_path / "kb")
        with TestClient(create_app(kb, Settings(allow_service=True))) as client:
            for url, says in ((f"http://127.0.0.1:{free_port()}/sparql", "refused"),
                              (f"http://127.0.0.1:{garbage.server_port}/sparql", "Parser")):
                for form in ("SELECT * { SERVICE <%s> { ?s ?p ?o } }",
                             "ASK { SERVICE <%s> { ?s ?p ?o } }"):
                    r = client.get("/sparql", params={"query": form % url},
                                   headers={"Accept": "application/sparql-results+json"})
                    assert r.status_code == 502, r.text
                    assert says in r.json()["detail"]
    finally:
        garbage.shutdown()
        thread.join(5)

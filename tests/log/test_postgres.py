"""The PostgreSQL backend on a real server: the event-store contract, byte-identical lines,
concurrent writers, read nodes woken by LISTEN/NOTIFY, migration and the CLI.

One server per session (``pg_server``, see :mod:`tests.harness.postgres`), a fresh database per
test (``pg_dsn``). Skipped, saying why, where no PostgreSQL server binaries are installed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from geokb.cli.main import app
from geokb.errors import AppendConflict, CorruptLog, InvalidEvent, NotFound
from geokb.kb import KnowledgeBase
from geokb.log.codec import encode
from geokb.log.file import FileEventStore
from geokb.log.sources import FileSourceTexts
from tests.harness.documents import mini_document
from tests.harness.postgres import PostgresServer, unavailable_reason
from tests.log.test_eventstore import EventStoreContract, append_as_writer, ev

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[dev]'")

from geokb.log.postgres import PostgresEventStore, PostgresSourceTexts, push  # noqa: E402

REPO_SRC = Path(__file__).resolve().parents[2] / "src"
runner = CliRunner()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_dsn(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database, whose connections are ended after the test. (It is not
    dropped: a CREATE DATABASE after a DROP waits ~0.4 s; the server goes at the end.)"""
    name = f"geokb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_server.dsn(name)
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s", (name,))


def sql(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)


def retract_from_another_process(dsn: str) -> None:
    """Append, from another OS process, the retraction of the mini document's
    ``tartus-unclear`` claim (position 10 of a KB holding just that document)."""
    script = ("import sys; from geokb.log.postgres import PostgresEventStore as S; "
              "from geokb.log.events import Event as E; "
              "S(sys.argv[1]).append([E('ClaimRetracted', {'claim': "
              "'https://w3id.org/geokb/claim/tartus-unclear', 'reason': 'other process'})], "
              "expected_position=9, recorded_by='test:other')")
    subprocess.run([sys.executable, "-c", script, dsn], check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(REPO_SRC)})


def pg_kb(directory: Path, dsn: str) -> KnowledgeBase:
    directory.mkdir(exist_ok=True)
    return KnowledgeBase(directory, log=PostgresEventStore(dsn), texts=PostgresSourceTexts(dsn))


def file_copy(dsn: str, directory: Path) -> Path:
    """The PostgreSQL log and texts written out as a file KB (verbatim lines)."""
    store = PostgresEventStore(dsn)
    directory.mkdir()
    with open(directory / "events.jsonl", "wb") as fh:
        for _, line in store.raw_lines():
            fh.write(line)
    texts, files = PostgresSourceTexts(dsn), FileSourceTexts(directory)
    for event in store.read():
        if event.type == "SourceRegistered":
            files.put(texts.get(event.payload["sha256"]))
    store.close()
    texts.close()
    return directory


# -- the contract -------------------------------------------------------------------------


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture(autouse=True)
    def _database(self, pg_dsn: str) -> None:
        self.dsn = pg_dsn

    def make(self, tmp_path: Path) -> PostgresEventStore:
        return PostgresEventStore(self.dsn)

    def test_rows_hold_the_file_stores_bytes(self, tmp_path: Path) -> None:
        """Lines move between the backends byte for byte, and the chain goes on."""
        files = FileEventStore(tmp_path / "kb")
        files.append([ev(1), ev(2, "k")], expected_position=0, recorded_by="a")
        files.append([ev(3)], expected_position=2, recorded_by="b")
        store = self.make(tmp_path)
        head = store.append_lines([line for _, line in files.raw_lines()], expected_position=0)
        assert head == files.head()
        assert list(store.raw_lines()) == list(files.raw_lines())
        assert list(store.read()) == list(files.read())
        assert store.find_idempotent("k") == files.find_idempotent("k")
        more = store.append([ev(4)], expected_position=3, recorded_by="c")
        assert more[0].prev == head.hash
        assert more[0].recorded_at >= head.recorded_at
        (tmp_path / "kb" / "events.jsonl").write_bytes(
            b"".join(line for _, line in store.raw_lines()))
        assert list(files.read()) == list(store.read())

    def test_append_lines_refuses_a_broken_chain(self, tmp_path: Path) -> None:
        files = FileEventStore(tmp_path / "kb")
        files.append([ev(1), ev(2), ev(3)], expected_position=0, recorded_by="a")
        lines = [line for _, line in files.raw_lines()]
        store = self.make(tmp_path)
        with pytest.raises(InvalidEvent, match=r"line 2: .*seq 3, expected 2"):
            store.append_lines([lines[0], lines[2]], expected_position=0)
        with pytest.raises(AppendConflict):
            store.append_lines(lines, expected_position=1)
        assert store.head().position == 0

    def test_edited_row_is_named_by_its_seq(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1), ev(2), ev(3)], expected_position=0, recorded_by="a")
        sql(self.dsn, "UPDATE events SET line = convert_to(replace(convert_from(line, 'UTF8'), "
                      "'reason 2', 'reason X'), 'UTF8') WHERE seq = 2")
        with pytest.raises(CorruptLog, match=r"postgresql://.*#seq=2: .*edited") as info:
            list(store.read())
        assert info.value.line == 2
        assert [e.position for e in store.read(limit=1)] == [1]

    def test_removed_row_is_named(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(1), ev(2), ev(3)], expected_position=0, recorded_by="a")
        sql(self.dsn, "DELETE FROM events WHERE seq = 2")
        with pytest.raises(CorruptLog, match=r"#seq=3: .*seq 3, expected 2"):
            list(store.read())
        with pytest.raises(CorruptLog, match=r"#seq=2: no event at seq 2"):
            list(store.read(after=2))

    def test_reads_page_through_long_logs(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.append([ev(n) for n in range(2500)], expected_position=0, recorded_by="a")
        assert [e.position for e in store.read(after=999, limit=1002)] == list(range(1000, 2002))
        assert sum(1 for _ in store.read()) == 2500
        assert sum(1 for _ in store.raw_lines()) == 2500

    def test_wait_for_events_is_woken_by_notify(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        store.head()  # tables made
        writer = threading.Timer(0.3, lambda: PostgresEventStore(self.dsn).append(
            [ev(1)], expected_position=0, recorded_by="other"))
        started = time.monotonic()
        writer.start()
        assert store.wait_for_events(0, 20) is True  # 20 s: only a NOTIFY ends it early
        assert time.monotonic() - started < 3
        writer.join()
        store.close()

    def test_concurrent_processes_never_interleave(self, tmp_path: Path) -> None:
        """Four writer processes append with expected positions: one chain, nothing lost."""
        PostgresEventStore(self.dsn).head()  # tables made before the race
        ctx = mp.get_context("fork")
        procs = [ctx.Process(target=_writer, args=(self.dsn, w, 15)) for w in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        events = list(PostgresEventStore(self.dsn).read())
        assert [e.position for e in events] == list(range(1, 61))
        assert len({e.payload["reason"] for e in events}) == 60  # none lost, none duplicated
        times = [e.recorded_at for e in events]
        assert times == sorted(times)

    def test_unreachable_database_is_a_connection_error(self, tmp_path: Path) -> None:
        store = PostgresEventStore("postgresql://ann:secret@127.0.0.1:1/nowhere")
        with pytest.raises(ConnectionError, match=r"cannot connect to postgresql://127.0.0.1:1/"
                                                   r"nowhere") as info:
            store.head()
        assert "secret" not in str(info.value)


def _writer(dsn: str, writer: int, count: int) -> None:
    append_as_writer(PostgresEventStore(dsn), writer, count)
    os._exit(0)


def test_source_texts(pg_dsn: str) -> None:
    texts = PostgresSourceTexts(pg_dsn)
    sha = texts.put("Tartus — naval base")
    assert texts.put("Tartus — naval base") == sha
    assert texts.has(sha) and texts.get(sha) == "Tartus — naval base"
    assert not texts.has("0" * 64)
    with pytest.raises(NotFound):
        texts.get("0" * 64)
    with pytest.raises(InvalidEvent, match="not a SHA-256"):
        texts.get("../etc/passwd")
    sql(pg_dsn, f"UPDATE source_texts SET text = 'altered'::bytea WHERE sha256 = '{sha}'")
    with pytest.raises(InvalidEvent, match="does not match its hash"):
        texts.get(sha)
    texts.put("Tartus — naval base")  # repairs it
    assert texts.get(sha) == "Tartus — naval base"


# -- the knowledge base on PostgreSQL ----------------------------------------------------------


def test_kb_on_postgres_answers_like_the_file_kb(tmp_path: Path, pg_dsn: str) -> None:
    kb = pg_kb(tmp_path / "kb", pg_dsn)
    kb.ingest(mini_document(), base_dir=tmp_path)
    kb.retract("tartus-unclear", "test")
    assert not list((tmp_path / "kb").iterdir())  # nothing written beside the database
    files = KnowledgeBase(file_copy(pg_dsn, tmp_path / "files"))
    assert kb.position == files.position == 10
    assert kb.status("Tartus") == files.status("Tartus")
    assert kb.claim("syria-needs") == files.claim("syria-needs")
    assert kb.projection.canonical_hash() == files.projection.canonical_hash()
    assert kb.rebuild() == files.rebuild()
    assert kb.source("art")["text"] == files.source("art")["text"]


def test_follower_catches_up_when_another_process_appends(tmp_path: Path, pg_dsn: str) -> None:
    writer = pg_kb(tmp_path / "kb", pg_dsn)
    writer.ingest(mini_document(), base_dir=tmp_path)
    follower = pg_kb(tmp_path / "kb", pg_dsn)
    assert follower.position == writer.position
    stop = threading.Event()
    thread = threading.Thread(target=follower.follow, args=(stop,), kwargs={"poll": 2.0})
    thread.start()
    try:
        retract_from_another_process(pg_dsn)
        appended = time.monotonic()
        while follower.position < 10 and time.monotonic() - appended < 5:
            time.sleep(0.01)
        lag = time.monotonic() - appended
        assert follower.position == 10
        assert lag < 1.5, f"the follower took {lag:.2f}s"
        assert follower.claim("tartus-unclear")["lifecycle"]["state"] == "retracted"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_follow_on_the_file_log(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    writer = KnowledgeBase(tmp_path / "kb")
    writer.ingest(mini_document(), base_dir=tmp_path)
    follower = KnowledgeBase(tmp_path / "kb")
    stop = threading.Event()
    thread = threading.Thread(target=follower.follow, args=(stop,), kwargs={"poll": 0.5})
    thread.start()
    try:
        writer.retract("tartus-unclear", "test")
        deadline = time.monotonic() + 5
        while follower.position < writer.position and time.monotonic() < deadline:
            time.sleep(0.01)
        assert follower.position == writer.position == 10
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


# -- migration and the CLI ----------------------------------------------------------------


def geokb(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--as", "test:cli", *args])
    return result.exit_code, result.stdout, result.stderr


def test_migrate_copies_the_file_log_verbatim(tmp_path: Path, pg_dsn: str) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    files = KnowledgeBase(kb_dir)
    files.ingest(mini_document(), base_dir=tmp_path)
    code, out, err = geokb("--kb", str(kb_dir), "migrate", "--to", pg_dsn)
    assert code == 0, err
    assert "copied 9 events and 1 source texts" in out and "position 9" in out
    store = PostgresEventStore(pg_dsn)
    assert b"".join(line for _, line in store.raw_lines()) == (kb_dir / "events.jsonl").read_bytes()
    for path in (kb_dir / "sources").glob("*.txt"):
        assert PostgresSourceTexts(pg_dsn).get(path.stem).encode("utf-8") == path.read_bytes()
    # a second run copies what is new since
    again = geokb("--kb", str(kb_dir), "migrate", "--to", pg_dsn)[1]
    assert "copied 0 events and 0 source texts" in again
    files.retract("tartus-unclear", "test")
    assert "copied 1 events" in geokb("--kb", str(kb_dir), "migrate", "--to", pg_dsn)[1]
    on_pg = pg_kb(tmp_path / "unused", pg_dsn)
    assert on_pg.rebuild() == files.rebuild()
    assert on_pg.status("Tartus") == files.status("Tartus")
    # a database with another history is refused, and nothing is copied
    other = tmp_path / "other"
    other.mkdir()
    KnowledgeBase(other).ingest(mini_document(), base_dir=tmp_path)
    code, _, err = geokb("--kb", str(other), "migrate", "--to", pg_dsn)
    assert code == 1 and "another history" in err
    assert store.head().position == 10
    store.close()


def test_push_refuses_a_database_ahead_of_the_files(tmp_path: Path, pg_dsn: str) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    files = FileEventStore(kb_dir)
    files.append([ev(1)], expected_position=0, recorded_by="a")
    assert push(kb_dir, pg_dsn).events == 1
    PostgresEventStore(pg_dsn).append([ev(2)], expected_position=1, recorded_by="b")
    with pytest.raises(InvalidEvent, match="ahead"):
        push(kb_dir, pg_dsn)


def without_event_ids(answer: dict[str, Any]) -> dict[str, Any]:
    """A status answer less the event ids and times, which differ between two ingests."""
    for claim in answer["claims"]:
        for step in claim["lifecycle"].values():
            if isinstance(step, dict):
                step.pop("event", None)
                step.pop("recorded_at", None)
    return answer


def test_cli_on_postgres(tmp_path: Path, pg_dsn: str) -> None:
    claim_file = tmp_path / "claims.yaml"
    claim_file.write_text(yaml.safe_dump(mini_document(), allow_unicode=True), encoding="utf-8")
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    on_pg = ("--log", pg_dsn, "--kb", str(kb_dir))
    code, out, err = geokb(*on_pg, "init")
    assert code == 0 and "ready (0 events)" in out, err
    code, out, err = geokb(*on_pg, "ingest", str(claim_file))
    assert code == 0 and "log at position 9" in out, err
    assert not (kb_dir / "events.jsonl").exists()
    code, out, err = geokb(*on_pg, "status", "Tartus", "--format", "json")
    assert code == 0, err
    files = tmp_path / "files"
    assert geokb("--kb", str(files), "init")[0] == 0
    assert geokb("--kb", str(files), "ingest", str(claim_file))[0] == 0
    from_files = json.loads(geokb("--kb", str(files), "status", "Tartus", "--format", "json")[1])
    assert without_event_ids(json.loads(out)) == without_event_ids(from_files)
    code, out, _ = geokb(*on_pg, "verify")
    assert code == 0 and "hash chain intact (9 events)" in out
    assert "postgresql://127.0.0.1:" in out and "secret" not in out
    code, out, _ = geokb(*on_pg, "validate")
    assert code == 0 and "9 events, 3 claims: conforms" in out
    sql(pg_dsn, "UPDATE events SET line = convert_to(replace(convert_from(line, 'UTF8'), "
                "'Hmeimim airfield', 'Hmeimim base'), 'UTF8') WHERE seq = 2")
    code, out, _ = geokb(*on_pg, "verify")
    assert code == 1
    assert "#seq=2: " in out and "edited" in out
    code, _, err = geokb(*on_pg, "status", "Tartus")
    assert code == 1 and "#seq=2: " in err
    code, out, _ = geokb(*on_pg, "validate", "--format", "json")
    assert code == 1
    assert {(p["file"].split("//")[0], p["line"]) for p in json.loads(out)["problems"]} >= {
        ("postgresql:", 2)}


def test_cli_log_option_errors(tmp_path: Path) -> None:
    code, _, err = geokb("--log", "mysql://x/y", "--kb", str(tmp_path), "status", "x")
    assert code == 2 and "not a PostgreSQL URL" in err
    code, _, err = geokb("--log", "postgresql://127.0.0.1:1/nowhere", "status", "x")
    assert code == 2 and "cannot connect to postgresql://127.0.0.1:1/nowhere" in err


def test_encode_is_what_the_rows_hold(pg_dsn: str) -> None:
    store = PostgresEventStore(pg_dsn)
    recorded = store.append([ev(1)], expected_position=0, recorded_by="a")
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT line, idem, recorded_at FROM events").fetchone()
    assert row is not None and bytes(row[0]) == encode(recorded[0]) and row[1] is None
    store.close()


# -- the connection pool -------------------------------------------------------------------


def backends(dsn: str, *, settle: int | None = None) -> int:
    """How many sessions other than this one the database has (with ``settle``: once that
    many remain, waiting up to 5 s for ended ones to leave pg_stat_activity)."""
    deadline = time.monotonic() + 5
    while True:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND pid <> pg_backend_pid()").fetchone()
        assert row is not None
        if settle is None or int(row[0]) <= settle or time.monotonic() > deadline:
            return int(row[0])
        time.sleep(0.05)


def test_the_pool_bounds_a_stores_connections(pg_dsn: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight threads reading at once share the store's pool of GEOKB_PG_POOL_SIZE (2)."""
    monkeypatch.setenv("GEOKB_PG_POOL_SIZE", "2")
    store = PostgresEventStore(pg_dsn)
    store.append([ev(n) for n in range(50)], expected_position=0, recorded_by="a")
    sizes: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(5):
                assert sum(1 for _ in store.read()) == 50
                sizes.append(store.db.pool().get_stats()["pool_size"])
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(sizes) == 40 and max(sizes) <= 2
    assert 1 <= backends(pg_dsn) <= 2  # the server sees the pool's sessions, no more
    store.close()
    assert backends(pg_dsn, settle=0) == 0  # close() closes the pool's connections
    assert store.head().position == 50  # and the store opens a new pool when used again
    store.close()


def test_pool_size_setting() -> None:
    from geokb.errors import SettingsError
    from geokb.log.pgpool import pool_size_setting

    assert pool_size_setting(3, environ={"GEOKB_PG_POOL_SIZE": "9"}) == 3
    assert pool_size_setting(environ={"GEOKB_PG_POOL_SIZE": "9"}) == 9
    for bad in ("0", "-1", "two", ""):
        with pytest.raises(SettingsError, match="GEOKB_PG_POOL_SIZE must be a whole number"):
            pool_size_setting(environ={"GEOKB_PG_POOL_SIZE": bad})


def test_a_restarted_server_costs_one_error_then_the_pool_is_new(pg_dsn: str,
                                                                pg_server: PostgresServer) -> None:
    """Sessions ended under the pool (a restart, a failover): the call that finds its
    connection dead says so; the pool is then replaced and the next call works."""
    store = PostgresEventStore(pg_dsn)
    store.append([ev(1)], expected_position=0, recorded_by="a")
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s", (pg_dsn.rsplit("/", 1)[1],))
    failures = 0
    for _ in range(3):
        try:
            head = store.head()
            break
        except ConnectionError as exc:
            assert "127.0.0.1" in str(exc)
            failures += 1
    assert failures <= 1 and head.position == 1
    store.close()


def test_a_wait_keeps_its_own_connection_outside_the_pool(pg_dsn: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOKB_PG_POOL_SIZE", "1")
    store = PostgresEventStore(pg_dsn)
    store.head()
    assert store.wait_for_events(0, 0.2) is False  # listening now
    store.append([ev(1)], expected_position=0, recorded_by="a")  # the pool's one connection
    assert store.wait_for_events(0, 5) is True
    assert backends(pg_dsn) == 2  # one pooled, one listening
    store.close()
    assert backends(pg_dsn, settle=0) == 0


def test_verify_names_a_moved_row(pg_dsn: str) -> None:
    from geokb.ops.verify import scan_chain

    store = PostgresEventStore(pg_dsn)
    store.append([ev(1), ev(2), ev(3)], expected_position=0, recorded_by="a")
    sql(pg_dsn, "UPDATE events SET seq = 7 WHERE seq = 3")
    report, _ = scan_chain(store)
    assert [(p.line, p.kind) for p in report.problems] == [(7, "log")]
    assert "seq 3 in the row of seq 7 (event moved)" in report.problems[0].message
    with pytest.raises(CorruptLog, match=r"#seq=7: .*event moved"):
        list(store.read())
    store.close()

"""The HTTP app over the PostgreSQL log: each request asks the database for its head (no
file to watch), so an append by another process shows in the next answer."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from geokb.http.app import LogWatch, create_app
from tests.harness.documents import mini_document
from tests.log.test_postgres import (  # noqa: F401 (fixtures)
    pg_dsn,
    pg_kb,
    pg_server,
    retract_from_another_process,
)


def test_another_process_append_is_seen_over_postgres(tmp_path: Path, pg_dsn: str) -> None:  # noqa: F811
    kb = pg_kb(tmp_path / "kb", pg_dsn)
    kb.ingest(mini_document(), base_dir=tmp_path)
    assert LogWatch(kb.log).cached() is None  # nothing to stat: always asked
    with TestClient(create_app(kb)) as client:
        query = {"query": "ASK { claim:tartus-unclear gk:retractedIn ?e }"}
        accept = {"Accept": "text/csv"}
        assert client.get("/sparql", params=query, headers=accept).text.strip() == "false"
        assert client.get("/api/entities/Tartus/status").json()["undated"] != []
        retract_from_another_process(pg_dsn)
        assert client.get("/sparql", params=query, headers=accept).text.strip() == "true"
        assert client.get("/api/entities/Tartus/status").json()["undated"] == []
        assert client.get("/api/health").json() == {"position": 10}

"""Time travel on the endpoint equals replaying the log's prefix (a property test).

For generated histories of claim assertions and retractions, the endpoint's answer to a
fixed SELECT with ``as_of=k`` (and with ``valid_at`` too) must equal the answer of a fresh
KnowledgeBase built from only the first ``k`` events of the log. The same property over
every quad of larger histories: ``tests/projection/test_timetravel.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geokb.http.app import Settings, create_app
from geokb.kb import KnowledgeBase
from tests.harness.http import DOC, copy_prefix

QUERY = """SELECT ?s ?o ?c ?until WHERE {
  { ?s gk:status ?o } UNION
  { ?c a gk:Claim OPTIONAL { ?c gk:knownUntilPosition ?until } } UNION
  { GRAPH ?c { ?s gk:status ?o } }
}"""

CANDIDATES = [
    {"id": "k0", "subject": "tartus-naval-base", "object": "status:uncertain",
     "quote": "remains unclear", "modality": "asserted"},
    {"id": "k1", "subject": "hmeimim-air-base", "object": "status:operational",
     "quote": "is still operated by Russia", "modality": "asserted"},
    {"id": "k2", "subject": "tartus-naval-base", "object": "status:operational",
     "quote": "The future of the naval base", "modality": "uncertain"},
    {"id": "k3", "subject": "hmeimim-air-base", "object": "status:uncertain",
     "quote": "Analysts expect a review", "modality": "asserted"},
]


def base_document() -> dict[str, Any]:
    return {"sources": DOC["sources"], "entities": DOC["entities"]}


def rows_of(bindings: list[dict[str, dict[str, str]]]) -> list[tuple[str, ...]]:
    names = ("s", "o", "c", "until")
    return sorted(tuple(b[n]["value"] if n in b else "" for n in names) for b in bindings)


def fresh_answer(kb_dir: Path, valid_at: str | None = None) -> list[tuple[str, ...]]:
    fresh = KnowledgeBase(kb_dir)
    out = []
    for row in fresh.query(QUERY, valid_at=valid_at):
        out.append(tuple(row[n].value if row[n] is not None else ""
                         for n in ("s", "o", "c", "until")))
    return sorted(out)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=2 * len(CANDIDATES) - 1), max_size=7))
def test_as_of_equals_replaying_the_prefix(ops: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir = Path(tmp) / "kb"
        kb_dir.mkdir()
        kb = KnowledgeBase(kb_dir)
        kb.ingest(base_document(), base_dir=kb_dir)
        state: dict[str, str] = {}
        for op in ops:
            spec = CANDIDATES[op % len(CANDIDATES)]
            if op < len(CANDIDATES) and spec["id"] not in state:
                kb.assert_claim({**spec, "predicate": "gk:status", "source": "article-one"})
                state[spec["id"]] = "live"
            elif op >= len(CANDIDATES) and state.get(spec["id"]) == "live":
                kb.retract(spec["id"], "generated retraction")
                state[spec["id"]] = "retracted"
        with TestClient(create_app(kb, Settings())) as client:
            for k in range(kb.position + 1):
                r = client.get("/sparql", params={"query": QUERY, "as_of": str(k)})
                assert r.status_code == 200, r.text
                prefix = Path(tmp) / f"prefix{k}"
                copy_prefix(kb_dir, prefix, k)
                assert rows_of(r.json()["results"]["bindings"]) == fresh_answer(prefix), k
                r = client.get("/sparql", params={"query": QUERY, "as_of": str(k),
                                                  "valid_at": "2026"})
                assert r.status_code == 200, r.text
                assert rows_of(r.json()["results"]["bindings"]) == \
                    fresh_answer(prefix, "2026"), k

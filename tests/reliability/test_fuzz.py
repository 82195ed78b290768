"""Fuzzing the parsers and the HTTP API: every failure must be a domain error.

* Event lines (``geokb.log.codec.decode``): random bytes, random JSON envelopes and mutations
  of real lines. Only :class:`InvalidEvent` may come out; a line that decodes re-encodes
  to the same bytes, and applying it to a projection gives at worst ``InvalidEvent``.
* Claim files (``claimfile.load_document`` + ``KnowledgeBase.ingest``): random bytes,
  mutated YAML and random documents of the right shape with values of any type. Only
  :class:`GeoKBError` subclasses may come out (never ``KeyError``/``TypeError``/…), and a
  refused file changes nothing.
* The read API (names, ``as_of``, ``valid_at``): only domain errors.
* The HTTP API, from its own OpenAPI description (schemathesis, in process): no 500s.

Every crash these found is pinned as a regression test at the end of this file or in
tests/reliability/test_hostile_input.py. ``GEOKB_LONG=1`` (``scripts/reliability/fuzz.py``)
raises the
number of examples; ``scripts/reliability/fuzz_atheris.py`` fuzzes the same targets with
atheris for a fixed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geokb.errors import BadTime, GeoKBError, InvalidEvent
from geokb.kb import KnowledgeBase
from geokb.log.codec import canonical_json, content_hash, decode, encode
from geokb.log.events import EVENT_TYPES
from geokb.projection.store import ProjectionStore
from geokb.write.claimfile import load_document
from tests.harness.reliability import make_base_kb

LONG = os.environ.get("GEOKB_LONG") == "1"
FUZZ = settings(max_examples=5000 if LONG else 60, deadline=None,
                suppress_health_check=list(HealthCheck))
TOKEN = "fuzz-token-" + "9" * 24


# -- shared KBs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    directory = tmp_path_factory.mktemp("fuzz") / "kb"
    make_base_kb(directory)
    return KnowledgeBase(directory)


@pytest.fixture(scope="module")
def real_lines(kb: KnowledgeBase) -> list[bytes]:
    return (kb.directory / "events.jsonl").read_bytes().splitlines(keepends=True)


def decode_is_safe(line: bytes) -> None:
    """The property of the event-line parser."""
    try:
        event = decode(line)
    except InvalidEvent:
        return
    assert encode(event) == line.rstrip(b"\n") + b"\n", "decoded but not canonical"
    store = ProjectionStore()
    with contextlib.suppress(InvalidEvent):
        store.apply([type(event)(**{**event.__dict__, "position": 1})])


# -- event lines ------------------------------------------------------------------------------

JSON_SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
                | st.text(max_size=20) | st.sampled_from(["", "https://w3id.org/geokb/id/x",
                                                          "0" * 64, "2026-01-01T00:00:00Z"]))
JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
KEYS = st.sampled_from(["id", "type", "schema", "seq", "recorded_at", "recorded_by", "payload",
                        "prev", "hash", "idem", "extra"])
PAYLOAD_KEYS = st.sampled_from(["claim", "subject", "predicate", "object", "modality", "source",
                                "evidence", "speaker", "reported_via", "valid_from",
                                "valid_until", "confidence", "note", "entity", "types", "label",
                                "aliases", "same_as", "description", "sha256", "title",
                                "reason", "by", "delete", "insert", "operation", "published",
                                "language", "url", "publisher"])


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    """Envelopes of roughly the right shape, canonical, with a correct hash (so that the
    payload checks, not the hash check, are what the fuzzer reaches)."""
    env: dict[str, Any] = {
        "id": draw(st.sampled_from(["a" * 32, "x"]) | st.text(max_size=5)),
        "type": draw(st.sampled_from(EVENT_TYPES) | st.text(max_size=8)),
        "schema": draw(st.sampled_from([1, 1, 1, 2, 0, True, "1"])),
        "seq": draw(st.integers(-1, 5) | st.booleans()),
        "recorded_at": draw(st.sampled_from(["2026-01-01T00:00:00.000000Z", "2026-13-01",
                                             "２０２６-01-01T00:00:00Z"])),
        "recorded_by": draw(st.text(max_size=10) | st.integers()),
        "payload": draw(st.dictionaries(PAYLOAD_KEYS, JSON, max_size=8) | JSON),
        "prev": "0" * 64,
    }
    for key in draw(st.lists(KEYS, max_size=2)):
        if draw(st.booleans()):
            env.pop(key, None)
        else:
            env[key] = draw(JSON)
    try:
        env["hash"] = content_hash(env)
        text = canonical_json(env)
    except (InvalidEvent, TypeError, ValueError):
        text = json.dumps(env, default=str)
    return (text + "\n").encode("utf-8", "surrogatepass")


@FUZZ
@given(st.binary(max_size=400))
@example(b'{"seq":' + b"9" * 5000 + b"}\n")
@example(b"[" * 100_000 + b"]" * 100_000 + b"\n")
def test_decode_random_bytes(line: bytes) -> None:
    decode_is_safe(line)


@FUZZ
@given(envelopes())
def test_decode_random_envelopes(line: bytes) -> None:
    decode_is_safe(line)


@FUZZ
@given(data=st.data())
def test_decode_mutated_real_lines(real_lines: list[bytes], data: st.DataObject) -> None:
    line = bytearray(data.draw(st.sampled_from(real_lines)))
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(line) - 1))
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "dup"]))
        if kind == "flip":
            line[where] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            line[where:where] = data.draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del line[where:where + data.draw(st.integers(1, 8))]
        else:
            line[where:where] = line[where:where + data.draw(st.integers(1, 40))]
    decode_is_safe(bytes(line))


@FUZZ
@given(data=st.data())
def test_decode_real_payloads_with_fuzzed_fields(real_lines: list[bytes],
                                                 data: st.DataObject) -> None:
    """A real event with one payload field replaced, re-hashed: checks must catch it."""
    env = json.loads(data.draw(st.sampled_from(real_lines)))
    payload = env["payload"]
    key = data.draw(st.sampled_from(sorted(payload)) | PAYLOAD_KEYS)
    payload[key] = data.draw(JSON | st.text(string.printable, max_size=30))
    if isinstance(payload.get("evidence"), dict) and data.draw(st.booleans()):
        payload["evidence"][data.draw(st.sampled_from(["start", "end", "quote", "sha256"]))] = \
            data.draw(JSON)
    try:
        env["hash"] = content_hash(env)
        line = (canonical_json(env) + "\n").encode("utf-8")
    except (InvalidEvent, TypeError, ValueError):
        return
    decode_is_safe(line)


# -- claim files --------------------------------------------------------------------------------

ANY = st.recursive(JSON_SCALARS | st.floats(allow_nan=True) | st.dates(),
                   lambda inner: st.lists(inner, max_size=3)
                   | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)
SLUGS = st.sampled_from(["art", "tartus-naval-base", "syria", "digi24", "al-shaibani",
                         "tartus-unclear", "new-1", "../x", "Bad Slug", ""])


def _field(name: str) -> st.SearchStrategy[Any]:
    good = {
        "id": SLUGS, "subject": SLUGS, "speaker": SLUGS, "source": SLUGS, "claim": SLUGS,
        "by": SLUGS, "predicate": st.sampled_from(["gk:status", "gk:needs", "status", "x:y"]),
        "object": st.sampled_from(["status:uncertain", "id:syria", "nope"])
        | st.fixed_dictionaries({"text": st.text(max_size=10)},
                                optional={"lang": st.sampled_from(["en", "x", "en-a"])}),
        "modality": st.sampled_from(["asserted", "quoted", "rumour"]),
        "quote": st.sampled_from(["Their future remains unclear", "Syria", "zzz"]),
        "types": st.lists(st.sampled_from(["gk:Person", "gk:NavalBase", "gk:Nope"]), max_size=2),
        "valid_at": st.sampled_from(["2024", "2024-02-30", "2024-13"]),
        "confidence": st.sampled_from(["0.5", "2", "x"]),
        "reported_via": st.lists(SLUGS, max_size=2),
    }.get(name, st.text(max_size=12))
    return good | ANY


@st.composite
def claim_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Claim files with the right sections and fields, holding values of every type."""
    fields = {
        "sources": ["id", "text", "file", "title", "published", "language", "url"],
        "entities": ["id", "types", "label", "aliases", "same_as", "description"],
        "claims": ["id", "subject", "predicate", "object", "modality", "source", "quote",
                   "occurrence", "start", "speaker", "reported_via", "valid_from",
                   "valid_until", "valid_at", "confidence", "note"],
        "retractions": ["claim", "reason"], "supersessions": ["claim", "by", "reason"],
    }
    doc: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3,
                                 unique=True)):
        items = []
        for _ in range(draw(st.integers(0, 2))):
            names = draw(st.lists(st.sampled_from(fields[section]), max_size=8, unique=True))
            items.append({n: draw(_field(n)) for n in names})
        doc[section] = items if draw(st.integers(0, 9)) else draw(ANY)
    if draw(st.booleans()):
        doc["recorded_by"] = draw(ANY)
    return doc


def ingest_is_safe(kb: KnowledgeBase, data: bytes, name: str) -> None:
    """Load and ingest; only domain errors, and a refusal changes nothing."""
    log = kb.directory / "events.jsonl"
    before = log.read_bytes()
    try:
        doc = load_document(data, name=name)
        kb.ingest(doc, base_dir=kb.directory)
    except GeoKBError:
        assert log.read_bytes() == before, "a refused claim file changed the log"


@FUZZ
@given(st.binary(max_size=300))
def test_claim_file_random_bytes(kb: KnowledgeBase, data: bytes) -> None:
    ingest_is_safe(kb, data, "fuzz.yaml")
    ingest_is_safe(kb, data, "fuzz.json")


@FUZZ
@given(claim_documents(), st.sampled_from(["yaml", "json"]))
def test_claim_file_random_documents(kb: KnowledgeBase, doc: dict[str, Any], fmt: str) -> None:
    if fmt == "yaml":
        data = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    else:
        data = json.dumps(doc, default=str).encode("utf-8", "surrogatepass")
    ingest_is_safe(kb, data, f"fuzz.{fmt}")


@FUZZ
@given(data=st.data())
def test_claim_file_mutated_yaml(kb: KnowledgeBase, data: st.DataObject) -> None:
    from tests.harness.documents import mini_document

    text = bytearray(yaml.safe_dump(mini_document(), allow_unicode=True).encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 6))):
        where = data.draw(st.integers(0, len(text) - 1))
        piece = data.draw(st.sampled_from([b"&a ", b"*a", b"!!binary ", b"!!python/name:os.x ",
                                           b"- ", b": ", b"\t", b"\x00", b"\xff", b"{", b"]",
                                           b"<<: ", b"? ", b"'", b'"', b"\n  ", b"1" * 50]))
        text[where:where] = piece
    ingest_is_safe(kb, bytes(text), "fuzz.yaml")


# -- the read API --------------------------------------------------------------------------------

NAMES = st.text(max_size=40) | st.sampled_from(["http://x y", "id:", "gk:", "a" * 3000,
                                                 "tartus", "Tartus naval base"])


@FUZZ
@given(NAMES, st.none() | st.text(max_size=30) | st.integers(-5, 10**20),
       st.none() | st.text(max_size=12))
@example("tartus", "²", None)
@example("tartus", "9" * 5000, None)
@example("tartus", "0001-01-01T00:00:00+01:00", None)
@example("http://x y", None, None)
def test_read_api_only_domain_errors(kb: KnowledgeBase, name: str, as_of: Any,
                                     valid_at: str | None) -> None:
    for call in (lambda: kb.status(name, as_of=as_of, valid_at=valid_at),
                 lambda: kb.timeline(name, as_of=as_of, valid_at=valid_at),
                 lambda: kb.claim(name, as_of=as_of),
                 lambda: kb.source(name),
                 lambda: list(kb.history(about=name, limit=3))):
        with contextlib.suppress(GeoKBError):
            call()


# -- the HTTP API from its OpenAPI description ---------------------------------------------------


def fuzz_api(directory: Path, examples: int) -> dict[str, Any]:
    """Every operation of ``/openapi.json``, positive and negative cases (schemathesis), in
    process; returns the count of calls, of each status, and every 5xx seen."""
    import schemathesis
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error

    from geokb.http.app import Settings, create_app

    kb = KnowledgeBase(directory)
    app = create_app(kb, Settings(tokens={"fuzzer": TOKEN}, query_timeout=2.0,
                                  max_rows=5000))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    report: dict[str, Any] = {"calls": 0, "statuses": {}, "server_errors": [],
                              "operations": 0}
    for result in schema.get_all_operations():
        operation = result.ok()
        report["operations"] += 1
        for mode in schemathesis.GenerationMode:
            @settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                if case.path == "/api/events/stream":  # an endless stream: bound it, and
                    case.query = {**(case.query or {}), "limit": 1}  # start where events are
                    if isinstance(case.query.get("after"), int):
                        case.query["after"] = 0
                    if case.headers and str(case.headers.get("Last-Event-ID", "")).isdigit():
                        case.headers["Last-Event-ID"] = "0"
                headers = {"Authorization": f"Bearer {TOKEN}"} if case.method != "GET" else {}
                response = case.call(headers=headers)
                report["calls"] += 1
                status = str(response.status_code)
                report["statuses"][status] = report["statuses"].get(status, 0) + 1
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except Exception as exc:  # schemathesis raises its own failure types
                    report["server_errors"].append(f"{case.method} {case.formatted_path}: "
                                                   f"{response.status_code} {exc}"[:500])

            try:
                call()
            except Unsatisfiable:  # e.g. no invalid request exists for an operation
                report["unsatisfiable"] = report.get("unsatisfiable", 0) + 1
    return report


def test_api_has_no_server_errors(tmp_path: Path) -> None:
    pytest.importorskip("schemathesis")
    pytest.importorskip("geokb.http.app")
    directory = tmp_path / "kb"
    make_base_kb(directory)
    report = fuzz_api(directory, 400 if LONG else 4)
    print(f"schemathesis: {report['operations']} operations, {report['calls']} calls, "
          f"statuses {report['statuses']}")
    assert report["operations"] >= 10
    assert not report["server_errors"], "\n".join(report["server_errors"][:10])


# -- regressions: crashes the fuzzers found -----------------------------------------------------


@pytest.mark.parametrize("data, name", [
    (b"claims: " + b"1" * 5000, "x.yaml"),           # ValueError: int of > 4300 digits
    (b'{"claims": ' + b"1" * 5000 + b"}", "x.json"),  # the same in JSON
    (b"claims: [{valid_from: 2024-13-45}]", "x.yaml"),  # ValueError: impossible timestamp
    (b"claims: [{x: 2024-01-01T99:00:00}]", "x.yaml"),  # ValueError: hour 99
])
def test_claim_file_values_python_refuses_are_domain_errors(data: bytes, name: str) -> None:
    with pytest.raises(InvalidEvent, match="cannot parse"):
        load_document(data, name=name)


@pytest.mark.parametrize("spec, message", [
    ({"start": "5"}, "start"),                      # TypeError in slicing
    ({"occurrence": "2"}, "occurrence"),            # TypeError comparing str and int
    ({"reported_via": 5}, "list"),                  # TypeError: int is not iterable
    ({"object": {"value": "x", "datatype": "nope:x"}}, "prefix"),  # ValueError from expand
    ({"object": "http://a%zz"}, "IRI"),             # ValueError from pyoxigraph NamedNode
    ({"speaker": "http://[::1"}, "IRI"),
])
def test_claim_fields_of_the_wrong_kind_are_domain_errors(kb: KnowledgeBase,
                                                          spec: dict[str, Any],
                                                          message: str) -> None:
    base = {"id": "reg-1", "subject": "tartus-naval-base", "predicate": "gk:status",
            "object": "status:uncertain", "modality": "asserted", "source": "art",
            "quote": "Their future remains unclear"}
    with pytest.raises(GeoKBError, match=message):
        kb.assert_claim({**base, **spec})


@pytest.mark.parametrize("entity", [{"aliases": 5}, {"same_as": 5}, {"same_as": ["q42"]},
                                    {"same_as": ["http://a%zz"]}])
def test_entity_fields_of_the_wrong_kind_are_domain_errors(kb: KnowledgeBase,
                                                           entity: dict[str, Any]) -> None:
    with pytest.raises(GeoKBError):
        kb.declare_entity({"id": "reg-e", "types": ["gk:Person"], "label": "E", **entity})


def test_event_line_with_huge_integer_is_invalid() -> None:
    with pytest.raises(InvalidEvent):
        decode(b'{"seq":' + b"9" * 5000 + b"}\n")


def test_iri_and_language_checks_agree_with_pyoxigraph() -> None:
    """What the codec accepts, the projection can store (a ValueError on replay before)."""
    from geokb.log.schemas import check_iri, check_lang

    for iri in ["http://a%zz", "http://[::1", "http://a\x01b", "http://a/#b#c", "urn:x:\x7f",
                "http://a\n", "http://a\ufffeb"]:
        with pytest.raises(InvalidEvent):
            check_iri(iri, "x")
    for tag in ["a", "en-a", "en\n", "abcdefgh-abcdefgh-a"]:
        with pytest.raises(InvalidEvent):
            check_lang(tag)
    with pytest.raises(InvalidEvent):
        from geokb.log.schemas import date_bounds

        date_bounds("２０２４")


def test_as_of_edge_values_are_domain_errors(kb: KnowledgeBase) -> None:
    for value in ["²", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", -1]:
        with pytest.raises(BadTime):
            kb.resolve_as_of(value)
    assert kb.resolve_as_of("9" * 5000) == kb.position  # later than any position: now


def test_history_limit_zero_yields_nothing(kb: KnowledgeBase) -> None:
    assert list(kb.history(limit=0)) == []
    with pytest.raises(InvalidEvent):
        list(kb.history(about="nope:x"))


def test_an_agent_name_that_would_make_an_unreadable_line_is_refused(tmp_path: Path) -> None:
    """`--as` with megabytes (or a newline) used to write a line no reader accepts."""
    directory = tmp_path / "kb"
    make_base_kb(directory)
    kb = KnowledgeBase(directory)
    before = (directory / "events.jsonl").read_bytes()
    for agent in ["x" * 2_000_000, "a\nb", ""]:
        with pytest.raises(InvalidEvent, match="recorded_by"):
            kb.declare_entity({"id": "ag", "types": ["gk:Person"], "label": "A"},
                              recorded_by=agent)
    with pytest.raises(InvalidEvent, match="idem"):
        kb.assert_claim({"id": "k1", "subject": "tartus-naval-base", "predicate": "gk:status",
                         "object": "status:uncertain", "modality": "asserted",
                         "source": "art", "quote": "Their future remains unclear"},
                        idempotency_key="k" * 5000)
    assert (directory / "events.jsonl").read_bytes() == before


@pytest.mark.parametrize("doc", [
    {"entities": [{"id": 5, "types": ["gk:Person"], "label": "Five"}]},   # ID[5]: TypeError
    {"sources": [{"id": 7, "text": "x", "title": "t"}]},                   # SOURCE[7]
    {"entities": [{"id": "e9", 1: "x", None: "y"}]},                      # sorted([1, None])
    {"claims": [{"id": "c9", 2: "x", "z": 1}]},
])
def test_claim_file_keys_and_ids_of_other_types(kb: KnowledgeBase, doc: dict[Any, Any]) -> None:
    """Found by the long fuzzing run: YAML ids and keys need not be strings."""
    log = kb.directory / "events.jsonl"
    before = log.read_bytes()
    try:
        kb.ingest(doc, base_dir=kb.directory)
    except GeoKBError:
        assert log.read_bytes() == before

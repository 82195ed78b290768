"""The payload schemas of the event types: what each payload may hold, field by field.

Every check raises :class:`InvalidEvent` naming the field. The log's decoder
(:func:`geokb.log.codec.decode`) runs :func:`check_payload` on every line it reads, and
admission runs it on every event before it is written; both share these checks so the
log never holds a payload the projection cannot turn into quads.

Size: one table of every event type's fields, for both schema versions (1 and 2): split,
it would scatter the one contract that the writer, the decoder and the replay share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from pyoxigraph import Literal, NamedNode

from geokb.errors import BadTime, InvalidEvent
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    CLAIMS_LINKED,
    ENTITY_AMENDED,
    ENTITY_DECLARED,
    EVENT_TYPES,
    GRAPH_UPDATED,
    SCHEMA_VERSION,
    SOURCE_REGISTERED,
    SOURCE_RETRACTED,
    SUPPORTED_SCHEMAS,
    V2_EVENT_TYPES,
)
from geokb.times import exact_period

#: The schema versions this geokb reads (lines of version 1 stay in logs for ever).
SUPPORTED = SUPPORTED_SCHEMAS

MAX_TEXT = 10_000
# \Z, not $ (which also matches before a final newline), and ASCII digits only (\d would
# take "２０２４"): what passes here goes into N-Quads lines and typed literals verbatim.
HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+\Z")
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?\Z", re.ASCII)
_DECIMAL = re.compile(r"^(0(\.\d+)?|1(\.0+)?)\Z", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_agent(value: object, key: str = "recorded_by") -> str:
    """Return ``value`` if it can name who records events (``recorded_by``, or the
    ``verified_as`` the server vouches for).

    Raises :class:`InvalidEvent` for an empty or over-long name or control characters: an
    agent of megabytes would make a line no reader accepts.
    """
    _text({key: value}, key, limit=200)
    assert isinstance(value, str)
    return value


def check_idempotency_key(value: object) -> str:
    """Return ``value`` if it can be an idempotency key (1-200 printable characters)."""
    _text({"idem": value}, "idem", limit=200)
    assert isinstance(value, str)
    return value


def _text(payload: dict[str, Any], key: str, *, required: bool = True, limit: int = MAX_TEXT,
          multiline: bool = False) -> None:
    value = payload.get(key)
    if value is None:
        if required:
            raise InvalidEvent(f"{key!r} is required")
        return
    if not isinstance(value, str):
        raise InvalidEvent(f"{key!r} must be a string")
    if required and not value.strip():
        raise InvalidEvent(f"{key!r} must not be empty")
    if len(value) > limit:
        raise InvalidEvent(f"{key!r} is longer than {limit} characters")
    if _CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise InvalidEvent(f"{key!r} contains control characters")


def check_iri(value: object, what: str) -> str:
    """Return ``value`` if it is an absolute IRI; raise :class:`InvalidEvent` otherwise.

    >>> check_iri("https://w3id.org/geokb/id/x", "subject")
    'https://w3id.org/geokb/id/x'
    """
    if not isinstance(value, str) or not _iri_ok(value):
        raise InvalidEvent(f"{what} is not an absolute IRI: {value!r}")
    return value


@lru_cache(maxsize=65536)
def _iri_ok(value: str) -> bool:
    """Cached: the same entity and vocabulary IRIs recur in almost every event.

    The regex keeps N-Quads syntax out; pyoxigraph then applies RFC 3987 (percent escapes,
    hosts, code points), as the projection will.
    """
    if len(value) > 2000 or not _IRI.match(value):
        return False
    try:
        NamedNode(value)
    except ValueError:
        return False
    return True


def check_lang(value: object) -> str:
    """Return ``value`` if it is a well-formed BCP 47 tag; raise :class:`InvalidEvent`.

    >>> check_lang("en-GB")
    'en-GB'
    """
    if not isinstance(value, str) or not _LANG.match(value):
        raise InvalidEvent(f"invalid language tag: {value!r}")
    try:
        Literal("", language=value)
    except ValueError as exc:
        raise InvalidEvent(f"invalid language tag {value!r}: {exc}") from exc
    return value


def date_bounds(value: str) -> tuple[date, date, str]:
    """Earliest and latest day of a date of day, month or year precision, and the precision.

    >>> date_bounds("2024-12")
    (datetime.date(2024, 12, 1), datetime.date(2024, 12, 31), 'month')
    >>> date_bounds("2015")[2]
    'year'

    Raises :class:`InvalidEvent` for a malformed or impossible date.
    """
    if not isinstance(value, str):  # before the cache: a list is not even hashable
        raise InvalidEvent(f"invalid date {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    return _date_bounds(value)


def field_date(payload: Mapping[str, Any], key: str) -> tuple[date, date, str]:
    """:func:`date_bounds` of ``payload[key]``, naming the field when it is refused.

    >>> field_date({"valid_from": "2024-13-01"}, "valid_from")
    Traceback (most recent call last):
    geokb.errors.InvalidEvent: 'valid_from': impossible date '2024-13-01': month must be in 1..12
    """
    try:
        return date_bounds(payload[key])
    except InvalidEvent as exc:
        raise InvalidEvent(f"{key!r}: {exc}") from None


def _date_bounds(value: str) -> tuple[date, date, str]:
    try:
        return exact_period(value)  # the one date grammar (geokb.times)
    except BadTime as exc:  # a date in an event, not in a request
        raise InvalidEvent(str(exc)) from None


def _object_term(obj: object) -> None:
    if not isinstance(obj, dict):
        raise InvalidEvent("'object' must be {'iri': …} or {'value': …, 'lang'|'datatype': …}")
    if "iri" in obj:
        if set(obj) != {"iri"}:
            raise InvalidEvent("an IRI object has only the key 'iri'")
        check_iri(obj["iri"], "object")
        return
    if set(obj) - {"value", "lang", "datatype"} or "value" not in obj:
        raise InvalidEvent("a literal object has 'value' and optionally 'lang' or 'datatype'")
    _text(obj, "value")
    if "lang" in obj and "datatype" in obj:
        raise InvalidEvent("a literal has a language tag or a datatype, not both")
    if "lang" in obj:
        check_lang(obj["lang"])
    if "datatype" in obj:
        check_iri(obj["datatype"], "datatype")


def _string_list(payload: dict[str, Any], key: str, *, iris: bool = False) -> None:
    value = payload.get(key, [])
    if not isinstance(value, list):
        raise InvalidEvent(f"{key!r} must be a list")
    if len(value) > 100:
        raise InvalidEvent(f"{key!r} has more than 100 items")
    for item in value:
        if iris:
            check_iri(item, key)
        else:
            _text({key: item}, key, limit=500)


def _only(payload: dict[str, Any], allowed: set[str], kind: str) -> None:
    unknown = set(payload) - allowed
    if unknown:
        raise InvalidEvent(f"{kind}: unknown field(s) {', '.join(sorted(unknown))}")


def check_schema(schema: object) -> int:
    """Return ``schema`` if this geokb reads that version; raise :class:`InvalidEvent`."""
    if isinstance(schema, bool) or schema not in SUPPORTED:
        readable = ", ".join(map(str, SUPPORTED))
        raise InvalidEvent(f"unsupported schema version {schema!r} (this geokb reads "
                           f"{readable})")
    assert isinstance(schema, int)
    return schema


def check_payload(event_type: str, payload: dict[str, Any], *,
                  schema: int = SCHEMA_VERSION) -> None:
    """Check the structure of a payload written in ``schema``.

    Raises :class:`InvalidEvent` naming the field.
    """
    if event_type not in EVENT_TYPES:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    check_schema(schema)
    if event_type in V2_EVENT_TYPES:
        if schema < 2:
            raise InvalidEvent(f"{event_type} exists only from schema version 2 on")
        _check_v2_event(event_type, payload)
        return
    if schema >= 2:
        payload = _check_v2_fields(event_type, payload)
    if event_type == SOURCE_REGISTERED:
        _only(payload, {"source", "sha256", "title", "publisher", "url", "published", "language",
                        "media_type", "description", "byline", "section"}, event_type)
        check_iri(payload.get("source"), "source")
        if not isinstance(payload.get("sha256"), str) or not HEX64.match(payload["sha256"]):
            raise InvalidEvent("'sha256' must be 64 lower-case hex digits")
        _text(payload, "title", limit=1000)
        for key in ("description", "byline", "section", "media_type"):
            _text(payload, key, required=False, limit=2000)
        if payload.get("publisher") is not None:
            check_iri(payload["publisher"], "publisher")
        if payload.get("url") is not None:
            check_iri(payload["url"], "url")
        if payload.get("published") is not None:
            field_date(payload, "published")
        if payload.get("language") is not None:
            check_lang(payload["language"])
    elif event_type == ENTITY_DECLARED:
        _only(payload, {"entity", "types", "label", "aliases", "same_as", "description"},
              event_type)
        check_iri(payload.get("entity"), "entity")
        types = payload.get("types")
        if not isinstance(types, list) or not types:
            raise InvalidEvent("'types' must be a non-empty list of class IRIs")
        _string_list(payload, "types", iris=True)
        _text(payload, "label", limit=500)
        _string_list(payload, "aliases")
        _string_list(payload, "same_as", iris=True)
        _text(payload, "description", required=False, limit=2000)
    elif event_type == CLAIM_ASSERTED:
        _only(payload, {"claim", "subject", "predicate", "object", "modality", "source",
                        "evidence", "speaker", "reported_via", "valid_from", "valid_until",
                        "confidence", "note"}, event_type)
        for key in ("claim", "subject", "predicate", "modality", "source"):
            check_iri(payload.get(key), key)
        _object_term(payload.get("object"))
        if payload.get("speaker") is not None:
            check_iri(payload["speaker"], "speaker")
        _string_list(payload, "reported_via", iris=True)
        evidence = payload.get("evidence")
        if not isinstance(evidence, dict):
            raise InvalidEvent("'evidence' is required: "
                               "{quote, start, end, prefix, suffix, sha256}")
        _only(evidence, {"quote", "start", "end", "prefix", "suffix", "sha256"}, "evidence")
        _text(evidence, "quote", limit=5000, multiline=True)
        for key in ("prefix", "suffix"):
            if not isinstance(evidence.get(key), str):
                raise InvalidEvent(f"evidence {key!r} must be a string")
        for key in ("start", "end"):
            v = evidence.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InvalidEvent(f"evidence {key!r} must be a non-negative integer")
        if evidence["end"] - evidence["start"] != len(evidence["quote"]):
            raise InvalidEvent("evidence 'end' - 'start' must equal the length of the quote")
        if not isinstance(evidence.get("sha256"), str) or not HEX64.match(evidence["sha256"]):
            raise InvalidEvent("evidence 'sha256' must be 64 lower-case hex digits")
        bounds = []
        for key in ("valid_from", "valid_until"):
            if payload.get(key) is not None:
                bounds.append(field_date(payload, key))
        if len(bounds) == 2 and bounds[0][0] > bounds[1][1]:
            raise InvalidEvent("'valid_from' is after 'valid_until'")
        conf = payload.get("confidence")
        if conf is not None and (not isinstance(conf, str) or not _DECIMAL.match(conf)):
            raise InvalidEvent("'confidence' must be a decimal string between 0 and 1, e.g. '0.8'")
        _text(payload, "note", required=False, limit=2000, multiline=True)
    elif event_type == CLAIM_RETRACTED:
        _only(payload, {"claim", "reason"}, event_type)
        check_iri(payload.get("claim"), "claim")
        _text(payload, "reason", limit=2000, multiline=True)
    elif event_type == CLAIM_SUPERSEDED:
        _only(payload, {"claim", "by", "reason", "cross_entity"}, event_type)
        check_iri(payload.get("claim"), "claim")
        check_iri(payload.get("by"), "by")
        if payload["claim"] == payload["by"]:
            raise InvalidEvent("a claim cannot supersede itself")
        _text(payload, "reason", limit=2000, multiline=True)
        # why a claim about one entity replaces a claim about another (optional, v2)
        _text(payload, "cross_entity", required=False, limit=2000, multiline=True)
    elif event_type == GRAPH_UPDATED:
        _only(payload, {"delete", "insert", "operation"}, event_type)
        for key in ("delete", "insert"):
            value = payload.get(key)
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise InvalidEvent(f"{key!r} must be a list of N-Quads lines")
        _text(payload, "operation", required=False, limit=100_000, multiline=True)


# --- schema 2 -------------------------------------------------------------------------

_GRADE_IRI = {"reliability": re.compile(r"^https://w3id\.org/geokb/reliability/[A-F]\Z"),
              "credibility": re.compile(r"^https://w3id\.org/geokb/credibility/[1-6]\Z")}
_LINK_KEYS = ("denies", "confirms", "contradicts")
_V2_FIELDS = {
    SOURCE_REGISTERED: frozenset({"reliability", "credibility"}),
    ENTITY_DECLARED: frozenset({"curator_aliases"}),
    CLAIM_ASSERTED: frozenset({"speakers", "speech_act", "basis", "occasion", "said_on",
                               *_LINK_KEYS, "reliability", "credibility"}),
}


def _check_v2_fields(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Check the fields schema 2 adds to ``event_type``; return the payload without them."""
    added = _V2_FIELDS.get(event_type, frozenset())
    if event_type == CLAIM_ASSERTED and "speaker" in payload:
        raise InvalidEvent("'speaker' is schema 1: a schema 2 claim names its speakers in "
                           "'speakers': [{'entity': IRI}]")
    for key in ("reliability", "credibility"):
        if key in added and key in payload:
            value = payload[key]
            if not isinstance(value, str) or not _GRADE_IRI[key].match(value):
                scale = "A-F" if key == "reliability" else "1-6"
                raise InvalidEvent(f"{key!r} must be an Admiralty grade IRI ({scale}), "
                                   f"got {value!r}"[:300])
    if event_type == ENTITY_DECLARED:
        _string_list(payload, "curator_aliases")
    elif event_type == CLAIM_ASSERTED:
        _check_speakers(payload)
        for key in ("speech_act", "occasion"):
            if key in payload:
                check_iri(payload[key], key)
        if "basis" in payload:
            _non_empty_list(payload, "basis")
            _string_list(payload, "basis", iris=True)
        if "said_on" in payload:
            field_date(payload, "said_on")
        for key in _LINK_KEYS:
            if key in payload:
                _links(payload, key, str(payload.get("claim")))
    return {k: v for k, v in payload.items() if k not in added}


def _non_empty_list(payload: dict[str, Any], key: str) -> None:
    if not isinstance(payload.get(key), list) or not payload[key]:
        raise InvalidEvent(f"{key!r} must be a non-empty list")


def _links(payload: dict[str, Any], key: str, claim: str) -> None:
    _non_empty_list(payload, key)
    _string_list(payload, key, iris=True)
    if claim in payload[key]:
        raise InvalidEvent(f"a claim cannot link to itself ({key!r})")
    if len(set(payload[key])) != len(payload[key]):
        raise InvalidEvent(f"{key!r} names a claim twice")


def _check_speakers(payload: dict[str, Any]) -> None:
    if "speakers" not in payload:
        return
    _non_empty_list(payload, "speakers")
    speakers = payload["speakers"]
    if len(speakers) > 100:
        raise InvalidEvent("'speakers' has more than 100 items")
    for n, item in enumerate(speakers, start=1):
        what = f"speaker {n}"
        if not isinstance(item, dict) or len(item) != 1 or not {"entity", "anonymous"} & set(item):
            raise InvalidEvent(f"{what} must be {{'entity': IRI}} or {{'anonymous': {{…}}}}")
        if "entity" in item:
            check_iri(item["entity"], what)
            continue
        anon = item["anonymous"]
        if not isinstance(anon, dict):
            raise InvalidEvent(f"{what}: 'anonymous' must be an object with a 'description'")
        _only(anon, {"description", "count", "affiliation", "spokesperson_for"}, what)
        try:
            _text(anon, "description", limit=500)
        except InvalidEvent as exc:
            raise InvalidEvent(f"{what}: {exc}") from exc
        count = anon.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                                  or not 1 <= count <= 1_000_000):
            raise InvalidEvent(f"{what}: 'count' must be an integer of at least 1")
        for key in ("affiliation", "spokesperson_for"):
            if key in anon:
                check_iri(anon[key], f"{what} {key}")


def _check_v2_event(event_type: str, payload: dict[str, Any]) -> None:
    if event_type == CLAIMS_LINKED:
        _only(payload, {"claim", *_LINK_KEYS, "note"}, event_type)
        check_iri(payload.get("claim"), "claim")
        if not any(key in payload for key in _LINK_KEYS):
            raise InvalidEvent("a ClaimsLinked names at least one of 'denies', 'confirms', "
                               "'contradicts'")
        for key in _LINK_KEYS:
            if key in payload:
                _links(payload, key, payload["claim"])
        _text(payload, "note", required=False, limit=2000, multiline=True)
    elif event_type == ENTITY_AMENDED:
        changes = {"label", "description", "add_types", "add_aliases", "remove_aliases",
                   "curator_aliases", "add_same_as"}
        _only(payload, {"entity", "reason", *changes}, event_type)
        check_iri(payload.get("entity"), "entity")
        _text(payload, "reason", limit=2000, multiline=True)
        if not changes & set(payload):
            raise InvalidEvent("an EntityAmended changes at least one of "
                               + ", ".join(sorted(changes)))
        _text(payload, "label", required="label" in payload, limit=500)
        _text(payload, "description", required="description" in payload, limit=2000)
        for key in ("add_types", "add_same_as"):
            if key in payload:
                _non_empty_list(payload, key)
                _string_list(payload, key, iris=True)
        for key in ("add_aliases", "remove_aliases", "curator_aliases"):
            if key in payload:
                _non_empty_list(payload, key)
                _string_list(payload, key)
    elif event_type == SOURCE_RETRACTED:
        _only(payload, {"source", "reason"}, event_type)
        check_iri(payload.get("source"), "source")
        _text(payload, "reason", limit=2000, multiline=True)

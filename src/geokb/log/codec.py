"""Event ⇄ canonical JSON line: the one serialization the log stores and hashes.

The canonical form is JSON with sorted keys, no insignificant whitespace, UTF-8 text
(not ``\\u`` escapes) and no floating-point numbers, so the same event always has the
same bytes and the same SHA-256. The codec also owns the envelope's schema version and
the upcasting of older versions; what a payload may hold is :mod:`geokb.log.schemas`'s
(which :func:`decode` asks, so no reader takes an event the writer would refuse).

>>> canonical_json({"b": 1, "a": "é"})
'{"a":"é","b":1}'
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from geokb.errors import InvalidEvent
from geokb.log.events import CLAIM_ASSERTED, RecordedEvent
from geokb.log.schemas import HEX64, SUPPORTED, check_agent, check_payload, check_schema

__all__ = ["SUPPORTED", "current_payload", "decode", "encode", "upcast_payload"]

ENVELOPE_KEYS = frozenset(
    {"id", "type", "schema", "seq", "recorded_at", "recorded_by", "payload", "prev", "hash", "idem",
     "verified_as"}
)
MAX_LINE_BYTES = 1_048_576
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z\Z", re.ASCII)


def _reject_floats(value: object) -> None:
    if isinstance(value, float):
        raise InvalidEvent("floating-point numbers are not allowed in events; use a string")
    if isinstance(value, dict):
        for v in value.values():
            _reject_floats(v)
    elif isinstance(value, list):
        for v in value:
            _reject_floats(v)


def canonical_json(value: Any) -> str:
    """Serialize ``value`` canonically. Raises :class:`InvalidEvent` for floats or bad text."""
    return _canonical_bytes(value).decode("utf-8")


def _canonical_bytes(value: Any) -> bytes:
    """The UTF-8 bytes of :func:`canonical_json` (serialized and encoded once)."""
    _reject_floats(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidEvent(f"text is not valid Unicode: {exc.reason}") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def envelope_of(event: RecordedEvent) -> dict[str, Any]:
    """The stored dictionary of ``event``, including its hash."""
    env: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "schema": event.schema,
        "seq": event.position,
        "recorded_at": event.recorded_at,
        "recorded_by": event.recorded_by,
        "payload": event.payload,
        "prev": event.prev,
        "hash": event.hash,
    }
    if event.idempotency_key is not None:
        env["idem"] = event.idempotency_key
    if event.verified_as is not None:  # optional: older lines have none, unchanged
        env["verified_as"] = event.verified_as
    return env


def content_hash(envelope: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``envelope`` without its ``hash`` field."""
    body = {k: v for k, v in envelope.items() if k != "hash"}
    return sha256_hex(_canonical_bytes(body))


def hash_and_line(body: dict[str, Any]) -> tuple[str, bytes]:
    """The hash of an envelope without its ``hash`` field, and the envelope's canonical
    line with it: one serialization for both (``"hash"`` sorts before every other key,
    so the line is ``{"hash":"<hash>",`` followed by the body's text after its ``{``).

    >>> digest, line = hash_and_line({"id": "x", "seq": 1})
    >>> line == encode_envelope({"hash": digest, "id": "x", "seq": 1})
    True
    """
    data = _canonical_bytes(body)
    digest = sha256_hex(data)
    if len(data) <= 2:  # an empty body: no comma after the hash
        return digest, b'{"hash":"%s"}\n' % digest.encode()
    return digest, b'{"hash":"%s",%s\n' % (digest.encode(), data[1:])


def encode_envelope(envelope: dict[str, Any]) -> bytes:
    """The canonical line (with its newline) of a stored dictionary."""
    return _canonical_bytes(envelope) + b"\n"


def encode(event: RecordedEvent) -> bytes:
    """One canonical JSON line (with its newline) for ``event``."""
    return encode_envelope(envelope_of(event))


def _refuse_float(text: str) -> Any:
    raise InvalidEvent(f"floating-point number {text} in an event; numbers are integers")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


#: ``"hash"`` sorts before every other envelope key (the optional ``"verified_as"`` was
#: named to sort after it), so a canonical line starts with ``{"hash":"<64 hex>",`` and
#: the hashed body is ``{`` + the rest of the line.
_HASH_PREFIX = len('{"hash":"') + 64 + len('",')


def decode(line: bytes) -> RecordedEvent:
    """Parse one stored line. Raises :class:`InvalidEvent` saying what is wrong with it.

    The line must be canonical (re-encoding gives the same bytes, so a hand edit that
    changes only spacing or key order is caught too) and must match its own hash. The
    order is parse → canonical form → hash → payload (checked against the schema version
    the line was written in): the hash covers the line as stored, so the event is returned
    with its stored ``schema`` and payload, unchanged, and ``encode(decode(line)) == line``.
    Readers that interpret payloads call :func:`current_payload`.
    """
    if len(line) > MAX_LINE_BYTES:
        raise InvalidEvent(f"line is longer than {MAX_LINE_BYTES} bytes")
    try:
        text = line.decode("utf-8").rstrip("\n")
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"line is not valid UTF-8 (byte {exc.start})") from exc
    try:
        env = json.loads(text, parse_float=_refuse_float, parse_constant=_refuse_float)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"line is not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError as exc:
        raise InvalidEvent("line is nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InvalidEvent(f"line is not valid JSON: {exc}") from exc
    if not isinstance(env, dict):
        raise InvalidEvent("line is not a JSON object")
    check_schema(env.get("schema"))  # first: a newer line must say so, not "unknown field"
    unknown = set(env) - ENVELOPE_KEYS
    if unknown:
        raise InvalidEvent(f"unknown envelope field(s): {', '.join(sorted(unknown))}")
    for key in ("id", "type", "schema", "seq", "recorded_at", "recorded_by", "payload", "prev",
                "hash"):
        if key not in env:
            raise InvalidEvent(f"envelope field {key!r} is missing")
    if not isinstance(env["seq"], int) or isinstance(env["seq"], bool) or env["seq"] < 1:
        raise InvalidEvent("'seq' must be a positive integer")
    for key in ("id", "type", "recorded_at", "recorded_by", "prev", "hash"):
        if not isinstance(env[key], str):
            raise InvalidEvent(f"envelope field {key!r} must be a string")
    if not (HEX64.match(env["prev"]) and HEX64.match(env["hash"])):
        raise InvalidEvent("'prev' and 'hash' must be 64 lower-case hex digits")
    if _dumps(env) != text:
        raise InvalidEvent("line is not in canonical form (edited by hand?)")
    if sha256_hex(("{" + text[_HASH_PREFIX:]).encode("utf-8")) != env["hash"]:
        raise InvalidEvent(f"event {env['id']} does not match its hash (edited after it was "
                           "recorded)")
    if not _TIMESTAMP.match(env["recorded_at"]):
        raise InvalidEvent(f"'recorded_at' is not a UTC timestamp: {env['recorded_at']!r}")
    if not isinstance(env["payload"], dict):
        raise InvalidEvent("'payload' must be an object")
    check_payload(env["type"], env["payload"], schema=env["schema"])
    if "idem" in env and not isinstance(env["idem"], str):
        raise InvalidEvent("'idem' must be a string")
    if "verified_as" in env:
        check_agent(env["verified_as"], "verified_as")
    return RecordedEvent(
        id=env["id"], type=env["type"], schema=env["schema"], position=env["seq"],
        recorded_at=env["recorded_at"], recorded_by=env["recorded_by"], payload=env["payload"],
        prev=env["prev"], hash=env["hash"], idempotency_key=env.get("idem"),
        verified_as=env.get("verified_as"),
    )


def upcast_payload(event_type: str, payload: dict[str, Any], schema: int) -> dict[str, Any]:
    """``payload`` (of schema version ``schema``) in the form of the current version.

    The only step from 1 to 2: a ``ClaimAsserted``'s ``"speaker": X`` becomes
    ``"speakers": [{"entity": X}]``; every other v1 payload is already a v2 payload.
    The argument is not changed (a new dictionary is returned when anything moves).

    >>> upcast_payload("ClaimAsserted", {"claim": "c", "speaker": "s"}, 1)
    {'claim': 'c', 'speakers': [{'entity': 's'}]}
    """
    check_schema(schema)
    if schema == 1 and event_type == CLAIM_ASSERTED and "speaker" in payload:
        out = {k: v for k, v in payload.items() if k != "speaker"}
        if payload["speaker"] is not None:
            out["speakers"] = [{"entity": payload["speaker"]}]
        return out
    return payload


def current_payload(event: RecordedEvent) -> dict[str, Any]:
    """The payload of ``event`` upcast to the current schema version, in memory only.

    The log keeps every line as it was written (its hash covers it); the projection,
    admission and the name index read payloads through this function, so they handle
    one form per event type.
    """
    return upcast_payload(event.type, event.payload, event.schema)

from __future__ import annotations

import pytest

from geokb.errors import InvalidEvent
from geokb.log.codec import canonical_json, decode, encode
from geokb.log.contract import EMPTY_HEAD, seal
from geokb.log.events import Event


def _event() -> bytes:
    [e] = seal([Event("ClaimRetracted", {"claim": "https://w3id.org/geokb/claim/x",
                                         "reason": "wrong"})], EMPTY_HEAD, "tester")
    return encode(e)


def test_same_event_same_bytes() -> None:
    line = _event()
    assert encode(decode(line)) == line
    assert line.endswith(b"\n") and line.count(b"\n") == 1


def test_non_canonical_line_is_refused() -> None:
    line = _event().decode()
    spaced = line.replace('"type":', '"type": ', 1)
    with pytest.raises(InvalidEvent, match="canonical"):
        decode(spaced.encode())


def test_floats_are_refused() -> None:
    with pytest.raises(InvalidEvent, match="floating-point"):
        canonical_json({"confidence": 0.5})


@pytest.mark.parametrize("bad, message", [
    (b"\xff\xfe{}\n", "UTF-8"),
    (b"{not json\n", "not valid JSON"),
    (b"[1,2]\n", "not a JSON object"),
    (b'{"schema":3}\n', r"unsupported schema version 3 \(this geokb reads 1, 2\)"),
])
def test_broken_lines_are_named(bad: bytes, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        decode(bad)


@pytest.mark.parametrize("payload, message", [
    ({"claim": "not an iri", "reason": "x"}, "not an absolute IRI"),
    ({"claim": "https://w3id.org/geokb/claim/x", "reason": ""}, "must not be empty"),
    ({"claim": "https://w3id.org/geokb/claim/x", "reason": "a\x00b"}, "control characters"),
    ({"claim": "https://w3id.org/geokb/claim/x", "reason": "r", "extra": 1}, "unknown field"),
])
def test_payload_checks(payload: dict[str, object], message: str) -> None:
    from geokb.log.schemas import check_payload

    with pytest.raises(InvalidEvent, match=message):
        check_payload("ClaimRetracted", payload)


@pytest.mark.parametrize("value, message", [
    ("2024-13", "impossible date"), ("2023-02-29", "impossible date"),
    ("24-12", "invalid date"), ("December 2024", "invalid date"),
])
def test_bad_dates(value: str, message: str) -> None:
    from geokb.log.schemas import date_bounds

    with pytest.raises(InvalidEvent, match=message):
        date_bounds(value)

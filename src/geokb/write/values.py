"""Single values of a claim file checked before they become part of an event: JSON keys
given twice, a confidence's digits, a source URL's scheme.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from geokb.errors import InvalidEvent


def refuse_duplicate_json_keys(text: str) -> Any:
    """An ``object_pairs_hook`` that refuses a key given twice, naming its line."""
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                found = [m.start() for m in re.finditer(re.escape(json.dumps(key)) + r"\s*:",
                                                        text)]
                line = text.count("\n", 0, found[1]) + 1 if len(found) > 1 else 0
                raise InvalidEvent(f"duplicate key {key!r}" + (f" at line {line}" if line
                                                               else ""))
            out[key] = value
        return out
    return hook


#: A confidence is a decimal from 0 to 1 with at most this many digits after the point: a
#: float's binary noise (``0.30000000000000004``) is refused, not stored as if meant.
CONFIDENCE_DIGITS = 4
_CONFIDENCE = re.compile(r"(0(\.\d{1,4})?|1(\.0{1,4})?|\.\d{1,4})", re.ASCII)  # 4: above


def confidence_text(value: object) -> str:
    """``value`` as the decimal text a claim stores. Raises :class:`InvalidEvent` unless it
    is a number (or decimal text) from 0 to 1 with at most :data:`CONFIDENCE_DIGITS` digits
    after the point.

    >>> confidence_text(0.8), confidence_text("0.25"), confidence_text(1)
    ('0.8', '0.25', '1')
    """
    text = str(value) if not isinstance(value, bool) else ""
    if not _CONFIDENCE.fullmatch(text):
        raise InvalidEvent(f"'confidence' must be a decimal from 0 to 1 with at most "
                           f"{CONFIDENCE_DIGITS} digits after the point, e.g. 0.8: got "
                           f"{str(value)[:40]!r}")
    return "0" + text if text.startswith(".") else text


def check_source_url(url: str) -> None:
    """Refuse a source URL that is not ``http`` or ``https`` with a host (``javascript:``,
    ``data:``, ``file:`` … are not where a source was read). Raises :class:`InvalidEvent`.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidEvent(f"source 'url' must be an http(s) IRI with a host: "
                           f"{url[:80]!r}")


_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_INTEGER_TYPES = frozenset(_XSD + t for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte"))


def literal_problem(lexical: str, datatype: str) -> str | None:
    """Why ``lexical`` is not a value of the XSD ``datatype``, or ``None`` if it is (or the
    datatype is not one of XSD's that have a value space to check).

    >>> literal_problem("NaN", _XSD + "double"), literal_problem("2024-02-29", _XSD + "date")
    (None, None)
    >>> literal_problem("abc", _XSD + "double")
    "'abc' is not a valid xsd:double"
    >>> literal_problem("2023-02-29", _XSD + "date")
    "'2023-02-29' is not a valid xsd:date"
    """
    from rdflib.term import URIRef, XSDToPython

    bad = f"{lexical[:40]!r} is not a valid xsd:{datatype.removeprefix(_XSD)}"
    if datatype in _INTEGER_TYPES:
        return None if _INTEGER.fullmatch(lexical) else bad
    convert = XSDToPython.get(URIRef(datatype))
    if convert is None or not datatype.startswith(_XSD):
        return None
    try:
        convert(lexical)
    except (ValueError, TypeError, ArithmeticError):
        return bad
    return None

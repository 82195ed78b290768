"""Where the problems of a claim file are, and how they name its entries.

Every message about an entry reads ``FILE:LINE: <entry>: message``: the line where the
entry's mapping starts (kept by :func:`geokb.write.claimfile.load_document`), and the entry
named one way everywhere (``claim <id>``, or ``claim #<n> (no id)`` in file order).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, NamedTuple

from geokb.errors import InvalidEvent


class Located(dict[Any, Any]):
    """A mapping of a claim file that remembers where it starts: ``name`` (the file) and
    ``line`` (1-based; None for JSON and for mappings built in code)."""

    name: str = "<input>"
    line: int | None = None


def did_you_mean_key(unknown: set[Any], allowed: set[str]) -> str:
    """``"; did you mean valid_from?"`` for the unknown keys close to an allowed one."""
    close = [m for k in sorted(map(str, unknown))
             for m in difflib.get_close_matches(k, sorted(allowed), n=1)]
    return f"; did you mean {' or '.join(close)}?" if close else ""


def where(spec: Mapping[str, Any], name: str) -> str:
    """``"FILE:LINE: "`` for an entry of a claim file (``"FILE: "`` without a line)."""
    line = getattr(spec, "line", None)
    return f"{name}:{line}: " if line is not None else f"{name}: "


#: A section's entries are named "<kind> <its key>" in every message (kind, key).
ENTRY_NAMES = {
    "sources": ("source", "id"), "entities": ("entity", "id"), "claims": ("claim", "id"),
    "amend_entities": ("amendment of", "id"), "links": ("link of claim", "claim"),
    "supersessions": ("supersession of claim", "claim"),
    "retractions": ("retraction of claim", "claim"),
    "retract_sources": ("retraction of source", "source"),
}


def entry_name(section: str, spec: Mapping[str, Any], number: int) -> str:
    """How messages name the ``number``-th entry (1-based, file order) of a section.

    >>> entry_name("claims", {"id": "tartus-unclear"}, 2)
    'claim tartus-unclear'
    >>> entry_name("claims", {"quote": "…"}, 2)
    'claim #2 (no id)'
    """
    kind, key = ENTRY_NAMES[section]
    value = spec.get(key)
    return f"{kind} {value}" if isinstance(value, str) and value else f"{kind} #{number} (no id)"


class Problem(NamedTuple):
    """One problem of a claim file: its line (None: unknown) and its text
    (``FILE:LINE: claim <id>: message``)."""

    line: int | None
    text: str


class Origin(NamedTuple):
    """Where an entry is (``"FILE:LINE: "``) and how messages name it (``claim <id>``)."""

    where: str
    name: str
    line: int | None

    def problem(self, text: str) -> Problem:
        """``text`` about this entry, named once (inner messages may name it already)."""
        return Problem(self.line, f"{self.where}{text}" if text.startswith(self.name + ":")
                       else f"{self.where}{self.name}: {text}")

    def __str__(self) -> str:
        return f"{self.where}{self.name}"


class Problems:
    """The problems of one claim file, each ``FILE:LINE: <entry>: message``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.name = str(getattr(document, "name", "<input>"))
        self.found: list[Problem] = []

    def label(self, section_name: str, spec: Mapping[str, Any], number: int) -> Origin:
        return Origin(where(spec, self.name),
                       entry_name(section_name, spec, number),
                       getattr(spec, "line", None))

    def entries(self, document: Mapping[str, Any], key: str) -> list[tuple[int, Origin,
                                                                      Mapping[str, Any]]]:
        """The entries of a section, numbered from 1, with their labels; [] if malformed."""
        try:
            specs = section(document, key)
        except InvalidEvent as exc:
            self.found.append(Problem(getattr(document, "line", None),
                                      f"{where(document, self.name)}{exc}"))
            return []
        return [(i, self.label(key, spec, i), spec) for i, spec in enumerate(specs, start=1)]


def section(document: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = document.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidEvent(f"'{key}' must be a list of mappings")
    return value

"""Quotations in a sentence: curly (“…”, ‘…’) and straight ("…") quotes, exact spans.

The span of a quotation is its inside, less the comma or full stop that English places
inside the closing quote, so it is the words the speaker said.

>>> [q.text for q in find_quotations('“We are ready,” he said. "Yes."', 0, 31)]
['We are ready', 'Yes']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAIRS = (re.compile(r"“([^“”]+)”"), re.compile(r"(?<![\w])\"([^\"]+)\""),
          re.compile(r"(?<![\w])‘([^‘’]+?)’(?![\w])"))
MIN_QUOTE_WORDS = 3  # shorter ones are scare quotes unless a reporting verb frames them


@dataclass(frozen=True)
class Quotation:
    """A quotation: the span of its words and the span with its quote marks."""

    start: int
    end: int
    text: str
    outer_start: int
    outer_end: int

    @property
    def words(self) -> int:
        return len(self.text.split())


def find_quotations(text: str, start: int, end: int) -> list[Quotation]:
    """The quotations inside ``text[start:end]``, in order; nested ones are left inside."""
    chunk = text[start:end]
    found: list[Quotation] = []
    for pattern in _PAIRS:
        for m in pattern.finditer(chunk):
            a, b = m.start(1), m.end(1)
            if any(q.outer_start <= start + a < q.outer_end for q in found):
                continue
            inner = chunk[a:b]
            trimmed = inner.rstrip(" ,.;:")
            lead = len(inner) - len(inner.lstrip())
            if not trimmed.strip():
                continue
            found.append(Quotation(start + a + lead, start + a + len(trimmed),
                                   trimmed[lead:], start + m.start(), start + m.end()))
    found.sort(key=lambda q: q.start)
    return found

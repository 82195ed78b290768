"""Query results as a text table that fits a width: cells too long for their column are
cut with "…" or wrapped over several lines, never silently truncated.

>>> print(table(["a", "b"], [["x", "a long cell of text"]], width=14))
a | b
--+-----------
x | a long ce…
>>> print(table(["a", "b"], [["x", "a long cell of text"]], width=14, wrap=True))
a | b
--+-----------
x | a long
  | cell of
  | text
"""

from __future__ import annotations

import textwrap

ELLIPSIS = "…"
SEPARATOR = " | "
#: a column is never made narrower than this (or than its widest cell, if less)
MIN_COLUMN = 6


def _flat(cell: str) -> str:
    return " ".join(cell.split()) if any(c in cell for c in "\n\r\t") else cell


def column_widths(natural: list[int], width: int | None) -> list[int]:
    """Column widths within ``width`` (the whole line, separators included; None or 0:
    no limit): the widest columns are narrowed first, to a common cap.

    >>> column_widths([2, 40, 10], 30)
    [2, 12, 10]
    """
    if not width or not natural:
        return natural
    budget = width - len(SEPARATOR) * (len(natural) - 1)
    floors = [min(w, MIN_COLUMN) for w in natural]
    if sum(natural) <= budget or sum(floors) >= budget:
        return natural if sum(natural) <= budget else floors
    low, high = 0, max(natural)  # the largest cap whose widths fit
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(f, min(w, cap)) for w, f in zip(natural, floors, strict=True)) <= budget:
            low = cap
        else:
            high = cap - 1
    return [max(f, min(w, low)) for w, f in zip(natural, floors, strict=True)]


def cut(cell: str, width: int) -> str:
    """``cell`` in ``width`` characters, its end replaced by "…" when it is longer."""
    return cell if len(cell) <= width else cell[:max(width - 1, 0)] + ELLIPSIS


def _lines(cell: str, width: int, wrap: bool) -> list[str]:
    if not wrap:
        return [cut(_flat(cell), width)]
    out: list[str] = []
    for part in cell.splitlines() or [""]:
        # words are broken only when one is longer than the column (an IRI, say)
        out += textwrap.wrap(part, width, break_on_hyphens=False) or [""]
    return out


def table(variables: list[str], rows: list[list[str]], *, width: int | None = None,
          wrap: bool = False) -> str:
    """The rows under their variables, fitting ``width`` (None or 0: no limit)."""
    natural = [max([len(v), *(len(_flat(r[i])) for r in rows)]) for i, v in enumerate(variables)]
    widths = column_widths(natural, width)
    out = [SEPARATOR.join(cut(v, w).ljust(w) for v, w in zip(variables, widths, strict=True))
           .rstrip()]
    out.append("-+-".join("-" * w for w in widths))
    for r in rows:
        cells = [_lines(c, w, wrap) for c, w in zip(r, widths, strict=True)]
        for k in range(max(len(c) for c in cells) if cells else 0):
            out.append(SEPARATOR.join((c[k] if k < len(c) else "").ljust(w)
                                      for c, w in zip(cells, widths, strict=True)).rstrip())
    return "\n".join(out)

"""What a SPARQL query or update may ask for, decided before the engine sees it.

One function, :func:`guard`, is shared by the endpoint, ``geokb query``, ``geokb check``
and SPARQL Update. It refuses, with a domain error and nothing run:

* text over a size limit (:class:`~geokb.errors.TooLarge`);
* nesting deeper than :data:`MAX_DEPTH` — groups, parentheses, brackets and chains of
  unary operators — which the engine's recursive parser would otherwise overflow its
  stack on (a SIGSEGV that takes the server down); measured by a lexer that follows the
  SPARQL 1.1 terminals (IRIs, the four string forms, comments, ``\\``-escapes in local
  names), so nothing it reads as a string can hide brackets;
* remote access — ``SERVICE`` in a query, ``LOAD`` or ``SERVICE`` in an update — unless
  allowed. That is decided from a full SPARQL 1.1 grammar parse (rdflib's), never from the
  text: a query whose text cannot contain either word (after ``\\u`` escapes are decoded)
  skips the parse; any other is parsed, and one the parser cannot read is refused rather
  than guessed at.

>>> guard("SELECT * { ?s ?p ?o }")
>>> guard('SELECT * { ?s ?p "SERVICE" }')
>>> guard("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
Traceback (most recent call last):
...
geokb.errors.QueryRefused: SERVICE is refused: this server does not fetch URLs on behalf of a query
>>> guard("SELECT * " + "{" * 300 + "}" * 300)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
geokb.errors.QueryError: the query nests 300 levels deep (groups, parentheses, brackets or ...
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

from geokb import grammar
from geokb.errors import QueryError, QueryRefused, TooLarge

MAX_QUERY_CHARS = 1_000_000
MAX_DEPTH = 128

# One pattern per terminal that can contain bracket or comment characters; everything else
# is read a character at a time. The order matters: IRIs before '<' as an operator, long
# strings before short ones. The strings' loops are possessive (``++``, ``*+``; no other
# reading of a string exists to go back to): backtracking state for every character made a
# 900 kB literal cost 140 MB of memory in the server.
_LEXEME = re.compile(r"""
    (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:[^'\\]++|\\.|'(?!''))*+'''|\"\"\"(?:[^"\\]++|\\.|"(?!""))*+\"\"\"
              |'(?:[^'\\\n\r]++|\\.)*+'|"(?:[^"\\\n\r]++|\\.)*+")
  | (?P<comment>\#[^\n\r]*)
  | (?P<escape>\\.)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<unary>[!^])
  | (?P<space>\s+)
  | (?P<other>[^{}()\[\]!^<'"\#\\\s]+|.)
""", re.VERBOSE | re.DOTALL)

_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_REMOTE_WORD = re.compile(r"service|load", re.IGNORECASE)


def lexemes(text: str) -> Iterator[tuple[str, str]]:
    """The SPARQL text as (kind, text) pairs: ``iri``, ``string``, ``comment``, ``escape``,
    ``open``, ``close``, ``unary``, ``space`` and ``other`` (words, names, punctuation)."""
    for m in _LEXEME.finditer(text):
        yield m.lastgroup or "other", m.group()


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``{ ( [`` and of runs of unary ``!``/``^`` in ``text``.

    >>> nesting_depth('SELECT * { ?s ?p "{{{" . FILTER(!!?o) }')
    4
    >>> nesting_depth("SELECT * { ?s x:a\\\\#b ?o { ?s ?p ?o } }")
    2
    """
    depth = deepest = run = 0
    for kind, _ in lexemes(text):
        if kind == "open":
            depth += 1
            run = 0
        elif kind == "close":
            depth = max(0, depth - 1)
            run = 0
        elif kind == "unary":
            run += 1
        elif kind not in ("space", "comment"):
            run = 0
        deepest = max(deepest, depth + run)
    return deepest


def _decode_escapes(text: str) -> str:
    """``text`` with SPARQL's ``\\u``/``\\U`` code point escapes decoded (SPARQL 1.1 §19.2)."""
    def one(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= sys.maxunicode else m.group()
    return _UNICODE_ESCAPE.sub(one, text)


def _names(tree: Any) -> Iterator[str]:
    """The rule names in rdflib's parse tree (``ServiceGraphPattern``, ``Load``, …)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        name = getattr(node, "name", None)
        if isinstance(name, str):
            yield name
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif hasattr(node, "asList") and not isinstance(node, str):
            stack.extend(list(node))


def remote_operations(text: str, *, update: bool = False) -> frozenset[str]:
    """Which of ``SERVICE`` and ``LOAD`` the query (or update) uses, by a full parse.

    Raises :class:`QueryError` when the text might use one of them and cannot be parsed.

    >>> sorted(remote_operations("PREFIX x: <http://e/> SELECT * { ?s x:a ?o }"))
    []
    >>> sorted(remote_operations("LOAD <http://127.0.0.1:9/x> ; CLEAR DEFAULT", update=True))
    ['LOAD']
    """
    if not _REMOTE_WORD.search(_decode_escapes(text)):
        return frozenset()
    try:
        tree = grammar.parse(text, update=update)
    except Exception as exc:  # any parse failure means "cannot tell"
        raise QueryError("the query mentions SERVICE or LOAD and could not be parsed to tell "
                         f"whether it uses them: {str(exc).splitlines()[0]}") from exc
    found = set()
    for name in _names(tree):
        if name == "ServiceGraphPattern":
            found.add("SERVICE")
        elif name == "Load":
            found.add("LOAD")
    return frozenset(found)


def guard(text: str, *, update: bool = False, allow: frozenset[str] = frozenset()) -> None:
    """Refuse ``text`` before evaluation if it is too large, too deep, or uses remote access
    that ``allow`` does not name (``{"SERVICE"}``, ``{"LOAD"}``).

    Raises :class:`TooLarge`, :class:`QueryError` or :class:`QueryRefused`.
    """
    what = "update" if update else "query"
    if len(text) > MAX_QUERY_CHARS:
        raise TooLarge(f"the {what} is {len(text)} characters long; the limit is "
                       f"{MAX_QUERY_CHARS}")
    depth = nesting_depth(_decode_escapes(text))
    if depth > MAX_DEPTH:
        raise QueryError(f"the {what} nests {depth} levels deep (groups, parentheses, "
                         f"brackets or unary operators); the limit is {MAX_DEPTH}")
    for word in sorted(remote_operations(text, update=update) - allow):
        raise QueryRefused(f"{word} is refused: this server does not fetch URLs on behalf of "
                           f"a{'n' if update else ''} {what}")

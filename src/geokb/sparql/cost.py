"""Which queries are cheap by construction: safe to evaluate in-process, without a worker.

Decided from the parsed algebra (rdflib's parser and SPARQL algebra), never from the text.
A query is cheap when its work is bounded by the data's size whatever the data holds:

* a ``SELECT`` with a ``LIMIT`` of at most :data:`MAX_LIMIT` (``OFFSET`` at most the same),
  or an ``ASK`` (it stops at its first solution);
* whose pattern is one basic graph pattern of one or two triple patterns, no property
  paths, under nothing but the projection and the slice — no ``FILTER``, ``OPTIONAL``,
  ``UNION``, ``MINUS``, ``GRAPH``, ``VALUES``, ``BIND``, sub-queries, ``DISTINCT``,
  ``ORDER BY``, ``GROUP BY``, aggregates or expressions of any kind;
* and, with two patterns, the two share a variable (no cartesian product) or one has none.

One pattern is a scan of at most the store; two joined patterns are at most one lookup
per row of the first, and the rows that come out stop at the limit. Anything else — and
any query the parser cannot read, or longer than :data:`MAX_CHEAP_CHARS` — is *not* cheap,
and goes to a worker: when unsure, we pay a fork rather than risk the server.

>>> cheap("SELECT ?c WHERE { ?c a gk:Claim ; gk:source ?s } LIMIT 10")
True
>>> cheap("ASK { ?c a gk:Claim }")
True
>>> cheap("SELECT ?c WHERE { ?c a gk:Claim }")  # no LIMIT
False
>>> cheap("SELECT * WHERE { ?a ?p ?x . ?b ?q ?y } LIMIT 5")  # a cartesian product
False
>>> cheap("SELECT ?c WHERE { ?c a gk:Claim } ORDER BY ?c LIMIT 10")
False
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from geokb import grammar
from geokb.sparql.guard import lexemes
from geokb.vocab import PREFIXES

#: The largest LIMIT (and OFFSET) a cheap query may have.
MAX_LIMIT = 1000
#: A longer text is not cheap, unread: one or two triple patterns need far less, and the
#: parse of a long text (a 900 kB literal) is work in the server under no budget.
MAX_CHEAP_CHARS = 8192


def cheap(text: str, prefixes: Mapping[str, str] | None = None) -> bool:
    """Whether ``text`` is cheap by construction (see the module); ``False`` when unsure.

    ``prefixes`` are the ones the engine predeclares (default: ours).
    """
    known = PREFIXES if prefixes is None else prefixes
    return _cheap(text, tuple(sorted(known.items())))


@lru_cache(maxsize=2048)
def _cheap(text: str, prefixes: tuple[tuple[str, str], ...]) -> bool:
    if len(text) > MAX_CHEAP_CHARS or _plainly_not_cheap(text):
        return False
    try:
        query = grammar.query_algebra(text, dict(prefixes))
    except Exception:
        return False
    return _cheap_algebra(query.algebra)


#: Words that make a query not cheap wherever they stand outside strings, IRIs and comments.
#: Seeing one settles it without rdflib's parse (some 10 ms for a query of ten lines, most
#: of a unique query's cost); not seeing one proves nothing, and the parse decides.
NOT_CHEAP_WORDS = frozenset({
    "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH", "VALUES", "BIND", "SERVICE", "DISTINCT",
    "REDUCED", "ORDER", "GROUP", "HAVING", "FROM", "EXISTS", "CONSTRUCT", "DESCRIBE"})


def _plainly_not_cheap(text: str) -> bool:
    """Whether a word of :data:`NOT_CHEAP_WORDS` stands in ``text`` as a keyword, or a
    ``SELECT`` has no ``LIMIT`` (the lexer is the guard's: a word in a string, an IRI or
    a comment is not a keyword; ``ex:filter`` is one name, not the keyword).

    >>> _plainly_not_cheap('SELECT ?s WHERE { ?s ?p "FILTER" } LIMIT 3')
    False
    >>> _plainly_not_cheap("SELECT ?s WHERE { ?s ?p ?o FILTER(?o) } LIMIT 3")
    True
    """
    words = {token.upper() for kind, token in lexemes(text) if kind == "other"}
    return bool(words & NOT_CHEAP_WORDS) or ("SELECT" in words and "LIMIT" not in words)


def _cheap_algebra(node: Any) -> bool:
    name = getattr(node, "name", None)
    if name not in ("AskQuery", "SelectQuery") or node.get("datasetClause"):
        return False
    if name == "AskQuery":
        return _cheap_pattern(node.p)
    top = node.p
    if getattr(top, "name", None) != "Slice":
        return False
    length, start = top.get("length"), top.get("start") or 0
    if length is None or length > MAX_LIMIT or start > MAX_LIMIT:
        return False
    return _cheap_pattern(top.p)


def _cheap_pattern(node: Any) -> bool:
    if getattr(node, "name", None) != "Project":
        return False
    node = node.p
    if getattr(node, "name", None) != "BGP":
        return False
    triples = list(node.triples)
    if not 1 <= len(triples) <= 2:
        return False
    from rdflib.term import BNode, Literal, URIRef, Variable

    terms = (URIRef, Literal, Variable, BNode)
    if any(not isinstance(t, terms) for triple in triples for t in triple):
        return False  # a property path
    if len(triples) == 2:
        first, second = ({t for t in triple if isinstance(t, Variable | BNode)}
                         for triple in triples)
        if first and second and not first & second:
            return False
    return True

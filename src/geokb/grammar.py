"""rdflib's SPARQL 1.1 parser, run one parse at a time in the process, with room to recurse.

rdflib's parser is a pyparsing grammar, and pyparsing is not safe to run in two threads at
once. It learns how many arguments each parse action takes by calling it and counting the
``TypeError``\\ s (``pyparsing.core._trim_arity``), the first time the action runs. Two threads
learning at once can push that count past the right one, and it never goes back. After
that, *every* parse in the process fails with ``TypeError: <lambda>() missing 1 required
positional argument``. The server then sent every query to the workers (the cost check is
"unsure", so "not cheap"), and cheap queries waited a whole query budget behind the runaway
ones. ``scripts/reliability/hostile_queries.py`` found this. Eight threads parsing
at once break it here in well under a second.

So each use of the parser in geokb goes through :func:`run`: the guard's SERVICE/LOAD check,
the cost check, and the translation of updates. pySHACL's SPARQL constraints go through
it too (``geokb.shacl.engines.run_pyshacl``). :func:`run` holds one lock and runs the
parse in a thread with a 64 MiB stack and a raised recursion limit. A long basic graph
pattern recurses once per triple, and a thread's default stack would overflow (nesting is
bounded earlier by :func:`geokb.sparql.guard.nesting_depth`). Parses are pure Python and
hold the GIL, so running them one after another costs little: a 900 kB literal takes
about 0.09 s here.

>>> run(lambda: 6 * 7)
42
>>> len(parse("SELECT * { ?s ?p ?o }"))  # the prologue and the query
2
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from geokb.heap import trim as trim_heap

T = TypeVar("T")

#: Held for every parse with rdflib's SPARQL grammar in this process (and for pySHACL's runs).
LOCK = threading.Lock()
STACK_BYTES = 64 * 1024 * 1024


def _fresh_lock() -> None:
    """In a forked child: a lock of its own (another thread of the parent may have held
    :data:`LOCK` at the fork, and that thread does not exist in the child)."""
    global LOCK
    LOCK = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock)
RECURSION_LIMIT = 20_000


def run(work: Callable[[], T]) -> T:
    """``work()`` under :data:`LOCK`, in a fresh thread with a deep stack. Returns its value
    or raises what it raised. Do not call it from inside ``work`` (the lock is not re-entrant
    across the two threads)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed back to the caller's thread
            outcome["error"] = exc

    with LOCK:
        previous = threading.stack_size(STACK_BYTES)
        try:
            worker = threading.Thread(target=target, name="geokb-sparql-parse", daemon=True)
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
            try:
                worker.start()
                worker.join()
            finally:
                sys.setrecursionlimit(limit)
        finally:
            threading.stack_size(previous)
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


#: After a parse of a text longer than this, the heap is trimmed (see :mod:`geokb.heap`):
#: each parse runs in a new thread, and rdflib's parse of a 900 kB query takes ~100 MB
#: that would otherwise stay in that thread's malloc arena.
TRIM_OVER = 64 * 1024


def _parsed(text: str, work: Callable[[], T]) -> T:
    try:
        return run(work)
    finally:
        if len(text) > TRIM_OVER:
            trim_heap()


def parse(text: str, *, update: bool = False) -> Any:
    """rdflib's parse tree of a query (or an update). Raises pyparsing's and rdflib's errors."""
    def work() -> Any:
        # imported under the lock too: rdflib.plugins.sparql imported by two threads at once
        # can leave one of them with a half-initialised package (KeyError)
        from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

        return (parseUpdate if update else parseQuery)(text)
    return _parsed(text, work)


def query_algebra(text: str, prefixes: dict[str, str]) -> Any:
    """rdflib's algebra of a query, with ``prefixes`` predeclared."""
    def work() -> Any:
        from rdflib.plugins.sparql.algebra import translateQuery
        from rdflib.plugins.sparql.parser import parseQuery

        return translateQuery(parseQuery(text), initNs=prefixes)
    return _parsed(text, work)


def update_algebra(text: str, base: str | None, prefixes: dict[str, str]) -> Any:
    """rdflib's algebra of an update, against ``base`` with ``prefixes`` predeclared."""
    def work() -> Any:
        from rdflib.plugins.sparql.algebra import translateUpdate
        from rdflib.plugins.sparql.parser import parseUpdate

        return translateUpdate(parseUpdate(text), base=base, initNs=prefixes)
    return _parsed(text, work)

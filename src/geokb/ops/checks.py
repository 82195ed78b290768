"""KB assertions kept with the KB as SPARQL ASK files (``kb/checks/*.rq``), each run
within a time budget.

Each file is one ASK query that must answer ``true``; its header comments say more:

* the first comment line is its title;
* ``# expect: false`` flips the expectation (for "no X exists" checks);
* ``# concerns: ?claim`` names a variable of the query's outermost group that binds the
  claims the check is about; ``geokb check --since ANCHOR`` then restricts it to the
  claims that changed since the anchor by putting ``VALUES ?claim { … }`` first in that
  group. A check without the line is run whole.

Every check is evaluated in a worker process of its own (:func:`ask_within`, through
:func:`geokb.sparql.workers.run`, the server's), killed when it overruns its budget.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyoxigraph as ox

from geokb.errors import QueryBudgetExceeded, QueryError
from geokb.ops.check_memory import digest
from geokb.sparql import workers

#: the default budget of one check, in seconds
DEFAULT_BUDGET = 60.0
#: a check that takes more than this share of its budget is named as slow
SLOW_SHARE = 0.5
_CONCERNS = re.compile(r"#\s*concerns:\s*\?([A-Za-z_][A-Za-z0-9_]*)\s*$")
_OUTER = re.compile(r"\bASK\s*(?:WHERE\s*)?\{", re.IGNORECASE)

Query = Callable[[str], object]
#: SPARQL text → its evaluation, the guard and the dataset choice made (``KnowledgeBase.prepare``)
Prepare = Callable[[str], Callable[[], object]]


@dataclass(frozen=True)
class CheckResult:
    path: str
    title: str
    passed: bool
    seconds: float = 0.0
    budget: float = DEFAULT_BUDGET
    timed_out: bool = False
    restricted: bool = False
    #: the SHA-256 of the check's text (what :mod:`geokb.ops.check_memory` remembers)
    digest: str = ""
    #: restricted to what changed since this position, where it last passed whole
    since: int | None = None

    @property
    def name(self) -> str:
        return Path(self.path).stem

    def timing(self) -> str:
        """``check NAME took 41 s (budget 60 s)``, or that it was stopped at the budget."""
        if self.timed_out:
            return (f"check {self.name} took more than {self.budget:g} s (budget "
                    f"{self.budget:g} s): stopped")
        return f"check {self.name} took {self.seconds:.3g} s (budget {self.budget:g} s)"

    @property
    def slow(self) -> bool:
        return self.timed_out or self.seconds > SLOW_SHARE * self.budget


@dataclass(frozen=True)
class Check:
    """One ``*.rq`` file, read: its text, title, expectation and concerned variable."""

    path: Path
    text: str
    title: str
    expect: bool
    concerns: str | None

    def restricted_to(self, nodes: Collection[str]) -> str:
        """The query with its concerned variable bound to ``nodes`` (IRIs) by VALUES."""
        assert self.concerns is not None
        match = _OUTER.search(self.text)
        if match is None:
            raise QueryError(f"{self.path}: '# concerns: ?{self.concerns}' needs an "
                             "'ASK {' whose group binds it")
        values = " ".join(f"<{n}>" for n in sorted(nodes))
        return (f"{self.text[:match.end()]}\n  VALUES ?{self.concerns} {{ {values} }}"
                f"{self.text[match.end():]}")


def read_check(path: Path) -> Check:
    """Read one check file; raises :class:`QueryError` if it is not UTF-8."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QueryError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    title = path.stem
    expect = True
    concerns = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# expect:"):
            expect = stripped.split(":", 1)[1].strip().lower() == "true"
        elif (m := _CONCERNS.fullmatch(stripped)) is not None:
            concerns = m.group(1)
        elif stripped.startswith("#") and title == path.stem:
            title = stripped.lstrip("# ").strip() or title
    return Check(path, text, title, expect, concerns)


def _answer(run: Callable[[], object]) -> bool:
    """In the worker: evaluate, and the ASK's answer (a check must be an ASK query)."""
    answer = run()
    if not isinstance(answer, ox.QueryBoolean):
        raise QueryError("a check must be an ASK query")
    return bool(answer)


def ask_within(query: Query, text: str, budget: float, *, prepare: Prepare | None = None,
               hold: Callable[[], AbstractContextManager[object]] | None = None,
               ) -> tuple[bool | None, float]:
    """The answer of the ASK ``text`` (None if it overran ``budget`` seconds) and the
    seconds it took, evaluated in a worker forked by :func:`geokb.sparql.workers.run` and
    killed at the budget. Raises :class:`QueryError` for a query that does not parse or is
    no ASK.

    ``prepare`` (the KB's :meth:`~geokb.kb.KnowledgeBase.prepare`) guards and parses the
    text here, in the caller, and ``hold`` (its ``holding_still``) is held across the fork,
    so the worker inherits no lock a thread of the caller held: without them (``query``
    alone) the worker runs all of ``query(text)``, which is safe only in a process with
    one thread. A check forked while another thread held a lock waited for it until the
    budget (60 s) and failed "over budget".
    """
    run = prepare(text) if prepare is not None else partial(query, text)
    t0 = time.perf_counter()
    try:
        answer = workers.run(partial(_answer, run), deadline=time.monotonic() + budget,
                             hold=hold() if hold is not None else None, seconds=budget)
    except QueryBudgetExceeded:
        return None, time.perf_counter() - t0
    return answer, time.perf_counter() - t0


def run_checks(query: Query, directory: Path, *, budget: float = DEFAULT_BUDGET,
               concerning: Collection[str] | None = None,
               ask: Callable[[Query, str, float], tuple[bool | None, float]] = ask_within,
               restrict: Callable[[Check], bool] | None = None, since: int | None = None,
               ) -> list[CheckResult]:
    """Run every ``*.rq`` in ``directory`` through ``query`` (SPARQL text → a pyoxigraph
    result: the KB's projection), each within ``budget`` seconds. With ``concerning``
    (the claims that changed), a check with a ``# concerns:`` line (and, with
    ``restrict``, for which it says so) is asked about those only (and passes without
    running when there are none); ``since`` is recorded in such a result. Raises
    :class:`QueryError` for a bad file or a check that is not an ASK query."""
    results = []
    files = sorted(directory.glob("*.rq"))
    if not files:
        raise QueryError(f"no checks (*.rq) in {directory}")
    for path in files:
        check = read_check(path)
        restricted = concerning is not None and check.concerns is not None \
            and (restrict is None or restrict(check))
        done = partial(CheckResult, str(path), check.title, budget=budget,
                       restricted=restricted, digest=digest(check.text),
                       since=since if restricted else None)
        if restricted and not concerning:
            results.append(done(True, 0.0))
            continue
        text = check.restricted_to(concerning or ()) if restricted else check.text
        try:
            answer, seconds = ask(query, text, budget)
        except QueryError as exc:  # a parse error, from the one place the engine is asked
            raise QueryError(f"{path}: {exc}") from exc
        if answer is None:
            results.append(done(False, seconds, timed_out=True))
        else:
            results.append(done(answer == check.expect, seconds))
    return results

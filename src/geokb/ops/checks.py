"""KB assertions kept with the KB as SPARQL ASK files (``kb/checks/*.rq``), each run
within a time budget.

Each file is one ASK query that must answer ``true``; its header comments say more:

* the first comment line is its title;
* ``# expect: false`` flips the expectation (for "no X exists" checks);
* ``# concerns: ?claim`` names a variable of the query's outermost group that binds the
  claims the check is about; ``geokb check --since ANCHOR`` then restricts it to the
  claims that changed since the anchor by putting ``VALUES ?claim { … }`` first in that
  group. A check without the line is run whole.

Every check runs in a child process of its own, killed when it overruns its budget
(:func:`ask_within`): the one place to swap for a shared, killable query worker.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from geokb.errors import QueryError

#: the default budget of one check, in seconds
DEFAULT_BUDGET = 60.0
#: a check that takes more than this share of its budget is named as slow
SLOW_SHARE = 0.5
_CONCERNS = re.compile(r"#\s*concerns:\s*\?([A-Za-z_][A-Za-z0-9_]*)\s*$")
_OUTER = re.compile(r"\bASK\s*(?:WHERE\s*)?\{", re.IGNORECASE)

Query = Callable[[str], object]


@dataclass(frozen=True)
class CheckResult:
    path: str
    title: str
    passed: bool
    seconds: float = 0.0
    budget: float = DEFAULT_BUDGET
    timed_out: bool = False
    restricted: bool = False

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


def _child(query: Query, text: str, conn: Connection) -> None:
    try:
        answer = query(text)
        if not isinstance(answer, ox.QueryBoolean):
            conn.send(("not-ask", ""))
        else:
            conn.send(("answer", bool(answer)))
    except QueryError as exc:
        conn.send(("error", str(exc)))
    finally:
        conn.close()


def ask_within(query: Query, text: str, budget: float) -> tuple[bool | None, float]:
    """The answer of the ASK ``text`` (None if it overran ``budget`` seconds) and the
    seconds it took, run by ``query`` in a forked child process that is killed at the
    budget. Raises :class:`QueryError` for a query that does not parse or is no ASK.

    Until a shared, killable query worker lands (``geokb.sparql.workers``), this is the
    one function to swap for it.
    """
    context = multiprocessing.get_context("fork")  # the child shares the projection
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(query, text, send), daemon=True)
    t0 = time.perf_counter()
    child.start()
    send.close()
    try:
        ready = receive.poll(budget)
        seconds = time.perf_counter() - t0
        if not ready:
            return None, seconds
        try:
            kind, value = receive.recv()
        except EOFError as exc:
            raise QueryError(f"the check's process ended without an answer (exit "
                             f"{child.exitcode})") from exc
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if kind == "error":
        raise QueryError(str(value))
    if kind == "not-ask":
        raise QueryError("a check must be an ASK query")
    return bool(value), seconds


def run_checks(query: Query, directory: Path, *, budget: float = DEFAULT_BUDGET,
               concerning: Collection[str] | None = None,
               ask: Callable[[Query, str, float], tuple[bool | None, float]] = ask_within,
               ) -> list[CheckResult]:
    """Run every ``*.rq`` in ``directory`` through ``query`` (SPARQL text → a pyoxigraph
    result: the KB's projection), each within ``budget`` seconds. With ``concerning``
    (the claims that changed), a check with a ``# concerns:`` line is asked about those
    only (and passes without running when there are none). Raises :class:`QueryError`
    for a bad file or a check that is not an ASK query."""
    results = []
    files = sorted(directory.glob("*.rq"))
    if not files:
        raise QueryError(f"no checks (*.rq) in {directory}")
    for path in files:
        check = read_check(path)
        restricted = concerning is not None and check.concerns is not None
        if restricted and not concerning:
            results.append(CheckResult(str(path), check.title, True, 0.0, budget,
                                       restricted=True))
            continue
        text = check.restricted_to(concerning or ()) if restricted else check.text
        try:
            answer, seconds = ask(query, text, budget)
        except QueryError as exc:  # a parse error, from the one place the engine is asked
            raise QueryError(f"{path}: {exc}") from exc
        if answer is None:
            results.append(CheckResult(str(path), check.title, False, seconds, budget,
                                       timed_out=True, restricted=restricted))
        else:
            results.append(CheckResult(str(path), check.title, answer == check.expect,
                                       seconds, budget, restricted=restricted))
    return results

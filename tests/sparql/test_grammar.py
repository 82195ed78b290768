"""rdflib's SPARQL parser used from many threads at once, as the server's query threads do.

pyparsing learns each parse action's arity on its first calls; two threads learning at once
break it for the life of the process (every later parse: ``TypeError``). The race is only
there while the grammar is fresh, so each run is a new interpreter: in this test process
the parser is long warmed up by the other tests. Before :mod:`geokb.grammar`,
about a third of these parses failed, and the cheap query after them too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import threading
    from geokb.sparql.cost import cheap
    from geokb.sparql.guard import remote_operations
    from geokb.write.updates import _parse as update_algebra

    BIG = 'ASK { FILTER("' + "x" * 200_000 + '" = "y") }'
    ORDER = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"
    wrong = []

    def work(i):
        for k in range(30):
            n = i * 1000 + k
            kind = (i + k) % 4
            try:
                if kind == 0:
                    ok = cheap(f"SELECT ?s WHERE {{ ?s ?p ?o }} LIMIT {n % 900 + 1}") is True
                elif kind == 1:
                    ok = cheap(ORDER + f" LIMIT {n}") is False and cheap(BIG) is False
                elif kind == 2:
                    ok = remote_operations(
                        f'SELECT * {{ SERVICE <http://127.0.0.1:9/{n}> {{ ?s ?p "{n}" }} }}'
                    ) == {"SERVICE"}
                else:
                    ok = update_algebra(f'INSERT DATA {{ <urn:a> <urn:b> "load {n}" }}',
                                        None, {}) is not None
            except Exception as exc:
                ok = False
                wrong.append(repr(exc)[:200])
            if not ok and len(wrong) < 5:
                wrong.append(f"kind {kind}, n {n}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = cheap("SELECT ?s WHERE { ?s ?p ?o } LIMIT 7")
    print("wrong", len(wrong), wrong[:5], "after", after)
    raise SystemExit(1 if wrong or not after else 0)
""")


@pytest.mark.parametrize("run", range(3))
def test_parses_from_eight_threads_at_once_all_succeed(run: int) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]

"""The named graphs of the dataset ("projection layout 2", ``docs/data-model.md``, "The
views") and which one a line of :mod:`geokb.projection.quads` goes to.

* default graph: the current view (live asserted statements) and the records;
* ``graph/attributed``: the statements of live quoted, denied, uncertain, analysis claims;
* ``graph/system``: the log's events and the projection's bookkeeping;
* ``graph/conflicts``: what :mod:`geokb.projection.conflicts` derives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pyoxigraph import DefaultGraph, Quad

from geokb.vocab import ATTRIBUTED_GRAPH, CONFLICTS_GRAPH, FACTUAL_MODALITIES, GRAPH

DEFAULT = DefaultGraph()
SYSTEM_GRAPH = GRAPH.system
SYSTEM_NODE = GRAPH.system

#: N-Quads suffixes (" <graph> .") of the named graphs.
IN_SYSTEM = _SYS = f" <{SYSTEM_GRAPH.value}> ."
_ATTR = f" <{ATTRIBUTED_GRAPH.value}> ."
_CONFLICTS = f" <{CONFLICTS_GRAPH.value}> ."


def to_system(line: str) -> str:
    """An N-Triples line moved into the system graph.

    >>> to_system('<a> <b> "c" .')
    '<a> <b> "c" <https://w3id.org/geokb/graph/system> .'
    """
    return line[:-2] + _SYS


def to_attributed(line: str) -> str:
    return line[:-2] + _ATTR


def to_conflicts(line: str) -> str:
    return line[:-2] + _CONFLICTS


def is_factual(modality: str) -> bool:
    """Whether a live claim of ``modality`` states its triple in the current view."""
    return modality in FACTUAL_MODALITIES


def view_line(s: str, p: str, o: str, modality: str) -> str:
    """The plain statement of a live claim of ``modality``, in the graph it goes to: the
    default graph (asserted) or the attributed view (every other modality)."""
    return f"{s} {p} {o} ." if is_factual(modality) else f"{s} {p} {o}{_ATTR}"


def sparql_data(lines: Sequence[str]) -> str:
    """N-Quads lines (of the default, attributed or system graph) as the body of a SPARQL
    ``DELETE DATA`` / ``INSERT DATA``.

    >>> sparql_data(['<a> <b> <c> .', '<a> <b> <c> <https://w3id.org/geokb/graph/attributed> .'])
    '<a> <b> <c> .\\nGRAPH <https://w3id.org/geokb/graph/attributed> { <a> <b> <c> . }'
    """
    default: list[str] = []
    named: dict[str, list[str]] = {}
    for line in lines:
        for suffix in (_ATTR, _SYS, _CONFLICTS):
            if line.endswith(suffix):
                named.setdefault(suffix[1:-2], []).append(line[: -len(suffix)] + " .")
                break
        else:
            default.append(line)
    return "\n".join(default + [f"GRAPH {g} {{ {' '.join(ts)} }}" for g, ts in named.items()])


def shacl_input(quads: Iterable[Quad]) -> list[Quad]:
    """The quads the shapes check, as default-graph quads: the default graph (the records
    and the current view) and the log events of the system graph (claims, sources and
    entities name the events that made them); not the claim graphs, the attributed view,
    the conflicts or the projection's bookkeeping."""
    out: list[Quad] = []
    for q in quads:
        g = q.graph_name
        if isinstance(g, DefaultGraph):
            out.append(q)
        elif g == SYSTEM_GRAPH and q.subject != SYSTEM_NODE:
            out.append(Quad(q.subject, q.predicate, q.object, DEFAULT))
    return out

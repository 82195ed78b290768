"""The projection's read API: pattern lookups over the current view and the claims'
graphs, with the projection's own system graph kept out unless asked for by name; and
the boundaries around it (no cycle through projection/ or read/, no caller outside
projection/ holding the pyoxigraph store)."""

from __future__ import annotations

import ast
from pathlib import Path

from pyoxigraph import NamedNode, Quad

from geokb.kb import KnowledgeBase
from geokb.projection.quads import APPLIED, DEFAULT, SYSTEM_GRAPH, SYSTEM_NODE
from geokb.projection.store import ProjectionStore
from geokb.vocab import CLAIM, GK, ID, RDF, RDFS
from tests.harness.documents import REPO

TARTUS = NamedNode(ID["tartus-naval-base"].value)
UNCLEAR = NamedNode(CLAIM["tartus-unclear"].value)


def test_quads_without_a_graph_are_every_graph_but_the_system_graph(
        mini_kb: KnowledgeBase) -> None:
    store = mini_kb.projection
    every = list(store.quads())
    assert every and all(q.graph_name != SYSTEM_GRAPH for q in every)
    system = list(store.quads(graph=SYSTEM_GRAPH))  # the log events and the marker
    assert store.size() == len(every) + len(system)
    assert sum(q.subject == SYSTEM_NODE for q in system) == 1  # the applied-position marker
    assert len(list(store.quads(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH))) == 1
    assert not list(store.quads(SYSTEM_NODE))
    assert {q.graph_name for q in store.quads(TARTUS, GK.status)} == {DEFAULT, UNCLEAR}


def test_one_and_objects_read_the_current_view(mini_kb: KnowledgeBase) -> None:
    store = mini_kb.projection
    assert store.one(TARTUS, RDFS.label).value == "Tartus naval base"
    assert store.one(TARTUS, GK.noSuchPredicate) is None
    assert sorted(t.value for t in store.objects(TARTUS, RDF.type)) == [GK.NavalBase.value]
    assert store.one(UNCLEAR, GK.assertedIn) is not None
    assert store.one(UNCLEAR, GK.assertedIn, graph=UNCLEAR) is None
    assert store.one(TARTUS, GK.status, graph=UNCLEAR) is not None
    mini_kb.retract("tartus-unclear", "test")
    assert store.one(TARTUS, GK.status) is None  # out of the current view
    assert store.one(TARTUS, GK.status, graph=UNCLEAR) is not None  # its graph stays


def test_contains_and_named_graphs_leave_out_the_system_graph(
        mini_kb: KnowledgeBase) -> None:
    store = mini_kb.projection
    marker = next(store.quads(SYSTEM_NODE, APPLIED, None, SYSTEM_GRAPH))
    assert not store.contains(marker)
    label = next(store.quads(TARTUS, RDFS.label, None, DEFAULT))
    assert store.contains(label)
    assert not store.contains(Quad(TARTUS, RDFS.label, label.object, UNCLEAR))
    graphs = store.named_graphs()
    assert UNCLEAR in graphs and SYSTEM_GRAPH not in graphs


def test_reset_empties_and_of_copies(mini_kb: KnowledgeBase) -> None:
    store = mini_kb.projection
    copy = ProjectionStore.of(store.quads(), position=store.position,
                              head_hash=store.head_hash)
    assert copy.canonical_hash() == store.canonical_hash()
    assert (copy.position, copy.head_hash) == (store.position, store.head_hash)
    copy.reset()
    assert (copy.position, copy.head_hash, copy.size()) == (0, "", 0)
    assert store.size() > 0


def test_dump_writes_what_a_raw_store_loads_back(mini_kb: KnowledgeBase,
                                                 tmp_path: Path) -> None:
    import pyoxigraph as ox

    mini_kb.projection.dump(tmp_path / "p.nq")
    raw = ox.Store()
    raw.load(path=str(tmp_path / "p.nq"), format=ox.RdfFormat.N_QUADS)
    assert len(raw) == mini_kb.projection.size()


# -- boundaries --------------------------------------------------------------------------

SRC = REPO / "src"


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "geokb").rglob("*.py"):
        parts = path.with_suffix("").relative_to(SRC).parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every geokb module ``path`` imports, wherever the import stands (type-checking
    blocks and functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n in modules)
    return found


def test_no_import_cycle_goes_through_projection_or_read() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    for start in (m for m in modules if m.startswith(("geokb.projection", "geokb.read"))):
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            name = todo.pop()
            assert name != start, f"{start} imports itself through {sorted(seen)}"
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])


def test_the_layers_below_read_do_not_import_it() -> None:
    modules = _modules()
    for name, path in modules.items():
        if name.startswith("geokb.projection"):
            above = {m for m in _imports(path, modules)
                     if m.startswith(("geokb.read", "geokb.write", "geokb.kb", "geokb.http",
                                      "geokb.cli", "geokb.ops"))}
            assert not above, f"{name} imports {sorted(above)}"
        if name.startswith("geokb.read"):
            above = {m for m in _imports(path, modules)
                     if m.startswith(("geokb.write", "geokb.kb", "geokb.http", "geokb.cli",
                                      "geokb.ops"))}
            assert not above, f"{name} imports {sorted(above)}"


def test_only_projection_holds_the_pyoxigraph_store() -> None:
    """Outside ``geokb.projection``, no code touches ``ProjectionStore._store`` (an object's
    own ``self._store`` is its own business)."""
    for name, path in _modules().items():
        if name.startswith("geokb.projection"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "_store" and not (
                    isinstance(node.value, ast.Name) and node.value.id == "self"):
                raise AssertionError(f"{path.relative_to(REPO)}:{node.lineno} reaches into "
                                     "the projection's pyoxigraph store")

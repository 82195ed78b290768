"""What a SPARQL Update may change: the evidence model's invariant
(:mod:`geokb.projection.invariant`) enforced on each operation before it becomes an event.

An update may change data of the client's own named graphs freely, and the descriptions
(labels, types, aliases, same-as, description) of declared entities, which the shapes
then check. It may remove a default-graph triple that no live claim states. Everything
else of the evidence model changes through its own events, so an operation is refused,
with what to do instead, when it would:

* remove the statement of a live claim from the current view (:class:`StillAsserted`,
  409: retract or supersede the claim);
* put a statement in the current view with no claim behind it;
* change a claim's own graph (drop it, or pad it with a second triple), a claim's,
  source's or entity's records, or the attributed view and the conflicts, which are
  derived from the claims.

``DROP``/``CLEAR ALL``, ``DEFAULT`` and ``NAMED`` are refused as one operation when they
would take any of this with them; on graphs of the client's own they do what SPARQL says.
An inserted literal must be well-formed for its datatype (``"abc"^^xsd:double`` or
``"2024-13-01"^^xsd:date`` is refused; ``"NaN"^^xsd:double`` is a double, which no record
an update may write takes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from pyoxigraph import DefaultGraph, NamedNode, Quad

from geokb.errors import ModelViolation, StillAsserted
from geokb.projection.invariant import claim_of, classify, is_claim_iri
from geokb.projection.store import ProjectionStore
from geokb.vocab import ATTRIBUTED_GRAPH, CLAIM, CONFLICTS_GRAPH, FACTUAL_MODALITIES, GK, RDF

#: Offending quads named in a refusal, at most.
EXAMPLES = 3
RETRACT = "geokb retract {c} --reason …, or POST /api/claims/{c}/retract"


def _short(claim: str) -> str:
    return claim.removeprefix(CLAIM.base)


def _triple(q: Quad) -> str:
    return f"{q.subject} {q.predicate} {q.object}"


def asserting_claim(store: ProjectionStore, q: Quad) -> str | None:
    """A live factual claim whose statement is ``q``'s triple, if any."""
    for rec in store.quads(None, RDF.subject, q.subject, DefaultGraph()):
        claim = rec.subject
        if not isinstance(claim, NamedNode) or not is_claim_iri(claim.value):
            continue
        if store.contains(Quad(claim, RDF.predicate, q.predicate, DefaultGraph())) \
                and store.contains(Quad(claim, RDF.object, q.object, DefaultGraph())) \
                and store.one(claim, GK.knownUntilPosition) is None:
            modality = store.one(claim, GK.modality)
            if modality is not None and modality.value in FACTUAL_MODALITIES:
                return claim.value
    return None


def check_operation(store: ProjectionStore, label: str, delete: Sequence[Quad],
                    insert: Sequence[Quad]) -> None:
    """Raise :class:`ModelViolation` (or :class:`StillAsserted`) if the operation
    ``label`` (e.g. ``DROP ALL``) would break the evidence model by deleting ``delete`` and
    inserting ``insert`` (the quads it really changes)."""
    wholesale = label.split(" ")[-1] in ("ALL", "DEFAULT", "NAMED")
    found: list[str] = []
    for q in delete:
        problem = _deletion(store, q)
        if problem is not None:
            if wholesale:
                raise ModelViolation(
                    f"{label} refused: it would wipe the evidence model along with any data of "
                    f"your own (e.g. {problem[1]}). Clear your own graphs one by one "
                    "(CLEAR GRAPH <g>); end claims with geokb retract / supersede, which keep "
                    "them in history")
            if problem[0]:
                raise StillAsserted(f"{label}: {problem[1]}")
            found.append(problem[1])
            if len(found) >= EXAMPLES:
                break
    for q in insert:
        problem_text = _insertion(store, q)
        if problem_text is not None:
            found.append(problem_text)
            if len(found) >= EXAMPLES:
                break
    if found:
        raise ModelViolation(f"{label} refused: " + "; ".join(dict.fromkeys(found)))


def _derived(graph: NamedNode) -> str | None:
    if graph == ATTRIBUTED_GRAPH:
        return ("the attributed view is derived from the live quoted, denied, uncertain and "
                "analysis claims: change those claims instead")
    if graph == CONFLICTS_GRAPH:
        return "the conflicts are derived from the claims: change the claims instead"
    return None


def _deletion(store: ProjectionStore, q: Quad) -> tuple[bool, str] | None:
    """(whether a live claim still asserts it, why) if deleting ``q`` is refused."""
    g = q.graph_name
    if isinstance(g, NamedNode):
        if is_claim_iri(g.value):
            c = _short(g.value)
            return False, (f"<{g.value}> is the statement graph of claim {c}, kept for ever: "
                           f"retract the claim {c} instead ({RETRACT.format(c=c)})")
        derived = _derived(g)
        return (False, derived) if derived else None
    claim = asserting_claim(store, q)
    if claim is not None:
        c = _short(claim)
        return True, (f"the live claim {c} asserts {_triple(q)}: retract the claim {c} "
                      f"instead ({RETRACT.format(c=c)}), or supersede it by a claim with "
                      "evidence for what is so now")
    return _record_change(store, q, "remove")


def _insertion(store: ProjectionStore, q: Quad) -> str | None:
    g = q.graph_name
    if isinstance(g, NamedNode):
        if is_claim_iri(g.value):
            c = _short(g.value)
            return (f"cannot add {_triple(q)} to <{g.value}>: a claim's graph holds the one "
                    f"statement it was asserted with; assert a new claim with its evidence "
                    f"(and supersede {c}) instead")
        return _derived(g)
    if asserting_claim(store, q) is not None:
        return None  # already stated by a live claim: nothing changes
    found = _record_change(store, q, "add")
    if found is not None:
        return found[1]
    if classify(store, q) == "statement":
        return (f"{_triple(q)} has no claim: a statement enters the current view only as a "
                "claim with evidence (geokb ingest, geokb assert, POST /api/claims), and an "
                "entity is described once it is declared (geokb entity declare); keep data of "
                "your own in a named graph (INSERT DATA { GRAPH <g> { … } })")
    return None


def _record_change(store: ProjectionStore, q: Quad, verb: str) -> tuple[bool, str] | None:
    kind = classify(store, q)
    subject = q.subject.value if isinstance(q.subject, NamedNode) else str(q.subject)
    if kind == "claim-record":
        c = _short(claim_of(subject))
        return False, (f"cannot {verb} {_triple(q)}: claim {c}'s record changes only through "
                       f"its events: retract, supersede or link the claim {c}")
    if kind == "source-record":
        return False, (f"cannot {verb} {_triple(q)}: a source's record changes only through "
                       "its events (geokb source register / retract)")
    if kind == "entity-record":
        return False, (f"cannot {verb} {_triple(q)}: an entity's bookkeeping changes only "
                       "through its events (geokb entity declare / amend)")
    return None


def changes(quads: Iterable[Quad], present: Callable[[Quad], bool], *,
            wanted: bool) -> list[Quad]:
    """The quads of ``quads`` whose presence is ``wanted`` (distinct, in order)."""
    return [q for q in dict.fromkeys(quads) if present(q) is wanted]

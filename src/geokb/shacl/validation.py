"""The old home of the pySHACL wrapper, kept so callers of its names go on working.

New code imports from where each thing now lives: the result classes from
:mod:`geokb.shacl.results`, the shapes and data graph from :mod:`geokb.shacl.shapes`, the
engines and the choice between them from :mod:`geokb.shacl.engines` (a KB holds its
:class:`~geokb.shacl.engines.ValidatorChoice`).
"""

from __future__ import annotations

import rdflib

from geokb.ontology import Ontology
from geokb.shacl.compiled import CompiledShapes
from geokb.shacl.engines import SHACL_ENGINE_ENV, ValidatorChoice
from geokb.shacl.engines import run_pyshacl as run_shacl
from geokb.shacl.results import ShapeReport, ShapeResult
from geokb.shacl.shapes import load_shapes, to_rdflib


def write_engine(shapes: rdflib.Graph, ontology: Ontology) -> CompiledShapes | None:
    """The compiled shapes that check writes under ``GEOKB_SHACL_ENGINE``, or None where
    another engine checks them. Prefer ``KnowledgeBase.shacl.for_writes``."""
    engine = ValidatorChoice().for_writes(shapes, ontology)
    return engine if isinstance(engine, CompiledShapes) else None


__all__ = ["SHACL_ENGINE_ENV", "ShapeReport", "ShapeResult", "load_shapes", "run_shacl",
           "to_rdflib", "write_engine"]

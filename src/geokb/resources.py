"""Where geokb finds ``ontology/`` and ``shapes/``, the files every KB is read against.

Three places, first match wins:

1. ``GEOKB_HOME``, a directory holding ``ontology/`` and ``shapes/``: a site's own copy,
   overriding what was installed;
2. the package data of an installed wheel, ``geokb/data/`` (the build copies the
   checkout's top-level ``ontology/`` and ``shapes/`` there), read with
   :mod:`importlib.resources`;
3. the source checkout this package runs from (an editable install), whose top-level
   ``ontology/`` and ``shapes/`` stay the source of truth and are read as they are edited.

>>> (ontology_dir() / "geokb.ttl").is_file(), (shapes_dir() / "geokb-shapes.ttl").is_file()
(True, True)

Each function raises :class:`~geokb.errors.OntologyError` when none of the places holds
the files.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from geokb.errors import OntologyError

ENV = "GEOKB_HOME"
_PARTS = ("ontology", "shapes")


def _holds_both(directory: Path) -> bool:
    return all((directory / part).is_dir() for part in _PARTS)


def _packaged() -> Path | None:
    data = resources.files("geokb") / "data"
    # an unzipped install (what pip does) gives a real path; a zipped one gives none we
    # could hand to rdflib's parser, and GEOKB_HOME is the way out
    if isinstance(data, Path) and _holds_both(data):
        return data
    return None


def _checkout() -> Path | None:
    root = Path(__file__).resolve().parents[2]  # src/geokb/resources.py -> the checkout
    return root if _holds_both(root) else None


def data_home() -> Path:
    """The directory holding ``ontology/`` and ``shapes/``: ``GEOKB_HOME``, wheel or checkout.

    Raises :class:`OntologyError` if ``GEOKB_HOME`` lacks either directory, or if it is
    unset and neither the installed package nor a checkout has them.
    """
    env = os.environ.get(ENV)
    if env:
        home = Path(env)
        missing = [part for part in _PARTS if not (home / part).is_dir()]
        if missing:
            raise OntologyError(f"{ENV}={env} has no {' or '.join(p + '/' for p in missing)}"
                                " directory")
        return home
    for found in (_packaged(), _checkout()):
        if found is not None:
            return found
    raise OntologyError("cannot find ontology/ and shapes/: this geokb install has no package "
                        f"data and runs from no checkout; set {ENV} to a directory holding both")


def ontology_dir() -> Path:
    """The ``ontology/`` directory (see :func:`data_home`)."""
    return data_home() / "ontology"


def shapes_dir() -> Path:
    """The ``shapes/`` directory (see :func:`data_home`)."""
    return data_home() / "shapes"

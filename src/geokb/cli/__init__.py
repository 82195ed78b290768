"""The ``geokb`` command line: a thin front door over :class:`geokb.kb.KnowledgeBase`.

One module per group of commands (:mod:`~geokb.cli.read`, :mod:`~geokb.cli.write`,
:mod:`~geokb.cli.sources`, :mod:`~geokb.cli.entities`, :mod:`~geokb.cli.ops`,
:mod:`~geokb.cli.serve`) under the root in :mod:`geokb.cli.app`; errors become exit codes at
one edge, by the one table in :mod:`geokb.cli.errors` (see ``docs/cli.md``).
"""

from geokb.cli import main as _old_path  # noqa: F401 - before ``main`` below rebinds it
from geokb.cli.app import app, main

__all__ = ["app", "main"]

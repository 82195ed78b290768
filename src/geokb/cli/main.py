"""The old home of the CLI, kept so ``from geokb.cli.main import app, main`` still works.

The CLI lives in :mod:`geokb.cli.app` and the modules beside it; import from
:mod:`geokb.cli` (``from geokb.cli import app, main``).
"""

from geokb.cli.app import app, main

__all__ = ["app", "main"]

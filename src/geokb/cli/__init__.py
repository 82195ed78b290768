"""The ``geokb`` command line: a thin front door over :class:`geokb.kb.KnowledgeBase`."""

from geokb.cli.main import app, main

__all__ = ["app", "main"]

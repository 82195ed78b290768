"""geokb: an event-sourced geopolitical knowledge base.

The one object to use is :class:`geokb.kb.KnowledgeBase`; the CLI (:mod:`geokb.cli.main`) and
the HTTP app (:mod:`geokb.http.app`) are thin front doors over it.
"""

__version__ = "0.1.0"

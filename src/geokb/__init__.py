"""geokb: an event-sourced geopolitical knowledge base.

The one object to use is :class:`KnowledgeBase`; the CLI (:mod:`geokb.cli`) and the HTTP
app (:func:`create_app`) are thin front doors over it. What this package exports in
``__all__`` is its public Python API (see ``docs/python-api.md``); everything else is inside.

The names load on first use, so ``import geokb`` (and with it every ``geokb`` command)
does not pay for FastAPI or pySHACL until they are needed:

>>> import geokb
>>> geokb.KnowledgeBase.__module__, geokb.create_app.__module__
('geokb.kb', 'geokb.http.app')
>>> issubclass(geokb.AppendConflict, geokb.GeoKBError)
True
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from geokb.errors import (
    Ambiguous,
    AppendConflict,
    BadTime,
    CorruptLog,
    DatabaseUnavailable,
    GeoKBError,
    InvalidClaimFile,
    InvalidEvent,
    InvalidRequest,
    ModelViolation,
    NotDurable,
    NotFound,
    OntologyError,
    QueryBudgetExceeded,
    QueryError,
    QueryRefused,
    SettingsError,
    ShapeViolation,
    StillAsserted,
    StorageFull,
    StorageReadOnly,
    TooLarge,
    Unavailable,
    UnsupportedShapes,
)

if TYPE_CHECKING:
    from geokb.http.app import Settings, create_app
    from geokb.kb import KnowledgeBase
    from geokb.log.contract import EventStore
    from geokb.log.events import Event, RecordedEvent
    from geokb.log.file import FileEventStore
    from geokb.log.postgres import PostgresEventStore
    from geokb.resources import data_home

__version__ = "0.1.0"

#: public name -> the module that defines it, imported on first use
_LAZY = {
    "KnowledgeBase": "geokb.kb",
    "Event": "geokb.log.events",
    "RecordedEvent": "geokb.log.events",
    "EventStore": "geokb.log.contract",
    "FileEventStore": "geokb.log.file",
    "PostgresEventStore": "geokb.log.postgres",
    "create_app": "geokb.http.app",
    "Settings": "geokb.http.app",
    "data_home": "geokb.resources",
}

__all__ = [
    "Ambiguous",
    "AppendConflict",
    "BadTime",
    "CorruptLog",
    "DatabaseUnavailable",
    "Event",
    "EventStore",
    "FileEventStore",
    "GeoKBError",
    "InvalidClaimFile",
    "InvalidEvent",
    "InvalidRequest",
    "KnowledgeBase",
    "ModelViolation",
    "NotDurable",
    "NotFound",
    "OntologyError",
    "PostgresEventStore",
    "QueryBudgetExceeded",
    "QueryError",
    "QueryRefused",
    "RecordedEvent",
    "Settings",
    "SettingsError",
    "ShapeViolation",
    "StillAsserted",
    "StorageFull",
    "StorageReadOnly",
    "TooLarge",
    "Unavailable",
    "UnsupportedShapes",
    "__version__",
    "create_app",
    "data_home",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'geokb' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Opening an on-disk projection, and snapshots of one: a copy a new read node starts from.

A snapshot is a directory: ``store/`` (pyoxigraph's ``Store.backup`` of the projection) and
``snapshot.json``, the projection's log mark (:mod:`geokb.projection.logmark`: format,
position, the hash of the event there, the log's block hashes up to it) and when it was
taken. Restoring one checks that this log holds the snapshot's events (the same bytes up to
its position, or at least the same event hash there through the chain walker), refuses
it otherwise, and puts the copy where the projection lives; opening the KB then catches
up the tail only.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geokb.errors import InvalidRequest, Unavailable
from geokb.log.contract import EventStore
from geokb.log.file import FileEventStore
from geokb.log.storage import engine_storage_error
from geokb.projection.logmark import FORMAT, MARK_NAME, LogMark, Mark, write_mark
from geokb.projection.store import ProjectionStore

MANIFEST = "snapshot.json"
STORE = "store"


def log_file_of(log: EventStore) -> Path | None:
    """The file ``log`` keeps its events in (``None`` for a log that is no file)."""
    return log.path if isinstance(log, FileEventStore) else None


def _locked(exc: OSError) -> bool:
    return "lock" in str(exc).lower()


def open_projection(path: Path | None) -> ProjectionStore:
    """The projection at ``path`` (in memory for ``None``): read-write, or read-only when
    another process (a running ``geokb serve``) holds it. Raises ``OSError`` if it cannot
    be opened at all."""
    if path is None:
        return ProjectionStore()
    existed = path.exists()
    try:
        return ProjectionStore(path)
    except OSError as exc:
        if not existed:  # what the engine began to create is no projection: leave nothing
            shutil.rmtree(path, ignore_errors=True)
        if not _locked(exc):
            # the projection sits beside the log: a full or read-only disk is the KB's
            translated = engine_storage_error(exc, str(path.parent),
                                              "nothing was appended")
            if translated is not None:
                raise translated from exc
            raise
        return ProjectionStore(path, read_only=True)


def create(store: ProjectionStore, mark: Mark | None, target: Path) -> dict[str, Any]:
    """Write a snapshot of the on-disk ``store`` (whose log mark is ``mark``) to ``target``,
    a new or empty directory; returns its manifest. Raises :class:`InvalidRequest` for an
    in-memory projection or a ``target`` that holds something."""
    if store.path is None:
        raise InvalidRequest("a snapshot copies an on-disk projection: run without "
                             "--in-memory")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidRequest(f"{target} exists and is not empty: give a new directory")
    if mark is None or (mark.position, mark.hash) != (store.position, store.head_hash):
        mark = Mark(FORMAT, store.position, store.head_hash)
    target.mkdir(parents=True, exist_ok=True)
    store.backup(target / STORE)
    manifest = {"snapshot": 1, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "quads": store.size(), **mark.to_json(), "stat": None}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def read_manifest(source: Path) -> Mark:
    """The log mark of the snapshot in ``source``. Raises :class:`InvalidRequest` if it is
    no snapshot, or one of another projection format."""
    try:
        data = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"{source} is not a geokb snapshot (no readable {MANIFEST}): "
                             f"{exc}") from exc
    mark = Mark.from_json(data)
    if mark is None or not (source / STORE).is_dir():
        raise InvalidRequest(f"{source} is not a geokb snapshot ({MANIFEST} or {STORE}/ "
                             "is missing or malformed)")
    if mark.format != FORMAT:
        raise InvalidRequest(f"snapshot {source} has projection format {mark.format}, this "
                             f"geokb reads format {FORMAT}: rebuild instead")
    mark.stat = None  # the log file it was taken beside is not this one
    return mark


def restore(source: Path, place: Path, log: EventStore) -> Mark:
    """Put the snapshot in ``source`` where the projection lives (``place``), replacing
    what is there; returns its mark. Raises :class:`InvalidRequest` if this log does not
    hold the snapshot's events, and :class:`Unavailable` if another process holds the
    projection (stop ``geokb serve`` first)."""
    mark = read_manifest(source)
    checker = LogMark(source, log, log_file_of(log))
    checker.mark = mark
    if not checker.check(mark.position, mark.hash):
        raise InvalidRequest(f"snapshot {source} is of another log: its position "
                             f"{mark.position} (event hash {mark.hash[:12]}…) is not this "
                             "log's")
    if place.exists():
        try:
            ProjectionStore(place)  # dropped at once: only to learn nobody holds it
        except OSError as exc:
            if _locked(exc):
                raise Unavailable(f"the projection in {place} is held by another process "
                                  "(a running geokb serve?): stop it first") from exc
        shutil.rmtree(place)
    place.parent.mkdir(parents=True, exist_ok=True)
    staging = place.with_name(place.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source / STORE, staging)
    write_mark(staging / MARK_NAME, mark)
    staging.rename(place)
    return mark

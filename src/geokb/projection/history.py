"""Past states of an on-disk projection: checkpoints every :data:`EVERY` events, and a
bounded set of past stores made from them (time travel, ``as_of`` and ``valid_at``).

A *checkpoint* is a RocksDB checkpoint (``pyoxigraph.Store.backup``: hard links to the
store's immutable SST files, a copy of the small rest) of the projection at a position
that is a multiple of :data:`EVERY`, in ``<projection>.history/<position>-<hash>``, the
hash being the log's at that position. The KB applies events through :meth:`History.apply`,
which stops at each multiple of :data:`EVERY` to take one; a projection that has none (built
before, or by an older geokb) gets them lazily, on the way to the first ``as_of`` that needs
them.

A *past store* at position P is the newest checkpoint at or before P whose hash is the
log's at its position (any other is never used, and is removed), copied into a scratch
directory (the same hard links) and brought to P by applying the at most :data:`EVERY` - 1
events after it. The *valid at* view of a position is a copy of its store with the
statements that do not hold removed (:func:`geokb.read.validity.dropped`). Both are kept in
one least-recently-used set of :data:`KEEP` stores; an evicted one's directory is removed,
and so is the whole scratch directory at :meth:`History.close` (or when the KB is collected).

The checkpoints have a disk budget (:data:`BUDGET`, :data:`FLOOR`, :data:`MIN_FREE`): one
that would start past it is not taken.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from geokb.heap import trim as trim_heap
from geokb.log.contract import EventStore
from geokb.log.events import RecordedEvent
from geokb.projection.store import ProjectionStore

#: Events between two checkpoints: the longest tail a past store replays. Applying 1,000
#: events to an on-disk store takes ~0.2–0.5 s here; each checkpoint costs its new SST
#: files only (the older ones are shared by hard links): docs/benchmarks.md, *Time travel*.
EVERY = 1_000
#: Checkpoints kept at every multiple of :data:`EVERY`: those of the last ``DENSE * EVERY``
#: events. Older ones thin out geometrically (:func:`kept`): each checkpoint holds SST files
#: the store has since compacted away, so keeping every one would cost the disk ~0.2 × the
#: projection's size per checkpoint.
DENSE = 16
#: Past stores (``as_of`` positions and ``valid_at`` views) kept open at once.
KEEP = 4
#: The disk the checkpoints may take beyond the projection's own files, as a multiple of
#: the projection's size; and the share of the disk a checkpoint never goes below. A
#: checkpoint that would start past either is not taken (a later ``as_of`` replays a
#: longer tail instead): an old checkpoint keeps files the store has compacted away, so at
#: 1M claims each far-back one costs about its own store's size. (The 17 of a first build
#: took 3 × the projection at 100k claims, 0.6 × at 1M.)
BUDGET = 4.0
MIN_FREE = 0.10
#: The checkpoints may always take this much (a small KB's are mostly fixed-size files).
FLOOR = 1 << 30

Key = tuple[int, str | None]  # (position, valid_at date or None)


def kept(position: int, head: int, every: int, dense: int) -> bool:
    """Whether the checkpoint at ``position`` is kept when the log is at ``head``.

    Within ``dense * every`` events of the head, every multiple of ``every``; beyond, the
    multiples of ``every * 2**k`` for an age in ``(2**(k-1), 2**k] * dense * every``: at most
    ``dense / 2`` checkpoints per doubling of the age, so a position ``a`` events before the
    head replays at most ``max(every, 2 * a / (dense - 2))`` events (at most ``every`` for
    the last ``dense * every``), and the number of checkpoints grows with the logarithm of
    the log's length.

    >>> [p for p in range(0, 100, 5) if kept(p, 100, 5, 4)]
    [0, 20, 40, 60, 70, 80, 85, 90, 95]
    """
    if position % every:
        return False
    age = head - position
    if age <= dense * every:
        return True
    level = (age - 1) // (dense * every)  # 1 within the first band beyond the dense one
    return position % (every << level.bit_length()) == 0


class History:
    """The checkpoints of the projection at ``projection_path`` and its past stores."""

    def __init__(self, projection_path: Path, log: EventStore, *, every: int | None = None,
                 keep: int | None = None) -> None:
        self.root = projection_path.with_name(projection_path.name + ".history")
        self.log = log
        self.every = every or EVERY
        self.keep = keep or KEEP
        self.dense = DENSE
        self._scratch: Path | None = None
        self._past: OrderedDict[Key, ProjectionStore] = OrderedDict()
        self._lock = threading.RLock()
        self._count = 0
        #: How many events the last new past store replayed after its checkpoint.
        self.tail = 0
        self._finalizer: weakref.finalize[..., object] | None = None

    # -- checkpoints ----------------------------------------------------------------------

    def apply(self, projection: ProjectionStore, events: Iterable[RecordedEvent], *,
              older: bool = False) -> int:
        """Apply ``events`` to ``projection``, taking a checkpoint at each multiple of
        :attr:`every` it passes; returns how many were applied (as
        :meth:`ProjectionStore.apply`).

        A first build (from position 0) takes only the checkpoints of the last
        :data:`DENSE` × :attr:`every` events before the log's head (with ``older``: every
        one :func:`kept` keeps there), and goes on between them as one bulk build
        (``ProjectionStore.apply(build=True)``): the conflicts are worked out once per
        stretch, not once per batch. The older checkpoints are made when an ``as_of`` first
        needs them (:meth:`at`, which builds with ``older``): taken while a build grows the
        store fast, each keeps SST files the store compacts away soon after; at 1M claims
        the first 27 took 49 GB beside a 6 GB projection, before the disk ran out."""
        stream = iter(events)
        count = 0
        build = projection.position == 0 and projection.path is not None \
            and not projection.read_only
        head = self.log.head().position if build else 0
        head -= head % self.every  # the last checkpoint's position: thinned as of it
        while True:
            boundary = self._next_stop(projection.position, head if build else 0, older)
            pending: list[RecordedEvent] = []
            chunk = _until(stream, boundary, pending)
            count += projection.apply(chunk, build=build)
            if projection.position == boundary and projection.path is not None \
                    and not projection.read_only:
                self.checkpoint(projection)
                self._thin(boundary)
            if not pending:
                return count
            stream = _chain(pending, stream)

    def _next_stop(self, position: int, head: int, older: bool) -> int:
        """The next multiple of :attr:`every` after ``position``; with the log's ``head`` of
        a first build, the next one within :data:`DENSE` × :attr:`every` events of it (with
        ``older``, the next one :func:`kept` keeps at that head)."""
        stop = (position // self.every + 1) * self.every
        if not older:
            return max(stop, head - self.dense * self.every)
        while stop < head and not kept(stop, head, self.every, self.dense):
            stop += self.every
        return stop

    def checkpoint(self, store: ProjectionStore) -> None:
        """Keep a checkpoint of ``store`` at its position (hard links, where the disk
        allows: see :meth:`_room`), unless there is one."""
        target = self.root / f"{store.position}-{store.head_hash}"
        if target.exists() or store.path is None or not self._room(store.path):
            return
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".partial-{store.position}-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(partial, ignore_errors=True)
        store.backup(partial)
        partial.rename(target)  # whole, or not there

    def drop_checkpoints(self) -> None:
        """Remove every checkpoint (a projection rebuilt in another layout: theirs would
        pass the log's hashes and answer in the old one)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _room(self, projection: Path) -> bool:
        """Whether a checkpoint may be taken: the ones there take less than :data:`BUDGET`
        × the projection's size (at least :data:`FLOOR`) beyond its files, and the disk is
        more than :data:`MIN_FREE` free."""
        disk = shutil.disk_usage(projection)
        if disk.free < MIN_FREE * disk.total:
            return False
        own = _files(projection)
        size = sum(own.values())
        beyond: dict[tuple[int, int], int] = {}
        if self.root.is_dir():
            for checkpoint in self.root.iterdir():
                for key, n in _files(checkpoint).items():
                    if key not in own:
                        beyond[key] = n
        return sum(beyond.values()) < max(BUDGET * size, FLOOR)

    def _thin(self, head: int) -> None:
        """Remove the checkpoints :func:`kept` no longer keeps at ``head``."""
        for pos, _, path in self.checkpoints():
            if pos < head and not kept(pos, head, self.every, self.dense):
                shutil.rmtree(path, ignore_errors=True)

    def checkpoints(self) -> list[tuple[int, str, Path]]:
        """The checkpoints on disk as ``(position, hash, path)``, oldest first (unchecked)."""
        found = []
        if self.root.is_dir():
            for path in self.root.iterdir():
                pos, _, digest = path.name.partition("-")
                if pos.isdigit() and digest:
                    found.append((int(pos), digest, path))
        return sorted(found)

    def _log_hash(self, position: int) -> str | None:
        event = next(iter(self.log.read(after=position - 1, limit=1)), None)
        return event.hash if event is not None and event.position == position else None

    def _base(self, position: int) -> Iterator[tuple[int, Path]]:
        """The checkpoints at or before ``position`` whose name matches the log, newest
        first; one that does not is removed (another history's, or a replaced log)."""
        for pos, digest, path in reversed(self.checkpoints()):
            if pos > position:
                continue
            if self._log_hash(pos) == digest:
                yield pos, path
            else:
                shutil.rmtree(path, ignore_errors=True)

    # -- past stores ----------------------------------------------------------------------

    def at(self, position: int, valid_at: str | None = None,
           dropped: Callable[[ProjectionStore], Iterable[ox.Quad]] | None = None,
           head: ProjectionStore | None = None,
           head_lock: threading.RLock | None = None) -> ProjectionStore:
        """The projection as it stood at ``position`` (with ``valid_at``: its valid view,
        the quads ``dropped(store)`` removed). ``head`` (with the lock held while it is
        copied) is the live projection, copied when ``position`` is its own."""
        key: Key = (position, valid_at)
        with self._lock:
            store = self._past.get(key)
            if store is not None:
                self._past.move_to_end(key)
                return store
            if valid_at is None:
                store = self._replayed(position)
            else:
                assert dropped is not None
                store = self._copy_of(position, head, head_lock)
                store.discard(list(dropped(store)))
            self._past[key] = store
            while len(self._past) > self.keep:
                _, old = self._past.popitem(last=False)
                _remove(old)
                del old
                trim_heap()
            return store

    def _replayed(self, position: int) -> ProjectionStore:
        """A new scratch store at ``position``: a copy of the nearest checkpoint brought
        forward, with checkpoints taken on the way if there were none (lazily). A copy
        whose own marker is not the log's at its position is never used (and removed)."""
        target = self._new_dir()
        store = None
        for base, path in self._base(position):
            ox.Store.read_only(str(path)).backup(str(target))
            store = ProjectionStore(target)
            if (store.position, store.head_hash) == (base, self._log_hash(base)):
                break
            del store
            store = None
            shutil.rmtree(target, ignore_errors=True)
            shutil.rmtree(path, ignore_errors=True)
        if store is None:
            store = ProjectionStore(target)
        base = store.position
        self.apply(store, self.log.read(after=base, limit=position - base), older=True)
        self.tail = position - base
        return store

    @contextlib.contextmanager
    def scratch_at(self, position: int) -> Iterator[ProjectionStore | None]:
        """A scratch store at ``position`` for the caller alone to write to (``geokb
        validate --since`` replays the events after its anchor into it), removed on
        leaving; None when no checkpoint at or before ``position`` matches the log (a
        replay from 0 on disk would cost more than one in memory)."""
        with self._lock:
            store = self._replayed(position) if any(True for _ in self._base(position)) \
                else None
        try:
            yield store
        finally:
            if store is not None:
                _remove(store)

    def _copy_of(self, position: int, head: ProjectionStore | None,
                 head_lock: threading.RLock | None) -> ProjectionStore:
        """A scratch copy of the store at ``position`` (the head's, or a past one's)."""
        target = self._new_dir()
        if head is not None and head_lock is not None:
            with head_lock:  # no batch half-written in the copy
                if head.position == position:
                    head.backup(target)
                    return ProjectionStore(target)
        self.at(position).backup(target)
        return ProjectionStore(target)

    def _new_dir(self) -> Path:
        """A new directory for a past or scratch store: beside the checkpoints where there
        are some (the same file system, so copying one is hard links, not gigabytes
        copied into a ``/tmp`` that may be RAM), else in the temporary directory."""
        if self._scratch is None:
            beside = self.root if self.root.is_dir() else None
            self._scratch = Path(tempfile.mkdtemp(prefix=".scratch-geokb-past-", dir=beside))
            self._finalizer = weakref.finalize(self, _clean_up, self._past, self._scratch)
        self._count += 1
        return self._scratch / str(self._count)

    @property
    def scratch(self) -> Path | None:
        """The directory the past stores are in (``None`` until the first)."""
        return self._scratch

    def open_stores(self) -> list[Key]:
        """The keys of the past stores kept, least recently used first."""
        with self._lock:
            return list(self._past)

    def close(self) -> None:
        """Drop every past store and remove the scratch directory (the checkpoints stay)."""
        with self._lock:
            while self._past:
                _remove(self._past.popitem()[1])
            trim_heap()
            if self._finalizer is not None:
                self._finalizer()
            self._scratch = None


def _files(directory: Path) -> dict[tuple[int, int], int]:
    """The files of a directory by inode (hard links count once), with their sizes."""
    out = {}
    for path in directory.iterdir():
        try:
            st = path.stat()
        except OSError:
            continue
        if path.is_file():
            out[(st.st_dev, st.st_ino)] = st.st_size
    return out


def _clean_up(past: OrderedDict[Key, ProjectionStore], scratch: Path) -> None:
    """Close the past stores, then remove their directory (a store closed after it would
    write its last files into a directory made again)."""
    past.clear()
    shutil.rmtree(scratch, ignore_errors=True)


def _remove(store: ProjectionStore) -> None:
    """Remove a past store's directory (an answer still reading it keeps its open files)."""
    if store.path is not None:
        shutil.rmtree(store.path, ignore_errors=True)


def _until(stream: Iterator[RecordedEvent], boundary: int,
           pending: list[RecordedEvent]) -> Iterator[RecordedEvent]:
    """The events of ``stream`` up to position ``boundary``; the first after it goes into
    ``pending`` (so the caller can go on from it)."""
    for event in stream:
        if event.position > boundary:
            pending.append(event)
            return
        yield event


def _chain(first: list[RecordedEvent], rest: Iterator[RecordedEvent]) -> Iterator[RecordedEvent]:
    yield from first
    yield from rest

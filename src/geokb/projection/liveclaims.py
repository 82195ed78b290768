"""The live claims of the busy keys, kept in memory by the projection: what the conflict
rules read of the head (:mod:`geokb.projection.conflicts`), so a batch does not read every
claim of every key it touches back from the store.

A batch of claims about a busy entity touches keys that hold thousands of claims; the
rules need all of them (a new status is in conflict with any live one it overlaps), and
reading each record back from RocksDB was most of a batch at 1M claims (docs/benchmarks.md,
*Writes at scale*). A claim's record does not change once asserted but by the events that
touch it (``touched_claims``: it ends, or a link is added to it), so this model keeps, for
each key it was asked about, the records of its live claims, and a batch refreshes only
the claims it touched:

* a key is read from the store the first time it is asked for (as without the model), and
  kept, least recently used first out, up to :data:`LIMIT` claims in all;
* a touched claim of a kept key is dropped, then read again when next asked for if it is
  still live;
* a record whose reported time should come from a source the store does not hold is
  never kept (a log that registers the source later would change it);
* anything else that may change records (a ``GraphUpdated``, an ``EntityAmended``, a batch
  that failed, a reset) empties the model: :meth:`LiveClaims.clear`.

It also remembers the ``graph/conflicts`` lines it last wrote for each key, which a batch
would otherwise read back to see what changed (a busy key's conflict names hundreds of
claims); only the projection's conflict updates write that graph.

The rules give exactly what they give without the model; ``tests/projection/
test_liveclaims.py`` holds a long-lived projection's conflicts to a rebuild from scratch.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import date

from pyoxigraph import NamedNode, Store

from geokb.projection.claimtimes import ClaimTimes, read_claim
from geokb.projection.keys import DEFAULT, ClaimsOfKeys, Key, is_live, subject_property
from geokb.vocab import GK, RDF

#: How many claims the model keeps at most (about 1 KiB each: a few hundred MiB at most).
LIMIT = 200_000
#: How many keys' conflict lines it remembers at most.
CONFLICT_KEYS = 50_000

_SOURCE = GK.Source


class LiveClaims:
    """For the keys asked for, the records of their live claims (see the module)."""

    def __init__(self, store: Store, *, limit: int = LIMIT) -> None:
        self.store = store
        self.limit = limit
        # (subject, property) -> claim -> its record, or None: live, not read yet
        self._keys: OrderedDict[tuple[str, str], dict[str, ClaimTimes | None]] = OrderedDict()
        self._size = 0
        self._sources: dict[str, tuple[date, date] | None] = {}
        self._conflicts: dict[Key, tuple[str, ...]] = {}  # key -> its lines in graph/conflicts
        self.hits = self.misses = 0

    def clear(self) -> None:
        self._keys.clear()
        self._sources.clear()
        self._conflicts.clear()
        self._size = 0

    def conflict_lines(self, key: Key) -> tuple[str, ...] | None:
        """The lines of ``key`` in ``graph/conflicts`` as last written (``None``: not
        remembered, read them from the store)."""
        return self._conflicts.get(key)

    def wrote_conflicts(self, lines: dict[Key, tuple[str, ...]]) -> None:
        """The update being made leaves these lines for these keys (a failed one empties
        the model: see :meth:`geokb.projection.store.ProjectionStore.apply`)."""
        if len(self._conflicts) + len(lines) > CONFLICT_KEYS:
            self._conflicts.clear()
        self._conflicts.update(lines)

    def __len__(self) -> int:
        return self._size

    def records(self, subject: str, prop: str, claims_of: ClaimsOfKeys) -> list[ClaimTimes]:
        """The records of the key's live claims, sorted by IRI (``claims_of`` reads a key
        the model does not hold)."""
        key = (subject, prop)
        claims = self._keys.get(key)
        if claims is None:
            self.misses += 1
            claims = dict.fromkeys(c for c in claims_of(subject, prop)
                                   if is_live(self.store, c))
            self._keys[key] = claims
            self._size += len(claims)
            self._evict(keep=key)
        else:
            self.hits += 1
            self._keys.move_to_end(key)
        out: list[ClaimTimes] = []
        for claim in sorted(claims):
            record = claims[claim]
            if record is None:
                record = read_claim(self.store, claim, self._sources)
                if self._keepable(record):
                    claims[claim] = record
                else:  # read again once the source is registered
                    self._sources.pop(record.source, None)
            out.append(record)
        return out

    def refresh(self, touched: Iterable[str]) -> None:
        """The store now holds a batch that touched ``touched``: drop their records, and
        follow them in or out of the keys kept (a new claim joins its key, an ended one
        leaves it)."""
        if not self._keys:
            return
        for claim in touched:
            key = subject_property(self.store, NamedNode(claim))
            if key is None:
                continue
            claims = self._keys.get(key)
            if claims is None:
                continue
            if claim in claims:
                del claims[claim]
                self._size -= 1
            if is_live(self.store, claim):
                claims[claim] = None
                self._size += 1
        self._evict()

    # -- inside ---------------------------------------------------------------------------

    def _keepable(self, record: ClaimTimes) -> bool:
        """Not a record whose reported time waits for its source to be registered."""
        if record.reported is not None or not record.source:
            return True
        node = NamedNode(record.source)
        return next(self.store.quads_for_pattern(node, RDF.type, _SOURCE, DEFAULT),
                    None) is not None

    def _evict(self, keep: tuple[str, str] | None = None) -> None:
        while self._size > self.limit and self._keys:
            key, claims = next(iter(self._keys.items()))
            if key == keep:
                if len(self._keys) == 1:
                    return  # one key larger than the limit: kept while it is asked for
                self._keys.move_to_end(key)
                continue
            del self._keys[key]
            self._size -= len(claims)

"""Time travel on an on-disk projection: checkpoints and a short tail, bounded past stores.

The oracle is the one of :mod:`tests.projection.test_timetravel`: every quad of an answer
``as_of`` k (and ``valid_at`` a date) equals a fresh replay of the log's first k events.
Here the KB keeps its projection on disk, with a checkpoint every :data:`EVERY` events
(small, so the histories have several), and answers from a checkpoint plus at most
``EVERY - 1`` events.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from bench.generate import ensure_kb

from geokb.kb import KnowledgeBase
from geokb.projection import history
from tests.harness.http import copy_prefix
from tests.projection.test_timetravel import DATES, DUMP, JOINED, bag

EVERY = 40


@pytest.fixture(autouse=True)
def small_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "EVERY", EVERY)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory, manifest = ensure_kb(200, 5, tmp_path_factory.mktemp("tt-disk") / "gen",
                                    quiet=True)
    assert manifest["event_types"].get("ClaimRetracted", 0) > 0
    return directory


def open_kb(directory: Path, projection: Path) -> KnowledgeBase:
    return KnowledgeBase(directory, projection_path=projection)


def test_as_of_and_valid_at_from_checkpoints_equal_a_replay(generated: Path,
                                                            tmp_path: Path) -> None:
    kb = open_kb(generated, tmp_path / "proj")
    assert kb.past is not None
    head = kb.position
    made = [pos for pos, _, _ in kb.past.checkpoints()]
    assert made == list(range(EVERY, head + 1, EVERY))  # taken as the projection caught up
    rng = random.Random("tt-disk")
    chosen = {0, 1, EVERY - 1, EVERY, EVERY + 1, 3 * EVERY, 3 * EVERY + 1, head - 1,
              *(rng.randrange(head) for _ in range(3))}
    try:
        for k in sorted(chosen):
            copy_prefix(generated, tmp_path / f"prefix-{k}", k)
            fresh = KnowledgeBase(tmp_path / f"prefix-{k}")
            assert fresh.position == k
            for query in (DUMP, JOINED):
                assert bag(kb, query, as_of=k) == bag(fresh, query), k
            assert kb.past.tail == k % EVERY  # only the events after the checkpoint
            for day in rng.sample(DATES, 2):
                assert bag(kb, DUMP, as_of=k, valid_at=day) == \
                    bag(fresh, DUMP, valid_at=day), (k, day)
        now = KnowledgeBase(generated)  # valid_at at the head, in memory
        for day in DATES[:3]:
            assert bag(kb, DUMP, valid_at=day) == bag(now, DUMP, valid_at=day), day
        assert bag(kb, DUMP) == bag(now, DUMP)  # nothing of it stayed in the projection
    finally:
        kb.close()


def test_past_stores_are_bounded_and_removed(generated: Path, tmp_path: Path) -> None:
    kb = open_kb(generated, tmp_path / "proj")
    assert kb.past is not None
    for k in range(3, 3 + 3 * history.KEEP):
        kb.query("ASK { ?s ?p ?o }", as_of=k)
        kb.query("ASK { ?s ?p ?o }", as_of=k, valid_at="2025")
        scratch = kb.past.scratch
        assert scratch is not None
        assert len(kb.past.open_stores()) <= history.KEEP
        assert len(list(scratch.iterdir())) <= history.KEEP  # evicted ones are removed
    assert kb.past.open_stores()[-1] == (3 + 3 * history.KEEP - 1, "2025")
    used = kb.past.scratch
    kb.close()
    assert used is not None and not used.exists()
    assert kb.past.checkpoints()  # they stay


def test_checkpoints_survive_reopen_and_are_made_lazily(generated: Path, tmp_path: Path) -> None:
    projection = tmp_path / "proj"
    kb = open_kb(generated, projection)
    assert kb.past is not None
    before = kb.past.checkpoints()
    k = 2 * EVERY + 7
    expected = bag(kb, DUMP, as_of=k)
    del kb
    again = open_kb(generated, projection)  # a restart: the same checkpoints, used
    assert again.past is not None and again.past.checkpoints() == before
    assert bag(again, DUMP, as_of=k) == expected and again.past.tail == 7
    again.close()
    del again
    shutil.rmtree(projection.with_name(projection.name + ".history"))
    lazy = open_kb(generated, projection)  # a projection built before checkpoints
    assert lazy.past is not None and lazy.past.checkpoints() == []
    assert bag(lazy, DUMP, as_of=k) == expected
    assert [p for p, _, _ in lazy.past.checkpoints()] == [EVERY, 2 * EVERY]
    assert bag(lazy, DUMP, as_of=k + 1) == bag(open_kb(generated, tmp_path / "other"),
                                                 DUMP, as_of=k + 1)
    assert lazy.past.tail == 8
    lazy.close()


def test_a_checkpoint_that_does_not_match_the_log_is_never_used(generated: Path,
                                                                 tmp_path: Path) -> None:
    projection = tmp_path / "proj"
    kb = open_kb(generated, projection)
    assert kb.past is not None
    k = 2 * EVERY + 3
    expected = bag(kb, DUMP, as_of=k)
    kb.close()
    [(pos1, hash1, path1), (pos2, hash2, path2), *_] = kb.past.checkpoints()
    # the second checkpoint's content replaced by the first's (a marker at another
    # position under the right name), the first's name given a hash the log does not hold
    shutil.rmtree(path2)
    shutil.copytree(path1, path2)
    path1.rename(path1.with_name(f"{pos1}-{'0' * 64}"))
    del kb
    reopened = open_kb(generated, projection)
    assert reopened.past is not None
    assert bag(reopened, DUMP, as_of=k) == expected
    assert reopened.past.tail == k  # from nothing: neither checkpoint was trusted
    remade = reopened.past.checkpoints()[:2]  # made again on the way, from the log
    assert [(p, h) for p, h, _ in remade] == [(pos1, hash1), (pos2, hash2)]
    reopened.close()


def test_old_checkpoints_thin_out_and_answers_stay_exact(generated: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "EVERY", 10)
    monkeypatch.setattr(history, "DENSE", 4)
    kb = open_kb(generated, tmp_path / "proj")
    assert kb.past is not None
    head = kb.position
    made = [pos for pos, _, _ in kb.past.checkpoints()]
    last = head - head % 10  # thinned when the last one was taken
    # the first build takes the last ones only; the first as_of before them takes the rest
    assert made == [p for p in range(10, last + 1, 10) if last - p <= 4 * 10]
    first = made[0] - 1
    copy_prefix(generated, tmp_path / f"prefix-{first}", first)
    assert bag(kb, DUMP, as_of=first) == bag(KnowledgeBase(tmp_path / f"prefix-{first}"), DUMP)
    assert kb.past.tail == first
    older = [pos for pos, _, _ in kb.past.checkpoints() if pos < made[0]]
    assert older == [p for p in range(10, first + 1, 10) if history.kept(p, last, 10, 4)]
    assert len(older) + len(made) < head // 10 // 2  # geometric: far fewer than one per 10
    oldest = older[0]
    for k in (oldest - 1, oldest, oldest + 13, head - 45):
        copy_prefix(generated, tmp_path / f"prefix-{k}", k)
        assert bag(kb, DUMP, as_of=k) == bag(KnowledgeBase(tmp_path / f"prefix-{k}"), DUMP), k
        assert kb.past.tail <= max(10, 2 * (head - k) // (4 - 2))  # see history.kept
    kb.close()

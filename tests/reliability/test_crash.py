"""Crash safety: writers are SIGKILLed at random points while they append.

After every kill: the log is a valid prefix (``geokb verify`` finds nothing but, at most, a
torn final line, and nothing at all once the next writer has recovered it); no partial
event and no partial batch is visible; every append acknowledged to its client (exit 0,
``ACK``, HTTP 201) is present; and the projection after a restart equals a fresh replay.

The suite runs a few dozen trials; ``scripts/reliability/crash.py`` runs hundreds with
the same functions and prints the tally.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from geokb.kb import KnowledgeBase
from geokb.log.file import FileEventStore
from tests.harness.reliability import (
    FACILITIES,
    GEOKB,
    QUOTES,
    REPO,
    Tally,
    claim_spec,
    closed,
    document_keys,
    ingest_document,
    inspect_log,
    lines_of,
    make_base_kb,
    projection_problems,
    projection_state,
    recover,
    replay_hash,
    server,
    write_backlog,
)

HTTP_TOKEN = "crash-token-" + "7" * 20


class Ledger:
    """Everything acknowledged so far, checked after every crash."""

    def __init__(self, directory: Path, projection: Path | None, tally: Tally) -> None:
        self.directory = directory
        self.projection = projection
        self.tally = tally
        self.acked: set[str] = set()

    def check(self, label: str, unacked_batches: list[list[str]]) -> None:
        """The checks after a kill; then a writer recovers and verify must be clean."""
        tally = self.tally
        before = inspect_log(self.directory)
        problems = [f"{label}: {p}" for p in before.problems]
        keys = set(before.keys)
        problems += [f"{label}: acknowledged but missing: {k}" for k in sorted(self.acked - keys)]
        for batch in unacked_batches:
            present = [k for k in batch if k in keys]
            if present and len(present) != len(batch):
                problems.append(f"{label}: partial batch visible: {len(present)} of "
                                f"{len(batch)} events ({present[0]} …)")
        problems += [f"{label}: {p}" for p in projection_problems(self.directory,
                                                                  self.projection)]
        if before.torn_tail:
            tally.add("torn tails")
        rec = recover(self.directory, self.projection, f"r{uuid.uuid4().hex[:8]}")
        self.acked.update(f"entity:{rec.payload['entity'].rsplit('/', 1)[-1]}" for _ in [0])
        after = inspect_log(self.directory)
        if after.torn_tail or after.problems:
            problems.append(f"{label}: verify after recovery: torn={after.torn_tail} "
                            f"{after.problems}")
        for batch in unacked_batches:
            present = [k for k in batch if k in set(after.keys)]
            if present and len(present) != len(batch):
                problems.append(f"{label}: partial batch after recovery: {len(present)} of "
                                f"{len(batch)}")
        tally.add("trials")
        if problems:
            for p in problems:
                tally.fail(p)
        else:
            tally.add("survived")


# -- writers driven through KnowledgeBase, killed by a timer or by fault injection ------


def run_driver_trials(root: Path, trials: int, seed: int, *, faults: bool,
                      projection: bool = True, per_kb: int = 25) -> Tally:
    """``trials`` writer processes, each killed once (timer, or a faulty ``os`` call)."""
    rng = random.Random(seed)
    tally = Tally("fault-injected writer" if faults else "killed writer")
    ledger: Ledger | None = None
    for trial in range(trials):
        if trial % per_kb == 0:
            directory = root / f"kb-{'f' if faults else 'd'}{trial}"
            make_base_kb(directory)
            ledger = Ledger(directory, directory.parent / f"{directory.name}.proj"
                            if projection else None, tally)
        assert ledger is not None
        cmd = [sys.executable, "-m", "tests.harness.reliability", "drive",
               str(ledger.directory), "--tag", f"t{trial}"]
        if ledger.projection is not None:
            cmd += ["--projection", str(ledger.projection)]
        if faults:
            cmd += ["--fault-seed", str(rng.randrange(2**31))]
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        timer: threading.Timer | None = None
        pending: dict[str, list[str]] = {}
        acked_now = 0
        for word, args in lines_of(proc.stdout):
            if word == "READY" and not faults:
                timer = threading.Timer(rng.uniform(0.05, 1.2), proc.kill)
                timer.start()
            elif word == "BEGIN":
                pending[" ".join(args[1])] = args[1]
            elif word == "ACK":
                pending.pop(" ".join(args[1]), None)
                ledger.acked.update(args[1])
                acked_now += 1
            if faults and acked_now > 40:  # the fault point lies beyond: stop it here
                proc.kill()
        if timer is not None:
            timer.cancel()
        err = proc.stderr.read().decode("utf-8", "replace")
        code = proc.wait()
        tally.add("appends acknowledged", acked_now)
        if code != -signal.SIGKILL:
            tally.fail(f"trial {trial}: writer exited with {code}: {err[-500:]}")
            continue
        tally.add("killed")
        ledger.check(f"trial {trial}", list(pending.values()))
    return tally


# -- the CLI write path: geokb assert / ingest / retract / supersede subprocesses --------


def _cli_command(directory: Path, projection: Path | None, op: str, name: str,
                 live: list[str], rng: random.Random, tmp: Path) -> tuple[list[str], list[str]]:
    base = [GEOKB, "--kb", str(directory), "--as", "test:cli-crash"]
    if projection is not None:
        base += ["--projection", str(projection)]
    if op == "retract" and live:
        target = rng.choice(live)
        return [*base, "retract", target, "--reason", f"trial {name}"], [f"retract:{target}"]
    if op == "supersede" and len(live) >= 2:
        old, by = rng.sample(live, 2)
        return ([*base, "supersede", old, "--by", by, "--reason", f"trial {name}"],
                [f"supersede:{old}"])
    if op == "ingest":
        doc = ingest_document(name, rng.randint(1, 10))
        path = tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        return [*base, "ingest", str(path)], document_keys(doc)
    status = rng.choice(list(QUOTES))
    spec = claim_spec(name, rng.choice(FACILITIES), status)
    return ([*base, "assert", "--id", name, "--subject", spec["subject"], "--predicate",
             "gk:status", "--object", status, "--modality", "asserted", "--source", "art",
             "--quote", spec["quote"]], [f"claim:{name}"])


def run_cli_trials(root: Path, trials: int, seed: int, *, per_kb: int = 40) -> Tally:
    """``trials`` CLI writer processes, each killed at a random moment (or left to finish)."""
    rng = random.Random(seed)
    tally = Tally("CLI writer")
    ledger: Ledger | None = None
    typical = 1.5  # seconds a CLI write takes here, adapted so that kills land all along it
    for trial in range(trials):
        if trial % per_kb == 0:
            directory = root / f"kb-cli{trial}"
            make_base_kb(directory)
            ledger = Ledger(directory, root / f"kb-cli{trial}.proj", tally)
        assert ledger is not None
        live = inspect_log(ledger.directory).live_claims
        op = rng.choice(["assert", "assert", "ingest", "retract", "supersede"])
        projection = ledger.projection if rng.random() < 0.5 else None
        cmd, keys = _cli_command(ledger.directory, projection, op, f"c{trial}", live, rng,
                                 root)
        delay = rng.uniform(0.5 * typical, 1.3 * typical)  # the append is near the end
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _, err = proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode == 0:
            ledger.acked.update(keys)
            typical = 0.8 * typical + 0.2 * (time.monotonic() - started)
            tally.add("acknowledged")
            ledger.check(f"CLI trial {trial} ({op}, finished)", [])
        elif proc.returncode == -signal.SIGKILL:
            typical *= 1.03  # a slow machine: let later runs get further
            tally.add("killed")
            ledger.check(f"CLI trial {trial} ({op}, killed after {delay:.2f}s)", [keys])
        else:
            tally.fail(f"CLI trial {trial}: {' '.join(cmd[3:6])} exited {proc.returncode}: "
                       f"{err.decode()[-300:]}")
    return tally


# -- the HTTP write path: POST /api/claims to a real geokb serve ------------------------


class _HttpRound:
    """The claims clients POST during one HTTP trial, and whether each got its 201."""

    def __init__(self, trial: int, base: str, tally: Tally) -> None:
        self.trial, self.base, self.tally = trial, base, tally
        self.sent: dict[str, bool] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def client(self, index: int) -> None:
        import httpx

        n = 0
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self.stop.is_set():
                n += 1
                name = f"h{self.trial}-{index}-{n}"
                spec = claim_spec(name, FACILITIES[n % 2],
                                  ("status:uncertain", "status:operational")[n % 2])
                with self.lock:
                    self.sent[name] = False
                try:
                    r = http.post("/api/claims", json=spec, headers={
                        "Authorization": f"Bearer {HTTP_TOKEN}", "Idempotency-Key": name})
                except httpx.TransportError:
                    return  # the server was killed
                with self.lock:
                    if r.status_code == 201:
                        self.sent[name] = True
                    else:
                        self.tally.fail(f"HTTP trial {self.trial}: POST {name} -> "
                                        f"{r.status_code} {r.text[:200]}")
                        return


def run_http_trials(root: Path, trials: int, seed: int, *, clients: int = 3,
                    per_kb: int = 25) -> Tally:
    """``trials`` servers, each killed at a random moment while clients POST claims."""
    rng = random.Random(seed)
    tally = Tally("HTTP writer")
    ledger: Ledger | None = None
    for trial in range(trials):
        if trial % per_kb == 0:
            directory = root / f"kb-http{trial}"
            make_base_kb(directory)
            ledger = Ledger(directory, None, tally)
        assert ledger is not None
        with server(ledger.directory, token=HTTP_TOKEN) as (proc, base):
            round_ = _HttpRound(trial, base, tally)
            threads = [threading.Thread(target=round_.client, args=(i,))
                       for i in range(clients)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.1, 1.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            round_.stop.set()
            for t in threads:
                t.join()
        acked = [n for n, ok in round_.sent.items() if ok]
        ledger.acked.update(f"claim:{n}" for n in acked)
        tally.add("killed")
        tally.add("appends acknowledged", len(acked))
        ledger.check(f"HTTP trial {trial}", [[f"claim:{n}"] for n, ok in round_.sent.items()
                                             if not ok])
    return tally


# -- killing the on-disk projection while it catches up a large backlog ------------------


def _catch_up_child(directory: Path, projection: Path,
                   kill_after: float | None) -> tuple[int | None, float, str]:
    """Run the catch-up child; kill it ``kill_after`` s after it starts catching up."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.harness.reliability", "catch-up",
                             str(directory), "--projection", str(projection)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    started = time.monotonic()
    timer: threading.Timer | None = None
    for word, _ in lines_of(proc.stdout):
        if word == "START":
            started = time.monotonic()
            if kill_after is not None:
                timer = threading.Timer(kill_after, proc.kill)
                timer.start()
    code = proc.wait()
    if timer is not None:
        timer.cancel()
    return code, time.monotonic() - started, proc.stderr.read().decode("utf-8", "replace")


def run_catch_up_trials(root: Path, kills: int, seed: int, *, claims: int = 4000) -> Tally:
    """Kill ``KnowledgeBase(dir, projection_path=P)`` while it applies a backlog; reopen.

    After each kill the projection must sit at a recorded position whose content equals a
    fresh replay of exactly that prefix; each restart resumes from there (never going
    back), and the run that finishes ends identical to a fresh replay.
    """
    import shutil

    rng = random.Random(seed)
    tally = Tally("projection catch-up")
    directory = root / "kb-backlog"
    directory.mkdir(parents=True)
    total = write_backlog(directory, claims)
    tally.add("backlog events", total)
    projection = root / "kb-backlog.proj"
    code, full, err = _catch_up_child(directory, projection, None)  # how long a full one takes
    if code != 0:
        tally.fail(f"catch-up exited {code}: {err[-300:]}")
        return tally
    reached = 0
    done = 0
    shutil.rmtree(projection)
    while done < kills:
        code, _, err = _catch_up_child(directory, projection, rng.uniform(0.05, 0.95) * full)
        position, head_hash, partial = projection_state(projection)
        if code == 0:
            tally.add("runs that finished first")
            if position != total:
                tally.fail(f"catch-up finished at {position}, log has {total}")
            shutil.rmtree(projection)  # start over for the next kill
            reached = 0
            continue
        if code != -signal.SIGKILL:
            tally.fail(f"catch-up exited {code}: {err[-300:]}")
            break
        done += 1
        tally.add("killed")
        if 0 < position < total:
            tally.add("killed mid-backlog")
        if position < reached:
            tally.fail(f"kill {done}: position went back from {reached} to {position}")
        if reached and position == reached:
            tally.add("killed before a new batch landed")
        reached = position
        if position:
            event = next(iter(FileEventStore(directory).read(after=position - 1, limit=1)))
            if event.hash != head_hash:
                tally.fail(f"kill {done}: recorded head hash does not match event {position}")
            if partial != replay_hash(directory, position):
                tally.fail(f"kill {done}: projection at {position} differs from a replay of "
                           f"the first {position} events")
    kb = KnowledgeBase(directory, projection_path=projection)  # resumes, and finishes
    if kb.position != total or kb.projection.canonical_hash() != kb.rebuild():
        tally.fail("after the last restart the projection differs from a fresh replay")
    del kb
    closed()
    return tally


# -- the quick tests ----------------------------------------------------------------------


def _assert_held(tally: Tally) -> None:
    print(tally.line())
    assert not tally.failures, "\n".join(tally.failures[:20])


def test_killed_writers_leave_a_valid_log(tmp_path: Path) -> None:
    tally = run_driver_trials(tmp_path, 5, seed=1, faults=False)
    _assert_held(tally)
    assert tally.counts["killed"] == 5


def test_faults_injected_into_every_write_path_call(tmp_path: Path) -> None:
    tally = run_driver_trials(tmp_path, 10, seed=2, faults=True)
    _assert_held(tally)


def test_killed_cli_writers(tmp_path: Path) -> None:
    tally = run_cli_trials(tmp_path, 5, seed=3)
    _assert_held(tally)


def test_killed_http_server(tmp_path: Path) -> None:
    pytest.importorskip("geokb.http.app")
    tally = run_http_trials(tmp_path, 2, seed=4)
    _assert_held(tally)


def test_projection_killed_during_catch_up_resumes(tmp_path: Path) -> None:
    tally = run_catch_up_trials(tmp_path, 2, seed=5, claims=1500)
    _assert_held(tally)


LONG = os.environ.get("GEOKB_LONG") == "1"


@pytest.mark.skipif(not LONG, reason="over 300 kills, ~15 min: GEOKB_LONG=1, or run "
                                     "scripts/reliability/crash.py")
def test_crash_trials_long(tmp_path: Path) -> None:
    for name, run in [
        ("cli", lambda d: run_cli_trials(d, 140, 11)),
        ("http", lambda d: run_http_trials(d, 70, 12)),
        ("driver", lambda d: run_driver_trials(d, 40, 13, faults=False)),
        ("faults", lambda d: run_driver_trials(d, 80, 14, faults=True)),
        ("catch-up", lambda d: run_catch_up_trials(d, 20, 15, claims=6000)),
    ]:
        (tmp_path / name).mkdir()
        _assert_held(run(tmp_path / name))


# -- regressions ----------------------------------------------------------------------


def _append_raw(directory: Path, data: bytes) -> None:
    with open(directory / "events.jsonl", "ab") as fh:
        fh.write(data)


def test_torn_tail_longer_than_the_recovery_window_keeps_earlier_events(
        tmp_path: Path) -> None:
    """A torn final line over 1 MiB must not make recovery truncate the whole log."""
    directory = tmp_path / "kb"
    make_base_kb(directory)
    events = len(inspect_log(directory).events)
    _append_raw(directory, b'{"hash":"' + b"a" * 1_500_000)
    recover(directory, None, "torn")
    state = inspect_log(directory)
    assert not state.problems and not state.torn_tail
    assert len(state.events) == events + 1


def test_projection_of_another_history_is_rebuilt_in_place(tmp_path: Path) -> None:
    """An on-disk projection ahead of (or beside) the log is cleared and rebuilt, not
    reopened while still open (which pyoxigraph refuses)."""
    directory = tmp_path / "kb"
    make_base_kb(directory)
    projection = tmp_path / "proj"
    kb = KnowledgeBase(directory, projection_path=projection)
    kb.declare_entity({"id": "extra", "types": ["gk:Person"], "label": "Extra"})
    del kb
    closed()
    lines = (directory / "events.jsonl").read_bytes().splitlines(keepends=True)
    (directory / "events.jsonl").write_bytes(b"".join(lines[:-1]))  # e.g. git checkout
    kb = KnowledgeBase(directory, projection_path=projection)
    assert kb.position == len(lines) - 1
    assert kb.projection.canonical_hash() == kb.rebuild()
    del kb
    closed()


def test_idempotent_retry_answered_with_unseen_events_catches_up(tmp_path: Path) -> None:
    """The log answers a retried key with the earlier event. If another process appended it
    (and more) after this KB's last catch-up, the KB must catch up, not fail."""
    directory = tmp_path / "kb"
    make_base_kb(directory)
    mine = KnowledgeBase(directory)
    other = KnowledgeBase(directory)
    spec = claim_spec("keyed", "tartus-naval-base")
    real_append = mine.log.append

    def racing_append(events: Any, **options: Any) -> Any:
        # the other writer wins the race between our catch-up and our append
        other.declare_entity({"id": "x1", "types": ["gk:Person"], "label": "X one"})
        other.assert_claim(spec, idempotency_key="key-1")
        return real_append(events, **options)

    mine.log.append = racing_append  # type: ignore[method-assign]
    again = mine.assert_claim(spec, idempotency_key="key-1")
    assert again.position == other.position
    assert mine.position == other.position
    assert mine.projection.canonical_hash() == mine.rebuild()


def test_idempotent_retry_returns_the_earlier_event(tmp_path: Path) -> None:
    """A retried keyed request gets the event it recorded, not "already exists"."""
    directory = tmp_path / "kb"
    make_base_kb(directory)
    kb = KnowledgeBase(directory)
    first = kb.assert_claim(claim_spec("once", "tartus-naval-base"), idempotency_key="k-once")
    again = kb.assert_claim(claim_spec("once", "tartus-naval-base"), idempotency_key="k-once")
    assert again.id == first.id
    assert sum(1 for e in kb.history() if e.idempotency_key == "k-once") == 1


class _Died(BaseException):
    """Stands for SIGKILL in-process: nothing after the failing call runs."""


def test_unfinished_batch_is_invisible_and_removed(tmp_path: Path, monkeypatch:
                                                   pytest.MonkeyPatch) -> None:
    """A kill can cut the one ``write`` of a batch between two lines (seen with real
    SIGKILLs on ext4). Readers must not see the complete lines of that batch, verify must
    report it, and the next writer must remove all of it: all or nothing."""
    import geokb.log.file

    directory = tmp_path / "kb"
    make_base_kb(directory)
    before = inspect_log(directory).events
    real_write = os.write

    class TornOs:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def write(fd: int, data: Any) -> int:
            data = bytes(data)
            if data.count(b"\n") < 3:  # the .pending marker
                return real_write(fd, data)
            second = data.index(b"\n", data.index(b"\n") + 1)
            real_write(fd, data[:second + 20])  # two whole lines and a bit of the third
            raise _Died

    monkeypatch.setattr(geokb.log.file, "os", TornOs())
    kb = KnowledgeBase(directory)
    with pytest.raises(_Died):
        kb.ingest(ingest_document("torn", 3), base_dir=directory)
    monkeypatch.undo()
    state = inspect_log(directory)
    assert [e.id for e in state.events] == [e.id for e in before]  # readers: nothing new
    assert state.torn_tail and not state.problems
    assert FileEventStore(directory).head().position == len(before)
    recover(directory, None, "after")
    state = inspect_log(directory)
    assert not state.torn_tail and not state.problems
    assert len(state.events) == len(before) + 1
    assert not any(k.startswith("entity:torn") for k in state.keys)
    assert list((directory / ".torn").iterdir())


def test_projection_killed_after_a_retraction_mid_build_holds_its_prefix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the catch-up trials ("projection at 92 differs from a replay of the first
    92 events"): the first build of an on-disk projection bulk-loads batches without a
    position, but a retraction recorded one; batches bulk-loaded after it were then on
    disk above the recorded position when a kill came before the next one. Now a build
    records positions only at its checkpoints and notes when it bulk-loads past one: a
    kill leaves the prefix up to a checkpoint, or a store the next open empties."""
    from geokb.projection import history
    from geokb.projection.store import ProjectionStore

    monkeypatch.setattr(history, "EVERY", 20)  # checkpoints (recorded positions) before it
    directory = tmp_path / "kb"
    directory.mkdir()
    write_backlog(directory, 200, entities=20, retract_every=40)
    calls = {"n": 0}
    real = ProjectionStore._apply_stateful

    def dies_at_the_second(self: ProjectionStore, event: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise _Died
        real(self, event)

    monkeypatch.setattr(ProjectionStore, "_apply_stateful", dies_at_the_second)
    projection = tmp_path / "proj"
    with pytest.raises(_Died):
        KnowledgeBase(directory, projection_path=projection)
    closed()
    monkeypatch.setattr(ProjectionStore, "_apply_stateful", real)
    position, _, partial = projection_state(projection)
    assert partial == replay_hash(directory, position)
    kb = KnowledgeBase(directory, projection_path=projection)
    assert kb.projection.canonical_hash() == replay_hash(directory, kb.position)
    kb.close()

"""Retrying an append that lost a race: full-jitter exponential backoff to a deadline.

An append that names no expected position may go wherever the log is; when another
writer gets there first (the KB's admission was checked against a position the log has
left), the writer catches up, re-checks and tries again. Retrying at once lets the same
writers collide again and again; :class:`Backoff` waits a random time between zero and an
exponentially growing cap (AWS's "full jitter"), so colliding writers spread out, and
gives up at a deadline with an :class:`~geokb.errors.AppendConflict` that says how many
tries it made.

The deadline is ``GEOKB_APPEND_DEADLINE`` seconds (default 2).

>>> attempt = Backoff(deadline=0.05, base=0.001, cap=0.004).start(seed=1)
>>> all(0 <= d <= 0.004 for d in (attempt.next_delay() for _ in range(20)))
True
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field

from geokb.errors import SettingsError

DEFAULT_DEADLINE = 2.0
ENV = "GEOKB_APPEND_DEADLINE"


@dataclass(frozen=True)
class Backoff:
    """How long to keep retrying (``deadline`` seconds) and how to wait between tries:
    a random delay in ``[0, min(cap, base * 2**n)]`` before try ``n + 2``."""

    deadline: float = DEFAULT_DEADLINE
    base: float = 0.002
    cap: float = 0.1

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Backoff:
        """The backoff ``GEOKB_APPEND_DEADLINE`` asks for. Raises :class:`SettingsError`.

        >>> Backoff.from_env({"GEOKB_APPEND_DEADLINE": "0.5"}).deadline
        0.5
        """
        env = os.environ if environ is None else environ
        raw = env.get(ENV)
        if raw is None or raw == "":
            return cls()
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{ENV}={raw!r} is not a number of seconds") from None
        if not 0 <= value <= 3600:
            raise SettingsError(f"{ENV}={raw!r} must be between 0 and 3600 seconds")
        return cls(deadline=value)

    def start(self, *, seed: int | None = None) -> Attempt:
        """A new series of tries, its clock started now."""
        return Attempt(self, time.monotonic() + self.deadline,
                       random.Random(seed) if seed is not None else random.Random())


@dataclass
class Attempt:
    """One append's tries: :meth:`wait` before each retry, False once the deadline passed."""

    policy: Backoff
    until: float
    rng: random.Random
    tries: int = 1
    started: float = field(default_factory=time.monotonic)

    def next_delay(self) -> float:
        """The random wait before the next try (the cap doubles with every try)."""
        ceiling = min(self.policy.cap, self.policy.base * 2 ** min(self.tries - 1, 30))
        return self.rng.uniform(0, ceiling)

    def wait(self) -> bool:
        """Sleep before the next try and count it; False (without sleeping) once the
        deadline has passed (a wait is cut short at the deadline: one last try then)."""
        remaining = self.until - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(self.next_delay(), remaining))
        self.tries += 1
        return True

    @property
    def seconds(self) -> float:
        """Seconds since the first try."""
        return time.monotonic() - self.started

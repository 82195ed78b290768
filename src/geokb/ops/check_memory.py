"""What ``geokb check`` remembers between runs, so a whole run costs what changed.

After a run over the whole KB, the on-disk projection keeps ``geokb-checks.json``: the
position and event hash it ran at, and the SHA-256 of each check text that passed. The
next whole run, on a log that still holds that event at that position (the same history,
extended), asks each remembered check that declares ``# concerns: ?var`` only about what
the events since then changed — the same restriction and the same assumption as ``check
--since`` (a check is about the nodes it binds), with the remembered run as the anchor.
A check that failed, is new, or whose text changed, runs whole; a SPARQL update since
then may have changed anything, so everything runs whole; ``geokb check --whole``
ignores the memory. The file lives with the projection (git-ignored, rebuilt with it) and
is written whole or not at all.

>>> m = Memory(12, "ab" * 32, frozenset({"c" * 64}))
>>> Memory.from_json(m.to_json()) == m
True
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEMORY_NAME = "geokb-checks.json"


@dataclass(frozen=True)
class Memory:
    """A whole run of the checks: where it ran and which check texts passed."""

    position: int
    hash: str
    passed: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "hash": self.hash, "passed": sorted(self.passed)}

    @classmethod
    def from_json(cls, data: Any) -> Memory | None:
        try:
            return cls(int(data["position"]), str(data["hash"]),
                       frozenset(str(d) for d in data["passed"]))
        except (KeyError, TypeError, ValueError):
            return None


def digest(text: str) -> str:
    """What identifies a check's text in the memory."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read(projection: Path) -> Memory | None:
    """The memory kept beside the projection at ``projection`` (None if none or unreadable)."""
    try:
        return Memory.from_json(json.loads((projection / MEMORY_NAME).read_text("utf-8")))
    except (OSError, ValueError):
        return None


def write(projection: Path, memory: Memory) -> None:
    """Keep ``memory`` beside the projection (a temporary file, then a rename)."""
    target = projection / MEMORY_NAME
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(memory.to_json()), encoding="utf-8")
    os.replace(tmp, target)

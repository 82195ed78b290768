"""Anchoring the history: the head to publish or pin, and the check that today's log
extends a trusted earlier one unchanged (``geokb head``, ``geokb verify --base``).

A hash chain only says that the log is consistent with itself: anyone who can write the
file can edit a past event and re-seal every later one, cut the log at a line boundary,
or append well-chained events of their own. An *anchor* is a head someone trusts from
earlier (published, pinned in CI, or the log at a git ref such as the pull request's base
branch); :func:`check_extends` fails unless the event at the anchor's position has
exactly the anchor's hash (which covers, through ``prev``, every event before it) and,
for a git ref, unless each line of the ref's log is byte-identical at the start of
today's. A head can be signed with an SSH key (``ssh-keygen -Y sign``, offline) and the
signature checked against an ``allowed_signers`` file (``ssh-keygen -Y verify``).

>>> parse_head("12 " + "ab" * 32).position
12
>>> parse_head("ab" * 32).position is None
True
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geokb.errors import SettingsError, Unavailable
from geokb.log.contract import EventStore
from geokb.log.events import GENESIS_HASH
from geokb.log.lines import hash_of, seq_of
from geokb.ops.verify import Problem

#: The namespace of a signed head (``ssh-keygen -Y sign -n``): a signature made for
#: anything else (a git commit, a file) is not a signature of a geokb head.
NAMESPACE = "geokb-head"
SIGNATURE_BEGIN = "-----BEGIN SSH SIGNATURE-----"
SIGNATURE_END = "-----END SSH SIGNATURE-----"
GIT_TIMEOUT = 60.0
SSH_TIMEOUT = 30.0

_HEAD = re.compile(r"(\d+) ([0-9a-f]{64})")
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Anchor:
    """A trusted earlier head: its position (None for a bare hash), its hash, where it
    came from (for messages), the log lines of a git ref, and a signature if it had one."""

    position: int | None
    hash: str
    origin: str
    lines: tuple[bytes, ...] | None = None
    signature: str | None = None

    @property
    def text(self) -> str:
        """The head line (``<position> <hash>``), as :func:`head_text` writes it."""
        return f"{self.position} {self.hash}"


def head_text(log: EventStore) -> str:
    """The head of ``log`` as ``<position> <hash>`` (``0`` and the genesis hash if empty)."""
    head = log.head()
    return f"{head.position} {head.hash}"


def parse_head(text: str, origin: str = "the anchor") -> Anchor:
    """An anchor from a head line (``<position> <hash>``) or a bare hash, optionally
    followed by an SSH signature block. Raises :class:`SettingsError` for anything else."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    first = first.strip()
    signature = rest.strip() or None
    if signature is not None and not (signature.startswith(SIGNATURE_BEGIN)
                                      and signature.endswith(SIGNATURE_END)):
        raise SettingsError(f"{origin}: after the head line only an SSH signature "
                             f"({SIGNATURE_BEGIN}) may follow")
    if (m := _HEAD.fullmatch(first)) is not None:
        return Anchor(int(m.group(1)), m.group(2), origin, signature=signature)
    if _HASH.fullmatch(first) is not None:
        return Anchor(None, first, origin, signature=signature)
    raise SettingsError(f"{origin}: not a head ('<position> <64 hex>') or a bare hash: "
                         f"{first[:80]!r}")


def resolve(base: str, kb_dir: Path) -> Anchor:
    """The anchor ``base`` names: a head line, a bare hash, a file holding either, or a
    git ref of the repository holding ``kb_dir`` (its ``events.jsonl`` at that ref).

    Raises :class:`SettingsError` when ``base`` is none of these.
    """
    text = base.strip()
    if _HEAD.fullmatch(text) or _HASH.fullmatch(text):
        return parse_head(text, "--base")
    path = Path(base)
    if path.is_file():
        return parse_head(path.read_text(encoding="utf-8"), str(path))
    lines = _git_log_lines(base, kb_dir)
    if lines is None:
        raise SettingsError(f"--base {base!r} is not a head ('<position> <hash>'), a bare "
                             f"hash, a file, or a git ref of the repository of {kb_dir}/")
    if not lines:
        return Anchor(0, GENESIS_HASH, f"{base}:events.jsonl", lines=())
    last = lines[-1]
    seq = seq_of(last)
    if seq is None:
        raise SettingsError(f"--base {base}: the last line of its events.jsonl is not an "
                             "event")
    return Anchor(seq, hash_of(last), f"{base}:events.jsonl", lines=tuple(lines))


def _git_log_lines(ref: str, kb_dir: Path) -> list[bytes] | None:
    """The complete lines of ``events.jsonl`` in ``kb_dir`` at git ``ref`` (an empty list
    if the ref has no log there), or None if ``ref`` is not a commit of the repository."""
    git = shutil.which("git")
    if git is None or ref.startswith("-") or not kb_dir.is_dir():
        return None
    try:
        commit = subprocess.run([git, "-C", str(kb_dir), "rev-parse", "--verify", "--quiet",
                                 f"{ref}^{{commit}}"], capture_output=True,
                                timeout=GIT_TIMEOUT, check=False)
        if commit.returncode != 0:
            return None
        shown = subprocess.run([git, "-C", str(kb_dir), "show",
                                f"{commit.stdout.decode().strip()}:./events.jsonl"],
                               capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"git could not read {ref}: {exc}") from exc
    if shown.returncode != 0:
        return []  # the ref is a commit, but it has no log yet: an empty history
    data = shown.stdout
    lines = data.splitlines(keepends=True)
    if lines and not lines[-1].endswith(b"\n"):
        lines.pop()  # an unterminated tail is not an event, at the ref or here
    return lines


def check_extends(log: EventStore, anchor: Anchor) -> list[Problem]:
    """What keeps ``log`` from extending ``anchor`` unchanged (empty if nothing).

    The event at the anchor's position must carry the anchor's hash (a bare hash must be
    the hash of some event); with the lines of a git ref, each must be byte-identical at
    the start of today's log, and the first that is not is named.
    """
    path = log.display_path
    if anchor.lines is not None:
        return _compare_lines(log, anchor)
    if anchor.position == 0:
        if anchor.hash != GENESIS_HASH:
            return [Problem(path, 0, f"{anchor.origin}: position 0 has no hash but the "
                            "genesis hash", "anchor")]
        return []
    if anchor.position is None:
        for event in log.read():
            if event.hash == anchor.hash:
                return []
        return [Problem(path, log.head().position, f"no event has the hash of "
                        f"{anchor.origin} ({anchor.hash[:12]}): the history it anchors was "
                        "rewritten or cut", "anchor")]
    at = next(iter(log.read(after=anchor.position - 1, limit=1)), None)
    if at is None:
        return [Problem(path, anchor.position, f"the log ends at {log.head().position}, "
                        f"before position {anchor.position} of {anchor.origin}: events were "
                        "cut", "anchor")]
    if at.hash != anchor.hash:
        return [Problem(path, anchor.position, f"the event at position {anchor.position} "
                        f"has hash {at.hash[:12]}, {anchor.origin} has {anchor.hash[:12]}: "
                        "this event or one before it was rewritten", "anchor", at.id)]
    return []


def position_of(log: EventStore, anchor: Anchor) -> int:
    """How many events of ``log`` the anchor covers: its position, or for a bare hash the
    position of the event with that hash (call after :func:`check_extends` passed)."""
    if anchor.position is not None:
        return anchor.position
    return next(e.position for e in log.read() if e.hash == anchor.hash)


def _compare_lines(log: EventStore, anchor: Anchor) -> list[Problem]:
    """The first line of ``anchor.lines`` that is not byte-identical in ``log``."""
    assert anchor.lines is not None
    path = log.display_path
    today = log.raw_lines()
    for number, theirs in enumerate(anchor.lines, start=1):
        ours = next(today, None)
        if ours is None or not ours[1].endswith(b"\n"):
            return [Problem(path, number, f"the log ends before line {number} of "
                            f"{anchor.origin} ({len(anchor.lines)} lines): events were cut",
                            "anchor")]
        if ours[1] != theirs:
            return [Problem(path, number, f"line {number} (position {number}) differs from "
                            f"line {number} of {anchor.origin}: a past event was edited, "
                            "removed, inserted or re-sealed", "anchor")]
    return []


# -- signatures -------------------------------------------------------------------------


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise Unavailable("signing heads needs ssh-keygen (OpenSSH 8.0 or later)")
    return found


def sign(text: str, key: Path) -> str:
    """``text`` (a head line) followed by its SSH signature made with the private ``key``.

    Raises :class:`Unavailable` without ssh-keygen, :class:`SettingsError` when the key
    cannot sign.
    """
    message = (text.strip() + "\n").encode()
    try:
        done = subprocess.run([_ssh_keygen(), "-Y", "sign", "-q", "-f", str(key), "-n",
                               NAMESPACE], input=message, capture_output=True,
                              timeout=SSH_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"ssh-keygen could not sign: {exc}") from exc
    if done.returncode != 0:
        raise SettingsError(f"ssh-keygen could not sign with {key}: "
                             f"{done.stderr.decode(errors='replace').strip()}")
    return message.decode() + done.stdout.decode().strip() + "\n"


def check_signature(anchor: Anchor, allowed_signers: Path) -> tuple[str | None, str]:
    """Who (of ``allowed_signers``) signed ``anchor``'s head line, or None and why not."""
    if anchor.lines is not None:
        return "git", ""  # a ref's log is trusted as the repository holds it
    if anchor.signature is None:
        return None, f"{anchor.origin} carries no signature"
    keygen = _ssh_keygen()
    message = (anchor.text + "\n").encode()
    if anchor.position is None:
        return None, f"{anchor.origin} is a bare hash: only a signed head line is checked"
    with tempfile.TemporaryDirectory(prefix="geokb-sig-") as tmp:
        sig = Path(tmp) / "head.sig"
        sig.write_text(anchor.signature + "\n", encoding="ascii")
        try:
            found = subprocess.run([keygen, "-Y", "find-principals", "-s", str(sig), "-f",
                                    str(allowed_signers)], capture_output=True,
                                   timeout=SSH_TIMEOUT, check=False)
            principals = found.stdout.decode().split()
            for principal in principals:
                checked = subprocess.run([keygen, "-Y", "verify", "-f", str(allowed_signers),
                                          "-I", principal, "-n", NAMESPACE, "-s", str(sig)],
                                         input=message, capture_output=True,
                                         timeout=SSH_TIMEOUT, check=False)
                if checked.returncode == 0:
                    return principal, ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"ssh-keygen could not check the signature: {exc}") from exc
    return None, (f"the signature of {anchor.origin} is not a valid {NAMESPACE} signature "
                  f"of its head line by any key in {allowed_signers}")

"""``geokb head`` and ``geokb verify --base``: a trusted earlier head anchors the chain.

Each attack of the outside review is made with our own codec (so ``verify`` alone passes)
and must be caught against the anchor: the re-sealed rewrite, a cut at a line boundary
(even to empty) and a forged, well-chained tail appended after a cut.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geokb.cli import app
from geokb.log.codec import content_hash, encode, envelope_of
from geokb.log.contract import EMPTY_HEAD, Head, seal
from geokb.log.events import Event, RecordedEvent
from geokb.log.file import FileEventStore

runner = CliRunner()


def geokb(kb: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--kb", str(kb), *args])
    return result.exit_code, result.stdout + result.stderr


def retraction(n: int, reason: str = "wrong") -> Event:
    return Event("ClaimRetracted", {"claim": f"https://w3id.org/geokb/claim/c{n}",
                                    "reason": reason})


def write_log(kb: Path, count: int, *, start: int = 0) -> FileEventStore:
    store = FileEventStore(kb)
    for n in range(start, start + count):
        store.append([retraction(n)], expected_position=None, recorded_by="test:anchor")
    return store


def events(kb: Path) -> list[RecordedEvent]:
    return list(FileEventStore(kb).read())


def reseal(kb: Path, at: int, reason: str) -> None:
    """Edit the event at ``at`` and re-seal it and every later one, as an attacker with
    our codec would: same ids, agents and times, a new chain from ``at`` on."""
    old = events(kb)
    lines = [encode(e) for e in old[: at - 1]]
    prev = old[at - 2] if at > 1 else None
    head = EMPTY_HEAD if prev is None else Head(prev.position, prev.hash, prev.recorded_at)
    for e in old[at - 1:]:
        payload = {**e.payload, "reason": reason} if e.position == at else e.payload
        [draft] = seal([Event(e.type, payload)], head, e.recorded_by, now=e.recorded_at)
        draft = RecordedEvent(**{**draft.__dict__, "id": e.id, "hash": ""})
        sealed = RecordedEvent(**{**draft.__dict__,
                                  "hash": content_hash(envelope_of(draft))})
        lines.append(encode(sealed))
        head = Head(sealed.position, sealed.hash, sealed.recorded_at)
    (kb / "events.jsonl").write_bytes(b"".join(lines))


def cut(kb: Path, keep: int) -> None:
    log = kb / "events.jsonl"
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:keep]))


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    directory = tmp_path / "kb"
    write_log(directory, 6)
    return directory


def pinned(kb: Path) -> str:
    code, out = geokb(kb, "head")
    assert code == 0, out
    return out.strip()


def test_head_prints_position_and_hash(kb: Path) -> None:
    position, digest = pinned(kb).split(" ")
    assert position == "6" and digest == events(kb)[-1].hash


def test_an_unchanged_and_an_extended_log_pass(kb: Path) -> None:
    anchor = pinned(kb)
    assert geokb(kb, "verify", "--base", anchor)[0] == 0
    write_log(kb, 3, start=10)
    code, out = geokb(kb, "verify", "--base", anchor)
    assert code == 0, out
    assert "9 events, extends" in out
    assert geokb(kb, "verify", "--base", anchor.split(" ")[1])[0] == 0  # a bare hash


def test_the_resealed_rewrite_passes_verify_but_not_the_anchor(kb: Path) -> None:
    anchor = pinned(kb)
    reseal(kb, 3, "rewritten")
    assert geokb(kb, "verify")[0] == 0  # the chain alone cannot see it
    code, out = geokb(kb, "verify", "--base", anchor)
    assert code == 1
    assert "position 6" in out and "rewritten" in out
    assert geokb(kb, "verify", "--base", anchor.split(" ")[1])[0] == 1


@pytest.mark.parametrize("keep", [4, 0])
def test_a_cut_at_a_line_boundary_is_caught(kb: Path, keep: int) -> None:
    anchor = pinned(kb)
    cut(kb, keep)
    assert geokb(kb, "verify")[0] == 0
    code, out = geokb(kb, "verify", "--base", anchor)
    assert code == 1 and "cut" in out, out


def test_a_forged_tail_after_a_cut_is_caught(kb: Path) -> None:
    anchor = pinned(kb)
    cut(kb, 3)
    write_log(kb, 5, start=100)  # well chained, longer than before
    assert geokb(kb, "verify")[0] == 0
    assert len(events(kb)) == 8
    code, out = geokb(kb, "verify", "--base", anchor)
    assert code == 1 and "position 6" in out, out


def test_an_anchor_in_a_file_and_a_bad_anchor(kb: Path, tmp_path: Path) -> None:
    pin = tmp_path / "head.txt"
    assert geokb(kb, "head", "--output", str(pin))[0] == 0
    assert geokb(kb, "verify", "--base", str(pin))[0] == 0
    reseal(kb, 2, "again")
    assert geokb(kb, "verify", "--base", str(pin))[0] == 1
    code, out = geokb(kb, "verify", "--base", "no-such-anchor")
    assert code == 2 and "not a head" in out, out


# -- a git ref: the pull request's base branch ------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "claims"
    write_log(root / "kb", 5)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "kb/events.jsonl")
    git(root, "commit", "-q", "-m", "five events")
    return root / "kb"


@needs_git
def test_a_pull_request_that_only_appends_passes(repo: Path) -> None:
    write_log(repo, 2, start=50)
    code, out = geokb(repo, "verify", "--base", "main")
    assert code == 0, out


@needs_git
def test_a_pull_request_that_rewrites_is_named_at_its_first_line(repo: Path) -> None:
    reseal(repo, 2, "quietly changed")
    code, out = geokb(repo, "verify", "--base", "main")
    assert code == 1
    assert "events.jsonl:2: line 2" in out, out
    assert "events.jsonl:3" not in out  # the first differing line only


@needs_git
@pytest.mark.parametrize("keep", [3, 0])
def test_a_pull_request_that_cuts_is_caught(repo: Path, keep: int) -> None:
    cut(repo, keep)
    code, out = geokb(repo, "verify", "--base", "main")
    assert code == 1 and f"before line {keep + 1}" in out, out


@needs_git
def test_a_base_branch_without_a_log_anchors_nothing(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    (root / "kb").mkdir(parents=True)
    (root / "README").write_text("x")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "README")
    git(root, "commit", "-q", "-m", "start")
    write_log(root / "kb", 2)
    assert geokb(root / "kb", "verify", "--base", "main")[0] == 0


# -- signed heads -----------------------------------------------------------------------

needs_ssh = pytest.mark.skipif(shutil.which("ssh-keygen") is None,
                               reason="ssh-keygen (OpenSSH) is not installed")


def keypair(tmp: Path, name: str) -> tuple[Path, Path]:
    """A fresh ed25519 key with no passphrase and an allowed_signers file naming it."""
    key = tmp / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                    str(key)], check=True, capture_output=True)
    signers = tmp / f"{name}.allowed"
    public = (tmp / f"{name}.pub").read_text().split()
    signers.write_text(f"{name}@example.org {public[0]} {public[1]}\n")
    return key, signers


@needs_ssh
def test_a_signed_head_verifies_and_a_forged_one_does_not(kb: Path, tmp_path: Path) -> None:
    key, signers = keypair(tmp_path, "curator")
    _, other_signers = keypair(tmp_path, "stranger")
    pin = tmp_path / "head.signed"
    code, out = geokb(kb, "head", "--sign", str(key), "--output", str(pin))
    assert code == 0, out
    assert "BEGIN SSH SIGNATURE" in pin.read_text()
    code, out = geokb(kb, "verify", "--base", str(pin), "--signatures", str(signers))
    assert code == 0, out
    assert "signed by curator@example.org" in out
    code, out = geokb(kb, "verify", "--base", str(pin), "--signatures", str(other_signers))
    assert code == 1 and "not a valid geokb-head signature" in out, out
    # the head line changed under the signature: the signature no longer holds
    text = pin.read_text().splitlines(keepends=True)
    position, digest = text[0].split()
    write_log(kb, 1, start=70)
    forged = tmp_path / "head.forged"
    forged.write_text(f"7 {events(kb)[-1].hash}\n" + "".join(text[1:]))
    code, out = geokb(kb, "verify", "--base", str(forged), "--signatures", str(signers))
    assert code == 1 and "not a valid" in out, out
    # an unsigned head is refused when signatures are required
    code, out = geokb(kb, "verify", "--base", f"{position} {digest}", "--signatures",
                      str(signers))
    assert code == 1 and "carries no signature" in out, out

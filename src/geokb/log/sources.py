"""Source texts, stored by their SHA-256 so every quote can be checked against them.

Texts live in ``kb/sources/<sha256>.txt`` as the UTF-8 bytes whose hash names them. A
text is written to ``<sha256>.tmp<pid>`` first and renamed into place; the temporary file
is removed on any failure, and one left by a killed process is removed by the next store
that opens the directory (once its process is gone).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Protocol

from geokb.errors import InvalidEvent, NotFound
from geokb.log.codec import sha256_hex
from geokb.log.storage import writing

MAX_SOURCE_BYTES = 20 * 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TEMP = re.compile(r"^[0-9a-f]{64}\.tmp(\d+)\Z")


def normalise_text(data: bytes) -> str:
    """Decode a source file's bytes as strict UTF-8 (a BOM is dropped).

    Raises :class:`InvalidEvent` for bytes that are not UTF-8 (UTF-16 included), for NUL and
    other control characters, and for texts over 20 MiB.
    """
    if len(data) > MAX_SOURCE_BYTES:
        raise InvalidEvent(f"source text is larger than {MAX_SOURCE_BYTES} bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidEvent("source text is UTF-16; convert it to UTF-8 first")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"source text is not valid UTF-8 (byte {exc.start})") from exc
    if _CONTROL.search(text):
        raise InvalidEvent("source text contains control characters")
    return text


class SourceTexts(Protocol):
    """Where source texts are kept: :class:`FileSourceTexts` or
    :class:`geokb.log.postgres.PostgresSourceTexts`."""

    def put(self, text: str) -> str:
        """Store ``text`` and return its SHA-256."""
        ...

    def get(self, sha256: str) -> str:
        """The text whose hash is ``sha256``; raises NotFound, or InvalidEvent if altered."""
        ...

    def has(self, sha256: str) -> bool:
        """Whether a text with this hash is stored."""
        ...


class FileSourceTexts:
    """Content-addressed source texts in ``<kb>/sources/``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory) / "sources"
        self._swept = False

    def path_for(self, sha256: str) -> Path:
        if not _HEX64.match(sha256):
            raise InvalidEvent(f"not a SHA-256: {sha256!r}")
        return self.directory / f"{sha256}.txt"

    def put(self, text: str) -> str:
        """Store ``text`` (idempotent, atomic) and return its SHA-256."""
        data = text.encode("utf-8")
        digest = sha256_hex(data)
        target = self.path_for(digest)
        if target.exists() and sha256_hex(target.read_bytes()) == digest:
            return digest
        with writing(str(self.directory.parent), "the source text was not stored"):
            self.directory.mkdir(parents=True, exist_ok=True)
            self.sweep()
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)  # gone once replaced; else what failed wrote
        return digest

    def sweep(self) -> list[Path]:
        """Remove temporary files of writers that are gone (killed while writing); once
        per store. Returns what was removed. A live process's file is left alone."""
        if self._swept:
            return []
        self._swept = True
        removed: list[Path] = []
        try:
            names = list(self.directory.iterdir())
        except FileNotFoundError:
            return removed
        for path in names:
            found = _TEMP.match(path.name)
            if found is None or _alive(int(found.group(1))):
                continue
            with contextlib.suppress(OSError):  # read-only, or another sweeper was first
                path.unlink()
                removed.append(path)
        return removed

    def get(self, sha256: str) -> str:
        """The text whose hash is ``sha256``; raises NotFound, or InvalidEvent if altered."""
        target = self.path_for(sha256)
        if not target.exists():
            raise NotFound(f"source text {sha256} is not stored ({target})")
        data = target.read_bytes()
        if sha256_hex(data) != sha256:
            raise InvalidEvent(f"stored source text {target} does not match its hash")
        return data.decode("utf-8")

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (here, or as another user's)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

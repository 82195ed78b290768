"""What an ``OSError`` from writing the KB's files means to the user: a full disk
(:class:`~geokb.errors.StorageFull`) or files that cannot be written
(:class:`~geokb.errors.StorageReadOnly`). Any other ``OSError`` passes through unchanged.

>>> import errno
>>> type(storage_error(OSError(errno.ENOSPC, "No space left"), "kb")).__name__
'StorageFull'
>>> str(storage_error(OSError(errno.EROFS, "Read-only file system"), "kb"))
'kb/ is read-only (Read-only file system); nothing was written'
>>> storage_error(OSError(errno.EIO, "I/O error"), "kb") is None
True
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from geokb.errors import StorageFull, StorageReadOnly, Unavailable

FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def storage_error(exc: OSError, where: str, nothing: str = "nothing was written"
                  ) -> Unavailable | None:
    """The domain error for ``exc`` raised while writing under ``where``, or ``None``."""
    reason = exc.strerror or str(exc)
    if exc.errno in FULL:
        return StorageFull(f"the disk holding {where}/ is full ({reason}); {nothing}")
    if exc.errno in READ_ONLY:
        return StorageReadOnly(f"{where}/ is read-only ({reason}); {nothing}")
    return None


#: What RocksDB (under pyoxigraph) says for the same conditions: its errors carry no errno.
_ENGINE_FULL = ("No space left on device", "Disk quota exceeded")
_ENGINE_READ_ONLY = ("Read-only file system", "Permission denied", "Operation not permitted")


def engine_storage_error(exc: OSError, where: str, nothing: str = "nothing was written"
                         ) -> Unavailable | None:
    """Like :func:`storage_error` for an error of the store engine, read from its text."""
    if exc.errno is not None:
        return storage_error(exc, where, nothing)
    text = str(exc)
    if any(marker in text for marker in _ENGINE_FULL):
        return StorageFull(f"the disk holding {where}/ is full ({text}); {nothing}")
    if any(marker in text for marker in _ENGINE_READ_ONLY):
        return StorageReadOnly(f"{where}/ is read-only ({text}); {nothing}")
    return None


@contextlib.contextmanager
def writing(where: str, nothing: str = "nothing was written") -> Iterator[None]:
    """Turn a full disk or a read-only file system inside the block into a domain error."""
    try:
        yield
    except OSError as exc:
        translated = storage_error(exc, where, nothing)
        if translated is None:
            raise
        raise translated from exc

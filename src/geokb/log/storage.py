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

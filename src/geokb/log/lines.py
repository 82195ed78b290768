"""Finding the lines of a canonical JSON Lines log without decoding them.

Every canonical line starts with ``{"hash":"<64 hex>"`` (its keys are sorted) and carries
its ``"seq":`` near the end, so a reader can find the line of an event by reading the file
backwards from its end, and can note where a line is, cheaply. What these helpers find is
only a hint: the reader decodes and checks every line it hands out
(:class:`geokb.log.chain.ChainWalker`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

HASH_FIELD = b'{"hash":"'  # every canonical line starts with its hash (keys are sorted)
SEQ_FIELD = b'"seq":'  # the envelope's last key but "type": the last occurrence in a line
IDEM_FIELD = b'"idem":'


def seq_of(line: bytes) -> int | None:
    """The ``seq`` of a canonical line, without decoding it (None if there is none)."""
    at = line.rfind(SEQ_FIELD)
    if at < 0:
        return None
    digits = line[at + len(SEQ_FIELD) : line.find(b",", at)]
    return int(digits) if digits.isdigit() and len(digits) < 19 else None


def hash_of(line: bytes) -> str:
    """The ``hash`` a canonical line starts with, without decoding it (checked when used)."""
    return line[len(HASH_FIELD) : len(HASH_FIELD) + 64].decode("ascii", "replace")


def lines_back(fh: BinaryIO, end: int) -> Iterator[tuple[int, bytes]]:
    """The complete lines before byte ``end``, last first, each with its start offset
    (bytes after the last newline, an unterminated tail, are not a line)."""
    carry = b""
    pos = end
    step = 65536
    terminated = False
    while pos > 0:
        step = min(pos, step * 2 if carry else step)
        pos -= step
        fh.seek(pos)
        data = fh.read(step) + carry
        cut = len(data)
        if not terminated:
            cut = data.rfind(b"\n") + 1
            if not cut:
                carry = b""  # all of it is the tail: keep looking back for a newline
                continue
            terminated = True
        while True:
            nl = data.rfind(b"\n", 0, cut - 1)
            if nl < 0:
                break
            yield pos + nl + 1, data[nl + 1 : cut]
            cut = nl + 1
        carry = data[:cut]
    if carry:
        yield 0, carry


def find_back(fh: BinaryIO, committed: int, target: int, *, max_lines: int) -> int | None:
    """The start offset of the line of event ``target``, found by reading back from the end
    of the committed log (``committed`` itself if the log ends before ``target``).

    None when it lies more than ``max_lines`` lines back, or when the lines read do not
    count down one by one (a damaged log: the caller then reads forward, which says where).
    """
    expected: int | None = None
    for start, line in lines_back(fh, committed):
        seq = seq_of(line)
        if seq is None or (expected is not None and seq != expected):
            return None
        if expected is None:  # the last line: the log's head
            if seq < target:
                return start + len(line)
            if seq - target > max_lines:
                return None
        if seq == target:
            return start
        expected = seq - 1
    return None

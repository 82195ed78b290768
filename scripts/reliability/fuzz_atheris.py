#!/usr/bin/env python3
"""Coverage-guided fuzzing with atheris of the event-line and claim-file parsers.

    .venv/bin/pip install atheris
    .venv/bin/python scripts/reliability/fuzz_atheris.py decode --seconds 60
    .venv/bin/python scripts/reliability/fuzz_atheris.py claimfile --seconds 60

``decode``: any bytes given to geokb.log.codec.decode raise InvalidEvent or give an event that
re-encodes to the same line. ``claimfile``: any bytes given to claimfile.load_document and
then KnowledgeBase.ingest raise a GeoKBError subclass or append; a refusal changes nothing.
Any other exception is a crash: atheris prints it, saves the input as crash-<sha1> in the
current directory and exits non-zero. Seeds come from a real KB's lines and claim file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

with atheris.instrument_imports():
    import yaml

    from geokb.errors import GeoKBError, InvalidEvent
    from geokb.kb import KnowledgeBase
    from geokb.log.codec import decode, encode
    from geokb.write.claimfile import load_document

from tests.harness.documents import mini_document  # noqa: E402
from tests.harness.reliability import make_base_kb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["decode", "claimfile"])
    parser.add_argument("--seconds", type=int, default=60)
    args, rest = parser.parse_known_args()
    work = Path(tempfile.mkdtemp(prefix="geokb-atheris-"))
    kb_dir = work / "kb"
    make_base_kb(kb_dir)
    kb = KnowledgeBase(kb_dir)
    log = kb_dir / "events.jsonl"
    corpus = work / "corpus"
    corpus.mkdir()
    if args.target == "decode":
        for i, line in enumerate(log.read_bytes().splitlines(keepends=True)):
            (corpus / f"line{i}").write_bytes(line)
    else:
        (corpus / "mini.yaml").write_bytes(yaml.safe_dump(mini_document()).encode())
        (corpus / "repo.yaml").write_bytes(
            (REPO / "kb" / "ingest" / "2026-11-28-syria-russia.yaml").read_bytes())

    def decode_one(data: bytes) -> None:
        try:
            event = decode(data)
        except InvalidEvent:
            return
        if encode(event) != data.rstrip(b"\n") + b"\n":
            raise AssertionError("decoded a line that is not canonical")

    def claimfile_one(data: bytes) -> None:
        before = log.read_bytes()
        try:
            kb.ingest(load_document(data, name="fuzz.yaml"), base_dir=kb_dir)
        except GeoKBError:
            if log.read_bytes() != before:
                raise AssertionError("a refused claim file changed the log") from None

    target = decode_one if args.target == "decode" else claimfile_one
    atheris.Setup([sys.argv[0], f"-max_total_time={args.seconds}", "-rss_limit_mb=4096",
                   *rest, str(corpus)], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

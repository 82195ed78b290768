"""Claim files: duplicate keys, confidence digits, source URL schemes (issue 11)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from geokb.errors import InvalidEvent
from geokb.write.claimfile import load_document, source_event
from geokb.write.values import confidence_text
from tests.harness.documents import REPO
from tests.write.test_claim_keys import payload_of


def test_a_duplicate_yaml_key_is_refused_with_file_and_line() -> None:
    text = b"claims:\n  - id: one\n    subject: syria\n    subject: tartus\n"
    with pytest.raises(InvalidEvent, match=r"claims\.yaml: duplicate key 'subject' at "
                                           r"line 4 \(first at line 3\)"):
        load_document(text, name="claims.yaml")
    with pytest.raises(InvalidEvent, match="duplicate key 'claims' at line 3"):
        load_document(b"claims: []\nsources: []\nclaims: []\n", name="c.yaml")


def test_a_duplicate_json_key_is_refused_with_file_and_line() -> None:
    text = b'{"claims": [\n  {"id": "one",\n   "id": "two"}\n]}\n'
    with pytest.raises(InvalidEvent, match=r"c\.json: duplicate key 'id' at line 3"):
        load_document(text, name="c.json")


def test_keys_in_different_mappings_are_not_duplicates() -> None:
    doc = load_document(b"claims:\n  - id: one\n  - id: two\n", name="c.yaml")
    assert [c["id"] for c in doc["claims"]] == ["one", "two"]


@pytest.mark.parametrize(("given", "stored"), [(0.8, "0.8"), ("0.25", "0.25"), (1, "1"),
                                               (0, "0"), (".5", "0.5"), ("0.1234", "0.1234")])
def test_a_confidence_is_a_short_decimal(given: Any, stored: str) -> None:
    assert confidence_text(given) == stored
    assert payload_of({"confidence": given})["confidence"] == stored


@pytest.mark.parametrize("given", [0.1 + 0.2, "0.30000000000000004", 0.12345, 1.5, -0.1,
                                   "nan", float("inf"), True, "1e-1", "0,5"])
def test_a_confidence_with_float_noise_or_out_of_range_is_refused(given: Any) -> None:
    with pytest.raises(InvalidEvent, match="at most 4 digits after the point"):
        payload_of({"confidence": given})


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)",
                                 "data:text/html,x", "file:///etc/passwd", "ftp://x.org/a",
                                 "https:///no-host", "mailto:a@b.org"])
def test_only_http_source_urls_are_stored(url: str) -> None:
    with pytest.raises(InvalidEvent, match=r"must be an http\(s\) IRI"):
        source_event({"id": "art", "title": "T", "url": url}, "text")


def test_an_https_source_url_is_stored() -> None:
    event = source_event({"id": "art", "title": "T", "url": "https://example.org/a?b=1"}, "x")
    assert event.event.payload["url"] == "https://example.org/a?b=1"


def test_kb_is_kept_byte_exact_by_git() -> None:
    """A checkout with core.autocrlf (or eol=crlf) must not touch kb/: it is hashed."""
    attributes = (REPO / ".gitattributes").read_text(encoding="utf-8").split("\n")
    assert "kb/** -text" in attributes
    found = subprocess.run(["git", "-C", str(REPO), "check-attr", "text", "--",
                            "kb/events.jsonl"], capture_output=True, text=True, check=False)
    if found.returncode == 0:  # inside a git checkout: git itself agrees
        assert found.stdout.strip().endswith("text: unset"), found.stdout
    assert Path(REPO / "kb" / "events.jsonl").read_bytes().count(b"\r") == 0

"""Hostile and broken input on every surface: a clear, specific error, and nothing changed.

Surfaces: CLI flags, claim files (YAML/JSON), source texts, the event files in ``kb/``
themselves, the SPARQL endpoint and the REST API. Each case is data: what to send and a
pattern the error must match. A case passes when the input is refused with that error (one
line and a non-zero exit on the CLI, a 4xx with a JSON ``error`` over HTTP — never a
traceback or a 500) and ``kb/events.jsonl`` and ``kb/sources/`` are byte-for-byte as
before. A hand-edited log is the exception: there ``geokb verify`` and ``geokb validate``
must name the line, and opening the KB must refuse it (never skip the line silently).

``scripts/reliability/hostile.py`` runs every case and prints the count per surface.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from geokb.cli.main import app
from geokb.errors import CorruptLog, GeoKBError
from geokb.kb import KnowledgeBase
from geokb.log.codec import canonical_json, content_hash
from tests.harness.reliability import make_base_kb

runner = CliRunner()
TOKEN = "hostile-token-" + "3" * 24

ASSERT = ("assert", "--subject", "tartus-naval-base", "--predicate", "gk:status",
          "--modality", "asserted", "--source", "art")
QUOTE = ("--quote", "Their future remains unclear")
LIT = ("assert", "--subject", "syria", "--predicate", "gk:needs", "--modality", "asserted",
       "--source", "art", "--quote", "Syria needs international partnerships")
INJECTIONS = ['x" } ; DROP ALL ; #', "} INSERT DATA { <a> <b> <c> } #", "' OR '1'='1",
              "tartus\" . ?s ?p ?o", "<http://evil/>", "?e", "\\u0022}"]


@dataclass(frozen=True)
class Case:
    surface: str
    name: str
    data: Any
    expect: str  # a regular expression the error message must match (case-insensitive)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.surface}: {self.name}"


# -- CLI flags -------------------------------------------------------------------------------

CLI: list[Case] = [
    *[Case("cli", f"object IRI {iri!r}", (*ASSERT, *QUOTE, "--object", iri), expect)
      for iri, expect in [
          ("http://exa mple", "not an absolute IRI"), ("http://a%zz", "not an absolute IRI"),
          ("http://[::1", "not an absolute IRI"), ("http://a\x01b", "not an absolute IRI"),
          ("http://a/#b#c", "not an absolute IRI"), ("urn:x:\x7f", "not an absolute IRI"),
          ("<x>", "write id:"), ("id:" + "a" * 3000, "not an absolute IRI"),
          ("javascript:alert(1)", "unknown prefix"), ("id:../../etc", "unknown entity"),
          ("http://a\n", "not an absolute IRI")]],
    *[Case("cli", f"language tag {tag!r}", (*LIT, "--object-text", "x", "--lang", tag),
           "language tag")
      for tag in ["en US", "a", "en-a", "x" * 100, "en\n", "en_GB", "12"]],
    *[Case("cli", f"date {d!r}", (*ASSERT, *QUOTE, "--object", "status:uncertain",
                                  "--valid-at", d), "date")
      for d in ["2024-13", "2024-02-30", "2023-02-29", "0000", "99999", "2024-1-1",
                "2024/01/01", "2024-12-01T00:00", "-2024", "²⁰²⁴", "２０２４", "2024\n",
                "2024-00", "2024-12-32", ""]],
    Case("cli", "valid_from after valid_until (mixed precision)",
         (*ASSERT, *QUOTE, "--object", "status:uncertain", "--valid-from", "2025",
          "--valid-until", "2024-06"), "after"),
    Case("cli", "valid-at with valid-from", (*ASSERT, *QUOTE, "--object", "status:uncertain",
                                              "--valid-at", "2024", "--valid-from", "2024"),
         "not both"),
    *[Case("cli", f"confidence {c!r}", (*ASSERT, *QUOTE, "--object", "status:uncertain",
                                        "--confidence", c), "confidence")
      for c in ["1.5", "-0.1", "NaN", "0,5", "1e-1", "inf", "０.５", "0.5\n"]],
    Case("cli", "note of 100 000 characters", (*ASSERT, *QUOTE, "--object", "status:uncertain",
                                               "--note", "x" * 100_000), "longer than"),
    Case("cli", "literal of 1 MB", (*LIT, "--object-text", "x" * 1_000_000), "longer than"),
    Case("cli", "quote of 1 MB", (*ASSERT, "--quote", "y" * 1_000_000, "--object",
                                  "status:uncertain"), "not found"),
    *[Case("cli", f"control character {ch!r} in a note",
           (*ASSERT, *QUOTE, "--object", "status:uncertain", "--note", f"a{ch}b"),
           "control characters") for ch in ["\x00", "\x1b[31m", "\x07", "\x7f"]],
    Case("cli", "control character in a literal", (*LIT, "--object-text", "x\x08"),
         "control characters"),
    Case("cli", "unknown subject", ("assert", "--subject", "atlantis", *ASSERT[3:], *QUOTE,
                                    "--object", "status:uncertain"), "unknown entity"),
    Case("cli", "unknown speaker", (*ASSERT, *QUOTE, "--object", "status:uncertain",
                                    "--speaker", "nobody"), "unknown entity"),
    Case("cli", "unknown outlet", (*ASSERT, *QUOTE, "--object", "status:uncertain",
                                   "--via", "nowhere"), "unknown entity"),
    Case("cli", "unknown source", ("assert", "--subject", "tartus-naval-base", "--predicate",
                                   "gk:status", "--modality", "asserted", "--source", "nope",
                                   *QUOTE, "--object", "status:uncertain"), "unknown source"),
    Case("cli", "unknown modality", ("assert", "--subject", "tartus-naval-base", "--predicate",
                                     "gk:status", "--modality", "rumour", "--source", "art",
                                     *QUOTE, "--object", "status:uncertain"),
         "unknown modality"),
    Case("cli", "unknown status value", (*ASSERT, *QUOTE, "--object", "status:gone"),
         "unknown entity"),
    *[Case("cli", f"predicate {p!r}", ("assert", "--subject", "tartus-naval-base",
                                       "--predicate", p, "--modality", "asserted", "--source",
                                       "art", *QUOTE, "--object", "status:uncertain"), expect)
      for p, expect in [("gk:ownedBy", "unknown predicate"), ("rdf:type", "unknown predicate"),
                        ("http://evil/p", "unknown predicate"), ("foo:bar", "unknown prefix"),
                        ("}", "not a prefixed name"), ("gk:", "unknown predicate")]],
    Case("cli", "quote that is not in the source", (*ASSERT, "--quote", "Their future is bright",
                                                    "--object", "status:uncertain"),
         "not found"),
    Case("cli", "occurrence that does not exist", (*ASSERT, *QUOTE, "--object",
                                                   "status:uncertain", "--occurrence", "7"),
         "occurrence"),
    Case("cli", "claim id with path traversal", (*ASSERT, *QUOTE, "--object",
                                                 "status:uncertain", "--id", "../../etc"),
         "slug"),
    Case("cli", "claim id that exists", (*ASSERT, *QUOTE, "--object", "status:uncertain",
                                         "--id", "tartus-unclear"), "already exists"),
    Case("cli", "both --object and --object-text", (*ASSERT, *QUOTE, "--object",
                                                    "status:uncertain", "--object-text", "x"),
         "exactly one"),
    *[Case("cli", f"entity name {n!r} (injection)", ("status", n), "no entity is named")
      for n in INJECTIONS],
    *[Case("cli", f"timeline of {n!r} (injection)", ("timeline", n), "no entity is named")
      for n in INJECTIONS[:3]],
    *[Case("cli", f"entity find {n!r} (injection)", ("entity", "find", n), "no entity is named")
      for n in INJECTIONS[:3]],
    Case("cli", "entity name that is not an IRI", ("status", "http://x y"), "no entity"),
    Case("cli", "entity name with NUL", ("status", "\x00"), "no entity"),
    Case("cli", "entity name of 100 000 characters", ("status", "a" * 100_000), "no entity"),
    *[Case("cli", f"claim name {n!r}", ("show", n), expect) for n, expect in [
        ('x" } ; DROP ALL ; #', "not a prefixed name"), ("http://x y", "not an absolute IRI"),
        ("../../etc", "not a prefixed name"), ("claim:", "no claim"), ("\x00", "prefixed")]],
    *[Case("cli", f"retract {n!r}", ("retract", n, "--reason", "r"), expect) for n, expect in [
        ('x" } ; DROP ALL ; #', "not a prefixed name"), ("http://x y", "not an absolute IRI"),
        ("../../etc", "not a prefixed name"), ("nope", "no claim")]],
    Case("cli", "retract twice", ("retract", "hmeimim-unclear", "--reason", "again"),
         "already retracted"),
    Case("cli", "retract with control characters", ("retract", "tartus-unclear", "--reason",
                                                    "a\x00b"), "control characters"),
    Case("cli", "retract without a reason", ("retract", "tartus-unclear", "--reason", " "),
         "must not be empty"),
    Case("cli", "supersede by itself", ("supersede", "tartus-unclear", "--by", "tartus-unclear",
                                        "--reason", "r"), "itself"),
    Case("cli", "supersede by a missing claim", ("supersede", "tartus-unclear", "--by", "nope",
                                                 "--reason", "r"), "does not exist"),
    *[Case("cli", f"as-of {a!r}", ("status", "tartus", "--as-of", a), "as-of")
      for a in ["²", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "-1",
                "2024-13-01", "2024-01-01T00:00:00", "yesterday", "1e3"]],
    Case("cli", "valid-at impossible", ("status", "tartus", "--valid-at", "2024-02-30"), "date"),
    Case("cli", "log --after -1", ("log", "--after", "-1"), "invalid value"),
    Case("cli", "log --limit 0", ("log", "--limit", "0"), "invalid value"),
    Case("cli", "log --type unknown", ("log", "--type", "Nope"), "unknown event type"),
    Case("cli", "log --about unknown prefix", ("log", "--about", "foo:bar"), "unknown prefix"),
    Case("cli", "SPARQL syntax error", ("query", "SELECT * WHERE {"), "syntax"),
    Case("cli", "SPARQL update as a query", ("query", "DROP ALL"), "syntax"),
    Case("cli", "SPARQL SERVICE to an internal address",
         ("query", "SELECT * WHERE { SERVICE <http://127.0.0.1:8000/sparql> { ?s ?p ?o } }"),
         "SERVICE"),
    Case("cli", "SPARQL SERVICE to cloud metadata",
         ("query", "ASK { service <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }"),
         "SERVICE"),
    Case("cli", "entity id with path traversal", ("entity", "add", "--id", "../../etc", "--type",
                                                  "gk:Person", "--label", "x"), "slug"),
    Case("cli", "entity id with a newline", ("entity", "add", "--id", "ok\n", "--type",
                                             "gk:Person", "--label", "x"), "slug"),
    Case("cli", "entity of an unknown class", ("entity", "add", "--id", "ok1", "--type",
                                               "gk:Nope", "--label", "x"), "unknown class"),
    Case("cli", "entity type not an IRI", ("entity", "add", "--id", "ok2", "--type",
                                           "http://x y", "--label", "x"), "IRI"),
    Case("cli", "entity same-as not an IRI", ("entity", "add", "--id", "ok3", "--type",
                                              "gk:Person", "--label", "x", "--same-as",
                                              "http://a%zz"), "IRI"),
    Case("cli", "entity label with NUL", ("entity", "add", "--id", "ok4", "--type", "gk:Person",
                                          "--label", "x\x00"), "control characters"),
    Case("cli", "entity alias too long", ("entity", "add", "--id", "ok5", "--type", "gk:Person",
                                          "--label", "x", "--alias", "y" * 600), "longer than"),
    Case("cli", "entity declared twice", ("entity", "add", "--id", "syria", "--type",
                                          "gk:State", "--label", "Syria"), "already declared"),
    Case("cli", "agent of 2 MB (--as)", ("--as", "x" * 2_000_000, "entity", "add", "--id",
                                         "ok6", "--type", "gk:Person", "--label", "x"),
         "recorded_by"),
    Case("cli", "agent with a newline (--as)", ("--as", "evil\nagent", "entity", "add", "--id",
                                                "ok7", "--type", "gk:Person", "--label", "x"),
         "recorded_by"),
    Case("cli", "source id with path traversal", ("source", "show", "../../etc"),
         "not a prefixed name"),
    Case("cli", "unknown source shown", ("source", "show", "nope"), "unknown source"),
]


# -- claim files ---------------------------------------------------------------------------

BILLION_LAUGHS = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
claims: [*e,*e,*e,*e,*e,*e,*e,*e,*e]
"""


def _yaml(doc: dict[str, Any]) -> bytes:
    import yaml

    return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")


def _claim(**change: Any) -> bytes:
    spec = {"id": "cf-new", "subject": "tartus-naval-base", "predicate": "gk:status",
            "object": "status:uncertain", "modality": "asserted", "source": "art",
            "quote": "Their future remains unclear", **change}
    return _yaml({"claims": [{k: v for k, v in spec.items() if v is not None}]})


CLAIM_FILES: list[Case] = [
    Case("claim file", "YAML alias bomb (billion laughs)", BILLION_LAUGHS, "aliases"),
    Case("claim file", "recursive YAML anchor", b"claims: &a [*a]\n", "aliases"),
    Case("claim file", "YAML merge key with alias", b"x: &x {a: 1}\nclaims: [{<<: *x}]\n",
         "aliases"),
    Case("claim file", "YAML nested 10 000 deep", b"claims: " + b"[" * 10_000 + b"]" * 10_000,
         "nested deeper"),
    Case("claim file", "JSON nested 100 000 deep", b"[" * 100_000 + b"]" * 100_000,
         "cannot parse|nested", {"suffix": ".json"}),
    Case("claim file", "YAML python object tag", b"claims: !!python/object/apply:os.system [id]",
         "cannot parse"),
    Case("claim file", "YAML integer of 5000 digits", b"claims: " + b"1" * 5000, "cannot parse"),
    Case("claim file", "JSON integer of 5000 digits", b'{"claims": ' + b"1" * 5000 + b"}",
         "cannot parse", {"suffix": ".json"}),
    Case("claim file", "impossible YAML timestamp", _claim(valid_from="2024-13-45")
         .replace(b"'2024-13-45'", b"2024-13-45"), "cannot parse"),
    Case("claim file", "invalid UTF-8", b"claims: [\xff\xfe]", "UTF-8"),
    Case("claim file", "UTF-16 with BOM", "claims: []".encode("utf-16"), "UTF-8"),
    Case("claim file", "UTF-16-LE without BOM", "claims: []".encode("utf-16-le"),
         "cannot parse|UTF-8|control|mapping"),
    Case("claim file", "NUL bytes", b"claims: []\x00\x00", "cannot parse"),
    Case("claim file", "not a mapping", b"- just\n- a list\n", "mapping"),
    Case("claim file", "empty", b"", "mapping"),
    Case("claim file", "unknown section", b"evil: 1\n", "unknown section"),
    Case("claim file", "no events", b"claims: []\n", "holds no"),
    Case("claim file", "claims not a list", b"claims: {a: 1}\n", "list of mappings"),
    Case("claim file", "claim of the wrong type", b"claims: [1, 2]\n", "list of mappings"),
    Case("claim file", "over 50 MiB", b"#" * (50 * 1024 * 1024 + 10), "larger than"),
    Case("claim file", "unknown claim field", _claim(evil="x"), "unknown field"),
    Case("claim file", "subject of the wrong type", _claim(subject=["a"]), "must be a name"),
    Case("claim file", "quote of the wrong type", _claim(quote={"a": 1}), "quote"),
    Case("claim file", "start as a string", _claim(start="5"), "start"),
    Case("claim file", "occurrence negative", _claim(occurrence=-1), "occurrence"),
    Case("claim file", "occurrence as a boolean", _claim(occurrence=True), "occurrence"),
    Case("claim file", "reported_via not a list", _claim(reported_via=5), "list"),
    Case("claim file", "object datatype unknown prefix",
         _claim(predicate="gk:needs", object={"value": "x", "datatype": "foo:bar"},
                quote="Syria needs international partnerships", subject="syria"),
         "unknown prefix"),
    Case("claim file", "object IRI invalid", _claim(object={"iri": "http://a%zz"}), "IRI"),
    Case("claim file", "literal with bad language tag",
         _claim(predicate="gk:needs", object={"text": "x", "lang": "en-a"}, subject="syria",
                quote="Syria needs international partnerships"), "language tag"),
    Case("claim file", "confidence NaN", _claim(confidence=float("nan")), "confidence"),
    Case("claim file", "date of the wrong precision", _claim(valid_from="2024-1"), "date"),
    Case("claim file", "valid_at as a number", _claim(valid_at=20241), "date"),
    Case("claim file", "aliases not a list",
         _yaml({"entities": [{"id": "e1", "types": ["gk:Person"], "label": "E",
                              "aliases": 5}]}), "list"),
    Case("claim file", "same_as not an IRI",
         _yaml({"entities": [{"id": "e2", "types": ["gk:Person"], "label": "E",
                              "same_as": ["http://x y"]}]}), "IRI"),
    Case("claim file", "entity types empty",
         _yaml({"entities": [{"id": "e3", "types": [], "label": "E"}]}), "type"),
    Case("claim file", "entity label binary", b"entities: [{id: e4, types: [gk:Person], "
                                              b"label: !!binary AAAA}]", "string"),
    Case("claim file", "source slug with path traversal",
         _yaml({"sources": [{"id": "../../etc", "text": "x", "title": "t"}]}), "slug"),
    Case("claim file", "source file that is a device",
         _yaml({"sources": [{"id": "dz", "file": "/dev/zero", "title": "t"}]}),
         "not a regular file"),
    Case("claim file", "source file that is a directory",
         _yaml({"sources": [{"id": "dd", "file": "/", "title": "t"}]}), "not a regular file"),
    Case("claim file", "source file with NUL in its name",
         _yaml({"sources": [{"id": "dn", "file": "a\x00b", "title": "t"}]}),
         "null|NUL|cannot|does not exist"),
    Case("claim file", "source file missing",
         _yaml({"sources": [{"id": "dm", "file": "no/such/file.txt", "title": "t"}]}),
         "does not exist"),
    Case("claim file", "source text and file", _yaml({"sources": [{"id": "db", "file": "x",
                                                                    "text": "y", "title": "t"}]}),
         "not both"),
    Case("claim file", "source text with control characters",
         _yaml({"sources": [{"id": "dc", "text": "a\x1bb", "title": "t"}]}), "control"),
    Case("claim file", "source registered twice",
         _yaml({"sources": [{"id": "art", "text": "other", "title": "t"}]}),
         "already registered"),
    Case("claim file", "recorded_by of 1 MB",
         b"recorded_by: " + b"x" * 1_000_000 + b"\n" + _claim(id="rb-1"), "recorded_by"),
    Case("claim file", "recorded_by with a newline",
         b'recorded_by: "a\\nb"\n' + _claim(id="rb-2"), "recorded_by"),
    Case("claim file", "batch whose last claim is invalid (all or nothing)",
         _yaml({"entities": [{"id": "fresh", "types": ["gk:Person"], "label": "Fresh"}],
                "claims": [{"id": "bad", "subject": "atlantis", "predicate": "gk:status",
                            "object": "status:uncertain", "modality": "asserted",
                            "source": "art", "quote": "Their future remains unclear"}]}),
         "unknown entity"),
    Case("claim file", "claim file that is /dev/zero", None, "not a regular file",
         {"path": "/dev/zero"}),
    Case("claim file", "claim file that is a FIFO", None, "not a regular file", {"fifo": True}),
]


# -- source texts ------------------------------------------------------------------------------

SOURCE_TEXTS: list[Case] = [
    Case("source text", "invalid UTF-8", b"caf\xe9 au lait", "UTF-8"),
    Case("source text", "UTF-16-LE with BOM", "Syria".encode("utf-16"), "UTF-16"),
    Case("source text", "UTF-16-BE with BOM", "\ufeffSyria".encode("utf-16-be"), "UTF-16"),
    Case("source text", "UTF-16 without BOM", "Syria".encode("utf-16-le"), "control"),
    Case("source text", "NUL byte", b"a\x00b", "control"),
    Case("source text", "escape sequences", b"a\x1b[2Jb", "control"),
    Case("source text", "overlong UTF-8 encoding", b"a\xc0\xafb", "UTF-8"),
    Case("source text", "surrogate encoded in UTF-8", b"a\xed\xa0\x80b", "UTF-8"),
    Case("source text", "over 20 MiB", b"a" * (20 * 1024 * 1024 + 1), "larger than"),
    Case("source text", "a device (/dev/zero)", None, "not a regular file", {"path": "/dev/zero"}),
    Case("source text", "a directory", None, "not a regular file", {"path": "/"}),
    Case("source text", "a FIFO", None, "not a regular file", {"fifo": True}),
    Case("source text", "missing file", None, "does not exist", {"path": "/no/such/file"}),
    Case("source text", "slug with path traversal", b"text", "slug", {"id": "../../etc"}),
    Case("source text", "slug with a slash", b"text", "slug", {"id": "a/b"}),
    Case("source text", "slug upper case", b"text", "slug", {"id": "Art"}),
    Case("source text", "slug already registered", b"text", "already registered", {"id": "art"}),
    Case("source text", "impossible publication date", b"text", "date",
         {"args": ("--published", "2024-02-30")}),
    Case("source text", "bad language tag", b"text", "language",
         {"args": ("--language", "en US")}),
    Case("source text", "URL that is not an IRI", b"text", "IRI",
         {"args": ("--url", "not a url")}),
    Case("source text", "unknown publisher", b"text", "unknown entity",
         {"args": ("--publisher", "nobody")}),
    Case("source text", "title with control characters", b"text", "control",
         {"args": ("--title", "t\x00")}),
]


# -- the event files in kb/ ----------------------------------------------------------------------


def _mutate_json(line: bytes, change: Callable[[dict[str, Any]], None], *,
                 rehash: bool = False) -> bytes:
    env = json.loads(line)
    change(env)
    if rehash:
        env["hash"] = content_hash(env)
    return (canonical_json(env) + "\n").encode("utf-8")


def _set_quote(env: dict[str, Any]) -> None:
    env["payload"]["evidence"]["prefix"] = "edited "


def _lines(mutate: Callable[[list[bytes]], list[bytes]]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        return b"".join(mutate(data.splitlines(keepends=True)))
    return apply


def _at(index: int, change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def mutate(lines: list[bytes]) -> list[bytes]:
        lines[index - 1] = change(lines[index - 1])
        return lines
    return _lines(mutate)


def _appended(env: dict[str, Any]) -> Callable[[bytes], bytes]:
    """Append a well-chained event (correct seq, prev and hash) with ``env``'s payload."""
    def apply(data: bytes) -> bytes:
        last = json.loads(data.splitlines()[-1])
        new = {**last, "id": "f" * 32, "seq": last["seq"] + 1, "prev": last["hash"], **env}
        new.pop("idem", None)
        new["hash"] = content_hash(new)
        return data + (canonical_json(new) + "\n").encode("utf-8")
    return apply


def _forged(data: bytes) -> dict[str, Any]:
    """Line 7's claim under a new IRI, its evidence moved one character along."""
    payload: dict[str, Any] = json.loads(data.splitlines()[6])["payload"]
    evidence = {**payload["evidence"], "start": payload["evidence"]["start"] + 1,
                "end": payload["evidence"]["end"] + 1}
    return {**payload, "claim": "https://w3id.org/geokb/claim/forged", "evidence": evidence}


#: (mutation, line that must be named, whether opening the KB must fail)
EVENT_FILES: list[Case] = [
    Case("event file", "a payload edited", _at(7, lambda x: x.replace(b"Their", b"THEIR")), ":7:",
         {"open_fails": True}),
    Case("event file", "a payload edited and its hash recomputed",
         _at(5, lambda x: _mutate_json(x, lambda e: e["payload"].update(label="Edited"),
                                       rehash=True)), ":6:", {"open_fails": True}),
    Case("event file", "evidence edited and hash recomputed",
         _at(8, lambda x: _mutate_json(x, _set_quote, rehash=True)), ":9:", {"open_fails": True}),
    Case("event file", "seq changed and hash recomputed",
         _at(4, lambda x: _mutate_json(x, lambda e: e.update(seq=40), rehash=True)), ":4:",
         {"open_fails": True}),
    Case("event file", "recorded_at moved and hash recomputed",
         _at(3, lambda x: _mutate_json(x, lambda e: e.update(
             recorded_at="2001-01-01T00:00:00.000000Z"), rehash=True)), ":4:",
         {"open_fails": True}),
    Case("event file", "two lines swapped", _lines(lambda ls: [*ls[:2], ls[3], ls[2], *ls[4:]]),
         ":3:", {"open_fails": True}),
    Case("event file", "a line deleted", _lines(lambda ls: ls[:3] + ls[4:]), ":4:",
         {"open_fails": True}),
    Case("event file", "the first line deleted", _lines(lambda ls: ls[1:]), ":1:",
         {"open_fails": True}),
    Case("event file", "a line duplicated", _lines(lambda ls: [*ls[:4], ls[3], *ls[4:]]), ":5:",
         {"open_fails": True}),
    Case("event file", "a blank line inserted", _lines(lambda ls: [*ls[:4], b"\n", *ls[4:]]),
         ":5:", {"open_fails": True}),
    Case("event file", "the last line truncated", lambda d: d[:-40], ":10:",
         {"open_fails": False}),
    Case("event file", "truncated inside line 6",
         _lines(lambda ls: [*ls[:5], ls[5][:100]]), ":6:", {"open_fails": False}),
    Case("event file", "a garbage line appended", lambda d: d + b"garbage\n", ":11:",
         {"open_fails": True}),
    Case("event file", "spaces added (not canonical)",
         _at(2, lambda x: x.replace(b'":"', b'": "', 1)), ":2:", {"open_fails": True}),
    Case("event file", "keys reordered (not canonical)",
         _at(2, lambda x: (json.dumps(dict(reversed(list(json.loads(x).items()))),
                                      ensure_ascii=False, separators=(",", ":")) + "\n")
             .encode("utf-8")), ":2:", {"open_fails": True}),
    Case("event file", "CRLF line endings", lambda d: d.replace(b"\n", b"\r\n"), ":1:",
         {"open_fails": True}),
    Case("event file", "a UTF-8 BOM", lambda d: b"\xef\xbb\xbf" + d, ":1:",
         {"open_fails": True}),
    Case("event file", "an invalid UTF-8 byte", _at(2, lambda x: x.replace(b"air", b"a\xffr", 1)),
         ":2:", {"open_fails": True}),
    Case("event file", "re-encoded as UTF-16", lambda d: d.decode().encode("utf-16"), ":1:",
         {"open_fails": True}),
    Case("event file", "a NUL byte", _at(6, lambda x: x[:50] + b"\x00" + x[50:]), ":6:",
         {"open_fails": True}),
    Case("event file", "hash in upper case", _at(2, lambda x: _mutate_json(
        x, lambda e: e.update(hash=e["hash"].upper()))), ":2:", {"open_fails": True}),
    Case("event file", "a float in the payload", _at(9, lambda x: x.replace(
        b'"seq":9', b'"seq":9.0')), ":9:", {"open_fails": True}),
    Case("event file", "a line nested 100 000 deep",
         lambda d: d + b"[" * 100_000 + b"]" * 100_000 + b"\n", ":11:", {"open_fails": True}),
    Case("event file", "a line over 1 MiB", lambda d: d + b'{"a":"' + b"x" * 1_100_000 + b'"}\n',
         ":11:", {"open_fails": True}),
    Case("event file", "an unknown event type, well chained",
         _appended({"type": "EntityDeleted", "payload": {}}), ":11:", {"open_fails": True}),
    Case("event file", "an unknown envelope field, well chained", _appended({"evil": 1}), ":11:",
         {"open_fails": True}),
    Case("event file", "a retraction of a missing claim, well chained (validate)",
         _appended({"type": "ClaimRetracted", "payload": {
             "claim": "https://w3id.org/geokb/claim/nope", "reason": "x"}}), ":11:",
         {"open_fails": True, "verify_ok": True}),
    Case("event file", "a claim whose quote is not at its offsets, well chained (validate)",
         lambda d: _appended({"type": "ClaimAsserted", "payload": _forged(d)})(d), ":11:",
         {"validate_only": True}),
    Case("event file", "a source text edited", "source:edit", "sources|sha256|hash",
         {"validate_only": True}),
    Case("event file", "a source text deleted", "source:delete", "not stored|source",
         {"validate_only": True}),
]


# -- HTTP: the SPARQL endpoint and the REST API ---------------------------------------------

_CLAIM = {"subject": "tartus-naval-base", "predicate": "gk:status", "object": "status:uncertain",
          "modality": "asserted", "source": "art", "quote": "Their future remains unclear"}
_AUTH = {"Authorization": f"Bearer {TOKEN}"}
_SLOW = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
         "?m ?n2 ?o }")


def _get(path: str, statuses: tuple[int, ...], **kw: Any) -> tuple[Any, ...]:
    return ("GET", path, kw, statuses)


def _post(path: str, statuses: tuple[int, ...], **kw: Any) -> tuple[Any, ...]:
    return ("POST", path, kw, statuses)


HTTP: list[Case] = [
    Case("sparql", "syntax error", _get("/sparql", (400,), params={"query": "SELECT * {"}),
         "syntax"),
    Case("sparql", "query in a POST body with a syntax error",
         _post("/sparql", (400,), content=b"ASK {", headers={
             "Content-Type": "application/sparql-query"}), "syntax"),
    Case("sparql", "update by GET", _get("/sparql", (400, 405), params={"update": "DROP ALL"}),
         "POST"),
    Case("sparql", "update without a token", _post("/sparql", (401,), data={
        "update": "DROP ALL"}), "token"),
    Case("sparql", "update with a wrong token", _post("/sparql", (401,), data={
        "update": "DROP ALL"}, headers={"Authorization": "Bearer wrong"}), "token"),
    Case("sparql", "update with a token of another scheme", _post("/sparql", (401,), data={
        "update": "DROP ALL"}, headers={"Authorization": f"Basic {TOKEN}"}), "token"),
    Case("sparql", "LOAD from an internal address", _post("/sparql", (400,), data={
        "update": "LOAD <http://127.0.0.1:8000/sparql>"}, headers=_AUTH), "LOAD"),
    Case("sparql", "LOAD from cloud metadata into a graph", _post("/sparql", (400,), data={
        "update": "load silent <http://169.254.169.254/latest> into graph <urn:g>"},
        headers=_AUTH), "LOAD"),
    Case("sparql", "SERVICE to an internal address", _get("/sparql", (400,), params={
        "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:8000/sparql> { ?s ?p ?o } }"}),
        "SERVICE"),
    Case("sparql", "SERVICE in lower case, SILENT", _get("/sparql", (400,), params={
        "query": "select * { service silent <http://10.0.0.1/> { ?s ?p ?o } }"}), "SERVICE"),
    Case("sparql", "SERVICE inside an update", _post("/sparql", (400,), data={
        "update": "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }"},
        headers=_AUTH), "SERVICE"),
    Case("sparql", "a query that would run for ever", _get("/sparql", (503,), params={
        "query": _SLOW}), "longer than|limit"),
    Case("sparql", "more rows than the limit", _get("/sparql", (400, 413), params={
        "query": "SELECT * WHERE { ?a ?b ?c }"}), "rows|limit"),
    Case("sparql", "body over the limit", _post("/sparql", (413,), content=b" " * 70_000,
                                                  headers={"Content-Type":
                                                           "application/sparql-query"}), "limit"),
    Case("sparql", "invalid UTF-8 body", _post("/sparql", (400,), content=b"ASK {\xff}",
                                                headers={"Content-Type":
                                                         "application/sparql-query"}), "UTF-8"),
    Case("sparql", "UTF-16 body", _post("/sparql", (400, 415), content="ASK {}".encode(
        "utf-16"), headers={"Content-Type": "application/sparql-query"}), "UTF-8"),
    Case("sparql", "UTF-16 charset declared", _post("/sparql", (415,), content="ASK {}"
                                                     .encode("utf-16"), headers={
        "Content-Type": "application/sparql-query; charset=utf-16"}), "UTF-8|charset"),
    Case("sparql", "unsupported content type", _post("/sparql", (415,), content=b"ASK {}",
                                                      headers={"Content-Type": "image/png"}),
         "Content-Type"),
    Case("sparql", "default-graph-uri not an IRI", _get("/sparql", (400,), params={
        "query": "ASK {}", "default-graph-uri": "http://x y"}), "IRI"),
    Case("sparql", "as_of not a position", _get("/sparql", (400, 422), params={
        "query": "ASK {}", "as_of": "²"}), "as-of"),
    Case("sparql", "valid_at impossible", _get("/sparql", (400, 422), params={
        "query": "ASK {}", "valid_at": "2024-02-30"}), "date"),
    Case("sparql", "update naming the system graph", _post("/sparql", (400, 403, 422), data={
        "update": "DROP GRAPH <https://w3id.org/geokb/graph/system>"}, headers=_AUTH),
        "reserved|system"),
    Case("sparql", "update syntax error", _post("/sparql", (400,), data={
        "update": "INSERT DATA { <a> }"}, headers=_AUTH), "syntax|IRI"),
    Case("graph store", "graph not an IRI", _get("/graph", (400,), params={
        "graph": "http://x y"}), "IRI"),
    Case("graph store", "PUT refused", ("PUT", "/graph", {"params": {"default": ""}},
                                        (405,)), "read-only"),
    *[Case("rest", f"entity name {n!r} in the path (injection)",
           _get(f"/api/entities/{quote(n, safe='')}/status", (404, 422)), "no entity|not found")
      for n in INJECTIONS[:4]],
    Case("rest", "path traversal in a source slug", _get("/api/sources/..%2F..%2Fetc",
                                                         (404, 422)), "not found|source"),
    Case("rest", "path traversal under /static", _get("/static/..%2F..%2F..%2Fetc%2Fpasswd",
                                                      (404,)), "not found"),
    Case("rest", "claim id that is not an IRI", _get("/api/claims/http%3A%2F%2Fx%20y",
                                                     (404, 422)), "IRI|not found"),
    Case("rest", "as_of not a position", _get("/api/entities/tartus-naval-base/status",
                                              (400, 422), params={"as_of": "²"}), "as-of"),
    Case("rest", "as_of out of range", _get("/api/entities/tartus-naval-base/status",
                                            (400, 422), params={
        "as_of": "0001-01-01T00:00:00+01:00"}), "as-of"),
    Case("rest", "valid_at impossible", _get("/api/entities/tartus-naval-base/timeline",
                                             (400, 422), params={"valid_at": "2024-13"}),
         "date"),
    Case("rest", "events after -1", _get("/api/events", (422,), params={"after": "-1"}),
         "after"),
    Case("rest", "Last-Event-ID of 5000 digits", _get("/api/events/stream", (400,),
                                                      headers={"Last-Event-ID": "9" * 5000}),
         "Last-Event-ID"),
    Case("rest", "Last-Event-ID a latin-1 digit", _get("/api/events/stream", (400,),
                                                       headers={"Last-Event-ID": b"\xb2"}),
         "Last-Event-ID"),
    Case("rest", "POST a claim without a token", _post("/api/claims", (401,), json=_CLAIM),
         "token"),
    *[Case("rest", f"POST a claim with {what}", _post("/api/claims", (400, 422), json={
        **_CLAIM, **change}, headers=_AUTH), expect) for what, change, expect in [
        ("an invalid IRI", {"object": "http://a%zz"}, "IRI"),
        ("a bad language tag", {"object": {"text": "x", "lang": "en\n"},
                                "predicate": "gk:assessment"}, "language"),
        ("an impossible date", {"valid_at": "2024-02-30"}, "date"),
        ("full-width digits in a date", {"valid_at": "２０２４"}, "date"),
        ("a note of 50 000 characters", {"note": "x" * 50_000}, "longer than"),
        ("a NUL in a note", {"note": "a\x00b"}, "control"),
        ("an unknown subject", {"subject": "atlantis"}, "unknown entity"),
        ("an unknown predicate", {"predicate": "gk:ownedBy"}, "unknown predicate"),
        ("an unknown field", {"evil": 1}, "evil|Extra"),
        ("a confidence of 1e308", {"confidence": 1e308}, "confidence"),
        ("a negative start", {"start": -5}, "start"),
        ("an occurrence of 10^30", {"occurrence": 10**30}, "occurrence"),
        ("a claim id with path traversal", {"id": "../../etc"}, "slug"),
        ("an outlet that is not an IRI", {"reported_via": ["http://x y"]}, "IRI"),
        ("a datatype of an unknown prefix", {"object": {"value": "1", "datatype": "foo:bar"},
                                             "predicate": "gk:assessment"}, "prefix"),
        ("the wrong types", {"subject": ["a"], "quote": {"x": 1}}, "subject|quote"),
    ]],
    Case("rest", "POST a claim body over the limit", _post("/api/claims", (413,),
                                                          content=b"{" + b" " * 70_000 + b"}",
                                                          headers={**_AUTH, "Content-Type":
                                                                   "application/json"}),
         "limit"),
    Case("rest", "POST invalid JSON", _post("/api/claims", (400, 422), content=b"{not json",
                                            headers={**_AUTH, "Content-Type":
                                                     "application/json"}), "JSON"),
    Case("rest", "POST JSON with invalid UTF-8", _post("/api/claims", (400, 422),
                                                       content=b'{"note": "\xff"}', headers={
        **_AUTH, "Content-Type": "application/json"}), "JSON|UTF|decode|parsing the body"),
    Case("rest", "POST JSON nested 20 000 deep", _post("/api/claims", (400, 422),
                                                       content=b"[" * 20_000 + b"]" * 20_000,
                                                       headers={**_AUTH, "Content-Type":
                                                                "application/json"}),
         "JSON|invalid|nested|parsing the body"),
    Case("rest", "an idempotency key of 5000 characters", _post(
        "/api/claims", (400, 422), json={**_CLAIM, "id": "idem-long"},
        headers={**_AUTH, "Idempotency-Key": "k" * 5000}), "idem"),
    Case("rest", "retract with an injected claim id", _post(
        '/api/claims/x" } DROP ALL/retract', (404, 422), json={"reason": "r"},
        headers=_AUTH), "prefixed name|not found|no claim"),
    Case("rest", "retract with a NUL in the reason", _post(
        "/api/claims/tartus-unclear/retract", (400, 422), json={"reason": "a\x00"},
        headers=_AUTH), "control"),
    Case("rest", "supersede a claim by itself", _post(
        "/api/claims/tartus-unclear/supersede", (400, 422),
        json={"by": "tartus-unclear", "reason": "r"}, headers=_AUTH), "itself"),
]


# -- running a case ---------------------------------------------------------------------------


def snapshot(directory: Path) -> dict[str, str]:
    """The SHA-256 of ``events.jsonl`` and of every file under ``sources/``."""
    out = {}
    for path in sorted([directory / "events.jsonl", *(directory / "sources").glob("*")]):
        if path.is_file():
            out[str(path.relative_to(directory))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def cli(kb_dir: Path, *args: str) -> tuple[int, str, str, BaseException | None]:
    argv = list(args)
    head = ["--kb", str(kb_dir)]
    if argv and argv[0] == "--as":  # a global option goes before the command
        head += argv[:2]
        argv = argv[2:]
    else:  # a cli: agent lets a claim file's own recorded_by count
        head += ["--as", "cli:hostile"]
    result = runner.invoke(app, [*head, *argv])
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, result.stderr, exc


def _clean_cli_error(code: int, err: str, exc: BaseException | None, expect: str) -> str | None:
    """None if the CLI refused cleanly with the expected message, else what was wrong."""
    if exc is not None:
        return f"crashed with {type(exc).__name__}: {exc}"
    if code not in (1, 2):
        return f"exit code {code} (accepted?)"
    if "Traceback" in err:
        return "printed a traceback"
    usage = "Invalid value" in err or "Usage:" in err
    if not usage and len(err.strip().splitlines()) != 1:
        return f"error is not one line: {err!r}"
    if not re.search(expect, err, re.IGNORECASE):
        return f"error does not say {expect!r}: {err.strip()[:300]!r}"
    return None


def _special_path(case: Case, work: Path) -> Path | None:
    if case.extra.get("fifo"):
        fifo = work / "fifo"
        if not fifo.exists():
            os.mkfifo(fifo)
        return fifo
    path = case.extra.get("path")
    return Path(path) if path else None


def run_case(case: Case, kb_dir: Path, work: Path) -> str | None:
    """Run one hostile case; None when it was refused cleanly and nothing changed."""
    before = snapshot(kb_dir)
    if case.surface == "cli":
        code, _, err, exc = cli(kb_dir, *case.data)
        problem = _clean_cli_error(code, err, exc, case.expect)
    elif case.surface == "claim file":
        path = _special_path(case, work) or work / f"claims{case.extra.get('suffix', '.yaml')}"
        if case.data is not None:
            path.write_bytes(case.data)
        code, _, err, exc = cli(kb_dir, "ingest", str(path))
        problem = _clean_cli_error(code, err, exc, case.expect)
    elif case.surface == "source text":
        path = _special_path(case, work) or work / "source.txt"
        if case.data is not None:
            path.write_bytes(case.data)
        args = ["source", "add", str(path), "--id", case.extra.get("id", "new-source"),
                "--title", "A title", *case.extra.get("args", ())]  # a later --title wins
        code, _, err, exc = cli(kb_dir, *args)
        problem = _clean_cli_error(code, err, exc, case.expect)
    else:
        raise ValueError(case.surface)
    after = snapshot(kb_dir)
    if problem is None and after != before:
        problem = "the KB changed although the input was refused"
    return problem


def run_event_file_case(case: Case, base: Path, work: Path) -> str | None:
    """Corrupt a copy of ``base`` as the case says; verify/validate must name the line."""
    kb_dir = work / "kb"
    if kb_dir.exists():
        shutil.rmtree(kb_dir)
    shutil.copytree(base, kb_dir, ignore=shutil.ignore_patterns(".lock", ".pending", ".torn"))
    log = kb_dir / "events.jsonl"
    if case.data == "source:edit":
        [text] = (kb_dir / "sources").glob("*.txt")
        text.write_bytes(text.read_bytes().replace(b"unclear", b"UNCLEAR"))
    elif case.data == "source:delete":
        [text] = (kb_dir / "sources").glob("*.txt")
        text.unlink()
    else:
        log.write_bytes(case.data(log.read_bytes()))
    before = snapshot(kb_dir)
    problems = []
    v_code, v_out, v_err, v_exc = cli(kb_dir, "verify")
    verify_ok = case.extra.get("verify_ok") or case.extra.get("validate_only")
    if v_exc is not None:
        problems.append(f"verify crashed: {v_exc!r}")
    elif verify_ok:
        if v_code != 0:
            problems.append(f"verify exit {v_code} on a well-chained log: {v_out[-300:]}")
    elif v_code != 1 or not re.search(re.escape(case.expect), v_out):
        problems.append(f"verify exit {v_code} without naming {case.expect}: {v_out[-300:]}"
                        f"{v_err[-200:]}")
    a_code, a_out, a_err, a_exc = cli(kb_dir, "validate", "--format", "annotations")
    pattern = case.expect if case.extra.get("validate_only") else re.escape(case.expect)
    if a_exc is not None:
        problems.append(f"validate crashed: {a_exc!r}")
    elif a_code != 1 or not re.search(pattern, a_out, re.IGNORECASE):
        problems.append(f"validate exit {a_code} without naming {case.expect}: {a_out[-300:]}"
                        f"{a_err[-200:]}")
    if case.extra.get("open_fails"):
        try:
            KnowledgeBase(kb_dir)
        except CorruptLog as exc:
            line = int(case.expect.strip(":"))
            if f":{exc.line}:" != case.expect and exc.line != line:
                problems.append(f"opening the KB failed at line {exc.line}, not {line}")
        except GeoKBError:  # e.g. a replay rule: refused (validate says where)
            pass
        except Exception as exc:
            problems.append(f"opening the KB crashed: {exc!r}")
        else:
            problems.append("the KB opened: the bad line was skipped silently")
    if snapshot(kb_dir) != before:
        problems.append("verify/validate changed the KB")
    return "; ".join(problems) or None


def run_http_case(case: Case, client: Any, kb_dir: Path) -> str | None:
    method, path, kwargs, statuses = case.data
    before = snapshot(kb_dir)
    response = client.request(method, path, **kwargs)
    problem = None
    if response.status_code not in statuses:
        problem = f"status {response.status_code}, not {statuses}: {response.text[:300]}"
    else:
        try:
            message = str(response.json().get("error", ""))
        except ValueError:
            message = response.text
        if not message:
            problem = f"no error message: {response.text[:200]}"
        elif not re.search(case.expect, message, re.IGNORECASE):
            problem = f"error does not say {case.expect!r}: {message[:300]!r}"
    if snapshot(kb_dir) != before:
        problem = (problem or "") + " the KB changed"
    return problem


# -- fixtures and the tests -------------------------------------------------------------------


def prepared_kb(directory: Path) -> Path:
    """The mini KB plus one retraction: 10 events, one stored source text."""
    make_base_kb(directory)
    kb = KnowledgeBase(directory)
    kb.retract("hmeimim-unclear", "test retraction", recorded_by="test:hostile")
    del kb
    return directory


@pytest.fixture(scope="module")
def shared_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepared_kb(tmp_path_factory.mktemp("hostile") / "kb")


@pytest.fixture(scope="module")
def http_client(shared_kb: Path) -> Any:
    pytest.importorskip("geokb.http.app")
    from fastapi.testclient import TestClient

    from geokb.http.app import Settings, create_app

    kb = KnowledgeBase(shared_kb)
    settings = Settings(tokens={"tester": TOKEN}, query_timeout=1.0, max_rows=100,
                        max_body_bytes=65_536)
    with TestClient(create_app(kb, settings), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("case", CLI + CLAIM_FILES + SOURCE_TEXTS, ids=lambda c: c.id)
def test_refused_cleanly_and_nothing_changed(case: Case, shared_kb: Path,
                                             tmp_path: Path) -> None:
    problem = run_case(case, shared_kb, tmp_path)
    assert problem is None, problem


@pytest.fixture(scope="module")
def pristine_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepared_kb(tmp_path_factory.mktemp("pristine") / "kb")


@pytest.mark.parametrize("case", EVENT_FILES, ids=lambda c: c.id)
def test_edited_event_files_are_located(case: Case, pristine_kb: Path, tmp_path: Path) -> None:
    problem = run_event_file_case(case, pristine_kb, tmp_path)
    assert problem is None, problem


@pytest.mark.parametrize("case", HTTP, ids=lambda c: c.id)
def test_http_refuses_cleanly(case: Case, http_client: Any, shared_kb: Path) -> None:
    problem = run_http_case(case, http_client, shared_kb)
    assert problem is None, problem


def test_cors_is_off_unless_configured(http_client: Any) -> None:
    r = http_client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    r = http_client.options("/sparql", headers={"Origin": "http://evil.example",
                                                "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}


def test_every_surface_has_cases() -> None:
    surfaces = {c.surface for c in CLI + CLAIM_FILES + SOURCE_TEXTS + EVENT_FILES + HTTP}
    assert surfaces == {"cli", "claim file", "source text", "event file", "sparql",
                        "graph store", "rest"}


# -- security ------------------------------------------------------------------------------


def test_tokens_identity_and_logs_on_a_real_server(tmp_path: Path) -> None:
    """Two named tokens: each write records its token's name, never the token; a wrong
    token is refused; neither token appears in the server's output or in the log."""
    pytest.importorskip("geokb.http.app")
    import httpx

    from tests.harness.reliability import claim_spec, server

    directory = tmp_path / "kb"
    make_base_kb(directory)
    alice, bob, wrong = "alice-secret-" + "a" * 24, "bob-secret-" + "b" * 24, "guess-" + "c" * 30
    log_path = tmp_path / "server.log"
    with server(directory, tokens=f"alice:{alice},bob:{bob}", log_path=log_path) as (_, base), \
            httpx.Client(base_url=base, timeout=30) as http:
        for name, token in (("alice", alice), ("bob", bob)):
            r = http.post("/api/claims", json=claim_spec(f"by-{name}", "tartus-naval-base"),
                          headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            assert r.json()["lifecycle"]["asserted"]["recorded_by"] == f"http:{name}"
        before = (directory / "events.jsonl").read_bytes()
        for headers in ({"Authorization": f"Bearer {wrong}"}, {"Authorization": alice},
                        {"Authorization": f"Basic {alice}"}, {}):
            r = http.post("/api/claims", json=claim_spec("nope", "tartus-naval-base"),
                          headers=headers)
            assert r.status_code == 401, (headers, r.status_code)
            assert wrong not in r.text and alice not in r.text
        r = http.post("/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"},
                      headers={"Authorization": f"Bearer {wrong}"})
        assert r.status_code == 401
        assert (directory / "events.jsonl").read_bytes() == before
    log = (directory / "events.jsonl").read_text(encoding="utf-8")
    output = log_path.read_text(encoding="utf-8", errors="replace")
    for secret in (alice, bob, wrong):
        assert secret not in log and secret not in output
    agents = {json.loads(line)["recorded_by"] for line in log.splitlines()}
    assert {"http:alice", "http:bob"} <= agents


def test_without_a_token_the_server_is_read_only(tmp_path: Path) -> None:
    pytest.importorskip("geokb.http.app")
    from fastapi.testclient import TestClient

    from geokb.http.app import Settings, create_app

    directory = prepared_kb(tmp_path / "kb")
    before = snapshot(directory)
    with TestClient(create_app(KnowledgeBase(directory), Settings()),
                    raise_server_exceptions=False) as client:
        assert client.get("/api/entities/tartus-naval-base/status").status_code == 200
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        for token in ("", "anything"):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r = client.post("/api/claims", json=_CLAIM, headers=headers)
            assert r.status_code == 403 and "read-only" in r.json()["error"]
            r = client.post("/sparql", data={"update": "DROP ALL"}, headers=headers)
            assert r.status_code == 403
            r = client.post("/api/claims/tartus-unclear/retract", json={"reason": "r"},
                            headers=headers)
            assert r.status_code in (403, 404)
    assert snapshot(directory) == before


def test_settings_never_show_a_token() -> None:
    pytest.importorskip("geokb.http.app")
    from geokb.errors import SettingsError
    from geokb.http.app import Settings

    settings = Settings.from_env(token="top-secret-1", environ={
        "GEOKB_TOKENS": "ci:top-secret-2"})
    assert "top-secret" not in repr(settings) and "top-secret" not in str(settings)
    with pytest.raises(SettingsError) as info:
        Settings.from_env(environ={"GEOKB_TOKENS": "bad name:top-secret-3"})
    assert "top-secret" not in str(info.value)


def test_the_write_token_is_compared_in_constant_time() -> None:
    """Review pinned as a test: the bearer check goes through hmac.compare_digest and
    looks at every configured token (no early exit that would tell which one matched)."""
    pytest.importorskip("geokb.http.app")
    import inspect

    from geokb.http import app as http

    source = inspect.getsource(http._Service.writer)
    assert "hmac.compare_digest" in source
    assert "==" not in source.split("compare_digest", 1)[1].split("return", 1)[0]
    assert "break" not in source


def test_cors_only_for_configured_origins(tmp_path: Path) -> None:
    pytest.importorskip("geokb.http.app")
    from fastapi.testclient import TestClient

    from geokb.http.app import Settings, create_app

    directory = prepared_kb(tmp_path / "kb")
    app = create_app(KnowledgeBase(directory), Settings(cors_origins=("https://ok.example",)))
    with TestClient(app) as client:
        allowed = client.get("/api/health", headers={"Origin": "https://ok.example"})
        assert allowed.headers.get("access-control-allow-origin") == "https://ok.example"
        other = client.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_any_single_byte_edit_of_the_log_is_detected(pristine_kb: Path) -> None:
    """Every byte of every line is covered by the canonical form or the hash chain."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from geokb.log.file import FileEventStore
    from geokb.ops.verify import scan_chain

    data = (pristine_kb / "events.jsonl").read_bytes()

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.integers(0, len(data) - 1), st.integers(0, 255))
    def edit(offset: int, byte: int) -> None:
        if data[offset] == byte:
            return
        work = Path(tempfile.mkdtemp(prefix="geokb-edit-"))
        try:
            edited = bytearray(data)
            edited[offset] = byte
            (work / "events.jsonl").write_bytes(bytes(edited))
            report, _ = scan_chain(FileEventStore(work))
            assert report.problems, f"byte {offset} changed to {byte} went unnoticed"
            line = data[:offset].count(b"\n") + 1
            assert min(p.line for p in report.problems) <= line + 1
        finally:
            shutil.rmtree(work)

    edit()

"""Claim files and command-line specs → events.

A claim file (YAML or JSON) holds ``sources``, ``entities``, ``claims``, ``retractions``
and ``supersessions`` (see ``docs/claim-files.md``). Names are short there (entity slugs,
``gk:status``, ``status:uncertain``, ``quoted``); here they become full IRIs, and each
quote is located in its source text, so the payloads that reach the log are explicit.

Size: one function per kind of entry (source, entity, claim, retraction, supersession) and
the safe loader they share; the problem naming moved to :mod:`geokb.write.problems`, and
the loader (with its line marks) is the next part to split out if it grows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from geokb.errors import InvalidEvent
from geokb.log.codec import sha256_hex
from geokb.log.events import (
    CLAIM_ASSERTED,
    CLAIM_RETRACTED,
    CLAIM_SUPERSEDED,
    ENTITY_DECLARED,
    SOURCE_REGISTERED,
    Event,
)
from geokb.log.schemas import check_iri
from geokb.log.sources import normalise_text
from geokb.vocab import CLAIM, GK, ID, MODALITY, SOURCE, expand, is_slug
from geokb.write.attribution import (
    CLAIM_KEYS,
    LabelOf,
    attribution_payload,
    grades_payload,
)
from geokb.write.names import clean_name
from geokb.write.problems import Located, did_you_mean_key
from geokb.write.values import check_source_url, confidence_text, refuse_duplicate_json_keys

SECTIONS = ("recorded_by", "sources", "entities", "claims", "retractions", "supersessions",
            "links", "amend_entities", "retract_sources")

MAX_CLAIM_FILE_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 20
CONTEXT_CHARS = 32


class _NoAliasLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses anchors/aliases (no alias bombs) and deep nesting."""

    def _next_line(self) -> int:
        """The 1-based line where the next parser event starts."""
        # types-PyYAML leaves Parser.peek_event unannotated (it returns a yaml.Event).
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line: int = event.start_mark.line
        return line + 1

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise InvalidEvent(f"YAML aliases are not allowed (line {self._next_line()})")
        if self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            depth = getattr(self, "_depth", 0) + 1
            if depth > MAX_DEPTH:
                raise InvalidEvent(f"claim file is nested deeper than {MAX_DEPTH} levels "
                                   f"(line {self._next_line()})")
            self._depth = depth
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth = depth - 1
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        """A mapping, refusing a key given twice (YAML says keys are unique; PyYAML lets
        the last one win silently)."""
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class refuses it
                continue
            if first is not None:
                raise InvalidEvent(f"duplicate key {key!r} at line {line} (first at line "
                                   f"{first})")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _located_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
    data = Located()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))


_NoAliasLoader.add_constructor("tag:yaml.org,2002:map", _located_mapping)


def load_document(data: bytes, *, name: str = "<input>") -> dict[str, Any]:
    """Parse a claim file's bytes (YAML or JSON). Raises :class:`InvalidEvent`."""
    if len(data) > MAX_CLAIM_FILE_BYTES:
        raise InvalidEvent(f"{name}: claim file is larger than {MAX_CLAIM_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"{name}: not valid UTF-8 (byte {exc.start})") from exc
    try:
        # _NoAliasLoader is a SafeLoader subclass: yaml.load with it is as safe as safe_load.
        doc = (json.loads(text, object_pairs_hook=refuse_duplicate_json_keys(text))
               if name.endswith(".json") else yaml.load(text, Loader=_NoAliasLoader))
    except InvalidEvent as exc:
        raise InvalidEvent(f"{name}: {exc}") from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        # ValueError: JSON errors, and YAML scalars Python refuses (an integer of 5000
        # digits, a timestamp like 2024-13-45)
        raise InvalidEvent(f"{name}: cannot parse: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidEvent(f"{name}: a claim file is a mapping with sources, entities, claims, …")
    unknown = set(doc) - set(SECTIONS)
    if unknown:
        names = sorted(str(k) for k in unknown)  # YAML keys may be null, numbers, …
        raise InvalidEvent(f"{name}: unknown section(s): {', '.join(names)}; a claim file "
                           f"has {', '.join(SECTIONS)}")
    located = doc if isinstance(doc, Located) else Located(doc)
    located.name = name
    return located


def slug_iri(value: object, namespace: Any, what: str) -> str:
    """A slug, prefixed name or IRI as a full IRI string."""
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{what} must be a name, got {value!r}")
    if is_slug(value):
        return str(namespace[value].value)
    try:
        iri = expand(value)
    except ValueError as exc:
        raise InvalidEvent(f"{what}: {exc}") from exc
    return check_iri(iri, what)


def predicate_iri(value: object) -> str:
    if isinstance(value, str) and value.isidentifier():
        return GK[value].value
    return slug_iri(value, GK, "predicate")


def object_payload(value: object) -> dict[str, str]:
    """The payload ``object`` of a claim-file object.

    >>> object_payload("status:uncertain")
    {'iri': 'https://w3id.org/geokb/status/uncertain'}
    >>> object_payload({"text": "outdated", "lang": "en"})
    {'value': 'outdated', 'lang': 'en'}
    """
    if isinstance(value, str):
        if ":" not in value:
            raise InvalidEvent(f"object {value!r}: write id:{value} for an entity or "
                               "{text: …, lang: en} for a literal")
        try:
            return {"iri": expand(value)}
        except ValueError as exc:
            raise InvalidEvent(f"object: {exc}") from exc
    if isinstance(value, dict):
        if set(value) == {"entity"}:
            return {"iri": slug_iri(value["entity"], ID, "object entity")}
        if set(value) == {"iri"}:
            return {"iri": slug_iri(value["iri"], ID, "object iri")}
        if "text" in value and set(value) <= {"text", "lang"}:
            out = {"value": value["text"]}
            if "lang" in value:
                out["lang"] = value["lang"]
            return out
        if "value" in value and set(value) <= {"value", "datatype"}:
            out = {"value": str(value["value"])}
            if "datatype" in value:
                out["datatype"] = expanded_iri(str(value["datatype"]), "object datatype")
            return out
    raise InvalidEvent(f"object {value!r}: use id:<slug>, status:<value>, {{text: …, lang: …}} "
                       "or {value: …, datatype: …}")


def locate(text: str, quote: str, *, start: int | None = None,
           occurrence: int | None = None) -> dict[str, Any]:
    """The evidence of ``quote`` in ``text``: offsets (code points) and prefix/suffix.

    >>> locate("a b a b", "b", occurrence=2)["start"]
    6

    Raises :class:`InvalidEvent` if the quote is absent, ambiguous, or not at ``start``.
    """
    if not isinstance(quote, str) or not quote:
        raise InvalidEvent("quote must be a non-empty string")
    for key, number in (("start", start), ("occurrence", occurrence)):
        if number is not None and (not isinstance(number, int) or isinstance(number, bool)
                                   or number < 0):
            raise InvalidEvent(f"{key} must be a non-negative integer, got {number!r}")
    if start is not None:
        if text[start:start + len(quote)] != quote:
            raise InvalidEvent(f"quote does not occur at offset {start} of the source")
    else:
        found = []
        pos = text.find(quote)
        while pos >= 0:
            found.append(pos)
            pos = text.find(quote, pos + 1)
        if not found:
            raise InvalidEvent(f"quote not found verbatim in the source: {quote[:80]!r}")
        if occurrence is not None:
            if not 1 <= occurrence <= len(found):
                raise InvalidEvent(f"quote occurs {len(found)} time(s); occurrence {occurrence} "
                                   "does not exist")
            start = found[occurrence - 1]
        elif len(found) > 1:
            raise InvalidEvent(f"quote occurs {len(found)} times in the source; say which with "
                               f"occurrence (1-{len(found)}): {quote[:80]!r}")
        else:
            start = found[0]
    end = start + len(quote)
    return {"quote": quote, "start": start, "end": end,
            "prefix": text[max(0, start - CONTEXT_CHARS):start],
            "suffix": text[end:end + CONTEXT_CHARS],
            "sha256": sha256_hex(text.encode("utf-8"))}


def claim_id_for(payload: Mapping[str, Any]) -> str:
    """A content-derived claim IRI, so the same claim from the same span gets the same id."""
    key = json.dumps([payload["subject"], payload["predicate"], payload["object"],
                      payload["source"], payload["evidence"]["start"],
                      payload["evidence"]["end"]], sort_keys=True)
    return CLAIM[f"c-{sha256_hex(key.encode('utf-8'))[:16]}"].value


@dataclass(frozen=True)
class SourceInput:
    """A source to register and its text."""

    event: Event
    text: str


def source_event(spec: Mapping[str, Any], text: str) -> SourceInput:
    """A ``SourceRegistered`` event for ``spec`` (a claim-file or CLI source entry)."""
    allowed = {"id", "file", "text", "title", "publisher", "url", "published", "language",
               "media_type", "description", "byline", "section", "reliability", "credibility"}
    unknown = set(spec) - allowed
    if unknown:
        raise InvalidEvent(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}; a source "
                           f"has {', '.join(sorted(allowed))}")
    if not is_slug(str(spec.get("id", ""))):
        raise InvalidEvent(f"source id must be a slug [a-z0-9-]: {spec.get('id')!r}")
    payload: dict[str, Any] = {
        "source": SOURCE[str(spec["id"])].value,
        "sha256": sha256_hex(text.encode("utf-8")),
        "title": spec.get("title"),
        "media_type": spec.get("media_type") or "text/plain",
    }
    if spec.get("publisher"):
        payload["publisher"] = slug_iri(spec["publisher"], ID, "publisher")
    for key in ("url", "published", "language", "description", "byline", "section"):
        if spec.get(key) is not None:
            payload[key] = str(spec[key])
    if "url" in payload:
        check_source_url(payload["url"])
    payload.update(grades_payload(spec))
    return SourceInput(Event(SOURCE_REGISTERED, payload), text)


def entity_event(spec: Mapping[str, Any]) -> Event:
    allowed = {"id", "types", "label", "aliases", "same_as", "description", "curator_aliases"}
    unknown = set(spec) - allowed
    if unknown:
        raise InvalidEvent(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}; an "
                           f"entity has {', '.join(sorted(allowed))}")
    if not is_slug(str(spec.get("id", ""))):
        raise InvalidEvent(f"entity id must be a slug [a-z0-9-]: {spec.get('id')!r}")
    types = spec.get("types")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not types:
        raise InvalidEvent("give at least one type, e.g. gk:Person")
    payload: dict[str, Any] = {
        "entity": ID[str(spec["id"])].value,
        "types": [predicate_iri(t) for t in types],
        "label": _name(spec.get("label"), "label"),
        "aliases": [_name(a, "alias") for a in _list(spec, "aliases")],
        "same_as": [expanded_iri(str(s), "same_as") for s in _list(spec, "same_as")],
    }
    if spec.get("description"):
        payload["description"] = spec["description"]
    if spec.get("curator_aliases"):
        payload["curator_aliases"] = [_name(a, "alias") for a in _list(spec, "curator_aliases")]
    return Event(ENTITY_DECLARED, payload)


def _name(value: Any, what: str) -> Any:
    """A label or alias in NFC, look-alikes refused (:func:`clean_name`); a value that is
    not a string is left to the event's schema to refuse."""
    return clean_name(value, what) if isinstance(value, str) else value


def claim_event(spec: Mapping[str, Any], source_text: str, *,
                label_of: LabelOf | None = None) -> Event:
    """A ``ClaimAsserted`` event; the quote is located in ``source_text``.

    ``label_of`` gives the label of an entity IRI, for the description of an unnamed
    spokesperson (``{spokesperson_for: …}`` without ``anonymous``).
    """
    allowed = {"id", "subject", "predicate", "object", "modality", "source", "quote",
               "occurrence", "start", "speaker", "reported_via", "valid_from", "valid_until",
               "valid_at", "confidence", "note", *CLAIM_KEYS}
    unknown = set(spec) - allowed
    if unknown:
        raise InvalidEvent(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}"
                           + did_you_mean_key(unknown, allowed))
    missing = [key for key in ("subject", "predicate", "object", "modality", "source", "quote")
               if spec.get(key) in (None, "")]
    if missing:
        raise InvalidEvent(f"{', '.join(map(repr, missing))} "
                           f"{'is' if len(missing) == 1 else 'are'} required")
    payload: dict[str, Any] = {
        "subject": slug_iri(spec["subject"], ID, "subject"),
        "predicate": predicate_iri(spec["predicate"]),
        "object": object_payload(spec["object"]),
        "modality": slug_iri(spec["modality"], MODALITY, "modality"),
        "source": slug_iri(spec["source"], SOURCE, "source"),
        "evidence": locate(source_text, spec["quote"], start=spec.get("start"),
                           occurrence=spec.get("occurrence")),
        "reported_via": [slug_iri(v, ID, "reported_via") for v in _list(spec, "reported_via")],
    }
    payload.update(attribution_payload(spec, label_of or (lambda iri: None)))
    if spec.get("valid_at") is not None:
        if spec.get("valid_from") is not None or spec.get("valid_until") is not None:
            raise InvalidEvent("give valid_at, or valid_from/valid_until, not both")
        payload["valid_from"] = payload["valid_until"] = str(spec["valid_at"])
    for key in ("valid_from", "valid_until"):
        if spec.get(key) is not None:
            payload[key] = str(spec[key])
    if spec.get("confidence") is not None:
        payload["confidence"] = confidence_text(spec["confidence"])
    if spec.get("note"):
        payload["note"] = spec["note"]
    if spec.get("id"):
        if not is_slug(str(spec["id"])):
            raise InvalidEvent(f"claim id must be a slug [a-z0-9-]: {spec['id']!r}")
        payload["claim"] = CLAIM[str(spec["id"])].value
    else:
        payload["claim"] = claim_id_for(payload)
    return Event(CLAIM_ASSERTED, payload)


def expanded_iri(value: str, what: str) -> str:
    """A prefixed name or IRI as a checked IRI. Raises :class:`InvalidEvent`."""
    try:
        return check_iri(expand(value), what)
    except ValueError as exc:
        raise InvalidEvent(f"{what}: {exc}") from exc


def _list(spec: Mapping[str, Any], key: str) -> list[Any]:
    """A list field of a spec (absent or null: empty). Raises :class:`InvalidEvent`."""
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise InvalidEvent(f"{key!r} must be a list, got {value!r}"[:200])
    return value


def retraction_event(claim: str, reason: str) -> Event:
    return Event(CLAIM_RETRACTED, {"claim": slug_iri(claim, CLAIM, "claim"), "reason": reason})


def supersession_event(claim: str, by: str, reason: str,
                       cross_entity: str | None = None) -> Event:
    """A ``ClaimSuperseded``; ``cross_entity`` says why ``by`` is about another subject."""
    payload = {"claim": slug_iri(claim, CLAIM, "claim"), "by": slug_iri(by, CLAIM, "by"),
               "reason": reason}
    if cross_entity is not None:
        payload["cross_entity"] = cross_entity
    return Event(CLAIM_SUPERSEDED, payload)


def read_source_file(path: Path) -> str:
    """Read a source text file safely. Raises :class:`InvalidEvent`."""
    from geokb.log.sources import MAX_SOURCE_BYTES

    return normalise_text(read_limited(path, MAX_SOURCE_BYTES, "source file"))


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Raises :class:`InvalidEvent` for anything else: a missing or unreadable file, a
    directory, FIFO or device (``/dev/zero`` would never end), a larger file, a path with a
    NUL in it.
    """
    try:
        if not path.is_file():
            state = "is not a regular file" if path.exists() else "does not exist"
            raise InvalidEvent(f"{what} {path} {state}")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InvalidEvent(f"cannot read {what} {path}: {exc.strerror}") from exc
    except ValueError as exc:  # "embedded null byte"
        raise InvalidEvent(f"cannot read {what} {str(path)!r}: {exc}") from exc
    if len(data) > limit:
        raise InvalidEvent(f"{what} {path} is larger than {limit} bytes")
    return data

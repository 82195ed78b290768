"""The belief-model keys of a claim-file claim: who spoke, what they did, on what basis,
when, how graded, and which claims it answers (``docs/claim-files.md``).

Each function turns one key's short form into its schema-2 payload form and raises
:class:`InvalidEvent` saying what to write instead; the caller names the claim.

>>> speech_act_iri("promises")
'https://w3id.org/geokb/speech-act/pledges'
>>> grade_iri("credibility", 3)
'https://w3id.org/geokb/credibility/3'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from geokb.errors import InvalidEvent
from geokb.log.schemas import check_iri
from geokb.vocab import BASE, CLAIM, ID, Namespace, expand, is_slug

SPEECH_ACT = Namespace(BASE + "speech-act/")
BASIS = Namespace(BASE + "basis/")
RELIABILITY = Namespace(BASE + "reliability/")
CREDIBILITY = Namespace(BASE + "credibility/")

#: The concepts of ``gk:SpeechActScheme`` by name, and the names sources also use for them.
SPEECH_ACTS = ("states", "announces", "pledges", "callsFor", "demands", "praises", "denies",
               "confirms", "warns", "threatens", "accuses", "criticizes", "rejects")
SPEECH_ACT_ALIASES = {"promises": "pledges"}
#: The concepts of ``gk:BasisScheme`` by name.
BASES = ("officials", "documents", "satelliteImagery", "eyewitness", "ownReporting",
         "otherMedia", "socialMedia", "curatorKnowledge")
GRADES = {"reliability": ("ABCDEF", RELIABILITY), "credibility": ("123456", CREDIBILITY)}
LINK_KEYS = ("denies", "confirms", "contradicts")
CLAIM_KEYS = frozenset({"speakers", "speech_act", "basis", "occasion", "said_on", *LINK_KEYS,
                        "reliability", "credibility"})

#: The label of an entity IRI (declared in the file or in the log), or ``None``.
LabelOf = Callable[[str], "str | None"]


def _ref(value: object, namespace: Namespace, what: str) -> str:
    """An id (slug, in ``namespace``), a prefixed name (``id:syria``) or an IRI, as an IRI."""
    kind = "an entity" if namespace is ID else "a claim"
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{what} must be {kind} id [a-z0-9-], got {value!r}"[:200])
    if is_slug(value):
        return namespace[value].value
    try:
        return check_iri(expand(value), what)
    except ValueError as exc:
        raise InvalidEvent(f"{what} must be {kind} id [a-z0-9-] or IRI: {exc}"[:300]) from exc


def speakers_payload(spec: Mapping[str, Any], label_of: LabelOf) -> list[dict[str, Any]] | None:
    """The ``speakers`` of a claim spec (``speakers:`` or the older ``speaker:``), or None.

    >>> speakers_payload({"speaker": "lavrov"}, lambda iri: None)
    [{'entity': 'https://w3id.org/geokb/id/lavrov'}]
    """
    if spec.get("speaker") is not None and spec.get("speakers") is not None:
        raise InvalidEvent("give 'speaker' or 'speakers', not both")
    if spec.get("speaker") is not None:
        return [{"entity": _ref(spec["speaker"], ID, "speaker")}]
    items = spec.get("speakers")
    if items is None:
        return None
    if not isinstance(items, list) or not items:
        raise InvalidEvent("'speakers' must be a non-empty list: entity ids, "
                           "{anonymous: …} or {spokesperson_for: …}")
    return [_speaker(item, n, label_of) for n, item in enumerate(items, start=1)]


def _speaker(item: object, n: int, label_of: LabelOf) -> dict[str, Any]:
    what = f"speaker {n}"
    if isinstance(item, str):
        return {"entity": _ref(item, ID, what)}
    if not isinstance(item, dict) or not {"anonymous", "spokesperson_for"} & set(item):
        raise InvalidEvent(f"{what}: write an entity id, {{anonymous: \"two officials\", "
                           "count: 2, affiliation: <entity>}} or {spokesperson_for: <entity>}")
    unknown = set(item) - {"anonymous", "count", "affiliation", "spokesperson_for"}
    if unknown:
        raise InvalidEvent(f"{what}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    anon: dict[str, Any] = {}
    if item.get("spokesperson_for") is not None:
        body = _ref(item["spokesperson_for"], ID, f"{what} spokesperson_for")
        anon["spokesperson_for"] = body
    description = item.get("anonymous")
    if description is None and "spokesperson_for" in anon:
        label = label_of(anon["spokesperson_for"])
        description = f"spokesperson for {label or item['spokesperson_for']}"
    if not isinstance(description, str) or not description.strip():
        raise InvalidEvent(f"{what}: 'anonymous' is the source's words for the speaker, "
                           "e.g. \"two Syrian officials\"")
    anon["description"] = description
    count = item.get("count")
    if count is not None:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise InvalidEvent(f"{what}: 'count' must be a whole number of at least 1, "
                               f"got {count!r}")
        anon["count"] = count
    if item.get("affiliation") is not None:
        anon["affiliation"] = _ref(item["affiliation"], ID, f"{what} affiliation")
    return {"anonymous": anon}


def speech_act_iri(value: object) -> str:
    name = SPEECH_ACT_ALIASES.get(str(value), str(value))
    if name not in SPEECH_ACTS:
        raise InvalidEvent(f"unknown speech_act {value!r}: one of {', '.join(SPEECH_ACTS)} "
                           "(or promises)")
    return SPEECH_ACT[name].value


def basis_iris(value: object) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise InvalidEvent("'basis' must be a non-empty list of: " + ", ".join(BASES))
    out = []
    for item in items:
        if item not in BASES:
            raise InvalidEvent(f"unknown basis {item!r}: one of {', '.join(BASES)}")
        out.append(BASIS[item].value)
    if len(set(out)) != len(out):
        raise InvalidEvent("'basis' names a basis twice")
    return out


def grade_iri(key: str, value: object) -> str:
    """An Admiralty grade (``reliability`` A–F, ``credibility`` 1–6) as its concept IRI."""
    scale, namespace = GRADES[key]
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if len(text) != 1 or text not in scale:
        raise InvalidEvent(f"{key} must be one of {', '.join(scale)} (Admiralty grade), "
                           f"got {value!r}"[:200])
    return namespace[text].value


def grades_payload(spec: Mapping[str, Any]) -> dict[str, str]:
    return {key: grade_iri(key, spec[key]) for key in GRADES if spec.get(key) is not None}


def links_payload(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    """The ``denies``/``confirms``/``contradicts`` of a spec, as lists of claim IRIs."""
    out: dict[str, list[str]] = {}
    for key in LINK_KEYS:
        value = spec.get(key)
        if value is None or value == []:
            continue
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise InvalidEvent(f"{key!r} must be a list of claim ids")
        iris = [_ref(v, CLAIM, f"{key} item") for v in items]
        if len(set(iris)) != len(iris):
            raise InvalidEvent(f"{key!r} names a claim twice")
        out[key] = iris
    return out


def attribution_payload(spec: Mapping[str, Any], label_of: LabelOf) -> dict[str, Any]:
    """Every belief-model key of a claim spec in its payload form (absent keys: absent)."""
    out: dict[str, Any] = {}
    speakers = speakers_payload(spec, label_of)
    if speakers is not None:
        out["speakers"] = speakers
    if spec.get("speech_act") is not None:
        out["speech_act"] = speech_act_iri(spec["speech_act"])
    if spec.get("basis") is not None:
        out["basis"] = basis_iris(spec["basis"])
    if spec.get("occasion") is not None:
        out["occasion"] = _ref(spec["occasion"], ID, "occasion")
    if spec.get("said_on") is not None:
        out["said_on"] = str(spec["said_on"])  # checked (form, not after publication) later
    out.update(links_payload(spec))
    out.update(grades_payload(spec))
    return out

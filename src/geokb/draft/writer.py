"""A draft as a claim file: YAML with a comment on every proposal saying why.

Scalars are written as JSON strings, which YAML reads as double-quoted scalars, so any
text (curly quotes, colons, "#") round-trips exactly.
"""

from __future__ import annotations

import json
from typing import Any

from geokb.draft.drafter import TODO, TODO_PREDICATE, ClaimProposal, Draft
from geokb.draft.entities import slugify


def _s(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return "null" if value is None else str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return _s(value)


def to_yaml(d: Draft, *, source_id: str, source_file: str | None) -> str:
    """The claim-file text of a draft. ``source_file`` relative to where it will be saved."""
    lines = [
        "# DRAFT claim file made by `geokb draft`: review every entry before `geokb ingest`.",
        "# Nothing has been registered. Placeholders that must be replaced are marked",
        f"# {TODO} (subject) and {TODO_PREDICATE} (predicate); ingest refuses them.",
        "# Each proposal carries a confidence and a comment saying why it was proposed.",
    ]
    if d.known_mentioned:
        known = ", ".join(f"{slug} ×{n}" for slug, n in sorted(d.known_mentioned.items()))
        lines.append(f"# Known entities mentioned: {known}")
    for note in d.skipped:
        lines.append(f"# Skipped: {note}")
    if d.dates:
        lines.append("# Dates in the text: " + "; ".join(
            f"{x.text!r} → {x.value or 'unresolved'} ({x.precision})" for x in d.dates))
    lines += ["", "sources:", f"  - id: {source_id}"]
    if source_file is not None:
        lines.append(f"    file: {_s(source_file)}")
    else:
        lines.append(f"    text: {_s(d.article.text)}")
    lines += [f"    title: {_s(d.title)}" if d.title else "    title: null",
              f"    published: {_s(d.published) if d.published else 'null'}",
              "    language: en", "", "entities:"]
    if not d.new_entities:
        lines[-1] += " []"
    for e in d.new_entities:
        lines += [f"  # new ({e.mentions} mention(s)); type: {e.why}",
                  f"  - id: {e.slug}", f"    types: [{e.type_guess}]  # confidence {e.confidence}",
                  f"    label: {_s(e.label)}", f"    aliases: {_flow(e.aliases)}"]
    lines += ["", "claims:"]
    if not d.claims:
        lines[-1] += " []"
    for c in d.claims:
        lines += _claim(c, source_id)
    return "\n".join(lines) + "\n"


def _claim(c: ClaimProposal, source_id: str) -> list[str]:
    out = [f"  # {c.kind}: {w}" if i == 0 else f"  #   {w}" for i, w in enumerate(c.why)]
    out += [f"  - id: {c.id}",
            f"    subject: {c.subject}" + ("  # TODO: who or what the claim is about"
                                           if c.subject == TODO else "  # guess: first entity"),
            f"    predicate: {TODO_PREDICATE}  # TODO: choose from docs/vocabulary-plan.md",
            f"    object: {_flow(c.object)}  # guess",
            f"    modality: {c.modality}", f"    source: {source_id}", f"    quote: {_s(c.quote)}"]
    if c.occurrence is not None:
        out.append(f"    occurrence: {c.occurrence}")
    if c.speakers:
        whys = "; ".join(s.why for s in c.speakers)
        out.append(f"    speakers: {_flow([s.value() for s in c.speakers])}  # {whys}")
    elif c.modality in {"quoted", "denied"}:
        out.append("    speakers: []  # TODO: no speaker found")
    if c.speech_act:
        out.append(f"    speech_act: {c.speech_act}")
    if c.said_on is not None and c.said_on.value:
        # the claim-file grammar: the date's form is its precision (YYYY, YYYY-MM, YYYY-MM-DD)
        out.append(f'    said_on: "{c.said_on.value}"  # {c.said_on.precision}: {c.said_on.why}')
    if c.basis:
        out.append(f"    basis: {c.basis}")
    if c.reported_via:
        out.append(f"    reported_via: {_flow(c.reported_via)}")
    if c.denies:
        out.append(f"    denies: {_flow(c.denies)}")
    if c.valid_from is not None and c.valid_from == c.valid_until:
        out.append(f"    valid_at: {_s(c.valid_from)}")
    else:
        if c.valid_from is not None:
            out.append(f"    valid_from: {_s(c.valid_from)}")
        if c.valid_until is not None:
            out.append(f"    valid_until: {_s(c.valid_until)}")
    out.append(f"    confidence: {_s(f'{c.confidence:.1f}')}")
    return out


def source_id_for(title: str | None, fallback: str) -> str:
    """A source slug from the title (first words) or the file name."""
    words = (title or "").split()[:6]
    return slugify(" ".join(words)) if words else slugify(fallback)

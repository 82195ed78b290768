"""Plain-text renderings of the read models for the terminal."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Any

import typer

from geokb.vocab import compact


class Fmt(StrEnum):
    """The ``--format`` of the commands that answer with one object."""

    text = "text"
    json = "json"


FORMAT_HELP = "text for people, json for programs."


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _term(t: dict[str, Any] | None) -> str:
    if t is None:
        return "—"
    if "iri" in t:
        return str(t["label"])
    lang = f"@{t['lang']}" if t.get("lang") else ""
    return f"“{t['value']}”{lang}"


def _speaker(s: dict[str, Any]) -> str:
    """A speaker in words: a label, ``spokesperson, <body>``, or ``<description>, unnamed``.

    >>> _speaker({"anonymous": "two Syrian officials", "count": 2, "spokesperson_for": None})
    'two Syrian officials, unnamed'
    """
    if "iri" in s:
        return str(s["label"])
    if s.get("spokesperson_for"):
        return f"spokesperson, {s['spokesperson_for']['label']}"
    return f"{s['anonymous']}, unnamed"


def _when(c: dict[str, Any]) -> str:
    vt = c["valid_time"]
    start, end = vt["from"], vt["until"]
    if start is None and end is None:
        return "unknown"
    if start == end and start is not None:
        return f"{start['value']} ({start['precision']})"
    left = f"{start['value']} ({start['precision']})" if start else "…"
    right = f"{end['value']} ({end['precision']})" if end else "…"
    return f"{left} – {right}"


def claim_text(c: dict[str, Any], indent: str = "  ") -> str:
    s = c["statement"]
    lines = [
        f"{indent}• {_term(s['subject'])} — {compact(s['predicate']['iri'])} — "
        f"{_term(s['object'])}",
        f"{indent}  modality: {c['modality']}; valid: {_when(c)}; state: {c['lifecycle']['state']}"
        f"; claim: {c['id']}",
        f"{indent}  evidence: “{c['evidence']['quote']}”",
        f"{indent}  source: {c['source']['title']} <{c['source']['iri']}> "
        f"chars {c['evidence']['start']}–{c['evidence']['end']}, "
        f"sha256 {c['source']['sha256'][:12]}…",
    ]
    chain = [v["label"] for v in c["reported_via"]]
    speakers = c.get("speakers") or ([c["speaker"]] if c["speaker"] else [])
    if speakers or chain:
        said = "; ".join(_speaker(s) for s in speakers) if speakers else "—"
        via = " → ".join(["source", *chain]) if chain else "source"
        act = f" ({c['speech_act']})" if c.get("speech_act") else ""
        lines.append(f"{indent}  said by: {said}{act}; reported: {via}")
    if "holding" in c:
        lines.append(f"{indent}  at the answer's world time: "
                     f"{(c['holding'] or 'not part of it').replace('_', ' ')}")
    links = {k: v for k, v in (c.get("links") or {}).items() if v}
    if links:
        lines.append(f"{indent}  " + "; ".join(
            f"{k.replace('_', ' ')}: {', '.join(x.rsplit('/', 1)[-1] for x in v)}"
            for k, v in links.items()))
    if c.get("note"):
        lines.append(f"{indent}  note: {c['note']}")
    lc = c["lifecycle"]
    if "retracted" in lc:
        retracted = lc["retracted"]
        lines.append(f"{indent}  retracted at {retracted['position']}: {retracted['reason']}")
    if "superseded" in lc:
        superseded = lc["superseded"]
        lines.append(f"{indent}  superseded by {superseded['by']}: {superseded['reason']}")
    return "\n".join(lines)


def _header(answer: dict[str, Any]) -> list[str]:
    e = answer["entity"]
    lines = [f"{e['label']} <{e['iri']}> ({', '.join(e['types'])})"]
    if e["aliases"]:
        lines.append(f"also known as: {', '.join(e['aliases'])}")
    when = []
    if answer.get("as_of") is not None:
        when.append(f"as known at log position {answer['as_of']}")
    if answer.get("valid_at"):
        when.append(f"valid at {answer['valid_at']}")
    if when:
        lines.append("(" + "; ".join(when) + ")")
    return lines


def _count(answer: dict[str, Any], unit: str = "") -> str:
    """How many claims the answer shows: "3", or "21–40 of 95" for a page of more.

    >>> _count({"claims": [{}] * 2, "page": {"offset": 2, "total": 9, "next": {"offset": 4}}})
    '3–4 of 9; --offset 4 for more'
    >>> _count({"claims": [{}] * 3, "page": {"offset": 0, "total": 3, "next": None}}, " claims")
    '3 claims'
    """
    shown = len(answer["claims"])
    page = answer.get("page") or {"offset": 0, "total": shown, "next": None}
    if page["offset"] == 0 and page["total"] == shown:
        return f"{shown}{unit}"
    first, last = page["offset"] + 1, page["offset"] + shown
    text = f"{first}–{last} of {page['total']}{unit}" if shown else \
        f"none past {page['offset']} of {page['total']}{unit}"
    if page["next"] is not None:
        text += f"; --offset {page['next']['offset']} for more"
    return text


def _holding(s: dict[str, Any]) -> str:
    """How a status claim stands at the answer's world time, in words."""
    reported = s.get("reported_time")
    when = f" {reported['value']} (the {reported['from']}'s date)" if reported else ""
    if s.get("holding") == "last_reported":
        return f"last reported{when}, no end reported: may still hold, not shown as fact"
    return f"holds (reported{when})" if reported else "holds"


def _voices(answer: dict[str, Any], key: str, title: str) -> list[str]:
    items = answer.get(key) or []
    total = (answer.get("page") or {}).get(f"{key}_total", len(items))
    if not total:
        return []
    shown = f"{len(items)} of {total}" if total != len(items) else f"{total}"
    lines = [f"{title} ({shown}):"]
    for c in items:
        s = c["statement"]
        lines.append(f"  • [{c['as']}] {_term(s['subject'])} — {compact(s['predicate']['iri'])} — "
                     f"{_term(s['object'])} ({c['modality']}; claim {c['id']})")
    return lines


def status_text(answer: dict[str, Any]) -> str:
    lines = _header(answer)
    lines.append(f"status: {answer['line']}")
    for s in answer["status"]:
        label = f"not {s['label']}" if s.get("negated") else s["label"]
        lines.append(f"  {label} [{s['modality']}]: {_holding(s)}; claim "
                     f"{s['claim'].rsplit('/', 1)[-1]}")
    if answer["assessment"] != "unknown" and answer["undated"]:
        lines.append(f"  undated (never counted as holding): "
                     f"{', '.join(c.rsplit('/', 1)[-1] for c in answer['undated'])}")
    lines += _voices(answer, "said", "said by it")
    lines += _voices(answer, "passed_on", "passed on by it")
    lines.append(f"claims about it ({_count(answer)}):")
    lines += [claim_text(c) for c in answer["claims"]]
    return "\n".join(lines)


def timeline_text(answer: dict[str, Any]) -> str:
    lines = _header(answer)
    lines.append(f"timeline ({_count(answer, ' claims')}, world time order, unknown last):")
    lines += [claim_text(c) for c in answer["claims"]]
    lines += _voices(answer, "said", "said by it")
    lines += _voices(answer, "passed_on", "passed on by it")
    return "\n".join(lines)


def conflicts_text(answer: dict[str, Any]) -> str:
    """One status line per conflict, after its subject and property."""
    where = []
    if answer.get("as_of") is not None:
        where.append(f"as known at log position {answer['as_of']}")
    at = answer["at"]
    where.append(f"at {at['from']}" if at["from"] == at["until"]
                 else f"at {at['from']} – {at['until']}")
    page = answer["page"]
    lines = [f"{page['total']} conflict{'s' if page['total'] != 1 else ''} "
             f"({'; '.join(where)}):"]
    for c in answer["conflicts"]:
        on = c["on"]["label"] if c["on"] else "—"
        prop = f" {c['property']['label']}" if c["property"] else ""
        lines.append(f"{on}{prop}: {c['line']}")
    if page["next"] is not None:
        lines.append(f"--offset {page['next']['offset']} for more")
    return "\n".join(lines)


def table(variables: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(v), *(len(r[i]) for r in rows)]) for i, v in enumerate(variables)]
    widths = [min(w, 80) for w in widths]
    out = [" | ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    for r in rows:
        out.append(" | ".join(c[:80].ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(out)


def csv_text(variables: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(variables)
    writer.writerows(rows)
    return buf.getvalue()

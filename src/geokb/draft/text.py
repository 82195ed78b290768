"""Main text of an article and its segmentation into headings and sentences.

Offsets are code points into the text the draft's source will be registered with, so every
span a draft proposes can be located by ``geokb ingest`` exactly as written.

>>> [s.text for s in segment("Title Here\\n\\nIt rained. Mr. Smith said so.")]
['Title Here', 'It rained.', 'Mr. Smith said so.']
>>> [s.kind for s in segment("Title Here\\n\\nIt rained.")]
['heading', 'sentence']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end in a full stop without ending a sentence.
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "st",
    "sen", "rep", "gov", "pres", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "no", "vs", "etc", "approx", "inc", "corp", "ltd", "jr", "sr",
})
_SENTENCE_END = re.compile(r"[.!?…]+[”\"’)]*(?=\s+[“\"‘(A-Z0-9])")
_HTML = re.compile(r"<(?:!doctype|html|body|p|div|article)\b", re.IGNORECASE)
_TERMINAL = re.compile(r"[.!?…:][”\"’)]*\s*\Z")
MAX_HEADING_WORDS = 16


@dataclass(frozen=True)
class Segment:
    """A heading line or a sentence, with its offsets in the text."""

    start: int
    end: int
    text: str
    kind: str  # "heading" | "sentence"
    block: int  # index of the line (paragraph) it belongs to


@dataclass(frozen=True)
class Article:
    """The text a draft is made from, and what the HTML said about it."""

    text: str
    title: str | None = None
    published: str | None = None
    from_html: bool = False


def looks_like_html(raw: str) -> bool:
    """Whether ``raw`` is a saved web page rather than plain text."""
    return bool(_HTML.search(raw[:4096]))


def extract_article(raw: str) -> Article:
    """The main text of a saved HTML page (trafilatura, offline) or the plain text as is.

    Plain text is returned unchanged, so offsets stay those of the file ingest will read.
    """
    if not looks_like_html(raw):
        return Article(raw)
    import trafilatura

    extracted = trafilatura.bare_extraction(raw, with_metadata=True, favor_recall=True,
                                            include_comments=False, include_tables=False,
                                            deduplicate=False)
    doc = extracted if isinstance(extracted, dict) else (
        extracted.as_dict() if extracted is not None else {})
    if not doc.get("text"):
        return Article("", from_html=True)
    body = str(doc["text"])
    title = doc.get("title")
    if title and title not in body:
        body = f"{title}\n\n{body}"  # the headline is evidence too; keep it in the text
    date = doc.get("date")
    return Article(body, title=str(title) if title else None,
                   published=str(date)[:10] if date else None, from_html=True)


def segment(text: str) -> list[Segment]:
    """Split ``text`` into headings (short lines without a full stop) and sentences."""
    out: list[Segment] = []
    pos = 0
    for block, line in enumerate(text.split("\n")):
        line_start = pos
        pos += len(line) + 1
        stripped = line.strip()
        if not stripped:
            continue
        start = line_start + (len(line) - len(line.lstrip()))
        end = start + len(stripped)
        if _is_heading(stripped):
            out.append(Segment(start, end, stripped, "heading", block))
            continue
        for s, e in _sentences(text, start, end):
            out.append(Segment(s, e, text[s:e], "sentence", block))
    return out


def _is_heading(line: str) -> bool:
    if line.endswith(("...", "…")) and len(line.split()) <= 2 * MAX_HEADING_WORDS:
        return True  # a title cut off in page furniture (breadcrumbs)
    return not _TERMINAL.search(line) and len(line.split()) <= MAX_HEADING_WORDS


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    chunk = text[start:end]
    last = 0
    for m in _SENTENCE_END.finditer(chunk):
        before = chunk[last:m.start()].split()
        word = before[-1].lower().strip("“\"‘(") if before else ""
        if word in ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
            continue  # "Mr. Smith", "U.S. President"
        spans.append((start + last, start + m.end()))
        last = m.end()
        while last < len(chunk) and chunk[last].isspace():
            last += 1
    if last < len(chunk):
        spans.append((start + last, end))
    return spans


def title_of(segments: list[Segment]) -> Segment | None:
    """The headline: the first heading of four words or more that is not cut off."""
    for seg in segments[:8]:
        if seg.kind == "heading" and len(seg.text.split()) >= 4 and not seg.text.endswith(
                ("...", "…")):
            return seg
    return None


def occurrence_of(text: str, span: str, start: int) -> tuple[int, int]:
    """Which occurrence of ``span`` starts at ``start`` (1-based), and how many there are."""
    found = []
    pos = text.find(span)
    while pos >= 0:
        found.append(pos)
        pos = text.find(span, pos + 1)
    return found.index(start) + 1, len(found)

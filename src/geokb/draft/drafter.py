"""From an article's text to proposed claims: quotations, reported speech, clauses.

Size: one pass over the sentences, in the order a reader takes them (quotations, then
reported speech, then clauses), which shares the sentence and speaker state; the rules it
applies live in the modules beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from geokb.draft.dates import DateMention, find_dates
from geokb.draft.entities import EntityIndex, EntityProposal, KnownEntity, Mention, slugify
from geokb.draft.modality import (
    ANALYSIS_PARTICIPLES,
    SPEAKER_PARTICIPLES,
    SPEECH_VERB_RE,
    modality_cue,
    speech_act,
)
from geokb.draft.quotes import MIN_QUOTE_WORDS, Quotation, find_quotations
from geokb.draft.speakers import Speaker, SpeakerContext, resolve
from geokb.draft.text import Article, Segment, extract_article, occurrence_of, segment, title_of

TODO = "TODO-choose"
TODO_PREDICATE = "gk:TODO-choose"
_VERB = re.compile(rf"(?<![\w-])({SPEECH_VERB_RE})(?![\w-])", re.IGNORECASE)
_ACCORDING = re.compile(r"According to (?P<x>[^,]+),\s*", re.IGNORECASE)
_LEAD_ADVERB = re.compile(r"(?:Now|However|Meanwhile|Still|Yet|Separately|Earlier|Later|"
                          r"Instead|Notably|Indeed|Moreover|Also),\s+")
_LEAD_SUBORDINATE = re.compile(r"(?i:though|although|while|as|when|after|before|since|if|"
                               r"because|despite)\s+(?P<sub>[^,]+),\s+(?P<main>.+)$")
_SPLIT = re.compile(r",\s+(?:but|as|while|whereas|although|though)\s+|;\s+|,\s+and\s+(?=[a-z]+"
                    r"\s)")
_AND_VERB = re.compile(r"\s+and\s+(?=(?:no longer|not|also|then|is|was|are|were|has|have|had|"
                       r"will|would|can|could|\w+ed|called for|" + SPEECH_VERB_RE + r")\b)")
_TEMPORAL = re.compile(r"\s+(?:since|after|before|when|until)\s+(?P<sub>[^,;]+)")
_BEGIN = re.compile(r"\b(?:entered|began|begun|started|launched|joined|since|opened|"
                    r"took office|came to power|from(?=\s+\d))\b", re.IGNORECASE)
_BASIS: tuple[tuple[str, str], ...] = (
    (r"satellite (?:images?|imagery|photos?|pictures?)", "satelliteImagery"),
    (r"documents?|records?|papers|files|leaked", "documents"),
    (r"witness(?:es)?|residents?|eyewitness(?:es)?|footage|videos?", "eyewitness"),
    (r"officials?|ministry|government|spokes(?:person|man|woman)", "officials"),
    (r"data|figures|statistics", "documents"),
)
_VIA = re.compile(r"\b(?:reviewed|seen|obtained|published|verified|analysed|analyzed|"
                  r"reported) by\s+(?P<via>.+)$", re.IGNORECASE)
_DENIAL_CONTENT = re.compile(r"\b(?:false|untrue|baseless|fabricated|fake|lies?)\b",
                             re.IGNORECASE)
_STOP_WORDS = ("the a an of to in on at for and or but that this these those is was were are be "
               "been had has have will would it its their his her with from by as not no said "
               "says")
_STOP = frozenset(_STOP_WORDS.split())


@dataclass
class ClaimProposal:
    """One proposed claim: its exact span, what it may say, and why it was proposed."""

    id: str
    start: int
    end: int
    quote: str
    modality: str
    kind: str  # quotation | reported | clause | headline | analysis
    speakers: list[Speaker] = field(default_factory=list)
    speech_act: str | None = None
    said_on: DateMention | None = None
    basis: str | None = None
    reported_via: list[str] = field(default_factory=list)
    valid_from: str | None = None
    valid_until: str | None = None
    subject: str = TODO
    object: Any = None
    denies: list[str] = field(default_factory=list)
    occurrence: int | None = None
    content_start: int | None = None  # where the reported words start, after the frame
    confidence: float = 0.5
    why: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """A draft claim file: the article, the proposals, and what was left out."""

    article: Article
    title: str | None
    published: str | None
    claims: list[ClaimProposal]
    known_mentioned: dict[str, int]
    new_entities: list[EntityProposal]
    dates: list[DateMention]
    skipped: list[str]
    index: EntityIndex


def draft(text_or_html: str, *, published: str | None = None,
          known_entities: list[KnownEntity] | tuple[KnownEntity, ...] = ()) -> Draft:
    """Propose claims for an article (plain text or saved HTML); registers nothing."""
    article = extract_article(text_or_html)
    published = published or article.published
    builder = _Builder(article.text, published, EntityIndex(known_entities))
    segments = segment(article.text)
    headline = title_of(segments)
    if headline is not None:
        builder.headline(headline)
    seen: set[str] = set()
    for seg in segments:
        if seg.kind == "heading":
            builder.index.scan(article.text, seg.start, seg.end, heading=True)
            continue
        if seg.text in seen:
            builder.skipped.append(f"repeated sentence at offset {seg.start}: {seg.text[:60]!r}")
            continue
        seen.add(seg.text)
        builder.sentence(seg)
    builder.link_denials()
    counts: dict[str, int] = {}
    for m in builder.index.mentions:
        counts[m.slug] = counts.get(m.slug, 0) + 1
    known = {slug: n for slug, n in counts.items() if slug in builder.index.known}
    for proposal in builder.index.proposals.values():
        proposal.mentions = counts.get(proposal.slug, 0)
    return Draft(article, headline.text if headline else article.title, published,
                 builder.claims, known, list(builder.index.proposals.values()),
                 find_dates(article.text, published), builder.skipped, builder.index)


class _Builder:
    def __init__(self, text: str, published: str | None, index: EntityIndex) -> None:
        self.text = text
        self.published = published
        self.index = index
        self.ctx = SpeakerContext()
        self.claims: list[ClaimProposal] = []
        self.skipped: list[str] = []
        self._ids: set[str] = set()
        self._quotes: set[str] = set()

    # --- proposals -------------------------------------------------------------------
    def add(self, start: int, end: int, modality: str, kind: str, why: str,
            confidence: float, **extra: Any) -> ClaimProposal | None:
        start, end = self._trim(start, end)
        quote = self.text[start:end]
        if len(quote.split()) < 2:
            return None
        if quote in self._quotes:
            for claim in self.claims:
                if claim.quote == quote:
                    claim.why.append(f"the same words also occur at offset {start}")
            return None
        self._quotes.add(quote)
        occurrence, total = occurrence_of(self.text, quote, start)
        claim = ClaimProposal(self._id(quote), start, end, quote, modality, kind,
                              occurrence=occurrence if total > 1 else None,
                              confidence=confidence, why=[why], **extra)
        self._dates(claim)
        self._subject_object(claim)
        self.claims.append(claim)
        return claim

    def _trim(self, start: int, end: int) -> tuple[int, int]:
        while start < end and (self.text[start].isspace() or self.text[start] in ",;:"):
            start += 1
        while end > start and (self.text[end - 1].isspace() or self.text[end - 1] in ".,;:"):
            end -= 1
        return start, end

    def _id(self, quote: str) -> str:
        words = [w for w in re.findall(r"[\w’']+", quote) if w.casefold() not in _STOP][:5]
        base = slugify(" ".join(words))[:60].strip("-") or "claim"
        slug, n = base, 2
        while slug in self._ids:
            slug, n = f"{base}-{n}", n + 1
        self._ids.add(slug)
        return slug

    def _dates(self, claim: ClaimProposal) -> None:
        dates = [d for d in find_dates(self.text, self.published, start=claim.start,
                                       end=claim.end) if d is not claim.said_on]
        if claim.said_on is not None:
            dates = [d for d in dates if d.start != claim.said_on.start]
        for sub in _TEMPORAL.finditer(self.text, claim.start, claim.end):
            # a date in "since X was removed in 2024" dates the subordinate event
            dates = [d for d in dates if not sub.start("sub") <= d.start < sub.end("sub")]
        if not dates:
            return
        date = dates[0]
        if date.value is None:
            claim.why.append(f"date not resolved: {date.why}")
            return
        before = self.text[claim.start:date.start]
        if _BEGIN.search(before):
            claim.valid_from = date.value
            claim.why.append(f"valid_from {date.value} ({date.precision}): {date.why}, "
                             "after a verb of beginning")
        else:
            claim.valid_from = claim.valid_until = date.value
            claim.why.append(f"valid_at {date.value} ({date.precision}): {date.why}")

    def _subject_object(self, claim: ClaimProposal) -> None:
        speakers = {s.slug for s in claim.speakers}
        inside = [m for m in self.index.mentions if claim.start <= m.start and
                  m.end <= claim.end and m.slug not in speakers]
        if inside:
            claim.subject = inside[0].slug
        others = [m for m in inside[1:] if m.slug != claim.subject]
        claim.object = f"id:{others[0].slug}" if others else {"text": claim.quote, "lang": "en"}

    # --- headline ----------------------------------------------------------------------
    def headline(self, seg: Segment) -> None:
        self.index.scan(self.text, seg.start, seg.end, heading=True)
        pos = seg.start
        for part in re.split(r"(?<=\S)\s*[:|–—]\s+", seg.text):
            start = self.text.find(part, pos)
            self.add(start, start + len(part), "analysis", "headline",
                     "the headline's framing (headlines are analysis, not the article's "
                     "report)", 0.4)
            pos = start + len(part)

    # --- sentences ---------------------------------------------------------------------
    def sentence(self, seg: Segment) -> None:
        self.ctx.next_sentence()
        mentions = self.index.scan(self.text, seg.start, seg.end)
        quotes = [q for q in find_quotations(self.text, seg.start, seg.end)]
        frame = self._frame(seg, quotes)
        long_quotes = [q for q in quotes if q.words >= MIN_QUOTE_WORDS]
        for q in quotes:
            if q.words < MIN_QUOTE_WORDS and frame is None:
                self.skipped.append(f"scare quotes (no reporting verb) at {q.start}: {q.text!r}")
        if frame is not None and (long_quotes and not frame.quotes_inside):
            self._quotations(seg, frame, long_quotes)
        elif frame is not None:
            self._reported(seg, frame)
        else:
            self._clauses(seg)
        self._update_context(seg, frame, mentions)

    def _frame(self, seg: Segment, quotes: list[Quotation]) -> _Frame | None:
        """The reporting frame of a sentence: subject, verb, where the content is."""
        for m in _VERB.finditer(self.text, seg.start, seg.end):
            if any(q.outer_start <= m.start() < q.outer_end for q in quotes):
                continue
            return _Frame.build(self, seg, m, quotes)
        return None

    def _quotations(self, seg: Segment, frame: _Frame, quotes: list[Quotation]) -> None:
        for q in quotes:
            self.add(q.start, q.end, "quoted", "quotation",
                     f"direct quotation; speaker from the frame {frame.describe()}",
                     min(0.9, frame.confidence + 0.1), **frame.claim_fields())
        tail = frame.tail
        if tail is not None:
            word = self.text[tail[0]:tail[1]].split()[0].casefold()
            if word in ANALYSIS_PARTICIPLES:
                start = tail[0]
                that = re.match(r"\s+that\s+", self.text[start + len(word):tail[1]])
                if that:
                    start += len(word) + that.end()
                self.add(start, tail[1], "analysis", "analysis",
                         f"the author's reading after the quotation ({word!r})", 0.5)
            elif word in SPEAKER_PARTICIPLES:
                self.add(tail[0], tail[1], "quoted", "reported",
                         f"indirect speech continuing the quotation ({word!r})",
                         frame.confidence, **frame.claim_fields())

    def _reported(self, seg: Segment, frame: _Frame) -> None:
        a, b = frame.content
        parts = _split_at(self.text, a, b, _AND_VERB)
        first = True
        for pa, pb in parts:
            start = seg.start if first and frame.content_first is False else pa
            fields = frame.claim_fields()
            verb = re.match(rf"({SPEECH_VERB_RE})\b", self.text[pa:pb])
            if verb and not first:
                fields["speech_act"] = speech_act(verb.group(1))
            modality = "quoted"
            if fields["speech_act"] == "denies" or _DENIAL_CONTENT.search(self.text[pa:pb]):
                modality = "denied"
            why = (f"reported speech, frame {frame.describe()}" if first
                   else "reported speech, the frame's next conjunct")
            self.add(start, pb, modality, "reported", why, frame.confidence, content_start=pa,
                     **fields)
            first = False

    def _clauses(self, seg: Segment) -> None:
        s, e = seg.start, seg.end
        according = _ACCORDING.match(self.text, s, e)
        fields: dict[str, Any] = {}
        if according:
            basis, via = self._basis(according.group("x"), according.start("x"))
            fields = {"basis": basis, "reported_via": via}
            self.add(s, e, "asserted", "clause",
                     f"attributed to {according.group('x')!r} (basis {basis or 'unknown'})",
                     0.6, **fields)
            return
        lead = _LEAD_ADVERB.match(self.text, s, e)
        if lead:
            s = lead.end()
        sub = _LEAD_SUBORDINATE.match(self.text, s, e)
        spans = _split_at(self.text, s, e, _SPLIT)
        if sub:
            main = _split_at(self.text, sub.start("main"), e, _SPLIT)
            spans = [(sub.start("sub"), sub.end("sub")), *main]
        for a, b in spans:
            cue = modality_cue(self.text[a:b])
            modality = cue[0] if cue else "asserted"
            why = (f"a clause in the article's voice; cue {cue[1]!r} → {cue[0]}" if cue
                   else "a clause in the article's voice")
            self.add(a, b, modality, "clause", why, 0.5)
            for t in _TEMPORAL.finditer(self.text, a, b):
                if find_dates(self.text, self.published, start=t.start("sub"),
                              end=t.end("sub")):
                    self.add(t.start("sub"), t.end("sub"), "asserted", "clause",
                             "a dated subordinate clause: an event of its own", 0.5)

    def _basis(self, phrase: str, at: int) -> tuple[str | None, list[str]]:
        basis = next((name for pattern, name in _BASIS
                      if re.search(rf"\b(?:{pattern})\b", phrase, re.IGNORECASE)), None)
        via: list[str] = []
        m = _VIA.search(phrase)
        target = m.group("via") if m else (phrase if basis is None else None)
        if target is not None:
            t_at = at + phrase.index(target)
            inside = [x for x in self.index.mentions if t_at <= x.start < t_at + len(target)]
            if inside:
                via.append(inside[0].slug)
                proposal = self.index.proposals.get(inside[0].slug)
                if proposal is not None and proposal.type_guess == "gk:Agent":
                    proposal.type_guess, proposal.confidence = "gk:NewsOutlet", 0.5
                    proposal.why = "cited with \"according to\": an outlet"
        return basis, via

    def _update_context(self, seg: Segment, frame: _Frame | None,
                        mentions: list[Mention]) -> None:
        if frame is not None and frame.speaker is not None:
            if frame.speaker.slug and self.index.is_person(frame.speaker.slug):
                self.ctx.last_person, self.ctx.last_person_age = frame.speaker.slug, 0
            elif frame.speaker.anonymous:
                self.ctx.last_group = frame.speaker
            self.ctx.last_via = frame.via
            self.ctx.last_via_speaker = frame.speaker.slug
            return
        self.ctx.last_via = None
        people = [m for m in mentions if self.index.is_person(m.slug)]
        if people:
            self.ctx.last_person, self.ctx.last_person_age = people[0].slug, 0

    def link_denials(self) -> None:
        """``denies:`` for each denial whose content matches another proposal's."""
        for claim in self.claims:
            if claim.modality != "denied":
                continue
            words = _content_words(self.text[claim.content_start or claim.start:claim.end])
            best: tuple[float, str] | None = None
            for other in self.claims:
                if other is claim or other.modality == "denied" or other.kind == "headline":
                    continue
                theirs = _content_words(other.quote)
                shared = words & theirs
                if len(shared) < 2:
                    continue
                score = len(shared) / min(len(words), len(theirs))
                if score >= 0.6 and (best is None or score > best[0]):
                    best = (score, other.id)
            if best:
                claim.denies = [best[1]]
                claim.why.append(f"denies {best[1]}: they share most content words "
                                 f"({best[0]:.0%})")
            else:
                claim.why.append("the claim it denies was not found in the draft: add denies:")


@dataclass
class _Frame:
    """A reporting frame: who, which verb, and where the reported content is."""

    speaker: Speaker | None
    verb: str
    content: tuple[int, int]
    content_first: bool
    tail: tuple[int, int] | None
    said_on: DateMention | None
    via: list[str]
    basis: str | None
    quotes_inside: bool
    subject_text: str

    @property
    def confidence(self) -> float:
        return self.speaker.confidence if self.speaker else 0.3

    def describe(self) -> str:
        who = self.speaker.why if self.speaker else "no speaker found: fill in speakers"
        return f"{self.subject_text!r} {self.verb!r} ({who})"

    def claim_fields(self) -> dict[str, Any]:
        return {"speakers": [self.speaker] if self.speaker else [],
                "speech_act": speech_act(self.verb), "said_on": self.said_on,
                "reported_via": list(self.via), "basis": self.basis}

    @classmethod
    def build(cls, b: _Builder, seg: Segment, verb: re.Match[str],
              quotes: list[Quotation]) -> _Frame:
        text = b.text
        s = seg.start
        via: list[str] = []
        basis: str | None = None
        according = _ACCORDING.match(text, s, seg.end)
        if according:
            basis, via = b._basis(according.group("x"), according.start("x"))
        # the subject: back from the verb to a clause boundary
        before = text[s:verb.start()].rstrip()
        if before.endswith(","):
            before = before[:-1]  # "Ahmed Haddad, the port’s director, told"
        cut = max(before.rfind(", "), before.rfind("” "), before.rfind("\" "))
        subj_start = s + cut + 2 if cut >= 0 else s
        if cut >= 0 and text[subj_start:verb.start()].strip().casefold().startswith(
                ("the ", "a ", "an ")):
            prev = before[:cut].rfind(", ")
            head = text[s + prev + 2 if prev >= 0 else s:s + cut]
            if head.split() and head.split()[0][:1].isupper() and len(head.split()) <= 4:
                subj_start = s + prev + 2 if prev >= 0 else s  # "Ahmed Haddad, the director,"
        subject_text = text[subj_start:s + len(before)].strip()
        speaker = resolve(subject_text, subj_start, b.index, b.ctx) if subject_text else None
        if speaker is None and subject_text.casefold() in {"he", "she", "they"}:
            speaker = None
        # a pronoun speaker continues the previous sentence's channel ("according to X")
        if (speaker is not None and subject_text.casefold() in {"he", "she"} and b.ctx.last_via
                and speaker.slug == b.ctx.last_via_speaker):
            via = list(b.ctx.last_via)
            speaker.why += f"; reported via {', '.join(via)} like the previous sentence"
        if according and not via and speaker is None:
            pass
        after_start = verb.end()
        said_on = None
        rest = text[after_start:seg.end]
        told = re.match(r"\s+(?:\w+\s+){0,2}?(?=that\b)", rest) if verb.group(1).casefold() in {
            "told", "tells"} else None
        if told is None and verb.group(1).casefold() in {"told", "tells"}:
            told = re.match(r"\s+[\w’']+", rest)
        if told:
            after_start += told.end()
        for d in find_dates(text, b.published, start=after_start,
                            end=min(seg.end, after_start + 20)):
            if d.precision == "day" and text[after_start:d.start].strip() in {"", ","}:
                said_on = d
                after_start = d.end
        m_that = re.match(r"\s*(?:,\s*)?that\s+", text[after_start:seg.end])
        if m_that:
            after_start += m_that.end()
        remainder = text[after_start:seg.end].strip()
        content_first = (subj_start > s + (according.end() - s if according else 0) and
                         (remainder == "" or remainder.startswith(",") or
                          remainder[:1] in ".!?") and not any(q.start >= after_start
                                                              for q in quotes))
        tail = None
        if content_first:
            content = (s if not according else according.end(), subj_start)
            comma = text.find(",", after_start, seg.end)
            if comma >= 0:
                tail = (comma + 1, seg.end)
        else:
            content = (after_start, seg.end)
            if quotes and all(q.end <= verb.start() for q in quotes):
                comma = text.find(",", verb.end(), seg.end)
                tail = (comma + 1, seg.end) if comma >= 0 else None
        while tail and tail[0] < tail[1] and text[tail[0]].isspace():
            tail = (tail[0] + 1, tail[1])
        quotes_inside = any(content[0] <= q.start and q.end <= content[1] for q in quotes)
        if speaker and speaker.anonymous and basis is None and re.search(
                r"officials?|spokes", speaker.anonymous, re.IGNORECASE):
            basis = "officials"
        return cls(speaker, verb.group(1), content, content_first, tail, said_on, via, basis,
                   quotes_inside and not content_first, subject_text)


def _split_at(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    spans = []
    pos = start
    for m in pattern.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [(a, b) for a, b in spans if b > a]


def _content_words(text: str) -> set[str]:
    words = {w.casefold().rstrip("’'s") for w in re.findall(r"[\w’']+", text)}
    return {w[:5] for w in words if w not in _STOP and len(w) > 2}

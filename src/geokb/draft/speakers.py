"""Who speaks: a reporting frame's subject as an entity, a spokesperson or anonymous people.

>>> parse_count("two Syrian officials"), parse_count("officials")
(2, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from geokb.draft.entities import EntityIndex, slugify

_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "both": 2}
ANONYMOUS_HEADS = re.compile(
    r"\b(?:officials?|sources?|diplomats?|analysts?|residents?|witnesses|witness|observers?|"
    r"experts?|aides?|officers?|people|ministers|minister|commanders?|activists?|"
    r"spokes(?:person|man|woman)|insiders?|lawmakers?|negotiators?|ministries)\b",
    re.IGNORECASE)
_SPOKES = re.compile(r"spokes(?:person|man|woman)\b\s+(?:for|of)\s+(?P<for>.+)|"
                     r"(?P<pre>.+?)(?:’s|'s)?\s+spokes(?:person|man|woman)\b", re.IGNORECASE)
_IRREGULAR_DEMONYMS = {"american": "United States", "british": "United Kingdom",
                       "turkish": "Turkey", "french": "France", "chinese": "China",
                       "dutch": "Netherlands", "swiss": "Switzerland", "greek": "Greece",
                       "israeli": "Israel", "iraqi": "Iraq", "saudi": "Saudi Arabia",
                       "emirati": "United Arab Emirates", "qatari": "Qatar",
                       "kuwaiti": "Kuwait", "yemeni": "Yemen", "pakistani": "Pakistan",
                       "afghan": "Afghanistan", "german": "Germany", "spanish": "Spain",
                       "polish": "Poland", "danish": "Denmark", "swedish": "Sweden",
                       "finnish": "Finland", "ukrainian": "Ukraine", "u.s.": "United States"}
PRONOUNS = frozenset({"he", "she"})
GROUP_PRONOUNS = frozenset({"they"})


@dataclass
class Speaker:
    """A proposed speaker, as a claim file's ``speakers`` entry, with why."""

    slug: str | None = None
    anonymous: str | None = None
    count: int | None = None
    affiliation: str | None = None
    spokesperson_for: str | None = None
    why: str = ""
    confidence: float = 0.5

    def value(self) -> str | dict[str, Any]:
        if self.slug:
            return self.slug
        if self.spokesperson_for:
            return {"spokesperson_for": self.spokesperson_for}
        out: dict[str, Any] = {"anonymous": self.anonymous}
        if self.count is not None:
            out["count"] = self.count
        if self.affiliation:
            out["affiliation"] = self.affiliation
        return out


@dataclass
class SpeakerContext:
    """What the previous sentences said about who is speaking."""

    last_person: str | None = None
    last_person_age: int = 99  # sentences since
    last_group: Speaker | None = None
    last_via: list[str] | None = None
    last_via_speaker: str | None = None

    def next_sentence(self) -> None:
        self.last_person_age += 1


def parse_count(phrase: str) -> int | None:
    words = phrase.casefold().split()
    if words and words[0].isdigit():
        return int(words[0])
    return _NUMBERS.get(words[0]) if words else None


def affiliation_of(phrase: str, index: EntityIndex) -> str | None:
    """The state a demonym in ``phrase`` names ("two Syrian officials" → syria)."""
    for word in re.findall(r"[A-Z][\w.]+", phrase):
        folded = word.casefold().rstrip(".") if word != "U.S." else "u.s."
        candidates = [_IRREGULAR_DEMONYMS[folded]] if folded in _IRREGULAR_DEMONYMS else []
        for suffix, repl in (("ian", "ia"), ("ian", ""), ("an", "a"), ("n", ""), ("ese", ""),
                             ("ese", "a"), ("i", "")):
            if folded.endswith(suffix) and len(folded) > len(suffix) + 2:
                candidates.append(folded[: -len(suffix)] + repl)
        for name in candidates:
            slug = index.lookup(name)
            if slug:
                return slug
        if folded in _IRREGULAR_DEMONYMS:
            return slugify(_IRREGULAR_DEMONYMS[folded])
    return None


def resolve(phrase: str, start: int, index: EntityIndex, ctx: SpeakerContext) -> Speaker | None:
    """The speaker a reporting frame's subject ``phrase`` (at offset ``start``) stands for."""
    words = phrase.strip().split()
    if not words:
        return None
    head = words[0].casefold()
    if len(words) == 1 and head in PRONOUNS:
        if ctx.last_person is None:
            return Speaker(anonymous=phrase, count=1, confidence=0.2,
                           why=f"{phrase!r} with no person named before it")
        near = ctx.last_person_age <= 1
        return Speaker(slug=ctx.last_person, confidence=0.85 if near else 0.6,
                       why=f"{phrase!r} = the person speaking or named "
                           f"{'in the previous sentence' if near else 'last'}")
    if len(words) == 1 and head in GROUP_PRONOUNS and ctx.last_group is not None:
        return Speaker(anonymous=ctx.last_group.anonymous, count=ctx.last_group.count,
                       affiliation=ctx.last_group.affiliation, confidence=0.5,
                       why="'they' = the group quoted before")
    spokes = _SPOKES.search(phrase)
    if spokes:
        target = (spokes.group("for") or spokes.group("pre") or "").strip()
        target = re.sub(r"^(?:a|an|the)\s+", "", target, flags=re.IGNORECASE)
        slug = _named_in(target, start, index) or (index.lookup(target) if target else None)
        if slug:
            return Speaker(spokesperson_for=slug, confidence=0.7,
                           why=f"a spokesperson for {target!r}")
    named = _named_in(phrase, start, index)
    if named:
        return Speaker(slug=named, confidence=0.9, why=f"named in the frame: {phrase!r}")
    if ANONYMOUS_HEADS.search(phrase) or parse_count(phrase) is not None:
        count = parse_count(phrase)
        affiliation = affiliation_of(phrase, index)
        if re.match(r"(?:one|some|several|two|three) of (?:the|them)", phrase, re.IGNORECASE):
            count = parse_count(phrase) if not phrase.casefold().startswith("some") else None
            if ctx.last_group is not None and affiliation is None:
                affiliation = ctx.last_group.affiliation
        description = re.sub(r"^(?:the)\s+", "", phrase.strip(), flags=re.IGNORECASE)
        return Speaker(anonymous=description, count=count, affiliation=affiliation,
                       confidence=0.7, why=f"unnamed: {phrase!r}")
    return None


def _named_in(phrase: str, start: int, index: EntityIndex) -> str | None:
    """The first entity mentioned inside the phrase (a person first)."""
    inside = [m for m in index.mentions if start <= m.start and m.end <= start + len(phrase)]
    people = [m for m in inside if index.is_person(m.slug)]
    chosen = people[0] if people else (inside[0] if inside else None)
    return chosen.slug if chosen else None

"""Entities in an article: matches to existing labels and aliases, and proposals of new ones.

Names are compared normalised: case folded, curly apostrophes made straight, diacritics
dropped, hyphens and runs of spaces made one space — so "Al-Shaibani", "al-Shaibani" and
"al Shaibani" are one name.

>>> normalise_name("Al-Shaibani’s") == normalise_name("al shaibani's")
True
>>> slugify("Assaad al-Shaibani")
'assaad-al-shaibani'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geokb.vocab import is_slug


def normalise_name(name: str) -> str:
    """A name folded for matching (case, apostrophes, diacritics, hyphens, spaces)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("’", "'").replace("‘", "'").replace("`", "'").casefold()
    plain = re.sub(r"[-‐‑–—_.]+", " ", plain)
    return re.sub(r"\s+", " ", plain).strip()


def slugify(name: str) -> str:
    """An entity slug [a-z0-9-] for a new name."""
    base = re.sub(r"[^a-z0-9]+", "-", normalise_name(name).replace("'s", "").replace("'", ""))
    return base.strip("-")[:100] or "entity"


@dataclass(frozen=True)
class KnownEntity:
    """An entity that already exists (in the KB or a claim file): slug, names, types."""

    slug: str
    label: str
    aliases: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> KnownEntity:
        """From a claim-file entity entry ``{id, label, aliases, types}``."""
        types = spec.get("types") or []
        return cls(str(spec["id"]), str(spec.get("label") or spec["id"]),
                   tuple(str(a) for a in spec.get("aliases") or []),
                   tuple([types] if isinstance(types, str) else [str(t) for t in types]))

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)

    @property
    def is_person(self) -> bool:
        return "gk:Person" in self.types


@dataclass
class Mention:
    """A name found in the text and the entity it stands for."""

    start: int
    end: int
    text: str
    slug: str
    known: bool


@dataclass
class EntityProposal:
    """A new entity the editor may declare."""

    slug: str
    label: str
    type_guess: str
    confidence: float
    why: str
    aliases: list[str] = field(default_factory=list)
    mentions: int = 0


# Cue words in or around a name, and the type they suggest.
_TYPE_CUES: tuple[tuple[str, str], ...] = (
    (r"\b(?:ministry|department|agency|army|forces|party|council|office|bank|company|"
     r"corporation|union|organisation|organization|group|front|movement|committee)\b",
     "gk:Organization"),
    (r"\bcommission\b", "gk:Commission"),
    (r"\bgovernment\b", "gk:Government"),
    (r"\bnaval base\b", "gk:NavalBase"),
    (r"\b(?:airfield|air base|airbase|airport)\b", "gk:Airfield"),
    (r"\b(?:base|port|harbour|harbor)\b", "gk:MilitaryFacility"),
    (r"\b(?:press conference)\b", "gk:PressConference"),
    (r"\b(?:agreement|treaty|accord|deal|memorandum)\b", "gk:Agreement"),
    (r"\b(?:war|conflict)\b", "gk:ArmedConflict"),
    (r"\b(?:times|post|news|press|tv|radio|agency|journal|herald|guardian|reuters|"
     r"associated press|afp|bbc|cnn)\b", "gk:NewsOutlet"),
)
TITLES = ("president", "prime minister", "foreign minister", "defence minister",
          "defense minister", "minister", "spokesperson", "spokesman", "spokeswoman",
          "ambassador", "general", "gen.", "mr.", "mrs.", "ms.", "dr.", "director", "envoy",
          "chancellor", "king", "queen", "prince", "senator", "governor", "mayor", "leader",
          "commander", "secretary", "chief")
# Capitalised words that open sentences or headings without naming anything.
_NOT_NAMES = frozenset({
    "the", "a", "an", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we",
    "i", "you", "his", "her", "their", "our", "my", "now", "though", "although", "but", "and",
    "as", "at", "in", "on", "of", "for", "from", "to", "by", "with", "after", "before",
    "since", "while", "when", "notably", "also", "others", "ads", "according", "homepage",
    "no", "not", "if", "there", "here", "what", "who", "one", "two", "three", "analysts",
    "officials", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "today", "yesterday", "first", "new", "read",
})
_CONNECT = frozenset({"al", "el", "bin", "ibn", "de", "van", "von", "of", "du", "da"})
_WORD = re.compile(r"[A-Z]\.(?:[A-Z]\.)+|[A-Za-zÀ-ÖØ-öø-ÿ][\w’'-]*")
_REPORTING_AFTER = re.compile(r"\s*(?:said|says|told|noted|added|pledged|praised|denied|"
                              r"denies|warned|announced|insisted|stressed|argued|claimed)\b")
# Title words inside a capitalised run ("Syrian Foreign Minister Assaad al-Shaibani").
_TITLE_WORDS = frozenset({"president", "minister", "secretary", "spokesperson", "spokesman",
                          "spokeswoman", "ambassador", "general", "director", "envoy",
                          "chancellor", "king", "queen", "prince", "senator", "governor",
                          "mayor", "commander", "chief", "leader", "mr", "mrs", "ms", "dr"})
_ADJECTIVE = re.compile(r"(?:ian|ean|ese|ish|ern)(?:-\w+)?\Z")


class EntityIndex:
    """Known entities by normalised name; finds their mentions and proposes new ones."""

    def __init__(self, known: Iterable[KnownEntity]) -> None:
        self.known: dict[str, KnownEntity] = {}
        self.by_name: dict[str, str] = {}
        for entity in known:
            if not is_slug(entity.slug):
                continue
            self.known[entity.slug] = entity
            for name in entity.names():
                self.by_name.setdefault(normalise_name(name), entity.slug)
        self.proposals: dict[str, EntityProposal] = {}
        self.mentions: list[Mention] = []

    def lookup(self, name: str) -> str | None:
        """The slug a name stands for (a known entity or one proposed so far), if any."""
        key = normalise_name(_strip_possessive(name))
        key = re.sub(r"^the ", "", key)
        if key in self.by_name:
            return self.by_name[key]
        if ("the " + key) in self.by_name:
            return self.by_name["the " + key]
        return None

    def is_person(self, slug: str) -> bool:
        if slug in self.known:
            return self.known[slug].is_person
        proposal = self.proposals.get(slug)
        return proposal is not None and proposal.type_guess == "gk:Person"

    def label(self, slug: str) -> str:
        if slug in self.known:
            return self.known[slug].label
        return self.proposals[slug].label if slug in self.proposals else slug

    def scan(self, text: str, start: int, end: int, *, heading: bool = False) -> list[Mention]:
        """Mentions in ``text[start:end]``: known names (longest first), then new names."""
        found: list[Mention] = []
        taken = [False] * (end - start)
        chunk = text[start:end]
        folded_names = sorted(self.by_name, key=len, reverse=True)
        norm_chunk, back = _normalised_with_map(chunk)
        for name in folded_names:
            for m in re.finditer(r"(?<![\w])" + re.escape(name) + r"(?![\w])", norm_chunk):
                a, b = back[m.start()], back[m.end() - 1] + 1
                if any(taken[a:b]):
                    continue
                for i in range(a, b):
                    taken[i] = True
                found.append(Mention(start + a, start + b, chunk[a:b], self.by_name[name],
                                     True))
        for a, b, opener in _name_runs(chunk, heading=heading):
            if any(taken[a:b]):
                continue
            name = _strip_possessive(chunk[a:b])
            if opener and self.lookup(name) is None and not _REPORTING_AFTER.match(chunk[b:]):
                continue  # a capitalised sentence opener, not known to name anything
            slug = self._propose(name, text, start + a)
            found.append(Mention(start + a, start + a + len(name), name, slug, False))
        found.sort(key=lambda m: m.start)
        self.mentions.extend(found)
        return found

    def _propose(self, name: str, text: str, at: int) -> str:
        existing = self.lookup(name)
        if existing:
            if existing in self.proposals:
                self.proposals[existing].mentions += 1
            return existing
        surname = self._surname_match(name) if " " not in name.strip() else None
        if surname:
            proposal = self.proposals[surname]
            proposal.mentions += 1
            if name not in proposal.aliases and name != proposal.label:
                proposal.aliases.append(name)
            self.by_name[normalise_name(name)] = surname
            return surname
        slug = slugify(name)
        while slug in self.known or (slug in self.proposals
                                     and normalise_name(self.proposals[slug].label)
                                     != normalise_name(name)):
            slug += "-2"
        type_guess, confidence, why = guess_type(name, text, at)
        self.proposals[slug] = EntityProposal(slug, name, type_guess, confidence, why,
                                              mentions=1)
        self.by_name[normalise_name(name)] = slug
        return slug

    def _surname_match(self, name: str) -> str | None:
        """A proposal whose last name this is ("al-Shaibani" for "Assaad al-Shaibani")."""
        key = normalise_name(name)
        for slug, proposal in self.proposals.items():
            label = normalise_name(proposal.label)
            if " " in label and label.endswith(" " + key):
                return slug
        return None


def guess_type(name: str, text: str, at: int) -> tuple[str, float, str]:
    """A type for a new name from cue words in it and a title before it."""
    folded = name.casefold()
    for pattern, type_ in _TYPE_CUES:
        if re.search(pattern, folded):
            return type_, 0.6, f"the name contains a cue word for {type_}"
    before = text[max(0, at - 40):at].casefold()
    for title in TITLES:
        if re.search(re.escape(title) + r"\s*\Z", before) or folded.startswith(title + " "):
            return "gk:Person", 0.7, f"preceded by the title {title!r}"
    after = text[at + len(name):at + len(name) + 30].casefold()
    next_word = re.match(r"\s+([a-z][a-z ]{0,12}?)\b(?=[ ,.;:]|\Z)", after)
    if next_word:
        for pattern, type_ in _TYPE_CUES:
            if re.match(pattern, next_word.group(1)):
                return type_, 0.5, f"followed by {next_word.group(1)!r}"
    if _REPORTING_AFTER.match(after):
        return "gk:Person", 0.5, "the name is the subject of a reporting verb"
    if re.match(r"\s*,\s*(?:the|a|an)\s+[\w’' -]*?(?:director|minister|president|spokes\w+|"
                r"official|chief|head|commander|leader)\b", after):
        return "gk:Person", 0.6, "followed by an apposition naming a role"
    return "gk:Agent", 0.3, "no cue for a type: check it"


def _strip_possessive(name: str) -> str:
    return re.sub(r"[’']s?\Z", "", name)


def _normalised_with_map(chunk: str) -> tuple[str, list[int]]:
    """``normalise_name`` applied per character, with a map back to ``chunk`` offsets."""
    out: list[str] = []
    back: list[int] = []
    for i, ch in enumerate(chunk):
        folded = normalise_name(ch) if ch.strip() else " "
        if ch in "-‐‑–—_.":
            folded = " "
        for c in folded or ("" if unicodedata.combining(ch) else " "):
            out.append(c)
            back.append(i)
    return "".join(out), back


def _name_runs(chunk: str, *, heading: bool) -> list[tuple[int, int, bool]]:
    """Runs of capitalised words that look like names: (start, end, is a sentence opener).

    A title inside a run is cut off ("Foreign Minister Assaad al-Shaibani" → the name), and
    a lone demonym before a lower-case word ("Syrian civil war") is no name.
    """
    if heading:
        return []  # headings capitalise every word
    words = list(_WORD.finditer(chunk))
    runs: list[tuple[int, int, bool]] = []
    i = 0
    while i < len(words):
        word = words[i].group()
        first = i == 0 or re.search(r"[.!?:“\"‘]\s*\Z", chunk[:words[i].start()]) is not None
        if not _capitalised(word) or word.casefold() in _NOT_NAMES:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and chunk[words[j].end():words[j + 1].start()] == " " and (
                _capitalised(words[j + 1].group())
                or (words[j + 1].group().casefold() in _CONNECT and j + 2 < len(words)
                    and _capitalised(words[j + 2].group()))):
            j += 1
        while j > i and words[j].group().casefold() in _CONNECT:
            j -= 1
        k = i
        for t in range(i, j):
            if words[t].group().casefold().rstrip(".") in _TITLE_WORDS:
                k = t + 1
        if k > i:
            first = False
        lone_adjective = (k == j and _ADJECTIVE.search(words[k].group()) is not None
                          and re.match(r"\s+[a-z]", chunk[words[k].end():]) is not None
                          and not _REPORTING_AFTER.match(chunk[words[k].end():]))
        if not lone_adjective:
            runs.append((words[k].start(), words[j].end(), first and k == j))
        i = j + 1
    return runs


def _capitalised(word: str) -> bool:
    core = word.split("-")[-1] if word[:3].casefold() in {"al-", "el-"} else word
    return bool(core) and core[0].isupper()

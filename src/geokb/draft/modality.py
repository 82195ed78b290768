"""Cues for modality and speech acts.

>>> modality_cue("its future remains unclear")
('uncertain', 'remains unclear')
>>> modality_cue("Moscow is trying to reposition itself")
('analysis', 'is trying to')
"""

from __future__ import annotations

import re

_CUES: tuple[tuple[str, str], ...] = (
    ("denied", r"\b(?:denied|denies|deny|denying|rejected (?:claims|reports)|"
               r"dismissed (?:claims|reports))\b"),
    ("uncertain", r"\b(?:remains? unclear|(?:it is|it was|it was not|it is not) (?:unclear|"
                  r"not known|not clear)|unclear whether|unconfirmed|reportedly|allegedly|"
                  r"could not be (?:verified|confirmed)|may have|might have)\b"),
    ("analysis", r"\b(?:suggesting|suggests?|signals?|signalling|signaling|is trying to|"
                 r"are trying to|appears? to|seems? to|positioning|underscoring|"
                 r"highlighting|likely|in a sign|marking a shift)\b"),
)

# Reporting verbs: the speech act each stands for (None: a plain "states").
SPEECH_VERBS: dict[str, str] = {
    "said": "states", "says": "states", "say": "states", "told": "states", "tells": "states",
    "noted": "states", "notes": "states", "added": "states", "stated": "states",
    "explained": "states", "confirmed": "states", "claimed": "states", "argued": "states",
    "insisted": "states", "stressed": "states", "emphasised": "states",
    "emphasized": "states", "wrote": "states", "described": "states",
    "describing": "states", "adding": "states", "saying": "states", "noting": "states",
    "pledged": "pledges", "promised": "pledges", "vowed": "pledges",
    "announced": "announces", "unveiled": "announces",
    "called for": "calls-for", "urged": "calls-for", "demanded": "calls-for",
    "praised": "praises", "welcomed": "praises", "hailed": "praises",
    "denied": "denies", "denies": "denies", "rejected": "denies", "dismissed": "denies",
    "warned": "warns", "threatened": "warns", "accused": "accuses", "criticised": "criticises",
    "criticized": "criticises",
}
SPEECH_VERB_RE = "|".join(sorted((re.escape(v) for v in SPEECH_VERBS), key=len, reverse=True))
# After "he said,": a participle that continues the speaker's words, or the author's reading.
SPEAKER_PARTICIPLES = frozenset({"describing", "adding", "saying", "noting", "calling",
                                 "insisting", "warning", "stressing", "urging", "arguing"})
ANALYSIS_PARTICIPLES = frozenset({"suggesting", "positioning", "signalling", "signaling",
                                  "underscoring", "highlighting", "indicating", "showing"})


def modality_cue(text: str) -> tuple[str, str] | None:
    """The first modality a cue in ``text`` points to, and the cue's words."""
    for modality, pattern in _CUES:
        m = re.search(pattern, text, re.IGNORECASE)
        if m:
            return modality, m.group()
    return None


def speech_act(verb: str) -> str:
    return SPEECH_VERBS.get(verb.casefold(), "states")

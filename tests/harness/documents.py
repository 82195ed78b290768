"""Small claim files and the repository's paths, shared by tests, bench/ and scripts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
#: the seed article the repository's KB was curated from (``../shared/seed/``)
SEED_ARTICLE = SHARED / "seed" / "article-syria-russia.txt"
SEED_MISSING = f"needs the seed article {SEED_ARTICLE} (../shared/ beside the repository)"

ARTICLE = (
    "Syrian Foreign Minister Assaad al-Shaibani made his first official visit to Moscow. "
    "Notably absent from the discussion were the naval base at Tartus and the Hmeimim "
    "airfield. Their future remains unclear. Later reports say the Tartus base is operational. "
    "According to Digi24, Al-Shaibani said that Syria needs international partnerships."
)


def mini_document() -> dict[str, Any]:
    """A small claim file: one source, a few entities, three claims."""
    return {
        "recorded_by": "test:fixture",
        "sources": [{"id": "art", "text": ARTICLE, "title": "Test article", "language": "en"}],
        "entities": [
            {"id": "tartus-naval-base", "types": ["gk:NavalBase"], "label": "Tartus naval base",
             "aliases": ["Tartus", "naval base at Tartus"]},
            {"id": "hmeimim-airfield", "types": ["gk:Airfield"], "label": "Hmeimim airfield",
             "aliases": ["Hmeimim", "Khmeimim"]},
            {"id": "al-shaibani", "types": ["gk:Person"], "label": "Assaad al-Shaibani",
             "aliases": ["al-Shaibani"]},
            {"id": "syria", "types": ["gk:State"], "label": "Syria"},
            {"id": "digi24", "types": ["gk:NewsOutlet"], "label": "Digi24"},
        ],
        "claims": [
            {"id": "tartus-unclear", "subject": "tartus-naval-base", "predicate": "gk:status",
             "object": "status:uncertain", "modality": "asserted", "source": "art",
             "quote": "Their future remains unclear"},
            {"id": "hmeimim-unclear", "subject": "hmeimim-airfield", "predicate": "gk:status",
             "object": "status:uncertain", "modality": "asserted", "source": "art",
             "quote": "Their future remains unclear", "valid_from": "2025-01"},
            {"id": "syria-needs", "subject": "syria", "predicate": "gk:needs",
             "object": {"text": "international partnerships", "lang": "en"},
             "modality": "quoted", "source": "art", "speaker": "al-shaibani",
             "reported_via": ["digi24"],
             "quote": "Al-Shaibani said that Syria needs international partnerships"},
        ],
    }

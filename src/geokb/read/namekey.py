"""The key a name is looked up by: apostrophe style, dashes, diacritics, spacing and case
do not make two names different (belief model, section e). Labels are stored as printed;
only the name index's keys are normalised.

>>> name_key("Assad’s Removal") == name_key("ASSAD'S  removal") == name_key("Assad`s removal")
True
>>> name_key("Hméimim"), name_key("al‑Shaibani")
('hmeimim', 'al-shaibani')
"""

from __future__ import annotations

import unicodedata

_FOLD = str.maketrans({
    **dict.fromkeys("’‘ʼʻ`´′", "'"),
    **dict.fromkeys("“”„", '"'),
    **dict.fromkeys("‐‑‒–—", "-"),
})


def name_key(name: str) -> str:
    """``name`` after NFKD, without combining marks, with one apostrophe, quote and dash,
    single spaces, case-folded."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.translate(_FOLD).split()).casefold()

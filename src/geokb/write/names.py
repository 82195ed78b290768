"""Names people read: entity labels and aliases, NFC-normalised and free of look-alikes.

A label is how a reader (and ``geokb status NAME``) finds an entity, so a name that
*looks* like another one is a way to plant a second "Tartus". :func:`clean_name` returns
the NFC form and refuses what no honest label needs: zero-width characters, bidi controls
(a right-to-left override reorders what is shown), other format characters, and words
that mix Latin with Cyrillic or Greek letters (Cyrillic "а" in "Tаrtus"), naming the
character. Whole words in one script (``Тартус``, ``Ταρτούς``) are fine, and so are
names mixing scripts between words.

>>> clean_name("Tartus", "label")
'Tartus'
>>> clean_name("Cafe\\u0301", "label") == "Caf\\u00e9"
True
"""

from __future__ import annotations

import re
import unicodedata

from geokb.errors import InvalidEvent

#: Scripts that share look-alike letters with Latin: mixed with it in one word, refused.
CONFUSABLE_WITH_LATIN = ("CYRILLIC", "GREEK")
_WORD = re.compile(r"\w+")


def _script(char: str) -> str | None:
    """The script of a letter, from its Unicode name (``LATIN``, ``CYRILLIC``, …)."""
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else None


def clean_name(value: str, what: str) -> str:
    """``value`` in NFC. Raises :class:`InvalidEvent` for zero-width, bidi-control or other
    format characters, and for a word mixing Latin with Cyrillic or Greek letters."""
    text = unicodedata.normalize("NFC", value)
    for char in text:
        if unicodedata.category(char) == "Cf":  # ZWSP, ZWJ, LRM/RLM, RLO, isolates, BOM …
            raise InvalidEvent(f"{what} {text!r} contains the invisible or direction-changing "
                               f"character U+{ord(char):04X} "
                               f"({unicodedata.name(char, 'unnamed')})")
    for word in _WORD.findall(text):
        scripts = {s for c in word if (s := _script(c)) is not None}
        if "LATIN" in scripts and scripts & set(CONFUSABLE_WITH_LATIN):
            odd = next(c for c in word if _script(c) in CONFUSABLE_WITH_LATIN)
            raise InvalidEvent(f"{what} {text!r} mixes Latin and "
                               f"{_script(odd).title()} letters in {word!r}: "  # type: ignore[union-attr]
                               f"{odd!r} is U+{ord(odd):04X} ({unicodedata.name(odd)}), a "
                               "look-alike")
    return text

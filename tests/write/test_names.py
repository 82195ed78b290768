"""Entity labels and aliases: NFC, and no look-alike, invisible or bidi characters."""

from __future__ import annotations

import pytest

from geokb.errors import InvalidEvent
from geokb.write.claimfile import entity_event


def declare(label: str, aliases: tuple[str, ...] = ()) -> dict[str, object]:
    event = entity_event({"id": "tartus", "types": ["gk:NavalBase"], "label": label,
                          "aliases": list(aliases)})
    return event.payload


@pytest.mark.parametrize("label", ["Tartus", "Тартус", "Ταρτούς", "طرطوس", "Tartus (Тартус)",
                                   "Port-Saïd", "São Tomé"])
def test_names_in_one_script_per_word_pass(label: str) -> None:
    assert declare(label)["label"] == label


def test_names_are_stored_in_nfc() -> None:
    payload = declare("Sa\u0303o Tome\u0301", aliases=("Cafe\u0301",))
    assert payload["label"] == "São Tomé" and payload["aliases"] == ["Café"]


@pytest.mark.parametrize(("label", "named"), [
    ("T\u0430rtus", "U+0430 (CYRILLIC SMALL LETTER A)"),  # the review's "Tаrtus"
    ("Tart\u03bfs", "U+03BF (GREEK SMALL LETTER OMICRON)"),
])
def test_latin_mixed_with_cyrillic_or_greek_in_a_word_is_refused(label: str,
                                                                  named: str) -> None:
    with pytest.raises(InvalidEvent, match=r"mixes Latin and .* look-alike") as raised:
        declare(label)
    assert named in str(raised.value)
    with pytest.raises(InvalidEvent, match="alias"):
        declare("Tartus", aliases=(label,))


@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066",
                                  "\u200f"])
def test_invisible_and_direction_changing_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidEvent, match=f"U\\+{ord(char):04X}"):
        declare(f"Tar{char}tus")

"""``geokb draft``: a claim file proposed from an article, for an editor to review.

Rule-based (no model weights): sentences, quotations with exact spans, speakers from the
reporting frame, modality cues, dates resolved against the publication date, entities
matched to known labels and aliases or proposed as new. Nothing is registered or appended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from geokb.draft.drafter import ClaimProposal, Draft, draft
from geokb.draft.entities import EntityProposal, KnownEntity
from geokb.draft.speakers import Speaker
from geokb.draft.text import looks_like_html
from geokb.draft.writer import source_id_for, to_yaml
from geokb.write.claimfile import read_source_file

__all__ = ["ClaimProposal", "Draft", "EntityProposal", "KnownEntity", "Speaker", "draft",
           "draft_file", "known_entities"]


def known_entities(specs: Iterable[Mapping[str, Any]]) -> list[KnownEntity]:
    """Known entities from claim-file style entries ``{id, label, aliases, types}``."""
    return [KnownEntity.from_spec(spec) for spec in specs]


def draft_file(path: Path | str, *, published: str | None = None,
               kb_entities: Iterable[KnownEntity | Mapping[str, Any]] = (),
               output: Path | str | None = None) -> str:
    """The YAML text of a draft claim file for the article at ``path``.

    ``output`` is where the draft will be saved (the source's ``file:`` is written relative
    to it; the current directory if not given). A saved HTML page is drafted from its main
    text, which the draft then carries inline (``text:``), as ingest needs the exact text.
    Raises :class:`geokb.errors.InvalidEvent` for a file that cannot be read as UTF-8 text.
    """
    path = Path(path)
    raw = read_source_file(path)
    entities = [e if isinstance(e, KnownEntity) else KnownEntity.from_spec(e)
                for e in kb_entities]
    result = draft(raw, published=published, known_entities=entities)
    source_id = source_id_for(result.title, path.stem)
    source_file = None
    if not looks_like_html(raw):
        base = Path(output).resolve().parent if output else Path.cwd()
        import os

        source_file = os.path.relpath(path.resolve(), base)
    return to_yaml(result, source_id=source_id, source_file=source_file)

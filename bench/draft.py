"""`python -m bench.draft`: the drafter against the curated claim file of the seed article.

Recall: a curated evidence span (quote, occurrence) is found when one proposed span covers
at least half of it. Precision: a proposed span is right when one curated span covers at
least half of it. Speaker accuracy: over curated quoted claims, the proposal best covering
the quote names the curated speaker. Dates: every curated valid_from/valid_until matches
the best-covering proposal's. Run twice: with an empty KB (every entity new) and with the
curated entities known. The baseline proposes every sentence as a span.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from geokb.draft import draft, known_entities
from geokb.draft.text import segment
from geokb.write.claimfile import locate, read_source_file

REPO = Path(__file__).resolve().parents[1]
CURATED = REPO / "kb" / "ingest" / "2026-11-28-syria-russia.yaml"
ARTICLE = REPO.parent / "shared" / "seed" / "article-syria-russia.txt"
Span = tuple[int, int]


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _covers(by: Span, span: Span) -> bool:
    return _overlap(by, span) * 2 >= span[1] - span[0]


def _best(span: Span, proposals: list[tuple[Span, Any]]) -> Any:
    scored = [(_overlap(span, p) / max(span[1] - span[0], p[1] - p[0]), x)
              for p, x in proposals if _overlap(span, p)]
    return max(scored, key=lambda t: t[0])[1] if scored else None


def scores(curated: list[Span], proposed: list[Span]) -> tuple[float, float]:
    recall = sum(any(_covers(p, c) for p in proposed) for c in curated) / len(curated)
    precision = (sum(any(_covers(c, p) for c in curated) for p in proposed) / len(proposed)
                 if proposed else 0.0)
    return recall, precision


def run(article: Path = ARTICLE, curated_file: Path = CURATED) -> dict[str, Any]:
    text = read_source_file(article)
    doc = yaml.safe_load(curated_file.read_text(encoding="utf-8"))
    claims = doc["claims"]
    spans: dict[Span, dict[str, Any]] = {}
    for c in claims:
        ev = locate(text, c["quote"], occurrence=c.get("occurrence"))
        spans.setdefault((ev["start"], ev["end"]), c)
    curated = list(spans)
    out: dict[str, Any] = {"curated_spans": len(curated)}
    for label, known in (("empty KB", []), ("curated entities known",
                                            known_entities(doc["entities"]))):
        d = draft(text, known_entities=known)
        proposals = [((c.start, c.end), c) for c in d.claims]
        recall, precision = scores(curated, [p for p, _ in proposals])
        quoted = [c for c in claims if c["modality"] == "quoted"]
        right = 0
        for c in quoted:
            ev = locate(text, c["quote"], occurrence=c.get("occurrence"))
            best = _best((ev["start"], ev["end"]), proposals)
            if best is not None and [s.value() for s in best.speakers] == [c["speaker"]]:
                right += 1
        dated = [c for c in claims if c.get("valid_from") or c.get("valid_until")]
        dates_right = 0
        for c in dated:
            ev = locate(text, c["quote"], occurrence=c.get("occurrence"))
            best = _best((ev["start"], ev["end"]), proposals)
            if best is not None and (best.valid_from, best.valid_until) == (
                    c.get("valid_from"), c.get("valid_until")):
                dates_right += 1
        expected = {"December 2024": ("2024-12", "month"), "2015": ("2015", "year")}
        found = {x.text: (x.value, x.precision) for x in d.dates}
        out[label] = {"proposed": len(proposals), "recall": recall, "precision": precision,
                      "speaker_accuracy": right / len(quoted), "quoted": len(quoted),
                      "dates_right": f"{dates_right}/{len(dated)}",
                      "article_dates": all(found.get(k) == v for k, v in expected.items())
                      and len(found) == len(expected)}
    sentences = [(s.start, s.end) for s in segment(text)]
    out["baseline: every segment"] = dict(zip(("recall", "precision"),
                                              scores(curated, sentences), strict=True))
    out["baseline: every segment"]["proposed"] = len(sentences)
    return out


def main() -> int:
    result = run()
    print(f"geokb draft vs the curated claims of {ARTICLE.name} "
          f"({result['curated_spans']} distinct curated spans)")
    for label, r in result.items():
        if not isinstance(r, dict):
            continue
        line = (f"  {label:<26} proposed {r['proposed']:>3}  span recall {r['recall']:6.1%}"
                f"  precision {r['precision']:6.1%}")
        if "speaker_accuracy" in r:
            line += (f"  speakers {r['speaker_accuracy']:6.1%} of {r['quoted']} quoted"
                     f"  dates {r['dates_right']}  article dates right: {r['article_dates']}")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

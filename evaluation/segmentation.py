"""Segmentation scored against hand-checked case boundaries (corpus/segmentation/*.json).

A gold entry matches a predicted entry when the gold heading lies in that predicted entry's
text; matching is one-to-one, in document order. Comparison ignores white space and layout
marks, so the same gold serves a text file and its PDF rendering. For each matched entry we
also check that the gold ending lies inside the predicted entry (not truncated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jirei.gold import Gold, GoldCase, comparable, gold_spans, load_gold, load_gold_dir  # noqa: F401
from jirei.records import Case


@dataclass
class SegmentationScore:
    doc: str
    layout: str
    predicted: int
    gold: int
    matched: int
    ends_included: int
    missed: list[str] = field(default_factory=list)  # gold headings with no entry
    spurious: list[str] = field(default_factory=list)  # predicted titles matching no gold entry
    truncated: list[str] = field(default_factory=list)  # matched entries missing their gold ending

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else (1.0 if self.gold == 0 else 0.0)

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else (1.0 if self.predicted == 0 else 0.0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def ends_share(self) -> float:
        return self.ends_included / self.matched if self.matched else (1.0 if self.gold == 0 else 0.0)

    def as_dict(self) -> dict:
        return {
            "doc": self.doc,
            "layout": self.layout,
            "predicted": self.predicted,
            "gold": self.gold,
            "matched": self.matched,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "ends_included": round(self.ends_share, 4),
            "missed": self.missed,
            "spurious": self.spurious,
            "truncated": self.truncated,
        }


HEADING_KEY = 40  # characters of a gold heading an entry must hold to match it


def match_entries(cases: list[Case], headings: list[str]) -> list[int | None]:
    """Per gold heading, the index of the entry that holds its first HEADING_KEY characters (marks
    and white space aside; each entry matched once), or None. The gold is in document order: the
    search runs from the last match on, then anywhere."""
    texts = [comparable(c.text) for c in cases]
    used: set[int] = set()
    out: list[int | None] = []
    cursor = 0
    for heading in headings:
        key = comparable(heading)[:HEADING_KEY]
        order = list(range(cursor, len(cases))) + list(range(0, cursor))
        hit = next((i for i in order if i not in used and key and key in texts[i]), None)
        out.append(hit)
        if hit is not None:
            used.add(hit)
            cursor = hit + 1
    return out


def score_segmentation(cases: list[Case], gold: Gold, doc_name: str | None = None) -> SegmentationScore:
    used: set[int] = set()
    matched = ends = 0
    missed, truncated = [], []
    for g, hit in zip(gold.cases, match_entries(cases, [g.heading for g in gold.cases])):
        if hit is None:
            missed.append(g.heading)
            continue
        used.add(hit)
        matched += 1
        if comparable(g.end) in comparable(cases[hit].text):
            ends += 1
        else:
            truncated.append(g.heading)
    spurious = [cases[i].title for i in range(len(cases)) if i not in used]
    return SegmentationScore(
        doc=doc_name or gold.doc,
        layout=cases[0].layout if cases else "-",
        predicted=len(cases),
        gold=len(gold.cases),
        matched=matched,
        ends_included=ends,
        missed=missed,
        spurious=spurious,
        truncated=truncated,
    )


def score_seed_documents(seeds: Path, golds: list[Gold]) -> list[SegmentationScore]:
    """Each gold file's seed document read, segmented and scored, as `jirei evaluate segmentation`
    does without DOCS. Raises `IngestError` for a document that cannot be read."""
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment

    scores = []
    for gold in golds:
        path = Path(seeds) / gold.doc
        scores.append(score_segmentation(segment(ingest(path)), gold, doc_name=path.name))
    return scores


def format_table(scores: list[SegmentationScore]) -> str:
    head = f"{'document':<44} {'layout':<14} {'pred':>5} {'gold':>5} {'P':>6} {'R':>6} {'F1':>6} {'ends':>6}"
    rows = [head, "-" * len(head)]
    for s in scores:
        rows.append(
            f"{s.doc[:44]:<44} {s.layout[:14]:<14} {s.predicted:>5} {s.gold:>5} "
            f"{s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} {s.ends_share:>6.3f}"
        )
    return "\n".join(rows)

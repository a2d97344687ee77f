"""Entities as a user gets them: each document segmented by Jirei, its entries' organisations,
places and years scored against the gold cases they match.

`jirei evaluate entities` scores the entity stage alone: both systems read each gold case's exact
span. A user's document goes through segmentation first, and an entry cut short, merged with the
next one or made of a notice carries other values. This module runs the whole pipeline
(`Pipeline.segment`, then `Pipeline.add_entities`) and scores per document:

- an entry matches a gold case when it holds the case's heading (the first 40 characters, marks
  and white space aside: the matching of `jirei evaluate segmentation`);
- a matched pair is scored as `jirei evaluate entities` scores a case (same fields, same keys);
- a gold case no entry matches has all its values missed; an entry that matches no gold case (a
  fragment, a notice, a sub-heading read as a case) has all its values spurious.

Each real PDF with entity gold is read three ways: as the PDF reader gives it, as plain text (its
text without pages or typography, `segmentation_cv.as_text`) and as paged markdown (`---` between
pages, heading marks from its typography, `segmentation_cv.as_paged_text`): the forms in which
newsletters and reports reach Jirei as text. The seeds are read as the text files they are. These
are development documents (the segmenter learned the PDFs, the entity rules were written on them
all): the figures say how much segmentation costs the entities, not what a new report gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from jirei import paths
from jirei.evaluation.entities import FIELDS, Counts, _gold_sets, _pred_sets, _summed, is_pdf_gold, source_path
from jirei.evaluation.segmentation import match_entries
from jirei.evaluation.segmentation_cv import as_paged_text, as_text
from jirei.extract.ingest import ingest
from jirei.gold import load_gold
from jirei.pipeline import Pipeline, PipelineConfig
from jirei.records import Document

#: How a real PDF is read: as it is, and as the text forms it arrives in.
PDF_READINGS: tuple[tuple[str, Callable[[Document], Document]], ...] = (
    ("PDF", lambda d: d),
    ("as text", as_text),
    ("as markdown", lambda d: as_paged_text(d, headings=True)),
)


@dataclass
class EndToEndRow:
    doc: str
    reading: str  # "seed text", "PDF", "as text", "as markdown"
    gold: int  # gold cases
    entries: int  # Jirei's entries
    matched: int
    fields: dict[str, Counts] = field(default_factory=lambda: {f: Counts() for f in FIELDS})

    def as_dict(self) -> dict:
        return {"doc": self.doc, "reading": self.reading, "gold": self.gold, "entries": self.entries,
                "matched": self.matched, "fields": {f: c.as_dict() for f, c in self.fields.items()}}


def score_document(pipeline: Pipeline, document: Document, headings: list[str], rows: list[dict],
                   reading: str) -> EndToEndRow:
    """`document` segmented and its entities extracted by `pipeline`, scored against the gold `rows`
    (one per gold case, in the order of `headings`)."""
    cases = pipeline.segment(document)
    pipeline.add_entities(document, cases)
    match = match_entries(cases, headings)
    row = EndToEndRow(document.name, reading, len(rows), len(cases), sum(m is not None for m in match))
    for j, gold_row in zip(match, rows):
        pred = _pred_sets(cases[j]) if j is not None else {f: set() for f in FIELDS}
        gold = _gold_sets(gold_row)
        for f in FIELDS:
            row.fields[f].add(pred[f], gold[f])
    for k in set(range(len(cases))) - {m for m in match if m is not None}:
        pred = _pred_sets(cases[k])
        for f in FIELDS:
            row.fields[f].add(pred[f], set())
    return row


def score_end_to_end(seeds: Path, golds: list[dict]) -> list[EndToEndRow]:
    """Every entity gold document (found beside `seeds`) read, segmented and scored: the seeds as
    text, each real PDF in the three `PDF_READINGS`."""
    pipeline = Pipeline.load(PipelineConfig(labels=False))
    rows = []
    for g in golds:
        pdf = is_pdf_gold(g)
        seg = load_gold(paths.SEGMENTATION_GOLD / ("pdfs" if pdf else "") / (Path(g["doc"]).stem + ".json"))
        headings = [c.heading for c in seg.cases]
        document = ingest(source_path(seeds, g))
        readings = PDF_READINGS if pdf else (("seed text", lambda d: d),)
        for name, read in readings:
            rows.append(score_document(pipeline, read(document), headings, g["cases"], name))
    return rows


def format_end_to_end(rows: list[EndToEndRow]) -> str:
    """F1 per field for each document and reading, then pooled per reading."""
    head = f"{'document':<34} {'reading':<12} {'gold':>4} {'entries':>7} {'matched':>7} " + " ".join(
        f"{f[:11]:>11}" for f in FIELDS)
    lines = ["entities end to end: Jirei's own entries (segmented by Jirei) against the gold cases they match",
             head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.doc[:34]:<34} {r.reading:<12} {r.gold:>4} {r.entries:>7} {r.matched:>7} "
                     + " ".join(f"{r.fields[f].f1:>11.3f}" for f in FIELDS))
    lines.append("-" * len(head))
    for reading in dict.fromkeys(r.reading for r in rows):
        part = [r for r in rows if r.reading == reading]
        fs = _summed(r.fields for r in part)
        lines.append(f"{'pooled':<34} {reading:<12} {sum(r.gold for r in part):>4} {sum(r.entries for r in part):>7} "
                     f"{sum(r.matched for r in part):>7} " + " ".join(f"{fs[f].f1:>11.3f}" for f in FIELDS))
    lines.append("An entry matches a gold case when it holds its heading; unmatched gold cases count as missed, "
                 "unmatched entries' values as spurious. Development documents: the segmenter learned the PDFs, "
                 "the entity rules were written on all of them.")
    return "\n".join(lines)

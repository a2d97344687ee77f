"""Entities scored against the hand-labelled gold in corpus/entities/, next to stock GiNZA NER.

Both systems see the same text: each gold case's span (heading to `end`, as the gold was
labelled; corpus/entities/README.md "Scope"). Matching, per case, micro-averaged:
- organisations: the stored name (`org_key`: NFKC, ㈱ → 株式会社, ordinals and spaces removed);
- places: (prefecture, municipality) for municipality and prefecture level; the region name for
  regions; the written name for places abroad;
- years: the calendar years stated (relative expressions excluded on both sides).

The baseline is stock ja_ginza (every component, default ops) with its NER alone: organisation
labels → organisations; Province/City/County/GPE/Domestic_Region/Country entities → places
through the same gazetteer; Date/Era/Period_Year entities → years through the same year
normaliser. It measures what the model finds, given Jirei's normalisers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from jirei import paths
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.gold import gold_spans, load_gold
from jirei.extract.organisations import ORG_LABELS, normalise_org_name, org_key
from jirei.extract.places import place_key
from jirei.pipeline import Pipeline, PipelineConfig
from jirei.records import Case

PLACE_LABELS = frozenset({"Province", "City", "County", "GPE_Other", "Domestic_Region", "Country", "Island"})
YEAR_LABELS = frozenset({"Date", "Era", "Period_Year", "Timex_Other"})
FIELDS = ("organisations", "places", "years")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, pred: set, gold: set) -> None:
        self.tp += len(pred & gold)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass
class EntityScores:
    system: str
    fields: dict[str, Counts] = field(default_factory=lambda: {f: Counts() for f in FIELDS})
    per_doc: dict[str, dict[str, Counts]] = field(default_factory=dict)
    lead_correct: int = 0
    lead_total: int = 0
    errors: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    chars: int = 0

    def add(self, doc: str, fname: str, pred: set, gold: set, heading: str) -> None:
        self.fields[fname].add(pred, gold)
        self.per_doc.setdefault(doc, {f: Counts() for f in FIELDS})[fname].add(pred, gold)
        if pred != gold:
            self.errors.append({"doc": doc, "heading": heading, "field": fname,
                                "missed": sorted(map(str, gold - pred)), "spurious": sorted(map(str, pred - gold))})

    def as_dict(self) -> dict:
        return {
            "system": self.system,
            "fields": {f: c.as_dict() for f, c in self.fields.items()},
            "per_doc": {d: {f: c.as_dict() for f, c in fs.items()} for d, fs in self.per_doc.items()},
            "lead_accuracy": round(self.lead_correct / self.lead_total, 4) if self.lead_total else None,
            "seconds": round(self.seconds, 2),
            "chars": self.chars,
        }


def load_entity_gold(folder: Path = paths.ENTITY_GOLD) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("*.json"))]


def gold_cases(seeds: Path, entity_gold: dict) -> tuple[object, list[Case]]:
    """The document and one Case per gold row, spanning exactly what the gold labelled
    (segmentation is scored on its own; here both systems see the same text)."""
    seg = load_gold(paths.SEGMENTATION_GOLD / entity_gold["doc"].replace(".txt", ".json"))
    document = ingest(Path(seeds) / entity_gold["doc"])
    spans = gold_spans(document.text, seg)
    # Titles as Jirei's segmenter gives them (a heading wrapped over lines is joined).
    segmented = segment(document)
    cases = []
    for i, ((s, e), row) in enumerate(zip(spans, entity_gold["cases"]), start=1):
        text = document.text[s:e]
        title = next((c.title for c in segmented if c.span[0] <= s < c.span[1]), text.split("\n", 1)[0])
        cases.append(Case(doc=document.name, doc_id=document.doc_id, ordinal=i, title=title, text=text,
                          span=(s, e), page=None, section=[], layout="gold"))
    return document, cases


def _gold_sets(row: dict) -> dict[str, set]:
    return {
        "organisations": {org_key(o["name"]) for o in row["organisations"]},
        "places": {place_key(p) for p in row["places"]},
        "years": set(row["years"]),
    }


def score_jirei(seeds: Path, golds: list[dict], doc_date: str | None = None) -> EntityScores:
    pipeline = Pipeline.load(PipelineConfig(doc_date=doc_date, labels=False))
    scores = EntityScores("jirei")
    for g in golds:
        document, cases = gold_cases(seeds, g)
        t0 = time.perf_counter()
        pipeline.add_entities(document, cases)
        scores.seconds += time.perf_counter() - t0
        scores.chars += sum(len(c.text) for c in cases)
        for case, row in zip(cases, g["cases"]):
            gold = _gold_sets(row)
            pred = {
                "organisations": {org_key(o["name"]) for o in case.organisations},
                "places": {place_key(p) for p in case.places},
                "years": set(case.years),
            }
            for f in FIELDS:
                scores.add(g["doc"], f, pred[f], gold[f], row["heading"])
            gold_lead = next((o["name"] for o in row["organisations"] if o["role"] == "lead"), None)
            if gold_lead:
                scores.lead_total += 1
                pred_lead = next((o["name"] for o in case.organisations if o["role"] == "lead"), None)
                scores.lead_correct += bool(pred_lead) and org_key(pred_lead) == org_key(gold_lead)
    return scores


def score_stock_ner(seeds: Path, golds: list[dict], doc_date: str | None = None) -> EntityScores:
    from jirei.extract import places as places_mod
    from jirei.extract import years as years_mod
    from jirei.nlp import chunk_text, load_stock_pipeline

    nlp = load_stock_pipeline()
    scores = EntityScores("stock ja_ginza NER")
    for g in golds:
        document, cases = gold_cases(seeds, g)
        date = doc_date or years_mod.find_document_date(document.text)
        t0 = time.perf_counter()
        docs = [[nlp(chunk) for _, chunk in chunk_text(c.text)] for c in cases]
        scores.seconds += time.perf_counter() - t0
        scores.chars += sum(len(c.text) for c in cases)
        for case, sdocs, row in zip(cases, docs, g["cases"]):
            ents = [e for d in sdocs for e in d.ents]
            pred_orgs = {org_key(normalise_org_name(e.text)) for e in ents if e.label_ in ORG_LABELS}
            pred_places = set()
            pred_years = set()
            for e in ents:
                if e.label_ in PLACE_LABELS:
                    pred_places |= {place_key(p) for p in places_mod.find_places(e.text)}
                elif e.label_ in YEAR_LABELS:
                    pred_years |= set(years_mod.stated_years(years_mod.find_year_mentions(e.text, doc_date=date)))
            pred = {"organisations": pred_orgs - {""}, "places": pred_places, "years": pred_years}
            gold = _gold_sets(row)
            for f in FIELDS:
                scores.add(g["doc"], f, pred[f], gold[f], row["heading"])
    return scores


def format_table(jirei: EntityScores, baseline: EntityScores | None) -> str:
    head = f"{'field':<14} {'Jirei P':>8} {'R':>6} {'F1':>6}"
    if baseline:
        head += f"   {'stock NER P':>11} {'R':>6} {'F1':>6}"
    lines = [head]
    for f in FIELDS:
        c = jirei.fields[f]
        line = f"{f:<14} {c.precision:>8.3f} {c.recall:>6.3f} {c.f1:>6.3f}"
        if baseline:
            b = baseline.fields[f]
            line += f"   {b.precision:>11.3f} {b.recall:>6.3f} {b.f1:>6.3f}"
        lines.append(line)
    lines.append("")
    lines.append(f"{'document':<28} " + "  ".join(f"{f[:5]:>11}" for f in FIELDS) + "   (Jirei F1 / stock F1)")
    for doc, fs in jirei.per_doc.items():
        cells = []
        for f in FIELDS:
            b = baseline.per_doc[doc][f].f1 if baseline else float("nan")
            cells.append(f"{fs[f].f1:.3f}/{b:.3f}")
        lines.append(f"{doc:<28} " + "  ".join(f"{c:>11}" for c in cells))
    if jirei.lead_total:
        lines.append("")
        lines.append(f"lead organisation correct: {jirei.lead_correct}/{jirei.lead_total} = {jirei.lead_correct / jirei.lead_total:.3f}")
    return "\n".join(lines)

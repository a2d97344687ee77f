"""Entities scored against the hand-labelled gold in corpus/entities/, next to stock GiNZA NER.

Both systems see the same text: each gold case's span (heading to `end`, as the gold was
labelled; corpus/entities/README.md "Scope"). Matching, per case, micro-averaged:
- organisations: the stored name (`org_key`: NFKC, ㈱ → 株式会社, ordinals and spaces removed);
- places: (prefecture, municipality) for municipality and prefecture level; the region name for
  regions; the written name for places abroad;
- years: the calendar years stated (relative expressions excluded on both sides).
Organisations are also scored by role: `lead` (the one lead of a case) and `partners` (every
other organisation the gold lists); an extracted organisation with role `mentioned` is not a
claim and is left out of every organisation score.

Gold lives in `corpus/entities/*.json` (the seed reports, read from the seeds folder) and
`corpus/entities/pdfs/*.json` (real PDFs, read from the shared `pdfs/` folder; their case
boundaries from `corpus/segmentation/pdfs/`). The rules were written against the seeds
(`RULES_WRITTEN_AGAINST`): a figure on those documents is a development figure, the figure on
the other documents is the cross-document one, and the two are reported apart. Rules written
later while reading a real document's errors are named in `jirei.extract.rule_switches`, and
`RULES_DEVELOPED_ON` says on which documents: each such document is scored a second time with its
rules switched off (the NER's mentions reused), and the cross-document figure pools those scores,
so a rule is credited only on documents it was not developed on.

The baseline is stock ja_ginza (every component, default ops) with its NER alone: organisation
labels → organisations; Province/City/County/GPE/Domestic_Region/Country entities → places
through the same gazetteer; Date/Era/Period_Year entities → years through the same year
normaliser. It measures what the model finds, given Jirei's normalisers.
"""

from __future__ import annotations

import copy
import json
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from jirei import paths
from jirei.extract import rule_switches
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.gold import gold_spans, load_gold
from jirei.extract.organisations import ORG_LABELS, normalise_org_name, org_key
from jirei.extract.places import place_key
from jirei.pipeline import KnownMentions, Pipeline, PipelineConfig
from jirei.records import Case, Document

PLACE_LABELS = frozenset({"Province", "City", "County", "GPE_Other", "Domestic_Region", "Country", "Island"})
YEAR_LABELS = frozenset({"Date", "Era", "Period_Year", "Timex_Other"})
FIELDS = ("organisations", "lead", "partners", "places", "years")
# The documents the organisation, place and year rules were written against (the seeds): a rule is
# credited only on the documents it was not developed on, so the other documents' pooled figure is
# reported apart. The government-actor, document-context and year-kind rules (extract/actors.py,
# year kinds) were developed on the real PDFs, which are therefore development documents for them.
RULES_WRITTEN_AGAINST = frozenset({"001_7db842c1dad96953.txt", "003_a912029e63bdb806.txt",
                                   "004_1e7916743c47c828.txt"})
GROUP_TITLES = ("seeds: the organisation/place/year rules were written against them",
                "real PDFs: cross-document for those rules (actors, document context and year kinds developed here)")
# Rules written later while reading a real document's errors (names of `jirei.extract.rule_switches`),
# with the documents they were developed on. Each document is scored again with the rules developed
# on it switched off: that figure, pooled, is the cross-document one.
RULES_DEVELOPED_ON: dict[str, frozenset[str]] = {
    "places.comparison": frozenset({"otoineppu_sogosenryaku.pdf"}),
    "places.event_venue": frozenset({"otoineppu_kouhou_2025-08.pdf"}),
    "places.title_page_first": frozenset({"otoineppu_kouhou_2025-08.pdf"}),
    "organisations.venue": frozenset({"otoineppu_kouhou_2025-08.pdf"}),
    "organisations.kana_school_abbreviation": frozenset({"otoineppu_kouhou_2025-08.pdf"}),
    "sentences.run_on_after_particle": frozenset({"otoineppu_kouhou_2025-08.pdf"}),
    "places.self_reference": frozenset({"otoineppu_kouhou_2021-04.pdf"}),
    # read from the three newsletters' articles alone (the `articles_only` rows are development
    # figures for it); it never fires where a title page states the place
    "places.self_named_municipality": frozenset({"otoineppu_kouhou_2021-04.pdf", "otoineppu_kouhou_2023-09.pdf",
                                                 "otoineppu_kouhou_2025-08.pdf"}),
}


def rules_developed_on(doc: str) -> list[str]:
    """The switchable rules developed on the document `doc`."""
    return sorted(r for r, docs in RULES_DEVELOPED_ON.items() if doc in docs)
SCORED_ROLES = ("lead", "partner")


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
class YearMentionCounts:
    """The years a case writes that are not the initiative's (the gold's `excluded_years`, with
    their kind) and its relative years (`relative_years`): kept out of `years`, given the gold's
    kind, resolved to the gold's year."""

    excluded: int = 0
    kept_out: int = 0
    kind_right: int = 0
    relative: int = 0
    resolved: int = 0

    def __iadd__(self, other: "YearMentionCounts") -> "YearMentionCounts":
        for f in ("excluded", "kept_out", "kind_right", "relative", "resolved"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        return self

    def as_dict(self) -> dict:
        return {"excluded": self.excluded, "kept_out": self.kept_out, "kind_right": self.kind_right,
                "relative": self.relative, "resolved": self.resolved}

    def line(self) -> str:
        return (f"written non-initiative years kept out of years {self.kept_out}/{self.excluded}, "
                f"kind right {self.kind_right}/{self.excluded}; relative years resolved {self.resolved}/{self.relative}")


def _occurrences(text: str, written: str) -> list[tuple[int, int]]:
    out, pos = [], text.find(written)
    while pos >= 0:
        out.append((pos, pos + len(written)))
        pos = text.find(written, pos + 1)
    return out


def score_year_mentions(case: Case, row: dict) -> YearMentionCounts:
    """One case's written non-initiative years and relative years against the gold row. A gold
    mention is found where its text is written in the case (the n-th listing of a text at its n-th
    occurrence); Jirei's mention is the one whose span overlaps it."""
    out = YearMentionCounts()
    local = [dict(m, span=[m["span"][0] - case.span[0], m["span"][1] - case.span[0]]) for m in case.year_mentions]

    def at(span: tuple[int, int] | None, relative: bool) -> dict | None:
        if span is None:
            return None
        return next((m for m in local if bool(m.get("relative")) == relative
                     and m["span"][0] < span[1] and span[0] < m["span"][1]), None)

    seen: dict[str, int] = {}
    for e in row.get("excluded_years", []):
        out.excluded += 1
        out.kept_out += e["year"] not in case.years
        occ = _occurrences(case.text, e["text"])
        m = at(occ[0] if occ else None, relative=False)
        out.kind_right += m is not None and m.get("kind") == e["kind"] and m.get("year") == e["year"]
    for r in row.get("relative_years", []):
        out.relative += 1
        occ = _occurrences(case.text, r["text"])
        n = seen.get(r["text"], 0)
        seen[r["text"]] = n + 1
        m = at(occ[n] if n < len(occ) else None, relative=True)
        out.resolved += m is not None and m.get("year") == r["year"]
    return out


@dataclass
class KindCounts:
    """The kinds (`company`, `government`, `chamber`, ...) of the gold's lead and partner
    organisations that Jirei also finds: how many it gives the gold's kind, and the mix-ups
    (gold kind -> Jirei's kind)."""

    found: int = 0
    right: int = 0
    mixed: dict[str, int] = field(default_factory=dict)

    def __iadd__(self, other: "KindCounts") -> "KindCounts":
        self.found += other.found
        self.right += other.right
        for k, n in other.mixed.items():
            self.mixed[k] = self.mixed.get(k, 0) + n
        return self

    def as_dict(self) -> dict:
        return {"found": self.found, "right": self.right, "mixed": dict(sorted(self.mixed.items()))}

    def line(self) -> str:
        mixed = ", ".join(f"{k} {n}" for k, n in sorted(self.mixed.items(), key=lambda t: (-t[1], t[0])))
        return f"right {self.right}/{self.found}" + (f" (gold -> Jirei: {mixed})" if mixed else "")


def score_kinds(case: Case, row: dict) -> KindCounts:
    """One case's organisation kinds: each gold lead or partner with a kind that Jirei lists (same
    stored name, any role) counts once."""
    out = KindCounts()
    found = {org_key(o["name"]): o for o in case.organisations}
    for g in row["organisations"]:
        if g.get("role") not in SCORED_ROLES or not g.get("kind"):
            continue
        o = found.get(org_key(g["name"]))
        if o is None:
            continue
        out.found += 1
        if o.get("kind") == g["kind"]:
            out.right += 1
        else:
            key = f"{g['kind']} -> {o.get('kind')}"
            out.mixed[key] = out.mixed.get(key, 0) + 1
    return out


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
    # per document, scored with the rules developed on it switched off (RULES_DEVELOPED_ON)
    left_out: dict[str, dict[str, Counts]] = field(default_factory=dict)
    # per document, the year mentions the gold lists apart from `years` (see `score_year_mentions`)
    year_mentions: dict[str, "YearMentionCounts"] = field(default_factory=dict)
    # per real PDF, its articles alone: read as a text without the title pages before the first case
    articles_only: dict[str, dict[str, Counts]] = field(default_factory=dict)
    # per document, the kinds of the scored organisations Jirei finds (see `score_kinds`)
    kinds: dict[str, "KindCounts"] = field(default_factory=dict)

    def add(self, doc: str, fname: str, pred: set, gold: set, heading: str) -> None:
        self.fields[fname].add(pred, gold)
        self.per_doc.setdefault(doc, {f: Counts() for f in FIELDS})[fname].add(pred, gold)
        if pred != gold:
            self.errors.append({"doc": doc, "heading": heading, "field": fname,
                                "missed": sorted(map(str, gold - pred)), "spurious": sorted(map(str, pred - gold))})

    def as_dict(self) -> dict:
        seeds = [d for d in self.per_doc if d in RULES_WRITTEN_AGAINST]
        others = [d for d in self.per_doc if d not in RULES_WRITTEN_AGAINST]
        return {
            "system": self.system,
            "fields": {f: c.as_dict() for f, c in self.fields.items()},
            "per_doc": {d: {f: c.as_dict() for f, c in fs.items()} for d, fs in self.per_doc.items()},
            "per_doc_rules_left_out": {d: {"rules": rules_developed_on(d), **{f: c.as_dict() for f, c in fs.items()}}
                                       for d, fs in self.left_out.items()},
            "rules_written_against": {f: c.as_dict() for f, c in _pooled(self, seeds).items()},
            # every rule on: a development figure for the rules developed on these documents
            "real_documents_all_rules": {f: c.as_dict() for f, c in _pooled(self, others).items()},
            # each document without the rules developed on it
            "cross_document": {f: c.as_dict() for f, c in _pooled(self, others, left_out=True).items()},
            "lead_accuracy": round(self.lead_correct / self.lead_total, 4) if self.lead_total else None,
            "year_mentions": {d: c.as_dict() for d, c in self.year_mentions.items()},
            "articles_only": {d: {f: c.as_dict() for f, c in fs.items()} for d, fs in self.articles_only.items()},
            "organisation_kinds": {d: c.as_dict() for d, c in self.kinds.items()},
            "seconds": round(self.seconds, 2),
            "chars": self.chars,
        }


def load_entity_gold(folder: Path = paths.ENTITY_GOLD) -> list[dict]:
    """The seed gold files, then the real-PDF gold files of `folder/pdfs/`."""
    files = sorted(Path(folder).glob("*.json")) + sorted(Path(folder).glob("pdfs/*.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]


def is_pdf_gold(entity_gold: dict) -> bool:
    return entity_gold["doc"].lower().endswith(".pdf")


def source_path(seeds: Path, entity_gold: dict) -> Path:
    """The document a gold file describes: a seed in `seeds`, a PDF in the shared `pdfs/` beside it."""
    if is_pdf_gold(entity_gold):
        return Path(seeds).parent / "pdfs" / entity_gold["doc"]
    return Path(seeds) / entity_gold["doc"]


def gold_cases(seeds: Path, entity_gold: dict) -> tuple[object, list[Case]]:
    """The document and one Case per gold row, spanning exactly what the gold labelled
    (segmentation is scored on its own; here both systems see the same text)."""
    stem = Path(entity_gold["doc"]).stem + ".json"
    seg_path = paths.SEGMENTATION_GOLD / ("pdfs" if is_pdf_gold(entity_gold) else "") / stem
    seg = load_gold(seg_path)
    document = ingest(source_path(seeds, entity_gold))
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


def _org_sets(orgs: list[dict]) -> dict[str, set]:
    scored = [o for o in orgs if o.get("role", "partner") in SCORED_ROLES]
    return {
        "organisations": {org_key(o["name"]) for o in scored},
        "lead": {org_key(o["name"]) for o in scored if o.get("role") == "lead"},
        "partners": {org_key(o["name"]) for o in scored if o.get("role") != "lead"},
    }


def _gold_sets(row: dict) -> dict[str, set]:
    return {
        **_org_sets(row["organisations"]),
        "places": {place_key(p) for p in row["places"]},
        "years": set(row["years"]),
    }


def _pred_sets(case: Case) -> dict[str, set]:
    return {**_org_sets(case.organisations), "places": {place_key(p) for p in case.places}, "years": set(case.years)}


def articles_only(document: Document, cases: list[Case]) -> Document:
    """A real PDF's text as a text report of its articles alone: everything before the first case
    (the title pages, the contents) blanked, line breaks kept so every span stays where it was; no
    pages, no typography. Newsletters sent as text often arrive so."""
    first = min(c.span[0] for c in cases)
    blank = re.sub(r"[^\n]", " ", document.text[:first]) + document.text[first:]
    return replace(document, kind="text", name=Path(document.name).stem + ".articles.txt", text=blank, pages=[],
                   line_levels={}, page_boxes=[])


def score_jirei(seeds: Path, golds: list[dict], doc_date: str | None = None) -> EntityScores:
    pipeline = Pipeline.load(PipelineConfig(doc_date=doc_date, labels=False))
    scores = EntityScores("jirei")
    for g in golds:
        document, cases = gold_cases(seeds, g)
        fresh = copy.deepcopy(cases)
        recognise = KnownMentions({}, pipeline.recognise)  # a second scoring reuses the NER's mentions
        t0 = time.perf_counter()
        pipeline.add_entities(document, cases, recognise)
        scores.seconds += time.perf_counter() - t0
        scores.chars += sum(len(c.text) for c in cases)
        for case, row in zip(cases, g["cases"]):
            gold = _gold_sets(row)
            pred = _pred_sets(case)
            for f in FIELDS:
                scores.add(g["doc"], f, pred[f], gold[f], row["heading"])
            scores.year_mentions.setdefault(g["doc"], YearMentionCounts())
            scores.year_mentions[g["doc"]] += score_year_mentions(case, row)
            scores.kinds.setdefault(g["doc"], KindCounts())
            scores.kinds[g["doc"]] += score_kinds(case, row)
            gold_lead = next((o["name"] for o in row["organisations"] if o["role"] == "lead"), None)
            if gold_lead:
                scores.lead_total += 1
                pred_lead = next((o["name"] for o in case.organisations if o["role"] == "lead"), None)
                scores.lead_correct += bool(pred_lead) and org_key(pred_lead) == org_key(gold_lead)
        if is_pdf_gold(g) and cases:
            alone = copy.deepcopy(fresh)
            pipeline.add_entities(articles_only(document, alone), alone, recognise)
            scores.articles_only[g["doc"]] = _field_counts(alone, g["cases"])
        left_out = rules_developed_on(g["doc"])
        if left_out:
            with rule_switches.switched_off(left_out):
                pipeline.add_entities(document, fresh, recognise)
            scores.left_out[g["doc"]] = _field_counts(fresh, g["cases"])
    return scores


def _field_counts(cases: list[Case], rows: list[dict]) -> dict[str, Counts]:
    """Per field, the counts of `cases` against their gold rows."""
    counts = {f: Counts() for f in FIELDS}
    for case, row in zip(cases, rows):
        gold, pred = _gold_sets(row), _pred_sets(case)
        for f in FIELDS:
            counts[f].add(pred[f], gold[f])
    return counts


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
            for f in ("organisations", "places", "years"):
                scores.add(g["doc"], f, pred[f], gold[f], row["heading"])
    return scores


def _pooled(scores: EntityScores, docs: list[str], left_out: bool = False) -> dict[str, Counts]:
    """Counts summed over `docs`; with `left_out`, each document's counts without the rules
    developed on it (where some were)."""
    return _summed(scores.left_out[d] if left_out and d in scores.left_out else scores.per_doc.get(d, {})
                   for d in docs)


def _summed(per_docs) -> dict[str, Counts]:
    """Per field, the counts of several documents added up."""
    out = {f: Counts() for f in FIELDS}
    for per_doc in per_docs:
        for f, c in per_doc.items():
            out[f].tp += c.tp
            out[f].fp += c.fp
            out[f].fn += c.fn
    return out


def _group_lines(per_doc: dict, counts, title: str) -> list[str]:
    """One line per group of documents (the seeds, the real PDFs) with `per_doc`'s counts summed
    (`counts()` is an empty count that adds with `+=` and prints with `line()`)."""
    lines = []
    for group, docs in (("seeds", [d for d in per_doc if d in RULES_WRITTEN_AGAINST]),
                        ("real PDFs", [d for d in per_doc if d not in RULES_WRITTEN_AGAINST])):
        total = counts()
        for d in docs:
            total += per_doc[d]
        if docs:
            lines.append(f"{title.format(group)}: {total.line()}")
    return lines


def format_table(jirei: EntityScores, baseline: EntityScores | None) -> str:
    """P/R/F1 per field over all documents, then F1 per document (Jirei / stock NER; the stock
    NER has no roles, so no lead or partners figure), then the pooled development figure (the
    documents the rules were written against) and the cross-document figure (the others)."""
    head = f"{'field':<14} {'Jirei P':>8} {'R':>6} {'F1':>6}"
    if baseline:
        head += f"   {'stock NER P':>11} {'R':>6} {'F1':>6}"
    lines = ["all documents", head]
    for f in FIELDS:
        c = jirei.fields[f]
        line = f"{f:<14} {c.precision:>8.3f} {c.recall:>6.3f} {c.f1:>6.3f}"
        if baseline and f in ("organisations", "places", "years"):
            b = baseline.fields[f]
            line += f"   {b.precision:>11.3f} {b.recall:>6.3f} {b.f1:>6.3f}"
        lines.append(line)

    def row(name: str, fs: dict[str, Counts], bs: dict[str, Counts] | None) -> str:
        cells = []
        for f in FIELDS:
            b = bs.get(f) if bs and f in ("organisations", "places", "years") else None
            cells.append(f"{fs[f].f1:.3f}/{b.f1:.3f}" if b else f"{fs[f].f1:.3f}/  -  ")
        return f"{name:<32} " + "  ".join(f"{c:>11}" for c in cells)

    lines += ["", f"{'F1 per document (Jirei/stock)':<32} " + "  ".join(f"{f[:11]:>11}" for f in FIELDS)]
    groups = ((GROUP_TITLES[0], [d for d in jirei.per_doc if d in RULES_WRITTEN_AGAINST]),
              (GROUP_TITLES[1], [d for d in jirei.per_doc if d not in RULES_WRITTEN_AGAINST]))
    for title, docs in groups:
        if not docs:
            continue
        lines.append(f"-- {title}")
        for doc in docs:
            lines.append(row(doc[:32], jirei.per_doc[doc], baseline.per_doc.get(doc) if baseline else None))
            if doc in jirei.left_out:
                lines.append(row("   without rules developed on it", jirei.left_out[doc], None))
        lines.append(row("   pooled", _pooled(jirei, docs), _pooled(baseline, docs) if baseline else None))
        if any(d in jirei.left_out for d in docs):
            lines.append(row("   pooled, each without its rules", _pooled(jirei, docs, left_out=True), None))
    if jirei.articles_only:
        lines.append("-- the same real PDFs' articles alone (a text without the title pages before the first case)")
        for doc, fs in jirei.articles_only.items():
            lines.append(row(doc[:32], fs, None))
        lines.append(row("   pooled", _summed(jirei.articles_only.values()), None))
    if jirei.year_mentions:
        lines.append("")
        lines += _group_lines(jirei.year_mentions, YearMentionCounts, "year mentions, {}")
    lines += _group_lines(jirei.kinds, KindCounts, "organisation kinds, {} (lead and partners Jirei finds)")
    if jirei.lead_total:
        lines.append("")
        lines.append(f"lead organisation correct: {jirei.lead_correct}/{jirei.lead_total} = {jirei.lead_correct / jirei.lead_total:.3f}")
    return "\n".join(lines)

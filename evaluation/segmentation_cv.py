"""Case-boundary model: its training documents, its training, and its evaluation across documents.

Contract:
    development_documents(...) -> list[DevDoc]   documents the segmenter may learn from, with gold
    heldout_documents(...) -> list[DevDoc]       seed 001 part II, 003, 004 and their renderings
    train_segmenter(docs, path) -> dict          fits the CRF on `docs`, writes it, returns its card
    cross_validate(docs) -> list[CVRow]          leave one document out (with its group), per document
                                                 the CRF, one-entry-per-page and the rule sets scored
    format_cv_table(rows) -> str

Held-out rule: seed 001 part II, 003 and 004 (text or rendered) never enter training or tuning;
`development_documents` cuts seed 001 (and its renderings) before its part II heading.

Groups: a document left out takes with it every training document of the same source (the same
seed or real report, whatever its rendering) and of the same rendering template, so the figure
for a document is what the model does on a layout and a content it has not seen.

Where documents come from: the seeds folder (`*.txt`), rendered seeds (`<seed stem>.<template>.pdf`
in the renderings folder; `scripts/render_layouts.py` or the test fixtures make them), real PDFs
(shared `pdfs/`) and the gold files of `corpus/segmentation/` (a gold file names its document in
`doc`; for a rendering, the seed's gold serves, matched on text that ignores layout marks).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pycrfsuite

from jirei.extract.segment import (choose_rule_set, document_features, forget_segmenters, route_medium, route_path,
                                   rules_decide, segment_crf, segment_rules)
from jirei.extract.segment.crf import DEFAULT_PARAMS, Segmenter, gold_labels, label_counts, train
from jirei.extract.segment.lines import split_lines
from jirei.extract.table_rows import with_table_rows
from jirei.extract.text import text_pages
from jirei.records import Case, Document, IngestError, Page

from .segmentation import Gold, SegmentationScore, comparable, load_gold, load_gold_dir, score_segmentation
from .segmentation_synth import synthetic_documents

HELDOUT_SEEDS = ("003", "004")
# Seed 001 is development data up to this heading (part I), held out from it on (part II).
PART_II = "II.連携中枢都市圏"


@dataclass
class DevDoc:
    name: str
    source: str  # what the content is (seed stem or real report); one group
    template: str  # how it is laid out ("text", a rendering template, "real")
    doc: Document
    gold: Gold
    kind: str  # "seed text" | "rendered" | "layout" | "real PDF" | "real text" | "real paged text" | "real markdown" | "synthetic"

    @property
    def trains(self) -> bool:
        """Does the CRF learn from it? A real PDF's text twins are only scored (their content trains
        through the PDF)."""
        return self.kind not in ("real text", "real paged text", "real markdown")


def _comparable_index(text: str) -> tuple[str, list[int]]:
    """`comparable(text)` with, for each of its characters, the offset in `text` it came from."""
    chars, where = [], []
    for i, ch in enumerate(text):
        c = comparable(ch)
        for x in c:
            chars.append(x)
            where.append(i)
    return "".join(chars), where


def locate_gold(doc: Document, gold: Gold) -> list[tuple[int, int]]:
    """Gold spans in `doc.text`, found on layout-free text (white space and marks ignored), so the
    same gold serves a text file and its renderings. Cases not found are left out."""
    comp, where = _comparable_index(doc.text)
    spans, cursor = [], 0
    for g in gold.cases:
        key = comparable(g.heading)[:40]
        s = comp.find(key, cursor) if key else -1
        if s < 0:
            continue
        end = comparable(g.end)
        e = comp.find(end, s)
        stop = where[e + len(end) - 1] + 1 if e >= 0 and end else where[s + len(key) - 1] + 1
        spans.append((where[s], stop))
        cursor = s + len(key)
    return spans


def slice_document(doc: Document, start: int, end: int) -> Document:
    """The part `doc.text[start:end]` as a document of its own (pages and levels shifted)."""
    pages = [
        Page(p.number, max(p.start, start) - start, min(p.end, end) - start, p.needs_ocr)
        for p in doc.pages
        if p.end > start and p.start < end
    ]
    levels = {k - start: v for k, v in doc.line_levels.items() if start <= k < end}
    return replace(doc, text=doc.text[start:end], pages=pages, line_levels=levels)


def _part_ii_offset(doc: Document) -> int | None:
    comp, where = _comparable_index(doc.text)
    i = comp.find(comparable(PART_II))
    if i < 0:
        return None
    # back to the start of the heading's line
    return doc.text.rfind("\n", 0, where[i]) + 1


def _split_001(doc: Document, gold: Gold, part: str) -> tuple[Document, Gold] | None:
    cut = _part_ii_offset(doc)
    if cut is None:
        return None
    spans = locate_gold(doc, gold)
    heads = [g for g in gold.cases]
    # gold cases in order; those located before the cut are part I
    comp_cases = []
    comp, where = _comparable_index(doc.text)
    cursor = 0
    for g in heads:
        key = comparable(g.heading)[:40]
        s = comp.find(key, cursor)
        if s < 0:
            continue
        comp_cases.append((where[s], g))
        cursor = s + len(key)
    del spans
    if part == "I":
        cases = [g for off, g in comp_cases if off < cut]
        return slice_document(doc, 0, cut), replace(gold, cases=cases)
    cases = [g for off, g in comp_cases if off >= cut]
    return slice_document(doc, cut, len(doc.text)), replace(gold, cases=cases)


def _ingest(path: Path) -> Document:
    from jirei.extract.ingest import ingest

    return ingest(path)


def _seed_docs(seeds: Path, renderings: Path | None, golds: list[Gold], heldout: bool) -> list[DevDoc]:
    out: list[DevDoc] = []
    for gold in golds:
        stem = Path(gold.doc).stem
        prefix = stem[:3]
        if not gold.doc.endswith(".txt") or not (seeds / gold.doc).is_file():
            continue
        files = [("text", seeds / gold.doc, "seed text")]
        if renderings and renderings.is_dir():
            for pdf in sorted(renderings.glob(f"{stem}.*.pdf")):
                files.append((pdf.name[len(stem) + 1 : -4], pdf, "rendered"))
        for template, path, kind in files:
            if prefix == "001":
                split = _split_001(_ingest(path), gold, "II" if heldout else "I")
                if split is None:
                    continue
                doc, g = split
                name = f"{path.name} (part {'II' if heldout else 'I'})"
            elif (prefix in HELDOUT_SEEDS) == heldout:
                doc, g, name = _ingest(path), gold, path.name
            else:
                continue
            out.append(DevDoc(name, prefix, template, doc, g, kind))
    return out


def _layout_docs(layouts: Path | None, heldout: bool) -> list[DevDoc]:
    """Seed cases re-typeset in report layouts (`scripts/render_layouts.py`): `<source>.<template>.pdf`
    with its gold `<source>.<template>.json`; sources named `heldout-*` are held out."""
    out: list[DevDoc] = []
    if layouts is None or not Path(layouts).is_dir():
        return out
    for gold_path in sorted(Path(layouts).glob("*.json")):
        data = json.loads(gold_path.read_text(encoding="utf-8"))
        name = gold_path.stem.split(".")[0]  # the case set: train-001-partI, heldout-003, …
        source = str(data.get("source") or name)
        # held out when its case set is named so or its gold says so: either is enough
        is_heldout = name.startswith("heldout") or data.get("split") == "heldout"
        pdf = gold_path.with_suffix(".pdf")
        if is_heldout != heldout or not pdf.is_file():
            continue
        gold = load_gold(gold_path)
        template = gold_path.stem.split(".", 1)[1] if "." in gold_path.stem else "layout"
        prefix = re.search(r"\d{3}", source)
        out.append(DevDoc(pdf.name, prefix.group(0) if prefix else source, template, _ingest(pdf), gold,
                          "layout"))
    return out


def development_documents(
    seeds: Path, pdfs: Path | None, renderings: Path | None, gold_dir: Path, synthetic: bool = True,
    layouts: Path | None = None,
) -> list[DevDoc]:
    """Every document the segmenter may learn from, with its gold (held-out parts excluded)."""
    golds = load_gold_dir(gold_dir)
    docs = _seed_docs(Path(seeds), renderings, golds, heldout=False)
    docs += _layout_docs(layouts, heldout=False)
    if synthetic:
        base = next((d for d in docs if d.source == "001" and d.template == "text"), None)
        if base is not None:
            docs += [DevDoc(f"synthetic {name} (001 part I)", "001", f"synth-{name}", d, g, "synthetic")
                     for name, d, g in synthetic_documents(base.doc, base.gold, locate_gold(base.doc, base.gold))]
    real = load_gold_dir(Path(gold_dir) / "pdfs") if (Path(gold_dir) / "pdfs").is_dir() else []
    for gold in golds + real:
        if gold.doc.endswith(".pdf") and pdfs is not None and (Path(pdfs) / gold.doc).is_file():
            path = Path(pdfs) / gold.doc
            pdf = _ingest(path)
            docs.append(DevDoc(path.name, Path(gold.doc).stem, "real", pdf, gold, "real PDF"))
            docs.append(DevDoc(f"{path.name} as text", Path(gold.doc).stem, "real-text", as_text(pdf), gold,
                               "real text"))
            docs.append(DevDoc(f"{path.name} as paged text", Path(gold.doc).stem, "real-paged-text",
                               as_paged_text(pdf), gold, "real paged text"))
            docs.append(DevDoc(f"{path.name} as markdown", Path(gold.doc).stem, "real-markdown",
                               as_paged_text(pdf, headings=True), gold, "real paged text"))
            docs.append(DevDoc(f"{path.name} as unpaged markdown", Path(gold.doc).stem, "real-unpaged-markdown",
                               as_paged_text(pdf, headings=True, breaks=False), gold, "real markdown"))
    return docs


def as_text(doc: Document) -> Document:
    """A real PDF's text as a plain-text report (no pages, no typography): how a newsletter or a
    report exported or pasted as text reaches Jirei."""
    return replace(doc, kind="text", name=Path(doc.name).stem + ".txt", pages=[], line_levels={}, page_boxes=[])


def as_paged_text(doc: Document, headings: bool = False, breaks: bool = True) -> Document:
    """A real PDF's text as a converter to markdown writes it: its pages' text with a `---` line
    between pages and no typography, read back as the text reader reads such a file. `headings`:
    the lines the PDF's typography makes headings carry markdown marks (`#` for level 1 … `####`),
    as converters that read font sizes write them. `breaks` False: pages joined by a blank line
    only (a converter that drops page breaks)."""
    parts = []
    for p in doc.pages:
        lines, at = [], p.start
        for line in doc.text[p.start : p.end].split("\n"):
            level = doc.line_levels.get(at) if headings and line.strip() else None
            lines.append("#" * min(level, 4) + " " + line if level else line)
            at += len(line) + 1
        parts.append("\n".join(lines).strip("\n"))
    text = ("\n\n---\n\n" if breaks else "\n\n").join(parts)
    return replace(doc, kind="text", name=Path(doc.name).stem + ".md", text=text, pages=text_pages(text),
                   line_levels={}, page_boxes=[])


def heldout_documents(seeds: Path, renderings: Path | None, gold_dir: Path, layouts: Path | None = None) -> list[DevDoc]:
    return _seed_docs(Path(seeds), renderings, load_gold_dir(gold_dir), heldout=True) + _layout_docs(layouts, True)


def training_sequences(docs: list[DevDoc]):
    seqs = []
    for d in docs:
        out, feats, _, _ = document_features(d.doc)
        seqs.append((feats, gold_labels(out, locate_gold(d.doc, d.gold))))
    return seqs


def train_segmenter(docs: list[DevDoc], path: Path) -> dict:
    """Fit the CRF on `docs`, write it to `path`; returns the card entry (training docs' sha256)."""
    docs = [d for d in docs if d.trains]
    for d in docs:  # the held-out rule, enforced where the model is fitted
        if "heldout" in d.name or "part II" in d.name or d.source in ("003", "004"):
            raise ValueError(f"{d.name}: held-out document in the segmenter's training data")
    seqs = training_sequences(docs)
    path.parent.mkdir(parents=True, exist_ok=True)
    train(seqs, path)
    return {
        "model": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "algorithm": "linear-chain CRF (crfsuite, L-BFGS)",
        "params": DEFAULT_PARAMS,
        "labels": label_counts([y for _, y in seqs]),
        "python_crfsuite": getattr(pycrfsuite, "__version__", "0.9.12"),
        "training_documents": [
            {"name": d.name, "doc_sha256": d.doc.doc_id, "source": d.source, "template": d.template,
             "cases": len(d.gold.cases)}
            for d in docs
        ],
        "heldout": "seed 001 part II, 003, 004 and their renderings are never trained on",
    }


def page_baseline(doc: Document) -> list[Case]:
    """One entry per page (the whole text for a document without pages)."""
    pages = doc.pages or [Page(1, 0, len(doc.text))]
    cases = []
    for p in pages:
        text = doc.text[p.start : p.end]
        if not text.strip():
            continue
        first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
        cases.append(Case(doc.name, doc.doc_id, len(cases) + 1, first[:60], text, (p.start, p.end),
                          p.number if doc.pages else None, [], "page"))
    return cases


@dataclass
class CVRow:
    doc: DevDoc
    crf: SegmentationScore
    page: SegmentationScore
    rules: SegmentationScore


def _group_out(left: DevDoc, other: DevDoc) -> bool:
    """Is `other` kept out of training when `left` is evaluated?"""
    same_template = left.template == other.template and left.template not in ("text", "real")
    return other.source == left.source or same_template


def score_heldout(docs: list[DevDoc], model: Path) -> list[CVRow]:
    seg = Segmenter(model)
    return [
        CVRow(d, score_segmentation(with_table_rows(d.doc, segment_crf(d.doc, seg)), d.gold, doc_name=d.name),
              score_segmentation(page_baseline(d.doc), d.gold, doc_name=d.name),
              score_segmentation(with_table_rows(d.doc, segment_rules(d.doc)), d.gold, doc_name=d.name))
        for d in docs
    ]


def micro(scores: list[SegmentationScore]) -> dict:
    pred = sum(s.predicted for s in scores)
    gold = sum(s.gold for s in scores)
    matched = sum(s.matched for s in scores)
    ends = sum(s.ends_included for s in scores)
    p = matched / pred if pred else 1.0
    r = matched / gold if gold else 1.0
    return {"P": p, "R": r, "F1": 2 * p * r / (p + r) if p + r else 0.0, "ends": ends / matched if matched else 1.0}


def format_cv_table(rows: list[CVRow], title: str, routes: dict | None = None) -> str:
    head = (f"{'document':<46} {'kind':<10} {'gold':>4} | {'CRF P':>6} {'R':>5} {'F1':>5} {'ends':>5} | "
            f"{'page F1':>7} | {'rules F1':>8} {'ends':>5}")
    lines = [title, head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.doc.name[:46]:<46} {r.doc.kind[:10]:<10} {r.crf.gold:>4} | {r.crf.precision:>6.3f} {r.crf.recall:>5.3f} "
            f"{r.crf.f1:>5.3f} {r.crf.ends_share:>5.3f} | {r.page.f1:>7.3f} | {r.rules.f1:>8.3f} {r.rules.ends_share:>5.3f}"
        )
    lines.append("-" * len(head))
    kinds = sorted({r.doc.kind for r in rows})
    for label, subset in [(f"all ({len(rows)} documents)", rows)] + [
        (k, [r for r in rows if r.doc.kind == k]) for k in kinds
    ]:
        c, p, rl = micro([r.crf for r in subset]), micro([r.page for r in subset]), micro([r.rules for r in subset])
        lines.append(
            f"{('overall: ' + label)[:57]:<57} {'':>4} | {c['P']:>6.3f} {c['R']:>5.3f} {c['F1']:>5.3f} {c['ends']:>5.3f} | "
            f"{p['F1']:>7.3f} | {rl['F1']:>8.3f} {rl['ends']:>5.3f}"
        )
    if routes:
        chosen = micro(routed_rows(rows, routes))
        # what each route decides in effect: a CRF route chosen on fewer than two documents of its
        # medium leaves the rule sets deciding (`route_path`)
        how = ", ".join(
            f"{kind}: {route['path']}" + ("" if route_path(route, "/" not in kind) == route["path"] else " (too few documents: rules)")
            for kind, route in routes.items() if not kind.startswith("declared"))
        lines.append(
            f"{'overall, as segment() routes':<57} {'':>4} | "
            f"{chosen['P']:>6.3f} {chosen['R']:>5.3f} {chosen['F1']:>5.3f} {chosen['ends']:>5.3f} |  ({how})"
        )
    return "\n".join(lines)


def rows_as_json(rows: list[CVRow]) -> list[dict]:
    return [
        {"doc": r.doc.name, "kind": r.doc.kind, "source": r.doc.source, "template": r.doc.template,
         "crf": r.crf.as_dict(), "page": r.page.as_dict(), "rules": r.rules.as_dict()}
        for r in rows
    ]


def write_card(card: dict, models: Path) -> Path:
    path = models / "segmenter_card.json"
    path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


__all__ = [
    "DevDoc", "CVRow", "development_documents", "heldout_documents", "train_segmenter", "cross_validate",
    "score_heldout", "format_cv_table", "page_baseline", "locate_gold", "micro", "rows_as_json", "write_card",
]


# ---------------------------------------------------------------------------------------------
# Which path decides, per document kind, from the cross-validation evidence

def document_kind(doc: Document) -> str:
    """The rule set that claims the document: a declared layout's name, or `fallback`."""
    return choose_rule_set(split_lines(doc)).name


def route_key(doc: Document) -> str:
    """The kind of document a route is chosen for: the rule set that claims it, and `/text` for
    what is not a PDF (no typography: the evidence of PDFs does not carry over), `/paged` for a text
    file marking its pages (`jirei.extract.segment.route_medium`)."""
    return document_kind(doc) + route_medium(doc)


def route_for(routes: dict[str, dict], doc: Document) -> str:
    """The path `segment()` takes for `doc` under `routes`: "crf" or "rules" (the segmenter's own
    lookup, `jirei.extract.segment.rules_decide`)."""
    return "rules" if rules_decide(routes, doc, document_kind(doc)) else "crf"


def choose_routes(rows: list[CVRow]) -> dict[str, dict]:
    """Per document kind (the rule set that claims it; `declared` pools every declared layout),
    the path with the better pooled left-out F1: the CRF or the rule sets (ties go to the CRF)."""
    keys = {id(r): route_key(r.doc.doc) for r in rows}
    groups: dict[str, list[CVRow]] = {}
    for r in rows:
        key = keys[id(r)]
        groups.setdefault(key, []).append(r)
        kind, _, medium = key.partition("/")
        if kind != "fallback":
            groups.setdefault("declared" + (f"/{medium}" if medium else ""), []).append(r)
    routes: dict[str, dict] = {}
    for kind, subset in sorted(groups.items()):
        crf, rules = micro([r.crf for r in subset]), micro([r.rules for r in subset])
        routes[kind] = {
            "path": "crf" if crf["F1"] >= rules["F1"] else "rules",
            "crf_f1": round(crf["F1"], 4), "rules_f1": round(rules["F1"], 4),
            "documents": [r.doc.name for r in subset],
        }
    return routes


def evaluated(docs: list[DevDoc]) -> list[DevDoc]:
    """Documents scored in cross-validation: all but the synthetic layouts, which only train."""
    return [d for d in docs if d.kind != "synthetic"]


def cross_validate(docs: list[DevDoc], work: Path) -> list[CVRow]:
    """Leave one document out (with its group); the CRF is fitted on the rest each time. Synthetic
    documents only enter training; every other document is scored."""
    seqs = training_sequences(docs)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, d in enumerate(docs):
        if d.kind == "synthetic":
            continue
        train_idx = [j for j, o in enumerate(docs) if j != i and o.trains and not _group_out(d, o)]
        model = work / f"cv-{i}.crfsuite"
        train([seqs[j] for j in train_idx], model)
        cases = with_table_rows(d.doc, segment_crf(d.doc, Segmenter(model)))
        rows.append(CVRow(
            d,
            score_segmentation(cases, d.gold, doc_name=d.name),
            score_segmentation(page_baseline(d.doc), d.gold, doc_name=d.name),
            score_segmentation(with_table_rows(d.doc, segment_rules(d.doc)), d.gold, doc_name=d.name),
        ))
    return rows


def routed_rows(rows: list[CVRow], routes: dict[str, dict]) -> list[SegmentationScore]:
    """What `segment()` gives each left-out document once the routes are applied."""
    return [r.crf if route_for(routes, r.doc.doc) == "crf" else r.rules for r in rows]


# ---------------------------------------------------------------------------------------------
# Commands: `jirei train-segmenter` and `jirei evaluate segmentation --cv document`

def _load_all(args) -> tuple[list[DevDoc], list[DevDoc]]:
    seeds = Path(args.seeds)
    pdfs = Path(args.pdfs) if args.pdfs else None
    renderings = Path(args.renderings) if args.renderings else None
    gold = Path(args.gold)
    layouts = Path(args.layouts) if getattr(args, "layouts", None) else None
    return (development_documents(seeds, pdfs, renderings, gold, layouts=layouts),
            heldout_documents(seeds, renderings, gold, layouts))


def fit_with_evidence(docs: list[DevDoc], models: Path, work: Path) -> tuple[dict, list[CVRow]]:
    """Cross-validate, choose the routes, fit on every development document, write model + card."""
    rows = cross_validate(docs, work)
    routes = choose_routes(rows)
    model = models / "segmenter.crfsuite"
    card = train_segmenter(docs, model)
    card["routes"] = routes
    card["cv"] = {
        "crf": micro([r.crf for r in rows]), "page": micro([r.page for r in rows]),
        "rules": micro([r.rules for r in rows]), "routed": micro(routed_rows(rows, routes)),
        "by_document": {r.doc.name: {"crf_f1": round(r.crf.f1, 4), "page_f1": round(r.page.f1, 4),
                                     "rules_f1": round(r.rules.f1, 4)} for r in rows},
    }
    write_card(card, models)
    forget_segmenters()
    return card, rows


def _documents_or_status(args):
    """(development documents, held-out documents), or the exit status after a one-line error."""
    try:
        docs, heldout = _load_all(args)
    except IngestError as exc:
        print(f"jirei: error: {exc}", file=sys.stderr)
        return 1
    if not docs:
        print("jirei: error: no development documents found (seeds, PDFs, gold)", file=sys.stderr)
        return 2
    return docs, heldout


def run_train_segmenter(args) -> int:
    loaded = _documents_or_status(args)
    if isinstance(loaded, int):
        return loaded
    docs, _ = loaded
    with tempfile.TemporaryDirectory(prefix="jirei-seg-cv-") as tmp:
        card, rows = fit_with_evidence(docs, Path(args.models), Path(tmp))
    print(format_cv_table(rows, "leave-one-document-out (development documents)", card["routes"]))
    print(f"\nwrote {Path(args.models) / 'segmenter.crfsuite'} and segmenter_card.json "
          f"({sum(d.trains for d in docs)} training documents; routes: "
          + ", ".join(f"{k} -> {v['path']}" for k, v in card["routes"].items()) + ")")
    return 0


def run_cv_document(args) -> int:
    """`jirei evaluate segmentation --cv document`: the left-out figures and the held-out seeds."""
    loaded = _documents_or_status(args)
    if isinstance(loaded, int):
        return loaded
    docs, heldout = loaded
    with tempfile.TemporaryDirectory(prefix="jirei-seg-cv-") as tmp:
        card, rows = fit_with_evidence(docs, Path(tmp), Path(tmp) / "cv")
        routes = card["routes"]
        held = score_heldout_routed(heldout, Path(tmp) / "segmenter.crfsuite")
    if args.json:
        print(json.dumps({"cv": rows_as_json(rows), "routes": routes, "heldout": rows_as_json(held)},
                          ensure_ascii=False, indent=2))
        return 0
    print(format_cv_table(rows, "leave-one-document-out: each document scored by a CRF fitted on the others "
                                "(its source and rendering template left out too)", routes))
    print()
    print(format_cv_table(held, "held-out seeds (001 part II, 003, 004; text and renderings), CRF fitted on "
                                "every development document", routes))
    return 0


def score_heldout_routed(docs: list[DevDoc], model: Path) -> list[CVRow]:
    return score_heldout(docs, model)


def cv_document_figures(seeds: Path, pdfs: Path | None, renderings: Path | None, layouts: Path | None,
                        gold: Path) -> tuple[dict[str, float], str]:
    """The `--cv document` run as dotted figures for `jirei evaluate all` (`segmentation.cv.*`,
    `segmentation.cv_heldout.*`) and its printed tables."""
    docs = development_documents(seeds, pdfs, renderings, gold, layouts=layouts)
    heldout = heldout_documents(seeds, renderings, gold, layouts)
    with tempfile.TemporaryDirectory(prefix="jirei-seg-cv-") as tmp:
        card, rows = fit_with_evidence(docs, Path(tmp), Path(tmp) / "cv")
        held = score_heldout(heldout, Path(tmp) / "segmenter.crfsuite")
    routes = card["routes"]
    figures: dict[str, float] = {}
    for part, part_rows in (("cv", rows), ("cv_heldout", held)):
        systems = {"crf": [r.crf for r in part_rows], "page": [r.page for r in part_rows],
                   "rules": [r.rules for r in part_rows], "routed": routed_rows(part_rows, routes)}
        for system, scores in systems.items():
            m = micro(scores)
            figures[f"segmentation.{part}.{system}.f1"] = round(m["F1"], 4)
            figures[f"segmentation.{part}.{system}.ends_included"] = round(m["ends"], 4)
    tables = (format_cv_table(rows, "segmentation, leave one document out", routes) + "\n\n"
              + format_cv_table(held, "segmentation, held-out seeds", routes))
    return figures, tables

"""Reviewed cases of a case store as training rows and as held-out evaluation cases.

The held-out rule (`case_split`, built on `held_out_document`)
- A document with gold in corpus/ (its sha256 is a label file's `sha256`, which is the stored
  `doc_id`) keeps the corpus split case by case: stored case `ordinal` n is gold row n when the
  gold heading lies in its text; seed 001 part I and the real PDFs' labelled cases
  (corpus/labels/pdfs/) are "train", 001 part II, 003 and 004 "test".
  A case of such a document that matches no gold row is used for neither.
- Every other document is held out, whole, when `int(doc_id[:8], 16) % HELD_OUT_MODULUS == 0`
  (one in five). It depends on the document's bytes only, so a document's side never changes
  as documents arrive, whatever their order, and every case of a document is on one side.

Text guard (on top of the rule; it only ever removes training rows)
Reports reprint each other's cases, so the same text can arrive in a document on the training
side. A stored case whose text overlaps a held-out text (a gold "test" case, or any case,
reviewed or not, of a held-out document in the store) is never trained on; one that overlaps a
gold case of a document without gold is a copy of gold (held out, or trained on already as
gold) and is neither trained on nor added to the evaluation set. Overlap: at least
`OVERLAP_MIN` of the shorter text's character `SHINGLE`-grams, compared as
`jirei.gold.comparable` text (white space and layout marks ignored, so a PDF
rendering of a report matches its text). On the seeds, a case and its gold overlap 1.0 and
two different cases at most 0.08.

What is trained on (`select_store_cases`, `training_rows_with_store`)
- Reviewed cases (`review_status == "reviewed"`) of current documents, on the training side,
  not flagged `not_a_case`, whose labels came from a reviewer (a value source starting with
  "reviewer:"). The pillar is used when the pillar is the reviewer's, the action items when all
  of them are, the theme when it is the reviewer's and belongs to the row's pillar. A case with
  neither a reviewer pillar nor reviewer items adds nothing: a label the reviewer left as the
  model gave it is not a correction.
- A case flagged `not_a_case` is never used, for training or evaluation. The other
  segmentation marks (merge_previous, split_here) do not exclude a case: its labels still
  describe the text the reviewer read.
- New cases become rows of origin "correction" (key = case_id), scored in CV like the gold
  cases, after the gold cases and in case_id order.
- A reviewed case of a gold *training* case (same doc_id and ordinal): the reviewer wins. The
  gold row keeps its key, title and gold text, and takes the reviewer's labels (fields the
  reviewer did not set keep the gold's; a gold theme of another pillar is dropped). It counts
  as a correction only when a label changes; one that agrees with the gold changes nothing.
  The reviewer's label is the later, case-by-case judgement, and the seed split is untouched
  either way: only labels of training cases change, never which cases are trained on.

`heldout_reviewed_cases` gives the reviewed cases of held-out documents (not copies of gold)
as `GoldLabelledCase`s for `evaluation.classification` (`extra_cases`). Their labels are the
reviewed state of the case: the reviewer's where the reviewer set one, else the label the
reviewer accepted. Taking only reviewer-set labels would keep just the cases a reviewer had to
correct, i.e. the model's errors, and bias the figures down.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jirei import paths

from .features import case_input
from .taxonomy import Taxonomy
from .training import (CORRECTION_ORIGIN, TEST_SPLIT, TRAIN_SPLIT, GoldLabelledCase, SplitError, TrainingRow,
                       _read_json, case_rows, gold_cases, label_files, partner_rows, training_cases, wording_rows)

#: One document in HELD_OUT_MODULUS is held out (20 %), by the first 32 bits of its sha256.
HELD_OUT_MODULUS = 5
#: Split of a stored case that is used neither for training nor for evaluation.
EXCLUDED = "excluded"
REVIEWER_PREFIX = "reviewer:"
NOT_A_CASE = "not_a_case"
SHINGLE = 8
OVERLAP_MIN = 0.5

HELD_OUT_RULE = (f"documents with gold in corpus/: the corpus split per case; every other document held out "
                 f"when int(doc_id[:8], 16) % {HELD_OUT_MODULUS} == 0; no case whose text overlaps a held-out "
                 f"text is trained on")


# --- the rule ---------------------------------------------------------------------------

def held_out_document(doc_id: str) -> bool:
    """A document without gold is held out when the first 8 hex digits of its sha256, as a
    number, are divisible by HELD_OUT_MODULUS: a function of its bytes alone."""
    return int(doc_id[:8], 16) % HELD_OUT_MODULUS == 0


def case_split(doc_id: str, ordinal: int, gold_splits: Mapping[str, Mapping[int, str]]) -> str:
    """The split of stored case `ordinal` of document `doc_id`: "train", "test" or "excluded".

    `gold_splits`: doc_id → {ordinal: split} of the documents with gold in corpus/, holding only
    the ordinals whose stored case matched its gold row. Pure: the answer for a document never
    depends on which other documents exist."""
    if doc_id in gold_splits:
        return gold_splits[doc_id].get(ordinal, EXCLUDED)
    return TEST_SPLIT if held_out_document(doc_id) else TRAIN_SPLIT


# --- text overlap -----------------------------------------------------------------------

def shingles(text: str) -> frozenset[str]:
    from jirei.gold import comparable

    t = comparable(text)
    if len(t) <= SHINGLE:
        return frozenset([t]) if t else frozenset()
    return frozenset(t[i:i + SHINGLE] for i in range(len(t) - SHINGLE + 1))


class TextOverlap:
    """Texts by key, and which of them a new text overlaps (shared shingles / shorter text's)."""

    def __init__(self) -> None:
        self._index: dict[str, list[str]] = defaultdict(list)
        self._sizes: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._sizes)

    def add(self, key: str, text: str) -> None:
        grams = shingles(text)
        if not grams or key in self._sizes:
            return
        self._sizes[key] = len(grams)
        for g in grams:
            self._index[g].append(key)

    def overlapping(self, text: str) -> list[str]:
        grams = shingles(text)
        shared: Counter[str] = Counter()
        for g in grams:
            shared.update(self._index.get(g, ()))
        return sorted(k for k, n in shared.items() if n >= OVERLAP_MIN * min(len(grams), self._sizes[k]))


# --- gold -------------------------------------------------------------------------------

@dataclass
class Gold:
    """The labelled seed cases by document id, and their texts by split."""

    by_doc: dict[str, dict[int, GoldLabelledCase]]
    texts: dict[str, TextOverlap]  # split → gold texts

    @classmethod
    def load(cls, seeds: Path, labels_dir: Path = paths.LABEL_GOLD) -> "Gold":
        by_doc: dict[str, dict[int, GoldLabelledCase]] = {}
        texts = {TRAIN_SPLIT: TextOverlap(), TEST_SPLIT: TextOverlap()}
        for path in label_files(labels_dir):
            doc_id = _read_json(path)["sha256"]
            cases = gold_cases(path.stem, seeds, labels_dir)
            by_doc[doc_id] = {c.ordinal: c for c in cases}
            for c in cases:
                texts[c.split].add(gold_key(c), case_input(c.heading, c.text))
        return cls(by_doc, texts)

    def match(self, record: dict) -> GoldLabelledCase | None:
        """The gold row of a stored case of a gold document: same ordinal, gold heading in its text."""
        from jirei.gold import comparable

        g = self.by_doc.get(record["doc_id"], {}).get(record["ordinal"])
        if g is None or comparable(g.heading) not in comparable(case_input(record["title"], record["text"])):
            return None
        return g

    def splits(self, records: list[dict]) -> dict[str, dict[int, str]]:
        """`case_split`'s gold argument for these stored cases (matched ordinals only)."""
        out: dict[str, dict[int, str]] = {d: {} for d in self.by_doc}
        for r in records:
            g = self.match(r) if r["doc_id"] in self.by_doc else None
            if g is not None:
                out[r["doc_id"]][r["ordinal"]] = g.split
        return out


def gold_key(case: GoldLabelledCase) -> str:
    """The training-row key of a gold case (as `training.case_rows` writes it)."""
    return f"{Path(case.doc).stem}#{case.ordinal}"


# --- labels of a stored case ------------------------------------------------------------

@dataclass(frozen=True)
class StoreLabels:
    pillar: str | None
    theme: str | None
    items: tuple[int, ...] | None  # None: no item label
    reviewer_fields: tuple[str, ...]  # fields whose values a reviewer set
    reviewers: tuple[str, ...]


def is_reviewer_source(source: str | None) -> bool:
    """`reviewer:<name>`; also a bare `reviewer`, which the store records when a reviewer's value
    is written back without a source (an undo to it)."""
    return bool(source) and (source.startswith(REVIEWER_PREFIX) or source == REVIEWER_PREFIX[:-1])


def _reviewer_set(record: dict, name: str) -> bool:
    sources = (record.get("sources") or {}).get(name) or []
    return bool(sources) and all(is_reviewer_source(s) for s in sources)


def _label(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("label")
    return str(value) if value else None


def _items(values: Any) -> tuple[int, ...]:
    out: list[int] = []
    for v in values or []:
        n = v.get("item") if isinstance(v, dict) else v
        if n is not None and int(n) not in out:
            out.append(int(n))
    return tuple(out)


class InvalidLabel(ValueError):
    pass


def case_labels(record: dict, taxonomy: Taxonomy, reviewer_only: bool) -> StoreLabels:
    """The labels of a stored case, checked against the scheme: with `reviewer_only`, only
    values a reviewer set (the training signal); otherwise the case's labels whatever their source."""
    fields = tuple(f for f in ("pillar", "theme", "action_items") if _reviewer_set(record, f))
    use = (lambda f: f in fields) if reviewer_only else (lambda f: True)
    pillar = _label(record.get("pillar")) if use("pillar") else None
    theme = _label(record.get("theme")) if use("theme") else None
    items = _items(record.get("action_items")) if use("action_items") else ()
    if pillar is not None and pillar not in taxonomy.label_set("pillar").ids:
        raise InvalidLabel(f"pillar {pillar!r}")
    if theme is not None and theme not in taxonomy.label_set("theme").ids:
        raise InvalidLabel(f"theme {theme!r}")
    bad = [n for n in items if n not in taxonomy.label_set("action_item").numbers]
    if bad:
        raise InvalidLabel(f"action items {bad}")
    reviewers = sorted({s[len(REVIEWER_PREFIX):] for f in fields for s in record["sources"][f]
                        if s.startswith(REVIEWER_PREFIX)})
    return StoreLabels(pillar, theme, items or None, fields, tuple(reviewers))


def _theme_of(taxonomy: Taxonomy, theme: str | None, pillar: str | None) -> str | None:
    """The theme if it belongs to the pillar (themes are per pillar), else None."""
    if theme is None or pillar is None:
        return None
    return theme if taxonomy.label_set("theme").by_id(theme).get("pillar") == pillar else None


def segmentation_mark(store, record: dict) -> Any:
    """A reviewer's segmentation mark on a case: the record's `segmentation` where the store
    gives it, else the last change of that field in the case's history (undo included)."""
    if "segmentation" in record:
        return record["segmentation"]
    if "segmentation" not in (record.get("sources") or {}):
        return None
    changes = [h for h in store.history(record["case_id"]) if h["field"] == "segmentation"]
    return changes[-1]["new"] if changes else None


def _not_a_case(store, record: dict) -> bool:
    mark = segmentation_mark(store, record)
    return isinstance(mark, dict) and mark.get("flag") == NOT_A_CASE


# --- selection --------------------------------------------------------------------------

@dataclass(frozen=True)
class StoreLabelledCase(GoldLabelledCase):
    """A reviewed held-out case of a case store, in the shape of a gold case (split "test",
    source "store"), with where it came from."""

    case_id: str = ""
    doc_id: str = ""
    reviewer_fields: tuple[str, ...] = ()  # labels a reviewer set; the others the reviewer accepted
    reviewers: tuple[str, ...] = ()


#: Why a reviewed case is not trained on (keys of `StoreSelection.skipped`).
SKIP_REASONS = {
    "held_out": "held out (seed test case or held-out document)",
    "held_out_copy": "copies of held-out text",
    "gold_copy": "copies of seed training cases",
    "not_a_case": "flagged not_a_case",
    "unmatched_gold": "seed document cases not matching their gold row",
    "no_reviewer_label": "no reviewer label",
    "agrees_with_gold": "agree with the seed gold",
    "invalid_label": "labels outside the scheme",
    "duplicate": "duplicates of another correction",
}
HELD_OUT_REASONS = ("held_out", "held_out_copy")


@dataclass
class StoreSelection:
    """What a case store adds to the training data, and its reviewed held-out cases."""

    name: str
    documents: int
    held_out_documents: list[str]  # doc ids held out by the rule (no gold; hash)
    reviewed: int
    corrections: list[TrainingRow]  # new rows (origin "correction"), case_id order
    overrides: dict[str, TrainingRow]  # gold training key → the row with the reviewer's labels
    used_case_ids: list[str]  # store case ids behind corrections and overrides, sorted
    held_out: list[StoreLabelledCase]  # reviewed cases of held-out documents, for evaluation
    skipped: Counter = field(default_factory=Counter)  # reason → reviewed cases
    invalid: list[str] = field(default_factory=list)  # "case_id: problem"
    held_out_case_ids: set[str] = field(default_factory=set, repr=False)  # every case on the held-out side
    gold: Gold | None = field(default=None, repr=False)
    held_out_texts: TextOverlap | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        """Corrections used: store cases that changed or added training rows."""
        return len(self.used_case_ids)

    @property
    def held_out_reviewed(self) -> int:
        return sum(self.skipped[r] for r in HELD_OUT_REASONS)

    def sha256(self) -> str:
        return hashlib.sha256("\n".join(self.used_case_ids).encode("utf-8")).hexdigest()

    def card(self) -> dict[str, Any]:
        """`training_data` entries of the model card."""
        return {
            "corrections": self.count,
            "store": {
                "name": self.name,
                "sha256": self.sha256(),
                "held_out_documents": len(self.held_out_documents),
                "documents": self.documents,
                "reviewed": self.reviewed,
                "new_cases": len(self.corrections),
                "seed_case_corrections": len(self.overrides),
                "held_out_reviewed": self.held_out_reviewed,
                "held_out_evaluation_cases": len(self.held_out),
                "not_used": {k: v for k, v in sorted(self.skipped.items())},
                "held_out_rule": HELD_OUT_RULE,
            },
        }

    def summary(self) -> list[str]:
        """What `jirei train --db` prints about the store."""
        others = ", ".join(f"{n} {SKIP_REASONS[k]}" for k, n in sorted(self.skipped.items())
                           if k not in HELD_OUT_REASONS) or "none"
        return [
            f"case store {self.name}: {self.count} corrections added ({len(self.corrections)} new cases, "
            f"{len(self.overrides)} seed training cases relabelled) from {self.reviewed} reviewed cases",
            f"  {self.held_out_reviewed} reviewed cases held out: {self.skipped['held_out']} in held-out documents "
            f"or seed test cases, {self.skipped['held_out_copy']} copies of held-out text "
            f"({len(self.held_out_documents)} of {self.documents} documents held out; {len(self.held_out)} "
            f"reviewed cases of them join the held-out evaluation)",
            f"  not used otherwise: {others}",
        ]


def select_store_cases(store, taxonomy: Taxonomy, seeds: Path | None = None,
                       labels_dir: Path = paths.LABEL_GOLD) -> StoreSelection:
    """Read the store's current documents and reviewed cases and apply the held-out rule."""
    from jirei.store import CaseQuery

    seeds = seeds or paths.seeds_dir()
    gold = Gold.load(seeds, labels_dir)
    docs = [d for d in store.documents() if d["status"] == "done" and d["current"]]
    held_docs = sorted(d["doc_id"] for d in docs if d["doc_id"] not in gold.by_doc and held_out_document(d["doc_id"]))

    # Every case of a held-out document, reviewed or not: no copy of its text may be trained on.
    held_texts = TextOverlap()
    held_ids: set[str] = set()
    for doc_id in held_docs:
        for r in store.query_cases(CaseQuery(doc_id=doc_id))[0]:
            if r["doc_id"] == doc_id:
                held_texts.add(r["case_id"], case_input(r["title"], r["text"]))
                held_ids.add(r["case_id"])

    reviewed = sorted(store.query_cases(CaseQuery(reviewed=True))[0], key=lambda r: r["case_id"])
    splits = gold.splits(reviewed)
    sel = StoreSelection(name=Path(store.path).name, documents=len(docs), held_out_documents=held_docs,
                         reviewed=len(reviewed), corrections=[], overrides={}, used_case_ids=[], held_out=[],
                         held_out_case_ids=held_ids, gold=gold, held_out_texts=held_texts)
    seen_texts: dict[frozenset, str] = {}
    for r in reviewed:
        split = case_split(r["doc_id"], r["ordinal"], splits)
        text = case_input(r["title"], r["text"])
        if split != TRAIN_SPLIT:
            sel.held_out_case_ids.add(r["case_id"])
        if _not_a_case(store, r):
            sel.skipped["not_a_case"] += 1
            continue
        if r["doc_id"] in gold.by_doc:  # a seed document: the corpus split
            if split == EXCLUDED:
                sel.skipped["unmatched_gold"] += 1
            elif split == TEST_SPLIT:
                sel.skipped["held_out"] += 1
            else:
                _override(sel, r, gold.match(r), taxonomy)
            continue
        if gold.texts[TEST_SPLIT].overlapping(text):
            sel.held_out_case_ids.add(r["case_id"])
            sel.skipped["held_out_copy" if split == TRAIN_SPLIT else "held_out"] += 1
            continue
        if gold.texts[TRAIN_SPLIT].overlapping(text):
            sel.skipped["gold_copy"] += 1
            continue
        if split == TEST_SPLIT:
            sel.skipped["held_out"] += 1
            case = _held_out_case(r, taxonomy, sel)
            if case is not None:
                sel.held_out.append(case)
            continue
        if held_texts.overlapping(text):
            sel.held_out_case_ids.add(r["case_id"])
            sel.skipped["held_out_copy"] += 1
            continue
        try:
            labels = case_labels(r, taxonomy, reviewer_only=True)
        except InvalidLabel as exc:
            sel.skipped["invalid_label"] += 1
            sel.invalid.append(f"{r['case_id']}: {exc}")
            continue
        if labels.pillar is None and labels.items is None:
            sel.skipped["no_reviewer_label"] += 1
            continue
        grams = shingles(text)
        if grams in seen_texts:
            sel.skipped["duplicate"] += 1
            continue
        seen_texts[grams] = r["case_id"]
        sel.corrections.append(TrainingRow(r["case_id"], CORRECTION_ORIGIN, r["title"], r["text"], labels.pillar,
                                           _theme_of(taxonomy, labels.theme, labels.pillar), labels.items or ()))
        sel.used_case_ids.append(r["case_id"])
    sel.used_case_ids.sort()
    return sel


def _override(sel: StoreSelection, record: dict, g: GoldLabelledCase, taxonomy: Taxonomy) -> None:
    """A reviewed gold training case: the reviewer's labels replace the gold's (see module doc)."""
    try:
        labels = case_labels(record, taxonomy, reviewer_only=True)
    except InvalidLabel as exc:
        sel.skipped["invalid_label"] += 1
        sel.invalid.append(f"{record['case_id']}: {exc}")
        return
    if labels.pillar is None and labels.items is None and "theme" not in labels.reviewer_fields:
        sel.skipped["no_reviewer_label"] += 1
        return
    pillar = labels.pillar or g.pillar
    theme = labels.theme if "theme" in labels.reviewer_fields else g.theme
    items = labels.items if labels.items is not None else g.items
    row = TrainingRow(gold_key(g), "case", g.heading, g.text, pillar, _theme_of(taxonomy, theme, pillar), items)
    if (row.pillar, row.theme, row.items) == (g.pillar, g.theme, g.items):
        sel.skipped["agrees_with_gold"] += 1
        return
    sel.overrides[row.key] = row
    sel.used_case_ids.append(record["case_id"])


def _held_out_case(record: dict, taxonomy: Taxonomy, sel: StoreSelection) -> StoreLabelledCase | None:
    try:
        labels = case_labels(record, taxonomy, reviewer_only=False)
    except InvalidLabel as exc:
        sel.invalid.append(f"{record['case_id']}: {exc}")
        return None
    if labels.pillar is None:
        return None
    return StoreLabelledCase(doc=record["doc"], ordinal=record["ordinal"], heading=record["title"],
                             text=record["text"], pillar=labels.pillar,
                             theme=_theme_of(taxonomy, labels.theme, labels.pillar), items=labels.items or (),
                             split=TEST_SPLIT, source="store", case_id=record["case_id"], doc_id=record["doc_id"],
                             reviewer_fields=labels.reviewer_fields, reviewers=labels.reviewers)


# --- training rows and held-out cases ---------------------------------------------------

def check_no_held_out(rows: list[TrainingRow], sel: StoreSelection) -> None:
    """Refuse rows holding a held-out store case (by id) or a held-out text (gold test cases,
    cases of held-out documents)."""
    for r in rows:
        if r.origin not in ("case", CORRECTION_ORIGIN):
            continue
        if r.key in sel.held_out_case_ids:
            raise SplitError(f"store case {r.key} is held out")
        if r.origin == CORRECTION_ORIGIN:
            hits = sel.gold.texts[TEST_SPLIT].overlapping(r.input_text) + sel.held_out_texts.overlapping(r.input_text)
            if hits:
                raise SplitError(f"store case {r.key} repeats held-out text ({', '.join(hits[:3])})")


def training_rows_with_store(taxonomy: Taxonomy, selection: StoreSelection, seeds: Path | None = None,
                             labels_dir: Path = paths.LABEL_GOLD) -> list[TrainingRow]:
    """`training.training_rows` with the store's corrections: gold cases (reviewer labels where a
    reviewer relabelled one), then the new store cases, then the scheme and partner rows."""
    seeds = seeds or paths.seeds_dir()
    gold_rows = [selection.overrides.get(r.key, r) for r in case_rows(training_cases(seeds, labels_dir))]
    rows = gold_rows + selection.corrections + wording_rows(taxonomy) + partner_rows(labels_dir)
    check_no_held_out(rows, selection)
    return rows


def heldout_reviewed_cases(store, seeds: Path | None = None, labels_dir: Path = paths.LABEL_GOLD,
                           taxonomy: Taxonomy | None = None) -> list[StoreLabelledCase]:
    """The reviewed cases of the store's held-out documents with a pillar, as held-out gold for
    `evaluation.classification` (`extra_cases`), in case_id order. Seed documents' cases are not
    among them (their gold is in the seed evaluation already), nor copies of seed cases, nor
    cases flagged not_a_case."""
    from .taxonomy import load_taxonomy

    return select_store_cases(store, taxonomy or load_taxonomy(), seeds, labels_dir).held_out

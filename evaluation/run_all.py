"""One evaluation run over every stage: segmentation, entities and classification, each beside
its baselines, scored by the same functions the individual `jirei evaluate …` commands call.

`run_all` returns an `EvaluationRun`:
- `figures`: one flat dict of dotted names -> values, taken from the stages' own JSON outputs
  (so a figure equals what `jirei evaluate <stage> --json` prints), plus the per-class
  precision/recall of Jirei's classifier;
- `timings`: wall-clock seconds per stage, model loading included;
- `details`: what the report draws (the stages' JSON outputs, confusion matrices, reliability
  bins, the most confidently wrong cases); not kept in the runs file;
- `results`: the stages' score objects, for the commands' own tables.

Figure names:
  segmentation.{precision,recall,f1,ends_included}            all documents (counts summed)
  segmentation.by_doc.<doc>.{precision,recall,f1,ends_included}
  entities.<system>.<field>.{precision,recall,f1}              system: jirei, stock_ner
  entities.<system>.by_doc.<doc>.<field>.f1
  entities.<system>.cross_document.<field>.f1                 the real PDFs, each without its rules
  entities.jirei.lead_accuracy
  classification.<system>.<part>.<metric>                      system: jirei, char_tfidf_lr, majority;
                                                               part: all, 001_part_II, 003_slides, …
  classification.jirei.per_class.pillar.<pillar>.{precision,recall,f1}
  classification.jirei.per_class.item.<n>.{precision,recall,f1}
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy

from jirei import paths
from jirei.evaluation.classification import (
    SYSTEMS,
    ClassificationReport,
    HeldOutPredictions,
    evaluate_classification_with_predictions,
)
from jirei.evaluation.entities import FIELDS, EntityScores, load_entity_gold, score_jirei, score_stock_ner
from jirei.evaluation.segmentation import SegmentationScore, load_gold_dir, score_seed_documents

#: Cases listed in the report's "most confidently wrong" section.
CONFIDENT_ERRORS = 10
#: Characters of case text shown for each of them.
EXCERPT_CHARS = 280
#: Digits kept for the per-class figures (the stages' own figures are kept as they print them).
DIGITS = 4


@dataclass
class StageResults:
    """The stages' score objects, as the individual commands hold them before printing."""

    segmentation: list[SegmentationScore]
    entities: EntityScores
    entities_baseline: EntityScores | None
    classification: ClassificationReport
    predictions: HeldOutPredictions


@dataclass
class EvaluationRun:
    run_id: str
    started_at: str  # ISO 8601, UTC
    settings: dict[str, Any]
    model_version: str
    git_commit: str | None
    figures: dict[str, float]
    timings: dict[str, float]  # stage -> seconds
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    results: StageResults | None = field(default=None, repr=False)

    def record(self) -> dict[str, Any]:
        """What the runs file keeps: everything but the details and score objects."""
        return {"run_id": self.run_id, "started_at": self.started_at, "settings": self.settings,
                "model_version": self.model_version, "git_commit": self.git_commit,
                "figures": self.figures, "timings": self.timings}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "EvaluationRun":
        return cls(run_id=record["run_id"], started_at=record["started_at"], settings=record.get("settings", {}),
                   model_version=record.get("model_version", ""), git_commit=record.get("git_commit"),
                   figures=record.get("figures", {}), timings=record.get("timings", {}))


# --- the run ----------------------------------------------------------------------------

def run_all(seeds_dir: Path | str | None = None, models_dir: Path | str = paths.MODELS, *,
            baselines: bool = True, extra_cases: list | None = None,
            segmentation_gold: Path | str = paths.SEGMENTATION_GOLD, learning_curve: bool = False) -> EvaluationRun:
    """Score every stage against the gold in corpus/ and return the run (nothing is written).

    `baselines=False` skips the stock NER baseline of the entities stage (the slowest part of
    the run); the classification baselines are always fitted, as `jirei evaluate
    classification` does.

    `extra_cases`: further held-out classification cases (`classify.training.GoldLabelledCase`),
    e.g. the reviewed held-out cases of a case store. They are scored as their own part,
    "case store" (figures `classification.<system>.case_store.*`), so the seed figures ("all"
    and per document) stay those of `jirei evaluate classification` and comparable across runs.

    `learning_curve`: also the classifiers' learning curve (CV on the training data only,
    `evaluation.classification.learning_curve`), kept in the details and shown in the report.
    """
    seeds = Path(seeds_dir) if seeds_dir else paths.seeds_dir()
    started = datetime.now(timezone.utc)
    timings: dict[str, float] = {}

    with _timed(timings, "segmentation"):
        segmentation = score_seed_documents(seeds, load_gold_dir(segmentation_gold))
    entity_gold = load_entity_gold()
    with _timed(timings, "entities.jirei"):
        entities = score_jirei(seeds, entity_gold)
    entities_baseline = None
    if baselines:
        with _timed(timings, "entities.stock_ner"):
            entities_baseline = score_stock_ner(seeds, entity_gold)
    with _timed(timings, "classification"):
        report, predictions = evaluate_classification_with_predictions(
            Path(models_dir), seeds, extra_cases=extra_cases)
    curve = None
    if learning_curve:
        from dataclasses import asdict

        from jirei.evaluation.classification import learning_curve as classification_curve

        with _timed(timings, "learning_curve"):
            curve = [asdict(p) for p in classification_curve(Path(models_dir), seeds)]
    timings["total"] = round(sum(timings.values()), 2)

    results = StageResults(segmentation, entities, entities_baseline, report, predictions)
    stages = stage_outputs(results)
    analysis = classification_analysis(predictions)
    figures = {**segmentation_figures(segmentation), **entity_figures(stages["entities"]),
               **classification_figures(stages["classification"]), **per_class_figures(analysis["per_class"])}
    settings = {
        "seeds": str(seeds), "models": str(models_dir), "segmentation_gold": str(segmentation_gold),
        "baselines": baselines, "extra_cases": len(extra_cases or []),
        "cpus": os.cpu_count(),
    }
    return EvaluationRun(
        run_id=new_run_id(started), started_at=started.isoformat(timespec="seconds"), settings=settings,
        model_version=report.model_version, git_commit=git_commit(), figures=figures, timings=timings,
        details={**stages, "segmentation_total": segmentation_total(segmentation).as_dict(),
                 "classification_analysis": analysis, "learning_curve": curve},
        results=results,
    )


@contextmanager
def _timed(timings: dict[str, float], name: str):
    """Records the wall-clock seconds spent in the block as `timings[name]`."""
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 2)


def new_run_id(started: datetime) -> str:
    """Sortable by time; the random suffix keeps two runs in the same second apart."""
    return f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def git_commit() -> str | None:
    """The checkout's commit, with "+dirty" when it has uncommitted changes; None without git."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=paths.REPO, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()

        commit = git("rev-parse", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return None


def stage_outputs(results: StageResults) -> dict[str, Any]:
    """Each stage's figures exactly as its command's --json option prints them."""
    entities = {"jirei": results.entities.as_dict()}
    if results.entities_baseline:
        entities["stock_ner"] = results.entities_baseline.as_dict()
    return {
        "segmentation": [s.as_dict() for s in results.segmentation],
        "entities": entities,
        "classification": results.classification.as_dict(),
    }


# --- flat figures -----------------------------------------------------------------------

def _key(name: str) -> str:
    """A document or part name as one dotted-name component."""
    return Path(name).stem.replace(" ", "_").replace(".", "_")


SEGMENTATION_FIGURES = ("precision", "recall", "f1", "ends_included")


def segmentation_total(scores: list[SegmentationScore]) -> SegmentationScore:
    """All documents as one: counts summed, figures by SegmentationScore's own formulas."""
    return SegmentationScore(doc="all documents", layout="-", predicted=sum(s.predicted for s in scores),
                             gold=sum(s.gold for s in scores), matched=sum(s.matched for s in scores),
                             ends_included=sum(s.ends_included for s in scores))


def segmentation_figures(scores: list[SegmentationScore]) -> dict[str, float]:
    total = segmentation_total(scores).as_dict()
    figures = {f"segmentation.{k}": total[k] for k in SEGMENTATION_FIGURES}
    for s in scores:
        d = s.as_dict()
        figures.update({f"segmentation.by_doc.{_key(s.doc)}.{k}": d[k] for k in SEGMENTATION_FIGURES})
    return figures


def entity_figures(entities: dict[str, dict]) -> dict[str, float]:
    """From the `jirei evaluate entities --json` output."""
    figures = {}
    for system, scores in entities.items():
        for f in FIELDS:
            for k in ("precision", "recall", "f1"):
                figures[f"entities.{system}.{f}.{k}"] = scores["fields"][f][k]
        if scores["lead_accuracy"] is not None:
            figures[f"entities.{system}.lead_accuracy"] = scores["lead_accuracy"]
        for doc, fields in scores["per_doc"].items():
            for f in FIELDS:
                figures[f"entities.{system}.by_doc.{_key(doc)}.{f}.f1"] = fields[f]["f1"]
        # the real documents pooled, each without the rules developed on it
        for f, counts in scores.get("cross_document", {}).items():
            figures[f"entities.{system}.cross_document.{f}.f1"] = counts["f1"]
    return figures


CLASSIFICATION_METRICS = ("pillar_accuracy", "pillar_macro_f1", "pillar_ece",
                          "items_micro_f1", "items_macro_f1", "items_top1_hit", "pillar_accuracy_with_secondary")


def classification_figures(classification: dict) -> dict[str, float]:
    """From the `jirei evaluate classification --json` output."""
    return {f"classification.{s['system']}.{_key(s['part'])}.{m}": s[m]
            for s in classification["scores"] for m in CLASSIFICATION_METRICS}


def per_class_figures(per_class: dict[str, list[dict]]) -> dict[str, float]:
    figures = {}
    for kind, rows in per_class.items():
        for row in rows:
            for k in ("precision", "recall", "f1"):
                figures[f"classification.jirei.per_class.{kind}.{row['label']}.{k}"] = row[k]
    return figures


# --- classification details for the report ----------------------------------------------

def classification_analysis(predictions: HeldOutPredictions) -> dict[str, Any]:
    """Confusion matrices, per-item counts, reliability bins, per-class figures and the most
    confidently wrong cases, all on the part "all" (the held-out seed gold)."""
    mask = predictions.parts["all"]
    gold = [g for g, m in zip(predictions.gold, mask) if m]
    systems = {name: _rows(predictions.systems[name], mask) for name in SYSTEMS}
    pillars = predictions.taxonomy.label_set("pillar").ids
    items = predictions.item_numbers
    gold_pillars = [g.pillar for g in gold]
    gold_items = [set(g.items) for g in gold]
    return {
        "pillars": pillars,
        "pillar_names": {p.id: p.label_ja for p in predictions.taxonomy.label_set("pillar").labels},
        "items": items,
        "item_names": {str(i.number): i.label_ja for i in predictions.taxonomy.label_set("action_item").labels},
        "cases": len(gold),
        "pillar_confusion": {name: confusion(gold_pillars, s["pillar"], pillars) for name, s in systems.items()},
        "item_counts": {name: label_counts(gold_items, s["items"], items) for name, s in systems.items()},
        "item_cooccurrence": item_cooccurrence(gold_items, systems["jirei"]["items"], items),
        "reliability": {name: reliability_bins(s["confidence"], s["pillar"] == numpy.array(gold_pillars))
                        for name, s in systems.items()},
        "per_class": {
            "pillar": per_class_scores(label_counts([{p} for p in gold_pillars],
                                                    [{p} for p in systems["jirei"]["pillar"]], pillars)),
            "item": per_class_scores(label_counts(gold_items, systems["jirei"]["items"], items)),
        },
        "confident_errors": confident_errors(gold, systems["jirei"]),
    }


def _rows(preds, mask: list[bool]) -> dict[str, Any]:
    """One system's predicted pillar, its probability and its items for the masked cases."""
    idx = [i for i, m in enumerate(mask) if m]
    probs = preds.pillar_probs[idx]
    return {
        "pillar": numpy.array(preds.pillar_classes)[probs.argmax(axis=1)],
        "confidence": probs.max(axis=1),
        "items": [set(preds.items[i]) for i in idx],
        "ordered_items": [list(preds.items[i]) for i in idx],
    }


def confusion(gold: list[str], predicted, labels: list) -> list[list[int]]:
    """matrix[i][j] = cases of gold label i predicted as label j."""
    index = {label: k for k, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        matrix[index[g]][index[p]] += 1
    return matrix


def label_counts(gold: list[set], predicted: list[set], labels: list) -> list[dict]:
    """Per label, over cases: TP, FP, FN, TN of the yes/no decision "this case has the label"
    (a pillar is one label per case; action items are several)."""
    rows = []
    for label in labels:
        g = [label in s for s in gold]
        p = [label in s for s in predicted]
        rows.append({"label": str(label),
                     "tp": sum(a and b for a, b in zip(g, p)), "fp": sum(b and not a for a, b in zip(g, p)),
                     "fn": sum(a and not b for a, b in zip(g, p)), "tn": sum(not a and not b for a, b in zip(g, p))})
    return rows


def item_cooccurrence(gold: list[set], predicted: list[set], items: list[int]) -> list[list[int]]:
    """matrix[i][j] = cases whose gold has item i and whose prediction has item j. The diagonal
    is each item's true positives; a row's off-diagonal cells show what its cases got instead."""
    matrix = [[0] * len(items) for _ in items]
    for g, p in zip(gold, predicted):
        for i, gi in enumerate(items):
            if gi in g:
                for j, pj in enumerate(items):
                    matrix[i][j] += pj in p
    return matrix


def reliability_bins(confidence: numpy.ndarray, correct: numpy.ndarray, bins: int | None = None) -> list[dict]:
    """Top-pillar confidence against accuracy in the equal-width bins of
    `classify.model.expected_calibration_error` (the first bin closed at 0), empty bins left out."""
    from jirei.classify.model import ECE_BINS

    bins = bins or ECE_BINS
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        in_bin = (confidence > lo) & (confidence <= hi) if b else (confidence >= lo) & (confidence <= hi)
        if in_bin.any():
            out.append({"lo": lo, "hi": hi, "count": int(in_bin.sum()),
                        "confidence": float(confidence[in_bin].mean()), "accuracy": float(correct[in_bin].mean())})
    return out


def per_class_scores(counts: list[dict]) -> list[dict]:
    """Precision, recall and F1 of each label from its counts, with gold support (TP + FN)."""
    rows = []
    for c in counts:
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"label": c["label"], "support": tp + fn, "predicted": tp + fp,
                     "precision": round(precision, DIGITS), "recall": round(recall, DIGITS), "f1": round(f1, DIGITS)})
    return rows


def confident_errors(gold, jirei: dict[str, Any], limit: int = CONFIDENT_ERRORS) -> list[dict]:
    """The held-out cases whose pillar Jirei got wrong with the highest probability."""
    wrong = [i for i, g in enumerate(gold) if jirei["pillar"][i] != g.pillar]
    wrong.sort(key=lambda i: (-float(jirei["confidence"][i]), gold[i].doc, gold[i].ordinal))
    return [{
        "doc": gold[i].doc, "ordinal": gold[i].ordinal, "title": gold[i].heading,
        "excerpt": _excerpt(gold[i].text),
        "gold_pillar": gold[i].pillar, "predicted_pillar": str(jirei["pillar"][i]),
        "confidence": round(float(jirei["confidence"][i]), DIGITS),
        "gold_items": list(gold[i].items), "predicted_items": jirei["ordered_items"][i],
    } for i in wrong[:limit]]


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The body's first characters, on one line (the heading line is shown as the title)."""
    heading, _, body = text.partition("\n")
    flat = " ".join((body or heading).split())
    return flat if len(flat) <= limit else flat[:limit] + "…"

"""Classification scored on the held-out gold cases, beside two baselines fitted in the same run.

Held-out set: every gold case with split "test" (seed 001 part II, seeds 003 and 004). A case
is given to the classifiers as the gold span of its document's normalised text with the gold
heading as title, and no section, so segmentation errors do not blur the figures.

Baselines, fitted here on exactly Jirei's training rows (`classify.training.training_rows`):
- majority: the most frequent pillar; the most frequent action item;
- char TF-IDF + LR: character 1-3-gram TF-IDF and logistic regression (pillar), one-vs-rest
  (items, 0.5 threshold, at least the best item).

Further held-out cases (`extra_cases`, e.g. the reviewed held-out cases of a case store) are
scored as a part of their own, "case store"; "all" stays the seed gold.

Figures: pillar accuracy, macro-F1 and ECE (10 bins); action-item micro-F1, macro-F1 (over
items present in the gold) and top-1 hit rate (the first predicted item is a gold item).
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from jirei import paths
from jirei.classify.features import case_input
from jirei.classify.model import choose_items, expected_calibration_error, item_scores, single_threaded
from jirei.classify.predict import CaseClassifier
from jirei.classify.taxonomy import Taxonomy
from jirei.classify.training import GoldLabelledCase, TrainingRow, held_out_cases, training_rows
from jirei.records import Case

SYSTEMS = ("jirei", "char_tfidf_lr", "majority")
BASELINE_SEED = 0
#: Names of the held-out parts, by document stem prefix.
PART_NAMES = {"001": "001 part II", "003": "003 slides", "004": "004 chamber"}
#: The held-out cases whose pillar the labeller did not mark as a judgement call (the goal's "firm cases").
FIRM_PART = "firm cases"


@dataclass
class SystemPredictions:
    """One system's outputs for the held-out cases, in the same order as the cases."""

    pillar_probs: numpy.ndarray  # (n, 4), columns = pillar_classes
    pillar_classes: list[str]
    items: list[list[int]]  # best first, at least one
    needs_review: list[bool] | None = None  # Jirei's review flags (baselines have none)


@dataclass
class ClassificationScore:
    system: str
    part: str  # "all" or a PART_NAMES value
    cases: int
    pillar_accuracy: float
    pillar_macro_f1: float
    pillar_ece: float
    items_micro_f1: float
    items_macro_f1: float
    items_top1_hit: float
    # the top pillar is the gold's, or one of the pillars the gold says the case also serves
    pillar_accuracy_with_secondary: float = float("nan")


@dataclass
class ReviewScore:
    """Jirei's `needs_review` on one part: the share of cases flagged and the pillar accuracy on the
    cases not flagged (what a reader may take without review)."""

    part: str
    cases: int
    flagged_share: float
    unflagged_pillar_accuracy: float


@dataclass
class ClassificationReport:
    model_version: str
    scores: list[ClassificationScore]
    review: list[ReviewScore] = field(default_factory=list)

    def score(self, system: str, part: str = "all") -> ClassificationScore:
        return next(s for s in self.scores if s.system == system and s.part == part)

    def as_dict(self) -> dict:
        return {"model_version": self.model_version, "scores": [asdict(s) for s in self.scores],
                "review": [asdict(r) for r in self.review]}


def _pillar_rows(rows: list[TrainingRow]) -> list[TrainingRow]:
    return [r for r in rows if r.pillar]


def _item_rows(rows: list[TrainingRow]) -> list[TrainingRow]:
    return [r for r in rows if r.items]


def majority_baseline(rows: list[TrainingRow], n: int, pillar_classes: list[str]) -> SystemPredictions:
    """Always the most frequent training pillar (probability 1) and the most frequent item."""
    pillar = Counter(r.pillar for r in _pillar_rows(rows)).most_common(1)[0][0]
    item = Counter(i for r in _item_rows(rows) for i in r.items).most_common(1)[0][0]
    probs = numpy.zeros((n, len(pillar_classes)))
    probs[:, pillar_classes.index(pillar)] = 1.0
    return SystemPredictions(probs, pillar_classes, [[item] for _ in range(n)])


def _char_pipeline(estimator) -> Pipeline:
    return Pipeline([("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
                     ("classifier", estimator)])


@single_threaded
def char_baseline(rows: list[TrainingRow], texts: list[str], item_numbers: list[int]) -> SystemPredictions:
    """Character n-gram TF-IDF + logistic regression, fitted on the same training rows."""
    p_rows = _pillar_rows(rows)
    pillar = _char_pipeline(LogisticRegression(max_iter=5000, random_state=BASELINE_SEED))
    pillar.fit([r.input_text for r in p_rows], [r.pillar for r in p_rows])
    i_rows = _item_rows(rows)
    mlb = MultiLabelBinarizer(classes=item_numbers)
    items = _char_pipeline(OneVsRestClassifier(LogisticRegression(max_iter=5000, random_state=BASELINE_SEED)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        items.fit([r.input_text for r in i_rows], mlb.fit_transform([r.items for r in i_rows]))
    item_probs = items.predict_proba(texts)
    chosen = choose_items(item_probs, item_numbers, {i: 0.5 for i in item_numbers})
    return SystemPredictions(pillar.predict_proba(texts), [str(c) for c in pillar.classes_], chosen)


def jirei_predictions(classifier: CaseClassifier, gold: list[GoldLabelledCase]) -> SystemPredictions:
    """Jirei through its public API: Cases with title + text, no section."""
    cases = [Case(doc=g.doc, doc_id="", ordinal=g.ordinal, title=g.heading, text=g.text, span=(0, len(g.text)),
                  page=None, section=[], layout="gold") for g in gold]
    classifier.classify(cases)
    classes = sorted(p["label"] for p in cases[0].pillars) if cases else []
    probs = numpy.array([[{p["label"]: p["score"] for p in c.pillars}[k] for k in classes] for c in cases])
    return SystemPredictions(probs, classes, [[a["item"] for a in c.action_items] for c in cases],
                             [c.needs_review for c in cases])


def score_system(system: str, part: str, preds: SystemPredictions, gold: list[GoldLabelledCase],
                 item_numbers: list[int]) -> ClassificationScore:
    y = numpy.array([g.pillar for g in gold])
    predicted = numpy.array(preds.pillar_classes)[preds.pillar_probs.argmax(axis=1)]
    items = item_scores([g.items for g in gold], preds.items, item_numbers)
    acceptable = [p == g.pillar or p in g.secondary_pillars for p, g in zip(predicted, gold)]
    return ClassificationScore(
        system=system, part=part, cases=len(gold),
        pillar_accuracy=float(accuracy_score(y, predicted)),
        pillar_macro_f1=float(f1_score(y, predicted, average="macro", zero_division=0)),
        pillar_ece=expected_calibration_error(preds.pillar_probs, predicted == y),
        items_micro_f1=items["micro_f1"], items_macro_f1=items["macro_f1"], items_top1_hit=items["top1_hit"],
        pillar_accuracy_with_secondary=float(numpy.mean(acceptable)) if acceptable else float("nan"),
    )


def _subset(preds: SystemPredictions, mask: list[bool]) -> SystemPredictions:
    idx = [i for i, m in enumerate(mask) if m]
    flags = [preds.needs_review[i] for i in idx] if preds.needs_review is not None else None
    return SystemPredictions(preds.pillar_probs[idx], preds.pillar_classes, [preds.items[i] for i in idx], flags)


@dataclass
class HeldOutPredictions:
    """Every system's per-case outputs in one evaluation run, beside the gold they are scored on.

    `parts` maps each part name ("all", the PART_NAMES values, and "case store" when extra
    cases were given) to a mask over `gold`."""

    model_version: str
    taxonomy: Taxonomy  # the scheme the models were trained on (label names for reports)
    gold: list[GoldLabelledCase]
    item_numbers: list[int]
    systems: dict[str, SystemPredictions]
    parts: dict[str, list[bool]]


#: Part of the extra held-out cases (reviewed cases of a case store); scored on their own so that
#: "all" stays the seed gold and remains comparable across runs.
EXTRA_PART = "case store"


def _parts(gold: list[GoldLabelledCase], n_seed: int) -> dict[str, list[bool]]:
    seed = [i < n_seed for i in range(len(gold))]
    parts = {"all": seed}
    for prefix, name in PART_NAMES.items():
        mask = [s and g.doc.startswith(prefix) for s, g in zip(seed, gold)]
        if any(mask):
            parts[name] = mask
    firm = [s and not g.judgement_call for s, g in zip(seed, gold)]
    if any(firm):
        parts[FIRM_PART] = firm
    if n_seed < len(gold):
        parts[EXTRA_PART] = [not s for s in seed]
    return parts


def predict_held_out(models_dir: Path = paths.MODELS, seeds: Path | None = None,
                     labels_dir: Path = paths.LABEL_GOLD,
                     extra_cases: list[GoldLabelledCase] | None = None) -> HeldOutPredictions:
    """Jirei's saved models and both baselines applied to the held-out gold cases (and to
    `extra_cases`, if given, after them), with the case-level outputs kept."""
    seeds = seeds or paths.seeds_dir()
    classifier = CaseClassifier.load(models_dir)
    rows = training_rows(classifier.taxonomy, seeds, labels_dir)
    seed_gold = held_out_cases(seeds, labels_dir)
    gold = seed_gold + list(extra_cases or [])
    texts = [case_input(g.heading, g.text) for g in gold]
    item_numbers = classifier.models.item_numbers
    jirei = jirei_predictions(classifier, gold)
    systems = {
        "jirei": jirei,
        "char_tfidf_lr": char_baseline(rows, texts, item_numbers),
        "majority": majority_baseline(rows, len(gold), jirei.pillar_classes),
    }
    return HeldOutPredictions(classifier.version, classifier.taxonomy, gold, item_numbers, systems,
                              _parts(gold, len(seed_gold)))


def score_predictions(predictions: HeldOutPredictions) -> ClassificationReport:
    """Every system's figures on every part."""
    scores, review = [], []
    for part, mask in predictions.parts.items():
        part_gold = [g for g, m in zip(predictions.gold, mask) if m]
        for system in SYSTEMS:
            preds = _subset(predictions.systems[system], mask)
            scores.append(score_system(system, part, preds, part_gold, predictions.item_numbers))
        jirei = _subset(predictions.systems["jirei"], mask)
        if jirei.needs_review is not None and part_gold:
            predicted = numpy.array(jirei.pillar_classes)[jirei.pillar_probs.argmax(axis=1)]
            kept = [i for i, flag in enumerate(jirei.needs_review) if not flag]
            right = [predicted[i] == part_gold[i].pillar for i in kept]
            review.append(ReviewScore(part, len(part_gold), 1 - len(kept) / len(part_gold),
                                      float(numpy.mean(right)) if right else float("nan")))
    return ClassificationReport(model_version=predictions.model_version, scores=scores, review=review)


def evaluate_classification_with_predictions(
        models_dir: Path = paths.MODELS, seeds: Path | None = None, labels_dir: Path = paths.LABEL_GOLD,
        extra_cases: list[GoldLabelledCase] | None = None) -> tuple[ClassificationReport, HeldOutPredictions]:
    """The figures of `evaluate_classification` and the per-case outputs they were computed from."""
    predictions = predict_held_out(models_dir, seeds, labels_dir, extra_cases)
    return score_predictions(predictions), predictions


def evaluate_classification(models_dir: Path = paths.MODELS, seeds: Path | None = None,
                            labels_dir: Path = paths.LABEL_GOLD,
                            extra_cases: list[GoldLabelledCase] | None = None) -> ClassificationReport:
    """Score Jirei's saved models and both baselines on the held-out gold cases (and `extra_cases`,
    e.g. a case store's reviewed held-out cases, as a part of their own)."""
    return evaluate_classification_with_predictions(models_dir, seeds, labels_dir, extra_cases)[0]


def format_table(report: ClassificationReport) -> str:
    head = (f"{'part':<13} {'system':<14} {'n':>4} {'P.acc':>6} {'P.mF1':>6} {'P.ECE':>6} "
            f"{'I.miF1':>6} {'I.maF1':>6} {'I.top1':>6} {'P.acc2':>6}")
    lines = [f"held-out classification, model {report.model_version}", head, "-" * len(head)]
    for s in report.scores:
        lines.append(f"{s.part:<13} {s.system:<14} {s.cases:>4} {s.pillar_accuracy:>6.3f} {s.pillar_macro_f1:>6.3f} "
                     f"{s.pillar_ece:>6.3f} {s.items_micro_f1:>6.3f} {s.items_macro_f1:>6.3f} {s.items_top1_hit:>6.3f} "
                     f"{s.pillar_accuracy_with_secondary:>6.3f}")
    lines.append("P = pillar (accuracy, macro-F1, ECE 10 bins); I = action items (micro-F1, macro-F1 over "
                 "items in the gold, top-1 hit); P.acc2 = pillar accuracy counting a secondary pillar of the "
                 f"gold as right; '{FIRM_PART}': the held-out cases the labeller did not mark a judgement call")
    for r in report.review:
        lines.append(f"needs_review {r.part:<13} flagged {r.flagged_share:.3f} of {r.cases}; pillar accuracy on "
                     f"the unflagged {r.unflagged_pillar_accuracy:.3f}")
    return "\n".join(lines)


def report_json(report: ClassificationReport) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=1)


def learning_curve(models_dir: Path = paths.MODELS, seeds: Path | None = None,
                   labels_dir: Path = paths.LABEL_GOLD):
    """Out-of-fold figures against the number of training cases, by the training CV with the saved
    models' hyperparameters (`classify.model.learning_curve`). Reads training rows only: the
    held-out cases play no part."""
    from jirei.classify.model import Hyperparameters, learning_curve as curve

    classifier = CaseClassifier.load(models_dir)
    rows = training_rows(classifier.taxonomy, seeds or paths.seeds_dir(), labels_dir)
    hp = classifier.models.card["hyperparameters"]
    return curve(rows, classifier.taxonomy, Hyperparameters(**hp["pillar_and_theme"]),
                 Hyperparameters(**hp["action_items"]))


def format_learning_curve(points) -> str:
    head = f"{'cases':>5} {'P.acc':>6} {'P.mF1':>6} {'I.top1':>6}  fits"
    lines = ["learning curve (CV on training data, folds holding out whole runs of a document's cases: each "
             "fold's first n training cases + scheme rows, scored on the fold's held-out training cases)",
             head, "-" * len(head)]
    for p in points:
        lines.append(f"{p.cases:>5} {p.pillar_accuracy:>6.3f} {p.pillar_macro_f1:>6.3f} {p.items_top1_hit:>6.3f}  {p.fits:>4}")
    return "\n".join(lines)


def jirei_held_out_scores(classifier: CaseClassifier, seeds: Path | None = None,
                          extra_cases: list[GoldLabelledCase] | None = None,
                          labels_dir: Path = paths.LABEL_GOLD) -> dict[str, dict]:
    """Jirei's figures alone (no baselines) on the held-out gold cases ("all") and on
    `extra_cases` ("case store"), as plain dicts: what the reviewer app shows for two models
    side by side, scored on the same cases."""
    seeds = seeds or paths.seeds_dir()
    seed_gold = held_out_cases(seeds, labels_dir)
    gold = seed_gold + list(extra_cases or [])
    preds = jirei_predictions(classifier, gold)
    out = {}
    for part, mask in _parts(gold, len(seed_gold)).items():
        if part not in ("all", EXTRA_PART):
            continue
        part_gold = [g for g, m in zip(gold, mask) if m]
        out[part] = asdict(score_system("jirei", part, _subset(preds, mask), part_gold,
                                        classifier.models.item_numbers))
    return out

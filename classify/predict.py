"""Labelling cases: pillar, theme and action items from the trained models, declared labels
from the document's own headings.

Two sources are kept apart on purpose. `CaseClassifier` predicts from what a case says (its
title and text); it never reads `Case.section`. `declared_labels` reads what a document
declares by filing a case under a pillar or theme heading (seed 001 part I does); that is
provenance a reviewer can compare the prediction with, not a prediction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

from jirei import paths
from jirei.records import Case

from . import model as model_files
from .card import feature_settings
from .features import case_input, feature_matrix
from .taxonomy import Taxonomy, fold, load_taxonomy

SCORE_DIGITS = 4
# "1.", "(1)", "（２）", "①": numbering in front of a section heading.
_NUMBERING = re.compile(r"^(?:\(?\d+\)|\d+\.|[\u2460-\u2473])\s*")


@dataclass(frozen=True)
class DeclaredLabels:
    """Pillar and theme a document declares for a case by the headings it files it under."""

    pillar: dict[str, Any] | None
    theme: dict[str, Any] | None


def _strip_numbering(folded_heading: str) -> str:
    return _NUMBERING.sub("", folded_heading)


def _declared_pillar_in(heading: str, taxonomy: Taxonomy) -> str | None:
    """A pillar heading names the pillar in 「」 (「住む」) or states its wording."""
    h = fold(heading)
    for pillar in taxonomy.label_set("pillar").labels:
        if fold(f"「{pillar.label_ja}」") in h or fold(pillar.wording) in h:
            return pillar.id
    return None


def _declared_theme_in(heading: str, taxonomy: Taxonomy) -> str | None:
    """A theme heading is the theme's wording, after its numbering."""
    h = _strip_numbering(fold(heading))
    for theme in taxonomy.label_set("theme").labels:
        if h == fold(theme.wording) or h == fold(theme.label_ja):
            return theme.id
    return None


def declared_labels(case: Case, taxonomy: Taxonomy) -> DeclaredLabels:
    """Pillar and theme declared by the case's section headings (outermost first), if any."""
    if "pillar" not in taxonomy.label_sets or "theme" not in taxonomy.label_sets:
        return DeclaredLabels(None, None)
    pillar = theme = None
    for heading in case.section:
        pillar_id = _declared_pillar_in(heading, taxonomy)
        if pillar_id:
            pillar = {"label": pillar_id, "source": "declared", "text": heading}
            theme = None  # a theme heading belongs to the pillar heading above it
            continue
        theme_id = _declared_theme_in(heading, taxonomy)
        if theme_id:
            theme_pillar = taxonomy.label_set("theme").by_id(theme_id).get("pillar")
            if pillar is None or pillar["label"] == theme_pillar:
                theme = {"label": theme_id, "source": "declared", "text": heading}
                if pillar is None and theme_pillar:
                    pillar = {"label": theme_pillar, "source": "declared", "text": heading}
    return DeclaredLabels(pillar=pillar, theme=theme)


def case_features(cases: list[Case], sentences: bool = True, sentence_chars: int | None = None,
                  sentence_view: str = "prefix") -> numpy.ndarray:
    """The classifiers' input rows for `cases` (`features.feature_matrix` of each case's title
    and text). The heavy part of labelling (GiNZA, e5); `CaseClassifier.feature_settings` says
    which settings its models need."""
    return model_files.single_threaded(feature_matrix)(
        [case_input(c.title, c.text) for c in cases], sentences=sentences, sentence_chars=sentence_chars,
        sentence_view=sentence_view)


def _score(p: float) -> float:
    return round(float(p), SCORE_DIGITS)


@dataclass
class CasePrediction:
    """The classifiers' output for one case, before it is written onto the Case."""

    pillars: list[dict[str, Any]]  # all four, best first
    theme: dict[str, Any] | None
    action_items: list[dict[str, Any]]  # the primary item, then those near its score (`item_share`), best first
    item_scores: list[dict[str, Any]]  # all items of the scheme with calibrated scores, best first
    needs_review: bool


class CaseClassifier:
    """Trained pillar, theme and action-item models, applied to Cases in place."""

    def __init__(self, models: model_files.TrainedModels, taxonomy: Taxonomy):
        self.models = models
        self.taxonomy = taxonomy
        self._theme_pillar = {t.id: t.get("pillar") for t in taxonomy.label_set("theme").labels}

    @classmethod
    def load(cls, models_dir: Path = paths.MODELS) -> "CaseClassifier":
        """Load the models written by `jirei train`; the taxonomy is the one their card names."""
        models = model_files.load(Path(models_dir))
        card_tax = models.card["taxonomy"]
        taxonomy = load_taxonomy(card_tax["scheme"])
        if taxonomy.version != card_tax["version"]:
            raise model_files.ModelFilesError(
                f"{models_dir}: models were trained on {card_tax['scheme']}@{card_tax['version']}, "
                f"but the scheme file is version {taxonomy.version} (run `jirei train`)")
        return cls(models, taxonomy)

    @property
    def version(self) -> str:
        return self.models.version

    @property
    def feature_settings(self) -> dict[str, Any]:
        """What `case_features` needs to compute these models' inputs (plain values: a worker
        process computes them without loading the models)."""
        return feature_settings(self.models.card)

    @model_files.single_threaded
    def predict(self, cases: list[Case], features: numpy.ndarray | None = None) -> list[CasePrediction]:
        """Predictions from each case's title and text (never its section). `features`: the rows
        `case_features(cases, **self.feature_settings)` gives, computed elsewhere (a worker)."""
        if not cases:
            return []
        X = features if features is not None else case_features(cases, **self.feature_settings)
        cuts = self.models.thresholds
        pillar_probs = model_files.scale_pillars(self.models.pillar.predict_proba(X), cuts.pillar_temperature)
        theme_probs = self.models.theme.predict_proba(X)
        item_probs = model_files.calibrate_items(self.models.items.predict_proba(X), cuts.item_calibration)
        pillar_classes = [str(c) for c in self.models.pillar.classes_]
        theme_classes = [str(c) for c in self.models.theme.classes_]
        out = []
        for p_row, t_row, i_row in zip(pillar_probs, theme_probs, item_probs):
            order = numpy.argsort(-p_row, kind="stable")
            pillars = [{"label": pillar_classes[j], "score": _score(p_row[j])} for j in order]
            best_theme = int(numpy.argmax(t_row))
            theme_id = theme_classes[best_theme]
            theme = None
            if t_row[best_theme] >= cuts.theme and self._theme_pillar.get(theme_id) == pillars[0]["label"]:
                theme = {"label": theme_id, "score": _score(t_row[best_theme]), "source": "model"}
            chosen = model_files.choose_items(i_row[None, :], self.models.item_numbers, cuts.items, cuts.item_share)[0]
            index = {n: j for j, n in enumerate(self.models.item_numbers)}
            items = [{"item": int(n), "score": _score(i_row[index[n]])} for n in chosen]
            ranking = [{"item": int(self.models.item_numbers[j]), "score": _score(i_row[j])}
                       for j in numpy.argsort(-i_row, kind="stable")]
            passed_any = any(i_row[j] >= cuts.items[n] for j, n in enumerate(self.models.item_numbers))
            unsure = bool(p_row[order[0]] < cuts.pillar_review or not passed_any)
            out.append(CasePrediction(pillars=pillars, theme=theme, action_items=items, item_scores=ranking,
                                      needs_review=unsure))
        return out

    def classify(self, cases: list[Case], features: numpy.ndarray | None = None) -> None:
        """Fill pillar, pillars, theme, action_items, needs_review and declared_pillar in place
        (`features`: as for `predict`).

        `declared_pillar` carries the declared theme (if any) under "theme"."""
        for case, pred in zip(cases, self.predict(cases, features)):
            top = pred.pillars[0]
            case.pillar = {"label": top["label"], "score": top["score"], "source": "model", "model": self.version}
            case.pillars = pred.pillars
            case.theme = pred.theme
            case.action_items = pred.action_items
            case.item_scores = pred.item_scores
            case.needs_review = pred.needs_review
            declared = declared_labels(case, self.taxonomy)
            if declared.pillar is not None:
                case.declared_pillar = dict(declared.pillar)
                if declared.theme is not None:
                    case.declared_pillar["theme"] = declared.theme
            else:
                case.declared_pillar = None

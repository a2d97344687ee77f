"""The current model as the reviewer app shows it: version, training data (with how many reviewer
corrections), cross-validation figures from the model card, and held-out figures from the latest
`jirei evaluate all` run of that same version in the runs file.

Read again whenever the store's active model changes (a promotion on the Models page,
`models_page.ModelWatch`); without a promotion, the model `jirei serve --models` names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Held-out figures shown, by the key of the runs file's `figures` (jirei on all held-out cases).
HELD_OUT_FIGURES = (
    ("classification.jirei.all.pillar_accuracy", "pillar accuracy"),
    ("classification.jirei.all.pillar_macro_f1", "pillar macro F1"),
    ("classification.jirei.all.pillar_ece", "pillar ECE (calibration error)"),
    ("classification.jirei.all.items_micro_f1", "action items micro F1"),
    ("classification.jirei.case_store.pillar_accuracy", "pillar accuracy, reviewed held-out store cases"),
)


@dataclass
class ModelSummary:
    version: str | None
    created_at: str | None = None
    training_rows: int | None = None
    corrections: int = 0
    cv: dict[str, float] = field(default_factory=dict)
    held_out: list[tuple[str, float]] = field(default_factory=list)
    held_out_run: dict[str, Any] | None = None  # run_id, started_at of the run the figures come from
    problem: str | None = None  # why something could not be read, shown instead of figures

    @property
    def known(self) -> bool:
        return self.version is not None


def corrections_used(card: dict[str, Any]) -> int:
    """Reviewer corrections in the model's training data (0 for a model trained on the seeds alone)."""
    training = card.get("training_data", {})
    store = training.get("store") or {}
    if isinstance(store.get("corrections"), int):
        return store["corrections"]
    if isinstance(training.get("corrections"), int):
        return training["corrections"]
    return int(training.get("by_origin", {}).get("correction", 0))


def load_model_summary(models_dir: Path | str, runs_file: Path | str) -> ModelSummary:
    card_path = Path(models_dir) / "model_card.json"
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return ModelSummary(None, problem=f"{card_path}: {exc.__class__.__name__}")
    pillar_cv = card.get("cv", {}).get("pillar", {})
    items_cv = card.get("cv", {}).get("action_items", {})
    summary = ModelSummary(
        version=card.get("model_version"),
        created_at=card.get("created_at"),
        training_rows=card.get("training_data", {}).get("rows"),
        corrections=corrections_used(card),
        cv={k: v for k, v in (("pillar accuracy", pillar_cv.get("accuracy")),
                              ("pillar ECE", pillar_cv.get("ece")),
                              ("action items micro F1", items_cv.get("micro_f1"))) if v is not None},
    )
    run = _latest_run_of(runs_file, summary.version)
    if run is not None:
        figures = run.get("figures", {})
        summary.held_out = [(label, figures[key]) for key, label in HELD_OUT_FIGURES if key in figures]
        summary.held_out_run = {"run_id": run.get("run_id"), "started_at": run.get("started_at")}
    return summary


def _latest_run_of(runs_file: Path | str, version: str | None) -> dict[str, Any] | None:
    from jirei.evaluation.runs import load_runs

    try:
        runs = load_runs(runs_file)
    except (OSError, ValueError):
        return None
    mine = [r for r in runs if r.get("model_version") == version]
    return mine[-1] if mine else None

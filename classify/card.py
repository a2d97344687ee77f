"""What a classifier's model card says about the models' inputs, read without loading the models.

Contract:
    feature_settings(card) -> dict        `sentences`, `sentence_chars`, `sentence_view`: what
                                          `features.feature_matrix` needs for these models
    read_feature_settings(folder) -> dict | None
                                          the same from `folder`'s card; None when it cannot be read

Light on purpose (no scikit-learn, no spaCy): the pipeline starts its worker processes on these
settings before this process loads the models, so the two loads overlap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CARD_FILE = "model_card.json"


def feature_settings(card: dict[str, Any]) -> dict[str, Any]:
    """What `features.feature_matrix` needs to compute the inputs of the models a card describes:
    whether any model reads the e5 embedding (`sentences`), and how much of a case it reads
    (`sentence_chars`, None: all) in which view (`sentence_view`)."""
    hp = card.get("hyperparameters", {})
    chars = card.get("sentence_chars")
    return {"sentences": any(float(h.get("sentence_weight", 0)) for h in hp.values()),
            "sentence_chars": int(chars) if chars else None,
            "sentence_view": str(card.get("sentence_view", "prefix"))}


def read_feature_settings(folder: Path) -> dict[str, Any] | None:
    """`feature_settings` of the card in `folder`, read without loading the models (worker processes
    start on them while this process loads the models); None when the card cannot be read, the
    models' own load then says why."""
    try:
        return feature_settings(json.loads((Path(folder) / CARD_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None

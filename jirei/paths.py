"""Where Jirei finds its gold data and the shared sample reports."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SEGMENTATION_GOLD = CORPUS / "segmentation"
ENTITY_GOLD = CORPUS / "entities"
LABEL_GOLD = CORPUS / "labels"
MODELS = REPO / "models"
# Seeds rendered to PDF in several layouts (scripts/render_seeds.py): development data
RENDERINGS = REPO / "out" / "renderings"
# Seed cases re-typeset in six report layouts with their gold (scripts/render_layouts.py)
LAYOUTS = REPO / "out" / "layouts"


def shared_dir() -> Path:
    """The shared folder beside the checkout (seeds, real PDFs); JIREI_SHARED overrides it."""
    return Path(os.environ.get("JIREI_SHARED", REPO.parent / "shared"))


def seeds_dir() -> Path:
    return shared_dir() / "seeds"


def sample_dir() -> Path:
    """Reports for the demo: the shared seeds where present, else the bundled sample."""
    return seeds_dir() if seeds_dir().is_dir() else REPO / "samples"

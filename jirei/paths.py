"""Where Jirei finds its data: what ships inside the package, and what only a checkout has.

Shipped with every install (package data, found through the import system (`importlib`), so a wheel in
any virtualenv finds them): the trained models (`jirei.models`; `--models` or `JIREI_MODELS`
override), the taxonomies, the gazetteer, the web app's templates and static files, and the
sample reports (`jirei.samples`).

Only in a checkout of the repository: the gold data in `corpus/` (evaluation and training read
it) and the shared folder beside the checkout (`../shared`, or `JIREI_SHARED`) with the seed
reports and real PDFs. `checkout()` says whether this Jirei runs from one.

Part of the ground floor: imports nothing from Jirei.
"""

from __future__ import annotations

import os
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SEGMENTATION_GOLD = CORPUS / "segmentation"
ENTITY_GOLD = CORPUS / "entities"
LABEL_GOLD = CORPUS / "labels"

SHARED_HOWTO = ("the seed reports and real PDFs live in a folder `shared/` beside the checkout "
                "(seeds/, pdfs/), or wherever JIREI_SHARED points; they are not part of the repository")


def package_dir(package: str) -> Path:
    """The folder of a data package (`jirei.models`, `jirei.samples`, `jirei.webapp.static`, …)
    as installed. Jirei is installed as files on disk (the web app serves its static folder),
    so the package's first search location is that folder; data folders without an
    `__init__.py` (templates, static files) are namespace packages and are found the same way."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{package}: no such data package in this Jirei install")
    return Path(list(spec.submodule_search_locations)[0])


def default_models() -> Path:
    """The models Jirei uses unless told otherwise: $JIREI_MODELS, else the ones it ships."""
    env = os.environ.get("JIREI_MODELS")
    return Path(env) if env else package_dir("jirei.models")


MODELS = default_models()


def checkout() -> bool:
    """True when Jirei runs from a checkout of its repository (the gold data is there)."""
    return CORPUS.is_dir() and (REPO / "pyproject.toml").is_file()

# Seeds rendered to PDF in several layouts (scripts/render_seeds.py): development data
RENDERINGS = REPO / "out" / "renderings"
# Seed cases re-typeset in six report layouts with their gold (scripts/render_layouts.py)
LAYOUTS = REPO / "out" / "layouts"


def shared_dir() -> Path:
    """The shared folder beside the checkout (seeds, real PDFs); JIREI_SHARED overrides it."""
    return Path(os.environ.get("JIREI_SHARED", REPO.parent / "shared"))


def seeds_dir() -> Path:
    return shared_dir() / "seeds"


def samples_dir() -> Path:
    """The sample reports Jirei ships (several layouts and formats, written for the demo)."""
    return package_dir("jirei.samples")

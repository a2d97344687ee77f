"""Label schemes as data: loading and validating `classify/taxonomies/*.json`.

A scheme file names its `scheme`, its `version`, and its `label_sets`; each label set says
whether it is `multi_label` and lists `labels` with a unique `id` and a Japanese `label_ja`.
Every scheme file has that shape, so one loader serves them all, and a label set is addressed
by a versioned name (`chiiki_kyoso@2021-11/pillar`) that model cards and predictions carry.

Validation happens at load time so that a broken file fails once, with one line naming the
file and the problem, instead of later as a KeyError deep inside training.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jirei.paths import package_dir

TAXONOMY_DIR = package_dir("jirei.classify.taxonomies")
DEFAULT_SCHEME = "chiiki_kyoso"
REQUIRED_KEYS = ("scheme", "version", "label_sets")


class TaxonomyError(ValueError):
    """A scheme file that cannot be used; the message names the file and the problem in one line."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Label:
    """One label of a label set. `raw` keeps the scheme's extra fields (themes, partners, group...)."""

    id: str
    label_ja: str
    wording: str
    number: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


@dataclass(frozen=True)
class LabelSet:
    name: str
    version: str  # "<scheme>@<version>/<name>"
    multi_label: bool
    labels: tuple[Label, ...]
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ids(self) -> list[str]:
        return [label.id for label in self.labels]

    @property
    def numbers(self) -> list[int]:
        return [label.number for label in self.labels if label.number is not None]

    def by_id(self, label_id: str) -> Label:
        for label in self.labels:
            if label.id == label_id:
                return label
        raise KeyError(f"{self.version}: no label {label_id!r}")

    def by_number(self, number: int) -> Label:
        for label in self.labels:
            if label.number == number:
                return label
        raise KeyError(f"{self.version}: no label number {number}")


@dataclass(frozen=True)
class Taxonomy:
    scheme: str
    version: str
    title: str
    label_sets: dict[str, LabelSet]
    sha256: str  # of the file's bytes: model cards record which scheme file they were trained on
    path: str

    @property
    def versioned_name(self) -> str:
        return f"{self.scheme}@{self.version}"

    def label_set(self, name: str) -> LabelSet:
        try:
            return self.label_sets[name]
        except KeyError:
            raise KeyError(f"{self.versioned_name}: no label set {name!r}; has {', '.join(self.label_sets)}") from None


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _label_from(path: Path, set_name: str, i: int, row: Any) -> Label:
    where = f"label_sets.{set_name}.labels[{i}]"
    if not isinstance(row, dict):
        raise TaxonomyError(path, f"{where} is not an object")
    for key in ("id", "label_ja"):
        if not _nonempty_str(row.get(key)):
            raise TaxonomyError(path, f"{where} has no {key!r} (non-empty string required)")
    number = row.get("number")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
        raise TaxonomyError(path, f"{where} ({row['id']}): 'number' must be an integer")
    wording = row.get("wording", row["label_ja"])
    if not _nonempty_str(wording):
        raise TaxonomyError(path, f"{where} ({row['id']}): 'wording' must be a non-empty string")
    return Label(id=row["id"], label_ja=row["label_ja"], wording=wording, number=number, raw=row)


def _label_set_from(path: Path, scheme: str, version: str, name: str, spec: Any) -> LabelSet:
    if not isinstance(spec, dict):
        raise TaxonomyError(path, f"label_sets.{name} is not an object")
    if not isinstance(spec.get("multi_label"), bool):
        raise TaxonomyError(path, f"label_sets.{name} has no boolean 'multi_label'")
    rows = spec.get("labels")
    if not isinstance(rows, list) or not rows:
        raise TaxonomyError(path, f"label_sets.{name}.labels must be a non-empty list")
    labels = tuple(_label_from(path, name, i, row) for i, row in enumerate(rows))
    seen: set[str] = set()
    for label in labels:
        if label.id in seen:
            raise TaxonomyError(path, f"label_sets.{name}: duplicate id {label.id!r}")
        seen.add(label.id)
    numbers = [label.number for label in labels if label.number is not None]
    if len(numbers) != len(set(numbers)):
        raise TaxonomyError(path, f"label_sets.{name}: duplicate label numbers")
    return LabelSet(name=name, version=f"{scheme}@{version}/{name}", multi_label=spec["multi_label"],
                    labels=labels, raw=spec)


def _check_cross_references(path: Path, label_sets: dict[str, LabelSet]) -> None:
    """A label naming a `pillar` must name a pillar of the same scheme; nested themes must exist."""
    if "pillar" not in label_sets:
        return
    pillars = set(label_sets["pillar"].ids)
    for set_name, label_set in label_sets.items():
        for label in label_set.labels:
            ref = label.get("pillar")
            if set_name != "pillar" and ref is not None and ref not in pillars:
                raise TaxonomyError(path, f"label_sets.{set_name}: {label.id!r} names unknown pillar {ref!r}")
    if "theme" in label_sets:
        themes = set(label_sets["theme"].ids)
        for pillar in label_sets["pillar"].labels:
            for theme in pillar.get("themes", []) or []:
                theme_id = theme.get("id") if isinstance(theme, dict) else None
                if theme_id not in themes:
                    raise TaxonomyError(path, f"pillar {pillar.id!r} lists theme {theme_id!r} missing from label_sets.theme")


def parse_taxonomy(data: Any, path: str | Path, sha256: str = "") -> Taxonomy:
    """Validate a scheme already read as JSON; raises TaxonomyError naming `path` and the problem."""
    path = Path(path)
    if not isinstance(data, dict):
        raise TaxonomyError(path, "top level is not a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise TaxonomyError(path, f"missing required key(s): {', '.join(missing)}")
    for key in ("scheme", "version"):
        if not _nonempty_str(data[key]):
            raise TaxonomyError(path, f"{key!r} must be a non-empty string")
    sets = data["label_sets"]
    if not isinstance(sets, dict) or not sets:
        raise TaxonomyError(path, "'label_sets' must be a non-empty object of label sets")
    label_sets = {name: _label_set_from(path, data["scheme"], data["version"], name, spec) for name, spec in sets.items()}
    _check_cross_references(path, label_sets)
    return Taxonomy(scheme=data["scheme"], version=data["version"], title=str(data.get("title", "")),
                    label_sets=label_sets, sha256=sha256, path=str(path))


def load_taxonomy(source: str | Path = DEFAULT_SCHEME) -> Taxonomy:
    """Load and validate a scheme: a scheme name in `classify/taxonomies/` or a path to a file."""
    path = Path(source)
    if not path.suffix and not path.exists():
        path = TAXONOMY_DIR / f"{source}.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(path, f"cannot read file ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TaxonomyError(path, f"not valid UTF-8 JSON ({exc})") from None
    return parse_taxonomy(data, path, hashlib.sha256(raw).hexdigest())


def available_schemes() -> list[str]:
    return sorted(p.stem for p in TAXONOMY_DIR.glob("*.json"))


def fold(text: str) -> str:
    """NFKC without spaces: scheme wording and extracted headings compare equal under it."""
    return "".join(unicodedata.normalize("NFKC", text).split())

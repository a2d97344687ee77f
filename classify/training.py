"""The training data of the classifiers, and nothing else.

Jirei is fitted and tuned only on:
- seed 000, the scheme itself: the pillar, theme and action-item wording of the taxonomy and
  the 21 partner rows of the action programme (`corpus/labels/000_partners.json`);
- seed 001 part I: the gold cases with `split == "train"` (pillar and theme declared by the
  seed's headings, action items labelled by hand);
- the real PDFs' cases (`corpus/labels/pdfs/`: the village strategy paper's measures and the
  village newsletters' articles, all labelled by hand, split "train"), cut at the segmentation
  gold of `corpus/segmentation/pdfs/` in the text `extract.ingest` reads from `shared/pdfs/`.

Every other gold case (001 part II, 003, 004) is held out for evaluation. `training_rows`
refuses to return a case whose gold split is not "train", so a held-out case cannot slip
into fitting, thresholds or feature choices through this module.

`jirei train --db` adds a case store's reviewed cases outside the held-out documents
(`store_data.py`, rows of origin "correction"); without it the rows are exactly these.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from jirei import paths

from .features import case_input
from .taxonomy import Taxonomy

TRAIN_SPLIT = "train"
TEST_SPLIT = "test"
#: Origin of rows from a case store's reviewed cases (`store_data.py`; only with `jirei train --db`).
CORRECTION_ORIGIN = "correction"
PARTNERS_FILE = "000_partners.json"
#: Sub-folder (of the label and segmentation gold, and of the shared folder) of the real PDFs.
PDF_SUBDIR = "pdfs"


class SplitError(RuntimeError):
    """Held-out data reached a place reserved for training data."""


@dataclass(frozen=True)
class TrainingRow:
    """One labelled text. `origin` says where it came from; only "case" and "correction" rows
    are scored in CV."""

    key: str  # stable id, e.g. "001_7db842c1dad96953#12", "theme:live.mobility", a store case_id
    origin: str  # "case" | "correction" | "partner" | "pillar_wording" | "theme_wording" | "item_wording"
    title: str
    text: str
    pillar: str | None
    theme: str | None
    items: tuple[int, ...]  # most central first; empty = no item label

    @property
    def input_text(self) -> str:
        return case_input(self.title, self.text)


@dataclass(frozen=True)
class GoldLabelledCase:
    """A gold case with its text recovered from the gold span of the normalised document."""

    doc: str
    ordinal: int
    heading: str
    text: str
    pillar: str
    theme: str | None
    items: tuple[int, ...]
    split: str
    source: str
    judgement_call: bool = False  # the labeller marked the pillar a judgement call (GUIDELINE.md)
    secondary_pillars: tuple[str, ...] = ()  # pillars the case also serves (acceptable second readings)


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _gold_location(stem: str, seeds: Path, labels_dir: Path, segmentation_dir: Path) -> tuple[Path, Path, Path]:
    """(label file, segmentation gold file, folder of the document) of a labelled document: a seed
    (`labels_dir/<stem>.json`, the document in `seeds`) or a real PDF (`labels_dir/pdfs/<stem>.json`,
    the document in the shared folder's `pdfs/`, beside `seeds`)."""
    seed_labels = labels_dir / f"{stem}.json"
    if seed_labels.is_file():
        return seed_labels, segmentation_dir / f"{stem}.json", seeds
    return (labels_dir / PDF_SUBDIR / f"{stem}.json", segmentation_dir / PDF_SUBDIR / f"{stem}.json",
            seeds.parent / PDF_SUBDIR)


def gold_cases(stem: str, seeds: Path, labels_dir: Path = paths.LABEL_GOLD,
               segmentation_dir: Path = paths.SEGMENTATION_GOLD) -> list[GoldLabelledCase]:
    """The labelled cases of one document (a seed or a real PDF), texts cut at their gold spans."""
    from jirei.gold import gold_spans, load_gold
    from jirei.extract.ingest import ingest

    label_path, segmentation_path, documents = _gold_location(stem, seeds, labels_dir, segmentation_dir)
    labels = _read_json(label_path)
    gold = load_gold(segmentation_path)
    if len(gold.cases) != len(labels["cases"]):
        raise ValueError(f"{stem}: {len(labels['cases'])} label rows but {len(gold.cases)} gold cases")
    source = documents / labels["doc"]
    if not source.is_file():
        raise FileNotFoundError(f"{source}: labelled document not found ({paths.SHARED_HOWTO})")
    document = ingest(source)
    spans = gold_spans(document.text, gold)
    out = []
    for i, (row, (start, stop)) in enumerate(zip(labels["cases"], spans), start=1):
        out.append(GoldLabelledCase(doc=labels["doc"], ordinal=i, heading=row["heading"],
                                    text=document.text[start:stop], pillar=row["pillar"], theme=row.get("theme"),
                                    items=tuple(row["action_items"]), split=row["split"], source=row["source"],
                                    judgement_call=bool(row.get("judgement_call")),
                                    secondary_pillars=tuple(row.get("secondary_pillars") or ())))
    return out


def label_files(labels_dir: Path = paths.LABEL_GOLD) -> list[Path]:
    """The per-document gold label files (not the partner rows): the seeds', then the real PDFs',
    each sorted."""
    seeds = sorted(p for p in labels_dir.glob("*.json") if p.name != PARTNERS_FILE)
    return seeds + sorted((labels_dir / PDF_SUBDIR).glob("*.json"))


def training_cases(seeds: Path, labels_dir: Path = paths.LABEL_GOLD) -> list[GoldLabelledCase]:
    """Gold cases of split "train" from every label file (seed 001 part I, the real PDFs' cases)."""
    out = []
    for path in label_files(labels_dir):
        cases = gold_cases(path.stem, seeds, labels_dir)
        out.extend(c for c in cases if c.split == TRAIN_SPLIT)
    for c in out:
        if c.split != TRAIN_SPLIT:  # defensive: the filter above is the whole protocol
            raise SplitError(f"{c.doc} case {c.ordinal} has split {c.split!r}, not {TRAIN_SPLIT!r}")
    return out


def held_out_cases(seeds: Path, labels_dir: Path = paths.LABEL_GOLD) -> list[GoldLabelledCase]:
    """Gold cases of split "test": for evaluation only."""
    out = []
    for path in label_files(labels_dir):
        out.extend(c for c in gold_cases(path.stem, seeds, labels_dir) if c.split == TEST_SPLIT)
    return out


def wording_rows(taxonomy: Taxonomy) -> list[TrainingRow]:
    """The scheme's own wording as labelled rows: one per pillar, one per theme (pillar wording +
    theme wording, labelled with that pillar), one per action item."""
    rows = []
    themes = {t.id: t for t in taxonomy.label_set("theme").labels}
    for pillar in taxonomy.label_set("pillar").labels:
        heading = pillar.get("seed_heading") or pillar.label_ja
        rows.append(TrainingRow(f"pillar:{pillar.id}", "pillar_wording", heading,
                                f"{pillar.label_ja}\n{pillar.wording}", pillar.id, None, ()))
        for theme_ref in pillar.get("themes", []) or []:
            theme = themes[theme_ref["id"]]
            text = f"{pillar.label_ja}：{pillar.wording}\n{theme.wording}"
            rows.append(TrainingRow(f"theme:{theme.id}", "theme_wording", theme.wording, text, pillar.id, theme.id, ()))
    for item in taxonomy.label_set("action_item").labels:
        text = "\n".join([item.wording, *(item.get("wording_variants") or [])])
        rows.append(TrainingRow(f"item:{item.number}", "item_wording", item.wording, text, None, None, (item.number,)))
    return rows


def partner_rows(labels_dir: Path = paths.LABEL_GOLD) -> list[TrainingRow]:
    """The 21 partner rows of seed 000, each labelled with its action item."""
    rows = _read_json(labels_dir / PARTNERS_FILE)
    return [TrainingRow(f"partner:{r['item']}:{i}", "partner", r["partner"], r["text"], None, None, (int(r["item"]),))
            for i, r in enumerate(rows)]


def case_rows(cases: list[GoldLabelledCase]) -> list[TrainingRow]:
    rows = []
    for c in cases:
        if c.split != TRAIN_SPLIT:
            raise SplitError(f"{c.doc} case {c.ordinal} ({c.heading[:30]}) is held out (split {c.split!r})")
        rows.append(TrainingRow(f"{Path(c.doc).stem}#{c.ordinal}", "case", c.heading, c.text, c.pillar, c.theme, c.items))
    return rows


def training_rows(taxonomy: Taxonomy, seeds: Path | None = None, labels_dir: Path = paths.LABEL_GOLD) -> list[TrainingRow]:
    """All training rows, in a fixed order (cases in document order, then scheme rows, then
    partner rows), so that fitting is deterministic."""
    seeds = seeds or paths.seeds_dir()
    return case_rows(training_cases(seeds, labels_dir)) + wording_rows(taxonomy) + partner_rows(labels_dir)


def training_sha256(rows: list[TrainingRow]) -> str:
    """A fingerprint of exactly what the models were fitted on (keys, texts and labels)."""
    h = hashlib.sha256()
    for r in rows:
        record = [r.key, r.origin, r.title, r.text, r.pillar, r.theme, list(r.items)]
        h.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()

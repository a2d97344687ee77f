"""Loaders of the hand-made gold in `corpus/`: case boundaries and the spans they give.

A gold file (`corpus/segmentation/*.json`, format in its README) lists each case's heading and
ending strings; `gold_spans` turns them into spans of a document's normalised text, which the
entity and label gold describe. `comparable` is the white-space- and mark-blind form the
segmentation scorer and the training-data guards compare texts in.

Part of the ground floor: imports only the ground (records, normalisation).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from jirei.normalise import normalise

_IGNORED = re.compile(r"[\s#*・\-]|</?b>")


def comparable(text: str) -> str:
    return _IGNORED.sub("", normalise(text))


@dataclass
class GoldCase:
    heading: str
    end: str
    note: str = ""


@dataclass
class Gold:
    doc: str
    sha256: str
    cases: list[GoldCase]
    path: Path | None = None

    @property
    def stem(self) -> str:
        return Path(self.doc).stem


def load_gold(path: str | Path) -> Gold:
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    cases = [GoldCase(c["heading"], c["end"], c.get("note", "")) for c in data["cases"]]
    return Gold(doc=data["doc"], sha256=data.get("sha256", ""), cases=cases, path=path)


def load_gold_dir(folder: str | Path) -> list[Gold]:
    return [load_gold(p) for p in sorted(Path(folder).glob("*.json"))]


def _find_loose(text: str, needle: str, start: int) -> tuple[int, int]:
    """(start, end) of `needle` in `text` from `start`, exactly, else with its line breaks and spaces
    free to be present or not: a reader that joins a table cell's wrapped lines (or breaks a line
    another reader kept) still holds the same end. (-1, -1) when absent."""
    at = text.find(needle, start)
    if at >= 0:
        return at, at + len(needle)
    chars = [re.escape(ch) for ch in needle if not ch.isspace()]
    if not chars:
        return -1, -1
    m = re.compile(r"\s*".join(chars)).search(text, start)
    return (m.start(), m.end()) if m else (-1, -1)


def gold_spans(text: str, gold: Gold) -> list[tuple[int, int]]:
    """Each gold case's span in a document's normalised `text`: from its heading to the end of
    the first occurrence of its `end` after it (corpus/segmentation/README.md). The entity and
    label gold describe exactly these spans."""
    spans = []
    cursor = 0
    for g in gold.cases:
        heading, end = normalise(g.heading), normalise(g.end)
        start = text.find(heading, cursor)
        if start < 0:
            raise ValueError(f"{gold.doc}: gold heading not found in text: {g.heading[:40]}")
        stop, stop_end = _find_loose(text, end, start)
        if stop < 0:
            raise ValueError(f"{gold.doc}: gold end not found after heading: {g.heading[:40]}")
        spans.append((start, stop_end))
        cursor = start + len(heading)
    return spans

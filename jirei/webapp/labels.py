"""The label scheme as the reviewer sees it (Japanese names, key bindings), where a label came
from (model or reviewer), the reviewer's values in the store's shapes, and one-line summaries of
values for the history table."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from jirei.export import place_label

SCHEME = "chiiki_kyoso"
PILLAR_KEYS = ("1", "2", "3", "4")  # primary pillar, in the scheme's order
SECONDARY_KEYS = ("z", "x", "c", "v")  # secondary pillars: the row under 1-4's fingers
SEGMENTATION_FLAGS = (("not_a_case", "事例ではない (not a case)"),
                      ("merge_previous", "前の事例と結合 (merge with previous)"),
                      ("split_here", "ここで分割 (split here)"))


@dataclass(frozen=True)
class Theme:
    id: str
    ja: str
    pillar: str


@dataclass(frozen=True)
class Pillar:
    id: str
    ja: str
    wording: str
    key: str
    secondary_key: str
    themes: tuple[Theme, ...]


@dataclass(frozen=True)
class Item:
    number: int
    ja: str
    en: str
    code: str  # KeyboardEvent.code of its digit: the physical key, the same on JIS and US layouts
    key_label: str


@dataclass(frozen=True)
class Scheme:
    version: str
    pillars: tuple[Pillar, ...]
    themes: tuple[Theme, ...]
    items: tuple[Item, ...]

    def pillar(self, pillar_id: str | None) -> Pillar | None:
        return next((p for p in self.pillars if p.id == pillar_id), None)

    def theme(self, theme_id: str | None) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)

    def item(self, number: int) -> Item | None:
        return next((i for i in self.items if i.number == number), None)

    @property
    def pillar_ids(self) -> list[str]:
        return [p.id for p in self.pillars]


@functools.lru_cache(maxsize=1)
def scheme() -> Scheme:
    from jirei.classify.taxonomy import load_taxonomy

    tax = load_taxonomy(SCHEME)
    themes = tuple(Theme(t.id, t.label_ja, t.get("pillar")) for t in tax.label_set("theme").labels)
    pillars = tuple(
        Pillar(p.id, p.label_ja, p.wording, PILLAR_KEYS[i], SECONDARY_KEYS[i],
               tuple(t for t in themes if t.pillar == p.id))
        for i, p in enumerate(tax.label_set("pillar").labels))
    items = tuple(
        Item(label.number, label.label_ja, label.get("gloss_en") or "", f"Digit{label.number % 10}",
             f"⇧{label.number % 10}")
        for label in sorted(tax.label_set("action_item").labels, key=lambda x: x.number))
    return Scheme(tax.version, pillars, themes, items)


# --- provenance ---------------------------------------------------------------------------------


def is_reviewer_value(value: Any) -> bool:
    """A value a reviewer wrote: a dict with source reviewer, or a list holding one."""
    if isinstance(value, dict):
        return str(value.get("source") or "").startswith("reviewer")
    if isinstance(value, list):
        return any(is_reviewer_value(v) for v in value)
    return False


def field_is_reviewed(record: dict, field: str) -> bool:
    return any((s or "").startswith("reviewer") for s in record.get("sources", {}).get(field, []))


def model_labels(record: dict, history: list[dict]) -> dict[str, Any]:
    """The model's latest pillar, theme and action items for a case, with its version.

    While no reviewer touched a field, the stored value is the model's. After that the model's
    value is in the history: the `new` of the latest model entry, or the `old` that the first
    reviewer change replaced."""
    out: dict[str, Any] = {}
    for field in ("pillar", "theme", "action_items"):
        value = record.get(field)
        if field_is_reviewed(record, field) or is_reviewer_value(value):
            value = None
            for entry in reversed([h for h in history if h["field"] == field]):
                if entry["who"].startswith("model"):
                    value = entry["new"]
                    break
                if entry["old"] is not None and not is_reviewer_value(entry["old"]):
                    value = entry["old"]
                    break
        out[field] = value
    pillar = out["pillar"] or {}
    out["version"] = pillar.get("model") or next(
        (s.split("@", 1)[1] for s in record.get("sources", {}).get("pillar", []) if s and s.startswith("model@")), None)
    return out


def reviewer_label(label: str | None, who: str) -> dict:
    """A pillar or theme as a reviewer sets it (`label` None: the reviewer says there is none)."""
    return {"label": label, "source": "reviewer", "reviewer": who}


def reviewer_items(numbers: list[int], who: str) -> list[dict]:
    return [{"item": n, "source": "reviewer", "reviewer": who} for n in sorted(set(numbers))]


def review_changes(pillar: str | None, theme: str | None, items: list[int], who: str) -> dict[str, Any]:
    """The label fields a save or an accept writes, in the store's shapes."""
    return {"pillar": reviewer_label(pillar, who) if pillar else None,
            "theme": reviewer_label(theme, who),
            "action_items": reviewer_items(items, who)}


# --- one-line summaries -------------------------------------------------------------------------


def _label(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("label")
    return value if isinstance(value, str) else None


def summarise(field: str, value: Any) -> str:
    """A value as the history table shows it."""
    s = scheme()
    if value is None or value == []:
        return "—"
    if field in ("pillar", "declared_pillar"):
        label = _label(value)
        p = s.pillar(label)
        text = p.ja if p else str(label)
        if isinstance(value, dict) and value.get("score") is not None:
            text += f" {value['score']:.2f}"
        return text
    if field == "secondary_pillars":
        return "・".join((s.pillar(_label(v)).ja if s.pillar(_label(v)) else str(v)) for v in value)
    if field == "theme":
        label = _label(value)
        t = s.theme(label)
        return t.ja if t else ("なし (none)" if label is None else str(label))
    if field == "action_items":
        return ", ".join(str(a.get("item")) for a in value if isinstance(a, dict))
    if field == "pillars":
        return ", ".join(f"{_label(p)} {p.get('score', 0):.2f}" for p in value if isinstance(p, dict))
    if field == "organisations":
        return "; ".join(o.get("name", "") for o in value if isinstance(o, dict))
    if field == "places":
        return "; ".join(place_label(p) or p.get("text", "") for p in value if isinstance(p, dict))
    if field == "years":
        return ", ".join(str(y) for y in value)
    if field == "segmentation":
        flags = dict(SEGMENTATION_FLAGS)
        text = flags.get(value.get("flag"), str(value.get("flag")))
        return text + (f" @ {value['offset']}" if value.get("offset") is not None else "")
    if field == "notes":
        last = value[-1] if isinstance(value, list) and value else {}
        return f"{len(value)} note(s); last: {str(last.get('text', ''))[:60]}"
    if field == "year_mentions":
        return ", ".join(f"{m.get('text', '')} ({m.get('kind') or '?'})" for m in value if isinstance(m, dict))
    if field == "case":
        if isinstance(value, dict) and value.get("op"):
            return f"made by {value['op']} of {', '.join(value.get('from') or [])}"
        return "stored by batch"
    if field == "boundary":
        if isinstance(value, dict):
            return f"{value.get('op')}: replaced by {', '.join(value.get('by') or [])}"
    return str(value)


def provenance(value: Any, sources: list[str]) -> str:
    """`model`, `reviewer ana`, `declared` …: where a single value came from."""
    if isinstance(value, dict) and str(value.get("source") or "").startswith("reviewer"):
        return f"reviewer {value.get('reviewer', '')}".strip()
    src = next((x for x in sources if x), "")
    if src.startswith("reviewer:"):
        return "reviewer " + src.split(":", 1)[1]
    if src.startswith("model"):
        return "model"
    return src or ("model" if isinstance(value, dict) and value.get("source") == "model" else "")

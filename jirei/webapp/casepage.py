"""The case page: the highlighted text, the model's and the reviewer's labels, the entity rows,
the history; and the review form read back into the store's field values.

Case text is untrusted. It is cut into plain segments here and every segment is escaped by the
template (Jinja2 autoescape); nothing of the text is ever marked safe."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from jirei.export import place_label

from . import places
from .labels import (SEGMENTATION_FLAGS, field_is_reviewed, is_reviewer_value, model_labels, provenance,
                     review_changes, scheme, summarise)

ORG_ROLES = (("lead", "主体 lead"), ("partner", "連携 partner"), ("", "—"))
MIN_YEAR, MAX_YEAR = 1868, 2100  # Meiji 1 to far targets: what a stated year can be
REVIEW_FIELDS = ("pillar", "secondary_pillars", "theme", "action_items", "organisations", "places", "years",
                 "segmentation", "notes", "review_status")


def load_case(store, case_id: str) -> dict | None:
    """The stored case record plus the review fields its record leaves out (notes, segmentation)."""
    record = store.case(case_id)
    if record is not None:
        record.update(store.field_values(case_id, ("notes", "segmentation")))
    return record


# --- highlights ---------------------------------------------------------------------------------


@dataclass
class Segment:
    text: str
    kinds: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()

    @property
    def css(self) -> str:
        return " ".join(f"hl-{k}" for k in self.kinds)

    @property
    def title(self) -> str:
        return " / ".join(self.titles)


def _marks(record: dict) -> list[tuple[int, int, str, str]]:
    base, text_len = record["span"][0], len(record["text"])
    out = []

    def add(value: dict, kind: str, title: str) -> None:
        span = value.get("span") if isinstance(value, dict) else None
        if not (isinstance(span, (list, tuple)) and len(span) == 2):
            return
        start, end = int(span[0]) - base, int(span[1]) - base  # document offsets → case offsets
        start, end = max(0, start), min(text_len, end)
        if start < end:
            out.append((start, end, kind, title))

    for o in record.get("organisations") or []:
        add(o, "org", f"組織 {o.get('name', '')}" + (f" ({o['role']})" if o.get("role") else ""))
    for p in record.get("places") or []:
        code = f" {p['code']}" if p.get("code") else ""
        add(p, "place", f"地名 {place_label(p) or p.get('text', '')}{code}")
    for m in record.get("year_mentions") or []:
        flags = [f for f in ("relative", "target", "fiscal") if m.get(f)]
        add(m, "year", f"年 {m.get('year')}" + (f" ({', '.join(flags)})" if flags else ""))
    return out


def highlight(record: dict) -> list[Segment]:
    """The case text cut at every entity boundary; each piece knows which entities cover it
    (overlaps, e.g. a chamber that is also the place it implies, keep both)."""
    text = record["text"]
    marks = _marks(record)
    cuts = sorted({0, len(text), *(m[0] for m in marks), *(m[1] for m in marks)})
    segments = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [m for m in marks if m[0] <= a and b <= m[1]]
        kinds = tuple(dict.fromkeys(m[2] for m in covering))
        titles = tuple(dict.fromkeys(m[3] for m in covering))
        segments.append(Segment(text[a:b], kinds, titles))
    return segments


# --- what the page shows ------------------------------------------------------------------------


def place_value(p: dict) -> str:
    """A place as its input shows it: gazetteer places with their code (read back by code)."""
    if p.get("code") and p.get("level") in ("municipality", "prefecture"):
        label = f"{p.get('prefecture') or ''}{p.get('municipality') or ''}"
        return f"{label} {p['code']}"
    return place_label(p) or p.get("text", "")


def history_rows(history: list[dict]) -> list[dict]:
    rows = []
    for h in reversed(history):
        note = h.get("note") or ""
        kind = note.split(" ", 1)[0] if note.startswith(("save ", "accept ")) else note
        rows.append({"id": h["id"], "at": h["at"].replace("T", " ")[:19] + " UTC", "who": h["who"],
                     "field": h["field"], "old": summarise(h["field"], h["old"]) if h["field"] != "case" else "",
                     "new": summarise(h["field"], h["new"]), "model_version": h.get("model_version") or "",
                     "note": kind})
    return rows


def case_context(record: dict, history: list[dict]) -> dict[str, Any]:
    """Everything the case template shows about the case itself (not navigation or the user)."""
    s = scheme()
    model = model_labels(record, history)
    model_items = {a["item"]: a.get("score") for a in (model.get("action_items") or []) if isinstance(a, dict)}
    current_items = {a.get("item") for a in record.get("action_items") or [] if isinstance(a, dict)}
    scores = {p.get("label"): p.get("score") for p in record.get("pillars") or []}
    pillar = record.get("pillar") or {}
    theme = record.get("theme") or {}
    seg = record.get("segmentation") or {}
    base = record["span"][0]
    return {
        "segments": highlight(record),
        "pillar_rows": [{"id": p.id, "ja": p.ja, "wording": p.wording, "key": p.key, "secondary_key": p.secondary_key,
                         "score": scores.get(p.id), "checked": pillar.get("label") == p.id,
                         "secondary": p.id in [v if isinstance(v, str) else v.get("label")
                                               for v in record.get("secondary_pillars") or []]}
                        for p in s.pillars],
        "pillar_source": provenance(pillar, record.get("sources", {}).get("pillar", [])) if pillar else "",
        "theme_groups": [{"pillar": p, "themes": p.themes} for p in s.pillars],
        "theme_current": theme.get("label") if isinstance(theme, dict) else None,
        "theme_source": provenance(theme, record.get("sources", {}).get("theme", [])) if theme else "",
        "item_rows": [{"number": i.number, "ja": i.ja, "en": i.en, "code": i.code, "key_label": i.key_label,
                       "checked": i.number in current_items, "model_score": model_items.get(i.number),
                       "model_chosen": i.number in model_items}
                      for i in s.items],
        "items_source": provenance((record.get("action_items") or [None])[0],
                                   record.get("sources", {}).get("action_items", [])),
        "model": {"pillar": summarise("pillar", model["pillar"]) if model["pillar"] else "—",
                  "theme": summarise("theme", model["theme"]) if model["theme"] else "なし (none)",
                  "item_summary": summarise("action_items", model["action_items"]) or "—",
                  "version": model["version"] or "", "available": bool(model["pillar"])},
        "declared": record.get("declared_pillar"),
        "declared_ja": summarise("pillar", {"label": (record.get("declared_pillar") or {}).get("label")})
        if record.get("declared_pillar") else "",
        "declared_theme_ja": summarise("theme", (record.get("declared_pillar") or {}).get("theme"))
        if (record.get("declared_pillar") or {}).get("theme") else "",
        "org_rows": [{"i": i, "name": o.get("name", ""), "role": o.get("role") or "", "source": o.get("source", ""),
                      "reviewer": o.get("reviewer", ""), "keep": True}
                     for i, o in enumerate(record.get("organisations") or [])],
        "org_roles": ORG_ROLES,
        "place_rows": [{"i": i, "value": place_value(p), "level": p.get("level", ""), "source": p.get("source", ""),
                        "ambiguous": bool(p.get("ambiguous")), "reviewer": p.get("reviewer", ""), "keep": True}
                       for i, p in enumerate(record.get("places") or [])],
        "year_rows": [{"i": i, "value": y, "keep": True} for i, y in enumerate(record.get("years") or [])],
        "year_mentions": record.get("year_mentions") or [],
        "seg_flags": SEGMENTATION_FLAGS,
        "seg_current": seg.get("flag") or "",
        "seg_offset": (seg["offset"] - base) if isinstance(seg.get("offset"), int) else "",
        "notes": record.get("notes") or [],
        "history": history_rows(history),
        "typed": {"org_new": "", "org_new_role": "partner", "place_new": "", "year_new": "", "note": ""},
        "form_version": record["version"],
        "reviewed_fields": [f for f in ("pillar", "theme", "action_items") if field_is_reviewed(record, f)],
    }


def typed_entries(form) -> dict[str, str]:
    """What the form's free fields hold: the new organisation (and its role), place and year, the note."""
    typed = {name: form.get(name) or "" for name in ("org_new", "place_new", "year_new", "note")}
    typed["org_new_role"] = form.get("org_new_role", "partner")
    return typed


def form_context(context: dict[str, Any], form, record: dict) -> dict[str, Any]:
    """`case_context` with the review form's fields as `form` sent them (after a refused save, or
    a save kept across a login): the checked labels, the entity rows as typed (unchecked ones
    stay unchecked), the new entries, the segmentation mark, the note, and the version the
    reviewer had read (so saving it again still detects another reviewer's change)."""
    out = dict(context)
    chosen, secondary = form.get("pillar") or "", set(form.getlist("secondary"))
    out["pillar_rows"] = [{**r, "checked": r["id"] == chosen, "secondary": r["id"] in secondary}
                          for r in context["pillar_rows"]]
    out["theme_current"] = form.get("theme") or None
    items = _ints(form.getlist("item"))
    out["item_rows"] = [{**r, "checked": r["number"] in items} for r in context["item_rows"]]

    def rows(key: str, keep_field: str, fields: dict[str, str]) -> list[dict]:
        keep = _ints(form.getlist(keep_field))
        return [{**r, "keep": r["i"] in keep,
                 **{attr: form.get(name.format(i=r["i"]), r[attr]) for attr, name in fields.items()}}
                for r in context[key]]

    out["org_rows"] = rows("org_rows", "org_keep", {"name": "org_name_{i}", "role": "org_role_{i}"})
    out["place_rows"] = rows("place_rows", "place_keep", {"value": "place_{i}"})
    out["year_rows"] = rows("year_rows", "year_keep", {"value": "year_{i}"})
    out["typed"] = typed_entries(form)
    out["seg_current"] = form.get("seg_flag") or ""
    out["seg_offset"] = form.get("seg_offset") or ""
    version = (form.get("version") or "").strip()
    out["form_version"] = int(version) if version.isdigit() else record["version"]
    return out


# --- the review form ----------------------------------------------------------------------------


@dataclass
class ReviewForm:
    changes: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _ints(values: list[str]) -> set[int]:
    return {int(v) for v in values if v.strip().isdigit()}


def _locate(text: str, surface: str, base: int) -> list[int] | None:
    at = text.find(surface) if surface else -1
    return [base + at, base + at + len(surface)] if at >= 0 else None


def _organisations(form, record: dict, who: str) -> list[dict]:
    text, base = record["text"], record["span"][0]
    keep = _ints(form.getlist("org_keep"))
    out: list[dict] = []
    for i, orig in enumerate(record.get("organisations") or []):
        if i not in keep:
            continue
        name = (form.get(f"org_name_{i}") or "").strip()
        role = form.get(f"org_role_{i}") or ""
        if not name:
            continue
        if name == orig.get("name") and role == (orig.get("role") or ""):
            out.append(orig)
            continue
        fixed = {"name": name, "text": name, "role": role or None, "source": "reviewer", "reviewer": who}
        span = orig.get("span") if name == orig.get("name") else _locate(text, name, base)
        if span:
            fixed["span"] = span
        out.append(fixed)
    new = (form.get("org_new") or "").strip()
    if new:
        value = {"name": new, "text": new, "role": form.get("org_new_role") or None, "source": "reviewer",
                 "reviewer": who}
        span = _locate(text, new, base)
        if span:
            value["span"] = span
        out.append(value)
    seen, unique = set(), []
    for o in out:
        if o["name"] not in seen:
            seen.add(o["name"])
            unique.append(o)
    return unique


def _places(form, record: dict, who: str, errors: list[str]) -> list[dict]:
    text, base = record["text"], record["span"][0]
    keep = _ints(form.getlist("place_keep"))
    out: list[dict] = []
    for i, orig in enumerate(record.get("places") or []):
        if i not in keep:
            continue
        submitted = (form.get(f"place_{i}") or "").strip()
        if submitted == place_value(orig) or not submitted:
            out.append(orig)
            continue
        fixed, error = places.resolve(submitted, who, text, base)
        if error:
            errors.append(error)
        elif fixed:
            out.append(fixed)
    for submitted in (form.get("place_new") or "").split("、"):
        if submitted.strip():
            value, error = places.resolve(submitted, who, text, base)
            if error:
                errors.append(error)
            elif value:
                out.append(value)
    return out


def _years(form, record: dict, errors: list[str]) -> list[int]:
    keep = _ints(form.getlist("year_keep"))
    years: list[int] = []
    for i, orig in enumerate(record.get("years") or []):
        if i in keep:
            raw = (form.get(f"year_{i}") or str(orig)).strip()
            years += _parse_years(raw, errors)
    years += _parse_years(form.get("year_new") or "", errors)
    return sorted(set(years))


def _parse_years(raw: str, errors: list[str]) -> list[int]:
    out = []
    for token in raw.replace(",", " ").replace("、", " ").split():
        token = token.removesuffix("年")
        if token.isdigit() and MIN_YEAR <= int(token) <= MAX_YEAR:
            out.append(int(token))
        else:
            errors.append(f"「{token}」 is not a calendar year ({MIN_YEAR}–{MAX_YEAR})")
    return out


def _segmentation(form, record: dict, who: str, errors: list[str]) -> dict | None:
    flag = form.get("seg_flag") or ""
    if flag not in dict(SEGMENTATION_FLAGS):
        return None
    offset = None
    raw = (form.get("seg_offset") or "").strip()
    if raw:
        if raw.isdigit() and 0 <= int(raw) <= len(record["text"]):
            offset = record["span"][0] + int(raw)
        else:
            errors.append(f"split offset {raw!r} is not a character position in this case (0–{len(record['text'])})")
    if flag == "split_here" and offset is None and not errors:
        errors.append("split here: give the character position (select text in the case and press m)")
    return {"flag": flag, "offset": offset, "source": "reviewer", "reviewer": who}


def parse_review_form(form, record: dict, who: str) -> ReviewForm:
    """The submitted form as store field values (reviewer's shapes, see labels.py). Label
    fields are always written (saving confirms them); entity fields, the segmentation mark and
    notes only when they differ from what is stored."""
    s = scheme()
    result = ReviewForm()
    errors = result.errors
    pillar = form.get("pillar") or None
    if pillar is not None and s.pillar(pillar) is None:
        errors.append(f"unknown pillar {pillar!r}")
        pillar = None
    segmentation = _segmentation(form, record, who, errors)
    if pillar is None and not (segmentation and segmentation["flag"] == "not_a_case"):
        errors.append("choose a pillar (keys 1–4), or mark the entry as not a case (m)")
    theme = form.get("theme") or None
    if theme is not None and s.theme(theme) is None:
        errors.append(f"unknown theme {theme!r}")
        theme = None
    items = sorted(n for n in _ints(form.getlist("item")) if s.item(n))
    secondary = [p for p in s.pillar_ids if p in form.getlist("secondary") and p != pillar]
    changes: dict[str, Any] = {}
    labels = review_changes(pillar, theme, items, who)
    changes["pillar"] = labels["pillar"]
    if secondary or record.get("secondary_pillars"):
        changes["secondary_pillars"] = secondary
    changes["theme"] = labels["theme"]
    changes["action_items"] = labels["action_items"]
    for name, value in (("organisations", _organisations(form, record, who)),
                        ("places", _places(form, record, who, errors)),
                        ("years", _years(form, record, errors))):
        if value != (record.get(name) or []):
            changes[name] = value
    current_seg = record.get("segmentation")
    if _seg_key(segmentation) != _seg_key(current_seg):
        changes["segmentation"] = segmentation
    note = (form.get("note") or "").strip()
    if note:
        from jirei.store import now

        changes["notes"] = list(record.get("notes") or []) + [
            {"text": note[:4000], "reviewer": who, "at": now(), "source": "reviewer"}]
    changes["review_status"] = "reviewed"
    result.changes = changes
    return result


def _seg_key(value: dict | None) -> tuple | None:
    return (value.get("flag"), value.get("offset")) if value else None


def accept_changes(record: dict, history: list[dict], who: str) -> dict[str, Any] | None:
    """`a`: the model's current labels written as the reviewer's (None: the model gave none)."""
    model = model_labels(record, history)
    if not model["pillar"]:
        return None
    items = [a["item"] for a in model.get("action_items") or [] if isinstance(a, dict)]
    theme = (model.get("theme") or {}).get("label") if isinstance(model.get("theme"), dict) else None
    changes = review_changes(model["pillar"]["label"], theme, items, who)
    changes["review_status"] = "reviewed"
    return changes


def change_note(kind: str) -> str:
    """The history note shared by the entries of one save or accept, so `u` undoes them together."""
    return f"{kind} {secrets.token_hex(4)}"


def undo_target(history: list[dict], who: str) -> tuple[list[int], str | None]:
    """The entries of `who`'s latest save or accept on this case that is not undone yet, or why
    there is none. Refused when someone changed one of those fields afterwards: undoing would
    silently overwrite their value."""
    undone = {int(h["note"].split("#", 1)[1]) for h in history
              if (h.get("note") or "").startswith("undo #") and h["note"].split("#", 1)[1].isdigit()}
    groups: dict[str, list[dict]] = {}
    for h in history:
        note = h.get("note") or ""
        if h["who"] == who and note.startswith(("save ", "accept ")):
            groups.setdefault(note, []).append(h)
    for note in sorted(groups, key=lambda n: max(e["id"] for e in groups[n]), reverse=True):
        entries = groups[note]
        if any(e["id"] in undone for e in entries):
            continue
        last = max(e["id"] for e in entries)
        fields = {e["field"] for e in entries}
        later = [h for h in history if h["id"] > last and h["field"] in fields and h["id"] not in undone
                 and not (h.get("note") or "").startswith("undo #")]
        if later:
            who = ", ".join(dict.fromkeys(h["who"] for h in later))
            what = ", ".join(dict.fromkeys(h["field"] for h in later))
            return [], (f"{who} changed {what} after your change; undoing it would overwrite theirs. "
                        "Edit the case instead.")
        return [e["id"] for e in entries], None
    return [], "nothing of yours to undo on this case"


def describe_changes(changes: dict[str, Any], record: dict) -> list[str]:
    """`pillar: 住む → 働く` lines for what a save would have changed (shown after a conflict)."""
    lines = []
    for name, new in changes.items():
        if name == "review_status":
            continue
        old = record.get(name)
        old_text, new_text = summarise(name, old), summarise(name, new)
        if old_text != new_text or is_reviewer_value(new) != is_reviewer_value(old):
            lines.append(f"{name}: {old_text} → {new_text}")
    return lines

"""The case page: the highlighted text, the model's and the reviewer's labels, the entity rows,
the history; and the review form read back into the store's field values.

Case text is untrusted. It is cut into plain segments here and every segment is escaped by the
template (Jinja2 autoescape); nothing of the text is ever marked safe. Its markup (`#` headings,
`- ` bullets) is drawn by CSS around the characters, which all stay in the page, so offsets of
a selection are offsets into the text. The span editor (static/app.js) sends its edits as form
rows: `new_n` rows for values added from a selection, `*_span_<i>` for moved highlights."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from jirei.export import place_label

from . import places
from .labels import (SEGMENTATION_FLAGS, field_is_reviewed, is_reviewer_value, model_labels, provenance,
                     review_changes, scheme, summarise)

ORG_ROLES = (("lead", "主体 lead"), ("partner", "連携 partner"), ("mentioned", "言及 mentioned"), ("", "—"))
ORG_KINDS = (("company", "企業 company"), ("government", "自治体 government"), ("chamber", "商工会議所 chamber"),
             ("school", "学校 school"), ("association", "団体 association"), ("cooperative", "組合 cooperative"),
             ("other", "その他 other"), ("", "—"))
SPAN_LABELS = (("org", "組織 organisation"), ("place", "地名 place"), ("year", "年 year"))
MIN_YEAR, MAX_YEAR = 1868, 2100  # Meiji 1 to far targets: what a stated year can be
REVIEW_FIELDS = ("title", "pillar", "secondary_pillars", "theme", "action_items", "organisations", "places", "years",
                 "year_mentions", "segmentation", "notes", "review_status")


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
    refs: tuple[str, ...] = ()

    @property
    def css(self) -> str:
        return " ".join(f"hl-{k}" for k in self.kinds)

    @property
    def title(self) -> str:
        return " / ".join(self.titles)


def _marks(record: dict) -> list[tuple[int, int, str, str, str]]:
    """(start, end, kind, title, ref) of every highlighted value, in case offsets; `ref` names
    the value's row in the review form (org:0, place:2, men:1)."""
    base, text_len = record["span"][0], len(record["text"])
    out = []

    def add(value: dict, kind: str, title: str, ref: str) -> None:
        span = value.get("span") if isinstance(value, dict) else None
        if not (isinstance(span, (list, tuple)) and len(span) == 2):
            return
        start, end = int(span[0]) - base, int(span[1]) - base  # document offsets → case offsets
        start, end = max(0, start), min(text_len, end)
        if start < end:
            out.append((start, end, kind, title, ref))

    for i, o in enumerate(record.get("organisations") or []):
        add(o, "org", f"組織 {o.get('name', '')}" + (f" ({o['role']})" if o.get("role") else ""), f"org:{i}")
    for i, p in enumerate(record.get("places") or []):
        code = f" {p['code']}" if p.get("code") else ""
        add(p, "place", f"地名 {place_label(p) or p.get('text', '')}{code}", f"place:{i}")
    for i, m in enumerate(record.get("year_mentions") or []):
        flags = [f for f in ("relative", "target", "fiscal") if m.get(f)]
        add(m, "year", f"年 {m.get('year')}" + (f" ({', '.join(flags)})" if flags else ""), f"men:{i}")
    return out


_HEADING = re.compile(r"^(#{1,6})[ \t]+")
_BULLET = re.compile(r"^([ \t\u3000]*)([-*+][ \t]+)")
_DOT = re.compile(r"^[ \t\u3000]*[・●○■◆□◇▪]")


def markup_lines(text: str) -> list[dict]:
    """The case text's lines with their markup: `kind` h1–h6 (a `#` heading), li (a `- `/`* `
    bullet or a `・`-led line) or p, and `mark`: how many leading characters are markup the page
    hides (the `#### `, the `- ` drawn as a bullet). The characters stay in the page, so offsets
    into the text stay offsets into the page's text."""
    out, at = [], 0
    for line in text.split("\n"):
        kind, mark = "p", 0
        m = _HEADING.match(line)
        if m:
            kind, mark = f"h{len(m.group(1))}", m.end()
        elif _BULLET.match(line):
            kind, mark = "li", _BULLET.match(line).end()
        elif _DOT.match(line):
            kind = "li"
        out.append({"start": at, "end": at + len(line), "kind": kind, "mark": mark})
        at += len(line) + 1
    return out


def highlighted_lines(record: dict) -> list[dict]:
    """`markup_lines` with each line's pieces: the text cut at every entity boundary, each piece
    knowing which entities cover it (overlaps, e.g. a chamber that is also the place it implies,
    keep both, with their form rows' refs), and the hidden markup. Rendered escaped by the
    template."""
    text = record["text"]
    marks = _marks(record)
    lines = []
    for line in markup_lines(text):
        s, e, mark_end = line["start"], line["end"], line["start"] + line["mark"]
        cuts = sorted({s, e, mark_end, *(m[0] for m in marks if s < m[0] < e), *(m[1] for m in marks if s < m[1] < e)})
        pieces = []
        for a, b in zip(cuts, cuts[1:]):
            covering = [m for m in marks if m[0] <= a and b <= m[1]]
            seg = Segment(text[a:b], tuple(dict.fromkeys(m[2] for m in covering)),
                          tuple(dict.fromkeys(m[3] for m in covering)), tuple(m[4] for m in covering))
            pieces.append({"seg": seg, "hidden": b <= mark_end})
        lines.append({**line, "pieces": pieces})
    return lines


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
        kind = note.split(" ", 1)[0] if note.startswith(("save ", "accept ", "split ", "merge ")) else note
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
    # every item's calibrated score (the model's, whoever chose the items); older records: the chosen ones
    item_scores = {a.get("item"): a.get("score") for a in record.get("item_scores") or [] if isinstance(a, dict)}
    current_items = {a.get("item") for a in record.get("action_items") or [] if isinstance(a, dict)}
    scores = {p.get("label"): p.get("score") for p in record.get("pillars") or []}
    pillar = record.get("pillar") or {}
    theme = record.get("theme") or {}
    seg = record.get("segmentation") or {}
    base = record["span"][0]
    return {
        "lines": highlighted_lines(record),
        "text_data": {"text": record["text"], "lines": markup_lines(record["text"])},
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
                       "checked": i.number in current_items,
                       "model_score": item_scores.get(i.number, model_items.get(i.number)),
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
        "org_rows": [{"i": i, "name": o.get("name", ""), "role": o.get("role") or "", "kind": o.get("kind") or "",
                      "source": o.get("source", ""), "reviewer": o.get("reviewer", ""), "keep": True,
                      "span": _case_span(o, base)}
                     for i, o in enumerate(record.get("organisations") or [])],
        "org_roles": ORG_ROLES,
        "org_kinds": ORG_KINDS,
        "span_labels": SPAN_LABELS,
        "place_rows": [{"i": i, "value": place_value(p), "level": p.get("level", ""), "source": p.get("source", ""),
                        "ambiguous": bool(p.get("ambiguous")), "reviewer": p.get("reviewer", ""), "keep": True,
                        "span": _case_span(p, base)}
                       for i, p in enumerate(record.get("places") or [])],
        "year_rows": [{"i": i, "value": y, "keep": True} for i, y in enumerate(record.get("years") or [])],
        "mention_rows": [{"i": i, "text": m.get("text", ""), "year": m.get("year"), "kind": m.get("kind") or "",
                          "keep": True, "span": _case_span(m, base), "source": m.get("source", "")}
                         for i, m in enumerate(record.get("year_mentions") or [])],
        "new_rows": [],
        "title_value": record["title"],
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


def _case_span(value: dict, base: int) -> str:
    """A value's span as the form carries it: `start-end` in case offsets ('' without one)."""
    span = value.get("span") if isinstance(value, dict) else None
    if isinstance(span, (list, tuple)) and len(span) == 2:
        return f"{int(span[0]) - base}-{int(span[1]) - base}"
    return ""


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

    out["org_rows"] = rows("org_rows", "org_keep", {"name": "org_name_{i}", "role": "org_role_{i}",
                                                   "kind": "org_kind_{i}", "span": "org_span_{i}"})
    out["place_rows"] = rows("place_rows", "place_keep", {"value": "place_{i}", "span": "place_span_{i}"})
    out["year_rows"] = rows("year_rows", "year_keep", {"value": "year_{i}"})
    if form.get("span_form"):
        out["mention_rows"] = rows("mention_rows", "men_keep", {"span": "men_span_{i}"})
    out["new_rows"] = [{"n": n, **{k: form.get(f"new_{k}_{n}") or "" for k in ("label", "start", "end", "role",
                                                                                 "kind", "value")}}
                       for n in _ints(form.getlist("new_n"))]
    out["title_value"] = form.get("title", record["title"])
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


def _span_field(form, name: str, record: dict, errors: list[str], what: str) -> list[int] | None:
    """A `start-end` span field (case offsets) as a document span; None when empty or wrong
    (with an error naming it)."""
    return _parse_span((form.get(name) or "").strip(), record, errors, what)


def _parse_span(raw: str, record: dict, errors: list[str], what: str) -> list[int] | None:
    if not raw:
        return None
    m = re.fullmatch(r"(\d+)-(\d+)", raw)
    n = len(record["text"])
    if not m or not 0 <= int(m.group(1)) < int(m.group(2)) <= n:
        errors.append(f"{what}: span {raw!r} is not a stretch of this case's text (0–{n})")
        return None
    base = record["span"][0]
    return [base + int(m.group(1)), base + int(m.group(2))]


def _surface(record: dict, span: list[int]) -> str:
    base = record["span"][0]
    return record["text"][span[0] - base:span[1] - base]


def _moved(form, name: str, orig: dict, record: dict, errors: list[str], what: str) -> list[int] | None:
    """The span a row's hidden field sends when it differs from the value's stored one."""
    if form.get(name) is None or form.get(name) == _case_span(orig, record["span"][0]):
        return None
    return _span_field(form, name, record, errors, what)


def _of_label(added: list[dict], label: str) -> list[dict]:
    return [{k: v for k, v in a.items() if k != "label"} for a in added if a.get("label") == label]


def _reviewer_source(who: str) -> dict:
    return {"source": f"reviewer:{who}", "reviewer": who}


def _organisations(form, record: dict, who: str, errors: list[str], added: list[dict]) -> list[dict]:
    text, base = record["text"], record["span"][0]
    keep = _ints(form.getlist("org_keep"))
    out: list[dict] = []
    for i, orig in enumerate(record.get("organisations") or []):
        if i not in keep:
            continue
        name = (form.get(f"org_name_{i}") or "").strip()
        role = form.get(f"org_role_{i}") or ""
        kind = form.get(f"org_kind_{i}", orig.get("kind") or "") or ""
        moved = _moved(form, f"org_span_{i}", orig, record, errors, f"organisation {name or i}")
        if not name:
            continue
        if name == orig.get("name") and role == (orig.get("role") or "") and kind == (orig.get("kind") or "") \
                and moved is None:
            out.append(orig)
            continue
        span = moved or (orig.get("span") if name == orig.get("name") else _locate(text, name, base))
        fixed = {"name": name, "text": _surface(record, span) if moved else name, "role": role or None,
                 **({"kind": kind} if kind else {}), **_reviewer_source(who)}
        if span:
            fixed["span"] = span
        out.append(fixed)
    new = (form.get("org_new") or "").strip()
    if new:
        value = {"name": new, "text": new, "role": form.get("org_new_role") or None, **_reviewer_source(who)}
        span = _locate(text, new, base)
        if span:
            value["span"] = span
        out.append(value)
    out += _of_label(added, "org")
    seen, unique = set(), []
    for o in out:
        key = (o["name"], tuple(o.get("span") or ()))
        if key not in seen:
            seen.add(key)
            unique.append(o)
    return unique


def _places(form, record: dict, who: str, errors: list[str], added: list[dict]) -> list[dict]:
    text, base = record["text"], record["span"][0]
    keep = _ints(form.getlist("place_keep"))
    out: list[dict] = []
    for i, orig in enumerate(record.get("places") or []):
        if i not in keep:
            continue
        submitted = (form.get(f"place_{i}") or "").strip()
        moved = _moved(form, f"place_span_{i}", orig, record, errors, f"place {submitted or i}")
        if (submitted == place_value(orig) or not submitted) and moved is None:
            out.append(orig)
            continue
        if moved is not None:
            surface = _surface(record, moved)
            fixed, error = places.resolve(surface if submitted == place_value(orig) else submitted, who)
            if fixed:
                fixed.update(text=surface, span=moved)
        else:
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
    return out + _of_label(added, "place")


def _years(form, record: dict, errors: list[str], added: list[dict]) -> list[int]:
    keep = _ints(form.getlist("year_keep"))
    years: list[int] = []
    for i, orig in enumerate(record.get("years") or []):
        if i in keep:
            raw = (form.get(f"year_{i}") or str(orig)).strip()
            years += _parse_years(raw, errors)
    years += _parse_years(form.get("year_new") or "", errors)
    years += [m["year"] for m in added if m.get("label") == "year"]
    return sorted(set(years))


def _mentions(form, record: dict, who: str, errors: list[str], added: list[dict]) -> list[dict]:
    """The year mentions (highlighted years) as the span editor left them: deleted, resized or
    added. Forms without the span editor leave them as stored."""
    mentions = list(record.get("year_mentions") or [])
    if form.get("span_form"):
        keep = _ints(form.getlist("men_keep"))
        out = []
        for i, orig in enumerate(mentions):
            if i not in keep:
                continue
            moved = _moved(form, f"men_span_{i}", orig, record, errors, f"year {orig.get('text', i)}")
            out.append(orig if moved is None else {**orig, "text": _surface(record, moved), "span": moved,
                                                   **_reviewer_source(who)})
        mentions = out
    return mentions + [m for m in _of_label(added, "year") if m.get("span")]


def _added_spans(form, record: dict, who: str, errors: list[str]) -> list[dict]:
    """Values the reviewer added by selecting text (`new_n` rows): organisations (name, kind,
    role), places (coded through the gazetteer) and year mentions, each with its span and
    `source: reviewer:<name>`; `label` says which field each goes to."""
    from jirei.extract.years import find_year_mentions

    out = []
    for n in sorted(_ints(form.getlist("new_n"))):
        label = form.get(f"new_label_{n}") or ""
        start, end = form.get(f"new_start_{n}") or "", form.get(f"new_end_{n}") or ""
        what = f"new {dict(SPAN_LABELS).get(label, label) or 'value'}"
        typed = (form.get(f"new_value_{n}") or "").strip()
        if not start and not end:  # typed into an add field: found in the text where it occurs
            if not typed:
                continue
            found = _locate(record["text"], typed, record["span"][0]) if label != "year" else None
            span = found
            surface = _surface(record, found) if found else typed
        else:
            span = _parse_span(f"{start}-{end}", record, errors, what)
            if span is None:
                continue
            surface = _surface(record, span)
        if label == "org":
            kind = form.get(f"new_kind_{n}") or ""
            out.append({"label": "org", "name": typed or surface.strip(), "text": surface,
                        "role": form.get(f"new_role_{n}") or None, **({"kind": kind} if kind else {}),
                        **_reviewer_source(who), **({"span": span} if span else {})})
        elif label == "place":
            place, error = places.resolve(typed or surface, who, *(() if span else (record["text"], record["span"][0])))
            if error:
                errors.append(error)
            elif place:
                out.append({"label": "place", **place, **({"text": surface, "span": span} if span else {})})
        elif label == "year":
            found = [m for m in find_year_mentions(surface) if m.get("year")]
            year = int(typed) if typed.isdigit() else (found[0]["year"] if found else None)
            if year is None or not MIN_YEAR <= year <= MAX_YEAR:
                errors.append(f"「{typed or surface}」 is not a calendar year ({MIN_YEAR}–{MAX_YEAR})")
                continue
            out.append({"label": "year", "text": surface, "year": year, "kind": "initiative",
                        **_reviewer_source(who), **({"span": span} if span else {})})
        else:
            errors.append(f"{what}: unknown kind of value {label!r}")
    return out


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
    sent_secondary = form.getlist("secondary")
    if pillar is not None and pillar in sent_secondary:
        errors.append(f"secondary pillar {s.pillar(pillar).ja} is also the primary pillar: a pillar is one or the "
                      "other (uncheck it with z x c v, or choose another primary)")
    secondary = [p for p in s.pillar_ids if p in sent_secondary and p != pillar]
    changes: dict[str, Any] = {}
    if form.get("title") is not None:
        title = " ".join((form.get("title") or "").split())
        if not title:
            errors.append("the title cannot be empty")
        elif title != record["title"]:
            changes["title"] = title[:300]
    labels = review_changes(pillar, theme, items, who)
    changes["pillar"] = labels["pillar"]
    if secondary or record.get("secondary_pillars"):
        changes["secondary_pillars"] = secondary
    changes["theme"] = labels["theme"]
    changes["action_items"] = labels["action_items"]
    added = _added_spans(form, record, who, errors)
    for name, value in (("organisations", _organisations(form, record, who, errors, added)),
                        ("places", _places(form, record, who, errors, added)),
                        ("years", _years(form, record, errors, added)),
                        ("year_mentions", _mentions(form, record, who, errors, added))):
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


NOTHING_TO_UNDO = "nothing of yours to undo on this case"


def case_region(boxes: dict | None, record: dict, page_spans: list) -> dict | None:
    """Where the case is on its page image: the boxes of the page's lines that hold case text
    (PDF points, with the page's size for the image's scale), their outline, and the other pages
    the case runs on. None when the store has no line boxes for the page (a document stored
    before they were kept, an OCR page)."""
    if not boxes or not boxes.get("lines"):
        return None
    s, e = record["span"]
    lines = [ln for ln in boxes["lines"] if ln[0] < e and ln[1] > s]
    if not lines:
        return None
    rects = [{"x": ln[2], "y": ln[3], "w": max(ln[4] - ln[2], 1), "h": max(ln[5] - ln[3], 1)} for ln in lines]
    pad = 3
    outline = {"x": min(r["x"] for r in rects) - pad, "y": min(r["y"] for r in rects) - pad}
    outline["w"] = max(r["x"] + r["w"] for r in rects) + pad - outline["x"]
    outline["h"] = max(r["y"] + r["h"] for r in rects) + pad - outline["y"]
    more = [span[0] for span in page_spans if span[0] != record.get("page") and span[1] < e and span[2] > s]
    return {"width": boxes["width"], "height": boxes["height"], "rects": rects, "outline": outline, "more": more}


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
    return [], NOTHING_TO_UNDO


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

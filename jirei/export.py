"""Views of stored cases: the terminal table of `jirei cases` and the files of `jirei export`.

- JSONL: the `jirei extract` record plus `review_status` and `history_count`.
- CSV / XLSX: one row per case, flat columns (organisations, places with JIS codes, years,
  pillar, items, review status). CSV is UTF-8 with a BOM by default so Excel shows Japanese
  intact; `cp932` for older office software (characters outside it become `?`, and the export says
  how many).
- Spreadsheet safety: titles, organisations and texts come from untrusted PDFs and from reviewers'
  entries, so no value may become a formula (`=HYPERLINK(…)`, DDE). In CSV a value starting with
  `=`, `+`, `-`, `@`, a tab or a carriage return (or a fullwidth `＝＋－＠`) gets a leading `'`
  (OWASP's advice); in XLSX every text cell is written as a string cell (never a formula or an
  error value) and such values also carry Excel's quote prefix, so editing the cell keeps it text.

A submission form's contact fields (担当者, 電話, メール …) are personal data: every format leaves
them out unless `include_contacts` is set (`jirei export --include-contacts`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

FLAT_COLUMNS = [
    "case_id", "doc", "ordinal", "page", "title", "section", "layout", "organisations", "lead_organisation",
    "places", "jis_codes", "prefectures", "years", "pillar", "pillar_score", "pillar_source", "secondary_pillars",
    "theme", "action_items", "declared_pillar", "needs_review", "review_status", "history_count",
    "reviewers", "first_reviewed_at", "last_reviewed_at", "last_reviewed_by", "notes", "segmentation",
    "blind_label", "text",
]
# Review columns and keys come from `Store.add_review_info`; records without it leave them empty.
REVIEW_KEYS = ["notes", "segmentation", "reviewers", "reviews", "blind_label"]

EXTRACT_KEYS = ["doc", "case_id", "doc_id", "ordinal", "title", "text", "span", "page", "section", "layout",
                "organisations", "places", "years", "year_mentions", "pillar", "pillars", "theme", "action_items",
                "declared_pillar", "needs_review"]


# What spreadsheet software reads as the start of a formula. The fullwidth forms too: reviewers'
# entries are not NFKC-folded the way report text is, and input methods may fold them later.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(value: Any) -> Any:
    """A CSV cell value that no spreadsheet evaluates: text starting like a formula gets a leading
    `'`; other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def jsonl_record(record: dict, include_contacts: bool = False) -> dict:
    out = {k: record[k] for k in EXTRACT_KEYS}
    out["review_status"] = record["review_status"]
    out["history_count"] = record["history_count"]
    for key in REVIEW_KEYS:
        if key in record:
            out[key] = record[key]
    if include_contacts:
        out["contacts"] = record.get("contacts", [])
    return out


def contacts_label(record: dict) -> str:
    return "; ".join(f"{c.get('label')}: {c.get('value')}" for c in record.get("contacts") or [])


def place_label(place: dict) -> str:
    if place.get("level") == "region":
        return place.get("region") or place.get("text", "")
    if place.get("level") == "abroad":
        return place.get("text", "")
    return f"{place.get('prefecture') or ''}{place.get('municipality') or ''}"


def flat_row(record: dict) -> dict[str, Any]:
    orgs = record["organisations"]
    places = [p for p in record["places"]]
    pillar = record["pillar"] or {}
    sources = record.get("sources", {})
    secondary = [p.get("label") for p in record.get("pillars", [])[1:] if p.get("secondary")]
    return {
        "case_id": record["case_id"],
        "doc": record["doc"],
        "ordinal": record["ordinal"],
        "page": record["page"],
        "title": record["title"],
        "section": " > ".join(record["section"]),
        "layout": record["layout"],
        "organisations": "; ".join(o["name"] for o in orgs),
        "lead_organisation": next((o["name"] for o in orgs if o.get("role") == "lead"), ""),
        "places": "; ".join(dict.fromkeys(place_label(p) for p in places if place_label(p))),
        "jis_codes": "; ".join(dict.fromkeys(p["code"] for p in places if p.get("code"))),
        "prefectures": "; ".join(dict.fromkeys(p["prefecture"] for p in places if p.get("prefecture"))),
        "years": "; ".join(str(y) for y in record["years"]),
        "pillar": pillar.get("label", ""),
        "pillar_score": pillar.get("score", ""),
        "pillar_source": (sources.get("pillar") or [""])[0],
        "secondary_pillars": "; ".join(secondary),
        "theme": (record["theme"] or {}).get("label", ""),
        "action_items": "; ".join(str(a["item"]) for a in record["action_items"]),
        "declared_pillar": (record["declared_pillar"] or {}).get("label", ""),
        "needs_review": "yes" if record["needs_review"] else "",
        "review_status": record["review_status"],
        "history_count": record["history_count"],
        **review_columns(record),
        "text": record["text"],
    }


def review_columns(record: dict) -> dict[str, str]:
    """The review as flat columns: reviewers, first and last review time and who, notes (each
    `reviewer at: text`), the segmentation mark (`flag @ document offset`, by whom), the blind
    second label (`reviewer: pillar items (status)`)."""
    reviews = record.get("reviews") or []
    seg = record.get("segmentation") or {}
    blind = record.get("blind_label") or {}
    return {
        "reviewers": "; ".join(record.get("reviewers") or []),
        "first_reviewed_at": reviews[0]["at"] if reviews else "",
        "last_reviewed_at": reviews[-1]["at"] if reviews else "",
        "last_reviewed_by": reviews[-1]["reviewer"] if reviews else "",
        "notes": " | ".join(f"{n.get('reviewer', '')} {str(n.get('at', ''))[:16]}: {n.get('text', '')}"
                            for n in record.get("notes") or []),
        "segmentation": (f"{seg.get('flag')}" + (f" @ {seg['offset']}" if seg.get("offset") is not None else "")
                         + (f" ({seg['reviewer']})" if seg.get("reviewer") else "")) if seg else "",
        "blind_label": (f"{blind.get('reviewer')}: {blind.get('pillar')} "
                        f"{','.join(str(i) for i in blind.get('action_items') or [])} ({blind.get('status')})")
        if blind else "",
    }


def write_jsonl(records: Iterable[dict], out, include_contacts: bool = False) -> int:
    n = 0
    for r in records:
        out.write(json.dumps(jsonl_record(r, include_contacts), ensure_ascii=False) + "\n")
        n += 1
    return n


def csv_bytes(records: Iterable[dict], encoding: str = "utf-8-sig",
              include_contacts: bool = False) -> tuple[bytes, int, int]:
    """The CSV file's bytes, the number of rows, and how many characters the encoding lacked."""
    buf = io.StringIO(newline="")
    columns = FLAT_COLUMNS + ["contacts"] if include_contacts else FLAT_COLUMNS
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    n = 0
    for r in records:
        row = flat_row(r)
        if include_contacts:
            row["contacts"] = contacts_label(r)
        writer.writerow({k: neutralise(v) for k, v in row.items()})
        n += 1
    text = buf.getvalue()
    data = text.encode(encoding, errors="replace")
    lost = 0
    if encoding.replace("-", "_").lower() not in ("utf_8_sig", "utf_8", "utf8"):
        lost = sum(1 for ch in text if not _encodable(ch, encoding))
    return data, n, lost


def _encodable(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


def write_xlsx(records: Iterable[dict], path: str, include_contacts: bool = False) -> int:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "cases"
    columns = FLAT_COLUMNS + ["contacts"] if include_contacts else FLAT_COLUMNS
    ws.append(columns)
    n = 0
    for r in records:
        row = flat_row(r)
        if include_contacts:
            row["contacts"] = contacts_label(r)
        n += 1
        for col, name in enumerate(columns, start=1):
            value = row[name]
            if not isinstance(value, str):
                ws.cell(n + 1, col, value)
                continue
            # Excel cells hold at most 32,767 characters; illegal control characters were removed at ingest.
            cell = ws.cell(n + 1, col, value[:32767])
            cell.data_type = "s"  # openpyxl makes "=…" a formula and "#N/A" an error: text stays text
            if value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True
    ws.freeze_panes = "A2"
    for i, col in enumerate(FLAT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = {"title": 40, "text": 60, "organisations": 30}.get(col, 14)
    wb.save(path)
    return n


# --- terminal table ------------------------------------------------------------------------------


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(text: str, width: int) -> str:
    """Cut to `width` terminal columns (wide characters count two, `…` marks a cut) and pad."""
    if display_width(text) > width:
        out, used = [], 0
        for ch in text:
            w = display_width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
    return text + " " * (width - display_width(text))


TABLE_COLUMNS = [("case", 21), ("pillar", 13), ("items", 9), ("place", 18), ("organisation", 24), ("title", 40)]


def case_table(records: list[dict], total: int) -> str:
    header = "  ".join(fit(name, w) for name, w in TABLE_COLUMNS).rstrip()
    lines = [header, "  ".join("-" * w for _, w in TABLE_COLUMNS)]
    for r in records:
        pillar = r["pillar"] or {}
        mark = "*" if (r.get("sources", {}).get("pillar") or [""])[0].startswith("reviewer") else ""
        pillar_text = f"{pillar.get('label', '-')}{mark} {pillar['score']:.2f}" if pillar.get("score") is not None \
            else f"{pillar.get('label', '-')}{mark}"
        place = next((place_label(p) for p in r["places"] if place_label(p)), "-")
        org = next((o["name"] for o in r["organisations"]), "-")
        items = ",".join(str(a["item"]) for a in r["action_items"]) or "-"
        flags = (" !" if r["needs_review"] else "") + (" ✓" if r["review_status"] == "reviewed" else "")
        cells = [r["case_id"], pillar_text, items, place, org, r["title"].replace("\n", " ") + flags]
        lines.append("  ".join(fit(str(c), w) for c, (_, w) in zip(cells, TABLE_COLUMNS)).rstrip())
    shown = len(records)
    lines.append(f"{shown} of {total} cases" + ("" if shown == total else " (use --limit to show more)")
                 + "   ! needs review  ✓ reviewed  * reviewer's label")
    return "\n".join(lines)


# --- reviewers' boundary corrections as segmentation gold ------------------------------------------

_HEAD_MARKS = re.compile(r"^[\s#\-*・●■◆○◇□▪•]+")


def _gold_heading(text: str, start: int, end: int, cursor: int) -> tuple[int, str]:
    """Where the gold heading of a case starting at `start` begins (leading marks left out) and
    its string: the case's first line, reaching over line breaks until its first occurrence
    after `cursor` is this one (corpus/segmentation/README.md)."""
    lead = _HEAD_MARKS.match(text[start:end])
    hs = start + (len(lead.group(0)) if lead else 0)
    stop = text.find("\n", hs)
    stop = end if stop < 0 or stop > end else stop
    heading = text[hs:stop].rstrip()
    while text.find(heading, cursor) != hs and stop < end:
        nxt = text.find("\n", stop + 1)
        stop = end if nxt < 0 or nxt > end else nxt
        heading = text[hs:stop].rstrip()
    return hs, heading


def _gold_end(text: str, hs: int, end: int) -> tuple[int, str]:
    """The gold `end` of a case: the last 10–30 characters of its last line, reaching back over
    line breaks when that line is short, and further until its first occurrence after the
    heading is the case's end."""
    ee = hs + len(text[hs:end].rstrip())
    line_start = text.rfind("\n", hs, ee) + 1 or hs
    back = max(hs, ee - 30, min(line_start, ee - 10))
    while back > hs and len(text[back:ee].strip()) < 10:
        back -= 1
    while back > hs and text.find(text[back:ee], hs) + (ee - back) != ee:
        back -= 1
    return ee, text[back:ee]


def segmentation_gold(segmentation: dict) -> tuple[dict, list[str]]:
    """A document's standing cases (Store.document_segmentation) as a corpus/segmentation gold
    file, and the cases whose strings do not lead back to their span (named, left out). Cases
    a reviewer marked "not a case" are left out: they are not cases."""
    from jirei.evaluation.segmentation_cv import locate_gold
    from jirei.gold import Gold, GoldCase, gold_spans
    from jirei.records import Document

    text = segmentation["text"] or ""
    cases, spans, problems = [], [], []
    cursor = 0
    for c in segmentation["cases"]:
        mark = c.get("segmentation") or {}
        if mark.get("flag") == "not_a_case":
            continue
        start, end = c["span"]
        hs, heading = _gold_heading(text, start, end, cursor)
        ee, ending = _gold_end(text, hs, end)
        if not heading.strip() or not ending.strip():
            problems.append(f"{c['case_id']}: empty case text")
            continue
        cases.append(GoldCase(heading, ending, f"reviewed case {c['case_id']}"))
        spans.append((hs, ee))
        cursor = hs + len(heading)
    gold = Gold(segmentation["name"], segmentation["doc_id"], cases)
    found = gold_spans(text, gold)
    doc = Document(segmentation["doc_id"], segmentation["name"], segmentation["path"], segmentation["kind"] or "text",
                   text)
    located = locate_gold(doc, gold)
    if found != spans or [s for s, _ in located] != [s for s, _ in spans]:
        bad = [g.note for g, a, b in zip(cases, found, spans) if a != b]
        problems.append(f"strings do not lead back to every span ({', '.join(bad) or 'layout-free search'})")
    data = {"doc": segmentation["name"], "sha256": segmentation["doc_id"], "kind": "reviewed",
            "guideline": "corpus/segmentation/README.md",
            "note": "exported from the case store: reviewers' boundary corrections (jirei export --segmentation-gold)",
            "cases": [{"heading": g.heading, "end": g.end, "note": g.note} for g in cases]}
    return data, problems


def write_segmentation_gold(store, folder) -> tuple[list, list[str]]:
    """One gold file per document whose boundaries reviewers corrected, laid out as
    corpus/segmentation/: text documents at the top, PDFs under `pdfs/`. Returns the paths
    written and the problems (one line each)."""
    from pathlib import Path

    folder = Path(folder)
    written, problems = [], []
    for doc_id in store.boundary_documents():
        seg = store.document_segmentation(doc_id)
        data, trouble = segmentation_gold(seg)
        problems += [f"{seg['name']}: {t}" for t in trouble]
        target = folder / "pdfs" if seg["kind"] == "pdf" else folder
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{Path(seg['name']).stem}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written, problems

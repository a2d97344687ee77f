"""Seed cases re-typeset in the layouts of real report kinds, printed to PDF by headless Chromium,
each with a segmentation gold file derived from the seed's own gold.

Test and development fixtures only: the PDFs and their gold are made on demand (pytest fixture
``layout_pdfs`` in ``conftest.py``, or ``scripts/render_layouts.py OUT_DIR``) and never committed.

Contract
--------
* :func:`seed_cases` recovers each gold case of a seed as heading + body from the seed text, exactly
  as ``corpus/segmentation/README.md`` ("How a span is recovered") defines its span. Nothing here
  segments: the cases come from the hand-checked gold only.
* :data:`SOURCES` names the case sets rendered. ``train-001-partI`` is seed 001 part I (training
  data); every name starting ``heldout-`` (001 part II, 003, 004) is the held-out test set and
  must never be trained or tuned on.
* :data:`TEMPLATES` are the layouts (each a function ``cases -> HTML``):

  ``slides``      16:9 deck; a case runs over two or three slides with ✓概要 / ✓取組内容 / ✓成果
                  sub-headings, continuation slides carry ``…(続き)``; title and closing slides.
  ``case-sheet``  one case per A4 page, boxed 【概要】 and 【取組内容】 and a ≪KPI≫ box.
  ``booklet``     two-column B5 booklet, running header and ``- N -`` footer, chapter banners.
  ``table``       one programme per table row: 事業名 / 実施主体 / 地域 / 概要.
  ``vertical``    縦書き (``writing-mode: vertical-rl``) in several tiers (段) per page.
  ``newsletter``  municipal newsletter; notices (税, 年金, 募集), a calendar and 問合せ先 lines
                  stand between the articles and are not cases.

* :func:`render_template` ``(source, template, out_dir) -> (pdf_path, gold_path)`` renders one
  fixture (cached by a key over seed bytes, gold bytes, template and this module's source).
  The gold file has the format of ``corpus/segmentation/*.json`` plus ``kind``
  (``template:<name>``), ``split`` (``train``/``heldout``) and ``source``. Its ``heading`` and
  ``end`` strings are the seed gold's strings (layout marks removed) located in
  ``jirei.extract.ingest.ingest(pdf).text``, where line breaks may differ; each is stored as the
  exact substring found there. Rendering fails (``LayoutGoldError``) when a heading is missing
  or not unique, or an end is missing after its heading.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

try:  # tests/ may or may not be a package
    from . import pdf_fixtures
except ImportError:
    import pdf_fixtures

__all__ = [
    "SOURCES",
    "TEMPLATES",
    "LayoutGoldError",
    "SeedCase",
    "fixture_name",
    "render_all",
    "render_template",
    "seed_cases",
]

REPO = Path(__file__).resolve().parents[1]
GOLD_DIR = REPO / "corpus" / "segmentation"


@dataclass(frozen=True)
class Source:
    prefix: str  # seed file-name prefix
    part: str | None  # "I"/"II" for seed 001, None for the whole seed
    split: str  # "train" or "heldout"
    title: str  # report title printed on covers and running headers (never a case heading)


#: Case sets rendered in every template. Names starting "heldout-" are the held-out test set.
SOURCES: dict[str, Source] = {
    "train-001-partI": Source("001", "I", "train", "地域づくりに向けた企業・団体の取組事例集"),
    "heldout-001-partII": Source("001", "II", "heldout", "連携中枢都市圏の取組事例"),
    "heldout-003": Source("003", None, "heldout", "地方創生 好事例の普遍化に向けて"),
    "heldout-004": Source("004", None, "heldout", "共創と循環による地方創生 事例集"),
}

TEMPLATES: tuple[str, ...] = ("slides", "case-sheet", "booklet", "table", "vertical", "newsletter")

_PART_II_MARK = "\nII. 連携中枢都市圏"


class LayoutGoldError(RuntimeError):
    """A rendered fixture whose gold strings cannot be located in the extracted text."""


# --------------------------------------------------------------------------- seed cases
@dataclass
class SeedCase:
    heading: str  # the gold heading, layout marks removed
    rest: str  # rest of the heading line after the gold heading (often empty)
    body: list[str]  # body lines (layout marks removed; "" = paragraph break)
    end: str  # the gold end, layout marks removed (may contain "\n")
    note: str = ""
    org: str = ""
    place: str = ""
    sentences: list[str] = field(default_factory=list)


_MD_HEADING = re.compile(r"^#{1,6}[ \t\u3000]+")
_MD_BULLET = re.compile(r"^[ \t]*-[ \t]+")
_BOLD = re.compile(r"\*\*|</?b>", re.IGNORECASE)


def clean_line(line: str) -> str:
    """A seed line without markdown marks (#, list dash, bold, table pipes), spaces squeezed."""
    line = line.rstrip()
    line = _MD_HEADING.sub("", line.strip()) if line.lstrip().startswith("#") else line
    line = _MD_BULLET.sub("", line)
    line = _BOLD.sub("", line)
    s = line.strip()
    if s.startswith("|") and s.endswith("|") and len(s) > 1:
        if re.fullmatch(r"\|[\s:|-]*-[\s:|-]*\|", s):
            return ""
        s = " ".join(c.strip() for c in s[1:-1].split("|") if c.strip())
        s = re.sub(r"<br\s*/?>|</?p>", " ", s)
    s = s.replace("\t", " ")
    return re.sub(r"[ \u3000]{2,}", " ", s).strip()


def _clean_multiline(text: str) -> str:
    return "\n".join(clean_line(x) for x in text.split("\n")).strip("\n")


_ORG_PLACE = re.compile(r"^(?:[①-⑳]\s*)?(?P<org>[^：:]{2,40})[：:].*?(?:[（(](?P<place>[^（）()]{2,30})[)）])?$")
_PLACE_ONLY = re.compile(r"[（(【](?P<place>[^（）()【】]{2,30})[)）】]")


def _org_place(heading: str) -> tuple[str, str]:
    m = _ORG_PLACE.match(heading)
    if m:
        return m.group("org").strip(), (m.group("place") or "").strip()
    m = _PLACE_ONLY.search(heading)
    return "", (m.group("place").strip() if m else "")


def _sentences(lines: list[str]) -> list[str]:
    """Body text cut into paragraphs-aware units: each unit ends at 。 or at a paragraph break."""
    units: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            text = "\n".join(para)
            parts = re.split(r"(?<=。)(?!」|』|\))", text)
            units.extend(p.strip("\n") for p in parts if p.strip())
            para.clear()

    for line in lines:
        if not line:
            flush()
        else:
            para.append(line)
    flush()
    return units


def seed_cases(seed_text: str, gold: dict, part: str | None = None) -> list[SeedCase]:
    """The gold cases of a seed as heading + body (README "How a span is recovered")."""
    text = seed_text
    split_at = text.find(_PART_II_MARK)
    out: list[SeedCase] = []
    cursor = 0
    for g in gold["cases"]:
        start = text.find(g["heading"], cursor)
        if start < 0:
            raise LayoutGoldError(f"{gold['doc']}: gold heading not in seed: {g['heading'][:40]}")
        stop = text.find(g["end"], start)
        if stop < 0:
            raise LayoutGoldError(f"{gold['doc']}: gold end not after heading: {g['heading'][:40]}")
        stop += len(g["end"])
        cursor = start
        if part is not None and split_at >= 0 and (part == "I") != (start < split_at):
            continue
        line_end = text.find("\n", start)
        if line_end < 0 or line_end > stop:
            line_end = stop
        heading = clean_line(g["heading"])
        rest = clean_line(text[start + len(g["heading"]) : line_end])
        body = [clean_line(x) for x in text[line_end + 1 : stop].split("\n")] if line_end < stop else []
        # collapse runs of blank lines, trim both ends
        lines: list[str] = []
        for x in body:
            if x or (lines and lines[-1]):
                lines.append(x)
        while lines and not lines[-1]:
            lines.pop()
        org, place = _org_place(heading + rest)
        case = SeedCase(heading, rest, lines, _clean_multiline(g["end"]), g.get("note", ""), org, place)
        case.sentences = _sentences(([rest] if rest else []) + lines) if lines or rest else []
        out.append(case)
    return out


# --------------------------------------------------------------------------- HTML helpers
FONT = pdf_fixtures.FONT_STACK
_E = lambda s: html.escape(s, quote=False)  # noqa: E731


def _lines_html(lines: list[str]) -> str:
    """Lines as paragraphs: a blank line ends a paragraph, other line breaks are kept."""
    paras: list[list[str]] = [[]]
    for x in lines:
        if x:
            paras[-1].append(x)
        elif paras[-1]:
            paras.append([])
    return "".join("<p>" + "<br>".join(_E(x) for x in p) + "</p>" for p in paras if p)


def _chunks(units: list[str], k: int) -> list[list[str]]:
    """`units` split into `k` consecutive chunks of similar length (each non-empty if possible)."""
    k = max(1, min(k, len(units)))
    total = sum(len(u) for u in units) or 1
    out: list[list[str]] = [[] for _ in range(k)]
    acc = 0
    for u in units:
        i = min(k - 1, int(acc * k / total))
        # never leave a later chunk empty when units remain for it
        out[i].append(u)
        acc += len(u)
    for i in range(k):  # move one unit forward into an empty chunk
        if not out[i] and i > 0 and len(out[i - 1]) > 1:
            out[i].append(out[i - 1].pop())
    return [c for c in out if c]


def _spread(units: list[str], k: int) -> list[str]:
    """`units` cut further (at line breaks, else at a 、 near the middle) until there are `k`."""
    units = list(units)
    while len(units) < k:
        i = max(range(len(units)), key=lambda j: len(units[j]))
        u = units[i]
        if "\n" in u:
            lines = u.split("\n")
            half = len(lines) // 2
            parts = ["\n".join(lines[:half]), "\n".join(lines[half:])]
        else:
            commas = [m.end() for m in re.finditer("、", u)]
            cut = min(commas, key=lambda c: abs(c - len(u) / 2)) if commas else len(u) // 2
            parts = [u[:cut], u[cut:]]
        if not all(parts):
            break
        units[i : i + 1] = parts
    return units


def _units_html(units: list[str]) -> str:
    return "".join("<p>" + "<br>".join(_E(x) for x in u.split("\n")) + "</p>" for u in units)


def _short(title: str, n: int = 12) -> str:
    return title[:n] + "…"


def _title(case: SeedCase) -> str:
    return case.heading + (" " + case.rest if case.rest and len(case.rest) <= 20 else "")


def _page(css: str, body: str, title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
        f"<title>{_E(title)}</title><style>"
        f"html {{ font-family: {FONT}; color: #111; -webkit-print-color-adjust: exact;"
        " print-color-adjust: exact; }} body { margin: 0; } p { margin: 0 0 0.5em 0; }"
        f"{css}</style></head><body>{body}</body></html>\n"
    )


def _body_units(case: SeedCase) -> list[str]:
    """The case's body as units; the rest of a long heading line opens the body."""
    lines = ([case.rest] if case.rest and len(case.rest) > 20 else []) + case.body
    return _sentences(lines) or ["(本文なし)"]


# --------------------------------------------------------------------------- templates
def _slides(cases: list[SeedCase], src: Source) -> str:
    css = """
@page { size: 254mm 142.875mm; margin: 0; }
.slide { width: 254mm; height: 142.875mm; box-sizing: border-box; padding: 9mm 14mm 12mm 14mm;
         position: relative; break-after: page; overflow: hidden; font-size: 12pt; line-height: 1.5; }
.bar { background: #0b5394; color: #fff; font-weight: bold; font-size: 18pt; padding: 3mm 6mm;
       margin: -9mm -14mm 5mm -14mm; }
.cont .bar { background: #6d9eeb; font-size: 14pt; }
.sub { color: #0b5394; font-weight: bold; font-size: 14pt; margin: 2mm 0 2mm 0; }
.foot { position: absolute; bottom: 4mm; right: 10mm; font-size: 9pt; color: #666; }
.label { position: absolute; bottom: 4mm; left: 14mm; font-size: 9pt; color: #666; }
.cover { display: flex; flex-direction: column; justify-content: center; }
.cover h1 { font-size: 28pt; color: #0b5394; margin: 0 0 6mm 0; }
"""
    slides: list[str] = []
    n = 1

    def slide(inner: str, cls: str = "") -> None:
        nonlocal n
        slides.append(f'<div class="slide {cls}">{inner}<div class="label">{_E(src.title)}</div>'
                      f'<div class="foot">{n}</div></div>')
        n += 1

    slide(f"<h1>{_E(src.title)}</h1><p>取組事例の紹介</p>", "cover")
    subs = ("✓概要", "✓取組内容", "✓成果")
    for case in cases:
        units = _spread(_body_units(case), 2)
        k = 3 if sum(len(u) for u in units) > 260 else 2
        parts = _chunks(units, k)
        names = (subs[0], subs[2]) if len(parts) == 2 else subs[: len(parts)]
        title = _title(case)
        for i, (part, sub) in enumerate(zip(parts, names)):
            if i == 0:
                head = f'<div class="bar">{_E(title)}</div>'
            else:
                # a shortened title: never the whole heading (which stays unique), and different
                # per case (an identical line atop many slides is dropped as a running header)
                keep = 12 if len(case.heading) > 14 else max(2, len(case.heading) // 2)
                cont = f"{_short(case.heading, keep)}(続き)"
                head = f'<div class="bar">{_E(cont)}</div>'
            slide(head + f'<div class="sub">{sub}</div>' + _units_html(part), "cont" if i else "")
    slide("<h1>お問い合わせ</h1><p>本資料に関するお問い合わせは事務局までお寄せください。</p>", "cover")
    return _page(css, "".join(slides), src.title)


_KPI_NUM = re.compile(r"([^\s、。「」()（）]{2,10}?)(約?[0-9０-９][0-9０-９,，.．]*\s*(?:万|億|千)?"
                      r"(?:人|件|社|校|%|％|円|回|倍|名|か所|ヶ所|戸|台|ha|km|t|店|団体|自治体|市町村))")


def _kpis(case: SeedCase) -> list[str]:
    found = []
    for u in case.sentences:
        for m in _KPI_NUM.finditer(u.replace("\n", "")):
            item = f"{m.group(1)} {m.group(2)}"
            if item not in found:
                found.append(item)
    return found[:3] or ["定量指標は今後設定予定"]


def _case_sheet(cases: list[SeedCase], src: Source) -> str:
    css = """
@page { size: A4; margin: 15mm 16mm 16mm 16mm; }
.sheet { break-after: page; font-size: 10.5pt; line-height: 1.65; }
.no { display: inline-block; background: #38761d; color: #fff; font-size: 9pt; padding: 1mm 3mm; }
h2 { font-size: 15pt; border-bottom: 2pt solid #38761d; padding-bottom: 2mm; margin: 3mm 0 4mm 0; }
.meta { font-size: 9pt; color: #444; margin-bottom: 4mm; }
.box { border: 0.8pt solid #38761d; border-radius: 2mm; padding: 3mm 4mm; margin-bottom: 5mm; }
.box .bt { font-weight: bold; color: #38761d; margin-bottom: 1.5mm; }
.kpi { border: 1pt dashed #b45f06; background: #fdf3e7; padding: 3mm 4mm; font-size: 9.5pt; }
.kpi .bt { font-weight: bold; color: #b45f06; }
"""
    sheets = [f'<div class="sheet"><h1 style="font-size:22pt;margin-top:60mm">{_E(src.title)}</h1>'
              f"<p>事例シート集 全{len(cases)}事例</p></div>"]
    for i, case in enumerate(cases, 1):
        units = _body_units(case)
        first, rest = (units[:1], units[1:]) if len(units) > 1 else (units, [])
        meta = " / ".join(x for x in (f"実施主体:{case.org}" if case.org else "",
                                        f"地域:{case.place}" if case.place else "") if x)
        kpis = "".join(f"<div>・{_E(k)}</div>" for k in _kpis(case))
        sheets.append(
            f'<div class="sheet"><span class="no">事例 {i:02d}</span><h2>{_E(_title(case))}</h2>'
            + (f'<div class="meta">{_E(meta)}</div>' if meta else "")
            + f'<div class="box"><div class="bt">【概要】</div>{_units_html(first)}</div>'
            + (f'<div class="box"><div class="bt">【取組内容】</div>{_units_html(rest)}</div>' if rest else "")
            + f'<div class="kpi"><div class="bt">≪KPI≫</div>{kpis}</div></div>'
        )
    return _page(css, "".join(sheets), src.title)


def _booklet(cases: list[SeedCase], src: Source) -> str:
    title = pdf_fixtures.css_string(src.title)
    css = f"""
@page {{ size: B5; margin: 20mm 14mm 18mm 14mm;
  @top-right {{ content: {title}; font-family: {FONT}; font-size: 8pt; color: #555;
               vertical-align: bottom; padding-bottom: 3mm; }}
  @bottom-center {{ content: "- " counter(page) " -"; font-family: {FONT}; font-size: 8.5pt;
                   vertical-align: top; padding-top: 3mm; }} }}
main {{ column-count: 2; column-gap: 7mm; column-fill: auto; font-size: 9pt; line-height: 1.6; }}
.chapter {{ column-span: all; background: #741b47; color: #fff; font-size: 13pt; font-weight: bold;
           padding: 2mm 4mm; margin: 0 0 4mm 0; }}
h3 {{ font-size: 10.5pt; border-left: 3pt solid #741b47; padding-left: 2mm; margin: 3mm 0 2mm 0;
     break-after: avoid; }}
p {{ text-indent: 1em; orphans: 2; widows: 2; }}
.lead {{ column-span: all; font-size: 9.5pt; margin-bottom: 4mm; }}
"""
    parts = [f'<div class="chapter">{_E(src.title)}</div>'
             '<p class="lead">本冊子では、各地で進められている特色ある取組を紹介します。</p>']
    per = 8
    for i, case in enumerate(cases):
        if i and i % per == 0:
            parts.append(f'<div class="chapter">第{i // per + 1}章 取組の紹介({i + 1}～)</div>')
        parts.append(f"<h3>{_E(_title(case))}</h3>{_units_html(_body_units(case))}")
    return _page(css, "<main>" + "".join(parts) + "</main>", src.title)


def _table(cases: list[SeedCase], src: Source) -> str:
    css = """
@page { size: A4 landscape; margin: 14mm 12mm; }
h1 { font-size: 15pt; margin: 0 0 4mm 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; line-height: 1.5; }
th { background: #d9d2e9; border: 0.6pt solid #555; padding: 1.5mm; }
td { border: 0.6pt solid #555; padding: 1.5mm 2mm; vertical-align: top; overflow-wrap: anywhere; }
tr { break-inside: avoid; }
td.name { width: 22%; font-weight: bold; } td.org { width: 12%; } td.area { width: 10%; }
.note { font-size: 8pt; margin-top: 3mm; }
"""
    rows = []
    for case in cases:
        rows.append(
            f'<tr><td class="name">{_E(_title(case))}</td><td class="org">{_E(case.org or "-")}</td>'
            f'<td class="area">{_E(case.place or "-")}</td><td>{_units_html(_body_units(case))}</td></tr>'
        )
    body = (f"<h1>{_E(src.title)}(一覧)</h1><table><thead><tr><th>事業名</th><th>実施主体</th>"
            f"<th>地域</th><th>概要</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            '<p class="note">※実施主体・地域は各事業の資料による。</p>')
    return _page(css, body, src.title)


_TCY = re.compile(r"(?<![0-9])([0-9]{2})(?![0-9])")


def _tcy(escaped: str) -> str:
    """Two-digit numbers set upright across the column (縦中横), as vertical print does."""
    return _TCY.sub(r'<span class="tcy">\1</span>', escaped)


def _vwidth(text: str) -> float:
    """Height of `text` in a vertical line, in em: half-width characters (set sideways) count half,
    a two-digit 縦中横 group counts one."""
    text = _TCY.sub("#", text)
    return sum(0.55 if ord(c) < 0x2000 and c != "#" else 1.0 for c in text)


def _vsplit(text: str, budget: float) -> tuple[str, str]:
    """The longest prefix of `text` whose vertical height fits `budget` em, and the rest."""
    used = 0.0
    for i, c in enumerate(text):
        used += 0.55 if ord(c) < 0x2000 else 1.0
        if used > budget:
            # do not cut a two-digit group apart
            while i > 0 and text[i - 1].isdigit() and text[i].isdigit():
                i -= 1
            return text[:i], text[i:]
    return text, ""


# Page geometry of the vertical template (mm): A4 landscape, three tiers (段) per page.
_V_PAGE_W, _V_PAGE_H, _V_MARGIN = 297.0, 210.0, 12.0
_V_TIERS, _V_TIER_GAP, _V_HEAD = 3, 6.0, 9.0
_V_PITCH = 6.0  # line pitch (mm) for body and headings
_V_BODY_PT, _V_HEAD_PT = 10.0, 11.5


def _vertical(cases: list[SeedCase], src: Source) -> str:
    inner_w = _V_PAGE_W - 2 * _V_MARGIN
    inner_h = _V_PAGE_H - 2 * _V_MARGIN - 6  # a little short of the page box: no spill-over page
    tier_h = (inner_h - _V_HEAD - (_V_TIERS - 1) * _V_TIER_GAP) / _V_TIERS
    pt = 25.4 / 72
    body_cpl = int((tier_h - 1) / (_V_BODY_PT * pt)) - 1  # characters per vertical line, one spare
    head_cpl = int((tier_h - 1) / (_V_HEAD_PT * pt)) - 1
    lines_per_tier = int(inner_w / _V_PITCH) - 2
    css = f"""
@page {{ size: {_V_PAGE_W}mm {_V_PAGE_H}mm; margin: {_V_MARGIN}mm; }}
.page {{ width: {inner_w}mm; height: {inner_h}mm; break-after: page; overflow: hidden; }}
.ph {{ height: {_V_HEAD}mm; font-size: 8pt; color: #555; text-align: right; border-bottom: 0.5pt solid #999;
       box-sizing: border-box; }}
.tier {{ writing-mode: vertical-rl; width: {inner_w}mm; height: {tier_h}mm; margin-top: {_V_TIER_GAP}mm;
         overflow: hidden; border-top: 0.6pt solid #888; box-sizing: border-box; padding-top: 1mm; font-size: {_V_BODY_PT}pt; line-height: {_V_PITCH}mm; }}
.ph + .tier {{ margin-top: 0; }}
.tier p {{ margin: 0; }}
.tier h2 {{ font-size: {_V_HEAD_PT}pt; line-height: {_V_PITCH}mm; margin: 0 0 0 0; padding: 0;
           margin-right: {_V_PITCH}mm; color: #7f0000; }}
.tier h1 {{ font-size: 16pt; line-height: {2 * _V_PITCH}mm; margin: 0; }}
.tcy {{ text-combine-upright: all; }}
"""
    # the stream: (kind, lines) with kind "h1", "h2" or "p"
    stream: list[tuple[str, list[str]]] = [("h1", [src.title])]
    for case in cases:
        stream.append(("h2", [_title(case)]))
        for u in _body_units(case):
            stream.append(("p", u.split("\n")))
    stream.append(("h2", ["編集後記"]))
    stream.append(("p", ["本号では各地の取組を紹介しました。ご意見・ご感想は企画課までお寄せください。"
                         "次号もどうぞお楽しみに。"]))

    pages: list[list[str]] = [[]]  # tiers of html
    tier: list[str] = []
    left = lines_per_tier

    def close_tier() -> None:
        nonlocal tier, left
        pages[-1].append("".join(tier))
        if len(pages[-1]) == _V_TIERS:
            pages.append([])
        tier, left = [], lines_per_tier

    def cost(kind: str, text: str) -> int:
        cpl = head_cpl if kind == "h2" else body_cpl
        if kind == "h1":
            return 2 * max(1, -(-int(_vwidth(text)) // (body_cpl // 2)))
        return max(1, -(-int(_vwidth(text) + 0.999) // cpl))

    for kind, lines in stream:
        if kind != "p":
            need = sum(cost(kind, x) for x in lines) + (1 if kind == "h2" else 0)
            if need + 2 > left:  # keep a heading with at least two body lines
                close_tier()
            tag = kind
            tier.append(f"<{tag}>" + "<br>".join(_tcy(_E(x)) for x in lines) + f"</{tag}>")
            left -= need
            continue
        queue = list(lines)
        while queue:
            total = sum(cost("p", x) for x in queue)
            if total <= left:
                tier.append("<p>" + "<br>".join(_tcy(_E(x)) for x in queue) + "</p>")
                left -= total
                break
            if total <= 4 or left < 3:
                # a short paragraph moves whole; no tier starts or ends with a lone line (the
                # extraction would read a lone line at a tier's edge out of order)
                close_tier()
                continue
            budget = min(left, total - 3)  # at least three lines go on
            placed: list[str] = []
            while queue and budget > 0:
                need = cost("p", queue[0])
                if need <= budget:
                    placed.append(queue.pop(0))
                    budget -= need
                    continue
                head, rest = _vsplit(queue[0], budget * body_cpl)
                if head:
                    placed.append(head)
                queue[0] = rest
                budget = 0
            if placed:
                tier.append("<p>" + "<br>".join(_tcy(_E(x)) for x in placed) + "</p>")
            close_tier()
    if tier:
        close_tier()
    if not pages[-1]:
        pages.pop()
    html_pages = []
    for n, tiers in enumerate(pages, 1):
        html_pages.append(f'<div class="page"><div class="ph">{_E(src.title)} {n}</div>'
                          + "".join(f'<div class="tier">{t}</div>' for t in tiers) + "</div>")
    return _page(css, "".join(html_pages), src.title)


_NOTICES = [
    ("固定資産税(第2期)の納期限のお知らせ",
     "固定資産税第2期分の納期限は7月31日(木)です。納付書により、金融機関・郵便局・コンビニエンスストアで納めてください。"
     "口座振替をご利用の方は、前日までに残高をご確認ください。",
     "問 税務課住民税係 ☎0123-45-6701"),
    ("国民年金保険料は納期限までに",
     "令和7年度の国民年金保険料は月額17,510円です。納付が困難な場合は、保険料の免除・納付猶予制度がありますので、"
     "役場窓口へご相談ください。",
     "問 日本年金機構 年金事務所 ☎0123-45-6702"),
    ("会計年度任用職員の募集",
     "役場では、窓口業務を担当する会計年度任用職員を募集しています。勤務は平日8時30分から17時15分まで。"
     "応募は履歴書を総務課へ提出してください。締切は8月20日(水)です。",
     "問 総務課職員係 ☎0123-45-6703"),
    ("住民税(第2期)の納付について",
     "住民税第2期分の納期限は8月31日(日)です。休日の場合は翌営業日となります。",
     "問 税務課 ☎0123-45-6704"),
    ("消防団員の募集",
     "地域の安全を守る消防団員を募集しています。18歳以上の方であれば、どなたでも入団できます。",
     "問 消防署 ☎0123-45-6705"),
]


def _newsletter(cases: list[SeedCase], src: Source) -> str:
    css = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm;
  @bottom-right { content: counter(page); font-size: 9pt; vertical-align: top; padding-top: 3mm; } }
.mast { border-bottom: 3pt double #274e13; margin-bottom: 4mm; }
.mast .t { font-size: 24pt; font-weight: bold; color: #274e13; }
.mast .s { font-size: 9pt; }
main { column-count: 3; column-gap: 5mm; font-size: 9pt; line-height: 1.6; }
.kicker { font-size: 8pt; color: #fff; background: #6aa84f; display: inline-block; padding: 0 2mm; }
h2 { font-size: 11.5pt; margin: 1mm 0 2mm 0; break-after: avoid; }
.art { margin-bottom: 4mm; }
.notice { border: 0.8pt solid #999; background: #f3f3f3; padding: 2mm; margin: 0 0 4mm 0;
          break-inside: avoid; font-size: 8.5pt; }
.notice .h { font-weight: bold; }
.toi { font-size: 8pt; margin-top: 1mm; }
.cal { column-span: all; margin: 3mm 0; font-size: 8.5pt; }
.cal table { border-collapse: collapse; width: 100%; }
.cal td, .cal th { border: 0.5pt solid #777; padding: 1mm 2mm; }
"""
    parts = []
    cal_at = len(cases) // 2
    ni = 0
    for i, case in enumerate(cases):
        if i and i % 3 == 0:
            h, b, toi = _NOTICES[ni % len(_NOTICES)]
            ni += 1
            parts.append(f'<div class="notice"><span class="kicker">お知らせ</span><div class="h">{_E(h)}</div>'
                         f'<p>{_E(b)}</p><div class="toi">{_E(toi)}</div></div>')
        if i == cal_at:
            parts.append(
                '<div class="cal"><b>今月のカレンダー</b><table><tr><th>日</th><th>行事</th><th>場所</th></tr>'
                "<tr><td>8月3日(日)</td><td>夏まつり</td><td>中央公園</td></tr>"
                "<tr><td>8月10日(日)</td><td>資源ごみ回収</td><td>各集積所</td></tr>"
                "<tr><td>8月21日(木)</td><td>健康相談</td><td>保健センター</td></tr>"
                "<tr><td>8月28日(木)</td><td>乳幼児健診</td><td>保健センター</td></tr></table></div>")
        parts.append(f'<div class="art"><span class="kicker">まちの話題</span><h2>{_E(_title(case))}</h2>'
                     f"{_units_html(_body_units(case))}</div>")
    parts.append('<div class="notice"><div class="h">編集後記</div><p>暑い日が続きます。'
                 "こまめな水分補給で体調管理にお気をつけください。</p></div>")
    mast = (f'<div class="mast"><div class="t">広報 まちだより</div><div class="s">令和7年8月号 No.612 '
            f"特集:{_E(src.title)}</div></div>")
    return _page(css, mast + "<main>" + "".join(parts) + "</main>", src.title)


_RENDERERS = {
    "slides": _slides,
    "case-sheet": _case_sheet,
    "booklet": _booklet,
    "table": _table,
    "vertical": _vertical,
    "newsletter": _newsletter,
}


# --------------------------------------------------------------------------- gold
def _flex(s: str) -> re.Pattern:
    """Pattern for `s` (normalised) in which white space may appear or vanish between characters."""
    return re.compile(r"\s*".join(re.escape(c) for c in _chars(s)))


def _chars(s: str) -> list[str]:
    from jirei.extract.text import normalise

    return [c for c in normalise(s) if not c.isspace()]


_MIN_KEY = 8  # shortest heading prefix / end suffix accepted (non-space characters)


def _prefix_pattern(chars: list[str], n: int) -> re.Pattern:
    return re.compile(r"\s*".join(re.escape(c) for c in chars[:n]))


def _find_heading(text: str, heading: str, cursor: int) -> re.Match | None:
    """The heading in `text`: the whole heading or, when the layout splits it (a table cell beside
    other cells, a line the extraction broke apart), its longest prefix, as the guideline takes a
    wrapped heading's first line. A string unique in the text is preferred; otherwise the first
    occurrence at or after `cursor` (the previous heading), which is what span recovery finds."""
    chars = _chars(heading)
    shortest = min(_MIN_KEY, len(chars))
    for n in range(len(chars), shortest - 1, -1):
        hits = list(_prefix_pattern(chars, n).finditer(text))
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            break
    for n in range(len(chars), shortest - 1, -1):
        hit = _prefix_pattern(chars, n).search(text, cursor)
        if hit is not None:
            return hit
    return None


_CLOSERS = "。．.」』)）"


def _find_end(text: str, end: str, lo: int, hi: int) -> re.Match | None:
    """The end between `lo` and `hi` (the next heading), occurring there once; else its longest
    suffix that does (the guideline's end is the last characters of the last body line); a
    closing 。 or bracket the extraction lost may be left off. Failing that (interleaved
    columns), the first occurrence after `lo`."""
    chars = _chars(end)
    variants = [chars]
    trimmed = list(chars)
    while trimmed and trimmed[-1] in _CLOSERS:
        trimmed = trimmed[:-1]
        variants.append(list(trimmed))
    for v in variants:
        for n in range(len(v), min(_MIN_KEY, len(v)) - 1, -1):
            pat = re.compile(r"\s*".join(re.escape(c) for c in v[-n:]))
            hits = list(pat.finditer(text, lo, hi))
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                break
    # Interleaved columns: the body resumes after the next heading. As for real PDFs, the end
    # is then the first occurrence after the heading, and the spans overlap.
    for v in variants:
        for n in range(len(v), min(_MIN_KEY, len(v)) - 1, -1):
            hit = re.compile(r"\s*".join(re.escape(c) for c in v[-n:])).search(text, lo)
            if hit is not None:
                return hit
    return None


def locate_gold(text: str, cases: list[SeedCase], doc: str) -> list[dict]:
    """Gold entries for `text` (a rendered fixture's extracted text): each case's heading and end
    located as exact substrings. Raises LayoutGoldError when one cannot be located."""
    # Entries follow the extracted text's order, which may differ from the seed's where the
    # layout's reading order is ambiguous (vertical tiers).
    found: list[tuple[re.Match, SeedCase]] = []
    cursor = 0
    for case in cases:
        h = _find_heading(text, case.heading, cursor)
        if h is None:
            raise LayoutGoldError(f"{doc}: heading not found: {case.heading[:40]}")
        found.append((h, case))
        cursor = h.start()
    found.sort(key=lambda x: x[0].start())
    heads = [h for h, _ in found]
    cases = [c for _, c in found]
    out = []
    ends: list[re.Match] = []
    for i, (case, h) in enumerate(zip(cases, heads)):
        hi = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        e = _find_end(text, case.end, h.end(), hi)
        if e is None:
            raise LayoutGoldError(f"{doc}: end not found once after heading: {case.heading[:40]} / {case.end[-30:]}")
        entry = {"heading": h.group(0), "end": e.group(0)}
        if case.note:
            entry["note"] = "seed gold: " + case.note
        out.append(entry)
        ends.append(e)
    _check_recovery(text, out, heads, ends, doc)
    return out


def _check_recovery(text: str, entries: list[dict], heads: list[re.Match], ends: list[re.Match],
                    doc: str) -> None:
    """The spans recovered from the entries (README rule, as evaluation.gold_spans does) are the
    ones located here; raises LayoutGoldError otherwise (e.g. an earlier equal string)."""
    cursor = 0
    for entry, h, e in zip(entries, heads, ends):
        start = text.find(entry["heading"], cursor)
        stop = text.find(entry["end"], start)
        if (start, stop) != (h.start(), e.start()):
            raise LayoutGoldError(f"{doc}: span recovered as {start}-{stop}, placed at {h.start()}-{e.start()}: "
                                  f"{entry['heading'][:40]}")
        cursor = start + len(entry["heading"])


# --------------------------------------------------------------------------- render + cache
def fixture_name(source: str, template: str) -> str:
    return f"{source}.{template}"


def _seed_and_gold(prefix: str, seeds_dir: Path) -> tuple[Path, Path]:
    seeds = sorted(Path(seeds_dir).glob(f"{prefix}_*.txt"))
    golds = sorted(GOLD_DIR.glob(f"{prefix}_*.json"))
    if not seeds:
        raise FileNotFoundError(f"{seeds_dir}: no seed {prefix}_*.txt")
    if not golds:
        raise FileNotFoundError(f"{GOLD_DIR}: no gold {prefix}_*.json")
    return seeds[0], golds[0]


def _module_hash() -> str:
    # the gold is located in the PDF reader's text, so a change of the reader re-derives it
    reader = b"".join((REPO / "extract" / name).read_bytes() for name in ("pdf.py", "pdf_tables.py"))
    return hashlib.sha256(Path(__file__).read_bytes() + reader + pdf_fixtures.renderer_version().encode()).hexdigest()[:12]


def render_template(source: str, template: str, out_dir: str | Path, seeds_dir: str | Path | None = None,
                    ) -> tuple[Path, Path]:
    """Render `source` (a key of SOURCES) in `template`; write `<name>.pdf` and `<name>.json` (gold)
    into `out_dir`; return both paths. Reuses them while seed, gold and this module are unchanged."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {sorted(SOURCES)}")
    if template not in _RENDERERS:
        raise ValueError(f"unknown template {template!r}; expected one of {TEMPLATES}")
    from jirei.extract.ingest import ingest

    if seeds_dir is None:
        seeds_dir = Path(os.environ.get("JIREI_SHARED", REPO.parent / "shared")) / "seeds"
    src = SOURCES[source]
    seed, gold_path = _seed_and_gold(src.prefix, Path(seeds_dir))
    key = hashlib.sha256(seed.read_bytes() + gold_path.read_bytes()
                         + f"{source}\0{template}\0{_module_hash()}".encode()).hexdigest()[:16]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = fixture_name(source, template)
    pdf, gold_out, stamp = out_dir / f"{name}.pdf", out_dir / f"{name}.json", out_dir / f".{name}.key"
    if pdf.is_file() and gold_out.is_file() and stamp.is_file() and stamp.read_text() == key:
        return pdf, gold_out
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    cases = seed_cases(seed.read_text(encoding="utf-8"), gold, src.part)
    tmp = pdf.with_name(f".{name}.{os.getpid()}.tmp.pdf")
    try:
        pdf_fixtures.render_pdf(_RENDERERS[template](cases, src), tmp)
        text = ingest(tmp).text
        entries = locate_gold(text, cases, pdf.name)
        os.replace(tmp, pdf)
    finally:
        tmp.unlink(missing_ok=True)
    data = {
        "doc": pdf.name,
        "kind": f"template:{template}",
        "split": src.split,
        "source": f"{seed.name}" + (f" part {src.part}" if src.part else ""),
        "sha256": hashlib.sha256(pdf.read_bytes()).hexdigest(),
        "guideline": "corpus/segmentation/README.md",
        "cases": entries,
    }
    gold_out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    stamp.write_text(key)
    return pdf, gold_out


def render_all(out_dir: str | Path, seeds_dir: str | Path | None = None, workers: int = 2,
               sources: list[str] | None = None, templates: list[str] | None = None,
               ) -> dict[tuple[str, str], tuple[Path, Path]]:
    """Every (source, template) fixture rendered into `out_dir` (in parallel, one Chromium per worker)."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(s, t) for s in (sources or SOURCES) for t in (templates or TEMPLATES)]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda j: render_template(j[0], j[1], out_dir, seeds_dir), jobs))
    return dict(zip(jobs, results))

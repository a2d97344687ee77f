"""Build submission forms, Office files and image-only PDFs from the seed reports.

Test fixtures only: every file is made by the test suite from the seeds with the same libraries
Jirei reads them with (python-docx, python-pptx, openpyxl), never committed.

* :func:`seed_submissions` — seed 001's entries whose heading reads `組織:取組名(場所)`, as the
  fields a member would declare (organisation, title, place, period, partners, summary, results),
  with the hand-labelled gold organisation and places of `corpus/entities`.
* :func:`form_text`, :func:`form_docx` (label table or label paragraphs), :func:`form_html` (for
  Chromium's PDF) — one submission per file.
* :func:`deck_pptx` — seed 003's entries as a slide deck, one slide each, long ones over two.
* :func:`cases_xlsx` — a case-list workbook, one row per entry, plus a notes sheet.
* :func:`image_only_pdf` — a PDF's pages rasterised (`pdftoppm -r 300`) and rebuilt without text.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Contact details of a made-up person (example.jp is reserved for documentation).
CONTACTS = [("担当者", "山田 花子(地域連携部)"), ("電話", "03-0000-0000"), ("メール", "hanako@example.jp")]


@dataclass
class Submission:
    heading: str
    organisation: str  # gold lead organisation
    title: str
    place_text: str
    gold_places: list[tuple[str | None, str | None]]
    period: str
    summary: str
    results: str


_HEAD = re.compile(r"^[①-⑳]\s*(?P<org>[^:]+):(?P<title>.+?)\((?P<place>[^()]+)\)$")


def seed_submissions(seed_text_path: Path, limit: int | None = None) -> list[Submission]:
    """Seed 001's entries with an organisation:title(place) heading, as submissions."""
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment

    gold = json.loads((REPO / "corpus/entities" / f"{seed_text_path.stem}.json").read_text(encoding="utf-8"))
    gold_by_heading = {_norm(c["heading"]): c for c in gold["cases"]}
    doc = ingest(seed_text_path)
    out = []
    for case in segment(doc):
        m = _HEAD.match(case.title)
        g = gold_by_heading.get(_norm(case.title))
        if not m or g is None:
            continue
        leads = [o["name"] for o in g["organisations"] if o["role"] == "lead"]
        # one lead; places that are prefectures or municipalities (regions and places abroad
        # have neither, and a form declares them differently)
        if len(leads) != 1 or not g["places"] or any(not p.get("prefecture") for p in g["places"]):
            continue
        body = case.text[len(case.text.split("\n")[0]):].strip()
        paras = [p.strip() for p in body.split("\n\n") if p.strip() and not p.strip().startswith(("<", "("))]
        sentences = [s + "。" for s in "".join(paras[:1]).split("。") if s.strip()]
        if len(sentences) < 2:
            continue
        years = re.findall(r"(\d{4})年", body)
        out.append(Submission(
            heading=case.title, organisation=leads[0], title=m.group("title").strip(),
            place_text=m.group("place").strip(),
            gold_places=[(p.get("prefecture"), p.get("municipality")) for p in g["places"]],
            period=f"{years[0]}年~" if years else "",
            summary="".join(sentences[:-1]), results=sentences[-1],
        ))
        if limit and len(out) >= limit:
            break
    return out


def _norm(s: str) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _fields(s: Submission) -> list[tuple[str, str]]:
    fields = [("企業・団体名", s.organisation), ("取組名称", s.title), ("実施場所", s.place_text)]
    if s.period:
        fields.append(("実施時期", s.period))
    fields.append(("連携先", "地元自治体、商工会議所"))
    return fields


def form_text(s: Submission) -> str:
    lines = ["地域協創アクションプログラム 事例応募用紙", ""]
    lines += [f"{k}:{v}".replace(":", "：") for k, v in _fields(s)]
    lines += ["", "取組の概要", s.summary, "", "成果・今後の展開", s.results, ""]
    lines += [f"{k}：{v}" for k, v in CONTACTS]
    return "\n".join(lines) + "\n"


def form_docx(s: Submission, out: Path, table: bool) -> Path:
    import docx

    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "経団連 地域協創 事例応募(社外秘)"
    d.add_heading("事例応募用紙", level=1)
    if table:
        rows = _fields(s) + [("取組の概要", s.summary), ("成果・今後の展開", s.results)] + CONTACTS
        t = d.add_table(rows=len(rows), cols=2)
        for r, (k, v) in zip(t.rows, rows):
            r.cells[0].text, r.cells[1].text = k, v
    else:
        for k, v in _fields(s):
            d.add_paragraph(f"{k}：{v}")
        d.add_heading("取組の概要", level=2)
        d.add_paragraph(s.summary)
        d.add_heading("成果・今後の展開", level=2)
        d.add_paragraph(s.results)
        for k, v in CONTACTS:
            d.add_paragraph(f"{k}：{v}")
    d.save(out)
    return out


def form_html(s: Submission, table: bool = False) -> str:
    """The form as a page printed from a word processor: `label：value` lines (or a label │ value
    table without rules), then two headed sections."""
    if table:
        rows = "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                                   for k, v in _fields(s)) + "</table>"
    else:
        rows = "".join(f"<p class='f'>{html.escape(k)}：{html.escape(v)}</p>" for k, v in _fields(s))
    contacts = "".join(f"<p>{html.escape(k)}：{html.escape(v)}</p>" for k, v in CONTACTS)
    return (
        "<!doctype html><html lang='ja'><meta charset='utf-8'><style>"
        "body{font-family:'Noto Sans CJK JP',sans-serif;font-size:11pt;margin:20mm}"
        "p.f{margin:2pt 0}h2{font-size:13pt}th{text-align:left}</style>"
        f"<h1>事例応募用紙</h1>{rows}"
        f"<h2>取組の概要</h2><p>{html.escape(s.summary)}</p>"
        f"<h2>成果・今後の展開</h2><p>{html.escape(s.results)}</p>{contacts}</html>"
    )


def deck_slides(cases) -> list[tuple[list[str], list[list[str]]]]:
    """(title lines, body chunks) per entry: the heading lines are those before the first bullet;
    an entry with two or more bullet paragraphs is split over two slides at a paragraph break
    (every other one, so the deck has both kinds)."""
    slides = []
    for n, case in enumerate(cases):
        lines = case.text.split("\n")
        k = next((i for i, ln in enumerate(lines) if ln.startswith("・")), 1) or 1
        title, body = lines[:k], "\n".join(lines[k:])
        paras = body.split("\n\n")
        if n % 2 == 1 and len(paras) >= 2:
            half = len(paras) // 2
            chunks = ["\n\n".join(paras[:half]), "\n\n".join(paras[half:])]
        else:
            chunks = [body]
        slides.append((title, [c.split("\n") for c in chunks]))
    return slides


def deck_pptx(cases, out: Path, notes: str = "発表者メモ:この事例は口頭で補足する") -> tuple[Path, int]:
    """Seed entries as a deck; returns the path and how many entries span two slides."""
    from pptx import Presentation
    from pptx.util import Emu, Pt

    prs = Presentation()
    layout = prs.slide_layouts[1]  # title and content
    two = 0
    for title, chunks in deck_slides(cases):
        two += len(chunks) > 1
        for i, chunk in enumerate(chunks):
            slide = prs.slides.add_slide(layout)
            tf = slide.shapes.title.text_frame
            tf.text = title[0] + ("(続き)" if i else "")
            for extra in title[1:] if not i else []:
                tf.add_paragraph().text = extra
            # the last paragraph goes in a text box inside a group below the body placeholder:
            # reading order and group members decide where it lands
            paras = "\n".join(chunk).split("\n\n")
            main, last = (paras[:-1], paras[-1]) if len(paras) > 1 else (paras, None)
            body = slide.placeholders[1].text_frame
            lines = "\n\n".join(main).split("\n")
            body.text = lines[0]
            for line in lines[1:]:
                body.add_paragraph().text = line
            for p in body.paragraphs:
                for r in p.runs:
                    r.font.size = Pt(14)
            if last is not None:
                grp = slide.shapes.add_group_shape()
                box = grp.shapes.add_textbox(Emu(500_000), Emu(5_600_000), Emu(8_000_000), Emu(900_000))
                tlines = last.split("\n")
                box.text_frame.text = tlines[0]
                for line in tlines[1:]:
                    box.text_frame.add_paragraph().text = line
            slide.notes_slide.notes_text_frame.text = notes
    prs.save(out)
    return out, two


XLSX_HEADER = ["No.", "企業名・団体名", "取組名", "場所", "開始年", "概要"]


def cases_xlsx(subs: list[Submission], out: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "事例一覧"
    ws.append(["地域協創 事例一覧(会員企業提出分)"])
    ws.append(XLSX_HEADER)
    for n, s in enumerate(subs, start=1):
        ws.append([n, s.organisation, s.title, s.place_text, s.period.rstrip("~"), s.summary + s.results])
    ws.append([None, None, None, None, None, None])
    notes = wb.create_sheet("集計")
    notes.append(["件数", len(subs)])
    notes.append(["合計(式)", "=B1*2"])  # a formula: read as its cached value, never evaluated
    wb.save(out)
    return out


def image_only_pdf(pdf: Path, out: Path, dpi: int = 300, first: int | None = None, last: int | None = None) -> Path:
    """Rasterise `pdf` with pdftoppm and rebuild it from the page images (no text layer)."""
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        raise RuntimeError("pdftoppm not installed (Debian package poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["pdftoppm", "-r", str(dpi), "-gray", "-png"]
        if first:
            cmd += ["-f", str(first)]
        if last:
            cmd += ["-l", str(last)]
        subprocess.run(cmd + [str(pdf), f"{tmp}/p"], check=True, capture_output=True, timeout=600)
        images = [Image.open(p) for p in sorted(Path(tmp).glob("p-*.png"))]
        images[0].save(out, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
        for im in images:
            im.close()
    return out

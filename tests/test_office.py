"""Office ingestion on files built from the seeds with python-docx, python-pptx and openpyxl."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from jirei.extract.ingest import expand_inputs, ingest
from jirei.extract.segment import segment
from jirei.records import IngestError

try:
    from . import office_fixtures as of
except ImportError:
    import office_fixtures as of


@pytest.fixture(scope="module")
def seed001(seeds_dir: Path) -> Path:
    hits = sorted(seeds_dir.glob("001_*.txt"))
    if not hits:
        pytest.skip(f"seed 001 not found in {seeds_dir}")
    return hits[0]


@pytest.fixture(scope="module")
def submissions(seed001: Path):
    return of.seed_submissions(seed001)


# --- Word ----------------------------------------------------------------------------------------


def test_docx_headings_lists_tables_and_no_running_matter(tmp_path: Path):
    import docx

    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "社外秘 ヘッダー行"
    d.sections[0].footer.paragraphs[0].text = "- 1 -"
    d.add_heading("地域協創 事例集", level=0)
    d.add_heading("1. 「働く」", level=1)
    d.add_heading("とっとり週1副社長プロジェクト(鳥取県)", level=2)
    d.add_paragraph("都市部の人材と県内企業をマッチングする。")
    d.add_paragraph("戦略マネージャーを招聘", style="List Bullet")
    d.add_paragraph("枠組みを構築", style="List Bullet")
    d.add_paragraph("第一段階", style="List Number")
    d.add_paragraph("第二段階", style="List Number")
    t = d.add_table(rows=2, cols=3)
    for r, vals in zip(t.rows, [("年度", "件数", "備考"), ("2023", "12", "前年比増")]):
        for c, v in zip(r.cells, vals):
            c.text = v
    out = tmp_path / "report.docx"
    d.save(out)

    doc = ingest(out)
    assert doc.kind == "docx"
    assert "ヘッダー行" not in doc.text and "- 1 -" not in doc.text
    lines = doc.text.split("\n")
    starts = {}
    pos = 0
    for ln in lines:
        starts[ln] = pos
        pos += len(ln) + 1
    levels = {ln: doc.line_levels.get(starts[ln]) for ln in lines if ln}
    assert levels["地域協創 事例集"] == 1
    assert levels["1. 「働く」"] == 2
    assert levels["とっとり週1副社長プロジェクト(鳥取県)"] == 3
    assert levels["都市部の人材と県内企業をマッチングする。"] is None
    assert "・戦略マネージャーを招聘" in lines and "・枠組みを構築" in lines
    assert "1. 第一段階" in lines and "2. 第二段階" in lines
    assert "年度 | 件数 | 備考" in lines and "2023 | 12 | 前年比増" in lines
    # one page (no page breaks): no label to tell pages apart
    assert len(doc.pages) == 1 and doc.pages[0].start == 0 and doc.pages[0].end == len(doc.text)


def test_docx_page_breaks_give_pages(tmp_path: Path):
    import docx

    d = docx.Document()
    d.add_paragraph("一頁目の本文")
    d.add_page_break()
    d.add_paragraph("二頁目の本文")
    out = tmp_path / "two.docx"
    d.save(out)
    doc = ingest(out)
    assert [p.label for p in doc.pages] == ["page 1", "page 2"]
    assert doc.text[doc.pages[1].start:doc.pages[1].end] == "二頁目の本文"
    assert doc.page_at(doc.text.index("二頁目")) == 2


# --- PowerPoint ----------------------------------------------------------------------------------


def test_pptx_deck_of_seed_003_gives_the_seed_cases(seeds_dir: Path, tmp_path: Path):
    hits = sorted(seeds_dir.glob("003_*.txt"))
    if not hits:
        pytest.skip("seed 003 not found")
    seed_cases = segment(ingest(hits[0]))
    path, two_slide = of.deck_pptx(seed_cases, tmp_path / "003.pptx", notes="発表者メモ:口頭で補足")
    assert two_slide >= 10  # the deck really has entries over two slides

    doc = ingest(path)
    cases = segment(doc)
    assert len(cases) == len(seed_cases)
    assert [c.text for c in cases] == [c.text for c in seed_cases]
    # provenance: pages are slides, a case's page is the slide its heading is on
    assert all(p.label == f"slide {p.number}" for p in doc.pages)
    slides = [1]
    for _title, chunks in of.deck_slides(seed_cases)[:-1]:
        slides.append(slides[-1] + len(chunks))
    assert [c.page for c in cases] == slides
    # each title is a level-1 heading; continuation slides add none
    assert sum(1 for v in doc.line_levels.values() if v == 1) >= len(seed_cases)
    assert "(続き)" not in doc.text
    # speaker notes are kept apart, never case text
    assert "発表者メモ" not in doc.text
    assert len(doc.speaker_notes) == len(doc.pages)
    assert doc.speaker_notes[0] == {"page": 1, "label": "slide 1", "text": "発表者メモ:口頭で補足"}


def test_pptx_reading_order_and_groups(tmp_path: Path):
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # title only
    slide.shapes.title.text = "えちぜん鉄道(福井県)"

    def box(shapes, left, top, text):
        shapes.add_textbox(Inches(left), Inches(top), Inches(3), Inches(0.5)).text_frame.text = text

    # added in scrambled order: bottom right, top right, group at the middle left, top left
    box(slide.shapes, 5, 5, "右下")
    box(slide.shapes, 5, 2, "右上")
    grp = slide.shapes.add_group_shape()
    box(grp.shapes, 0.5, 3.5, "グループ1")
    box(grp.shapes, 0.5, 4.2, "グループ2")
    box(slide.shapes, 0.5, 2, "左上")
    rows = slide.shapes.add_table(2, 2, Inches(0.5), Inches(6.2), Inches(8), Inches(0.8)).table
    for r, vals in zip(rows.rows, [("区分", "実績"), ("利用者", "増加")]):
        for c, v in zip(r.cells, vals):
            c.text = v
    out = tmp_path / "order.pptx"
    prs.save(out)
    doc = ingest(out)
    order = [ln for ln in doc.text.split("\n") if ln]
    assert order == ["えちぜん鉄道(福井県)", "左上", "右上", "グループ1", "グループ2", "右下", "区分 | 実績", "利用者 | 増加"]
    assert doc.line_levels == {0: 1}


# --- Excel ---------------------------------------------------------------------------------------


def test_xlsx_case_list_gives_one_case_per_row(submissions, tmp_path: Path):
    subs = submissions[:20]
    assert len(subs) == 20
    path = of.cases_xlsx(subs, tmp_path / "list.xlsx")
    doc = ingest(path)
    cases = segment(doc)
    assert len(cases) == 20
    for n, (case, s) in enumerate(zip(cases, subs)):
        assert case.layout == "form"
        assert case.declared["organisation"]["value"] == s.organisation
        assert case.declared["title"]["value"] == s.title
        assert case.declared["place"]["value"] == s.place_text
        assert case.declared["summary"]["value"] == s.summary + s.results
        assert ("period" in case.declared) == bool(s.period)
        for f in case.declared.values():
            assert doc.text[f["span"][0]:f["span"][1]] == f["value"]
        assert doc.pages[case.page - 1].label == f"sheet 事例一覧 row {n + 3}"
        assert "件数" not in case.text  # the next sheet is not part of the last row's case
    # the other sheet is text; a formula is its cached value, never evaluated (none cached here)
    last = doc.pages[-1]
    assert last.label == "sheet 集計"
    assert doc.text[last.start:last.end] == "件数 | 20\n合計(式)"


def test_xlsx_formulas_read_as_cached_values(tmp_path: Path):
    """A workbook saved by a spreadsheet program carries each formula's last result: that is read."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "集計"
    ws.append(["件数", 3])
    ws.append(["二倍", "=B1*2"])
    src = tmp_path / "src.xlsx"
    wb.save(src)
    # Put a cached result next to the formula as a spreadsheet program would (<v> after <f>).
    with zipfile.ZipFile(src) as zin:
        parts = {n: zin.read(n) for n in zin.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode()
    xml, n = re.subn(r"<f>B1\*2</f>(<v\s*/>|<v></v>)?", "<f>B1*2</f><v>6</v>", xml)
    assert n == 1
    parts[sheet] = xml.encode()
    out = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(out, "w") as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    doc = ingest(out)
    assert doc.text == "件数 | 3\n二倍 | 6"


# --- refusals ------------------------------------------------------------------------------------


def _docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("本文")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def bad_office_files(folder: Path) -> dict[Path, str]:
    """Bad Office files, each with the words its one-line error must hold."""
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    good = _docx_bytes()
    out: dict[Path, str] = {}
    wb = Workbook()
    wb.save(folder / "book.xlsx")
    renamed = folder / "renamed_workbook.docx"
    renamed.write_bytes((folder / "book.xlsx").read_bytes())
    (folder / "book.xlsx").unlink()
    out[renamed] = "not a Word document: an Excel workbook renamed to .docx"
    plain = folder / "archive.pptx"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("readme.txt", "not a deck")
    out[plain] = "not a PowerPoint deck: a zip without ppt/presentation.xml"
    garbage = folder / "garbage.xlsx"
    garbage.write_bytes(bytes(range(256)) * 8)
    out[garbage] = "not a readable Excel workbook (.xlsx): not a zip container"
    macro = folder / "with_macros.docm"
    macro.write_bytes(good)
    out[macro] = "macro-enabled Office file (.docm) refused"
    hidden = folder / "hidden_macros.docx"
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(hidden, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
        zout.writestr("word/vbaProject.bin", b"\x00" * 64)
    out[hidden] = "contains vbaProject.bin"
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        pass
    else:
        enc = folder / "locked.docx"
        with open(enc, "wb") as fh:
            OOXMLFile(io.BytesIO(good)).encrypt("secret", fh)
        out[enc] = "encrypted Office file (password protected)"
    broken = folder / "broken_part.docx"  # a valid zip whose document part is not XML
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(broken, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, b"<w:document" if name == "word/document.xml" else zin.read(name))
    out[broken] = "not a readable Word document ("
    empty = folder / "empty.pptx"
    empty.write_bytes(b"")
    out[empty] = "empty file"
    return out


def test_bad_office_files_fail_alone_in_one_line(tmp_path: Path):
    bad = bad_office_files(tmp_path / "bad")
    assert any("encrypted" in v for v in bad.values()), "msoffcrypto-tool (test extra) builds the encrypted file"
    for path, words in bad.items():
        with pytest.raises(IngestError) as err:
            ingest(path)
        message = str(err.value)
        assert "\n" not in message and str(path) in message and words in message, message


def test_folder_takes_office_files_and_a_batch_goes_on(tmp_path: Path, submissions, capsys):
    from jirei.cli import main

    folder = tmp_path / "in"
    bad = bad_office_files(folder)
    of.form_docx(submissions[0], folder / "form.docx", table=True)
    (folder / "notes.key").write_bytes(b"keynote")  # not a report suffix: not taken
    found = set(expand_inputs([folder]))
    assert found == set(bad) | {folder / "form.docx"}
    out = tmp_path / "cases.jsonl"
    status = main(["extract", str(folder), "-o", str(out), "--no-entities", "--no-labels"])
    err = capsys.readouterr().err
    assert status == 1
    errors = [ln for ln in err.splitlines() if ln.startswith("jirei: error:")]
    assert len(errors) == len(bad)
    for path in bad:
        assert sum(str(path) in ln for ln in errors) == 1
    assert "Traceback" not in err
    records = out.read_text(encoding="utf-8").splitlines()
    assert len(records) == 1 and submissions[0].title in records[0]

"""Office ingestion: Word (.docx), PowerPoint (.pptx) and Excel (.xlsx) files into Documents.

Contract: `read_office(path)` returns a `Document` whose `text` is NFKC-normalised (the same
`normalise` as text files) and whose `pages` give provenance: one page per slide ("slide 3"),
per case row of a case-list sheet ("sheet 事例一覧 row 5") or per other sheet ("sheet 集計"), and
for Word the pages its explicit or last-rendered page breaks mark. `line_levels` carries heading
levels (1 = most prominent) from Word's heading styles and outline levels and from slide titles.
Bad input raises `IngestError` with one line: legacy binary formats (.doc/.ppt/.xls),
password-protected files (an encrypted OLE container), macro-enabled files (.docm/.pptm/.xlsm or a
vbaProject.bin inside), a zip that is not the format its name says, anything else unreadable.

What goes where:
- Word: body paragraphs and tables in document order; numbered and bulleted list items get a
  visible mark (`1.`, `・`); a two-column table whose left column is short labels (`企業・団体名 |
  セブン&アイ…`) is a form and is written as `label:value` lines; other tables one row per line,
  cells joined by ` | `. Headers and footers are left out (running matter, not report text).
- PowerPoint: the title placeholder is the slide's level-1 heading; other shapes follow in
  reading order (top to bottom, left to right within a row), group members included; tables as in
  Word; speaker notes go to `Document.speaker_notes`, never into `text`. A slide whose title
  repeats the previous slide's (optionally marked 続き / cont.) continues it: the repeated title
  is left out so the entry reads on.
- Excel: formulas are read as their cached values (`data_only=True`), never evaluated. A sheet
  with a header row naming form fields (企業名・団体名 / 取組名 / 場所 / 概要 …, see
  `jirei.extract.forms`) gives one page per row, written as `header:value` lines, so each row
  is one submission; other sheets are written as text, one row per line.
"""

from __future__ import annotations

import datetime as _dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from jirei.records import Document, IngestError, Page, sha256_bytes

from .text import normalise

WORD, POWERPOINT, EXCEL = "docx", "pptx", "xlsx"
FORMAT_OF = {".docx": WORD, ".pptx": POWERPOINT, ".xlsx": EXCEL}
LEGACY = {".doc": "Word 97-2003 (.doc)", ".ppt": "PowerPoint 97-2003 (.ppt)", ".xls": "Excel 97-2003 (.xls)"}
MACRO = {".docm": ".docx", ".pptm": ".pptx", ".xlsm": ".xlsx", ".dotm": ".docx", ".potm": ".pptx", ".xltm": ".xlsx"}
SUFFIXES = set(FORMAT_OF) | set(LEGACY) | set(MACRO)
_NAMES = {WORD: "Word document", POWERPOINT: "PowerPoint deck", EXCEL: "Excel workbook"}
_A = {WORD: "a", POWERPOINT: "a", EXCEL: "an"}
_MAIN_PART = {WORD: "word/document.xml", POWERPOINT: "ppt/presentation.xml", EXCEL: "xl/workbook.xml"}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is an OLE compound file with these streams (MS-OFFCRYPTO); names in
# the OLE directory are UTF-16LE.
_ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))


# --- refusals ------------------------------------------------------------------------------------


def check_container(path: Path, data: bytes) -> str:
    """The format of an Office file, or IngestError with the one-line reason it is refused."""
    spath, suffix = str(path), path.suffix.lower()
    if not data:
        raise IngestError(spath, "empty file")
    if data.startswith(_OLE_MAGIC):
        if any(s in data for s in _ENCRYPTION_STREAMS):
            raise IngestError(spath, "encrypted Office file (password protected)")
        if suffix in LEGACY:
            raise IngestError(spath, f"legacy binary {LEGACY[suffix]} not supported: save it as {suffix}x")
        raise IngestError(spath, "legacy binary Office file (OLE container), not a zip-based Office file")
    if suffix in LEGACY:
        raise IngestError(spath, f"legacy binary {LEGACY[suffix]} not supported: save it as {suffix}x")
    if suffix in MACRO:
        raise IngestError(spath, f"macro-enabled Office file ({suffix}) refused: save it as {MACRO[suffix]}")
    kind = FORMAT_OF.get(suffix)
    if kind is None:
        raise IngestError(spath, f"unsupported file type {suffix or '(none)'}")
    import io

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(spath, f"not a readable {_NAMES[kind]} ({suffix}): not a zip container")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(spath, f"not a readable {_NAMES[kind]} ({suffix}): damaged zip ({exc})") from exc
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise IngestError(spath, "macro-enabled Office file (contains vbaProject.bin) refused")
    if _MAIN_PART[kind] not in names:
        found = next((FORMAT_OF_PART[n] for n in FORMAT_OF_PART if n in names), None)
        what = f"{_A[found]} {_NAMES[found]} renamed to {suffix}" if found else f"a zip without {_MAIN_PART[kind]}"
        raise IngestError(spath, f"not a {_NAMES[kind]}: {what}")
    return kind


FORMAT_OF_PART = {part: kind for kind, part in _MAIN_PART.items()}


# --- text building -------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Accumulates normalised lines, heading levels and page spans."""

    lines: list[str] = field(default_factory=list)
    levels: dict[int, int] = field(default_factory=dict)  # line index -> raw level
    page_marks: list[tuple[int, str | None]] = field(default_factory=list)  # (first line index, label)

    def add(self, text: str, level: int | None = None) -> None:
        parts = normalise(text).split("\n")
        if level is not None and parts and parts[0].strip():
            self.levels[len(self.lines)] = level
        self.lines.extend(parts)

    def blank(self) -> None:
        if self.lines and self.lines[-1].strip():
            self.lines.append("")

    def page(self, label: str | None) -> None:
        # a page starts on a fresh line after a blank one, so no entry line straddles two pages
        self.blank()
        if self.page_marks and self.page_marks[-1][0] == len(self.lines):
            self.page_marks[-1] = (len(self.lines), label)
        else:
            self.page_marks.append((len(self.lines), label))

    def document(self, data: bytes, path: Path, kind: str) -> Document:
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        offsets, pos = [], 0
        for line in self.lines:
            offsets.append(pos)
            pos += len(line) + 1
        text = "\n".join(self.lines)
        doc = Document(doc_id=sha256_bytes(data), name=path.name, path=str(path), kind=kind, text=text)
        # Raw levels (Title = 0, Heading N = N, slide title = 1) renumbered 1..k over those used.
        ranks = {lvl: i + 1 for i, lvl in enumerate(sorted(set(self.levels.values())))}
        doc.line_levels = {offsets[i]: ranks[lvl] for i, lvl in self.levels.items() if i < len(offsets)}
        marks = [(i, label) for i, label in self.page_marks if i < len(self.lines)] or [(0, None)]
        if marks[0][0] != 0:
            marks.insert(0, (0, marks[0][1]))
        for n, (i, label) in enumerate(marks, start=1):
            end_line = marks[n][0] if n < len(marks) else len(self.lines)
            start = offsets[i]
            end = offsets[end_line - 1] + len(self.lines[end_line - 1]) if end_line > i else start
            while end > start and text[end - 1] in "\n ":
                end -= 1
            doc.pages.append(Page(number=n, start=start, end=end, label=label))
        return doc


def _label_table(rows: list[list[str]]) -> bool:
    """A two-column table whose left cells are short labels: a form."""
    from .forms import field_key

    pairs = [r for r in rows if len(r) == 2 and r[0].strip()]
    if len(pairs) < 2 or len(pairs) < 0.8 * len([r for r in rows if any(c.strip() for c in r)]):
        return False
    short = [r for r in pairs if len(r[0].strip()) <= 20 and "。" not in r[0]]
    known = [r for r in pairs if field_key(normalise(r[0])) is not None]
    return len(short) == len(pairs) and len(known) >= 2


def _add_table(b: _Builder, rows: list[list[str]]) -> None:
    rows = [[c.strip() for c in r] for r in rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return
    b.blank()
    if _label_table(rows):
        for label, value in rows:
            b.add(f"{label}:{value}" if "\n" not in label else f"{label}\n{value}")
    else:
        for r in rows:
            b.add(" | ".join(c.replace("\n", " ") for c in r))
    b.blank()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


# --- Word ----------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|見出し)\s*(\d)$", re.I)


def _style_chain(style):
    while style is not None:
        yield style
        style = style.base_style


def _docx_level(par) -> int | None:
    """Raw heading level of a paragraph: Title 0, Heading N / outline level N-1 → N."""
    ppr = par._p.pPr
    if ppr is not None:
        ol = ppr.find(f"{_W}outlineLvl")
        if ol is not None and ol.get(f"{_W}val", "9").isdigit() and int(ol.get(f"{_W}val")) < 9:
            return int(ol.get(f"{_W}val")) + 1
    try:
        chain = list(_style_chain(par.style))
    except Exception:  # a style id that points nowhere: no heading
        chain = []
    for st in chain:
        name = (st.name or "").strip()
        if name.lower() in ("title", "表題"):
            return 0
        m = _HEADING_STYLE.match(name)
        if m:
            return int(m.group(1))
        sppr = st.element.pPr
        ol = sppr.find(f"{_W}outlineLvl") if sppr is not None else None
        if ol is not None and ol.get(f"{_W}val", "9").isdigit() and int(ol.get(f"{_W}val")) < 9:
            return int(ol.get(f"{_W}val")) + 1
    return None


class _Numbering:
    """List marks: `・` for bullets, a running number for numbered lists (per list and level)."""

    def __init__(self, document):
        self.formats: dict[tuple[str, int], str] = {}
        self.counters: dict[tuple[str, int], int] = {}
        try:
            root = document.part.numbering_part.element
        except Exception:  # no numbering part: every list item is a bullet
            return
        abstract = {}
        for an in root.findall(f"{_W}abstractNum"):
            lv = {}
            for lvl in an.findall(f"{_W}lvl"):
                fmt = lvl.find(f"{_W}numFmt")
                lv[int(lvl.get(f"{_W}ilvl", "0"))] = fmt.get(f"{_W}val") if fmt is not None else "bullet"
            abstract[an.get(f"{_W}abstractNumId")] = lv
        for num in root.findall(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                for ilvl, fmt in abstract.get(ref.get(f"{_W}val"), {}).items():
                    self.formats[(num.get(f"{_W}numId"), ilvl)] = fmt

    @staticmethod
    def _num_pr(par):
        ppr = par._p.pPr
        if ppr is not None and ppr.find(f"{_W}numPr") is not None:
            return ppr.find(f"{_W}numPr")
        try:
            for st in _style_chain(par.style):
                sppr = st.element.pPr
                if sppr is not None and sppr.find(f"{_W}numPr") is not None:
                    return sppr.find(f"{_W}numPr")
        except Exception:
            pass
        return None

    def mark(self, par) -> str:
        num_pr = self._num_pr(par)
        if num_pr is None:
            return ""
        num_id_el, ilvl_el = num_pr.find(f"{_W}numId"), num_pr.find(f"{_W}ilvl")
        num_id = num_id_el.get(f"{_W}val") if num_id_el is not None else None
        if num_id in (None, "0"):  # numId 0 switches numbering off
            return ""
        ilvl = int(ilvl_el.get(f"{_W}val", "0")) if ilvl_el is not None else 0
        fmt = self.formats.get((num_id, ilvl), "bullet")
        indent = "  " * ilvl
        if fmt in ("bullet", "none"):
            return f"{indent}・"
        for key in [k for k in self.counters if k[0] == num_id and k[1] > ilvl]:
            del self.counters[key]  # a higher level restarts the numbering below it
        n = self.counters[(num_id, ilvl)] = self.counters.get((num_id, ilvl), 0) + 1
        if fmt == "decimalEnclosedCircle" and n <= 20:
            return f"{indent}{chr(0x2460 + n - 1)} "
        return f"{indent}{n}. "


def _page_break_before(par) -> bool:
    p = par._p
    if p.find(f".//{_W}lastRenderedPageBreak") is not None:
        return True
    return any(br.get(f"{_W}type") == "page" for br in p.iter(f"{_W}br"))


def _docx_rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is returned once per grid column
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text)
        rows.append(cells)
    return rows


def read_docx(path: Path, data: bytes) -> Document:
    import io

    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise IngestError(str(path), f"not a readable Word document ({type(exc).__name__}: {str(exc)[:100]})") from exc
    b = _Builder()
    numbering = _Numbering(document)
    page = 1
    b.page("page 1")
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            _add_table(b, _docx_rows(block))
            continue
        text = block.text
        if _page_break_before(block) and b.lines:
            page += 1
            b.page(f"page {page}")
        if not text.strip():
            b.blank()
            continue
        level = _docx_level(block)
        mark = "" if level is not None else numbering.mark(block)
        if level is not None:
            b.blank()
        b.add(mark + text, level)
        b.blank()
    doc = b.document(data, path, WORD)
    if len(doc.pages) == 1:
        doc.pages[0].label = None  # one page: nothing to tell apart
    return doc


# --- PowerPoint ----------------------------------------------------------------------------------

_CONTINUED = re.compile(r"\s*[(（]?\s*(?:続き|続く|続|つづき|cont(?:inued|'d|\.)?|\d+\s*/\s*\d+)\s*[)）]?\s*$", re.I)


def _title_key(title: str) -> str:
    return re.sub(r"\s+", "", _CONTINUED.sub("", normalise(title)))


def _reading_order(shapes, tolerance: int):
    """Shapes sorted top to bottom, and left to right within a row (tops within `tolerance`)."""
    placed = sorted(shapes, key=lambda s: ((s.top or 0), (s.left or 0)))
    rows: list[list] = []
    for s in placed:
        if rows and abs((s.top or 0) - (rows[-1][0].top or 0)) <= tolerance:
            rows[-1].append(s)
        else:
            rows.append([s])
    return [s for row in rows for s in sorted(row, key=lambda s: s.left or 0)]


def _shape_blocks(shapes, tolerance: int):
    """Text blocks of shapes in reading order: ("text", [paragraph lines]) or ("table", rows)."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in _reading_order(list(shapes), tolerance):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_blocks(shape.shapes, tolerance)
        elif getattr(shape, "has_table", False) and shape.has_table:
            yield "table", [[cell.text for cell in row.cells] for row in shape.table.rows]
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            paras = [("  " * (p.level or 0)) + "".join(r.text for r in p.runs) if p.runs else p.text
                     for p in shape.text_frame.paragraphs]
            if any(t.strip() for t in paras):
                yield "text", paras


def read_pptx(path: Path, data: bytes) -> Document:
    import io

    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as exc:
        raise IngestError(str(path), f"not a readable PowerPoint deck ({type(exc).__name__}: {str(exc)[:100]})") from exc
    # Shapes whose tops differ by under 2% of the slide height read as one row.
    tolerance = int((deck.slide_height or 6858000) * 0.02)
    b = _Builder()
    notes = []
    previous_title = None
    for n, slide in enumerate(deck.slides, start=1):
        b.page(f"slide {n}")
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None and title_shape.has_text_frame else ""
        if title:
            key = _title_key(title)
            # A continuation slide repeats the title, or its first words marked (続き): its title
            # is not a new heading.
            marked = bool(_CONTINUED.search(normalise(title).replace("\n", "")))
            if key and previous_title and (key == previous_title or (marked and previous_title.startswith(key))):
                pass
            else:
                for part in title.replace("\v", "\n").split("\n"):
                    if part.strip():
                        b.add(part, 1)  # every line of a wrapped title is heading
                previous_title = key
        others = [s for s in slide.shapes if title_shape is None or s.shape_id != title_shape.shape_id]
        for kind, content in _shape_blocks(others, tolerance):
            if kind == "table":
                _add_table(b, content)
                continue
            for line in content:
                if line.strip():
                    b.add(line.replace("\v", "\n"))
                else:
                    b.blank()
            b.blank()
        if slide.has_notes_slide:
            text = slide.notes_slide.notes_text_frame.text if slide.notes_slide.notes_text_frame else ""
            if text.strip():
                notes.append({"page": n, "label": f"slide {n}", "text": normalise(text).strip()})
    doc = b.document(data, path, POWERPOINT)
    _relabel(doc, b)
    doc.speaker_notes = notes
    return doc


def _relabel(doc: Document, b: _Builder) -> None:
    """Page numbers follow the source's own count (slide n is page n) even when a page is empty."""
    for page in doc.pages:
        if page.label and page.label.startswith("slide "):
            page.number = int(page.label.split()[1])


# --- Excel ---------------------------------------------------------------------------------------


def _header_row(rows: list[list[str]]) -> int | None:
    """Index of a header row naming form fields (an organisation or title column and one more)."""
    from .forms import field_key

    for i, row in enumerate(rows[:10]):
        keys = [field_key(normalise(c)) for c in row if c.strip()]
        keys = [k for k in keys if k]
        if len(set(keys)) >= 2 and ({"organisation", "title"} & set(keys)):
            return i
    return None


def read_xlsx(path: Path, data: bytes) -> Document:
    import io

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise IngestError(str(path), f"not a readable Excel workbook ({type(exc).__name__}: {str(exc)[:100]})") from exc
    b = _Builder()
    try:
        for ws in wb.worksheets:
            rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
            rows = [r[: max((i + 1 for i, c in enumerate(r) if c.strip()), default=0)] for r in rows]
            header = _header_row(rows)
            if header is None:
                if any(any(c.strip() for c in r) for r in rows):
                    b.page(f"sheet {ws.title}")
                    for r in rows:
                        cells = [c.strip() for c in r]
                        if any(cells):
                            b.add(" | ".join(c.replace("\n", " ") for c in cells if c) if len(cells) > 1 else cells[0])
                        else:
                            b.blank()
                continue
            names = [normalise(c).strip() for c in rows[header]]
            for i, r in enumerate(rows[header + 1:], start=header + 2):
                if not any(c.strip() for c in r):
                    continue
                b.page(f"sheet {ws.title} row {i}")
                for name, value in zip(names, r):
                    if name and value.strip():
                        value = value.strip()
                        # a multi-line cell starts on the line after its header, as in a form
                        b.add(f"{name}:{value}" if "\n" not in value else f"{name}\n{value}")
                b.blank()
    finally:
        wb.close()
    if not b.lines:
        raise IngestError(str(path), "no text in any sheet")
    return b.document(data, path, EXCEL)


def read_office(path: str | Path) -> Document:
    """Read a .docx, .pptx or .xlsx file; refuse legacy, encrypted and macro-enabled ones."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    kind = check_container(path, data)
    reader = {WORD: read_docx, POWERPOINT: read_pptx, EXCEL: read_xlsx}[kind]
    try:
        doc = reader(path, data)
    except IngestError:
        raise
    except Exception as exc:  # damaged parts inside a valid zip: one line, never a traceback
        raise IngestError(str(path), f"not a readable {_NAMES[kind]} ({type(exc).__name__}: {str(exc)[:100]})") from exc
    if not doc.text.strip():
        raise IngestError(str(path), f"no text in this {_NAMES[kind]}")
    return doc

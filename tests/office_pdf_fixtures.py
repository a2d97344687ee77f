"""Render the plain-text seed reports to two-column PDFs with a second engine: LibreOffice.

Test fixtures only (see ``conftest.office_seed_pdfs``), never committed. The Chromium fixtures
(:mod:`pdf_fixtures`) are one engine's output; a report typed in a word processor and printed
by it places glyphs, columns, headers and list items differently, and Jirei's PDF reader has
to read both.

* :func:`seed_to_docx` writes a seed as a Word document (python-docx) in one two-column section
  (``<w:cols w:num="2">``): markdown ``#`` headings become Heading styles, lines set wholly in
  ``**bold**`` become bold paragraphs, ``- `` list items become paragraphs starting with ``・``
  (or with their own symbol or number: ①, (1), 1.) on a hanging indent, pipe and tab tables
  become Word tables as wide as a column, every other line keeps its own line (a justified
  paragraph per block, manual line breaks inside); the report title is the running header
  and ``- N -`` (a PAGE field) the footer.
* :func:`render_pdf` converts it with ``soffice --headless --convert-to pdf``.
* :func:`libreoffice_missing_reason` says why that is impossible here (``None`` when possible).

Layouts (:data:`LAYOUTS`), A4, 20 mm margins unless said, two columns 8 mm apart, Gothic (Noto Sans CJK JP)
headings: ``office-two-column`` — a Mincho (Noto Serif CJK JP) body justified at 10.5 pt, 5 pt
between paragraphs; ``office-two-column-tight`` — a Gothic body set ragged at 9.5 pt, tight
leading, no space between paragraphs; ``office-two-column-plain`` — 14 mm margins, columns 6 mm
apart, a Mincho body justified at 9 pt, solid leading, headings at the body's size told apart by
their bold Gothic face alone (narrow columns: a justified line ending at a manual break is often
stretched over a few characters).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = [
    "LAYOUTS",
    "RENDERER_VERSION",
    "libreoffice_missing_reason",
    "render_pdf",
    "renderer_version",
    "seed_to_docx",
    "soffice_path",
]

LAYOUTS: tuple[str, ...] = ("office-two-column", "office-two-column-tight", "office-two-column-plain")

#: Per layout: body font, size (pt), paragraph spacing after (pt), line spacing, justified,
#: heading sizes (pt) by level, side margins and gutter (mm).
_STYLE = {
    "office-two-column": ("Noto Serif CJK JP", 10.5, 5.0, 1.25, True, (16, 14, 12.5, 11.5), 20, 8),
    "office-two-column-tight": ("Noto Sans CJK JP", 9.5, 0.0, 1.1, False, (16, 14, 12.5, 11.5), 20, 8),
    # headings told apart by their bold Gothic face alone, at the body's size; narrow margins
    "office-two-column-plain": ("Noto Serif CJK JP", 9.0, 0.0, 1.0, True, (9, 9, 9, 9), 14, 6),
}

#: Bump when the document output changes meaningfully; :func:`renderer_version` also folds
#: in a hash of this file, so cached PDFs are rebuilt after any edit anyway.
RENDERER_VERSION = "1"

RENDER_TIMEOUT_S = 180

BODY_FONT = "Noto Serif CJK JP"
HEAD_FONT = "Noto Sans CJK JP"

_SYMBOL_BULLETS = "・◆◇●○■□▪▫•※★☆▶►➢➤"
# An item that carries its own number (①, (1), 1.) is printed with it alone, as a numbered item.
_OWN_NUMBER_RE = re.compile(r"^(?:[①-⑳]|[(（][0-9０-９一二三四五六七八九十]{1,2}[)）]|[0-9０-９]{1,2}[.．])")
_HEADING_RE = re.compile(r"^(#{1,4})[ \t\u3000]+(.*?)\s*$")
_BULLET_RE = re.compile(r"^([ \t]*)-[ \t]+(.*)$")
_INLINE_BOLD_RE = re.compile(r"\*\*(.+?)\*\*|<b>(.*?)</b>", re.IGNORECASE)
_PIPE_SEP_RE = re.compile(r"^\|[\s:|-]*-[\s:|-]*\|$")
_CELL_BREAK_RE = re.compile(r"</?p>|<br\s*/?>", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-z][^>]*>", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers
def renderer_version() -> str:
    """Version string for caching: RENDERER_VERSION plus a hash of this module's source."""
    src = Path(__file__).read_bytes()
    return f"{RENDERER_VERSION}-{hashlib.sha256(src).hexdigest()[:12]}"


def soffice_path() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for cand in ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice"):
        if Path(cand).exists():
            return cand
    return None


def _has_fonts() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    try:
        out = subprocess.run([fc_list], capture_output=True, text=True, timeout=30, check=False).stdout.lower()
    except (OSError, subprocess.SubprocessError):
        return False
    return "noto sans cjk" in out and "noto serif cjk" in out


def libreoffice_missing_reason() -> str | None:
    """None when LibreOffice, python-docx and the CJK fonts are available, else why not."""
    reasons = []
    if soffice_path() is None:
        reasons.append("LibreOffice not installed (Debian package libreoffice-writer-nogui)")
    if not _has_fonts():
        reasons.append("no Noto Sans/Serif CJK fonts (Debian package fonts-noto-cjk)")
    try:
        import docx  # noqa: F401
    except ImportError:
        reasons.append("python-docx not installed")
    return "; ".join(reasons) or None


def _strip_marks(text: str) -> str:
    text = _INLINE_BOLD_RE.sub(lambda m: m.group(1) or m.group(2) or "", text)
    return _TAG_RE.sub("", text).replace("\t", " ").strip()


# --------------------------------------------------------------------------- document
def _set_fonts(style_or_run, latin: str, east_asian: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    style_or_run.font.name = latin
    element = style_or_run.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), east_asian if attr == "w:eastAsia" else latin)


def _add_inline(paragraph, text: str, bold: bool = False) -> None:
    """Runs for *text*: ``**x**`` / ``<b>x</b>`` bold, other tags dropped."""
    pos = 0
    for m in _INLINE_BOLD_RE.finditer(text):
        if m.start() > pos:
            paragraph.add_run(_TAG_RE.sub("", text[pos : m.start()])).bold = bold or None
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        paragraph.add_run(_TAG_RE.sub("", inner)).bold = True
        pos = m.end()
    if pos < len(text):
        paragraph.add_run(_TAG_RE.sub("", text[pos:])).bold = bold or None


def _whole_bold(line: str) -> bool:
    m = _INLINE_BOLD_RE.fullmatch(line.strip())
    return bool(m)


def _field(paragraph, instr: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def _two_columns(section, space_twips: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    sect = section._sectPr
    cols = sect.find(qn("w:cols"))
    if cols is None:
        cols = OxmlElement("w:cols")
        sect.append(cols)
    cols.set(qn("w:num"), "2")
    cols.set(qn("w:space"), str(space_twips))
    cols.set(qn("w:equalWidth"), "1")


def seed_to_docx(text: str, title: str, out_docx: Path, layout: str = LAYOUTS[0]) -> Path:
    """Write *text* (a seed) as a two-column Word document with *title* as running header."""
    if layout not in _STYLE:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    body_font, body_size, space_after, leading, justified, head_sizes, margin_mm, gutter_mm = _STYLE[layout]
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    _set_fonts(normal, body_font, body_font)
    normal.font.size = Pt(body_size)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(space_after)
    pf.line_spacing = leading
    body_align = WD_ALIGN_PARAGRAPH.JUSTIFY if justified else WD_ALIGN_PARAGRAPH.LEFT
    heading_sizes = dict(zip((1, 2, 3, 4), head_sizes))
    column_mm = (210 - 2 * margin_mm - gutter_mm) / 2
    for level, size in heading_sizes.items():
        st = doc.styles[f"Heading {level}"]
        _set_fonts(st, HEAD_FONT, HEAD_FONT)
        st.font.size = Pt(size)
        st.font.bold = True
        st.font.italic = False
        st.font.color.rgb = None
        st.paragraph_format.space_before = Pt(8)
        st.paragraph_format.space_after = Pt(4)
        st.paragraph_format.keep_with_next = True

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(margin_mm)
    section.top_margin, section.bottom_margin = Mm(22), Mm(20)
    section.header_distance = section.footer_distance = Mm(10)
    _two_columns(section, space_twips=int(gutter_mm / 25.4 * 1440))
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = header.add_run(title)
    run.font.size = Pt(8.5)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("- ")
    _field(footer, "PAGE")
    footer.add_run(" -")

    block: list[str] = []
    table: list[list[str]] = []

    def flush_block() -> None:
        if not block:
            return
        if all(_whole_bold(x) for x in block):
            p = doc.add_paragraph()
            for i, line in enumerate(block):
                if i:
                    p.add_run().add_break()
                _add_inline(p, _strip_marks(line), bold=True)
            for r in p.runs:
                _set_fonts(r, HEAD_FONT, HEAD_FONT)
            p.paragraph_format.keep_with_next = True
        else:
            p = doc.add_paragraph()
            p.alignment = body_align
            for i, line in enumerate(block):
                if i:
                    p.add_run().add_break()
                _add_inline(p, line.strip())
        block.clear()

    def flush_table() -> None:
        if not table:
            return
        width = max(len(r) for r in table)
        t = doc.add_table(rows=len(table), cols=width)
        t.style = doc.styles["Table Grid"]
        t.autofit = False  # the table fits its column: cells share the column's width
        for col in t.columns:
            col.width = Mm(column_mm / width)
            for cell in col.cells:
                cell.width = Mm(column_mm / width)
        for r, row in enumerate(table):
            for c in range(width):
                raw = row[c] if c < len(row) else ""
                parts = [x.strip() for x in _CELL_BREAK_RE.split(raw) if x.strip()]
                cell = t.cell(r, c)
                p = cell.paragraphs[0]
                for i, part in enumerate(parts):
                    if i:
                        p.add_run().add_break()
                    _add_inline(p, part)
                for run in p.runs:
                    run.font.size = Pt(9)
        doc.add_paragraph().paragraph_format.space_after = Pt(2)
        table.clear()

    for raw in text.splitlines():
        line = raw.rstrip(" \r\n\u3000")
        if not line.strip():
            flush_block()
            flush_table()
            continue
        stripped = line.strip()
        if "\t" in line:
            flush_block()
            table.append(line.split("\t"))
            continue
        if len(stripped) > 1 and stripped.startswith("|") and stripped.endswith("|"):
            flush_block()
            if not _PIPE_SEP_RE.match(stripped):
                table.append(stripped[1:-1].split("|"))
            continue
        flush_table()
        m = _HEADING_RE.match(stripped)
        if m and stripped.startswith("#"):
            flush_block()
            doc.add_heading(_strip_marks(m.group(2)), level=len(m.group(1)))
            continue
        m = _BULLET_RE.match(line)
        if m:
            flush_block()
            depth = len(m.group(1).expandtabs(4)) // 2
            item = m.group(2).strip()
            mark = "" if item[:1] in _SYMBOL_BULLETS or _OWN_NUMBER_RE.match(item) else "・"
            p = doc.add_paragraph()
            p.alignment = body_align
            p.paragraph_format.left_indent = Pt(body_size * (1 + depth))
            p.paragraph_format.first_line_indent = Pt(-body_size)
            p.paragraph_format.space_after = Pt(min(2.0, space_after))
            _add_inline(p, mark + item)
            continue
        block.append(stripped)
    flush_block()
    flush_table()
    out_docx = Path(out_docx)
    out_docx.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out_docx))
    return out_docx


# --------------------------------------------------------------------------- render
def render_pdf(docx_path: Path, out_pdf: Path) -> Path:
    """Convert *docx_path* to *out_pdf* with headless LibreOffice; returns *out_pdf*.

    Raises RuntimeError when LibreOffice is missing, fails, times out or writes no PDF."""
    exe = soffice_path()
    if exe is None:
        raise RuntimeError("LibreOffice not installed (Debian package libreoffice-writer-nogui)")
    out_pdf = Path(out_pdf).resolve()
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jirei-soffice-") as tmp:
        tmpdir = Path(tmp)
        src = tmpdir / "report.docx"
        shutil.copyfile(docx_path, src)
        env = dict(os.environ, HOME=str(tmpdir))
        cmd = [
            exe,
            f"-env:UserInstallation={(tmpdir / 'profile').as_uri()}",
            "--headless", "--norestore", "--nolockcheck",
            "--convert-to", "pdf", "--outdir", str(tmpdir / "out"), str(src),
        ]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S,
                                  check=False, cwd=tmpdir, env=env)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"LibreOffice timed out after {RENDER_TIMEOUT_S}s converting {out_pdf.name}") from exc
        made = tmpdir / "out" / "report.pdf"
        if proc.returncode != 0 or not made.exists() or made.stat().st_size == 0:
            tail = "\n".join(((proc.stderr or "") + (proc.stdout or "")).strip().splitlines()[-10:])
            raise RuntimeError(f"LibreOffice failed to convert {out_pdf.name} (exit {proc.returncode}):\n{tail}")
        shutil.move(str(made), str(out_pdf))
    return out_pdf


def render_seed(text: str, title: str, out_pdf: Path, layout: str = LAYOUTS[0]) -> Path:
    """Seed text -> two-column docx in *layout* -> PDF at *out_pdf*."""
    with tempfile.TemporaryDirectory(prefix="jirei-docx-") as tmp:
        docx_path = seed_to_docx(text, title, Path(tmp) / "report.docx", layout)
        return render_pdf(docx_path, out_pdf)

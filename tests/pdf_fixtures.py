"""Render the plain-text seed reports to real PDFs with headless Chromium.

Test fixtures only: the PDFs are made by the test suite (see ``conftest.seed_pdfs``)
and never committed.

* :func:`seed_to_html` turns a seed's markdown-ish text into a self-contained HTML page
  (headings, lists, bold, tables become real typography; every other line survives as its
  own line).
* :func:`render_pdf` prints that page to PDF with ``chromium --headless --print-to-pdf``.
* :func:`chromium_missing_reason` says why rendering is impossible on this machine
  (``None`` when it is possible).

Layouts (:data:`LAYOUTS`):

``one-column``
    A4, 20 mm margins, one column, no running header or footer.
``two-column-running``
    A4, ``column-count: 2``, the report title as a running header on every page and
    ``- N -`` (the real page number) as a footer on every page.  Both are CSS page-margin
    boxes (``@page { @top-center {…} @bottom-center { content: counter(page) } }``),
    which Chromium supports since version 131; they are drawn regardless of
    ``--no-pdf-header-footer`` (that flag only turns off Chromium's own URL/date lines).
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = [
    "LAYOUTS",
    "PDF_GLYPH_FOLDS",
    "RENDERER_VERSION",
    "chromium_missing_reason",
    "chromium_path",
    "css_string",
    "render_pdf",
    "renderer_version",
    "seed_title",
    "seed_to_html",
]

LAYOUTS: tuple[str, ...] = ("one-column", "two-column-running")

#: What pdfplumber/pdfminer reads back from these PDFs differs from the HTML text where
#: Noto Sans CJK shares one glyph between several code points: Chromium's ToUnicode map
#: names one of them (mostly the lowest), e.g. 方 -> U+2F45 KANGXI RADICAL SQUARE (NFKC
#: folds Kangxi radicals back), ～ -> 〜 U+301C, — -> ― U+2015, and the cases below, which
#: NFKC leaves wrong (seen in seeds 001-004).  Apply before NFKC.  poppler's pdftotext and
#: pdfium return the intended characters; pdfminer does not.
PDF_GLYPH_FOLDS: dict[str, str] = {
    "\u2027": "\u30fb",  # HYPHENATION POINT -> KATAKANA MIDDLE DOT ・
    "\u2ea0": "民",  # CJK RADICAL CIVILIAN
    "\u2ec4": "西",  # CJK RADICAL WEST TWO
    "\u2ed1": "長",  # CJK RADICAL LONG ONE
    "\u2ed8": "青",  # CJK RADICAL BLUE
    "\u2eed": "歯",  # CJK RADICAL J-SIMPLIFIED TOOTH
    "\u2eef": "竜",  # CJK RADICAL J-SIMPLIFIED DRAGON
    "\u2f3e": "戸",  # KANGXI RADICAL DOOR (NFKC would give the variant 戶)
    "\u2215": "/",  # DIVISION SLASH
}

#: Bump when the HTML/CSS output changes meaningfully; :func:`renderer_version` also
#: folds in a hash of this file, so cached PDFs are rebuilt after any edit anyway.
RENDERER_VERSION = "1"

RENDER_TIMEOUT_S = 60

FONT_STACK = '"Noto Sans CJK JP", "Noto Sans JP", sans-serif'

# Leading symbols that already act as a bullet: such list items get no extra marker.
_SYMBOL_BULLETS = "・◆◇●○■□▪▫•※★☆▶►➢➤"

_HEADING_RE = re.compile(r"^(#{1,4})[ \t\u3000]+(.*?)\s*$")
_BULLET_RE = re.compile(r"^([ \t]*)-[ \t]+(.*)$")
_INLINE_BOLD_RE = re.compile(r"\*\*(.+?)\*\*|<b>(.*?)</b>", re.IGNORECASE)
_PIPE_SEP_RE = re.compile(r"^\|[\s:|-]*-[\s:|-]*\|$")
_CELL_BREAK_RE = re.compile(r"</?p>|<br\s*/?>", re.IGNORECASE)
_NUMERIC_CELL_RE = re.compile(r"^(<b>)?[\d.,%％ ]+(</b>)?$")


# --------------------------------------------------------------------------- helpers
def renderer_version() -> str:
    """Version string for caching: RENDERER_VERSION plus a hash of this module's source."""
    src = Path(__file__).read_bytes()
    return f"{RENDERER_VERSION}-{hashlib.sha256(src).hexdigest()[:12]}"


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return None


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    try:
        out = subprocess.run(
            [fc_list], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "noto sans cjk" in out.lower()


def chromium_missing_reason() -> str | None:
    """None when headless Chromium and a CJK font are available, else why not."""
    reasons = []
    if chromium_path() is None:
        reasons.append("chromium not installed (Debian package chromium)")
    if not _has_cjk_font():
        reasons.append("no CJK font (Debian package fonts-noto-cjk)")
    return "; ".join(reasons) or None


def css_string(text: str) -> str:
    """Quote *text* as a CSS string literal (for ``content:``)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _strip_marks(line: str) -> str:
    line = _HEADING_RE.sub(r"\2", line.strip())
    line = _INLINE_BOLD_RE.sub(lambda m: m.group(1) or m.group(2) or "", line)
    return line.replace("\t", " ").strip()


def seed_title(text: str, max_chars: int = 40) -> str:
    """A running-header title for a seed: its first non-blank line without marks."""
    for raw in text.splitlines():
        line = _strip_marks(raw)
        if line:
            line = re.sub(r"[ \t\u3000]+", " ", line)
            return line if len(line) <= max_chars else line[: max_chars - 1] + "…"
    return "Jirei sample report"


def _inline(text: str) -> str:
    """Escape *text*; ``**x**`` and ``<b>x</b>`` become ``<b>x</b>``."""
    parts: list[str] = []
    pos = 0
    for m in _INLINE_BOLD_RE.finditer(text):
        parts.append(html.escape(text[pos : m.start()], quote=False))
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        parts.append(f"<b>{html.escape(inner, quote=False)}</b>")
        pos = m.end()
    parts.append(html.escape(text[pos:], quote=False))
    return "".join(parts)


def _cell(raw: str) -> str:
    """One table cell; ``<p>``/``<br>`` inside a (pipe-table) cell become line breaks."""
    lines = [x.strip() for x in _CELL_BREAK_RE.split(raw) if x.strip()]
    cls = ' class="num"' if len(lines) == 1 and _NUMERIC_CELL_RE.match(lines[0]) else ""
    return f"<td{cls}>" + "<br>".join(_inline(x) for x in lines) + "</td>"


# --------------------------------------------------------------------------- blocks
def _body_html(text: str) -> str:
    out: list[str] = []
    para: list[str] = []  # lines of the open paragraph
    table: list[list[str]] = []  # rows of the open table
    # open list: stack of levels (indent widths); items as (level, [lines])
    items: list[tuple[int, list[str]]] = []
    indents: list[int] = []

    def flush_para() -> None:
        if para:
            out.append("<p>" + "<br>\n".join(_inline(x) for x in para) + "</p>")
            para.clear()

    def flush_table() -> None:
        if table:
            width = max(len(r) for r in table)
            rows = []
            for r in table:
                cells = r + [""] * (width - len(r))
                rows.append("<tr>" + "".join(_cell(c) for c in cells) + "</tr>")
            out.append("<table>\n" + "\n".join(rows) + "\n</table>")
            table.clear()

    def flush_list() -> None:
        if not items:
            return
        html_parts: list[str] = []
        depth = -1
        for level, lines in items:
            if level > depth:
                html_parts.append("<ul>" * (level - depth))
            elif level < depth:
                html_parts.append("</li>" + "</ul></li>" * (depth - level))
            else:
                html_parts.append("</li>")
            depth = level
            first = lines[0].lstrip()
            cls = ' class="sym"' if first[:1] in _SYMBOL_BULLETS else ""
            html_parts.append(f"<li{cls}>" + "<br>\n".join(_inline(x) for x in lines))
        html_parts.append("</li>" + "</ul></li>" * depth + "</ul>")
        out.append("".join(html_parts))
        items.clear()
        indents.clear()

    def flush_all() -> None:
        flush_para()
        flush_table()
        flush_list()

    for raw in text.splitlines():
        # trailing "  " (markdown hard break) is just a line end here; tabs are kept
        # because a trailing tab still marks a table row ("<b>1. …</b>\t").
        line = raw.rstrip(" \r\n\u3000")
        if not line.strip():
            flush_all()
            continue
        if "\t" in line:  # tab-separated table row
            flush_para()
            flush_list()
            table.append(line.split("\t"))
            continue
        stripped = line.strip()
        if len(stripped) > 1 and stripped.startswith("|") and stripped.endswith("|"):
            # markdown pipe-table row; the |---|---| separator row is dropped
            flush_para()
            flush_list()
            if not _PIPE_SEP_RE.match(stripped):
                table.append(stripped[1:-1].split("|"))
            continue
        flush_table()
        m = _HEADING_RE.match(line.strip())
        if m and line.lstrip().startswith("#"):
            flush_all()
            level = len(m.group(1))
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            continue
        m = _BULLET_RE.match(line)
        if m:
            flush_para()
            indent = len(m.group(1).expandtabs(4))
            while indents and indent < indents[-1]:
                indents.pop()
            if not indents or indent > indents[-1]:
                indents.append(indent)
            items.append((len(indents) - 1, [m.group(2)]))
            continue
        if items:  # continuation line of the last list item
            items[-1][1].append(line.strip())
            continue
        para.append(line.strip())
    flush_all()
    return "\n".join(out)


# --------------------------------------------------------------------------- page
_BASE_CSS = """
html { font-family: %(font)s; font-size: 10.5pt; line-height: 1.6; color: #111;
       -webkit-print-color-adjust: exact; print-color-adjust: exact;
       /* full-width punctuation keeps its full width: with Chromium's trimming (its default from
          version 123 on) a heading ending in `）` overflows the column and the page shrinks */
       text-spacing-trim: space-all; }
body { margin: 0; }
p { margin: 0 0 0.7em 0; }
h1, h2, h3, h4 { font-weight: bold; line-height: 1.35; break-after: avoid; }
h1 { font-size: 18pt; margin: 0.9em 0 0.5em; }
h2 { font-size: 15pt; margin: 0.9em 0 0.45em; }
h3 { font-size: 13pt; margin: 0.8em 0 0.4em; }
h4 { font-size: 11.5pt; margin: 0.7em 0 0.35em; }
b, strong { font-weight: bold; }
ul { margin: 0 0 0.7em 0; padding-left: 1.4em; }
ul ul { margin: 0.1em 0 0.1em 0; }
li { margin: 0 0 0.25em 0; }
li.sym { list-style: none; }
table { border-collapse: collapse; margin: 0 0 0.8em 0; width: 100%%; }
td { border: 0.5pt solid #888; padding: 1.5pt 4pt; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
td, li, p, h1, h2, h3, h4 { overflow-wrap: anywhere; }
"""

_LAYOUT_CSS = {
    "one-column": """
@page { size: A4; margin: 20mm; }
""",
    "two-column-running": """
@page {
  size: A4;
  margin: 22mm 18mm 20mm 18mm;
  @top-center {
    content: %(title)s;
    font-family: %(font)s; font-size: 8.5pt; color: #444;
    vertical-align: bottom; padding-bottom: 4mm;
    border-bottom: 0.5pt solid #888;
  }
  @bottom-center {
    content: "- " counter(page) " -";
    font-family: %(font)s; font-size: 9pt; color: #444;
    vertical-align: top; padding-top: 4mm;
  }
}
main { column-count: 2; column-gap: 9mm; column-fill: auto; }
main h1, main h2, main h3, main h4, main p, main li { orphans: 2; widows: 2; }
""",
}


def seed_to_html(text: str, layout: str, title: str) -> str:
    """Self-contained HTML page for *text* (a seed) in *layout* (one of :data:`LAYOUTS`)."""
    if layout not in _LAYOUT_CSS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    params = {"font": FONT_STACK, "title": css_string(title)}
    css = _BASE_CSS % params + _LAYOUT_CSS[layout] % params
    return (
        "<!DOCTYPE html>\n"
        '<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{css}</style>\n</head>\n"
        f'<body class="layout-{layout}">\n<main>\n{_body_html(text)}\n</main>\n</body>\n</html>\n'
    )


# --------------------------------------------------------------------------- render
def table_page_html(heading: str, body: str, css: str) -> str:
    """A page of programme tables to print: a heading over `body` (table markup), in the CJK font
    at 10pt, styled by `css`."""
    return ("<html><head><meta charset='utf-8'><style>body{font-family:'Noto Sans CJK JP';font-size:10pt}"
            f"{css}</style></head><body><h1>{heading}</h1>{body}</body></html>")


def render_pdf_or_skip(html_text: str, out_pdf: Path) -> Path:
    """`render_pdf`, or skip the calling test naming what is missing (Chromium, a CJK font)."""
    import pytest

    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    return render_pdf(html_text, out_pdf)


def render_pdf(html_text: str, out_pdf: Path) -> Path:
    """Print *html_text* to *out_pdf* with headless Chromium; returns *out_pdf*.

    Raises RuntimeError when Chromium is missing, fails, times out or writes no PDF.
    """
    out_pdf = Path(out_pdf).resolve()
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium not installed (Debian package chromium)")
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jirei-chromium-") as tmp:
        tmpdir = Path(tmp)
        page = tmpdir / "page.html"
        page.write_text(html_text, encoding="utf-8")
        profile = tmpdir / "profile"
        tmp_pdf = tmpdir / "out.pdf"
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={tmp_pdf}",
            page.as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=RENDER_TIMEOUT_S,
                check=False,
                cwd=tmpdir,
                env=_chromium_env(tmpdir),
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"chromium timed out after {RENDER_TIMEOUT_S}s printing {out_pdf.name}"
            ) from exc
        if proc.returncode != 0 or not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
            tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
            raise RuntimeError(
                f"chromium failed to print {out_pdf.name} (exit {proc.returncode}, "
                f"pdf {'present' if tmp_pdf.exists() else 'missing'}):\n{tail}"
            )
        shutil.move(str(tmp_pdf), str(out_pdf))
    return out_pdf


def _chromium_env(tmpdir: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    # Keep Chromium's crash/config droppings inside the throw-away dir.
    env["HOME"] = str(tmpdir)
    env.setdefault("XDG_RUNTIME_DIR", str(tmpdir))
    env["XDG_CONFIG_HOME"] = str(tmpdir / "config")
    env["XDG_CACHE_HOME"] = str(tmpdir / "cache")
    return env

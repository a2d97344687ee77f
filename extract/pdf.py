"""PDF ingestion: pdfplumber characters -> reading-order text with page spans and heading levels.

pdfplumber's own `extract_text()` clusters characters into lines by their vertical position
across the whole page, which interleaves side-by-side columns and scrambles vertical (縦書き)
pages. This module builds the text itself from `page.chars` (read once per page):

1. overprinted duplicates (fake bold: the same glyph printed 2-4 times a fraction of a point
   apart) are dropped, and the survivors remember how often they were printed; furigana
   (small kana just above / right of bigger glyphs) is dropped;
2. characters are chained into runs in content-stream order, each run horizontal or vertical
   (vertical runs: glyphs stacked top to bottom, the 縦書き case);
3. runs are merged into lines (horizontal lines left to right, vertical lines top to bottom,
   taking in digits set sideways across a vertical column (縦中横) and item numbers);
4. the lines of a page are put in reading order by a recursive XY cut that treats horizontal
   regions as rows read top to bottom and cut into columns read left to right, and vertical
   regions as columns read right to left and cut into tiers read top to bottom; a column cut is
   refused where a ruling line crosses the gutter (a table), where one side is a stack of
   short labels aligned with the other (a table of contents, a label/value table, item
   numbers hanging above vertical text) or a single row (a label beside wrapped text); a band
   whose gaps line up with only the next few bands while the bands after it share a gutter
   further down (a running header centred over the gutter) is read on its own first; a vertical
   region whose columns part at a white stripe much wider than their spacing (ARTICLE_GAP,
   ARTICLE_GAP_EM) holds articles side by side: each is read whole, its horizontal title first,
   before the next to its left;
5. lines are joined: a line that fills its measure and does not end a sentence, followed by a
   line at the same indent (or a hanging indent below an item mark) in the same style,
   continues without a newline and without a space (Japanese), or with one space (Latin);
   rows of tables stay apart; larger gaps, and a word processor's paragraph spacing, become
   paragraph breaks (blank lines). A line reaching its measure only because a justified
   paragraph spread its glyphs (it ends at a manual line break), a line back at the mark of a
   list item whose lines hang, and a bracketed title (`名称(県市)`) under a `・` item start a
   new line. A sentence running from the foot of one column to the head of the next is
   joined (not after a numbered heading);
6. running headers/footers (lines repeating in the top or bottom tenth of 3+ pages, digits
   ignored) and bare page numbers there are dropped; a title-size line atop one run of at most
   five consecutive pages (a case's title repeated over the slides it runs over) is kept once,
   where the run starts;
7. heading levels come from typography (size above the body size, bold weight, overprint,
   a Gothic face in a Mincho document), 1 = the largest style.

Cost: pdfplumber's parsing of each page (`page.chars`) is ~90% of the time; the layout work
here adds a few ms per page. Glyphs are dropped once a page is laid out and every page is
closed, so memory stays flat on long files.

Every page's text is NFKC-normalised with `jirei.extract.text.normalise` before the pages are
joined with a blank line, so `Document.pages` spans and `Document.line_levels` offsets refer to
the final text.
"""

from __future__ import annotations

import ast
import io
import itertools
import logging
import re
import statistics
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

from jirei.extract.forms import starts_with_field
from jirei.extract.pdf_tables import TableRows, case_table_rows, join_wrapped
from jirei.extract.text import normalise
from jirei.records import Document, IngestError, Page, sha256_bytes

__all__ = ["read_pdf"]

PAGE_SEPARATOR = "\n\n"
MAX_HEADING_LEVEL = 6

_PDFMINER_LOGGERS = ("pdfminer", "pdfplumber")


def _silence_pdfminer() -> None:
    for name in _PDFMINER_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


_silence_pdfminer()


# --------------------------------------------------------------------------------------------
# characters


def _is_cjk(ch: str) -> bool:
    o = ord(ch[0]) if ch else 0
    return (
        0x3000 <= o <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= o <= 0x9FFF  # CJK ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms, half-width katakana
        or 0x2E80 <= o <= 0x2FDF  # radicals (Kangxi radicals folded by NFKC later)
        or 0x31F0 <= o <= 0x31FF
        or 0x2460 <= o <= 0x24FF  # circled numbers
        or 0x25A0 <= o <= 0x26FF  # geometric shapes, symbols used as bullets
        or 0x20000 <= o <= 0x2FFFF
    )


_font_cache: dict[str, tuple[str, bool, int]] = {}

# Weight markers in PostScript / Japanese font names. "UB" (HG創英角ｺﾞｼｯｸUB), W6-W9
# (Hiragino, Morisawa), Heavy/Black/Bold/Demi/Semibold/ExtraBold, "-EB"/"-B" suffixes.
_BOLD_RE = re.compile(
    r"(bold|black|heavy|(?<![a-z])w[6-9](?![0-9])|ub$|-eb$|-b$|,b$|太)",
    re.IGNORECASE,
)  # "ExtraLight", "DemiLight" are not bold; "SemiBold", "ExtraBold" match "bold"
_GOTHIC_RE = re.compile(r"(gothic|goth|sans|ゴシック|ｺﾞｼｯｸ|arial|helvetica|gothicbbb|kaku)", re.IGNORECASE)
_MINCHO_RE = re.compile(r"(mincho|明朝|ming|serif|century|times|ryumin)", re.IGNORECASE)


def _font_info(fontname: str) -> tuple[str, bool, int]:
    """(readable font name, bold weight?, family: 1 Gothic, 2 Mincho, 0 other)."""
    hit = _font_cache.get(fontname)
    if hit is not None:
        return hit
    name = fontname
    if name.startswith(("b'", 'b"')):
        # pdfminer hands non-ASCII (Shift_JIS) PostScript names over as repr(bytes).
        try:
            raw = ast.literal_eval(name)
            name = raw.decode("cp932", errors="replace") if isinstance(raw, bytes) else str(raw)
        except (ValueError, SyntaxError):
            pass
    base = name.split("+", 1)[1] if re.match(r"^[A-Z]{6}\+", name) else name
    base = base.lstrip("@")
    for suffix in ("-WinCharSetFFFF-H", "-WinCharSetFFFF-V", "-Identity-H", "-Identity-V"):
        base = base.replace(suffix, "")
    bold = bool(_BOLD_RE.search(base))
    family = 1 if _GOTHIC_RE.search(base) else 2 if _MINCHO_RE.search(base) else 0
    info = (base, bold, family)
    _font_cache[fontname] = info
    return info


class _Ch:
    __slots__ = ("t", "x0", "x1", "top", "bottom", "size", "bold", "family", "over", "cjk", "up")

    def __init__(self, t, x0, x1, top, bottom, size, bold, family, up=True):
        self.t = t
        self.x0 = x0
        self.x1 = x1
        self.top = top
        self.bottom = bottom
        self.size = size
        self.bold = bold
        self.family = family
        self.over = 1
        self.cjk = _is_cjk(t)
        self.up = up


_DUP_CELL = 4.0  # grid cell (pt) for finding overprinted duplicates


def _load_chars(raw: list[dict], width: float, height: float) -> tuple[list[_Ch], int]:
    """Visible, de-duplicated characters in content-stream order; also the number of glyphs
    without a Unicode mapping (pdfminer's "(cid:NN)")."""
    out: list[_Ch] = []
    grid: dict[tuple[str, int, int], list[_Ch]] = defaultdict(list)
    unmapped = 0
    for c in raw:
        t = c["text"]
        if not t or t.isspace():
            continue
        if t.startswith("(cid:"):
            unmapped += 1
            continue
        x0, x1, top, bottom = c["x0"], c["x1"], c["top"], c["bottom"]
        if x1 < 0 or x0 > width or bottom < 0 or top > height:
            continue  # off the page (hidden)
        up = c["upright"]
        size = c["size"] or (bottom - top) or 1.0
        if not up:
            m = c.get("matrix") or (1, 0, 0, 1, 0, 0)
            if abs(m[0]) < 1e-3 and abs(m[3]) < 1e-3:
                size = x1 - x0  # text turned 90°: pdfminer reports the advance as the size
        # Overprint: the same glyph within a fraction of an em of one already kept.
        tol = min(max(1.0, 0.15 * size), _DUP_CELL)
        gx, gy = int(x0 // _DUP_CELL), int(top // _DUP_CELL)
        dup = None
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for k in grid.get((t, gx + dx, gy + dy), ()):
                    if abs(k.x0 - x0) <= tol and abs(k.top - top) <= tol and abs(k.size - size) < 0.5:
                        dup = k
                        break
                if dup:
                    break
            if dup:
                break
        if dup is not None:
            dup.over += 1
            continue
        _, bold, family = _font_info(c["fontname"])
        ch = _Ch(t, x0, x1, top, bottom, size, bold, family, up)
        grid[(t, gx, gy)].append(ch)
        out.append(ch)
    return out, unmapped


# --------------------------------------------------------------------------------------------
# runs and lines

H, V = "h", "v"


def _link(a: _Ch, b: _Ch, tight: bool) -> str | None:
    """Direction in which b continues a (H: to the right, V: below), or None."""
    em = max(a.size, b.size)
    # horizontal: vertical overlap, b just right of a
    ov = min(a.bottom, b.bottom) - max(a.top, b.top)
    hmin = min(a.bottom - a.top, b.bottom - b.top)
    if ov >= 0.5 * hmin:
        gap = b.x0 - a.x1
        if -0.6 * em <= gap <= (0.6 if tight else _H_GAP) * em:
            return H
    ov = min(a.x1, b.x1) - max(a.x0, b.x0)
    wmin = min(a.x1 - a.x0, b.x1 - b.x0)
    if ov >= 0.5 * wmin:
        gap = b.top - a.bottom
        if -0.6 * em <= gap <= (0.5 if tight else _V_GAP) * em:
            return V
    return None


class _Line:
    """A line of text: its glyphs while the page is being laid out, then only its box, text
    and style summary (`freeze`), so a long document does not keep every glyph alive."""

    __slots__ = (
        "chars", "o", "x0", "x1", "top", "bottom", "text", "size", "bold", "n", "n_bold",
        "sizes", "fams", "heading", "zone", "cells", "row", "spread",
    )  # fmt: skip

    def __init__(self, chars: list[_Ch], o: str):
        self.chars = chars
        self.o = o
        self.text = ""
        self.heading = 0
        self.zone = ""
        self.cells: list[_Line] = []  # pieces of a row merged by _merge_rows
        self.row = False  # a row of a case table (`pdf_tables`), written `cell | cell | …`
        self.spread = 0.0  # even extra spacing between glyphs (em): a justified line stretched
        self._box()

    def freeze(self) -> None:
        self.chars = []

    def _box(self) -> None:
        cs = self.chars
        self.x0 = min(c.x0 for c in cs)
        self.x1 = max(c.x1 for c in cs)
        self.top = min(c.top for c in cs)
        self.bottom = max(c.bottom for c in cs)

    def add(self, other: "_Line") -> None:
        self.chars.extend(other.chars)
        self.x0 = min(self.x0, other.x0)
        self.x1 = max(self.x1, other.x1)
        self.top = min(self.top, other.top)
        self.bottom = max(self.bottom, other.bottom)

    # Reading frame: `start`/`end` along the line, `head`/`foot` across it, increasing in the
    # order successive lines are read (down for horizontal lines, leftwards for vertical ones).
    @property
    def start(self) -> float:
        return self.x0 if self.o == H else self.top

    @property
    def end(self) -> float:
        return self.x1 if self.o == H else self.bottom

    @property
    def head(self) -> float:
        return self.top if self.o == H else -self.x1

    @property
    def foot(self) -> float:
        return self.bottom if self.o == H else -self.x0


def _tcy(a: _Ch, b: _Ch) -> bool:
    em = max(a.size, b.size)
    return (
        not a.cjk
        and not b.cjk
        and a.x1 - a.x0 <= 0.65 * em
        and b.x1 - b.x0 <= 0.65 * em
        and abs(a.top - b.top) <= 0.2 * em
        and -0.2 * em <= b.x0 - a.x1 <= 0.2 * em
    )


def _runs(chars: list[_Ch]) -> list[tuple[str | None, list[_Ch]]]:
    """Chain characters in stream order while each continues the previous one in one direction."""
    runs: list[tuple[str | None, list[_Ch]]] = []
    cur: list[_Ch] = []
    d: str | None = None
    for ch in chars:
        if cur:
            nd = _link(cur[-1], ch, tight=d is None)
            if nd == H and d == V and _tcy(cur[-1], ch):
                nd = V  # 縦中横: two half-width digits set side by side inside a vertical line
            if nd is not None and (d is None or nd == d):
                if nd == V and d is None and not (ch.cjk or cur[-1].cjk) and ch.up and cur[-1].up:
                    nd = None  # two stacked Latin/digit glyphs: lines of a table, not 縦書き
                if nd is not None:
                    d = nd
                    cur.append(ch)
                    continue
            runs.append((d, cur))
        cur, d = [ch], None
    if cur:
        runs.append((d, cur))
    return runs


_V_GAP = 1.6  # largest gap (in em) between stream-consecutive glyphs of a vertical line: a
# full-width space plus tracking (1.22 em in the 告示); separate runs only join when closer
# than _V_JOIN, because magazine tiers can sit one empty cell (1.1 em) apart.
_V_JOIN = 0.6
_H_GAP = 1.2  # the same for horizontal lines, kept tighter because gutters can be narrow


def _merge_vertical(units: list[_Line]) -> list[_Line]:
    """Merge vertical runs into columns: overlapping in x, following each other downwards."""
    units.sort(key=lambda ln: (ln.top, -ln.x1))
    vlines: list[_Line] = []
    for r in units:
        em = max(c.size for c in r.chars)
        best = None
        for ln in vlines:
            ov = min(ln.x1, r.x1) - max(ln.x0, r.x0)
            if ov < 0.5 * min(ln.x1 - ln.x0, r.x1 - r.x0):
                continue
            gap = r.top - ln.bottom
            if -0.6 * em <= gap <= _V_JOIN * em and (best is None or gap < best[0]):
                best = (gap, ln)
        if best:
            best[1].add(r)
        else:
            vlines.append(r)
    return vlines


def _is_kana(t: str) -> bool:
    return all("\u3041" <= ch <= "\u30ff" or ch == "ー" for ch in t)


def _drop_ruby(chars: list[_Ch]) -> list[_Ch]:
    """Drop furigana: small kana set just above a bigger glyph (horizontal text) or just to its
    right (vertical text). Read inline they would split the word they gloss."""
    small = [c for c in chars if c.cjk and _is_kana(c.t)]
    if not small:
        return chars
    sizes = sorted(c.size for c in chars)
    median = sizes[len(sizes) // 2]
    small = [c for c in small if c.size <= 0.65 * median]
    if not small:
        return chars
    cell = 2 * median
    grid: dict[tuple[int, int], list[_Ch]] = defaultdict(list)
    for c in chars:
        if c.size >= 1.5 * min(s.size for s in small):
            grid[(int(c.x0 // cell), int(c.top // cell))].append(c)
    ruby: set[int] = set()
    for r in small:
        gx, gy = int(r.x0 // cell), int(r.top // cell)
        rx, ry = (r.x0 + r.x1) / 2, (r.top + r.bottom) / 2
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for b in grid.get((gx + dx, gy + dy), ()):
                    if b.size < 1.5 * r.size:
                        continue
                    tol = 0.35 * b.size
                    above = abs(b.top - r.bottom) <= tol and b.x0 - b.size <= rx <= b.x1 + b.size
                    right = abs(r.x0 - b.x1) <= tol and b.top - b.size <= ry <= b.bottom + b.size
                    if above or right:
                        ruby.add(id(r))
                        break
                if id(r) in ruby:
                    break
            if id(r) in ruby:
                break
    return [c for c in chars if id(c) not in ruby] if ruby else chars


def _column_for(cs: list[_Ch], vlines: list[_Line]) -> _Line | None:
    """The vertical line a short horizontal unit (single glyph, 縦中横) sits in, if any."""
    x0 = min(c.x0 for c in cs)
    x1 = max(c.x1 for c in cs)
    top = min(c.top for c in cs)
    bottom = max(c.bottom for c in cs)
    em = max(c.size for c in cs)
    cx = (x0 + x1) / 2
    for ln in vlines:
        lw = ln.x1 - ln.x0
        if not (ln.x0 - 0.2 * lw <= cx <= ln.x1 + 0.2 * lw) or x1 - x0 > 2.2 * lw:
            continue
        if ln.top - _V_GAP * em <= bottom and top <= ln.bottom + _V_GAP * em:
            return ln
    return None


def _build_lines(chars: list[_Ch]) -> list[_Line]:
    chars = _drop_ruby(chars)
    runs = _runs(chars)
    vruns = [_Line(cs, V) for d, cs in runs if d == V]
    rest = [(d, cs) for d, cs in runs if d != V]
    lines: list[_Line] = []
    if vruns:
        vlines = _merge_vertical(vruns)
        # Absorb single glyphs and short horizontal runs (縦中横 digits, item numbers) set in a
        # column; repeated because each absorbed glyph extends the column towards the next.
        pending = rest
        for _ in range(4):
            leftover = []
            for d, cs in pending:
                target = _column_for(cs, vlines) if len(cs) <= 4 else None
                if target is not None:
                    target.add(_Line(cs, H))
                else:
                    leftover.append((d, cs))
            absorbed = len(leftover) < len(pending)
            pending = leftover
            if not absorbed or not pending:
                break
        if len(pending) < len(rest):
            vlines = _merge_vertical(vlines)
        rest = pending
        for ln in vlines:
            ln.chars.sort(key=lambda c: (c.top, c.x0))
        lines.extend(vlines)
    # Horizontal lines from horizontal runs and single glyphs.
    units = [_Line(cs, H) for _, cs in rest]
    units.sort(key=lambda u: u.x0)
    hlines: list[_Line] = []
    for u in units:
        em = max(c.size for c in u.chars)
        uh = u.bottom - u.top
        best = None
        for ln in hlines:
            ov = min(ln.bottom, u.bottom) - max(ln.top, u.top)
            if ov < 0.5 * min(ln.bottom - ln.top, uh):
                continue
            gap = u.x0 - ln.x1
            if -0.6 * em <= gap <= _H_GAP * em and (best is None or abs(gap) < best[0]):
                best = (abs(gap), ln)
        if best:
            best[1].add(u)
        else:
            hlines.append(u)
    for ln in hlines:
        ln.chars.sort(key=lambda c: c.x0)
    lines.extend(hlines)
    # A lone glyph shows no direction; on a mostly vertical page it ends a vertical line
    # (the last character of a paragraph on a column of its own).
    if sum(len(ln.chars) for ln in lines if ln.o == V) > sum(len(ln.chars) for ln in lines if ln.o == H):
        for ln in lines:
            if len(ln.chars) == 1:
                ln.o = V
    for ln in lines:
        _style(ln)
        ln.text = _line_text(ln)
    return [ln for ln in lines if ln.text]


def _style(ln: _Line) -> None:
    """Summarise the glyphs' style: size (the most common, to 0.5 pt), weight (bold font or
    overprint), font families (other, Gothic, Mincho)."""
    sizes: Counter = Counter()
    bold = 0
    fams = [0, 0, 0]
    for c in ln.chars:
        sizes[round(c.size * 2) / 2] += 1
        fams[c.family] += 1
        if c.bold or c.over >= 2:
            bold += 1
    _set_style(ln, sizes, bold, fams)


def _set_style(ln: _Line, sizes: Counter, n_bold: int, fams: list[int]) -> None:
    ln.sizes = sizes
    ln.fams = fams
    ln.n = sum(fams)
    ln.n_bold = n_bold
    ln.size = sizes.most_common(1)[0][0]
    ln.bold = n_bold >= 0.8 * ln.n


_LATINISH = re.compile(r"[0-9A-Za-z\u00c0-\u024f]")


def _line_text(ln: _Line) -> str:
    cs = ln.chars
    if len(cs) == 1:
        return cs[0].t
    if ln.o == H:
        gaps = [b.x0 - a.x1 for a, b in zip(cs, cs[1:])]
    else:
        gaps = [b.top - a.bottom for a, b in zip(cs, cs[1:])]
    # Letter-spaced Japanese (見出し like "目　　次"): every gap wide and even -> no spaces.
    cjk_gaps = [g / max(a.size, 1.0) for g, a, b in zip(gaps, cs, cs[1:]) if a.cjk and b.cjk]
    spaced = (
        len(cjk_gaps) == len(gaps)
        and min(cjk_gaps) >= 0.4
        and max(cjk_gaps) <= 1.6 * min(cjk_gaps) + 0.2
        and len(cs) <= 12
    )
    # A justified line stretched to its measure (a word processor's line ending at a manual
    # break) spreads every gap by the same amount: measure gaps above that spread.
    spread = 0.0
    if ln.o == H and len(cjk_gaps) >= 3 and min(cjk_gaps) >= 0.1 and max(cjk_gaps) <= 1.15 * min(cjk_gaps) + 0.05:
        spaced = spaced or len(cjk_gaps) == len(gaps)
        spread = min(cjk_gaps)
    ln.spread = spread
    parts = [cs[0].t]
    for g, a, b in zip(gaps, cs, cs[1:]):
        em = max(a.size, b.size, 1.0)
        g -= spread * em
        if not spaced:
            if a.cjk or b.cjk:
                if g >= 0.5 * em:
                    parts.append(" ")
            elif g >= 0.17 * em:
                parts.append(" ")
        parts.append(b.t)
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# reading order (recursive XY cut)


def _orientation(lines: list[_Line]) -> str:
    v = sum(ln.n for ln in lines if ln.o == V)
    h = sum(ln.n for ln in lines if ln.o == H)
    return V if v > h else H


def _median_em(lines: list[_Line]) -> float:
    sizes = sorted(ln.size for ln in lines)
    return sizes[len(sizes) // 2] if sizes else 10.0


class _Rules:
    """Horizontal and vertical ruling segments of a page (lines and rectangle edges)."""

    def __init__(self, page) -> None:
        hs: list[tuple[float, float, float]] = []
        vs: list[tuple[float, float, float]] = []
        for ln in page.lines:
            if abs(ln["top"] - ln["bottom"]) < 1.5:
                hs.append((ln["top"], ln["x0"], ln["x1"]))
            elif abs(ln["x0"] - ln["x1"]) < 1.5:
                vs.append((ln["x0"], ln["top"], ln["bottom"]))
        for r in page.rects:
            w, h = r["x1"] - r["x0"], r["bottom"] - r["top"]
            if h < 3:
                hs.append(((r["top"] + r["bottom"]) / 2, r["x0"], r["x1"]))
            elif w < 3:
                vs.append(((r["x0"] + r["x1"]) / 2, r["top"], r["bottom"]))
            else:
                hs.append((r["top"], r["x0"], r["x1"]))
                hs.append((r["bottom"], r["x0"], r["x1"]))
                vs.append((r["x0"], r["top"], r["bottom"]))
                vs.append((r["x1"], r["top"], r["bottom"]))
        self.h = self._merge(hs)
        self.v = self._merge(vs)

    @staticmethod
    def _merge(segs: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
        """Join collinear touching segments (table rows drawn cell by cell)."""
        segs.sort(key=lambda s: (round(s[0]), s[1]))
        out: list[list[float]] = []
        for pos, a, b in segs:
            if out and abs(out[-1][0] - pos) <= 1.0 and a <= out[-1][2] + 1.5:
                out[-1][2] = max(out[-1][2], b)
            else:
                out.append([pos, a, b])
        return [tuple(s) for s in out]  # type: ignore[misc]

    def crosses(self, o: str, g0: float, g1: float, lo: float, hi: float) -> bool:
        """Is a gutter [g0, g1] (x for a horizontal region, y for a vertical one) crossed by a
        rule lying strictly inside the region's extent [lo, hi] across it?"""
        segs = self.h if o == H else self.v
        for pos, a, b in segs:
            if lo + 2 < pos < hi - 2 and a <= g0 + 1 and b >= g1 - 1:
                return True
        return False


def _band_iv(ln: _Line, o: str) -> tuple[float, float]:
    """Extent of a line along the band axis (y for horizontal regions, x for vertical),
    shrunk a little so tight leading does not make neighbouring lines touch."""
    if o == H:
        # A vertical line in a horizontal region (a side label) belongs to the row at its top
        # only; spanning many rows it would weld them into one band.
        a, b = ln.top, (ln.bottom if ln.o == H else min(ln.bottom, ln.top + (ln.x1 - ln.x0)))
    else:
        a, b = ln.x0, ln.x1
    s = 0.2 * (b - a)
    return a + s, b - s


def _gut_iv(ln: _Line, o: str) -> tuple[float, float]:
    return (ln.x0, ln.x1) if o == H else (ln.top, ln.bottom)


def _bands(lines: list[_Line], o: str) -> list[list[_Line]]:
    """Group lines into bands along the band axis (rows for H, columns for V), in reading order."""
    items = sorted(lines, key=lambda ln: _band_iv(ln, o)[0])
    bands: list[list[_Line]] = []
    end = None
    for ln in items:
        a, b = _band_iv(ln, o)
        if bands and a < end:
            bands[-1].append(ln)
            end = max(end, b)
        else:
            bands.append([ln])
            end = b
    if o == V:
        bands.reverse()  # vertical text: rightmost column first
    return bands


def _white(intervals: Iterable[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    out = []
    pos = lo
    for a, b in sorted(intervals):
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < hi:
        out.append((pos, hi))
    return out


def _intersect(w1: list[tuple[float, float]], w2: list[tuple[float, float]], wmin: float):
    out = []
    for a, b in w1:
        for c, d in w2:
            lo, hi = max(a, c), min(b, d)
            if hi - lo >= wmin:
                out.append((lo, hi))
    return out


def _split_at(lines: list[_Line], o: str, g: tuple[float, float]) -> tuple[list[_Line], list[_Line]]:
    mid = (g[0] + g[1]) / 2
    first, second = [], []
    for ln in lines:
        a, b = _gut_iv(ln, o)
        if (a + b) / 2 < mid:
            first.append(ln)
        else:
            second.append(ln)
    return first, second


def _is_label_table(first: list[_Line], second: list[_Line], o: str) -> bool:
    """One side is a stack of short items each aligned with an item on the other side: a
    table of contents, a label/value table, or the item numbers (一, 二, 第一) of vertical
    text hanging above their columns; read them with their rows/columns instead of apart."""
    if not first or not second:
        return False
    for side, other in ((second, first), (first, second)):
        if all(len(ln.text) <= 6 for ln in side):
            hits = []
            for ln in side:
                a0, a1 = _band_iv(ln, o)
                hits.append(any(min(a1, _band_iv(m, o)[1]) - max(a0, _band_iv(m, o)[0]) > 0.3 * (a1 - a0)
                                for m in other))
            aligned = sum(hits)
            if aligned >= 0.8 * len(side):
                return True
            # a label/value table with a short heading right below it (`取組の概要` under the
            # labels): every item but the last along the band axis is aligned
            last = max(range(len(side)), key=lambda i: _band_iv(side[i], o)[0])
            if aligned >= 2 and aligned == len(side) - 1 and not hits[last]:
                return True
    return False


def _order(lines: list[_Line], rules: _Rules, depth: int = 0) -> list[_Line]:
    if len(lines) <= 1:
        return list(lines)
    if depth > 60:
        return sorted(lines, key=lambda ln: (ln.head, ln.start))
    o = _orientation(lines)
    em = _median_em(lines)
    wmin = 0.8 * em
    bands = _bands(lines, o)
    glo = min(_gut_iv(ln, o)[0] for ln in lines)
    ghi = max(_gut_iv(ln, o)[1] for ln in lines)

    if len(bands) == 1:
        # One connected band: cut it across at gaps, in gutter order.
        whites = [w for w in _white((_gut_iv(ln, o) for ln in lines), glo, ghi) if w[1] - w[0] > 0.1]
        interior = [w for w in whites if w[0] > glo and w[1] < ghi]
        if not interior:
            # Inside a single band the gutter axis is the reading axis.
            key = (lambda ln: (ln.x0, ln.top)) if o == H else (lambda ln: (ln.top, -ln.x1))
            return sorted(lines, key=key)
        out: list[_Line] = []
        rest = lines
        for w in interior:
            first, rest = _split_at(rest, o, w)
            out.extend(_order(first, rules, depth + 1))
        out.extend(_order(rest, rules, depth + 1))
        return out

    # Vertical text set as articles side by side, each in its own tiers: a stripe of white running
    # the region's whole height between two columns, wider than the columns' spacing, parts the
    # articles; read the right one whole, then the left (cutting at the tiers first would
    # interleave them).
    if o == V:
        k = _article_gap(bands, em)
        if k is not None:
            right = [ln for b in bands[: k + 1] for ln in b]
            left = [ln for b in bands[k + 1 :] for ln in b]
            return _article(right, rules, depth) + _article(left, rules, depth)

    # Several bands: find runs of consecutive bands sharing a gutter and cut those into columns.
    out = []
    i = 0
    n = len(bands)
    band_white = [
        _white((_gut_iv(ln, o) for ln in b), glo, ghi) for b in bands
    ]

    def best_run(i: int) -> tuple[int | None, tuple[float, float] | None]:
        """The longest run of bands from bands[i] on sharing a gutter that can be cut: (last
        band of the run, the gutter), or (None, None)."""
        common = [w for w in band_white[i] if w[1] - w[0] >= wmin]
        j = i
        # Extend the run while a shared gutter survives; cut at the longest run that can be
        # cut. Checking every extension costs O(bands²) candidate checks; on very dense pages
        # (big tables) only the runs' ends where the shared gutters change are checked.
        stretches: list[tuple[int, list[tuple[float, float]]]] = []
        while j + 1 < n:
            nxt = _intersect(common, band_white[j + 1], wmin)
            if not nxt:
                break
            if n > _DENSE and nxt != common and j > i:
                stretches.append((j, common))
            common = nxt
            j += 1
            if n <= _DENSE:
                stretches.append((j, common))
        if n > _DENSE and j > i:
            stretches.append((j, common))
        for sj, scommon in reversed(stretches if n <= _DENSE else stretches[-12:]):
            g = _cut_candidate(bands[i : sj + 1], scommon, o, glo, ghi, rules)
            if g is not None:
                return sj, g
        return None, None

    runs: dict[int, tuple[int | None, tuple[float, float] | None]] = {}

    def run_from(i: int) -> tuple[int | None, tuple[float, float] | None]:
        if i not in runs:
            runs[i] = best_run(i)
        return runs[i]

    while i < n:
        best_j, best_g = run_from(i)
        if best_j is not None and best_j < n - 1 and (run_from(i + 1)[0] or 0) > best_j:
            # This band's gaps line up with only the next few bands (a running header centred
            # over the gutter, above a column's short first line) while the bands after it
            # share a gutter further down (the page's columns): read it on its own.
            best_j, best_g = None, None
        if best_g is not None:
            group = [ln for b in bands[i : best_j + 1] for ln in b]
            first, second = _split_at(group, o, best_g)
            # (for vertical regions the gutter axis is y: the upper tier comes first too)
            out.extend(_order(first, rules, depth + 1))
            out.extend(_order(second, rules, depth + 1))
            i = best_j + 1
        else:
            out.extend(_order(bands[i], rules, depth + 1) if len(bands[i]) > 1 else bands[i])
            i += 1
    return out


_DENSE = 120  # bands in a region beyond which gutter runs are checked sparsely
ARTICLE_GAP = 2.5  # times the median spacing of a vertical region's columns
ARTICLE_GAP_EM = 4.0  # and at least this many ems: wider than the space before a paragraph or a title


def _article(lines: list[_Line], rules: _Rules, depth: int) -> list[_Line]:
    """An article of a vertical page: its horizontal title lines standing above its columns
    first, then the rest in reading order."""
    columns = sorted(ln.top for ln in lines if ln.o == V)
    if not columns:
        return _order(lines, rules, depth + 1)
    # where the article's columns start (a masthead's few letters higher up do not count)
    top = columns[len(columns) // 4]
    title = sorted((ln for ln in lines if ln.o == H and ln.bottom <= top + 1.0), key=lambda ln: (ln.top, ln.x0))
    rest = [ln for ln in lines if ln not in title]
    return title + _order(rest, rules, depth + 1)


def _article_gap(bands: list[list[_Line]], em: float) -> int | None:
    """In a vertical region's columns (bands, right to left), the index of the band left of which
    a white stripe at least ARTICLE_GAP times the median column spacing (and ARTICLE_GAP_EM ems) parts two
    groups of at least two columns each; the widest such stripe, or None."""
    if len(bands) < 4:
        return None
    gaps = [min(ln.x0 for ln in bands[k]) - max(ln.x1 for ln in bands[k + 1]) for k in range(len(bands) - 1)]
    typical = statistics.median(gaps)
    best = None
    for k, g in enumerate(gaps):
        if 1 <= k <= len(gaps) - 2 and g >= max(ARTICLE_GAP * typical, ARTICLE_GAP_EM * em) and (best is None or g > gaps[best]):
            best = k
    return best


def _n_bands(lines: list[_Line], o: str) -> int:
    return len(_bands(lines, o)) if len(lines) > 1 else len(lines)


def _cut_candidate(bands, common, o, glo, ghi, rules):
    """An interior gutter shared by `bands` that may be cut (lines on both sides, no rule
    crossing it, not a label table); the widest such gutter, or None."""
    group = [ln for b in bands for ln in b]
    em = _median_em(group)
    blo = min(_band_iv(ln, o)[0] for ln in group)
    bhi = max(_band_iv(ln, o)[1] for ln in group)
    best = None
    for g in common:
        if g[0] <= glo or g[1] >= ghi:
            continue
        first, second = _split_at(group, o, g)
        if not first or not second:
            continue
        # A side with a single row is a label beside wrapped text ("第39条 ……" whose next line
        # returns to the margin), unless the gutter is wide (a caption beside a paragraph).
        if g[1] - g[0] < 3.0 * em and (_n_bands(first, o) < 2 or _n_bands(second, o) < 2):
            continue
        if rules.crosses(o, g[0], g[1], blo, bhi):
            continue
        if _is_label_table(first, second, o):
            continue
        if best is None or g[1] - g[0] > best[1] - best[0]:
            best = g
    return best


# --------------------------------------------------------------------------------------------
# joining lines into text

_SENTENCE_END = set("。．.！？!?")
_MARKER_RE = re.compile(
    r"^\s*(?:[・‧•●○◯◎■□◆◇▪▶►▷※＊*☆★✓✔➢➤→\-–—‐]"
    r"|[①-⑳㉑-㉟㊱-㊿⑴-⒇⒈-⒛❶-❿➀-➉]"
    r"|[(（][0-9０-９一二三四五六七八九十a-zA-Zａ-ｚア-ンｱ-ﾝ]{1,3}[)）]"
    r"|[0-9０-９]{1,3}(?:[.．、)）]|[ 　](?=\S))"
    r"|[a-zA-Zａ-ｚＡ-Ｚア-ンｱ-ﾝ][.．、)）]"
    r"|[一二三四五六七八九十]{1,3}[ 　、.．]"
    r"|[ア-ヲ][ 　](?=\S)"  # イ ロ ハ … item letters of laws and notices
    r"|[A-ZＡ-Ｚ]{1,2}[0-9０-９]{2,4}(?:[-‐－][0-9０-９]+)*[ 　]"  # codes: K721, A308-3
    r"|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ][ .．、]?"
    r"|第\s*[0-9０-９一二三四五六七八九十百]+\s*[条章節項款編部]"
    r"|[［【〔〈《\[]"
    r"|(?:問|Q|A)(?:[0-9０-９]+[.．:：\s]?|[.．:：])"
    r")"
)


def _starts_with_marker(text: str) -> bool:
    m = _MARKER_RE.match(text)
    if m is None:
        return False
    # `(DR)」を運用…`: a bracketed word closing a quotation continues the sentence
    after = text[m.end() : m.end() + 1]
    return not (after and after in "」』)）、。,，")


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


def _word_runs_on(ta: str, tb: str) -> bool:
    """`…オンデマンドバ` + `ス、ライドシェア…`: a katakana word broken at the line end, not
    the item letter (ア、イ、…) of a list."""
    return bool(ta) and len(tb) > 1 and _is_katakana(ta[-1]) and _is_katakana(tb[0]) and tb[1] in "、.．)）"


def _tabular(text: str) -> bool:
    """Two or more wide gaps inside a line (not Latin word spaces, not the space after an
    item number): cells of a table row."""
    m = _MARKER_RE.match(text)
    body = text[m.end() :] if m else text
    gaps = 0
    for i, ch in enumerate(body):
        if ch == " " and 0 < i < len(body) - 1:
            a, b = body[i - 1], body[i + 1]
            if not (_LATINISH.match(a) and _LATINISH.match(b)):
                gaps += 1
    return gaps >= 2


def _same_style(a: _Line, b: _Line) -> bool:
    return a.o == b.o and abs(a.size - b.size) <= 0.05 * max(a.size, b.size) and a.bold == b.bold


def _stacked(a: _Line, b: _Line) -> bool:
    """b is the next line of a's block: same orientation, below it (H) / left of it (V), overlapping
    along the line direction."""
    if a.o != b.o:
        return False
    ov = min(a.end, b.end) - max(a.start, b.start)
    if ov <= 0:
        return False
    return b.head >= a.foot - 0.3 * (a.foot - a.head)


def _same_row(a: _Line, b: _Line) -> bool:
    return (
        a.o == b.o == H
        and b.x0 > a.x1 - 0.2 * a.size
        and min(a.bottom, b.bottom) - max(a.top, b.top) > 0.5 * min(a.bottom - a.top, b.bottom - b.top)
    )


def _merge_rows(lines: list[_Line]) -> list[_Line]:
    """Successive pieces of one row (a label and its text, table cells, text around an
    underlined blank) become one line, its pieces separated by a space."""
    out: list[_Line] = []
    for ln in lines:
        if out and not ln.row and not out[-1].row and _same_row(out[-1], ln):
            prev = out[-1]
            row = _Line.__new__(_Line)
            row.chars = []
            row.o = H
            row.x0, row.x1 = min(prev.x0, ln.x0), max(prev.x1, ln.x1)
            row.top, row.bottom = min(prev.top, ln.top), max(prev.bottom, ln.bottom)
            row.text = prev.text + " " + ln.text
            row.heading = 0
            row.zone = prev.zone if prev.zone == ln.zone else ""
            row.cells = (prev.cells or [prev]) + [ln]
            row.row = False
            row.spread = 0.0
            fams = [a + b for a, b in zip(prev.fams, ln.fams)]
            _set_style(row, prev.sizes + ln.sizes, prev.n_bold + ln.n_bold, fams)
            out[-1] = row
        else:
            out.append(ln)
    return out


_WINDOW = 8  # lines either side whose ends define the measure a full line reaches


def _page_text(lines: list[_Line]) -> list[tuple[str, _Line]]:
    """Pieces (separator_before, line) for a page's ordered lines."""
    if not lines:
        return []
    # Typical pitch (distance between the heads of successive lines in a block) per size.
    pitches: dict[float, list[float]] = defaultdict(list)
    for a, b in zip(lines, lines[1:]):
        if _stacked(a, b) and _same_style(a, b):
            pitches[a.size].append(b.head - a.head)
    pitch = {s: statistics.median(v) for s, v in pitches.items() if v}

    n = len(lines)
    same_block = [False] * n
    for k in range(1, n):
        a, b = lines[k - 1], lines[k]
        p = pitch.get(a.size, 1.5 * a.size)
        same_block[k] = (
            _stacked(a, b)
            and b.head - a.head <= max(1.3 * p, a.foot - a.head + 0.2 * a.size)
            and abs(a.size - b.size) <= 0.25 * a.size
        )
    # The measure around each line: the furthest end among nearby lines of its block.
    # A block is "framed" when most of its lines reach the measure (a page of running text);
    # then only reaching it makes a line full. Elsewhere (text wrapping around figures, boxes)
    # lines ending together count as full too, see _join.
    measure = [(ln.start, ln.end) for ln in lines]
    edge: list[float | None] = [None] * n  # where most lines of the block end, when 3+ do
    framed = [False] * n
    start = 0
    for k in range(1, n + 1):
        if k == n or not same_block[k]:
            reach = 0
            for i in range(start, k):
                lo, hi = max(start, i - _WINDOW), min(k, i + _WINDOW + 1)
                measure[i] = (min(lines[j].start for j in range(lo, hi)), max(lines[j].end for j in range(lo, hi)))
                near = sorted(lines[j].end for j in range(lo, hi) if lines[j].end >= measure[i][1] - 1.5 * lines[i].size)
                if len(near) >= 3:
                    edge[i] = near[len(near) // 2]
                if lines[i].end >= measure[i][1] - 1.2 * lines[i].size:
                    reach += 1
            if k - start >= 4 and reach >= 0.5 * (k - start):
                for i in range(start, k):
                    framed[i] = True
            start = k

    # Runs of successive lines of a block ending at the same place (justified or wrapped text).
    run = [1] * n
    k = 0
    while k < n:
        j = k
        while j + 1 < n and same_block[j + 1] and abs(lines[j + 1].end - lines[j].end) <= 1.2 * lines[j].size:
            j += 1
        for i in range(k, j + 1):
            run[i] = j - k + 1
        k = j + 1

    seps: list[str] = [""]
    prev_joined = False
    opened = lines[0]  # the first line of the output line being built
    for k in range(1, n):
        a, b = lines[k - 1], lines[k]
        em = max(a.size, 1.0)
        if a.row or b.row:  # a case table's rows, one per line, apart from the text around them
            seps.append("\n" if a.row and b.row else "\n\n")
            prev_joined = False
            opened = b
            continue
        if same_block[k]:
            prev = lines[k - 2] if k >= 2 and same_block[k - 1] else None
            sep = _join(a, b, em, measure[k - 1], framed[k - 1], run[k - 1], prev, prev_joined)
            if "\n" not in sep and (
                _stretched_short(a, b)  # stretched to the measure: it ends at a manual break
                or _next_would_fit(a, b, edge[k - 1])  # b's first character had room after a
                or (_SYMBOL_MARK.match(opened.text) and _title_shape(b.text))  # a title under a `・` item
                or _leaves_hanging_item(opened, a, b, em)  # back at a hanging item's mark
            ):
                sep = "\n"
            if _paragraph_space(a, b, pitch.get(a.size)):
                sep = "\n\n"  # a paragraph's spacing: a paragraph break, as a blank line
            prev_joined = sep in ("", " ")
            seps.append(sep)
            if "\n" in sep:
                opened = b
            continue
        prev_joined = False
        opened = b
        if (
            k >= 2 and same_block[k - 1] and k + 1 < n and same_block[k + 1]
            and _next_column(a, b, em, measure[k - 1], measure[k])
            and not _numbered(_opened_before(seps, lines, k).text)
        ):
            # a sentence running on from the foot of one column to the head of the next (a
            # numbered heading ending at a column's foot stays apart from the text after it)
            sep = " " if _LATINISH.match(a.text[-1]) and _LATINISH.match(b.text[0]) else ""
            prev_joined = True
            opened = _opened_before(seps, lines, k)
            seps.append(sep)
            continue
        if a.o == b.o and _stacked(a, b):
            p = pitch.get(a.size, 1.5 * a.size)
            gap = b.head - a.foot
            line_gap = max(p - (a.foot - a.head), 0.2 * a.size)
            seps.append("\n\n" if gap > max(1.8 * line_gap, line_gap + 0.6 * em) else "\n")
        else:
            seps.append("\n\n")
    return list(zip(seps, lines))


def _opened_before(seps: list[str], lines: list[_Line], k: int) -> _Line:
    """The first line of the output line that lines[k - 1] belongs to."""
    i = k - 1
    while i > 0 and "\n" not in seps[i]:
        i -= 1
    return lines[i]


_SYMBOL_MARK = re.compile(r"^\s*[・‧•●○◯◎■□◆◇▪▶►▷※＊*☆★✓✔➢➤→\-–—‐]")
_NO_START = set("、。，．・：；？！ー…‥）」』】〕〉》］｝〟’”ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々〻ゝゞヽヾ)]},.:;!?%％")
_NO_END = set("（「『【〔〈《［｛〝‘“([{")


def _first_unit_em(text: str) -> float:
    """Width (em, estimated) of what a line breaker must carry to the next line together with
    the first character of `text`: up to the first break between two CJK characters where
    neither the Japanese rules (no 、。」 at a line's start, no 「（ at its end) nor a Latin word
    forbids one."""
    width = 0.0
    for i, ch in enumerate(text):
        if i and _is_cjk(text[i - 1]) and _is_cjk(ch) and ch not in _NO_START and text[i - 1] not in _NO_END:
            break
        width += 1.0 if _is_cjk(ch) else 0.6
    return width


def _next_would_fit(a: _Line, b: _Line, edge: float | None) -> bool:
    """Lines wrap only when the next character does not fit: when the room left between a's
    end and the edge where the block's lines end holds b's first character (with the
    characters Japanese line breaking keeps with it: 、。」 after it), a ended its line itself
    (a heading or a short paragraph whose last line happens to come close to the edge)."""
    if edge is None or a.o != H or b.o != H:
        return False
    tb = b.text.replace(" ", "")
    if not tb or not a.text or a.text[-1] in _NO_END or tb[0] in _NO_START:
        return False
    unit = tb[0] + "".join(itertools.takewhile(lambda ch: ch in _NO_START, tb[1:]))
    if not all(_is_cjk(ch) for ch in unit):
        return False  # a Latin word's width is not known here
    return edge - a.end >= len(unit) * b.size - 0.1 * b.size


def _stretched_short(a: _Line, b: _Line) -> bool:
    """a reaches its measure only because its glyphs were spread (a justified line ending at a
    manual line break): the first unit of b would have fitted in the room spread over a."""
    if a.spread < 0.1 or a.o != H:
        return False
    room = a.spread * max(len(a.text.replace(" ", "")) - 1, 0)
    return room >= _first_unit_em(b.text.replace(" ", "")) + 0.5
_TITLE_SHAPE = re.compile(r"^[^。]{2,40}[(（【][^。()（）]{2,20}[)）】]$")


def _title_shape(text: str) -> bool:
    """A one-line title naming its place or organisation in brackets at its end, without a
    sentence end: `名称(都道府県市町村)`, `③ 会社名:取組(県市)`."""
    return bool(_TITLE_SHAPE.match(text.replace(" ", "")))


def _next_column(a: _Line, b: _Line, em: float, ma: tuple[float, float], mb: tuple[float, float]) -> bool:
    """b heads the next column (right of a, higher up) and a, the foot of its column, fills
    its measure without ending a sentence: the sentence runs on. Both in one style, b not
    indented and not a list item (the caller checks that each is in a block of 2+ lines)."""
    if not (a.o == b.o == H and _same_style(a, b)) or a.text[-1] in _SENTENCE_END or a.text[-1] in ":：":
        return False
    if b.x0 < a.x1 - 0.5 * em or b.top >= a.top or _stretched_short(a, b):
        return False
    if _title_shape(a.text):
        return False
    if a.end < ma[1] - 1.2 * em or a.start - ma[0] > 3.0 * em:
        return False
    if b.start > mb[0] + 0.5 * em or _starts_with_marker(b.text) or starts_with_field(b.text):
        return False
    return not (a.cells or b.cells or _tabular(a.text) or _tabular(b.text))


def _numbered(text: str) -> bool:
    """Starts with an item number or a bracketed mark (①, (1), 1., 第1条, 【…】), not a bullet."""
    return _starts_with_marker(text) and not _SYMBOL_MARK.match(text)


def _leaves_hanging_item(opened: _Line, a: _Line, b: _Line, em: float) -> bool:
    """A list item's lines hang at an indent (a, not its first line, starts right of the
    item's mark) and b goes back to where the mark stands: b is not the item's, it follows it
    (a heading or a note printed right under a list item)."""
    if a is opened or opened.o != H or not _starts_with_marker(opened.text):
        return False
    return a.start - opened.start >= 0.5 * em and b.start <= opened.start + 0.3 * em


def _paragraph_space(a: _Line, b: _Line, pitch: float | None) -> bool:
    """b sits further below a than the block's line pitch by a paragraph's spacing (0.3 em or
    more, measured at both the heads and the feet so a raised or lowered glyph does not count):
    a word processor's paragraphs spaced by less than a blank line."""
    if pitch is None:
        return False
    step = min(b.head - a.head, b.foot - a.foot)
    return step > pitch + 0.3 * a.size


def _join(
    a: _Line,
    b: _Line,
    em: float,
    measure: tuple[float, float],
    framed: bool,
    run: int,
    prev: _Line | None,
    prev_joined: bool,
) -> str:
    """Separator between two successive lines `a`, `b` of one block (`prev` precedes `a`)."""
    ta, tb = a.text, b.text
    if not _same_style(a, b):
        return "\n"
    tol = 1.2 * em
    # `a` is full when it reaches the measure (the furthest end among nearby lines of its
    # block), or when it ends where its neighbours end: three lines ending together are
    # justified text wrapping around a figure; outside framed blocks two such lines suffice
    # if they fill most of the measure (list items of equal length are not wrapped text), and
    # a line ending with the one before it continues a run whose measure widens below a figure.
    m0, m1 = measure
    full = (
        a.end >= m1 - tol
        or (run >= 3 and len(ta) >= 8)
        or (not framed and run == 2 and a.end >= b.end - tol and a.end - m0 >= 0.6 * (m1 - m0))
        or (prev is not None and prev_joined and abs(a.end - prev.end) <= tol)
    )
    if not full:
        return "\n"  # a short line ends a paragraph (or is a short item)
    if _tabular(ta) and _tabular(tb):
        return "\n"  # rows of a table set without rules (cells apart by wide gaps)
    if a.cells:
        last_cell, before = a.cells[-1], a.cells[-2]
        if len(last_cell.text) <= 6:
            return "\n"  # a table row / contents line ending in a value or page number
        if b.cells and any(abs(c.x0 - last_cell.x0) <= 0.5 * em for c in b.cells[1:]):
            return "\n"  # the next row has a cell in the same column: rows of a table
    last = ta[-1]
    if last in _SENTENCE_END or last in ":：":
        return "\n"
    if (_starts_with_marker(tb) and not _word_runs_on(ta, tb)) or starts_with_field(tb):
        return "\n"  # a list item, or a form's next `label:value` field
    d = b.start - a.start
    if d < -1.5 * em or d > 3.0 * em:
        return "\n"
    if d > 0.7 * em and not _starts_with_marker(ta):
        return "\n"  # indented below a plain line: a new item / paragraph (hanging indents
        # below "○", "1 ", "第1条" etc. continue the item)
    if _LATINISH.match(last) and _LATINISH.match(tb[0]):
        return "" if last == "-" else " "
    return ""


# --------------------------------------------------------------------------------------------
# headers, footers, page numbers

_PAGE_NO_RE = re.compile(
    r"^[\s\-–—―‐ー~〜・\.(（\[［<〈]*"
    r"(?:p\.?|page|ページ|頁)?\s*"
    r"(?:\d{1,4}|[ivxlcdm]{1,7}|[IVXLCDM]{1,7})"
    r"(?:\s*(?:/|of|／)\s*\d{1,4})?"
    r"\s*(?:頁|ページ)?[\s\-–—―‐ー~〜・\.)）\]］>〉]*$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_WS = re.compile(r"\s+")


def _is_page_number(text: str) -> bool:
    return bool(_PAGE_NO_RE.match(normalise(text)))


def _margin_key(text: str) -> str:
    return _DIGITS.sub("#", _WS.sub("", normalise(text)))


def _mark_zones(lines: list[_Line], height: float) -> None:
    top_zone, bottom_zone = 0.1 * height, 0.9 * height
    for ln in lines:
        if ln.bottom <= top_zone:
            ln.zone = "top"
        elif ln.top >= bottom_zone:
            ln.zone = "bottom"


# A case's title repeated atop the slides or pages it runs over (at most this many, one after the
# other) is no running header: set larger than the body, it is kept where the run starts and its
# repeats dropped, so the continuation pages fold into the case instead of the case losing its head.
TITLE_RUN_MAX = 5
TITLE_SIZE = 1.12  # a title is set this much larger than the body (as `_heading_levels` reads it)


def _title_runs(pages: list[list[_Line]]) -> dict[tuple[str, str], int]:
    """Top-margin lines set in a title size whose pages are one run of consecutive pages (no more
    than TITLE_RUN_MAX): key -> the page index where the run starts."""
    sizes: Counter = Counter()
    seen: dict[tuple[str, str], list[int]] = {}
    big: dict[tuple[str, str], float] = {}
    for idx, lines in enumerate(pages):
        for ln in lines:
            sizes[ln.size] += len(ln.text)
            if ln.zone == "top":
                key = (ln.zone, _margin_key(ln.text))
                if not seen.setdefault(key, []) or seen[key][-1] != idx:
                    seen[key].append(idx)
                big[key] = max(big.get(key, 0.0), ln.size)
    if not sizes:
        return {}
    body = sizes.most_common(1)[0][0]
    return {key: idx[0] for key, idx in seen.items()
            if len(idx) <= TITLE_RUN_MAX and idx[-1] - idx[0] == len(idx) - 1 and big[key] >= TITLE_SIZE * body}


def _drop_running(pages: list[list[_Line]]) -> int:
    """Remove running headers/footers and bare page numbers in place; returns lines removed."""
    counts: Counter = Counter()
    n_text_pages = 0
    for lines in pages:
        keys = {(ln.zone, _margin_key(ln.text)) for ln in lines if ln.zone}
        counts.update(keys)
        if lines:
            n_text_pages += 1
    # Three pages with the same line in the same margin make it a running header/footer
    # (a chapter's running head may cover only a few pages of a long report).
    threshold = 3 if n_text_pages >= 4 else None
    titles = _title_runs(pages) if threshold is not None else {}
    removed = 0
    for idx, lines in enumerate(pages):
        keep = []
        for ln in lines:
            if ln.zone:
                if _is_page_number(ln.text):
                    removed += 1
                    continue
                key = (ln.zone, _margin_key(ln.text))
                if threshold is not None and counts[key] >= threshold and titles.get(key) != idx:
                    removed += 1
                    continue
            keep.append(ln)
        pages[idx] = keep
    return removed


# --------------------------------------------------------------------------------------------
# headings


def _logical_lines(pieces: list[tuple[str, _Line]]) -> list[list[_Line]]:
    """Group a page's pieces into the lines of the output text (pieces joined without a newline)."""
    out: list[list[_Line]] = []
    for sep, ln in pieces:
        if not out or "\n" in sep:
            out.append([ln])
        else:
            out[-1].append(ln)
    return out


def _heading_levels(pages: list[list[list[_Line]]]) -> None:
    """Set `line.heading` (1 = most prominent) on the first piece of each output line set
    whole in a size above the body size or in bold (or Gothic in a Mincho document)."""
    sizes: Counter = Counter()
    families: Counter = Counter()
    for logical in pages:
        for group in logical:
            for ln in group:
                sizes[ln.size] += ln.n
                for fam, count in enumerate(ln.fams):
                    families[fam] += count
    if not sizes:
        return
    body = sizes.most_common(1)[0][0]
    mincho_body = families.most_common(1)[0][0] == 2
    styles: set[tuple[float, bool]] = set()
    cands: list[tuple[_Line, tuple[float, bool]]] = []
    for logical in pages:
        for group in logical:
            first = group[0]
            text = "".join(ln.text for ln in group)
            if len(text) > 60 or text[-1] in "。．":
                continue  # a sentence, not a heading
            if not any(ch.isalnum() for ch in text):
                continue
            if any(not _same_style(first, ln) for ln in group[1:]):
                continue
            emph = all(ln.bold for ln in group)
            if not emph and mincho_body:
                n_goth = sum(ln.fams[1] for ln in group)
                emph = n_goth >= 0.8 * sum(ln.n for ln in group)
            big = first.size >= 1.12 * body
            if not (big or (emph and first.size >= 0.95 * body)):
                continue
            key = (first.size if big else body, emph)
            styles.add(key)
            cands.append((first, key))
    ranked = sorted(styles, key=lambda st: (-st[0], not st[1]))
    level = {st: min(i + 1, MAX_HEADING_LEVEL) for i, st in enumerate(ranked)}
    for ln, key in cands:
        ln.heading = level[key]


# --------------------------------------------------------------------------------------------
# the reader


_PARSER_REASONS = (
    ("No /Root object", "no document catalogue: damaged, or not a PDF"),
    ("Unexpected EOF", "unexpected end of file: truncated"),
    ("PSEOF", "unexpected end of file: truncated"),
)


def _open_error(exc: BaseException) -> str:
    """One-line problem for an exception raised by pdfplumber/pdfminer."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    name = type(inner).__name__
    if name in ("PDFPasswordIncorrect", "PDFEncryptionError", "PDFEncryptionWarning"):
        return "encrypted PDF (password protected)"
    text = " ".join(str(inner).split())
    for needle, reason in _PARSER_REASONS:
        if needle in text or needle == name:
            return f"not a readable PDF ({reason})"
    return f"not a readable PDF ({name}: {text[:100]})" if text else f"not a readable PDF ({name})"


def read_pdf(path: str | Path) -> Document:
    """Read a PDF report into a Document (kind "pdf") with one Page span per page.

    Raises IngestError(path, problem) for an empty, encrypted, corrupt or image-only file."""
    path = Path(path)
    spath = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(spath, f"cannot read file ({exc.strerror or exc})") from exc
    if not data:
        raise IngestError(spath, "empty file")
    if b"%PDF-" not in data[:1024]:
        raise IngestError(spath, "not a readable PDF (no %PDF header)")

    import pdfplumber  # deferred: the text path of the CLI should not pay for it

    _silence_pdfminer()
    doc = Document(doc_id=sha256_bytes(data), name=path.name, path=spath, kind="pdf", text="")
    page_lines: list[list[_Line]] = []
    page_sizes: list[tuple[float, float]] = []
    page_images: list[int] = []
    page_notes: list[str | None] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pdf = pdfplumber.open(io.BytesIO(data))
        except Exception as exc:  # pdfplumber wraps every pdfminer failure in PdfminerException
            raise IngestError(spath, _open_error(exc)) from exc
        try:
            try:
                pages = pdf.pages
            except Exception as exc:
                raise IngestError(spath, _open_error(exc)) from exc
            if not pages:
                raise IngestError(spath, "not a readable PDF (no pages found: truncated or damaged)")
            table_columns = None  # columns of the case table the previous page ended with
            for page in pages:
                n = page.page_number
                page_sizes.append((round(float(page.width), 1), round(float(page.height), 1)))
                try:
                    lines, images, note, table_columns = _read_page(page, table_columns)
                except Exception as exc:  # one broken content stream must not lose the file
                    if _open_error(exc).startswith("encrypted"):
                        raise IngestError(spath, "encrypted PDF (password protected)") from exc
                    lines, images, note = [], 0, f"unreadable content ({type(exc).__name__}; needs OCR)"
                    table_columns = None
                finally:
                    page.close()
                page_lines.append(lines)
                page_images.append(images)
                page_notes.append(note)
        finally:
            pdf.close()

    _drop_running(page_lines)
    page_ocr = []
    for n, (lines, images, note) in enumerate(zip(page_lines, page_images, page_notes), start=1):
        ocr = not lines and (note is not None or images > 0)
        if not lines and note is None and images:
            note = "no text besides running header/footer, has images (needs OCR)"
        page_ocr.append(ocr)
        if note:
            doc.warnings.append(f"page {n}: {note}")
    ocr_read = _ocr_pages(data, page_ocr, doc.warnings)
    if all(page_ocr) and not any(r.text.strip() for r in ocr_read.values()):
        reason = _ocr_unavailable() or "OCR found no text"
        raise IngestError(spath, f"no text layer on any page (image-only PDF; needs OCR): {reason}")
    page_pieces = [_page_text(_merge_rows(lines)) for lines in page_lines]
    _heading_levels([_logical_lines(pieces) for pieces in page_pieces])

    parts: list[str] = []
    offset = 0
    for n, (pieces, needs) in enumerate(zip(page_pieces, page_ocr), start=1):
        if n > 1:
            parts.append(PAGE_SEPARATOR)
            offset += len(PAGE_SEPARATOR)
        read = ocr_read.get(n)
        if read is not None:
            text = normalise(read.text).strip("\n")
            doc.pages.append(Page(number=n, start=offset, end=offset + len(text), source="ocr",
                                  ocr_confidence=round(read.confidence, 1)))
            parts.append(text)
            offset += len(text)
            continue
        boxes: list[list[float]] = []
        text, levels = _assemble(pieces, boxes)
        for off, lvl in levels.items():
            doc.line_levels[offset + off] = lvl
        if boxes:
            width, height = page_sizes[n - 1]
            doc.page_boxes.append({"page": n, "width": width, "height": height,
                                   "lines": [[offset + b[0], offset + b[1], *b[2:]] for b in boxes]})
        doc.pages.append(Page(number=n, start=offset, end=offset + len(text), needs_ocr=needs))
        parts.append(text)
        offset += len(text)
    doc.text = "".join(parts)
    doc.doc_date = None
    return doc


def _ocr_unavailable() -> str | None:
    from .ocr import ocr_missing_reason

    return ocr_missing_reason()


def _ocr_pages(data: bytes, page_ocr: list[bool], warnings_out: list[str]) -> dict:
    """OCR of the pages without a text layer (automatic when Tesseract is installed); a note per page."""
    numbers = [n for n, needs in enumerate(page_ocr, start=1) if needs]
    if not numbers:
        return {}
    reason = _ocr_unavailable()
    if reason:
        warnings_out.append(f"{len(numbers)} page(s) without text not read: {reason}")
        return {}
    from .ocr import ocr_pdf_pages

    try:
        found = ocr_pdf_pages(data, numbers)
    except Exception as exc:  # a page the renderer or Tesseract cannot read stays flagged needs_ocr
        warnings_out.append(f"OCR failed ({type(exc).__name__}: {str(exc)[:80]}); pages {numbers} not read")
        return {}
    # a page where OCR finds nothing (a blank page) stays as it was: flagged, with its note
    found = {n: read for n, read in found.items() if read.text.strip()}
    # the page's "needs OCR" note is answered by the OCR note that replaces it
    warnings_out[:] = [w for w in warnings_out
                       if not (w.endswith("(needs OCR)") and int(w.split()[1].rstrip(":")) in found)]
    for n, read in found.items():
        warnings_out.append(f"page {n}: text from OCR ({read.writing}, mean confidence {read.confidence:.1f})")
    return found


def _read_page(page, table_columns: int | None = None) -> tuple[list[_Line], int, str | None, int | None]:
    """Ordered lines of one page, its number of images, a warning (or None), and the number of
    columns of the case table it ends with (None if none; `table_columns` is the previous page's,
    see `pdf_tables`). A page without text gets a warning whether or not it has images (a note
    means: needs OCR)."""
    raw = page.chars
    images = len(page.images)
    chars, unmapped = _load_chars(raw, page.width, page.height)
    note = None
    if not chars:
        if unmapped:
            return [], images, f"{unmapped} glyphs without Unicode mapping, no readable text (needs OCR)", None
        return [], images, "no text layer (needs OCR)", None
    if unmapped > max(5, 0.2 * (len(chars) + unmapped)):
        note = f"{unmapped} glyphs without Unicode mapping were dropped"
    tables = case_table_rows(page, table_columns)
    rows = _table_lines(tables, chars)
    if tables:
        chars = [c for c in chars if not any(t.holds(c.x0, c.top, c.x1, c.bottom) for t in tables)]
    lines = (_build_lines(chars) if chars else []) + rows
    rules = _Rules(page)
    ordered = _order(lines, rules)
    _mark_zones(ordered, page.height)
    for ln in ordered:
        ln.freeze()
    return ordered, images, note, (tables[-1].columns if tables else None)


def _table_lines(tables: list[TableRows], chars: list[_Ch]) -> list[_Line]:
    """One line per row of each case table, boxed as the row, styled by its glyphs."""
    def inside(box, cs):
        x0, top, x1, bottom = box
        return [c for c in cs if x0 <= (c.x0 + c.x1) / 2 <= x1 and top <= (c.top + c.bottom) / 2 <= bottom]

    out = []
    for table in tables:
        for box, cells in table.rows:
            glyphs = inside(box, chars)
            if not glyphs:
                continue
            texts = []
            for cell in cells:
                lines = _build_lines(inside(cell, glyphs)) if cell else []
                lines.sort(key=lambda ln: (ln.top, ln.x0))
                texts.append(join_wrapped([ln.text for ln in lines]))
            ln = _Line(glyphs, H)
            ln.x0, ln.top, ln.x1, ln.bottom = box
            _style(ln)
            ln.text = " | ".join(texts)
            ln.row = True
            out.append(ln)
    return out


def _assemble(pieces: list[tuple[str, _Line]], boxes: list | None = None) -> tuple[str, dict[int, int]]:
    """Normalised text of a page and {offset of a heading line's start: level}. With `boxes`,
    each line's [start, end, x0, top, x1, bottom] (page offsets, PDF points) is added to it."""
    out: list[str] = []
    levels: dict[int, int] = {}
    pos = 0
    for sep, ln in pieces:
        if out:
            out.append(sep)
            pos += len(sep)
        line_start = not out or "\n" in sep
        piece = normalise(ln.text)
        if line_start and ln.heading:
            levels[pos] = ln.heading
        if boxes is not None:
            boxes.append([pos, pos + len(piece), round(ln.x0, 1), round(ln.top, 1), round(ln.x1, 1), round(ln.bottom, 1)])
        out.append(piece)
        pos += len(piece)
    text = "".join(out)
    # Normalising piece by piece equals normalising the page, except in exotic cases (a
    # combining mark at the start of a line); then fall back to the page-level result.
    whole = normalise(text)
    if whole != text:
        text, levels = whole, {}
        if boxes is not None:
            boxes.clear()  # offsets of the pieces no longer hold
    return text, levels

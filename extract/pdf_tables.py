"""Tables of a PDF page whose rows are cases (programme lists, operator lists).

Contract:
    case_table_rows(page) -> list[TableRows]

- Input: a pdfplumber page. A table drawn with rules is found by pdfplumber's `find_tables`
  (lines strategy) on pages with ruling lines. On a page with no ruled case table whose text names
  an organisation or title column (`団体名`, `事業名` …), a table set by alignment alone (borderless,
  or with rules between rows only) is found by the text strategy: its rows, a row whose first cell
  is empty joined to the row before it (a wrapped cell), under the header line right above them.
- A table is a case table by the test of `jirei.extract.table_rows`: its first row is a header one
  of whose cells names the organisation or the title (`事業名`, `実施主体`, `団体名` …:
  `jirei.extract.forms.column_keys`), it has at least two data rows, and a data cell holds prose.
  Budget, KPI and timetable tables name no organisation or title and are left to the page reader.
- Output per case table: its box and, per row (header first), the row's box and its cells' boxes.
- The PDF reader (`extract/pdf.py`) reads each cell's glyphs as it reads a page, joins the cell's
  wrapped lines (Japanese without a space, Latin with one) and writes each row as one line
  `cell | cell | …` in place of the table, so a
  programme list in a PDF reaches `jirei.extract.table_rows` as the same rows a markdown or Word
  table gives, and becomes one case per row. A cell's `|` is written `/` so cells stay apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jirei.extract.forms import FIELD_LABELS, column_keys
from jirei.extract.table_rows import MIN_PROSE

MIN_RULES = 6  # ruling segments on a page before tables are looked for
_LATIN_END = re.compile(r"[0-9A-Za-z]$")
_LATIN_START = re.compile(r"^[0-9A-Za-z]")

Box = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass
class TableRows:
    box: Box
    rows: list[tuple[Box, list[Box | None]]]  # (row box, its cells' boxes), header first
    columns: int
    header: bool = True  # False: the table continues the previous page's, data rows only

    def holds(self, x0: float, top: float, x1: float, bottom: float) -> bool:
        """Is a glyph's centre inside the table?"""
        cx, cy = (x0 + x1) / 2, (top + bottom) / 2
        return self.box[0] <= cx <= self.box[2] and self.box[1] <= cy <= self.box[3]


def join_wrapped(parts: list[str]) -> str:
    """A cell's lines as one: Japanese joined without a space, Latin words with one; `|` as `/`."""
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if out and _LATIN_END.search(out) and _LATIN_START.match(part):
            out += " "
        out += part
    return out.replace("|", "/")


def case_table_rows(page, continued_columns: int | None = None) -> list[TableRows]:
    """The page's case tables, top to bottom. `continued_columns`: the number of columns of a case
    table the previous page ended with; the page's first table, with that many columns and no
    header row, continues it (a list printed over several pages with its header only once), and
    all its rows are data rows. A page with no ruled case table may hold one drawn without
    vertical rules (`unruled_case_tables`)."""
    found = _ruled_case_tables(page, continued_columns)
    return found or unruled_case_tables(page)


def _ruled_case_tables(page, continued_columns: int | None) -> list[TableRows]:
    if len(page.lines) + len(page.rects) < MIN_RULES:
        return []
    found = []
    for n, table in enumerate(sorted(page.find_tables(), key=lambda t: t.bbox[1])):
        boxes = [row.bbox for row in table.rows]
        texts = table.extract()
        if len(texts) != len(boxes) or not texts:
            continue
        rows = [[join_wrapped((c or "").split("\n")) for c in row] for row in texts]
        columns = len(rows[0])
        keys = set(column_keys([h or "" for h in rows[0]]))
        headed = bool({"organisation", "title"} & keys)
        continues = n == 0 and not headed and columns == continued_columns and not keys - {None}
        data = [r for r in (rows if continues else rows[1:]) if any(r)]
        prose = any(len(c) >= MIN_PROSE for r in data for c in r)
        if not (headed and len(data) >= 2 and prose) and not (continues and data and prose):
            continue
        cells = [[tuple(c) if c else None for c in row.cells] for row in table.rows]
        found.append(TableRows(tuple(table.bbox), [(tuple(b), c) for b, c, r in zip(boxes, cells, rows) if any(r)],
                               columns, header=not continues))
    return found


# A table drawn without vertical rules (borderless, or with horizontal rules only) is found by the
# alignment of its words (pdfplumber's text strategy), and only on a page whose text names a field
# that heads a case table's column (`団体名`, `事業名`, … of `jirei.extract.forms`).
_TEXT_TABLES = {"vertical_strategy": "text", "horizontal_strategy": "text"}
_KEY_LABELS = tuple(lab for key in ("organisation", "title") for lab in FIELD_LABELS[key])
HEADER_REACH = 2.5  # the header line lies within this many line heights above the rows found


def unruled_case_tables(page) -> list[TableRows]:
    """Case tables whose columns are drawn by alignment alone: the rows pdfplumber's text strategy
    finds (a row whose first cell is empty continues the row before it: a wrapped cell), under a
    header line just above them that names an organisation or title column; the same test of a
    case table as for ruled ones (two data rows, a cell of prose)."""
    text = "".join(c["text"] for c in page.chars)
    if not any(lab in text for lab in _KEY_LABELS):
        return []
    found, words = [], None
    for table in page.find_tables(table_settings=_TEXT_TABLES):
        words = page.extract_words() if words is None else words  # once per page, for the headers
        got = _unruled_table(words, table)
        if got is not None:
            found.append(got)
    return sorted(found, key=lambda t: t.box[1])


def _unruled_table(words: list[dict], table) -> TableRows | None:
    texts = table.extract()
    if not texts or len(texts) != len(table.rows):
        return None
    ncol = len(texts[0])
    if ncol < 2:
        return None
    # columns: from each column's leftmost cell to the next column's start
    lefts = [min((r.cells[i][0] for r in table.rows if r.cells[i]), default=None) for i in range(ncol)]
    if any(x is None for x in lefts):
        return None
    x0, top, x1, bottom = table.bbox
    spans = [(lefts[i], lefts[i + 1] if i + 1 < ncol else x1) for i in range(ncol)]
    # records: a row whose first cell is empty continues the record before it
    records: list[list] = []  # [top, bottom, [texts]]
    for row, cells in zip(table.rows, texts):
        cells = [(c or "").strip() for c in cells]
        if not any(cells):
            continue
        if cells[0]:
            records.append([row.bbox[1], row.bbox[3], [[c] for c in cells]])
        elif not records:
            return None  # the first row found continues nothing
        else:
            rec = records[-1]
            rec[1] = row.bbox[3]
            for i, c in enumerate(cells):
                rec[2][i].append(c)
    header = _header_above(words, top, x0, x1, spans)
    if header is None or len(records) < 2:
        return None
    h_top, h_bottom, h_cells = header
    keys = set(column_keys([h or "" for h in h_cells]))
    joined = [[join_wrapped(parts) for parts in rec[2]] for rec in records]
    if not ({"organisation", "title"} & keys) or not any(len(c) >= MIN_PROSE for r in joined for c in r):
        return None
    gap = 1.0  # points between rows, so a glyph on a boundary belongs to one row
    rows: list[tuple[Box, list[Box | None]]] = [
        ((x0, h_top, x1, h_bottom), [(a, h_top, b, h_bottom) for a, b in spans])]
    for i, (r_top, r_bottom, _) in enumerate(records):
        r_bottom = min(r_bottom, records[i + 1][0] - gap) if i + 1 < len(records) else r_bottom
        rows.append(((x0, r_top, x1, r_bottom), [(a, r_top, b, r_bottom) for a, b in spans]))
    return TableRows((x0, h_top, x1, rows[-1][0][3]), rows, ncol)


def _header_above(page_words: list[dict], top: float, x0: float, x1: float,
                  spans) -> tuple[float, float, list[str]] | None:
    """The line of the page's words right above the rows (within HEADER_REACH line heights), split
    by column: (its top, its bottom, one text per column), or None."""
    words = [w for w in page_words if w["bottom"] <= top + 0.5 and x0 - 2 <= (w["x0"] + w["x1"]) / 2 <= x1 + 2]
    if not words:
        return None
    nearest = max(words, key=lambda w: w["bottom"])
    height = nearest["bottom"] - nearest["top"]
    if top - nearest["bottom"] > HEADER_REACH * height:
        return None
    line = sorted((w for w in words if abs(w["top"] - nearest["top"]) <= height / 2), key=lambda w: w["x0"])
    cells = [""] * len(spans)
    for w in line:
        centre = (w["x0"] + w["x1"]) / 2
        i = max((k for k, (a, _) in enumerate(spans) if a - height <= centre), default=0)
        cells[i] += w["text"]
    return min(w["top"] for w in line) - 0.5, max(w["bottom"] for w in line) + 0.5, cells

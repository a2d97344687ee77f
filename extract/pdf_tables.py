"""Ruled tables of a PDF page whose rows are cases (programme lists, operator lists).

Contract:
    case_table_rows(page) -> list[TableRows]

- Input: a pdfplumber page. Only pages with ruling lines are looked at (a table drawn with rules:
  pdfplumber's `find_tables`, lines strategy); nothing else is read.
- A table is a case table by the test of `jirei.extract.table_rows`: its first row is a header one
  of whose cells names the organisation or the title (`事業名`, `実施主体`, `団体名` …:
  `jirei.extract.forms.field_key`), it has at least two data rows, and a data cell holds prose.
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

from jirei.extract.forms import field_key
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
    all its rows are data rows."""
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
        keys = {field_key(h) for h in rows[0] if h}
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

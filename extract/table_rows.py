"""Cases listed as table rows: one organisation or programme per row.

Contract:
    case_tables(doc) -> list[CaseTable]   the document's tables whose rows are cases
    table_cases(doc) -> list[Case]        one case per data row of those tables, `layout` "table-rows"
    with_table_rows(doc, cases) -> list[Case]
                                          `cases` with the entries a case table fills
                                          replaced by the table's rows, in document order;
                                          a lone sentence beside the table (its lead-in) dropped

A table is a run of at least three consecutive lines of one shape: cells separated by `|` (markdown
pipe tables, with or without outer pipes, and the Office readers' `a | b | c` rows) or by tabs,
with the same number of cells (at least two). Its first line is the header, a markdown separator
(`|---|---|`) is skipped. The rows are cases when the header names them: one header cell names the
organisation or the title (`団体名`, `事業者名`, `取組名`, `事業名` …, the labels of
`jirei.extract.forms.FIELD_LABELS`) and the table has at least two data rows, at least one of whose
cells holds prose (15 characters or more) — a KPI or budget table names no organisation, and a
table of names alone holds no initiative. A table printed over several pages is one table: a run of
the same number of cells right after it (only blank lines, a page break, between) whose first line
repeats its header or names no field at all continues it.

Each row becomes a case whose text is the row's line; its title is the title cell, else the
organisation cell; its section the headings the table sits under (`headings_above`). The cells
under known headers are the row's declared fields (`Case.declared`, as a submission form's:
`{"label", "value", "span", "source": "declared"}`), so the entity stage reads the organisation,
place, period and partners a column states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jirei.extract.forms import CONTACT, column_keys
from jirei.records import Case, Document

MIN_LINES = 3  # header + two rows
MIN_PROSE = 15  # a cell this long is a description
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass
class Row:
    start: int  # the line's span in the document text
    end: int
    cells: list[tuple[int, int]]  # each cell's span (stripped)


@dataclass
class CaseTable:
    start: int
    end: int
    header: list[str]
    keys: list[str | None]  # the field each header cell names
    rows: list[Row]


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]] | None:
    line = text[start:end]
    sep = "\t" if "\t" in line else "|" if "|" in line else None
    if sep is None:
        return None
    # split keeping offsets; outer pipes of a markdown row open and close no cell
    bounds, pos = [], 0
    for part in line.split(sep):
        bounds.append((pos, pos + len(part)))
        pos += len(part) + 1
    if sep == "|":
        if line.strip().startswith("|"):
            bounds = bounds[1:]
        if line.strip().endswith("|"):
            bounds = bounds[:-1]
    cells = []
    for a, b in bounds:
        chunk = line[a:b]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk.rstrip())
        cells.append((start + a + lead, start + a + max(trail, lead)))
    return cells if len(cells) >= 2 else None


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line)
        pos += len(line) + 1


def case_tables(doc: Document) -> list[CaseTable]:
    text = doc.text
    runs: list[list[tuple[int, int, list[tuple[int, int]]]]] = []
    current: list = []
    for start, end in _lines(text):
        line = text[start:end]
        if _SEPARATOR.match(line) and current:
            continue
        cells = _cells(text, start, end) if line.strip() else None
        if cells and current and len(cells) == len(current[-1][2]):
            current.append((start, end, cells))
            continue
        if current:
            runs.append(current)
        current = [(start, end, cells)] if cells else []
    if current:
        runs.append(current)
    tables: list[CaseTable] = []
    for run in runs:
        header = [text[a:b] for a, b in run[0][2]]
        keys = column_keys(header)
        last = tables[-1] if tables else None
        # a table printed over several pages: its header repeated on each, or given once
        follows = last is not None and not text[last.end : run[0][0]].strip() and len(keys) == len(last.keys)
        if follows and (keys == last.keys or not any(keys)):
            last.rows += [Row(s, e, cells) for s, e, cells in run[0 if not any(keys) else 1 :]]
            last.end = run[-1][1]
            continue
        if len(run) < MIN_LINES or not {"organisation", "title"} & set(keys):
            continue
        rows = [Row(s, e, cells) for s, e, cells in run[1:]]
        prose = any(b - a >= MIN_PROSE for r in rows for a, b in r.cells)
        if len(rows) < 2 or not prose:
            continue
        tables.append(CaseTable(run[0][0], run[-1][1], header, keys, rows))
    return tables


_MARKDOWN_HEAD = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def headings_above(doc: Document, offset: int) -> list[str]:
    """The headings a table sits under, outermost first: markdown heads (`## 観光・交流`) in text, the
    heading levels the source's typography gave (`Document.line_levels`) otherwise; each heading
    closes those at its level and below."""
    stack: list[tuple[int, str]] = []
    at = 0
    for line in doc.text[:offset].split("\n"):
        level, title = doc.line_levels.get(at), line.strip()
        m = _MARKDOWN_HEAD.match(line)
        if m:
            level, title = len(m.group(1)), m.group(2).strip()
        if level and title:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
        at += len(line) + 1
    return [title for _, title in stack]


def table_cases(doc: Document, tables: list[CaseTable] | None = None) -> list[Case]:
    text = doc.text
    cases: list[Case] = []
    for table in case_tables(doc) if tables is None else tables:
        section = headings_above(doc, table.start)
        for row in table.rows:
            declared: dict[str, dict] = {}
            for (a, b), label, key in zip(row.cells, table.header, table.keys):
                if key is None or key == CONTACT or key in declared or b <= a:
                    continue
                declared[key] = {"label": label.strip(), "value": text[a:b], "span": [a, b], "source": "declared"}
            named = declared.get("title") or declared.get("organisation")
            if named is None:
                continue  # a row that names no one (a subtotal, a note)
            cases.append(Case(
                doc=doc.name, doc_id=doc.doc_id, ordinal=0, title=named["value"].strip(),
                text=text[row.start:row.end].strip(), span=_stripped(text, row.start, row.end),
                page=doc.page_at(row.start), section=list(section), layout="table-rows", declared=declared,
            ))
    return cases


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def with_table_rows(doc: Document, cases: list[Case]) -> list[Case]:
    """The segmenter's entries, except where a case table stands: there, its rows. A table that
    fills less than half of an entry it lies in is part of that case (its partners, its figures)
    and stays so."""
    chosen: list[CaseTable] = []
    for t in case_tables(doc):
        inside = [c for c in cases if c.span[0] < t.end and t.start < c.span[1]]
        if all(_overlap(c.span, (t.start, t.end)) * 2 >= c.span[1] - c.span[0] for c in inside):
            chosen.append(t)
    if not chosen:
        return cases
    regions = [(t.start, t.end) for t in chosen]
    kept = [c for c in cases if not any(c.span[0] < e and s < c.span[1] for s, e in regions)
            and not _lone_sentence(c)]
    merged = sorted(kept + table_cases(doc, chosen), key=lambda c: c.span[0])
    for i, c in enumerate(merged, 1):
        c.ordinal = i
    return merged


def _lone_sentence(case: Case) -> bool:
    """Is an entry beside a case table one sentence and nothing more (`本ページでは…を紹介します。`)?
    It introduces or closes the table's cases, it is none of its own."""
    text = case.text.strip()
    return text.endswith("。") and text.count("。") == 1 and "\n" not in text and len(text) <= 120


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))

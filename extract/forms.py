"""Submission forms: `label:value` fields in any format, one case per submission.

Contract:
- `field_key(label)` → the field a label names (`organisation`, `title`, `place`, `period`,
  `partners`, `summary`, `results`, `outlook`), `contact` for personal contact fields, or None.
- `find_forms(doc)` → the forms in a Document's text: a form is a run of field lines — `label:value`
  on one line (`企業・団体名:セブン&アイ・ホールディングス`), or a label alone on its line (`取組の概要`,
  `【成果】`, `■ 今後の展開`) whose value is the lines below it up to the next label — naming at least
  three different fields, one of them the organisation or the title. A field seen again (a second
  企業・団体名) opens the next form, so a list of submissions (one Excel row each) gives one form each.
- `form_cases(doc)` → one Case per form (layout `form`): a single form is the whole submission
  (its first to last non-blank character); several forms each run from their first field to the
  next form. `title` is the declared title (else the organisation); `declared` holds every field
  with its value and span.
- `separate_contacts(doc)` → the Document with the contact fields of its forms (担当者, 電話, TEL,
  FAX, メール, 連絡先 …) cut out of `text` into `Document.contacts` (pages and heading levels
  shifted to match), so no case text, store or model ever holds them. Documents without a form are
  returned unchanged.

Labels are matched after NFKC, so a full-width colon is `:`; list marks, 【】 brackets, `■`, `1.`,
`(1)`, `①` and markdown marks in front of a label are allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jirei.records import Case, Document

# field key -> label alternatives; longer alternatives are tried first, so 成果・今後の展開 is one label.
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "organisation": ("企業・団体名", "企業名・団体名", "企業・団体等名", "企業等名", "企業名", "団体名", "組織名",
                     "法人名", "事業者名", "会社名", "実施主体", "実施団体", "応募団体名", "応募者名", "提出者",
                     "企業・団体", "団体・企業名", "所属団体"),
    "title": ("取組名称", "取組名", "取り組み名称", "取り組み名", "取組み名称", "取組み名", "事業名称", "事業名",
              "プロジェクト名", "プロジェクト名称", "事例名", "事例タイトル", "タイトル", "取組の名称",
              "事業の名称"),
    "place": ("実施場所", "実施地域", "実施地", "所在地", "対象地域", "活動地域", "活動場所", "地域", "場所", "エリア"),
    "period": ("実施時期", "実施期間", "取組期間", "事業期間", "期間", "開始年度", "開始年", "開始時期", "時期",
               "実施年度"),
    "partners": ("連携先", "連携団体", "連携機関", "連携企業", "連携先・パートナー", "パートナー", "協力団体",
                 "協力機関", "関係団体", "連携・協力先"),
    "summary": ("取組の概要", "取組概要", "取り組みの概要", "取組みの概要", "事業概要", "事業の概要", "概要",
                "取組内容", "取組の内容", "取り組み内容", "事業内容", "内容", "活動内容"),
    "results": ("成果・今後の展開", "成果と今後の展開", "成果・今後の展望", "成果と課題", "成果", "効果", "実績",
                "取組の成果"),
    "outlook": ("今後の展開", "今後の展望", "今後の予定", "今後の課題", "今後の方針", "展望"),
    "contact": ("担当者名", "担当者", "ご担当者", "担当部署", "担当", "連絡先", "問い合わせ先", "お問い合わせ",
                "電話番号", "電話", "TEL", "Tel", "tel", "FAX", "Fax", "fax", "メールアドレス", "メール", "E-mail",
                "e-mail", "Email", "email", "Mail", "携帯", "住所"),
}
CONTACT = "contact"
_BY_LABEL = {lab: key for key, labs in FIELD_LABELS.items() for lab in labs}
_ALT = "|".join(re.escape(lab) for lab in sorted(_BY_LABEL, key=len, reverse=True))
_PREFIX = r"^[ \t]*(?:#{1,6}[ \t]*)?(?:[-*+][ \t]+)?(?:\*\*)?(?:[■◆●◇□▪・○◎▶▼★※][ \t]*)?" \
          r"(?:\d{1,2}[.)][ \t]*|\(\d{1,2}\)[ \t]*|[①-⑳][ \t]*)?[【\[<〈《]?[ \t]*"
# `label:value` (value may be empty), `label | value` (a two-column table's row as the readers write
# it) or a label alone on its line (its value follows).
_FIELD_LINE = re.compile(
    _PREFIX + r"(?P<label>" + _ALT + r")[ \t]*(?:\([^)]{0,20}\))?[ \t]*[】\]>〉》]?(?:\*\*)?[ \t]*"
    r"(?:(?P<colon>[::｜|])[ \t]*(?P<value>.*?)|[ \t]+(?P<spaced>[^ \t:|｜].*?))?[ \t]*$"
)
# A table row read from a PDF may lose the gap between label and value (`企業・団体名日立製作所`):
# only names of four or more characters ending in 名/名称 are read glued to their value.
_GLUE = sorted((lab for lab in _BY_LABEL if len(lab) >= 4 and lab.endswith(("名", "名称"))), key=len, reverse=True)
_GLUED_LINE = re.compile(
    _PREFIX + r"(?P<label>" + "|".join(map(re.escape, _GLUE)) + r")(?P<colon>(?!))?(?P<value>(?!))?"
    r"(?P<spaced>[^\s::(].*?)[ \t]*$"
)
# A declared form needs this many different fields, the organisation or the title among them.
MIN_FIELDS = 3


def field_key(label: str) -> str | None:
    """The field a header or label names, e.g. `企業名・団体名` → organisation; None if unknown."""
    m = _FIELD_LINE.match(label.strip())
    if not m or (m.group("value") or "").strip() or m.group("spaced"):
        return None
    return _BY_LABEL[m.group("label")]


# Column heads a table of cases uses that are too bare to be a form's labels (`事業：…` in a form is
# prose, not a field): a list of programmes headed `市町村 | 事業 | 内容` names its title and its
# actor so, and `都道府県 | 市町村 | 事業名 | 概要` its actor beside its title (the prefecture cell
# qualifies the municipality's, `jirei.extract.places`). Read for the fields the header's form
# labels leave unnamed.
_TABLE_HEADS: dict[str, tuple[str, ...]] = {
    "title": ("事業", "取組", "取組み", "取り組み", "施策", "施策名", "名称", "活動名", "テーマ", "プログラム",
              "メニュー", "主な取組", "取組事例", "事例", "事業・取組", "取組・事業"),
    "organisation": ("市町村", "市町村名", "市区町村", "市区町村名", "自治体", "自治体名", "地方公共団体",
                     "地方公共団体名", "団体", "事業者", "企業", "主体", "事業主体", "運営主体", "実施者",
                     "運営団体", "機関名", "会員企業", "会員名"),
}
_BY_TABLE_HEAD = {h: key for key, heads in _TABLE_HEADS.items() for h in heads}
_HEAD_NOTE = re.compile(r"[(（][^)）]{0,20}[)）]$")


def _table_head_key(cell: str) -> str | None:
    """The field a bare column head names (`事業` → title, `市町村` → organisation), else None."""
    head = _HEAD_NOTE.sub("", re.sub(r"[\s*＊]", "", cell))
    return _BY_TABLE_HEAD.get(head)


def column_keys(header: list[str]) -> list[str | None]:
    """The field each cell of a table's header row names: the form labels, and for the fields they
    leave unnamed, the bare column heads a table of cases uses (each field once, the leftmost
    cell): `都道府県 | 市町村 | 事業名 | 概要` → None, organisation, title, summary."""
    keys = [field_key(h) for h in header]
    bare = [_table_head_key(h) for h in header]
    out: list[str | None] = []
    for key, extra in zip(keys, bare):
        out.append(key if key is not None or extra is None or extra in keys or extra in out else extra)
    return out


_FIELD_START = re.compile(_PREFIX + r"(?:" + _ALT + r")[ \t]*(?:\([^)]{0,20}\))?[ \t]*[】\]>〉》]?[ \t]*[::：]")


def starts_with_field(line: str) -> bool:
    """Does the line open with a form label and a colon (`実施場所:…`)? Such a line starts a new field,
    so a PDF reader never joins it to the line before as wrapped text."""
    return bool(_FIELD_START.match(line))


@dataclass
class Field:
    key: str
    label: str
    line_start: int  # offset of the label line in the text
    value_start: int
    value_end: int  # end of the value's last non-blank character
    block_end: int  # end of the field's last line (its value's lines included)

    def value(self, text: str) -> str:
        return text[self.value_start:self.value_end]


@dataclass
class Form:
    fields: list[Field] = field(default_factory=list)

    @property
    def keys(self) -> set[str]:
        return {f.key for f in self.fields if f.key != CONTACT}

    def is_form(self) -> bool:
        return len(self.keys) >= MIN_FIELDS and bool({"organisation", "title"} & self.keys)


def _lines(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for raw in text.split("\n"):
        out.append((pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return out


def _fields(text: str, page_starts: list[int] = ()) -> list[Field]:
    """Every field line of a text with its value's extent (to the next field line or page)."""
    lines = _lines(text)
    line_of = {s: i for i, (s, _e, _r) in enumerate(lines)}
    breaks = sorted(line_of[p] for p in page_starts if p in line_of)
    heads = []
    for i, (s, e, raw) in enumerate(lines):
        m = _FIELD_LINE.match(raw) or _GLUED_LINE.match(raw)
        if not m:
            continue
        # A bare label must stand alone as a short line; `概要` inside a sentence is no label.
        if m.group("colon") is None and m.group("spaced") is None and len(raw.strip()) > 24:
            continue
        heads.append((i, m))
    out = []
    for n, (i, m) in enumerate(heads):
        s, e, raw = lines[i]
        nxt = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        nxt = min([nxt] + [b for b in breaks if b > i])  # a value never runs into the next page
        if m.group("colon") is not None and (m.group("value") or "").strip():
            v_start = s + m.start("value")
        elif m.group("spaced"):  # `label value`: a table row read from a PDF
            v_start = s + m.start("spaced")
        else:
            v_start = lines[i + 1][0] if i + 1 < len(lines) else e
        inline = m.group("colon") is not None and (m.group("value") or "").strip() or m.group("spaced")
        if inline:
            # `label:value` continues on the lines below it up to a blank line; a label alone
            # owns every paragraph up to the next label
            nxt = next((j for j in range(i + 1, nxt) if not lines[j][2].strip()), nxt)
        last = nxt - 1
        while last > i and not lines[last][2].strip():
            last -= 1
        block_end = lines[last][1]
        v_end = max(block_end, v_start)
        while v_end > v_start and text[v_end - 1] in " \t\n":
            v_end -= 1
        while v_start < v_end and text[v_start] in " \t\n":
            v_start += 1
        out.append(Field(_BY_LABEL[m.group("label")], m.group("label"), s, v_start, v_end, block_end))
    return out


def find_forms(doc: Document) -> list[Form]:
    """The submission forms in the document, in order (empty when it is no form)."""
    forms: list[Form] = []
    current = Form()
    for f in _fields(doc.text, [p.start for p in doc.pages[1:]]):
        # The same declared field again starts the next submission (contacts and free-text
        # sections may repeat within one).
        if f.key in ("organisation", "title") and f.key in current.keys:
            forms.append(current)
            current = Form()
        current.fields.append(f)
    forms.append(current)
    found = [f for f in forms if f.is_form()]
    return found


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n":
        start += 1
    while end > start and text[end - 1] in " \t\n":
        end -= 1
    return start, end


def form_cases(doc: Document) -> list[Case]:
    """One Case per submission form of the document; [] when the document holds no form."""
    forms = find_forms(doc)
    if not forms:
        return []
    text = doc.text
    cases = []
    for n, form in enumerate(forms):
        if len(forms) == 1:
            start, end = 0, len(text)
        else:
            start, end = _form_extent(doc, forms, n)
        start, end = _trim(text, start, end)
        declared: dict[str, dict] = {}
        for f in form.fields:
            if f.key == CONTACT or f.key in declared or f.value_end <= f.value_start:
                continue
            declared[f.key] = {"label": f.label, "value": f.value(text), "span": [f.value_start, f.value_end],
                               "source": "declared"}
        # the declared title; else a heading line above the fields (`① …`); else the organisation
        title_field = declared.get("title")
        head = text[start:form.fields[0].line_start].strip()
        if title_field:
            title = title_field["value"].split("\n")[0].strip()
        elif head and len(forms) > 1:
            title = head.split("\n")[0].strip()
        elif declared.get("organisation"):
            title = declared["organisation"]["value"].split("\n")[0].strip()
        else:
            title = text[start:end].split("\n")[0]
        page = doc.page_for(start)
        cases.append(Case(
            doc=doc.name, doc_id=doc.doc_id, ordinal=n + 1, title=title, text=text[start:end], span=(start, end),
            page=page.number if page else None, section=[], layout="form", declared=declared,
        ))
    # each contact goes with the form it was cut from
    for contact in doc.contacts:
        at = contact.get("offset", 0)
        owner = next((c for c in reversed(cases) if c.span[0] <= at), cases[0])
        owner.contacts.append({k: v for k, v in contact.items() if k != "offset"})
    return cases


def _form_extent(doc: Document, forms: list[Form], n: int) -> tuple[int, int]:
    """Span of form `n` among several: from a heading line just above its first field (or, on a
    page of its own such as a sheet's row, from the page's start) to the end of its last field."""
    text, form = doc.text, forms[n]
    first = form.fields[0].line_start
    floor = forms[n - 1].fields[-1].block_end if n else 0
    start = first
    page = doc.page_for(first)
    if page is not None and (n == 0 or doc.page_for(forms[n - 1].fields[-1].line_start) is not page):
        start = max(page.start, floor)
    else:
        above = text[floor:first].rstrip()
        line = above.rsplit("\n", 1)[-1].strip()
        gap = text[floor + len(above):first].count("\n")
        # one short line right above the fields (one blank line between allowed) heads the form
        if line and len(line) <= 60 and "。" not in line and gap <= 2:
            start = floor + above.rfind(line)
    end = form.fields[-1].block_end
    if n + 1 < len(forms):
        end = min(end, forms[n + 1].fields[0].line_start)
    return start, end


def separate_contacts(doc: Document) -> Document:
    """Cut the contact fields of the document's forms out of its text into `doc.contacts`."""
    forms = find_forms(doc)
    if not forms:
        return doc
    cuts: list[tuple[int, int]] = []
    for form in forms:
        for f in form.fields:
            if f.key != CONTACT:
                continue
            page = doc.page_for(f.line_start)
            cuts.append((f.line_start, f.block_end))
            doc.contacts.append({"label": f.label, "value": doc.text[f.value_start:f.value_end],
                                 "page": page.number if page else None, "source": "declared",
                                 "offset": f.line_start})
    if not cuts:
        return doc
    text = doc.text
    # Remove each contact block with the newline after it.
    cuts = [(s, min(e + 1, len(text))) for s, e in cuts]

    def shift(offset: int) -> int:
        removed = 0
        for s, e in cuts:
            if offset >= e:
                removed += e - s
            elif offset > s:
                removed += offset - s
        return offset - removed

    kept, pos = [], 0
    for s, e in cuts:
        kept.append(text[pos:s])
        pos = e
    kept.append(text[pos:])
    doc.text = "".join(kept).rstrip("\n")
    doc.line_levels = {shift(o): lvl for o, lvl in doc.line_levels.items()
                       if not any(s <= o < e for s, e in cuts)}
    for p in doc.pages:
        p.start, p.end = shift(p.start), min(shift(p.end), len(doc.text))
    for c in doc.contacts:
        c["offset"] = shift(c["offset"])  # where it was, in the text without it
    doc.warnings.append(f"{len(doc.contacts)} contact field(s) of the submission form kept apart from the text")
    return doc

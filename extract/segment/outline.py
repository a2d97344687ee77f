"""Document outline: a report as a sequence of typed blocks, each with the evidence of its role.

Contract:
    outline(doc: Document) -> Outline

- Input: any `Document` (PDF, text/markdown, or an Office file ingested into the same record:
  `text`, `pages`, `line_levels`). Nothing else is read; no NLP model is loaded.
- Output: `Outline.blocks`, in document order, covering every non-blank line of `doc.text`
  exactly once. A block is one of `BlockKind`: a heading candidate, a paragraph (lines the
  layout wrapped, joined), a bullet item (with its wrapped lines), a table row, a `label：value`
  field, or noise (page numbers, credits, footnotes). Each block carries its span (`start`,
  `end`: offsets into `doc.text`, so `doc.text[start:end]` is its text), its page (1-based, None
  for text files), the indices of its lines (`lines.split_lines`) and, for heading
  candidates, `HeadingEvidence`: typographic or markdown level, numbering family (`①` `1-1`
  `(1)` `【…】` `✓` `○` `＜…＞` `■` `◆` `第N条` `Q1` …), bold, indentation, whether it stands
  alone between blank lines and whether it opens its page.
- A heading candidate is only a candidate: whether it opens a case, a section or non-case
  matter is decided later (`crf`). The outline never decides case boundaries.
- Deterministic and linear in the document's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from jirei.records import Document

from .lines import Line, split_lines, strip_marks
from .patterns import (BANNER, CIRCLED, FOOTNOTE, NOISE_LINE, is_break_or_picture, is_byline,
                       is_short_phrase, names_org_or_place, paren_tail)


class BlockKind(Enum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    BULLET = "bullet"
    TABLE_ROW = "table_row"
    FIELD = "field"
    NOISE = "noise"


# Numbering families, most specific first. The family of a heading is layout evidence: a report
# numbers the heads of one level the same way, so a family that repeats is a level of the outline.
FAMILIES: list[tuple[str, re.Pattern]] = [
    ("circled", re.compile(rf"^[{CIRCLED}]")),
    ("roman", re.compile(r"^(?:[IVX]{1,4}|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ])[.．、\s]\s*\S")),
    ("chapter", re.compile(r"^第\s*[0-9一二三四五六七八九十]+\s*[章節部編]")),
    ("article", re.compile(r"^第\s*[0-9一二三四五六七八九十百]+\s*条")),
    ("case_no", re.compile(r"^(?:事例|取組み?|Case|CASE|ケース)\s*[0-9①-⑳]+")),
    ("qa", re.compile(r"^[QAＱＡ]\s*\d+")),
    ("hyphen_num", re.compile(r"^\d{1,2}\s*[-‐－]\s*\d{1,2}(?:\s*[-‐－]\s*\d{1,2})?(?!\d)")),
    ("paren_num", re.compile(r"^[(（]\s*\d{1,2}\s*[)）]")),
    ("paren_kana", re.compile(r"^[(（]\s*[ア-ンア-ン]\s*[)）]")),
    ("dot_num", re.compile(r"^\d{1,2}\s*[.．、]\s*\S")),
    ("kana_num", re.compile(r"^[ア-ン][.．、]\s*\S")),
    ("bracket", re.compile(r"^【[^】]{1,40}】")),
    ("angle", re.compile(r"^[<＜〈≪《][^>＞〉≫》]{1,40}[>＞〉≫》]")),
    ("sumi", re.compile(r"^[［\[][^］\]]{1,30}[］\]]")),
    ("check", re.compile(r"^[✓✔☑]")),
    ("circle", re.compile(r"^[○◯〇]")),
    ("dot", re.compile(r"^[●◉]")),
    ("square", re.compile(r"^[■□▪▫]")),
    ("diamond", re.compile(r"^[◆◇]")),
    ("triangle", re.compile(r"^[▲△▼▽▶▷►]")),
    ("star", re.compile(r"^[★☆]")),
    ("banner", BANNER),
]
_BULLET_MARK = re.compile(r"^[・•‣∙]")
_TABLE_SEP = re.compile(r"\t|\s{3,}|\u3000{2,}|\s\|\s")
_FIELD = re.compile(r"^([^：:\s]{1,12})\s*[：:]\s*(\S.*)$")
_SENTENCE_END = re.compile(r"[。．！？!?]\s*$")
# A headline may end with `！` or `？` (`夏の新たな風物詩！`, `新年度が始まりました！`) where prose
# would: a short line that stands alone after a blank line and ends so is a headline, not a sentence.
_PROSE_END = re.compile(r"[。．]\s*$")
HEADLINE_MAX = 30


def family_of(text: str) -> str | None:
    for name, rx in FAMILIES:
        if rx.match(text):
            return name
    return None


@dataclass(frozen=True)
class HeadingEvidence:
    level: int | None  # typographic (PDF) or markdown level, 1 = most prominent
    family: str | None  # numbering family (see FAMILIES)
    bold: bool
    indent: int  # leading white space of its first line, in characters
    standalone: bool  # blank line (or page edge) before and after
    page_first: bool  # first block of its page


@dataclass
class Block:
    index: int
    kind: BlockKind
    start: int  # offset in Document.text
    end: int
    page: int | None
    lines: list[int]  # indices into split_lines(doc)
    text: str  # the block's content, lines joined without marks
    heading: HeadingEvidence | None = None
    family: str | None = None  # numbering family of the first line, whatever the kind
    page_first: bool = False
    blank_before: bool = True


@dataclass
class Outline:
    doc: Document
    lines: list[Line]
    blocks: list[Block] = field(default_factory=list)

    def block_of_line(self) -> dict[int, int]:
        return {li: b.index for b in self.blocks for li in b.lines}


def _is_heading_candidate(
    line: Line, fam: str | None, before_blank: bool, after_blank: bool, next_line: Line | None, prev: Line | None
) -> bool:
    c = strip_marks(line.content)
    if line.level is not None:
        return len(c) <= 120
    if fam is not None and fam not in ("banner",) and len(c) <= 80 and not _SENTENCE_END.search(c):
        return True
    if fam == "banner":
        return True
    if line.bold and is_short_phrase(c, 60):
        return True
    if line.bullet or NOISE_LINE.match(c):
        return False
    short = is_short_phrase(c, 40)
    if short and before_blank and (after_blank or (next_line is not None and (next_line.bullet or next_line.level is None))):
        # a short phrase opening a group of lines: a slide title, a name over bullets, a headline
        return not _SENTENCE_END.search(c) or (len(c) <= HEADLINE_MAX and not _PROSE_END.search(c))
    if short and prev is not None and prev.bullet and not prev.continues and next_line is not None and next_line.bullet:
        # two-column rendering leaves no gap between a bullet's last line and the next head,
        # which then shows as a name with its place or organisation in parentheses
        tail = paren_tail(c)
        return bool(tail and names_org_or_place(tail))
    return False


def _is_short_tail(c: str) -> bool:
    return 0 < len(c) <= 40 and not _PROSE_END.search(c) and not c.endswith(("、", ","))


def _headline_broken_at_comma(line: Line, c: str, lines: list[Line], i: int, page_starts: set[int]) -> bool:
    """A text file's headline the writer broke after a comma (`観光列車「花たびそうや」号が、` /
    `春の宗谷本線を駆け抜けます！`): two short lines standing alone between blank lines."""
    if line.level is not None or len(c) > HEADLINE_MAX or not c.endswith(("、", ",")) or i + 1 >= len(lines):
        return False
    nxt = lines[i + 1]
    after = lines[i + 2] if i + 2 < len(lines) else None
    return (
        not nxt.blank and nxt.level is None and nxt.start not in page_starts
        and _is_short_tail(strip_marks(nxt.content))
        and (after is None or after.blank or after.start in page_starts)
    )


def _is_subtitle(cur: Block, line: Line, c: str, kind: BlockKind, before_blank: bool, after_blank: bool,
                 new_page: bool) -> bool:
    """The second line of a text file's headline: right under a one-line heading candidate that has
    no typographic or markdown level, short, not a sentence, and closing its group of lines; not the
    writer's name (`patterns.is_byline`), which signs the article rather than titles it."""
    return (
        cur.kind is BlockKind.HEADING and cur.heading is not None and cur.heading.level is None
        and len(cur.lines) == 1 and cur.lines[0] == line.index - 1
        and line.level is None and not line.bullet and not before_blank and not new_page and after_blank
        and kind in (BlockKind.PARAGRAPH, BlockKind.HEADING) and _is_short_tail(c) and not is_byline(c)
    )


def outline(doc: Document) -> Outline:
    lines = split_lines(doc)
    out = Outline(doc, lines)
    page_starts = {p.start for p in doc.pages}
    page_of = doc.page_at
    cur: Block | None = None
    prev_line: Line | None = None
    seen_pages: set[int | None] = set()

    def new_block(line: Line, kind: BlockKind, fam: str | None, heading: HeadingEvidence | None, blank_before: bool) -> Block:
        page = page_of(line.start)
        first = page not in seen_pages if doc.pages else line.index == 0 or False
        seen_pages.add(page)
        b = Block(
            index=len(out.blocks), kind=kind, start=line.content_start, end=line.start + len(line.raw.rstrip()),
            page=page, lines=[line.index], text=strip_marks(line.content), heading=heading, family=fam,
            page_first=first, blank_before=blank_before,
        )
        if heading is not None and first != heading.page_first:
            b.heading = HeadingEvidence(heading.level, heading.family, heading.bold, heading.indent, heading.standalone, first)
        out.blocks.append(b)
        return b

    n = len(lines)
    for i, line in enumerate(lines):
        if line.blank:
            prev_line = line
            continue
        c = strip_marks(line.content)
        before_blank = i == 0 or lines[i - 1].blank or line.start in page_starts
        after_blank = i + 1 >= n or lines[i + 1].blank or lines[i + 1].start in page_starts
        next_line = next((lines[k] for k in range(i + 1, min(n, i + 4)) if not lines[k].blank), None)
        fam = family_of(c)
        new_page = line.start in page_starts
        indent = len(line.raw) - len(line.raw.lstrip())
        field_m = _FIELD.match(c)
        if c.startswith("|") or len(_TABLE_SEP.split(c.strip())) >= 3:
            kind = BlockKind.TABLE_ROW
        elif line.is_page_number or FOOTNOTE.match(c) or (NOISE_LINE.match(c) and not fam) \
                or is_break_or_picture(line.raw):
            kind = BlockKind.NOISE
        elif field_m and not fam and len(field_m.group(1)) <= 6 and len(c) <= 80 and not (before_blank and after_blank):
            # `実施主体:伊那市`, `日時:10月21日`: a labelled value inside a block, not a heading
            kind = BlockKind.FIELD
        elif _is_heading_candidate(line, fam, before_blank, after_blank, next_line, lines[i - 1] if i else None):
            kind = BlockKind.HEADING
        elif line.bullet or _BULLET_MARK.match(c):
            kind = BlockKind.BULLET
        elif before_blank and _headline_broken_at_comma(line, c, lines, i, page_starts):
            kind = BlockKind.HEADING
        else:
            kind = BlockKind.PARAGRAPH
        if (
            cur is not None
            and _is_subtitle(cur, line, c, kind, before_blank, after_blank, new_page)
        ):
            # a text file's two-line headline (`JR宗谷本線の` / `未来を語るワークショップ`): one heading
            cur.lines.append(i)
            cur.end = line.start + len(line.raw.rstrip())
            cur.text += c
            h = cur.heading
            cur.heading = HeadingEvidence(h.level, h.family, h.bold, h.indent, cur.blank_before, h.page_first)
            prev_line = line
            continue
        # A line continues the open paragraph or bullet when no blank line, page edge or heading
        # separates them and the open block did not end its sentence.
        if (
            cur is not None
            and kind is BlockKind.PARAGRAPH
            and not before_blank
            and not new_page
            and cur.kind in (BlockKind.PARAGRAPH, BlockKind.BULLET)
            and cur.lines[-1] == i - 1
        ):
            cur.lines.append(i)
            cur.end = line.start + len(line.raw.rstrip())
            cur.text += c
            prev_line = line
            continue
        heading = None
        if kind is BlockKind.HEADING:
            heading = HeadingEvidence(line.level, fam, line.bold, indent, before_blank and after_blank, False)
        cur = new_block(line, kind, fam, heading, before_blank)
        prev_line = line
    del prev_line
    return out

"""The machinery shared by every rule set.

A rule set reads the lines of a document and gives each line a role; `assemble` turns the
roles into case entries. A rule set therefore only declares *what* its layout looks like
(which lines head a case, which head a section, which open non-case matter), never how spans,
pages, section paths and ids are computed.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from jirei.records import Case, Document

from .lines import Line, strip_marks
from .patterns import is_break_or_picture, is_framing_head, is_notice_label, is_romanised_banner, part_label_lines


class Role(Enum):
    CASE = "case"  # first line of a case heading
    HEADING_MORE = "heading_more"  # a further line of the same case heading (wrapped)
    SECTION = "section"  # a heading above entries; ends the current entry
    STOP = "stop"  # opens matter that is not a case (policy text, legends); ends the entry
    NOISE = "noise"  # captions, credits, page numbers: kept inside an entry, never its end
    BODY = "body"  # ordinary text: belongs to the open entry, if any
    BLANK = "blank"


@dataclass
class Tag:
    role: Role
    level: int = 0  # section depth (1 = outermost) for SECTION lines


class RuleSet(Protocol):
    name: str

    def score(self, lines: list[Line]) -> float:
        """How strongly the document looks like this layout (number of typical case heads)."""

    def tag(self, lines: list[Line]) -> list[Tag]:
        """One tag per line."""


def assemble(doc: Document, lines: list[Line], tags: list[Tag], layout: str) -> list[Case]:
    """Build case entries from tagged lines.

    An entry runs from its heading to its last BODY line before the next CASE, SECTION or STOP
    line; NOISE and blank lines at its end are left out. The SECTION lines above it, by depth,
    become its `section` path and are never part of its text.
    """
    cases: list[Case] = []
    sections: list[tuple[int, str]] = []
    current: dict | None = None

    def title_of(entry: dict) -> str:
        return join_wrapped(strip_marks(lines[i].content) for i in entry["title_lines"])

    def close() -> None:
        nonlocal current
        if current is None:
            return
        head, last = current["head"], current["last"]
        start, end = lines[head].content_start, lines[last].end
        title = join_wrapped(strip_marks(lines[i].content) for i in current["title_lines"])
        cases.append(
            Case(
                doc=doc.name,
                doc_id=doc.doc_id,
                ordinal=len(cases) + 1,
                title=title.strip(),
                text=doc.text[start:end],
                span=(start, end),
                page=doc.page_at(start),
                section=[s for _, s in sections],
                layout=layout,
            )
        )
        current = None

    parts = part_label_lines([ln.content for ln in lines])
    page_titles = _page_title_lines(doc, lines)
    folded_depth: int | None = None  # the depth of a continuation heading folded into the open case
    for line, tag in zip(lines, tags):
        role = tag.role
        if role is Role.CASE and line.index in parts:
            role = Role.BODY if current is not None else Role.NOISE  # a part of a case never opens one
        elif (role is Role.CASE or line.index in page_titles) and is_framing_head(bare_title(line.content)):
            # a talk's contents, a definition, a trend, its summary or closing: matter about no
            # case, whether a heading or the title a slide or page opens with
            role = Role.STOP
        elif role is Role.BODY and current is not None and is_notice_label(line.content):
            role = Role.STOP  # a notice's or contact's label alone on its line ends the open case
        if role in (Role.CASE, Role.SECTION) and current is not None and (
                continues(line.content, title_of(current)) or repeats_title(doc, line, lines[current["head"]])):
            # a slide or page titled as the open case's continuation stays in it, and so do the
            # sub-headings under that title (`■成果` on the continued slide)
            if role is Role.SECTION:
                folded_depth = max(tag.level, 1)
            role = Role.BODY
        elif role is Role.SECTION and folded_depth is not None:
            if current is not None and max(tag.level, 1) > folded_depth:
                role = Role.BODY
            else:
                folded_depth = None
        if role is Role.CASE and current is not None and _is_subtitle(doc, lines, line, current):
            role = Role.HEADING_MORE  # a case has a body: a head set right under its headline is its subtitle
        if role is Role.CASE:
            folded_depth = None
            close()
            current = {"head": line.index, "last": line.index, "title_lines": [line.index]}
        elif role is Role.HEADING_MORE:
            if current is not None:
                current["title_lines"].append(line.index)
                current["last"] = line.index
        elif role is Role.SECTION:
            close()
            depth = max(tag.level, 1)
            sections[:] = [s for s in sections if s[0] < depth]
            sections.append((depth, strip_marks(line.content)))
        elif role is Role.STOP:
            close()
        elif role is Role.BODY:
            if current is not None and not is_break_or_picture(line.content):
                current["last"] = line.index  # a converter's page break or picture never ends an entry
    close()
    return cases


def _is_subtitle(doc: Document, lines: list[Line], line: Line, entry: dict) -> bool:
    """Is a case head the subtitle of the open entry's one-line headline: right under it (no blank
    line, the same page), set at the same typographic level, with no body between? A newsletter sets
    its catch line and the event's name under it alike (`夏の新たな風物詩!` / `森と匠の村ふるさと納涼まつり`)."""
    head = lines[entry["head"]]
    return (
        entry["title_lines"] == [head.index] and entry["last"] == head.index and line.index == head.index + 1
        and line.level is not None and line.level == head.level
        and doc.page_at(line.start) == doc.page_at(head.start)
        and not is_romanised_banner(strip_marks(head.content))
    )


def _page_title_lines(doc: Document, lines: list[Line]) -> set[int]:
    """The first non-blank line of each page of a paged document (slides, PDF pages)."""
    if len(doc.pages) < 3:
        return set()
    starts = [ln.start for ln in lines]
    out: set[int] = set()
    for page in doc.pages:
        k = bisect_left(starts, page.start)
        while k < len(lines) and lines[k].start < page.end and lines[k].blank:
            k += 1
        if k < len(lines) and lines[k].start < page.end:
            out.add(lines[k].index)
    return out


# A heading that says it continues the page before: `（続き）`, `(続)`, `(2/3)`, `（その2）`.
CONTINUED = re.compile(r"[（(]\s*(?:続き?|つづき|cont\.?|その\s*[2-9２-９]|[2-9２-９]\s*/\s*\d+)\s*[)）]", re.I)
_ELLIPSIS = re.compile(r"(?:\.{2,}|…+|・{3,})$")


def bare_title(text: str) -> str:
    """A heading without its continuation mark, trailing ellipsis and spaces."""
    return _ELLIPSIS.sub("", re.sub(r"\s", "", CONTINUED.sub("", strip_marks(text))))


def continues(heading: str, title: str) -> bool:
    """Is `heading` marked as the continuation of the entry titled `title` (the same title, or a
    shortened one, with `（続き）` or `(2/3)`)?"""
    if not CONTINUED.search(heading):
        return False
    bare, previous = bare_title(heading), bare_title(title)
    return not bare or (len(bare) >= 4 and previous.startswith(bare)) or bare == previous


REPEATED_TITLE_MIN = 6  # shorter repeated heads (`概要`, `活動報告`) may well open cases of their own


def same_title(text: str, head: str) -> bool:
    """Does a heading repeat another exactly (REPEATED_TITLE_MIN characters or more, marks and
    spaces aside)?"""
    bare = bare_title(text)
    return len(bare) >= REPEATED_TITLE_MIN and bare == bare_title(head)


def repeats_title(doc: Document, line: Line, head: Line) -> bool:
    """Does `line` repeat the open case's heading line `head` on a later page (a slide deck's title
    printed again atop each slide a case runs over, without a continuation mark)?"""
    if not same_title(line.content, head.content):
        return False
    page, head_page = doc.page_at(line.start), doc.page_at(head.start)
    return page is not None and head_page is not None and page > head_page


def join_wrapped(parts) -> str:
    """Join lines a layout wrapped: no space inside Japanese text, one between Latin words."""
    out = ""
    for part in parts:
        part = part.strip()
        if out and part and out[-1].isascii() and out[-1].isalnum() and part[0].isascii() and part[0].isalnum():
            out += " "
        out += part
    return out

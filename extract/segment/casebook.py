"""Casebook layout: numbered entries `① 組織名：タイトル（場所）` + body under numbered headings.

Seen in Keidanren's casebook (pillar headings `1. 「住む」：…`, theme headings `(1) …`), with
image captions, credits, footnotes and tables between entries. Sections that hold no numbered
entries are read as prose: each paragraph that introduces a new named actor
(`「備後圏域連携中枢都市圏」では、…`) starts an entry.
"""

from __future__ import annotations

import re

from .base import Role, Tag
from .lines import Line
from .patterns import (
    CIRCLED_ITEM,
    FOOTNOTE,
    NOISE_LINE,
    NUMBERED_SECTION,
    PAREN_NUMBER,
    ROMAN_SECTION,
    is_short_phrase,
    paragraph_subject,
    same_subject,
)

_ORG_COLON_TITLE = re.compile(r"^[①-⑳]\s*[^：:。]{1,40}[：:]\s*\S")
_END_MARK = re.compile(r"^以\s*上$")


def is_casebook_head(line: Line) -> bool:
    return bool(_ORG_COLON_TITLE.match(line.content.strip()))


def tag_sections_and_noise(line: Line) -> Tag | None:
    """Roles every numbered-heading layout shares; None when the line is ordinary text."""
    c = line.content.strip()
    if not c:
        return Tag(Role.BLANK)
    if _END_MARK.match(c):
        return Tag(Role.STOP)
    if line.is_page_number or FOOTNOTE.match(c) or NOISE_LINE.match(c):
        return Tag(Role.NOISE)
    if ROMAN_SECTION.match(c) and is_short_phrase(c, 80):
        return Tag(Role.SECTION, 1)
    if NUMBERED_SECTION.match(c) and is_short_phrase(c, 60):
        return Tag(Role.SECTION, 2)
    if PAREN_NUMBER.match(c) and is_short_phrase(c, 60):
        return Tag(Role.SECTION, 3)
    return None


def tag_prose_cases(lines: list[Line], tags: list[Tag], lo: int, hi: int, section_level: int) -> None:
    """Within lines[lo:hi] (a section with no numbered entries) mark prose cases.

    A paragraph whose first sentences introduce a named actor different from the open entry's
    starts an entry; a short line standing alone between blank lines heads a sub-section.
    """
    current_subject: str | None = None
    i = lo
    while i < hi:
        if tags[i].role is not Role.BODY or (i > lo and tags[i - 1].role is Role.BODY):
            i += 1
            continue
        # lines[i] opens a paragraph: gather it
        j = i
        while j + 1 < hi and tags[j + 1].role is Role.BODY:
            j += 1
        paragraph = "".join(lines[k].content.strip() for k in range(i, j + 1))
        alone = i == j and (i + 1 >= hi or tags[i + 1].role is not Role.BODY)
        subject = paragraph_subject(paragraph)
        if alone and is_short_phrase(paragraph) and subject is None and not lines[i].bullet:
            tags[i] = Tag(Role.SECTION, section_level)
            current_subject = None
        elif subject and not same_subject(subject, current_subject):
            tags[i] = Tag(Role.CASE)
            current_subject = subject
        i = j + 1


class CasebookRules:
    name = "casebook"

    def score(self, lines: list[Line]) -> float:
        return sum(1 for ln in lines if is_casebook_head(ln))

    def tag(self, lines: list[Line]) -> list[Tag]:
        tags: list[Tag] = []
        for line in lines:
            t = tag_sections_and_noise(line)
            if t is None:
                t = Tag(Role.CASE) if CIRCLED_ITEM.match(line.content.strip()) and len(line.content) >= 8 else Tag(Role.BODY)
            tags.append(t)
        # A heading wrapped onto the next line: no blank between, no sentence end, short.
        for i in range(1, len(lines)):
            if tags[i - 1].role is Role.CASE and tags[i].role is Role.BODY:
                prev, cur = lines[i - 1].content.strip(), lines[i].content.strip()
                if not prev.endswith((")", "）")) and not cur.endswith("。") and len(cur) <= 60:
                    tags[i] = Tag(Role.HEADING_MORE)
        self._tag_prose_sections(lines, tags)
        return tags

    @staticmethod
    def _tag_prose_sections(lines: list[Line], tags: list[Tag]) -> None:
        bounds = [i for i, t in enumerate(tags) if t.role in (Role.SECTION, Role.STOP)] + [len(lines)]
        for lo, hi in zip(bounds, bounds[1:]):
            if tags[lo].role is Role.STOP:
                continue
            if any(t.role is Role.CASE for t in tags[lo + 1 : hi]):
                continue
            # Only sections whose siblings hold prose (no deeper numbered headings) are read as prose.
            tag_prose_cases(lines, tags, lo + 1, hi, tags[lo].level)

"""Line view of a Document: the layout signals every rule set reads.

A line keeps its offsets in the document text, its content without layout marks, and its
heading level, taken from markdown marks (`### `) in text files or from typography (font size,
weight) in PDFs, so that one rule set serves a report whether it came as text or as PDF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jirei.records import Document

_MD_HEADING = re.compile(r"^(#{1,6})\s+")
_BULLET = re.compile(r"^(?:[-*+]\s+|[・•●○◆◇■□▪▶►※]\s*)")
_BOLD_WRAP = re.compile(r"^(?:\*\*|<b>)(.+?)(?:\*\*|</b>)\s*$")
_PAGE_NUMBER = re.compile(r"^[-‐–—―(（]?\s*\d{1,4}\s*[-‐–—―)）]?$|^\d{1,4}\s*/\s*\d{1,4}$")
# A line ending in a particle, comma or open bracket continues on the next line.
_CONTINUES = tuple("をにのがはでとやもへ、,（(「『・") + ("から", "より", "など", "および", "及び")


@dataclass
class Line:
    index: int
    start: int  # offset of the line's first character in Document.text
    end: int  # offset just past its last character
    raw: str
    content: str  # without markdown heading marks, bullet marks and bold wrappers
    content_start: int  # offset where `content` starts
    level: int | None  # heading level (1 = most prominent) or None
    bullet: bool
    bold: bool

    @property
    def blank(self) -> bool:
        return not self.content.strip()

    @property
    def is_page_number(self) -> bool:
        return bool(_PAGE_NUMBER.match(self.content.strip()))

    @property
    def continues(self) -> bool:
        """True when the line visibly breaks off mid-phrase (wrapped by the layout)."""
        return self.content.rstrip().endswith(_CONTINUES)


def split_lines(doc: Document) -> list[Line]:
    lines: list[Line] = []
    pos = 0
    for i, raw in enumerate(doc.text.split("\n")):
        start, end = pos, pos + len(raw)
        pos = end + 1
        stripped = raw.lstrip()
        offset = start + (len(raw) - len(stripped))
        level = doc.line_levels.get(start)
        m = _MD_HEADING.match(stripped)
        if m:
            level = len(m.group(1))
            offset += m.end()
            stripped = stripped[m.end():]
        bullet = False
        m = _BULLET.match(stripped)
        if m and level is None:
            bullet = True
            if stripped[0] in "-*+":  # markdown list mark: a layout signal, not content
                offset += m.end()
                stripped = stripped[m.end():]
        bold = False
        m = _BOLD_WRAP.match(stripped)
        if m:
            bold = True
        content = stripped.rstrip()
        lines.append(Line(i, start, end, raw, content, offset, level, bullet, bold))
    return lines


def strip_marks(text: str) -> str:
    """Heading text without bold markers or html bold tags."""
    return re.sub(r"\*\*|</?b>", "", text).strip()

"""Slide-deck layout: short name blocks followed by bullets, and bracketed heads.

Seen in the Cabinet Office's 地方創生2.0 good-practice deck:
- `名称(都道府県市町村)` (wrapping over up to three lines) + `・` bullets;
- `【分野】都道府県市町村` + a chain of items joined by `×`;
- `【都道府県市町村】` + name + one-line description;
interleaved with section banners (`～…～`), numbered section titles, credits (`提供：…`), slide
page numbers and map legends (`凡例` + labels), which are not cases. A slide's page number closes
the entries on that slide.
"""

from __future__ import annotations

import re

from .base import Role, Tag
from .lines import Line, strip_marks
from .patterns import BANNER, BRACKET_HEAD, CIRCLED, NOISE_LINE, PAREN_NUMBER, is_short_phrase, names_org_or_place, paren_tail

_PART_TITLE = re.compile(rf"^[{CIRCLED}].{{1,20}}編$")
_STOP = re.compile(r"^(?:凡例|参考資料\s*\d*|目次|出典[:：].*)$")
_MAX_HEAD_LINES = 3
# A part's label as a marked line of its own: `■背景`, `■取組内容`, `◆成果と課題` (short, no punctuation).
_PART_LABEL = re.compile(r"^[^\s、。,.:：]{1,10}$")


def _bracket_case(content: str) -> bool:
    m = BRACKET_HEAD.match(content)
    return bool(m) and "参考" not in m.group(1)


def tag_bullet_heads(lines: list[Line], tags: list[Tag]) -> list[int]:
    """Mark as CASE/HEADING_MORE the short block of lines right above each run of bullets.

    Lines that merely continue the previous bullet (it broke off mid-phrase, or they follow it
    with no blank line) are not heads. Returns the indices of the heads found.
    """
    found: list[int] = []
    for b, line in enumerate(lines):
        if not line.bullet or b == 0 or lines[b - 1].blank or lines[b - 1].bullet:
            continue
        if tags[b - 1].role is not Role.BODY or lines[b - 1].continues:
            continue  # a `・` that merely wraps a broken-off line is no bullet
        run_start = b - 1
        while (
            run_start - 1 >= 0
            and not lines[run_start - 1].blank
            and not lines[run_start - 1].bullet
            and tags[run_start - 1].role is Role.BODY
            and b - run_start < _MAX_HEAD_LINES
        ):
            run_start -= 1
        above = lines[run_start - 1] if run_start > 0 else None
        under_label = False  # the run sits right under a labelled part (`■背景`): it is that part's text
        if above is not None and not above.blank and (above.bullet or tags[run_start - 1].role is Role.BODY):
            run_start += 1  # the first line continues the text above it
            under_label = above.bullet and _PART_LABEL.match(strip_marks(above.content).strip()) is not None
        elif above is not None and above.blank:
            prev = next((lines[k] for k in range(run_start - 1, -1, -1) if not lines[k].blank), None)
            if prev is not None and prev.continues and tags[prev.index].role is Role.BODY:
                run_start += 1  # continues a bullet that broke off across a blank line
        head = [lines[k] for k in range(run_start, b)]
        if not head or not all(is_short_phrase(h.content, 45) for h in head):
            continue
        if under_label:
            # the items under `■背景` (a slide's list without marks) unless they read as a name with
            # its place or organisation in parentheses
            tail = paren_tail("".join(h.content for h in head))
            if not (tail and names_org_or_place(tail)):
                continue
        tags[run_start] = Tag(Role.CASE)
        for k in range(run_start + 1, b):
            tags[k] = Tag(Role.HEADING_MORE)
        found.append(run_start)
    return found


class SlideDeckRules:
    name = "slides"

    def score(self, lines: list[Line]) -> float:
        """Heads that name a place or organisation: `名称(長野県伊那市)` over bullets, `【分野】浜松市`."""
        tags = [Tag(Role.BLANK) if ln.blank else Tag(Role.BODY) for ln in lines]
        heads = tag_bullet_heads(lines, tags)
        named = 0
        for h in heads:
            block = [lines[h].content] + [lines[k].content for k in range(h + 1, len(lines)) if tags[k].role is Role.HEADING_MORE]
            tail = paren_tail("".join(block))
            named += bool(tail and names_org_or_place(tail))
        brackets = 0
        for ln in lines:
            m = BRACKET_HEAD.match(ln.content.strip())
            if m and _bracket_case(ln.content.strip()):
                brackets += names_org_or_place(m.group(1)) or names_org_or_place(m.group(2).strip())
        return float(named + brackets)

    def tag(self, lines: list[Line]) -> list[Tag]:
        tags: list[Tag] = []
        for line in lines:
            c = line.content.strip()
            if not c:
                t = Tag(Role.BLANK)
            elif BANNER.match(c):
                t = Tag(Role.SECTION, 1)
            elif PAREN_NUMBER.match(c) and is_short_phrase(c, 80) and not line.bullet:
                t = Tag(Role.SECTION, 2)
            elif _PART_TITLE.match(c):
                t = Tag(Role.SECTION, 3)
            elif line.is_page_number or _STOP.match(c):
                t = Tag(Role.STOP)
            elif NOISE_LINE.match(c):
                t = Tag(Role.NOISE)
            elif _bracket_case(c):
                t = Tag(Role.CASE)
            else:
                t = Tag(Role.BODY)
            tags.append(t)
        # `【大樹町】` alone on its line: the next line is the name
        for i, line in enumerate(lines):
            if tags[i].role is Role.CASE:
                m = BRACKET_HEAD.match(line.content.strip())
                if m and not m.group(2).strip():
                    nxt = next((k for k in range(i + 1, min(i + 3, len(lines))) if not lines[k].blank), None)
                    if nxt is not None and tags[nxt].role is Role.BODY:
                        tags[nxt] = Tag(Role.HEADING_MORE)
        tag_bullet_heads(lines, tags)
        return tags

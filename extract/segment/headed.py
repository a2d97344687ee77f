"""Headed-report layout: entries are headings that name who runs them, `名称(○○商工会議所)`.

Seen in the Japan Chamber of Commerce report: `#### 名称(商工会議所)` + paragraph; featured
cases `### 名称(商工会議所)` + `#### サブタイトル` + bullets. Heading levels come from markdown
marks or, in a PDF, from font size and weight. Between entries stands policy text
(`商工会議所への期待`, `政策要望`, `Point`, `出典`) that is not a case and must not be swallowed
into one: its headings close the open entry without becoming a section.
"""

from __future__ import annotations

import re
from collections import Counter

from .base import Role, Tag
from .lines import Line, strip_marks
from .patterns import NOISE_LINE, is_no_case_head, names_org_or_place, paren_tail

# Headings that open policy matter, not a case, and are not part of the section path.
POLICY_HEADING = re.compile(
    r"(への期待|政策要望|政策提言|要望事項|^Point\b|ポイント$|方向性|基本的な考え方|委員名簿|^概要|^出典|^目次|"
    r"^【参考】|^\(参考\)|^（参考）)"
)
_POINT_LINE = re.compile(r"^(?:\*\*)?Point(?:\*\*)?(?:\s|$)")
# An entry title: not a bullet, not a sentence or its broken-off tail, not a particle-led fragment.
_TITLE_SHAPE = re.compile(r"^(?![◆◇■□●○・※]|[はがをにでとのへもや、][、,]?).{4,60}(?<![。、,])$")
_SUBHEAD = re.compile(r"^[<＜【].{1,30}[>＞】]$")


def is_named_case_heading(text: str) -> bool:
    t = strip_marks(text)
    if not t or POLICY_HEADING.search(t):
        return False
    tail = paren_tail(t)
    return bool(tail) and names_org_or_place(tail) and len(t) - len(tail) >= 4


class HeadedReportRules:
    name = "headed-report"

    def score(self, lines: list[Line]) -> float:
        return sum(1 for ln in lines if ln.level is not None and is_named_case_heading(ln.content))

    def tag(self, lines: list[Line]) -> list[Tag]:
        tags: list[Tag] = []
        case_level: int | None = None  # level of the open entry's heading
        entry_level = self._entry_level(lines)
        entries_own_level = self._level_is_mostly_entries(lines, entry_level)
        in_policy = False
        body_seen = False
        for i, line in enumerate(lines):
            c = strip_marks(line.content)
            if not c:
                tags.append(Tag(Role.BLANK))
                continue
            if line.level is not None:
                if is_named_case_heading(c):
                    tags.append(Tag(Role.CASE))
                    case_level, body_seen, in_policy = line.level, False, False
                elif POLICY_HEADING.search(c):
                    tags.append(Tag(Role.STOP))
                    case_level, in_policy = None, True
                elif case_level is not None and (line.level > case_level or _SUBHEAD.match(c)):
                    tags.append(Tag(Role.BODY))  # a sub-heading of the open entry
                    body_seen = True
                elif is_no_case_head(c[:40]):
                    # a notice (`お知らせ`) at the entries' level: no case, and it closes the open one
                    tags.append(Tag(Role.STOP))
                    case_level = None
                elif (
                    line.level == entry_level
                    and entries_own_level
                    and not in_policy
                    and _TITLE_SHAPE.match(c)
                    and self._heads_a_body(lines, i)
                ):
                    # At the entries' own level, with a body under it: an entry whose heading names
                    # no organisation in parentheses (`② 丸紅:地銀への社員派遣…`), not a section.
                    tags.append(Tag(Role.CASE))
                    case_level, body_seen = line.level, False
                else:
                    tags.append(Tag(Role.SECTION, line.level))
                    case_level, in_policy = None, False
                continue
            if _POINT_LINE.match(line.content.strip()):
                tags.append(Tag(Role.STOP))
                case_level, in_policy = None, True
            elif line.is_page_number or NOISE_LINE.match(c):
                tags.append(Tag(Role.NOISE))
            else:
                tags.append(Tag(Role.BODY))
                body_seen = True
        self._join_broken_headings(lines, tags)
        return tags

    @staticmethod
    def _entry_level(lines: list[Line]) -> int | None:
        """The heading level most named entry headings use."""
        levels = Counter(ln.level for ln in lines if ln.level is not None and is_named_case_heading(ln.content))
        return levels.most_common(1)[0][0] if levels else None

    @staticmethod
    def _level_is_mostly_entries(lines: list[Line], level: int | None) -> bool:
        """Do named entries make up at least half the headings at `level`?

        Markdown marks give entries a level of their own; a PDF's font-size levels often put
        bullets and emphasised body lines at the same level, where an unnamed heading is no entry.
        """
        if level is None:
            return False
        at_level = [ln for ln in lines if ln.level == level and strip_marks(ln.content)]
        named = sum(1 for ln in at_level if is_named_case_heading(ln.content))
        return named * 2 >= len(at_level)

    @staticmethod
    def _heads_a_body(lines: list[Line], i: int) -> bool:
        """Is the next non-blank line after heading `i` body text (not another heading)?"""
        for ln in lines[i + 1:]:
            if strip_marks(ln.content):
                return ln.level is None
        return False

    @staticmethod
    def _join_broken_headings(lines: list[Line], tags: list[Tag]) -> None:
        """`#### ABIC(国際社会貢献センター)の専門人材` + `#### マッチング機能の活用(○○商工会議所)`:
        a name-bearing heading with no body, right above an entry heading of the same level,
        is that heading's first line."""
        for i, line in enumerate(lines):
            if tags[i].role is not Role.SECTION or line.level is None:
                continue
            if not re.search(r"[(（][^)）]+[)）]", line.content):
                continue
            nxt = next((k for k in range(i + 1, min(i + 4, len(lines))) if not lines[k].blank), None)
            if nxt is not None and tags[nxt].role is Role.CASE and lines[nxt].level == line.level:
                tags[i] = Tag(Role.CASE)
                tags[nxt] = Tag(Role.HEADING_MORE)

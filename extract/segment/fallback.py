"""General fallback for layouts no declared rule set knows.

It looks at the heading-like lines a report uses (typographic or markdown levels, ①②③,
(1), 1., 【…】, ■/●/◆ marks, 第N条 / 事例N, short lines standing alone) and picks as case
heads the family that most often heads a body of text and names an organisation or place;
families that enclose it become sections. With no such family it tries slide-style heads
(short blocks over bullets), then prose paragraphs that introduce a named actor.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from .base import Role, Tag
from .casebook import tag_prose_cases
from .lines import Line, strip_marks
from .patterns import (
    DATE_LINE,
    BRACKET_HEAD,
    CIRCLED_ITEM,
    EVENT_HELD,
    FOOTNOTE,
    NOISE_LINE,
    NON_CASE_HEAD_WORDS,
    NUMBERED_SECTION,
    ORG_WORDS,
    PAREN_NUMBER,
    ROMAN_SECTION,
    is_byline,
    is_field_line,
    is_notice_head,
    is_short_phrase,
    names_org_or_place,
    paren_tail,
)
from .slides import tag_bullet_heads

_SYMBOL_HEAD = re.compile(r"^[■□●◆◇▼▽▶►]\s*\S")
_NUMBERED_CASE = re.compile(r"^(?:第\s*\d+\s*[条章節]|事例\s*\d+|取組\s*\d+|Case\s*\d+|CASE\s*\d+)")
_END_MARK = re.compile(r"^以\s*上$")
_PLACE_NAME = re.compile(r"[\u4e00-\u9fff]{1,5}(?:都|道|府|県|市|区|町|村)(?![\u4e00-\u9fff]{0,1}(?:民|長|政|内|外|場|議))")
# Families that are headings only by position or decoration: they must name who/where.
_WEAK_KINDS = {"standalone", "symbol", "bracket"}
# Share of a weak family's heads (with a body) that must open articles for the family to be read
# as a newsletter's article heads.
ARTICLE_SHARE = 0.25
# Numbered families: a numbered head (`事例1`, `①`, `1.`) heads what follows it up to the next of its
# number, whatever sub-heads lie between.
_NUMBERED_KINDS = {"roman", "dot_num", "paren_num", "numbered", "circled"}
# Outer families first: when two families qualify, the outer one encloses the other.
_ORDER = ["roman", "dot_num", "paren_num", "numbered", "circled", "bracket", "symbol", "standalone"]


def _kind(lines: list[Line], i: int, blocks: bool = True) -> str | None:
    """The heading family of line `i`, or None. `blocks`: a short line opening a block of up to
    three short lines counts as standing alone (a newsletter's catch line over its title); else
    only a line alone between gaps does."""
    line = lines[i]
    c = strip_marks(line.content)
    if not c or (blocks and (is_field_line(line.content) or is_byline(c))):
        return None  # an event's particulars, the masthead or a writer's name, whatever their typography
    if line.level is not None:
        return f"level{line.level}"
    if ROMAN_SECTION.match(c) and is_short_phrase(c, 80):
        return "roman"
    if CIRCLED_ITEM.match(c) and len(c) <= 120:
        return "circled"
    if _NUMBERED_CASE.match(c) and len(c) <= 80:
        return "numbered"
    if PAREN_NUMBER.match(c) and is_short_phrase(c, 60):
        return "paren_num"
    if NUMBERED_SECTION.match(c) and is_short_phrase(c, 60):
        return "dot_num"
    if BRACKET_HEAD.match(c) and len(c) <= 60:
        return "bracket"
    if _SYMBOL_HEAD.match(c) and is_short_phrase(c, 50):
        return "symbol"
    before = i == 0 or lines[i - 1].blank
    if before and _head_block(lines, i, 3 if blocks else 1):
        return "standalone"
    return None


def _head_block(lines: list[Line], i: int, most: int = 3) -> bool:
    """Does a short line standing after a gap open a block of at most `most` short lines with a gap
    after it? A newsletter's article head is often a catch line over the event's name
    (`夏の新たな風物詩!` / `森と匠の村ふるさと納涼まつり`)."""
    for j in range(i, min(i + most, len(lines))):
        line = lines[j]
        c = strip_marks(line.content)
        if not is_short_phrase(c, 40) or line.bullet or NOISE_LINE.match(c):
            return False
        if j + 1 >= len(lines) or lines[j + 1].blank:
            return True
        if j == i and (c[0] in "(（" or len(_WORD_CHARS.findall(c)) < 4):
            return False  # a caption or a sign (`×`) over more lines: slide text, no head
        if DATE_LINE.match(lines[j + 1].content.strip()) and (j + 2 >= len(lines) or lines[j + 2].blank):
            return True  # an event's title block ends with its dates (`音威子府展U22` / … / `2023/8/21‐9/18`)
        if len(_WORD_CHARS.findall(lines[j + 1].content)) < 4:
            return False
    return False




_WORD_CHARS = re.compile(r"[ぁ-ゖァ-ヶー\u4e00-\u9fffA-Za-z]")


def _names_someone(text: str) -> bool:
    t = strip_marks(text)
    tail = paren_tail(t)
    if tail and names_org_or_place(tail):
        return True
    head = re.split(r"[：:]", t, maxsplit=1)
    return (len(head) == 2 and 1 < len(head[0]) <= 40) or any(w in t for w in ORG_WORDS) or bool(_PLACE_NAME.search(t))


# Heads of non-case matter between articles: notices, calendars, greetings, contacts, columns.
_NOTICE_HEAD = re.compile(NON_CASE_HEAD_WORDS + r"|予定表|あいさつ|挨拶|休診|納期|インフォメーション|information|"
                          r"接種|納税通知|口座振替", re.I)


# Who acts in an article: a municipality written in kana or kanji (`みほん村では`), or a quoted name
# (`「みほん元気会」が`).
_ACTOR = re.compile(r"[ぁ-ゖァ-ヶー\u4e00-\u9fff]{2,8}(?:都|道|府|県|市|区|町|村)(?:では|で|は|が|と|の)|"
                    r"「[^」]{2,20}」(?:が|は|と|を|で)")


def _body(lines: list[Line], i: int, stop: set[int]) -> str:
    parts = []
    for j in range(i + 1, len(lines)):
        if j in stop:
            break
        parts.append(lines[j].content.strip())
    return "".join(parts)


_CONTACT = re.compile(r"☎|TEL|電話|\d{1,4}[-‐]\d{3,4}")
# An event reported as held, as a newsletter opens its articles: `8月17日(木)、…が行われました`.
_EVENT_DATE = re.compile(r"\d{1,2}月\s*\d{1,2}日")
_EVENT = re.compile(rf"(?:{EVENT_HELD})(?:ました|した|、)")


def _article(lines: list[Line], i: int, stop: set[int], repeated: frozenset[str] = frozenset()) -> bool:
    """A head over prose that names who or where, or reports an event held (a village newsletter
    leaves its village unnamed), under a head that is no notice: an article about an initiative
    (a newsletter's heads rarely name anyone themselves)."""
    head = strip_marks(lines[i].content)
    if _NOTICE_HEAD.search(head) or is_notice_head(head) or _CONTACT.search(head):
        return False
    if len(re.findall(r"[ぁ-ゖァ-ヶー\u4e00-\u9fff]", head)) < 4 or head in repeated:
        return False  # a banner word (`kurashi`, `topics`), a label (`会期`, `[現状と課題]` each time)
    body = _body(lines, i, stop)
    lead = body[:300]
    return body.count("。") >= 2 and len(body) >= 50 and (
        _names_someone(lead) or bool(_ACTOR.search(lead))
        or (bool(_EVENT_DATE.search(lead[:80])) and bool(_EVENT.search(lead[:300]))))


def _body_chars(lines: list[Line], i: int, stop: set[int]) -> int:
    n = 0
    for j in range(i + 1, len(lines)):
        if j in stop:
            break
        n += len(lines[j].content.strip())
    return n


class FallbackRules:
    """`articles`: also read a family of undecorated heads over prose naming who or where as
    articles (a newsletter's). The CRF's prior reads without it: its cross-validation on the real
    PDFs fell with it (0.45 -> 0.32), while text documents, which the rule sets decide, gain."""

    name = "fallback"

    def __init__(self, articles: bool = True):
        self.articles = articles

    def score(self, lines: list[Line]) -> float:
        return 0.5  # chosen only when no declared layout scores

    def tag(self, lines: list[Line]) -> list[Tag]:
        kinds = {i: k for i in range(len(lines)) if (k := _kind(lines, i, self.articles))}
        heads = set(kinds)
        seen = Counter(strip_marks(lines[i].content) for i in heads)
        repeated = frozenset(t for t, n in seen.items() if n > 1)
        by_kind: dict[str, list[int]] = defaultdict(list)
        for i, k in kinds.items():
            by_kind[k].append(i)

        best, best_score = None, 0.0
        by_articles: set[str] = set()
        article_kinds: set[str] = set()  # weak families with two articles or more
        # a numbered head's body runs to the next head of its own family or one enclosing it: the
        # sub-heads inside a case (`耕作放棄地を活用した…` under `事例1 …`, `【概要】`) are its body
        stops = {k: {j for j, kj in kinds.items() if self._rank(kj) <= self._rank(k)} for k in by_kind}
        for k, idx in by_kind.items():
            with_body = [i for i in idx if _body_chars(lines, i, heads) >= 20
                         or (self.articles and k in _NUMBERED_KINDS and _body_chars(lines, i, stops[k]) >= 20)]
            if len(with_body) < 2:
                continue
            named = sum(1 for i in with_body if _names_someone(lines[i].content))
            if k in _WEAK_KINDS and named / len(with_body) < 0.5:
                # unnumbered headings of an argument or a table, not of cases; unless most of them
                # head articles (prose naming who or where), as in a newsletter
                if not self.articles:
                    continue
                articles = sum(1 for i in with_body if _article(lines, i, heads, repeated))
                if articles >= 2:
                    article_kinds.add(k)
                # a newsletter's lines standing alone are mostly captions, names and banners:
                # a family is read as articles when enough of its heads open one
                if articles < 2 or articles / len(with_body) < ARTICLE_SHARE:
                    continue
                named = articles
                by_articles.add(k)
            score = len(with_body) * (1 + named / len(with_body))
            if score > best_score:
                best, best_score = k, score

        tags = [self._base_tag(ln) for ln in lines]
        if best is not None:
            rank = self._rank(best)
            strict = self._named_share(lines, by_kind[best]) >= 0.6
            # a newsletter marks some articles (`◇`) and not others: read as articles, every weak
            # family's article heads open cases
            readers = {best} | (article_kinds if best in by_articles else set())
            for i, k in kinds.items():
                if k in readers:
                    # a head with no body is a contents line or a list item, not a case; in a
                    # family that mostly names who/where, a head naming no one is commentary
                    # between cases: both close the open case
                    article = self.articles and _article(lines, i, heads, repeated)
                    named = _names_someone(lines[i].content) or article
                    has_body = _body_chars(lines, i, heads) >= 20 or (
                        self.articles and k in _NUMBERED_KINDS and _body_chars(lines, i, stops[k]) >= 20)
                    notice = self.articles and (_NOTICE_HEAD.search(lines[i].content) is not None
                                                or is_notice_head(lines[i].content))
                    if best in by_articles and not notice and not (has_body and article):
                        continue  # a caption, a name or a sub-head inside an article: its text
                    case = has_body and (named or not strict) and not notice
                    tags[i] = Tag(Role.CASE) if case else Tag(Role.STOP)
                elif self._rank(k) < rank:
                    tags[i] = Tag(Role.SECTION, self._rank(k) + 1)
        # A case has a body: in a newsletter, a head with none set on the line right over an
        # article's head is its catch line (`夏の新たな風物詩!` / `森と匠の村ふるさと納涼まつり`).
        for i in range(len(lines) - 1 if self.articles else 0):
            if (tags[i].role is Role.STOP and tags[i + 1].role is Role.CASE and not lines[i + 1].blank
                    and i in kinds and not _NOTICE_HEAD.search(strip_marks(lines[i].content))
                    and not is_notice_head(lines[i].content)):
                tags[i], tags[i + 1] = Tag(Role.CASE), Tag(Role.HEADING_MORE)
        # An event's title block with its dates (a head with no body of its own) over the head of
        # the article that reports it, after a gap: the article is the event's, the head under the
        # dates its subtitle (`音威子府展U22 -2023-` / `2023/8/21‐9/18` … `卒業生の活動を、地域で応援!`).
        for i in range(len(lines) if self.articles else 0):
            if kinds.get(i) != "standalone" or tags[i].role is not Role.BODY:
                continue  # (a standalone head opens a head block: `_kind` asked `_head_block`)
            end = next((j for j in range(i, len(lines)) if lines[j].blank), len(lines))
            if end - i < 2 or not DATE_LINE.match(lines[end - 1].content.strip()):
                continue
            nxt = next((j for j in range(end, len(lines)) if not lines[j].blank), None)
            if nxt is not None and tags[nxt].role is Role.CASE:
                tags[i], tags[nxt] = Tag(Role.CASE), Tag(Role.BODY)
        # A short line standing after a gap and naming non-case matter (`編集後記`, `町長あいさつ`)
        # ends the article before it, heading or not.
        for i, ln in enumerate(lines if self.articles else []):
            c = strip_marks(ln.content)
            if (tags[i].role is Role.BODY and (i == 0 or lines[i - 1].blank) and len(c) <= 12
                    and _NOTICE_HEAD.search(c)):
                tags[i] = Tag(Role.STOP)
        # Slide-style heads (a short block over bullets) add to the heads found, so a deck that
        # mixes 【…】 heads with name-over-bullets heads loses neither.
        trial = list(tags)
        heads = [h for h in tag_bullet_heads(lines, trial) if not (self.articles and self._particulars(lines, trial, h))]
        if len(heads) >= 2 and sum(_names_someone(self._head_text(lines, trial, h)) for h in heads) >= len(heads) / 2:
            tags = trial
        if best is not None or len(heads) >= 2:
            return tags
        tag_prose_cases(lines, tags, 0, len(lines), 1)
        return tags

    @staticmethod
    def _particulars(lines: list[Line], tags: list[Tag], h: int) -> bool:
        """Is a head found over bullets a line of particulars (`定員 先着17名` over `※…`)? Then it
        is body again, with the lines it took along."""
        if not is_field_line(lines[h].content):
            return False
        tags[h] = Tag(Role.BODY)
        for k in range(h + 1, len(lines)):
            if tags[k].role is not Role.HEADING_MORE:
                break
            tags[k] = Tag(Role.BODY)
        return True

    @staticmethod
    def _named_share(lines: list[Line], idx: list[int]) -> float:
        return sum(_names_someone(lines[i].content) for i in idx) / max(len(idx), 1)

    @staticmethod
    def _head_text(lines: list[Line], tags: list[Tag], i: int) -> str:
        parts = [lines[i].content]
        for k in range(i + 1, len(lines)):
            if tags[k].role is not Role.HEADING_MORE:
                break
            parts.append(lines[k].content)
        return "".join(parts)

    @staticmethod
    def _rank(kind: str) -> int:
        if kind.startswith("level"):
            return int(kind[5:]) - 1
        return 10 + _ORDER.index(kind)

    @staticmethod
    def _base_tag(line: Line) -> Tag:
        c = line.content.strip()
        if not c:
            return Tag(Role.BLANK)
        if _END_MARK.match(c):
            return Tag(Role.STOP)
        if line.is_page_number or FOOTNOTE.match(c) or NOISE_LINE.match(c):
            return Tag(Role.NOISE)
        return Tag(Role.BODY)

"""Case boundaries as a learned decision over the document outline.

Contract:
    block_features(outline, priors) -> list[list[str]]   one feature list per outline block
    gold_labels(outline, spans) -> list[str]              one label per block from gold spans
    train(sequences, path, params) -> None                fits a linear-chain CRF, writes `path`
    Segmenter(path).label(outline, priors) -> list[str]   predicted labels
    tags_from_labels(outline, labels, priors) -> list[Tag]  line tags for `base.assemble`

Labels, one per block: `B` opens a case (its heading), `I` lies inside the open case, `S` is a
section heading (above cases; closes the open case), `O` is non-case matter (closes it).

Features are layout evidence, not wording of any one report: the block's kind and heading
evidence (level, numbering family, bold, standalone, page start), its shape (length, sentence
end, digits, dates, `label：value`), whether it names an organisation or place, whether the text
under it reports an event held (`7月7日(土)に、…が開催されました`), the kind of newsletter column it
sits in (after a romanised banner: `oshirase` a notice column, `topics` another), its neighbours,
and document-level statistics of its heading key (how often that level/family repeats, how
often its heads carry a body and name someone, whether it is the document's dominant head
family, whether it encloses or sits under that family). The rule sets' roles for the block's
first line enter as priors (`prior=`), with the name of the rule set, so a declared layout's
judgement is evidence the model weighs, not the only path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pycrfsuite

from .base import CONTINUED, Role, Tag, bare_title, continues, same_title
from .lines import strip_marks
from .outline import Block, BlockKind, Outline
from .patterns import (CIRCLED, DATE_LINE, EVENT_HELD, NAMES_PLACE, NON_CASE_HEAD_WORDS, PART_LABEL_REPEATS,
                       is_break_or_picture, is_byline, is_damage_report_or_greeting, is_field_line, is_framing_head,
                       is_masthead, is_no_case_head, is_notice_banner, is_notice_head, is_notice_label, is_pen_name,
                       is_romanised_banner, names_org_or_place, names_publication, paren_tail)

LABELS = ("B", "I", "O", "S")
# The rule sets whose roles enter as priors: the chosen (declared or fallback) one and the fallback.
PRIOR_SOURCES = ("declared", "fallback")

DEFAULT_PARAMS = {"c1": 0.1, "c2": 0.01, "max_iterations": 200, "feature.possible_transitions": True}

_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|[(（][月火水木金土日][)）]|\d{1,2}:\d{2}|\d{4}\s*年\s*\d{1,2}\s*月")
# An event reported as held, as a newsletter opens an article: `8月1日(木)、…が開設されました`,
# `9月26日(木)、…稲刈りを体験しました` (a date, then an event or activity held, in the same sentence).
_REPORTED_EVENT = re.compile(rf"\d{{1,2}}月\s*\d{{1,2}}日[^。]{{0,80}}?(?:{EVENT_HELD})")
_PHONE = re.compile(r"\d{2,4}\s*[-‐－]\s*\d{2,4}\s*[-‐－]\s*\d{3,4}")
_SENTENCE_END = re.compile(r"[。．！？!?]\s*$")
_COLON_TITLE = re.compile(r"^[^：:]{2,40}[：:]\s*\S")
_ORG = re.compile(r"株式会社|有限会社|\(株\)|㈱|商工会議所|商工会|協議会|大学|機構|財団|法人|協会|組合|銀行|金庫|センター|研究所|ホールディングス|グループ|連合会|役場|庁|省")
# Words that head matter around cases in many report kinds (contacts, notices, agendas, summaries,
# KPIs, policy points, references). The model learns from the data how much each one weighs.
_CUE_WORDS = (
    "問合せ", "問い合わせ", "お知らせ", "募集", "目次", "概要", "今後", "課題", "出典", "提供", "参考", "KPI",
    "目標", "指標", "日時", "場所", "会場", "対象", "申込", "編集", "後記", "ポイント", "Point", "凡例", "はじめに",
    "おわりに", "まとめ", "取組", "事例", "背景", "成果", "効果", "実績", "統計", "定義", "調査", "要望", "提言",
    "期待", "考え方", "方向性", "施策", "戦略", "計画", "推進", "連絡先", "TEL", "電話", "カレンダー", "予定",
    "おしらせ", "案内", "行事", "休診", "税", "年金", "保険", "健康", "相談", "受付", "締切", "問",
)
_ORDER = [
    "roman", "chapter", "dot_num", "hyphen_num", "paren_num", "case_no", "article", "circled", "kana_num",
    "paren_kana", "bracket", "sumi", "angle", "banner", "square", "diamond", "dot", "triangle", "star", "circle",
    "check", "qa", None,
]


def _bucket(n: float, edges: tuple) -> str:
    for e in edges:
        if n <= e:
            return str(e)
    return f">{edges[-1]}"


def _flat(text: str) -> str:
    """A heading's text without white space, as repeated labels are compared (PDFs space them out)."""
    return re.sub(r"\s", "", text)


def _numbering_head(b: Block) -> bool:
    """Is `b` a heading with a numbering family that can head a case (`①`, `1.`, `◇`), not one that
    labels a case's parts (`○`, `✓`, `【民】`, `<KPI>`)?"""
    return b.kind is BlockKind.HEADING and b.family is not None and b.family not in SUB_HEAD_FAMILIES


def names_someone(text: str) -> bool:
    t = strip_marks(text)
    tail = paren_tail(t)
    if tail and names_org_or_place(tail):
        return True
    return bool(_ORG.search(t) or NAMES_PLACE.search(t))


def head_key(b: Block) -> str | None:
    """The outline level a heading candidate belongs to: its typographic level, else its family."""
    if b.kind is not BlockKind.HEADING or b.heading is None:
        return None
    if b.heading.level is not None:
        return f"L{b.heading.level}"
    return b.heading.family or ("bold" if b.heading.bold else "plain")


def _key_rank(key: str | None) -> int:
    if key is None:
        return 99
    if key.startswith("L"):
        return int(key[1:])
    if key in ("bold", "plain"):
        return 60 + (key == "plain")
    return 10 + (_ORDER.index(key) if key in _ORDER else len(_ORDER))


def _bodies_after(blocks: list[Block]) -> list[tuple[int, int]]:
    """Per block, (characters, blocks) of non-heading content between it and the next heading
    candidate; one backward pass."""
    out: list[tuple[int, int]] = [(0, 0)] * len(blocks)
    chars = n = 0
    for i in range(len(blocks) - 1, -1, -1):
        out[i] = (chars, n)
        b = blocks[i]
        if b.kind is BlockKind.HEADING:
            chars = n = 0
        elif b.kind is not BlockKind.NOISE:
            chars += len(b.text)
            n += 1
    return out


def _repeated_heads(blocks: list[Block]) -> set[str]:
    """Heading texts printed more than once: the labels of a report's fixed sub-blocks
    (`[現状と課題]`, `✓概要`, `今後の取組`, `問合せ先`), or running titles; never a case's own name."""
    seen = Counter(_flat(b.text) for b in blocks if b.kind is BlockKind.HEADING)
    return {t for t, n in seen.items() if n > 1}


def _key_stats(blocks: list[Block], repeated: set[str], bodies) -> tuple[dict[str, dict], str | None]:
    stats: dict[str, dict] = defaultdict(lambda: {"n": 0, "body": 0, "named": 0, "pages": set()})
    for i, b in enumerate(blocks):
        k = head_key(b)
        if k is None or _flat(b.text) in repeated:
            continue
        s = stats[k]
        s["n"] += 1
        chars, _ = bodies[i]
        if chars >= 20:
            s["body"] += 1
            if names_someone(b.text):
                s["named"] += 1
        s["pages"].add(b.page)
    best, best_score = None, 0.0
    for k, s in stats.items():
        if s["body"] < 2:
            continue
        score = s["body"] * (1 + s["named"] / s["body"])
        if score > best_score:
            best, best_score = k, score
    return stats, best


def block_features(outline: Outline, priors: dict[str, list[Tag]], rule_set: str = "fallback") -> list[list[str]]:
    blocks = outline.blocks
    repeated = _repeated_heads(blocks)
    bodies = _bodies_after(blocks)
    stats, best = _key_stats(blocks, repeated, bodies)
    heading_seen_on_page: set = set()
    # the column a block sits in: none before any romanised banner, else the last banner's kind (a
    # notice column, `oshirase` `kurashi`, or another, `topics`). Every block carries it, so that its
    # absence in a document without banners says nothing (a feature only some documents carry
    # shifted the casebooks' reading when none of them was in training)
    column = None
    # a document whose pages mostly open with a heading is paged by topic (slides, case sheets,
    # newsletters): there a page's first heading is the strongest candidate for a case start
    firsts = [b for b in blocks if b.page_first]
    paged = bool(outline.doc.pages) and len(firsts) >= 3 and (
        sum(b.kind is BlockKind.HEADING for b in firsts) / len(firsts) >= 0.6)
    total_heads = sum(s["n"] for s in stats.values()) or 1
    best_rank = _key_rank(best)
    n_pages = len(outline.doc.pages) or 1
    per_block: list[list[str]] = []
    for i, b in enumerate(blocks):
        t = b.text
        f = [
            "bias",
            f"kind={b.kind.value}",
            f"numbered={b.family is not None}",
            f"len={_bucket(len(t), (4, 10, 20, 40, 80, 200))}",
        ]
        if b.page_first:
            f.append("page_first")
            f.append(f"page_first+kind={b.kind.value}")
        if not b.blank_before:
            f.append("no_gap")
        if _SENTENCE_END.search(t):
            f.append("sentence_end")
        if "。" in t:
            f.append("has_kuten")
        if _COLON_TITLE.match(t):
            f.append("colon_title")
        if _DATE.search(t):
            f.append("date")
        if _PHONE.search(t):
            f.append("phone")
        digits = sum(ch.isdigit() for ch in t)
        if t and digits / len(t) > 0.25:
            f.append("digit_heavy")
        if "%" in t or "％" in t:
            f.append("percent")
        named = names_someone(t[:80])
        if named:
            f.append("named")
        tail = paren_tail(t)
        if tail and names_org_or_place(tail):
            f.append("paren_named")
        for w in _CUE_WORDS:
            if w in t[:30]:
                f.append(f"cue={w}")
        if b.kind is BlockKind.HEADING and is_notice_head(t[:40]):
            f.append("cue=notice")
        if b.kind is BlockKind.HEADING and is_romanised_banner(t):
            column = "notice" if is_notice_banner(t) else "other"
            f.append(f"banner={column}")
        else:
            f.append(f"in_column={column or 'none'}")
        chars, nbody = bodies[i]
        f.append(f"body={_bucket(chars, (0, 20, 100, 400))}")
        # the first content block after this one (past any further heading lines): a case head
        # is followed by prose or bullets about the initiative
        gap, nxt = 0, None
        for nb in blocks[i + 1 : i + 6]:
            if nb.kind in (BlockKind.HEADING, BlockKind.NOISE):
                gap += 1
                continue
            nxt = nb
            break
        if nxt is not None:
            f.append(f"next_content={nxt.kind.value}")
            f.append(f"next_gap={min(gap, 3)}")
            f.append(f"next_len={_bucket(len(nxt.text), (20, 60, 150))}")
            if "。" in nxt.text:
                f.append("next_prose")
            if _DATE.search(nxt.text[:40]):
                f.append("next_date")
            if _REPORTED_EVENT.search(nxt.text[:200]):
                f.append("next_reports_event")
            if names_someone(nxt.text[:60]):
                f.append("next_named")
            if nxt.page != b.page:
                f.append("next_other_page")
        key = head_key(b)
        if key is not None:
            if _flat(t) in repeated:
                f.append("text_repeats")
            if b.page not in heading_seen_on_page:
                heading_seen_on_page.add(b.page)
                f.append("first_head_on_page")
                f.append(f"first_head_on_page+paged={paged}")
                f.append(f"first_head_on_page+named={named}")
                if "next_prose" in f or chars >= 100:
                    f.append("first_head_on_page+body")
            h = b.heading
            s = stats[key]
            f += [
                f"key_typographic={key.startswith('L')}",
                f"key_repeats={s['n'] > 2}",
                f"key_body_share={_bucket(s['body'] / max(s['n'], 1), (0.2, 0.5, 0.8))}",
                f"key_named_share={_bucket(s['named'] / max(s['body'], 1), (0.2, 0.5, 0.8))}",
            ]
            if key == best:
                f.append("key_best")
                f.append(f"key_best+named={named}")
            elif best is not None:
                f.append("key_above_best" if _key_rank(key) < best_rank else "key_below_best")
            if h is not None:
                if h.bold:
                    f.append("bold")
                if h.standalone:
                    f.append("standalone")
                if h.indent:
                    f.append("indented")
            f.append(f"head+named={named}")
            f.append(f"head+body={_bucket(chars, (0, 20, 100))}")
        for name, tags in priors.items():
            if name not in PRIOR_SOURCES:
                continue
            role = tags[b.lines[0]].role.value
            f.append(f"prior[{name}]={role}")
            if name == "declared":
                f.append(f"prior_role={role}")
                f.append(f"declared={rule_set != 'fallback'}+prior={role}")
        per_block.append(f)
    # neighbours: the model sees the shape around a block (a head over bullets, a head over a head),
    # and the cue words of the heading it sits under (a notice under `おしらせ` is no case)
    out: list[list[str]] = []
    last_head_cues: list[str] = []
    for i, f in enumerate(per_block):
        g = list(f)
        g += [f"under_{c}" for c in last_head_cues]
        if blocks[i].kind is BlockKind.HEADING:
            last_head_cues = [c for c in f if c.startswith("cue=")]
        for d in (-1, 1, 2):
            j = i + d
            if 0 <= j < len(blocks):
                nb = blocks[j]
                g.append(f"{d}:kind={nb.kind.value}")
                g.append(f"{d}:numbered={nb.family is not None}")
                if head_key(nb) is not None and head_key(nb) == head_key(blocks[i]):
                    g.append(f"{d}:same_key")
                for p in per_block[j]:
                    if p.startswith("prior_role="):
                        g.append(f"{d}:{p}")
            else:
                g.append(f"{d}:edge")
        out.append(g)
    return out


def gold_labels(outline: Outline, spans: list[tuple[int, int]]) -> list[str]:
    """Labels from gold case spans: the block holding a case's start is `B`, blocks inside a span
    are `I`; after a case's end, content up to the next heading candidate stays `I` (captions,
    credits and figure text trailing an entry are its surroundings, never a new start); heading
    candidates outside cases are `S` when a case follows before other non-case content, else `O`."""
    blocks = outline.blocks
    labels = ["O"] * len(blocks)
    starts = sorted(s for s, _ in spans)
    open_case = False
    for i, b in enumerate(blocks):
        hit_start = any(b.start <= s < b.end or (s < b.start and i > 0 and blocks[i - 1].end <= s) for s in starts)
        inside = any(s < b.start < e for s, e in spans)
        if hit_start:
            labels[i] = "B"
            open_case = True
        elif inside:
            labels[i] = "I"
        elif open_case and b.kind is not BlockKind.HEADING:
            labels[i] = "I"
        else:
            open_case = False
            labels[i] = "O"
    # heading candidates outside cases: section when the next labelled content is a case start
    for i, b in enumerate(blocks):
        if labels[i] != "O" or b.kind is not BlockKind.HEADING:
            continue
        for j in range(i + 1, len(blocks)):
            if labels[j] == "B":
                labels[i] = "S"
                break
            if labels[j] == "O" and blocks[j].kind is BlockKind.HEADING:
                continue
            break
    return labels


def train(sequences: list[tuple[list[list[str]], list[str]]], path: str | Path, params: dict | None = None) -> None:
    trainer = pycrfsuite.Trainer(verbose=False)
    for xseq, yseq in sequences:
        trainer.append(xseq, yseq)
    trainer.set_params({**DEFAULT_PARAMS, **(params or {})})
    trainer.train(str(path))


class Segmenter:
    """A trained CRF (crfsuite model file) labelling outline blocks. `routes` come from the card
    beside it (`segmenter_card.json`): per document kind, whether the CRF or the rule sets decide."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.tagger = pycrfsuite.Tagger()
        self.tagger.open(str(path))
        card = self.path.with_name("segmenter_card.json")
        self.routes: dict = {}
        if card.is_file():
            data = json.loads(card.read_text(encoding="utf-8"))
            if data.get("sha256") == _sha256(self.path):
                self.routes = data.get("routes", {})

    def label(self, features: list[list[str]]) -> list[str]:
        if not features:
            return []
        return list(self.tagger.tag(features))


def is_subtitle(head: Block, b: Block) -> bool:
    """Is heading candidate `b` the subtitle of `head`: set at its level on the very next line, and
    no byline or particulars?"""
    return (head.kind is BlockKind.HEADING and b.kind is BlockKind.HEADING and b.page == head.page
            and head_key(b) == head_key(head) and b.lines[0] == head.lines[-1] + 1
            and not not_a_head(b.text) and not is_byline(b.text))


def tags_from_labels(outline: Outline, labels: list[str], prior: list[Tag]) -> list[Tag]:
    """Line tags for `base.assemble`: a `B` block's first line is CASE (a wrapped heading's further
    lines keep the prior's HEADING_MORE), `S` a SECTION at its level's depth, `O` a STOP; lines of
    `I` blocks are BODY, or NOISE where the prior saw a caption/credit (never an entry's end)."""
    tags = [Tag(Role.BLANK) if ln.blank else Tag(Role.BODY) for ln in outline.lines]
    section_keys: list[str] = []
    for k, (b, lab) in enumerate(zip(outline.blocks, labels)):
        first = b.lines[0]
        if lab == "I" and k and labels[k - 1] == "B" and (is_subtitle(outline.blocks[k - 1], b)
                                                          or wrapped_over_page_turn(outline.blocks[k - 1], b)):
            for li in b.lines:
                tags[li] = Tag(Role.HEADING_MORE)  # the title's second line: part of the title
            continue
        if lab == "B":
            tags[first] = Tag(Role.CASE)
            for li in b.lines[1:]:
                tags[li] = Tag(Role.HEADING_MORE) if b.kind is BlockKind.HEADING else Tag(Role.BODY)
        elif lab == "S":
            key = head_key(b) or "plain"
            if key not in section_keys:
                section_keys.append(key)
            ranked = sorted(section_keys, key=_key_rank)
            tags[first] = Tag(Role.SECTION, ranked.index(key) + 1)
            for li in b.lines[1:]:
                tags[li] = Tag(Role.HEADING_MORE)
        elif lab == "O":
            tags[first] = Tag(Role.STOP)
            for li in b.lines[1:]:
                tags[li] = Tag(Role.NOISE)
        elif is_break_or_picture(b.text):
            for li in b.lines:
                tags[li] = Tag(Role.NOISE)  # a converter's page break or picture: never an entry's end
        else:
            for li in b.lines:
                r = prior[li].role
                if r in (Role.NOISE, Role.HEADING_MORE):
                    tags[li] = Tag(r)
    # A heading wrapped over lines the outline made separate blocks: the prior's HEADING_MORE
    # right after a case head stays part of the title; anywhere else it is body.
    prev = None
    for i, t in enumerate(tags):
        if t.role is Role.BLANK:
            continue
        if t.role is Role.HEADING_MORE and (prev is None or prev not in (Role.CASE, Role.HEADING_MORE, Role.SECTION)):
            tags[i] = Tag(Role.BODY)
        prev = tags[i].role
    return tags


# A document is paged by topic when most of its pages (at least this many) open with a heading.
TOPIC_PAGES_MIN = 4
TOPIC_SHARE = 0.6
# The model has not recognised a topic-paged layout when it opens cases on fewer than this share of
# the pages that open with a heading: one entry per topic page is then the safer reading
# (leave-one-document-out on the development documents: real PDFs 0.36 -> 0.45, layouts 0.29 -> 0.66).
UNDER_READ_SHARE = 0.4
# ... or when fewer than this share of the cases it opens (no more than the topic pages) start at a
# page's opening heading: a newsletter with two or three articles a page opens about half of them
# there, a model reading sub-headings (`[現状と課題]`) as cases almost none. Set by hand on the
# development documents, not fitted per left-out document.
MID_PAGE_SHARE = 1 / 3
# ... and at least half of them at the marks that label a case's parts (`[現状と課題]`, `【民】`,
# `＜KPI＞`, `✓概要`, `○` sub-projects, `Q1`): a newsletter's articles start mid-page too, under
# plain or `◇` heads, and its correct reading must stand.
SUB_HEAD_FAMILIES = frozenset({"sumi", "bracket", "angle", "check", "circle", "qa"})
def topic_pages(outline: Outline) -> list[int]:
    """Indices of the blocks that open a topic page: the first block of a page when it is a heading,
    for a document most of whose pages (at least TOPIC_PAGES_MIN) open so; else empty."""
    firsts = [i for i, b in enumerate(outline.blocks) if b.page_first]
    heads = [i for i in firsts if outline.blocks[i].kind is BlockKind.HEADING]
    if len(firsts) < TOPIC_PAGES_MIN or len(heads) < TOPIC_SHARE * len(firsts):
        return []
    return heads


# A talk's trend or situation slide: `人口減少の現状`, `地域経済の動向` (a case's own, `東川町の現状`,
# names someone).
_TREND_HEAD = re.compile(r"の(?:現状|動向|推移)$")


def is_trend_head(text: str) -> bool:
    """Is a heading a trend or situation that names no one (`人口減少の現状`)?"""
    flat = re.sub(r"\s+", "", bare_title(text))
    return len(flat) <= 24 and bool(_TREND_HEAD.search(flat)) and not names_someone(flat)


def without_notice_cases(outline: Outline, labels: list[str]) -> list[str]:
    """The model's labels, except that a case it opens at a heading the guideline lists as no case
    (a notice, a staff greeting, a strategy's framework chapter: `patterns.is_notice_head`), or at
    a heading that frames a talk (its contents, a definition, a trend: `patterns.is_framing_head`,
    `is_trend_head`), is
    closed there instead: the notice's text belongs to no case. A case it opens at a line that
    never heads one (`not_a_head`) is no case start: the line stays with the case before it."""
    out = list(labels)
    parts = part_labels(outline)
    for i, (b, lab) in enumerate(zip(outline.blocks, labels)):
        if lab != "B":
            continue
        # a title set over two lines (`自然の猛威` / `大雨により水害が発生`) is read whole
        title = b.text + (outline.blocks[i + 1].text if i + 1 < len(labels) and is_subtitle(b, outline.blocks[i + 1]) else "")
        if b.kind is BlockKind.HEADING and (is_no_case_head(b.text[:40]) or is_framing_head(b.text[:40])
                                            or is_trend_head(b.text) or is_damage_report_or_greeting(title[:60])):
            out[i] = "O"
        elif not_a_head(b.text) or i in parts or is_pen_name(b.text):
            # particulars, a contact line, a caption, a venue in brackets or a signature: they
            # belong to what surrounds them, never open a case
            out[i] = "I" if i > 0 and out[i - 1] in ("B", "I") else "O"
    return out


# An event programme (corpus/segmentation/README.md: an exhibition, a festival, a course and its
# programme are cases) announced with its particulars: `特別企画展 頓別坊展` over `会期 9月21日…`.
_EVENT_NAME = re.compile(r"展|集い|まつり|祭|教室|講座|講習会|体験会|ワークショップ|観察会|フェス|セミナー|ツアー")
_WHEN_OR_WHERE = re.compile(r"^[■□●○◆◇・]?\s*(?:会期|日時|日程|期間|開催日|会場|場所)")
ANNOUNCED_REACH = 2


def announces_event(blocks: list[Block], i: int) -> bool:
    """Is heading `i` an event programme's name over its particulars (its dates or venue within
    ANNOUNCED_REACH blocks)? Calendars list events without particulars under each."""
    b = blocks[i]
    t = b.text.strip()
    if b.kind is not BlockKind.HEADING or not _EVENT_NAME.search(t) or len(t) > 60 or not_a_head(t):
        return False
    if is_notice_head(t[:40]) and not re.search(r"開催|展|集い", t):
        return False
    return any(_WHEN_OR_WHERE.match(blocks[j].text.strip())
               for j in range(i + 1, min(i + 1 + ANNOUNCED_REACH, len(blocks))) if blocks[j].page == b.page)


def with_announced_events(outline: Outline, labels: list[str]) -> list[str]:
    """A heading left outside any case (after a notice, as often) opens one when it announces an
    event programme with its particulars (`announces_event`), at the level of cases opened."""
    blocks = outline.blocks
    levels = {head_key(b) for b, lab in zip(blocks, labels) if lab == "B"} - {None}
    out = list(labels)
    for i, b in enumerate(blocks):
        if out[i] != "O" or head_key(b) not in levels or not announces_event(blocks, i):
            continue
        out[i] = "B"
        for j in range(i + 1, len(blocks)):
            bj = blocks[j]
            if out[j] != "O" or (bj.kind is BlockKind.HEADING and head_key(bj) == head_key(b)
                                 and not not_a_head(bj.text)) or bj.page != b.page:
                break
            out[j] = "I"
    return out


EVENT_TITLE_BLOCKS = 3  # an event's title block: at most this many blocks, its dates last


def event_title_block(outline: Outline, i: int) -> int | None:
    """The last block of an event's title block opening at heading `i`, when it is one: short
    blocks standing alone (not under a head of the same page), naming an event (`音威子府展U22
    -2023-` / `~おと高卒業生の「里帰り」`), the last line of the last giving only its dates
    (`2023/8/21‐9/18`), with the article's headline or prose under it."""
    blocks = outline.blocks
    b = blocks[i]
    if b.kind is not BlockKind.HEADING or heads_no_article(b.text) or DATE_LINE.match(strip_marks(b.text)):
        return None
    if i and blocks[i - 1].kind is BlockKind.HEADING and blocks[i - 1].page == b.page:
        return None
    for k in range(i + 1, min(i + EVENT_TITLE_BLOCKS, len(blocks))):
        bk = blocks[k]
        if bk.kind not in (BlockKind.HEADING, BlockKind.PARAGRAPH) or len(_flat(bk.text)) > 40 or bk.page != b.page:
            return None
        if not DATE_LINE.match(strip_marks(outline.lines[bk.lines[-1]].content)):
            continue
        title = "".join(blocks[j].text for j in range(i, k + 1))
        if not _EVENT_NAME.search(title) or k + 1 >= len(blocks):
            return None
        under = blocks[k + 1]
        if under.kind is BlockKind.HEADING and headline_over_prose(blocks, k + 1, check_above=False):
            return k
        if under.kind is BlockKind.PARAGRAPH and len(_flat(under.text)) >= HEADLINE_PROSE_MIN:
            return k
        return None
    return None


def with_event_title_blocks(outline: Outline, labels: list[str]) -> list[str]:
    """An event's title block with its dates (`event_title_block`) opens the article that reports
    the event: the headline under it is the article's subtitle, not its start, and the title
    block is no part of the article above."""
    out = list(labels)
    for i in range(len(out)):
        if out[i] == "S":
            continue
        k = event_title_block(outline, i)
        if k is None:
            continue
        out[i] = "B"
        for j in range(i + 1, k + 2):
            out[j] = "I"
        for j in range(k + 2, len(out)):
            if out[j] != "O" or outline.blocks[j].kind is BlockKind.HEADING:
                break
            out[j] = "I"
    return out


def without_notice_regions(outline: Outline, labels: list[str], close_at_mark: bool = False) -> list[str]:
    """Under a notice's head (`patterns.is_notice_head`, a notice label, a notice column's romanised
    banner `oshirase`), the heads on the same page down to the next head set at its typographic
    level or above are the notice's items (`●通知の振り仮名が誤っている場合`, a calendar's `開催中`):
    a case the model opens at one is no case, unless its text reports an event held or it is a
    signed report. `close_at_mark`: the next head with the notice head's own article mark (`■`,
    `◆`; not a numbering, whose next number is the notice's next item) closes the notice too, as it does in a rule set's reading of text with no pages and no typography, where
    nothing else would (`■ お知らせ` … `■ 町の高校と大学が連携`)."""
    blocks = outline.blocks
    out = list(labels)
    region: tuple[int | None, int | None, str | None] | None = None  # (page, level, mark) of the open notice head
    for i, b in enumerate(blocks):
        if b.kind is not BlockKind.HEADING:
            continue
        level = b.heading.level if b.heading is not None else None
        t = b.text.strip()
        if is_notice_head(t[:40]) or is_notice_label(t) or is_notice_banner(t):
            region = (b.page, level, b.family)
            continue
        if region is None:
            continue
        page, notice_level, mark = region
        if b.page != page or (level is not None and (notice_level is None or level <= notice_level)) \
                or (close_at_mark and mark in ARTICLE_MARKS and b.family == mark):
            region = None
            continue
        if out[i] == "B" and not reports_event(blocks, i) and signed_article(blocks, i) is None \
                and not announces_event(blocks, i):
            out[i] = "O"
            for j in range(i + 1, len(blocks)):
                if out[j] != "I":
                    break
                out[j] = "O"
    return out


def heads_no_article(text: str) -> bool:
    """Does a heading never head a newsletter's article: a notice, a framing head, particulars
    (`not_a_head`), or a column's romanised banner (`kurashi`, `topics`), which heads a column?"""
    t = text.strip()
    return is_notice_head(t[:40]) or is_framing_head(t[:40]) or not_a_head(t) or is_romanised_banner(t)


def reports_event(blocks: list[Block], i: int, reach: int = 3) -> bool:
    """Is heading `i` an article's head: not a notice, framing or part label, and the text under
    it (the first block that is no heading, at most `reach` blocks on) reports an event held?"""
    b = blocks[i]
    if heads_no_article(b.text):
        return False
    nxt = next((j for j in range(i + 1, min(i + 1 + reach, len(blocks))) if blocks[j].kind is not BlockKind.HEADING), None)
    return nxt is not None and _REPORTED_EVENT.search(blocks[nxt].text[:200]) is not None


HEADLINE_PROSE_MIN = 80  # characters of prose a headline stands over (two lines of a column)
HEADLINE_LEN = (6, 60)  # a headline's length, white space aside
_CONTINUES = re.compile(r"^[はがをにでともへのや、。，．」』)）】]")  # a sentence running on from the line above
_BRACKETS = ("「」", "『』", "()", "（）", "【】")
_WORD_CHARS = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji


def _balanced(text: str) -> bool:
    """Does every bracket opened in `text` close in it, and none close that did not open? A line
    cut from a column's wrapped sentence (`関する事業」`, `『実行委員会』)」`) is no headline."""
    for o, c in _BRACKETS:
        depth = 0
        for ch in text:
            depth += (ch == o) - (ch == c)
            if depth < 0:
                return False
        if depth:
            return False
    return True


def headline_over_prose(blocks: list[Block], i: int, check_above: bool = True) -> bool:
    """Is heading `i` a headline standing right over its article's prose, in text with no
    typography: a whole phrase of words (its brackets balanced, not running on from the line
    above; no caption, notice, framing head, `…について` title or signature in kana, `こんのななみ`), the
    text above it ending a sentence or being no prose, and the block under
    it a paragraph that opens a sentence of its own, with HEADLINE_PROSE_MIN characters or more of
    prose down to the next head? `check_above` False: the block above is known to be no prose
    (an event's title block ending with its dates)."""
    b = blocks[i]
    t = _flat(b.text)
    if b.kind is not BlockKind.HEADING or not HEADLINE_LEN[0] <= len(t) <= HEADLINE_LEN[1]:
        return False
    if heads_no_article(b.text) or t.endswith("について") or not _balanced(t) or _CONTINUES.match(t) or is_pen_name(t):
        return False
    if len(_WORD_CHARS.findall(t)) < HEADLINE_LEN[0] // 2:
        return False  # figures and dates (`R7.6.19 R7.8.21`), not words
    if check_above and i and blocks[i - 1].kind is BlockKind.PARAGRAPH and not _SENTENCE_END.search(blocks[i - 1].text):
        return False  # a sentence wrapped over a picture or a column's edge, not a headline
    if i + 1 >= len(blocks):
        return False
    under = blocks[i + 1]
    body = under.text.strip()
    if under.kind is not BlockKind.PARAGRAPH or _CONTINUES.match(body):
        return False
    # the prose may run over a photo's caption (`↑山紫水明シリーズ車内の様子。`): its paragraphs
    # up to the next head count together
    prose = 0
    for b in blocks[i + 1 :]:
        if b.kind is not BlockKind.PARAGRAPH:
            break
        prose += len(_flat(b.text))
    return prose >= HEADLINE_PROSE_MIN


def has_typography(blocks: list[Block]) -> bool:
    """Does some heading have a level (a font size, a markdown mark)? Plain text has none."""
    return any(b.heading is not None and b.heading.level is not None for b in blocks)


def with_headlines_in_unopened_runs(outline: Outline, labels: list[str]) -> list[str]:
    """In text with no typography (no heading has a level), where the model reads a run of blocks
    as inside a case but opens none (`I` after `O` or at the start: a feature's articles, their
    heads set like any other line), each
    headline standing right over its prose (`headline_over_prose`) opens a case; the blocks before
    the first (a feature's banner and lead) stay outside."""
    blocks = outline.blocks
    if has_typography(blocks):
        return labels  # typography or markdown marks set the heads apart: the model reads them
    out = list(labels)
    i = 0
    while i < len(out):
        if out[i] != "I" or (i and out[i - 1] in ("B", "I")):
            i += 1
            continue
        z = next((j for j in range(i, len(out)) if out[j] != "I"), len(out))
        for k in range(i, z):
            if headline_over_prose(blocks, k):
                out[k] = "B"
        i = z
    return out


_QUOTED = re.compile(r"「([^「」]{3,})」")


def names_what_article_told(head: str, article: list[Block]) -> bool:
    """Does a headline quote a name (`「トークセッション」`) that the article open above it already
    told of? Then it heads a part of that article (its talk session), not an article of its own."""
    told = "".join(_flat(b.text) for b in article)
    return any(q in told for q in _QUOTED.findall(_flat(head)))


def without_told_subheads(outline: Outline, labels: list[str]) -> list[str]:
    """In text with no typography, a case opened at a headline that quotes what the case right
    above it told of (`names_what_article_told`: `作家と語ろう!「トークセッション」` under an
    exhibition's article that announced its talk session) continues that case: a sub-head set
    like any line, which typography would have shown smaller."""
    blocks = outline.blocks
    if has_typography(blocks):
        return labels
    out = list(labels)
    opened = None
    for k, lab in enumerate(labels):
        if lab == "B":
            if opened is not None and names_what_article_told(blocks[k].text, blocks[opened:k]):
                out[k] = "I"
                continue
            opened = k
        elif lab != "I":
            opened = None
    return out


def with_reported_articles(outline: Outline, labels: list[str]) -> list[str]:
    """A heading the model left outside any case (`O`, as it often does right after a notice) opens
    a case when it sits at the level of cases the model opened and the text under it reports an
    event held (`8月1日(木)、…が開設されました`), unless it is a notice or a framing head."""
    blocks = outline.blocks
    levels = {head_key(b) for b, lab in zip(blocks, labels) if lab == "B"} - {None}
    out = list(labels)
    for i, b in enumerate(blocks):
        if out[i] != "O" or b.kind is not BlockKind.HEADING or head_key(b) not in levels:
            continue
        if not reports_event(blocks, i):
            continue
        out[i] = "B"
        for j in range(i + 1, len(blocks)):
            if blocks[j].kind is BlockKind.HEADING or out[j] != "O":
                break
            out[j] = "I"
    return out


CONTINUATION_LOOKBACK_PAGES = 3  # a case titled `…(続き)` began at most this many pages before


SIGNED_REACH = 3  # a byline sits at most this many blocks under its headline
SIGNED_SKIP_MAX = 40  # ...past short blocks only (a column's name, a lead's first line set before it)
SIGNED_PROSE_REACH, SIGNED_PROSE_MIN = 2, 60  # and the report's prose starts right under the byline


def signed_article(blocks: list[Block], i: int) -> int | None:
    """The byline under heading `i` when the heading is a signed article's headline (a newsletter's
    column, a staff member's report: `「7月から着任しました!!」` over `地域おこし協力隊 関 はずき`),
    else None. Notices, framing heads, particulars, banners and bylines themselves head no article."""
    b = blocks[i]
    if b.kind is not BlockKind.HEADING or len(b.text.strip()) > 60 or heads_no_article(b.text):
        return None
    for j in range(i + 1, min(i + 1 + SIGNED_REACH, len(blocks))):
        if is_byline(blocks[j].text):
            # the report follows its byline: a name over a list (an exhibition's artists, a table)
            # signs nothing
            after = blocks[j + 1 : j + 1 + SIGNED_PROSE_REACH]
            prose = any(a.kind is BlockKind.PARAGRAPH and len(a.text) >= SIGNED_PROSE_MIN and a.page == b.page
                        for a in after)
            return j if prose else None
        if len(blocks[j].text.strip()) > SIGNED_SKIP_MAX or blocks[j].page != b.page:
            return None
        if blocks[j].kind is BlockKind.HEADING and _HEADLINE.search(blocks[j].text.strip()):
            return None  # the headline is under it: heading `i` is the column's banner
    return None


_HEADLINE = re.compile(r"^「.*」$|[!！]$")


def with_signed_articles(outline: Outline, labels: list[str]) -> list[str]:
    """A signed article's headline opens a case (`signed_article`): a newsletter prints its staff's
    reports one after another under one column banner (`地域おこし協力隊活動報告`), which the model
    or the page reading opens once. Where the case opens at a head right over a signed headline,
    with no body between, that head is the column's banner over its first report: the banner
    titles a section, the report's headline its case (corpus/segmentation/README.md)."""
    blocks = outline.blocks
    parts = part_labels(outline)
    out = list(labels)
    for i in range(len(blocks)):
        if out[i] == "B" or i in parts:
            continue
        byline = signed_article(blocks, i)
        if byline is None:
            continue
        if out[i] == "I":
            k = next((k for k in range(i - 1, -1, -1) if out[k] == "B"), None)
            if k is None:
                continue
            if all(blocks[m].kind in (BlockKind.HEADING, BlockKind.NOISE) for m in range(k + 1, i)):
                if blocks[k].page != blocks[i].page or signed_article(blocks, k) is not None:
                    continue
                out[k : i] = ["S"] + ["I"] * (i - k - 1)
            out[i] = "B"
            continue
        out[i] = "B"
        for j in range(i + 1, len(blocks)):
            if out[j] != "O" or (j > byline and blocks[j].kind is BlockKind.HEADING and not not_a_head(blocks[j].text)):
                break
            out[j] = "I"
    return out


# Marks a newsletter sets before each of a page's articles (`◇今年も開催!…`, `■…`).
ARTICLE_MARKS = frozenset({"diamond", "square", "dot", "star", "triangle"})
SIBLING_BODY_MIN = 60  # characters from a marked head to the next head of its mark


def with_marked_siblings(outline: Outline, labels: list[str]) -> list[str]:
    """Where the model opens a case at a head with an article mark (`◇`, `■`), the heads with the same
    mark and level on the same page open one too when text follows them (`SIBLING_BODY_MIN`): a page
    of `◇` articles is read one way, not every other one. Notices, particulars and repeated labels
    do not."""
    blocks = outline.blocks
    out = list(labels)
    repeated = _repeated_heads(blocks)
    opened = {(b.page, b.family, head_key(b)) for b, lab in zip(blocks, labels)
              if lab == "B" and b.kind is BlockKind.HEADING and b.family in ARTICLE_MARKS}
    for i, b in enumerate(blocks):
        # inside the case before it, or read as a section head
        if out[i] not in ("I", "S") or b.kind is not BlockKind.HEADING or (b.page, b.family, head_key(b)) not in opened:
            continue
        t = b.text.strip()
        if is_notice_head(t[:40]) or not_a_head(t) or _flat(b.text) in repeated:
            continue
        end = i + 1
        while end < len(blocks) and blocks[end].page == b.page and out[end] != "B" and not (
                blocks[end].family == b.family and head_key(blocks[end]) == head_key(b)):
            end += 1
        if sum(len(blocks[j].text) for j in range(i + 1, end)) >= SIBLING_BODY_MIN:
            out[i] = "B"
            # its text is its body, whatever the model read in its lines' size
            out[i + 1 : end] = ["I"] * (end - i - 1)
    return out


NUMBERED_SIBLINGS_MIN = 2  # cases the model opened at one numbering family and level


def with_numbered_siblings(outline: Outline, labels: list[str]) -> list[str]:
    """Where the model opens cases at heads of one numbering family and level (`①日立製作所:…`,
    `1.…`) NUMBERED_SIBLINGS_MIN times or more, a head of the same family and level that it left
    outside any case (after a notice, whose `O` the model tends to carry on) opens one too when text
    follows it (`SIBLING_BODY_MIN`): the numbering says it is the next of the same kind. A head
    inside a case is left alone (a measure's `①` under its goal, a case sheet's `○` sub-projects),
    and so are notices, particulars and repeated labels."""
    blocks = outline.blocks
    out = list(labels)
    repeated = _repeated_heads(blocks)
    opened = Counter((b.family, head_key(b)) for b, lab in zip(blocks, labels)
                     if lab == "B" and _numbering_head(b))
    for i, b in enumerate(blocks):
        if out[i] != "O" or b.kind is not BlockKind.HEADING or \
                opened.get((b.family, head_key(b)), 0) < NUMBERED_SIBLINGS_MIN:
            continue
        t = b.text.strip()
        if heads_no_article(t) or _flat(b.text) in repeated:
            continue
        end = i + 1  # its text: down to the next head of its family and level, or a notice
        while end < len(blocks) and out[end] == "O" and not (
                blocks[end].kind is BlockKind.HEADING
                and ((blocks[end].family, head_key(blocks[end])) == (b.family, head_key(b))
                     or heads_no_article(blocks[end].text))):
            end += 1
        if sum(len(blocks[j].text) for j in range(i + 1, end)) >= SIBLING_BODY_MIN:
            out[i] = "B"
            out[i + 1 : end] = ["I"] * (end - i - 1)
    return out


_LEADING_NUMBER = re.compile(r"^[(（]?\s*(\d{1,3})(?!\d)")


def numbering_ordinal(text: str) -> int | None:
    """The number a numbered head carries (`③…` 3, `2.…` 2, `(4)…` 4), or None."""
    t = text.strip()
    if t[:1] and t[0] in CIRCLED:
        return CIRCLED.index(t[0]) + 1
    m = _LEADING_NUMBER.match(t)
    return int(m.group(1)) if m else None


def with_numbered_successors(outline: Outline, labels: list[str]) -> list[str]:
    """A numbered head the model read inside the case its predecessor opened (`②アステラス製薬:…`
    under `①第一生命保険:…`, same family, same level, the next number, text under it) opens a case
    of its own: the numbering says it is the next of the same kind. A head whose number does not
    continue its family's last opened one (a measure's `①` under its goal) is left alone."""
    blocks = outline.blocks
    out = list(labels)
    repeated = _repeated_heads(blocks)
    last_opened: dict[tuple, int] = {}
    for i, b in enumerate(blocks):
        if not _numbering_head(b):
            continue
        key = (b.family, head_key(b))
        n = numbering_ordinal(b.text)
        if out[i] == "I" and n is not None and key in last_opened and n == last_opened[key] + 1 \
                and not heads_no_article(b.text) and _flat(b.text) not in repeated:
            end = next((j for j in range(i + 1, len(blocks)) if out[j] != "I" or (
                blocks[j].kind is BlockKind.HEADING and (blocks[j].family, head_key(blocks[j])) == key)), len(blocks))
            if sum(len(blocks[j].text) for j in range(i + 1, end)) >= SIBLING_BODY_MIN:
                out[i] = "B"
        if out[i] == "B" and n is not None:
            last_opened[key] = n
    return out


STRUCTURE_LABELS_MIN = 2  # repeated part labels two numbered units share, in order


def _part_sequence(blocks: list[Block], repeated: set[str], lo: int, hi: int) -> list[str]:
    flat = (_flat(blocks[j].text) for j in range(lo, hi) if blocks[j].kind is BlockKind.HEADING)
    return [t for t in flat if t in repeated]


def with_structured_units(outline: Outline, labels: list[str]) -> list[str]:
    """Within one case, numbered heads of one family and level (`① 新エネルギー産業…`, `② 新規就農者…`)
    each followed by the same sequence of a report's part labels (`重要業績評価指標`, `(KPI)`,
    `<主な事業>`: STRUCTURE_LABELS_MIN or more, printed once per unit) are units of one kind: a
    strategy's measures under their goal. The first stays in the case its goal's banner opens; each
    further one opens its own. Part-label families (`○` sub-projects, `✓`, `【民】`) never do."""
    blocks = outline.blocks
    out = list(labels)
    repeated = _repeated_heads(blocks)
    opened = [i for i, lab in enumerate(labels) if lab == "B"] + [len(blocks)]
    for a, z in zip(opened, opened[1:]):
        runs: dict[tuple, list[int]] = defaultdict(list)
        for j in range(a + 1, z):
            b = blocks[j]
            if _numbering_head(b) and _flat(b.text) not in repeated and not heads_no_article(b.text):
                runs[(b.family, head_key(b))].append(j)
        for members in runs.values():
            if len(members) < 2:
                continue
            ends = members[1:] + [z]
            first = _part_sequence(blocks, repeated, members[0] + 1, ends[0])
            if len(first) < STRUCTURE_LABELS_MIN:
                continue
            for m, e in zip(members[1:], ends[1:]):
                if _part_sequence(blocks, repeated, m + 1, e)[: len(first)] == first:
                    out[m] = "B"
    return out


TEMPLATE_UNITS_MIN = 3  # numbered heads printing the same part labels, in order, under each


def _family_rank(b: Block) -> int:
    return _ORDER.index(b.family) if b.family in _ORDER else len(_ORDER)


def _unit_ends(blocks: list[Block], members: list[int]) -> list[int]:
    """Where each numbered unit ends: at the next numbered head of its family or of one above it."""
    ends = []
    for m in members:
        rank = _family_rank(blocks[m])
        ends.append(next((j for j in range(m + 1, len(blocks))
                          if _numbering_head(blocks[j]) and _family_rank(blocks[j]) <= rank), len(blocks)))
    return ends


def templated_runs(blocks: list[Block]) -> list[list[int]]:
    """Runs of numbered heads of one family and level (`1.…` goals, `① …` measures) each followed,
    before the next numbered head, by the same first STRUCTURE_LABELS_MIN part labels, each printed
    once (`[現状と課題]`, `[具体的な施策]`; `◎施策の目標`, `現状値`): at least TEMPLATE_UNITS_MIN units
    written to one template. A label repeated under one head (`<取り組みのイメージ図>` under each
    of a section's cases) is no template of the head's own. A head's text may recur (a measure named in the strategy's overview
    table too): the template under it is what counts."""
    repeated = _repeated_heads(blocks)
    by_key: dict[tuple, list[int]] = defaultdict(list)
    for i, b in enumerate(blocks):
        if _numbering_head(b) and not heads_no_article(b.text):
            by_key[(b.family, head_key(b))].append(i)
    numbered = [i for i, b in enumerate(blocks) if _numbering_head(b)] + [len(blocks)]
    runs = []
    for members in by_key.values():
        groups: dict[tuple, list[int]] = defaultdict(list)
        for m in members:
            # the unit's own preamble: down to the next numbered head of any family
            labels = _part_sequence(blocks, repeated, m + 1, next(j for j in numbered if j > m))
            if len(labels) >= STRUCTURE_LABELS_MIN and len(set(labels)) == len(labels):
                groups[tuple(labels[:STRUCTURE_LABELS_MIN])].append(m)
        runs += [g for g in groups.values() if len(g) >= TEMPLATE_UNITS_MIN]
    return sorted(runs)


def with_templated_units(outline: Outline, labels: list[str]) -> list[str]:
    """A document whose units are written to a template (`templated_runs`) holds its cases at the
    innermost templated level: each unit opens a case, whatever the model read there (in plain
    text a strategy's `①` measures look like any other line). Where an outer templated level
    encloses them (a strategy's goals over its measures), the outer head opens the case of its
    first unit, the unit's preamble (`[現状と課題]`) being that case's. The last unit runs to the
    next numbered head of a family above the outer level's, or to the document's end. Where the
    labels already hold more cases under the units than there are units, the units are sections
    and the labels stand. Before the first unit no case opens (an introduction's heads, a unit's
    title listed in an overview table or a contents page)."""
    blocks = outline.blocks
    runs = templated_runs(blocks)
    if not runs:
        return labels
    spans = {id(run): list(zip(run, _unit_ends(blocks, run))) for run in runs}

    def encloses(run: list[int]) -> bool:
        inside = {i for r in runs if r is not run for i in r}
        return any(a < m < z for a, z in spans[id(run)] for m in inside)

    outer = [run for run in runs if encloses(run)]
    heads = sorted(i for run in runs if run not in outer for i in run)
    if not heads:
        return labels
    for run in outer:
        for a, z in spans[id(run)]:
            first = next((h for h in heads if a < h < z), None)
            if first is not None:
                heads[heads.index(first)] = a
    top = min((blocks[run[0]].family for run in runs), key=_ORDER.index)
    end = next((j for j in range(max(heads) + 1, len(blocks))
                if _numbering_head(blocks[j]) and _family_rank(blocks[j]) < _ORDER.index(top)), len(blocks))
    heads = sorted(set(heads))
    if sum(lab == "B" for lab in labels[heads[0] : end]) > len(heads):
        return labels  # the model holds more cases under the units than there are units: the
        # template is a section's (each section's preamble printed to one template), not a case's
    out = list(labels)
    for h, z in zip(heads, heads[1:] + [end]):
        out[h] = "B"
        out[h + 1 : z] = ["I"] * (z - h - 1)
    # the units hold the document's cases: before the first, the heads the model opened (an
    # introduction's `[…の検証]`, a unit's title listed in an overview table or a contents page)
    # open none
    for i in range(heads[0]):
        if out[i] in ("B", "I"):
            out[i] = "O"
    return out


def with_wrapped_titles(outline: Outline, labels: list[str]) -> list[str]:
    """A case the model opens at a title's second line (`学・企業との情報交換・交流の場の構築` under
    `④北陸経済連合会:会員大`, a title wrapped at the column's edge: the next line, the same level,
    no numbering of its own; or its rest at the top of the next page, `wrapped_over_page_turn`)
    opens at its first line, which carries the numbering."""
    blocks = outline.blocks
    out = list(labels)
    for i in range(1, len(blocks)):
        b, head = blocks[i], blocks[i - 1]
        if out[i] != "B" or out[i - 1] == "B" or b.family is not None or not _numbering_head(head) \
                or not (is_subtitle(head, b) or wrapped_over_page_turn(head, b)) or heads_no_article(head.text):
            continue
        out[i - 1], out[i] = "B", "I"
    return out


_RUNS_ON = re.compile(r"[\u3041-\u3096、・]$")  # a phrase cut before its end: `…の保存・継承等による`


def wrapped_over_page_turn(head: Block, b: Block) -> bool:
    """Is heading `b`, the first block of its page, the rest of title `head`, the last block of the
    page before: the same level, and `head` cut mid-phrase (it ends in kana or `、`, not a noun, a
    bracket or `!`)?"""
    return (head.kind is BlockKind.HEADING and b.kind is BlockKind.HEADING and b.page_first
            and head.page is not None and b.page == head.page + 1 and head_key(b) == head_key(head)
            and bool(_RUNS_ON.search(head.text.strip())) and not not_a_head(b.text) and not is_byline(b.text))


# A sentence that says the pages after it introduce something: a deictic opener for this issue,
# booklet or feature (`今回は`, `本冊子では`, `以下では`), then `…(ご)紹介します`. An exhibition
# introducing its subject (`本展示では、…をご紹介いたします`) is no such lead.
_INTRODUCES = re.compile(r"(?:今回|今号|本号|本特集|特集では|本冊子|本書|本誌|本事例集|本資料|ここでは|以下では|以下に|次ページ)"
                         r"[^。!！]{0,80}?(?:ご|御)?紹介(?:します|いたします|しましょう)")


def _feature_lead(blocks: list[Block], i: int) -> int | None:
    """The lead paragraph under heading `i` (at most one block between) when it says it
    introduces what follows."""
    if blocks[i].kind is not BlockKind.HEADING:
        return None
    lead = next((j for j in range(i + 1, min(i + 3, len(blocks))) if blocks[j].kind is BlockKind.PARAGRAPH), None)
    return lead if lead is not None and _INTRODUCES.search(blocks[lead].text) else None


def with_feature_articles(outline: Outline, labels: list[str]) -> list[str]:
    """In text with no typography, a feature the model left outside any case: under a head whose
    lead says it introduces what follows (`今回は、…取り組みについてご紹介します。`), the headlines
    over prose (`headline_over_prose`) in the run of blocks outside any case after the lead open
    the feature's articles, and the head is their section."""
    blocks = outline.blocks
    if has_typography(blocks):
        return labels  # typography or markdown marks set the heads apart: the model reads them
    out = list(labels)
    for i in range(len(blocks)):
        lead = _feature_lead(blocks, i) if out[i] == "O" else None
        if lead is None or any(out[k] != "O" for k in range(i, lead + 1)):
            continue
        if lead - 1 > i and blocks[lead - 1].kind is BlockKind.HEADING:
            continue  # the head right over the lead is the feature's (this one a masthead over it)
        # the run ends where the model's reading resumes, or at matter that is no case
        z = next((k for k in range(lead + 1, len(out)) if out[k] != "O" or is_no_case_head(blocks[k].text[:60])),
                 len(out))
        heads = [k for k in range(lead + 1, z) if headline_over_prose(blocks, k)]
        if heads and not any(blocks[k].kind is BlockKind.PARAGRAPH for k in range(lead + 1, heads[0])):
            # (the first article follows the lead, a contact line at most between: prose there
            # means the lead introduced that prose, an article's messages, not articles)
            out[i] = "S"
            for k in range(heads[0], z):
                out[k] = "B" if k in heads else "I"
    return out


def without_feature_leads(outline: Outline, labels: list[str]) -> list[str]:
    """A head whose first paragraph says it introduces what follows (`今回は、…についてご紹介します。`,
    `本冊子では、…取組を紹介します。`) heads a feature or a booklet, not a case: it is a section.
    In text with no typography the headlines under it then open their articles
    (`with_headlines_in_unopened_runs`; `with_feature_articles` where the model left the feature
    outside any case)."""
    blocks = outline.blocks
    out = with_feature_articles(outline, labels)
    changed = False
    for i, b in enumerate(blocks):
        if out[i] == "B" and _feature_lead(blocks, i) is not None:
            out[i] = "S"
            changed = True
    return with_headlines_in_unopened_runs(outline, out) if changed else out


def with_bodied_cases(outline: Outline, labels: list[str]) -> list[str]:
    """A case has a body: where a case opens and the next one opens right under it on the same page
    (a catch line over its title), the two are one case, titled by the first; over a signed report's
    headline (`signed_article`) the first is the column's banner, a section. A case that opens
    right over a notice's head, with no body between, is that notice's title: no case."""
    blocks = outline.blocks
    out = list(labels)
    for i, b in enumerate(blocks):
        if out[i] != "B":
            continue
        k = i + 1
        while k < len(blocks) and blocks[k].page == b.page and blocks[k].kind is BlockKind.NOISE:
            k += 1
        if k < len(blocks) and out[k] == "B" and blocks[k].page == b.page and not is_subtitle(b, blocks[k]):
            # (a head set on the next line at the same level is the title's subtitle: `assemble` joins it)
            if signed_article(blocks, k) is not None and signed_article(blocks, i) is None:
                out[i] = "S"  # a column's banner over its first signed report: the report is the case
                continue
            out[i + 1 : k + 1] = ["I"] * (k - i)
        elif k < len(blocks) and out[k] == "O" and blocks[k].page == b.page and blocks[k].kind is BlockKind.HEADING \
                and is_notice_head(blocks[k].text.strip()[:40]):
            out[i] = "O"  # the title of the notice right under it (`第30回YOSAKOIソーラン` over `oshirase 祭り 市民審査員募集`)
    return out


def from_banners(outline: Outline, labels: list[str]) -> list[str]:
    """A case the model opens at a column's romanised banner (`topics`) opens at the banner's first
    article instead: the next heading on the page that is no banner, notice or particulars."""
    blocks = outline.blocks
    out = list(labels)
    for i, b in enumerate(blocks):
        if out[i] != "B" or not is_romanised_banner(b.text):
            continue
        nxt = next((j for j in range(i + 1, len(blocks))
                    if blocks[j].page == b.page and blocks[j].kind is BlockKind.HEADING
                    and not is_romanised_banner(blocks[j].text) and not not_a_head(blocks[j].text)
                    and not is_notice_head(blocks[j].text[:40])), None)
        if nxt is None or any(out[k] == "B" for k in range(i + 1, nxt + 1)):
            continue
        out[i] = "O"
        out[i + 1 : nxt] = ["O"] * (nxt - i - 1)
        out[nxt] = "B"
    return out


LEVELLED_SHARE = 0.8  # of the cases opened at heads with a typographic or markdown level


def without_unlevelled_cases(outline: Outline, labels: list[str]) -> list[str]:
    """Where the cases open at heads with a level (a font size, a markdown mark) all but rarely, a
    case opened at a line with no level and no numbering mark is a sub-head set in the text's own
    size (`地域のみなさんと交流!`): it stays in the case above it."""
    blocks = outline.blocks
    opened = [i for i, lab in enumerate(labels) if lab == "B" and blocks[i].kind is BlockKind.HEADING]
    levelled = [i for i in opened if blocks[i].heading is not None and blocks[i].heading.level is not None]
    if len(levelled) < 3 or len(levelled) < LEVELLED_SHARE * len(opened):
        return labels
    out = list(labels)
    for i in opened:
        if head_key(blocks[i]) == "plain" and any(out[k] == "B" for k in range(i)):
            out[i] = "I"
    return out


def with_newsletter_reading(outline: Outline, labels: list[str], rule_read: bool = False) -> list[str]:
    """The rules every reading ends with, whatever decided (the model or one case per page): a case
    opens at its title's first line; the next of a numbering opens a case like its siblings', and so
    does each further unit of a case that prints the same part labels per unit (a strategy's
    measures); a sub-head in the text's own size opens no case, nor do a notice's items; an event programme
    announced with its particulars is one, and so is an event's title block with its dates over its
    article; a column's banner heads none; a page of marked articles
    is read one way; a newsletter's signed reports are each a case; a case has a body; in plain
    text a feature's articles open where its lead introduces them and a sub-head quoting what its
    article told of stays in it; and a
    numbered head read inside its predecessor's case opens its own when its number is the next.
    `rule_read`: the labels are a rule set's entries (a notice closes at the next head of its
    own mark, `without_notice_regions`)."""
    labels = with_numbered_siblings(outline, with_wrapped_titles(outline, labels))
    labels = with_structured_units(outline, labels)
    labels = without_notice_regions(outline, without_unlevelled_cases(outline, labels), close_at_mark=rule_read)
    labels = from_banners(outline, with_announced_events(outline, with_event_title_blocks(outline, labels)))
    labels = with_bodied_cases(outline, with_signed_articles(outline, with_marked_siblings(outline, labels)))
    labels = without_told_subheads(outline, without_feature_leads(outline, labels))
    return with_numbered_successors(outline, labels)


def with_continued_cases(outline: Outline, labels: list[str]) -> list[str]:
    """A heading marked as a continuation (`…(続き)`, `(2/3)`), or repeating a heading of an earlier
    page exactly (`base.same_title`), proves that the heading it continues opened a case: where the
    model left that heading outside any case (after a run of pages about no case, a cover or
    contents) and opened the case only at its continuation, the case opens at the heading it
    continues, and the continuation stays inside it."""
    out = list(labels)
    blocks = outline.blocks
    for i, (b, lab) in enumerate(zip(blocks, labels)):
        if lab != "B" or b.kind is not BlockKind.HEADING:
            continue
        marked = bool(CONTINUED.search(b.text))
        if not marked and b.page is None:
            continue
        for j in range(i - 1, -1, -1):
            bj = blocks[j]
            if b.page is not None and bj.page is not None and b.page - bj.page > CONTINUATION_LOOKBACK_PAGES:
                break
            if out[j] == "B":
                break  # a case is open: `assemble` folds the continuation into it if it continues it
            if bj.kind is BlockKind.HEADING and (
                    continues(b.text, bj.text) if marked else same_title(b.text, bj.text) and bj.page != b.page):
                out[j] = "B"
                out[j + 1 : i + 1] = ["I"] * (i - j)
                break
    return out


# A case's part labels print once per case: a mark of a case's parts (`[現状と課題]`, `✓概要`,
# `＜KPI＞`) on the same text PART_LABEL_REPEATS times or more labels parts, whatever the model reads.
def part_labels(outline: Outline) -> set[int]:
    """Blocks that label a part of a case: heading candidates in a part-label family
    (SUB_HEAD_FAMILIES) whose text recurs PART_LABEL_REPEATS times or more. A case's own name never
    recurs so often; a title repeated on a case's continuation slides is not in those families."""
    seen: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(outline.blocks):
        if b.kind is BlockKind.HEADING and b.family in SUB_HEAD_FAMILIES:
            seen[_flat(b.text)].append(i)
    return {i for idx in seen.values() if len(idx) >= PART_LABEL_REPEATS for i in idx}


_CONTACT_LINE = re.compile(r"☎|℡|TEL\s*[:：]?\s*\d|電話\s*[:：]?\s*\d")
_IN_BRACKETS = re.compile(r"^[(（〈《][^()（）]{1,40}[)）〉》]$")
# a reference mark opens an annotation to what precedes it (`※運行車両が変更となる場合があります。`)
# a sentence ends inside the line and another runs on: a line of prose (a PDF's wrapped body line
# set at a heading's size), never a heading
_PROSE_INSIDE = re.compile(r"。[^」』)）\s]{2,}")
_ANNOTATION = re.compile(r"^[※＊*]|^[●■◆◇○]?\s*(?:追記|追伸)|^P\.?S\.?(?:\s|$)")


def not_a_head(text: str) -> bool:
    """Is a block's text something that never heads a case, whatever the model reads in its shape:
    an event's particulars, an issue's masthead, a photo's caption (`patterns.is_field_line`), a
    contact line, a name in brackets standing alone (`(名寄市民文化センター)`), an annotation or a
    postscript (`※…`, `●追記●…`), an article's byline (`patterns.is_byline`), a line of prose (a
    sentence ends inside it and another runs on)?"""
    t = text.strip()
    return (is_field_line(t[:80]) or bool(_CONTACT_LINE.search(t[:60])) or bool(_IN_BRACKETS.match(t))
            or bool(_ANNOTATION.match(t)) or is_byline(t) or bool(_PROSE_INSIDE.search(t)))


def under_read(outline: Outline, labels: list[str]) -> bool:
    """Has the model missed a topic-paged document's layout? It has when it opens cases on too few
    of its pages, or when it opens no more cases than there are topic pages, fewer than a third of
    them at a page's opening heading and half of them at marks that label a case's parts: it is
    reading sub-headings (`[現状と課題]`, `✓概要`) as cases, and the topics are the pages. A
    correct reading never triggers it (`tests/test_topic_pages.py` checks the gold readings)."""
    heads = topic_pages(outline)
    if not heads:
        return False
    opened = sum(lab == "B" for lab in labels)
    on_page_heads = sum(labels[i] == "B" for i in heads)
    on_labels = sum(lab == "B" and b.family in SUB_HEAD_FAMILIES for b, lab in zip(outline.blocks, labels))
    return opened < UNDER_READ_SHARE * len(heads) or (
        opened <= len(heads) and on_page_heads < MID_PAGE_SHARE * opened and on_labels * 2 >= opened)


# A topic page about no case: statistics, definitions, contents, notices, contacts, a closing slide.
_NOT_A_CASE_PAGE = re.compile(NON_CASE_HEAD_WORDS + r"|参考|データ|統計|定義|用語|連絡先|ご清聴|おわりに|まとめ|Thank", re.I)


_NUMBERED = ("roman", "chapter", "dot_num", "hyphen_num", "paren_num", "case_no", "circled")


def section_dividers(page_heads: list[Block]) -> list[bool]:
    """Which topic pages divide sections rather than hold a case: when at least two pages are headed
    in one numbering family (`1.` `2.`), the pages headed in a family above it (`I.` `II.`, `第1章`)
    open sections, and so do the unnumbered pages that follow such a divider up to the next page of
    the case family (the section's purpose, period or analysis pages)."""
    fams = [b.family if b.family in _NUMBERED else None for b in page_heads]
    counts = {f: fams.count(f) for f in set(fams) if f is not None and fams.count(f) >= 2}
    if len(counts) < 2:
        return [False] * len(page_heads)
    case_family = max(counts, key=lambda f: (counts[f], _ORDER.index(f)))
    out, in_divider = [], False
    for f in fams:
        if f is not None and _ORDER.index(f) < _ORDER.index(case_family):
            in_divider = True
        elif f == case_family:
            in_divider = False
        out.append(in_divider)
    return out


def too_few_opened(outline: Outline, labels: list[str]) -> bool:
    """The first of `under_read`'s two cases: the model opened cases on too few of the topic pages
    (its mid-page starts may still be right; it has not read that the pages open cases)."""
    heads = topic_pages(outline)
    return bool(heads) and sum(lab == "B" for lab in labels) < UNDER_READ_SHARE * len(heads)


_HEADLINE_END = re.compile(r"[!！♪]\s*$")
HEADLINE_BODY_MIN = 100  # characters of prose under a page's second headline, and above it


def _second_headline(blocks: list[Block], labels: list[str], k: int) -> bool:
    """Is heading `k` a headline (`…駆け抜けます!`) over prose of its own, below a page case that
    already has prose: a newsletter page's second article?"""
    b = blocks[k]
    t = b.text.strip()
    if not _HEADLINE_END.search(t) or len(t) > 60 or is_notice_head(t[:40]) or not_a_head(t):
        return False
    below = 0
    for j in range(k + 1, len(blocks)):
        if blocks[j].page != b.page or blocks[j].kind is BlockKind.HEADING:
            break
        below += len(blocks[j].text)
    start = next((j for j in range(k - 1, -1, -1) if labels[j] == "B"), None)
    above = 0 if start is None else sum(len(blocks[j].text) for j in range(start + 1, k)
                                        if blocks[j].kind is not BlockKind.HEADING and blocks[j].page == b.page)
    return below >= HEADLINE_BODY_MIN and above >= HEADLINE_BODY_MIN


# Words that name a part of a case on a slide or sheet of its own: `成果と今後の課題`, `主な取組`,
# `事業の概要`, `東川町の取組内容`.
_PART_TITLE = re.compile(r"取組|取り組み|成果|課題|今後|概要|背景|効果|実績|内容|展開|目的|経緯|体制|特徴|ポイント|KPI|"
                         r"ソフト事業|ハード事業|主な事業|事業費|スケジュール")
# `東川町の主な取組`: what the page is about (the case's town or body), then its part
_OWNER_PART = re.compile(r"^(?P<owner>.{2,20}?)(?:の|における|での|による)")


def continues_on_part_page(title: str, previous: str, repeated: set[str]) -> bool:
    """Is a topic page titled `title` a part of the case whose first page is titled `previous` (a
    lecture deck's case over several slides)? It is when its title names a part of a case
    (`成果と今後の課題`, `主な取組`) and either recurs on several topic pages (a part label, never a
    case's own name) or says whose part it is in words of the case's title (`東川町の主な取組`
    under `北海道東川町 写真の町による移住促進`)."""
    if not _PART_TITLE.search(title) or len(title) > 30:
        return False
    if title in repeated and previous not in repeated and not names_someone(title):
        return True  # a part label under a case's own (never repeated) title
    # the owner must be a place or a body (`東川町`, `株式会社ABC`), not any word the case's title
    # also uses (`人材の確保` under `…人材育成…`)
    m = _OWNER_PART.match(title)
    return bool(m) and names_someone(m.group("owner")) and m.group("owner") in previous


_SOURCE = re.compile(r"(?:出典|出所|資料)\s*[:：]")
STATISTICS_DIGIT_SHARE = 0.2  # digits among a statistics page's characters (white space aside)


def statistics_page(title: str, body: list[str]) -> bool:
    """Is a topic page a statistics slide (`人口と高齢化率` over figures and `出典:総務省「国勢調査」`)?
    It cites a source, its text before the source is largely figures, and its title names no one
    (a case's page with a KPI and its source names its town or body)."""
    cited = [_SOURCE.search(t) for t in body]
    if names_someone(title) or not any(cited):
        return False
    text = re.sub(r"\s+", "", "".join(t[: m.start()] if m else t for t, m in zip(body, cited)))
    return bool(text) and sum(c.isdigit() for c in text) >= STATISTICS_DIGIT_SHARE * len(text)


def topic_page_labels(outline: Outline, model_labels: list[str] | None = None) -> list[str]:
    """One case per topic page: `B` at each page's opening heading, unless it repeats the previous
    page's title (a continuation slide, `（続き）`, `(2/3)`) or is titled with a part of the case
    (`continues_on_part_page`: `成果と今後の課題`, `東川町の主な取組`), which folds into the case before it.
    Pages about no case are `O` to their end: the cover (the first page, with little besides its
    heading), a page holding nothing but its heading (a divider) and pages headed as statistics,
    contents, notices, contacts or a closing."""
    blocks = outline.blocks
    labels = ["I"] * len(blocks)
    previous = None
    heads = topic_pages(outline)
    page_end = {i: next((j for j in range(i + 1, len(blocks)) if blocks[j].page_first), len(blocks)) for i in heads}
    dividers = section_dividers([blocks[i] for i in heads])
    titles = Counter(bare_title(blocks[i].text) for i in heads)
    repeated = {t for t, c in titles.items() if c >= 2}
    for n, i in enumerate(heads):
        end = page_end[i]
        if dividers[n]:
            labels[i : end] = ["O"] * (end - i)
            previous = None
            continue
        if is_masthead(blocks[i].text):
            # an issue's masthead (`広報みほん村 2024年10月号`) heads no article: the page's next
            # heading opens its case
            j = next((k for k in range(i + 1, end)
                      if blocks[k].kind is BlockKind.HEADING and not is_masthead(blocks[k].text)), None)
            if j is None:
                continue
            labels[i:j] = ["O"] * (j - i)
            i = j
        text = blocks[i].text
        title = bare_title(text)
        # a continuation page: marked so, or titled with the previous title (or a shortened one)
        if previous and (CONTINUED.search(text) or (len(title) >= 6 and previous.startswith(title))
                         or continues_on_part_page(title, previous, repeated)):
            continue
        body = sum(len(b.text) for b in blocks[i + 1 : end] if b.kind is not BlockKind.HEADING)
        # the guideline's notices are no case whoever they name (`名寄警察署`); the broader words only
        # when no one is named (not `①日立製作所:データ駆動型…`)
        off_topic = (is_no_case_head(text) or is_framing_head(bare_title(text)) or is_trend_head(text)
                     or (_NOT_A_CASE_PAGE.search(re.sub(r"\s+", "", text)) and not names_someone(text))
                     or statistics_page(text, [b.text for b in blocks[i + 1 : end]]))
        # a page holding its heading alone (a section's divider slide, `2. 取組事例`) is no case
        alone = all(b.kind is BlockKind.NOISE for b in blocks[i + 1 : end])
        # the cover: the first page, with little besides its heading or naming the publication
        # (`広報おといねっぷ`, `令和5年9月号`)
        cover = n == 0 and blocks[i].page == blocks[0].page and (
            body < 80 or any(names_publication(strip_marks(outline.lines[li].content))
                             or is_masthead(outline.lines[li].content) for b in blocks[i:end] for li in b.lines))
        if off_topic or alone or cover:
            labels[i : end] = ["O"] * (end - i)
            previous = None
            continue
        labels[i] = "B"
        previous = title
    # a notice or an editor's column under a page's article (`お知らせ`, `編集後記`) is no part of it
    for k, b in enumerate(blocks):
        if labels[k] == "I" and b.kind is BlockKind.HEADING and is_notice_head(b.text[:40]):
            labels[k] = "O"
            for m in range(k + 1, len(blocks)):
                if blocks[m].kind is BlockKind.HEADING or labels[m] != "I":
                    break
                labels[m] = "O"
    # a heading right over text that reports an event held opens an article of its own inside a
    # page's case (a newsletter page of two articles), as `with_reported_articles` reads the
    # model's labels; a banner over the heading (`topics`) does not
    for k, b in enumerate(blocks):
        if labels[k] == "I" and b.kind is BlockKind.HEADING and not b.page_first and (
                reports_event(blocks, k, reach=1) or _second_headline(blocks, labels, k)):
            labels[k] = "B"
    if model_labels is not None:
        # the model's own starts inside a topic page's case (a newsletter page of two or three
        # articles) stand beside the pages' opening heads; never at a mark that labels a case's parts
        for i, (b, lab) in enumerate(zip(blocks, model_labels)):
            if lab == "B" and labels[i] == "I" and not b.page_first and b.family not in SUB_HEAD_FAMILIES:
                labels[i] = "B"
    first = next((i for i, lab in enumerate(labels) if lab == "B"), len(labels))
    labels[:first] = ["O"] * first
    return labels


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def label_counts(labels: list[list[str]]) -> dict[str, int]:
    c = Counter(x for seq in labels for x in seq)
    return {k: c.get(k, 0) for k in LABELS}

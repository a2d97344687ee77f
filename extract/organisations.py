"""Organisations: spaCy components for GiNZA, heading rules, and name normalisation.

Three sources, in order of trust:
- `heading`: the layout names the case's organisation (`① 日立製作所：…`, `…(豊岡商工会議所)`,
  `株式会社TOMUSHI（大館商工会議所）`); `organisations_from_heading` reads it.
- `rule`: legal forms (株式会社, ㈱, 一般社団法人, NPO法人 …) and organisation heads (商工会議所,
  協議会, 大学, 機構, 財団 …) over Sudachi tokens. The `jirei_organisation_rules` component puts
  them into `doc.ents` *before* GiNZA's NER, which then predicts around them (spaCy's NER keeps
  entities already set).
- `ner`: GiNZA's ENE labels for organisations. `jirei_entity_fixes` runs after the NER and
  repairs its known errors on this kind of text (ordinals inside a name, a company name tagged
  Product_Other or Person when an organisation head or legal form ends it).

`normalise_org_name` gives the written form Jirei stores (corpus/entities/README.md "Names").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from jirei.extract.segment.patterns import split_paren_tail

# --- vocabularies ---------------------------------------------------------------------------

LEGAL_FORMS_BEFORE = (
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "一般社団法人", "一般財団法人", "公益社団法人",
    "公益財団法人", "社会福祉法人", "学校法人", "医療法人", "NPO法人", "特定非営利活動法人", "国立大学法人",
    "独立行政法人", "地方独立行政法人", "農事組合法人", "社団法人", "財団法人", "協同組合",
)
LEGAL_MARKS = ("㈱", "(株)", "㈲", "(有)", "(一社)", "(公社)", "(一財)", "(公財)", "(特非)")
LEGAL_MARK_EXPANSION = {"㈱": "株式会社", "(株)": "株式会社", "㈲": "有限会社", "(有)": "有限会社"}

# Nouns that end an organisation's name.
ORG_HEADS = (
    "商工会議所", "会議所", "商工会", "協議会", "推進会議", "会議", "協会", "連合会", "広域連合", "機構", "財団",
    "大学院", "大学", "高専", "高等専門学校", "専門学校", "高等学校", "高校", "研究所", "研究機構", "組合",
    "公庫", "銀行", "信用金庫", "信金", "公社", "事業団", "委員会", "省", "庁", "コンソーシアム", "ネットワーク",
    "クラブ", "ホールディングス", "グループ", "連盟", "振興会", "協同組合", "金庫",
)
# Words that end company names, never people's names: a Person entity ending in one is a
# company the NER mistook (`菅原工業`, `浅井農園`, `陣屋旅館`).
BUSINESS_WORDS = (
    "工業", "産業", "農園", "製油", "製作所", "製薬", "商事", "商店", "物産", "建設", "電機", "電気", "電工", "化学",
    "工務店", "旅館", "ホテル", "鉄道", "交通", "運輸", "証券", "保険", "損保", "生命", "海上", "不動産", "興産",
    "製紙", "製鉄", "食品", "酒造", "醸造", "印刷", "通信", "電力", "ガス", "自動車", "重工", "重工業", "精工",
    "技研", "システムズ", "ホールディングス", "テクノロジー", "テクノロジーズ", "ファーム", "アグリ", "組",
)

# Heads that name a part of an organisation, not an organisation (README: internal units).
UNIT_HEADS = ("部会", "事業部", "青年部", "窓口", "研究科", "ゼミ", "学部", "支店", "支社", "本部")

# Labels of GiNZA's ENE scheme that denote organisations.
ORG_LABELS = frozenset({
    "Company", "Company_Group", "Corporation_Other", "Organization_Other", "Government",
    "Public_Institution", "School", "Research_Institute", "International_Organization",
    "Political_Organization_Other", "Political_Party", "Pro_Sports_Organization",
    "Sports_Organization_Other", "Show_Organization", "Sports_League", "Military",
})

# The NER labels trusted on their own: precise enough on report text. School, Government,
# Public_Institution and the rest mostly fire on facilities, programmes and common nouns here;
# schools and government bodies come from the head rules instead.
NER_TRUSTED_LABELS = frozenset({"Company", "Company_Group", "Organization_Other", "Government"})
# What the NER calls a heading's subject when it names an organisation it does not know
# (`浅野撚糸` → Person, `えちぜん鉄道` → Railroad).
NAME_LABELS = ORG_LABELS | {"Person", "Railroad", "Name_Other"}

# Mentions that name a kind of organisation, not one organisation (README: "Generic mentions").
GENERIC = re.compile(
    r"^(?:地元|地域|地方|各地|各|県内|市内|全国|国内|海外|近隣|関係|周辺|主要|民間|大手|中堅|中小|地場|域内|県下|同|当|本|他|"
    r"我が国|わが国|国|政府|行政|自治体|地方自治体|市|県|町|村|企業|会社|団体|機関|法人|金融機関|経済団体|大学|学校|"
    r"高校|同社|当社|弊社|各社|同大学|本学|会員|事業者|事務局)*"
    r"(?:NPO|NGO|DMO|NPO法人|特定非営利活動法人|企業|会社|団体|機関|法人|大学|学校|高校|銀行|金融機関|経済団体|自治体|行政|事業者|組合|協議会|会議所|"
    r"商工会議所|商工会|省庁|事務局|グループ|ネットワーク|チーム|社|行|校)?$"
)
ORDINAL_OR_BULLET = re.compile(
    r"^[\s①-⑳❶-❿・•●○◆◇■□▶▷►\-*]+|^\(?\d{1,2}[).]\s*"
    # a chapter's Roman numeral (`II 音威子府村の…`, `Ⅲ音威子府村`, `I. `), never `IIJ` or `X線`
    r"|^(?:[IVX]{2,4}|[Ⅰ-Ⅻ])(?=[\s.．)\u3040-\u30ff\u4e00-\u9fff])[\s.．)]*|^[IVX](?:\s+|[.．)](?![A-Za-z])\s*)")
ABBREVIATION_TAIL = re.compile(r"[(（]\s*[A-Za-z][A-Za-z0-9&.\- ]{0,12}\s*[)）]$")
DESCRIPTOR_PREFIX = re.compile(r"^(?:NPO\s*法人|特定非営利活動法人)\s*「([^」]+)」$")
_LATIN_JA_SPACE = re.compile(r"(?<=[A-Za-z0-9&])\s+(?=[\u3040-\u30ff\u4e00-\u9fff])|(?<=[\u3040-\u30ff\u4e00-\u9fff])\s+(?=[A-Za-z0-9])")
_NAME_TOKEN_POS = frozenset({"PROPN", "NOUN", "NUM", "SYM"})
_STOP_TOKENS = frozenset({"、", "。", "・", "(", ")", "「", "」", "『", "』", "【", "】", ":", "/", "&", "×", "〜", "~"})


def normalise_org_name(name: str) -> str:
    """The form Jirei stores: NFKC, ordinals and bullets stripped, ㈱/(株) as 株式会社 in place,
    parenthesised abbreviations dropped, no space between Japanese and Latin script."""
    n = re.sub(r"^#+\s*", "", name.strip())
    n = ORDINAL_OR_BULLET.sub("", n).strip()  # before NFKC turns ① into 1
    n = unicodedata.normalize("NFKC", n).strip()
    m = DESCRIPTOR_PREFIX.match(n)
    if m:
        n = m.group(1)
    n = n.strip("「」『』\"'“”【】")
    # `ならびに早稲田大学`: a conjunction the NER took into the name.
    n = re.sub(r"^(?:ならびに|並びに|及び|および)\s*", "", n)
    n = ABBREVIATION_TAIL.sub("", n).strip()
    # `産学官金共創 ぐんま未来イノベーション会議`: a Japanese descriptor, a space, then the name.
    m = re.fullmatch(r"([\u3040-\u30ff\u4e00-\u9fff]{2,12})\s+(\S{4,})", n)
    if m and m.group(2).endswith(ORG_HEADS) and not m.group(1).endswith(LEGAL_FORMS_BEFORE):
        n = m.group(2)
    for mark, full in LEGAL_MARK_EXPANSION.items():
        n = n.replace(mark, full)
    if len(n) > 3:  # `株和賀組`: the brackets of (株) lost in extraction
        n = re.sub(r"^株(?!式)(?=[\u4e00-\u9fff])", "株式会社", n)
    n = _LATIN_JA_SPACE.sub("", n)
    n = re.sub(r"\s{2,}", " ", n)
    return n.strip(" 、,・")


def org_key(name: str) -> str:
    """Comparison key for de-duplication and scoring: the stored form without spaces."""
    return re.sub(r"\s+", "", normalise_org_name(name))


# `12大学`, `有志32法人`, `近隣4商工会議所`, `同会議`: counts and references, not names.
COUNTED_OR_REFERRED = re.compile(r"^(?:\D{0,4}\d+\D{0,2}$|\D{0,4}\d+(?:社|校|大学|法人|団体|機関|商工会議所|商工会|行|市町村?)|[同当本各他両](?:社|会|会議|協議会|リーグ|大学|機構|法人|グループ|センター|財団|組合)$)")


# Collective descriptions: `鳥取県下商工会議所`, `各地商工会議所`, `近隣の大学`.
COLLECTIVE_NAME = re.compile(r"^(?:.{1,4}[都道府県]下|各地|各|近隣|全国の?|県内の?|市内の?|地元の?)")


_LETTER = re.compile(r"[A-Za-z\u3041-\u30ff\u3400-\u9fff]")


def is_generic(name: str) -> bool:
    n = org_key(name)
    # `8:50-16:00` read without its colons: no letter of any script, no name
    return (len(n) < 2 or not _LETTER.search(n) or bool(GENERIC.match(n)) or n.endswith(UNIT_HEADS)
            or bool(COUNTED_OR_REFERRED.match(n)) or bool(COLLECTIVE_NAME.match(n)) or n in LEGAL_FORMS_BEFORE)


def has_org_head(name: str) -> bool:
    n = org_key(name)
    return n.endswith(ORG_HEADS) or n.startswith(LEGAL_FORMS_BEFORE) or any(m in name for m in LEGAL_MARKS)


# --- spaCy components --------------------------------------------------------------------------


def _is_name_token(tok) -> bool:
    if tok.text in _STOP_TOKENS or tok.is_space:
        return False
    if tok.pos_ in _NAME_TOKEN_POS:
        return True
    # Latin words and katakana/hiragana names that Sudachi tags otherwise (ADJ グローバル).
    return bool(re.fullmatch(r"[A-Za-z0-9\-&.'゠-ヿ]+", tok.text)) and tok.pos_ not in {"ADP", "AUX", "PUNCT"}


def _is_latin_or_katakana(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9\-&.'゠-ヿ]+", text))


def _left_edge(doc: Doc, head_start: int, limit: int = 8) -> int:
    """Walk left from a head over name tokens (nouns, proper nouns, numbers, Latin)."""
    i = head_start
    while i > 0 and head_start - i < limit and _is_name_token(doc[i - 1]):
        i -= 1
    return _after_case_number(doc, i, head_start)


def _after_case_number(doc: Doc, start: int, end: int) -> int:
    """`start`, moved past a case number opening the span (`事例1`, `事例 1`, `Case 2`): no part of a name."""
    if start < end and _CASE_NUMBER.fullmatch(doc[start].text.strip()):
        return start + 1
    if start + 1 < end and _CASE_WORD.fullmatch(doc[start].text) and doc[start + 1].text.isdigit():
        return start + 2
    return start


_HIRAGANA = re.compile(r"[\u3041-\u309f]+")
# Particles and endings that close the word before a name; inside a hiragana name Sudachi's
# part of speech for the pieces is unreliable (`とい` AUX), so these are matched by text.
_PARTICLES = frozenset({"の", "は", "が", "を", "に", "へ", "と", "で", "や", "も", "から", "まで", "より", "など",
                        "て", "た", "だ", "な", "か", "です", "ます", "し", "して", "した", "する", "ば", "ず",
                        "には", "とは", "では", "にも", "とも", "ほか", "および", "及び", "また"})


def _hiragana_word_start(doc: Doc, start: int) -> int:
    """A name in hiragana is cut by Sudachi into pieces (`お|とい|ねっ|ぷ` of おといねっぷ), and
    the left edge stops at the last piece it calls a noun. When the span starts inside such a
    run and the whole run stands after punctuation, a particle or a line start, the run is
    the name's beginning."""
    if start == 0:
        return start
    if not _HIRAGANA.fullmatch(doc[start].text):
        # the name's hiragana part stands right before the span (`・みほん建設株式会社`, which
        # Sudachi cuts `みほ|ん|建設`): taken only after punctuation or a line start, never a particle
        prev = doc[start - 1]
        if prev.whitespace_ or not _HIRAGANA.fullmatch(prev.text) or prev.text in _PARTICLES:
            return start
        j = start - 1
        while j > 0 and _HIRAGANA.fullmatch(doc[j - 1].text) and doc[j - 1].text not in _PARTICLES \
                and not doc[j - 1].whitespace_:
            j -= 1
        run = doc[j:start].text
        before = doc[j - 1] if j > 0 else None
        if len(run) <= 6 and (before is None or before.is_punct or before.is_space or before.pos_ == "SYM"
                              or before.text in _STOP_TOKENS or "\n" in before.text):
            return j
        return start
    j = start
    while (j > 0 and _HIRAGANA.fullmatch(doc[j - 1].text) and doc[j - 1].text not in _PARTICLES
           and not doc[j - 1].whitespace_):
        j -= 1
    if j == start:
        return start
    before = doc[j - 1] if j > 0 else None
    if (before is None or before.is_punct or before.is_space or before.pos_ == "SYM" or before.text in _PARTICLES
            or before.text in _STOP_TOKENS):
        return j
    return start


def _right_edge(doc: Doc, start: int, limit: int = 8) -> int:
    i = start
    while i < len(doc) and i - start < limit and _is_name_token(doc[i]):
        if i > start and doc[i].text in LEGAL_FORMS_BEFORE:
            break
        i += 1
    return i


def _head_at(doc: Doc, i: int) -> tuple[int, str] | None:
    """Does an organisation head end at token i? Returns (first token of the head, label)."""
    text = doc[i].text
    two = doc[i - 1].text + text if i > 0 else text
    if two in ORG_HEADS and i > 0:
        return i - 1, _label_for(two)
    if text in ORG_HEADS or (len(text) > 2 and text.endswith(ORG_HEADS)):  # `日本政策金融公庫` is one token
        return i, _label_for(text)
    return None


def _label_for(head: str) -> str:
    if head.endswith(("大学", "大学院", "高専", "学校", "高校")):
        return "School"
    if head.endswith(("省", "庁", "委員会")):
        return "Government"
    if head.endswith(("銀行", "金庫", "信金", "ホールディングス", "グループ")):
        return "Company"
    return "Organization_Other"


# A case number before the heading's name (`事例1 試作食品株式会社：…`, `取組3`, `Case 2`); PDFs often
# drop the space, so the number would otherwise start the organisation's name.
_CASE_NUMBER = re.compile(r"^(?:事例|取組み?|ケース|Case|CASE|No\.?)\s*\d{1,3}\s*[.:、)]?\s*")
_CASE_WORD = re.compile(r"事例|取組み?|ケース|Case|CASE|No\.?")


def _colon_heading_names(doc: Doc) -> list[Span]:
    """`② 日本電信電話:交通・観光…`: a short name opening a line (after an ordinal or bullet) and
    followed by a colon is the organisation of a casebook entry."""
    spans = []
    for i, tok in enumerate(doc):
        if tok.text not in {":", "："} or i == 0:
            continue
        start = _left_edge(doc, i, limit=6)
        if start == i or start > 0 and not _line_start_before(doc, start):
            continue
        while start < i and ORDINAL_OR_BULLET.fullmatch(doc[start].text):
            start += 1
        start = _after_case_number(doc, start, i)  # `事例1 日立製作所:…`
        # A proper noun or a Latin/katakana word in it: `出典:`, `構成:` are labels, not names.
        names_something = any(t.pos_ == "PROPN" or _is_latin_or_katakana(t.text) for t in doc[start:i])
        if start < i and len(doc[start:i].text) <= 30 and names_something:
            spans.append(Span(doc, start, i, label="Company"))
    return spans


def _line_start_before(doc: Doc, start: int) -> bool:
    i = start - 1
    while i >= 0 and "\n" not in doc[i].text:
        if not (doc[i].is_space or ORDINAL_OR_BULLET.fullmatch(doc[i].text)):
            return False
        i -= 1
    return True


# The partnership frame: `日本モビリティと資本業務提携`, `プリンスホテルと連携した`, `「ABC」へ出資`.
_FRAME_AFTER_TO = re.compile(r"^と(?:の)?(?:資本業務提携|業務提携|資本提携|包括連携|連携|提携|協業|協働|共同|協定)")
_FRAME_AFTER_HE = re.compile(r"^への?(?:[ァ-ヶー]{2,8})?(?:出資|資本業務提携|資本参加)")


def _partnership_frame_names(doc: Doc) -> list[Span]:
    """Names the NER and the heads miss, read from the frame that says they partner: a katakana or
    Latin name without a legal form right before `と連携` / `と資本業務提携` / `への出資`, or a
    quoted one (`「ABC」へ出資`). A single common noun (`スタートアップと連携`, `パートナーと協働`)
    is a kind of partner, not a name: the name must be a proper noun or a compound of a katakana or
    Latin word with a proper noun or another such word (`プリンス|ホテル`, `日本|モビリティ`)."""
    spans = []
    for i, tok in enumerate(doc):
        if tok.text not in ("と", "へ") or i == 0:
            continue
        after = doc.text[tok.idx: tok.idx + 16]
        if not (_FRAME_AFTER_TO.match(after) if tok.text == "と" else _FRAME_AFTER_HE.match(after)):
            continue
        if doc[i - 1].text == "」":  # `「刀」へ`: the quoted name
            j = i - 2
            while j >= 0 and doc[j].text != "「" and i - j <= 8 and "\n" not in doc[j].text:
                j -= 1
            if j >= 0 and doc[j].text == "「" and j + 1 < i - 1:
                name = doc[j + 1: i - 1]
                if len(name.text) <= 15 and not is_generic(name.text):
                    spans.append(Span(doc, j + 1, i - 1, label="Organization_Other"))
            continue
        # the partners listed before the frame, last first: `DMO 長崎や地元の経済界等と連携`
        end = i
        for _ in range(_FRAME_LIST_MAX):
            start = _left_edge(doc, end, limit=5)
            if start == end:
                break
            span = _frame_name(doc, start, end)
            if span is not None:
                spans.append(span)
            if start < 2 or doc[start - 1].text not in ("や", "、", "・", "及び", "および"):
                break
            end = start - 1
    return spans


_FRAME_LIST_MAX = 4  # partners named in one list before the frame


def _frame_name(doc: Doc, start: int, end: int) -> Span | None:
    """`doc[start:end]` as a partner's name, or None when it describes a kind of partner."""
    toks = [t for t in doc[start:end] if not t.is_space]
    if toks and toks[-1].text in ("等", "など"):
        toks = toks[:-1]
        end -= 1
    if not toks:
        return None
    latin_kana = [t for t in toks if _is_latin_or_katakana(t.text) and len(t.text) >= 2]
    proper = [t for t in toks if t.tag_.startswith("名詞-固有名詞") and "地名" not in t.tag_ and "人名" not in t.tag_]
    placed = [t for t in toks if "地名" in t.tag_]
    people = [t for t in toks if "人名" in t.tag_]
    common_kanji = [t for t in toks if t not in latin_kana and t not in proper and t not in placed and t not in people]
    if common_kanji or not latin_kana and not proper:
        return None  # `地域モビリティ`, `ベンチャー企業`: a description; `森川や西村と`: people
    if len(toks) == 1 and not proper:
        return None  # `スタートアップ`, `クリエイター`: a kind of partner
    span = Span(doc, start, end, label="Organization_Other")
    return None if is_generic(span.text) else span


def find_rule_organisations(doc: Doc) -> list[Span]:
    """Spans for legal forms and organisation heads (the rule source), longest wins."""
    spans: list[Span] = _colon_heading_names(doc) + _partnership_frame_names(doc)
    for i, tok in enumerate(doc):
        if tok.text in LEGAL_FORMS_BEFORE:
            end = _right_edge(doc, i + 1)
            if end > i + 1:
                spans.append(Span(doc, i, end, label="Company"))
            else:  # `丸栄株式会社`: the legal form follows the name
                start = _left_edge(doc, i)
                start = _hiragana_word_start(doc, start) if start < i else start
                if start < i:
                    spans.append(Span(doc, start, i + 1, label="Company"))
            continue
        if tok.text in LEGAL_MARKS:
            start = _left_edge(doc, i)
            if start < i:
                spans.append(Span(doc, start, i + 1, label="Company"))
            else:
                end = _right_edge(doc, i + 1)
                if end > i + 1:
                    spans.append(Span(doc, i, end, label="Company"))
            continue
        head = _head_at(doc, i)
        if head is None:
            continue
        head_start, label = head
        start = _hiragana_word_start(doc, _left_edge(doc, head_start))
        # A bare head (`大学`) or a generic compound (`地元企業`) is not a name.
        span = Span(doc, start, i + 1, label=label)
        if start == head_start and not (head_start == i and doc[i].pos_ == "PROPN"):
            continue  # a bare head (`大学`, `コンソーシアム`); `日本政策金融公庫` is one proper noun
        # `観光協会`, `漁業協同組合`, `教育委員会`: common nouns before the head describe a kind
        # of body. Ministries and agencies (`中小企業庁`) are named exactly so.
        modifiers = doc[start:head_start]
        if (0 < len(modifiers) and len(modifiers.text) <= 4 and not doc[i].text.endswith(("省", "庁"))
                and all(t.pos_ == "NOUN" and not _is_latin_or_katakana(t.text) for t in modifiers)):
            continue
        if not is_generic(span.text):
            spans.append(span)
    return filter_spans(spans)


class OrganisationRules:
    """spaCy component `jirei_organisation_rules`: set rule-found organisations (legal forms,
    organisation heads) as entities before the statistical NER sees the text, and keep them in
    `doc.spans[spans_key]` as provenance (which entities the rules set)."""

    def __init__(self, spans_key: str = "jirei_rules"):
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        spans = find_rule_organisations(doc)
        doc.spans[self.spans_key] = spans
        kept = filter_spans(list(doc.ents) + spans)
        doc.set_ents(kept, default="unmodified")
        return doc


@Language.factory("jirei_organisation_rules", default_config={"spans_key": "jirei_rules"})
def make_organisation_rules(nlp: Language, name: str, spans_key: str) -> OrganisationRules:
    return OrganisationRules(spans_key)


def _starts_with_mark(span: Span) -> bool:
    return bool(ORDINAL_OR_BULLET.match(span[0].text)) and len(span) > 1


def _opens_colon_heading(doc: Doc, start: int, end: int) -> bool:
    """Is doc[start:end] the first name on its line (after an ordinal or bullet), followed by a colon?"""
    return end < len(doc) and doc[end].text in {":", "："} and _line_start_before(doc, start)


def fix_entities(doc: Doc, *, consistent_labels: bool = True) -> Doc:
    """Repair the NER's errors on report text: ordinals or bullets inside an entity (`③ 三菱商事`),
    organisation names tagged as products or people when a legal form or head ends them, and
    katakana common nouns tagged Person (`スマートシティ`)."""
    fixed: list[Span] = []
    # A name tagged as an organisation anywhere in the text is one everywhere in it
    # (`日本電信電話` opens its entry as an organisation and comes back as Product_Other).
    org_texts = {e.text for e in doc.ents if e.label_ in ORG_LABELS} if consistent_labels else set()
    for ent in doc.ents:
        start, label = ent.start, ent.label_
        while start < ent.end - 1 and (doc[start].is_space or ORDINAL_OR_BULLET.fullmatch(doc[start].text)):
            start += 1
        start = _after_case_number(doc, start, ent.end - 1)
        name = doc[start : ent.end].text
        if label in {"Product_Other", "Person", "Name_Other", "Facility_Other"} and has_org_head(name):
            label = "Organization_Other"
        elif label in {"Product_Other", "Person", "Name_Other"} and (
            _opens_colon_heading(doc, start, ent.end) or name in org_texts
        ):
            label = "Company"  # `③ 三菱商事:…`: the casebook layout names the organisation there
        elif label == "Person" and name.endswith(BUSINESS_WORDS) and len(name) > 3:
            label = "Company"
        if label == "Person" and all(t.pos_ == "NOUN" and re.fullmatch(r"[゠-ヿ]+", t.text) for t in doc[start : ent.end]):
            continue
        fixed.append(Span(doc, start, ent.end, label=label))
    doc.set_ents(filter_spans(fixed), default="outside")
    return doc




class EntityFixes:
    """spaCy component `jirei_entity_fixes` (after `ner`): `fix_entities` on every doc.
    `consistent_labels`: a name tagged as an organisation anywhere in a text is one everywhere."""

    def __init__(self, consistent_labels: bool = True):
        self.consistent_labels = consistent_labels

    def __call__(self, doc: Doc) -> Doc:
        return fix_entities(doc, consistent_labels=self.consistent_labels)


@Language.factory("jirei_entity_fixes", default_config={"consistent_labels": True})
def make_entity_fixes(nlp: Language, name: str, consistent_labels: bool) -> EntityFixes:
    return EntityFixes(consistent_labels)


# --- headings ----------------------------------------------------------------------------------

_COLON_HEAD = re.compile(r"^(?P<org>[^:：]{1,40}?)\s*[:：]\s*(?P<title>.+)$")
_COLLECTIVE = re.compile(r"^(?:各地|全国|県内|県下|.*[都道府県]下)|×|、.*の(?:商工会議所|商工会)$|^.{0,12}(?:東部|西部|南部|北部).*の")
_SPLIT_LIST = re.compile(r"\s*[・、,]\s*")


def _strip_heading(title: str) -> str:
    t = re.sub(r"^#+\s*", "", title.strip())
    t = ORDINAL_OR_BULLET.sub("", t).strip()  # before NFKC turns ② into 2
    t = unicodedata.normalize("NFKC", t).strip()
    return _CASE_NUMBER.sub("", t).strip()


def organisations_from_heading(title: str, is_place, is_org_name) -> tuple[list[str], list[str]]:
    """The organisations a heading names, as (leads, partners); at most one lead.

    `is_place(text)` says whether a fragment is only a place name; `is_org_name(text)` whether a
    fragment names an organisation (head, legal form, or the NER's judgement). Shapes:
    `組織：タイトル` (lead before the colon; parenthesised bodies inside it are partners);
    `Body(商工会議所)` (the body leads, the chamber partners); `Programme(商工会議所)` (the chamber
    leads); `(…・市)` lists; parentheses holding only places or a collective name none.
    """
    t = _strip_heading(title)
    m = _COLON_HEAD.match(t)
    inner = split_paren_tail(m.group("org")) if m else None
    # The layout itself says the short phrase before the colon is the organisation.
    if m and is_org_name(inner[0] if inner else m.group("org"), True):
        org = m.group("org").strip()
        if inner:  # `住友商事(日本貿易会・国際社会貢献センター)`: bodies named with the lead
            lead, partners = inner[0], [p for p in _SPLIT_LIST.split(inner[1]) if p]
            return [lead], [p for p in partners if is_org_name(p, True) and not is_place(p)]
        return [org], []
    leads: list[str] = []
    partners: list[str] = []
    tail = split_paren_tail(t)
    before = t
    if tail:
        before, inside = tail
        # `三遠南信地域連携ビジョン推進会議(SENA) (愛知県東部…)`: an abbreviation before the tail.
        before = ABBREVIATION_TAIL.sub("", before).strip()
        if not _COLLECTIVE.search(inside) and not is_place(inside):
            parts = [p for p in _SPLIT_LIST.split(inside) if p]
            partners = [p for p in parts if not is_place(p) and is_org_name(p)]
    before = before.strip("「」 ")
    # With a chamber or other body in the parentheses, the text before them leads only when it
    # is itself plainly an organisation (head, legal form, or an NER organisation label).
    if before and len(before) <= 40 and is_org_name(before, strict=bool(partners)) and not is_place(before):
        leads = [before]
    elif partners:
        leads, partners = partners[:1], partners[1:]
    return leads[:1], partners


def dedupe_organisations(orgs: Iterable[dict]) -> list[dict]:
    """One entry per organisation key, first mention kept, the lead first."""
    out: list[dict] = []
    seen: dict[str, int] = {}
    for o in orgs:
        k = org_key(o["name"])
        if not k:
            continue
        if k in seen:
            if o.get("role") == "lead" and out[seen[k]].get("role") != "lead":
                out[seen[k]]["role"] = "lead"
            continue
        seen[k] = len(out)
        out.append(o)
    out.sort(key=lambda o: 0 if o.get("role") == "lead" else 1)
    return out

"""Patterns of Japanese report layouts shared by the rule sets."""

from __future__ import annotations

import re

from jirei.nlp import sudachi_tokenizer

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# After NFKC circled numbers stay; parenthesised and dotted numbers are ASCII.
CIRCLED_ITEM = re.compile(rf"^[{CIRCLED}]\s*\S")
ROMAN_SECTION = re.compile(r"^(?:[IVX]{1,4}|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ])[.．、]\s*\S")
NUMBERED_SECTION = re.compile(r"^\d{1,2}[.．、]\s*\S")
PAREN_NUMBER = re.compile(r"^[(（]\s*\d{1,2}\s*[)）]\s*\S")
BANNER = re.compile(r"^[～〜~].{2,60}[～〜~]$")
BRACKET_HEAD = re.compile(r"^【([^】]{1,30})】\s*(.*)$")

# Organisation heads and place suffixes that mark a name in parentheses as "who/where".
ORG_WORDS = (
    "商工会議所", "会議所", "商工会", "協議会", "会議", "大学", "高専", "機構", "財団", "法人", "協会", "連合",
    "組合", "株式会社", "有限会社", "(株)", "㈱", "株", "センター", "研究所", "銀行", "金庫", "公社",
    "グループ", "ホールディングス",
)
_PLACE_END = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ff](?:都|道|府|県|市|区|町|村|郡|島|地区|地域|エリア|圏|圏域)(?:ほか|他|等|など)?$")
_PREFECTURES = (
    "北海道 青森 岩手 宮城 秋田 山形 福島 茨城 栃木 群馬 埼玉 千葉 東京 神奈川 新潟 富山 石川 福井 山梨 長野 "
    "岐阜 静岡 愛知 三重 滋賀 京都 大阪 兵庫 奈良 和歌山 鳥取 島根 岡山 広島 山口 徳島 香川 愛媛 高知 福岡 "
    "佐賀 長崎 熊本 大分 宮崎 鹿児島 沖縄"
).split()

NOISE_LINE = re.compile(
    r"^(?:[<＜(（]\s*提供\s*[:：]|提供\s*[:：]|出典\s*[:：]|資料\s*[:：]|※|[<＜][^>＞]{1,60}[>＞]$|"
    r"[¹²³⁴⁵⁶⁷⁸⁹⁰]|\|)"
)
FOOTNOTE = re.compile(r"^[¹²³⁴⁵⁶⁷⁸⁹⁰]+\s*\S")


def split_paren_tail(text: str) -> tuple[str, str] | None:
    """(before, inside) for a line ending in parentheses, nesting allowed:
    `…(福知山フロント(株)・福知山市)` -> (`…`, `福知山フロント(株)・福知山市`)."""
    t = text.strip()
    if not t or t[-1] not in ")）":
        return None
    depth = 0
    for i in range(len(t) - 1, -1, -1):
        if t[i] in ")）":
            depth += 1
        elif t[i] in "(（":
            depth -= 1
            if depth == 0:
                inside = t[i + 1 : -1].strip()
                return (t[:i].strip(), inside) if inside else None
    return None


def paren_tail(text: str) -> str | None:
    """The parenthesised text at the end of a line, when something precedes it and it is short:
    `名称(長野県伊那市)` -> `長野県伊那市`."""
    split = split_paren_tail(text)
    return split[1] if split and split[0] and len(split[1]) <= 60 else None


# Words heading matter between cases in many report kinds: notices, contacts, calendars,
# recruitment, contents, editors' columns. The rule sets and the CRF's page floor each add their own.
NON_CASE_HEAD_WORDS = r"お知らせ|おしらせ|問い?合わせ|問合せ|募集|カレンダー|行事予定|編集後記|目次"

# What corpus/segmentation/README.md ("Not cases in newsletters, strategies and administrative
# documents") lists as no case, as heading words: an administration's notices (taxes, pensions,
# insurance, registers, bids, published figures, requests to residents, health and police advice,
# weather, clinic hours), staff greetings,
# routine ceremonies, population counters, the cover note, and a strategy's framework chapters.
# Specific forms only: `ふるさと納税` or `健康づくり` head real initiatives.
NOTICE_HEAD_WORDS = (
    r"自動車税|住民税|固定資産税|[市町村県]民税|納期限|確定申告|税の申告|国民年金|年金事務所|国民健康保険|"
    r"介護保険料|後期高齢者医療|戸籍|住民票|マイナンバー|入札|結果公表|状況の公表|ご活用ください|ご協力ください|ご注意ください|のお願い|採用職員|職員紹介|自衛官|審査員|"
    r"入学生|検診|健診|予防接種|ワクチン接種|警察|交番|交通安全|防犯|特殊詐欺|気象|診療|休診|"
    r"[むまち]らの人口|人口の動き|人口と世帯|交通事故|今月の表紙|表紙|ごあいさつ|就任|卒業式|卒園式|入学式|引退|掲示板|センターだより|"
    r"策定の趣旨|趣旨|対象期間|計画期間|位置づけ|位置付け|評価・検証|検証の仕組み|基本的な視点|基本的な考え方|全体像|施策体系"
)


# The labels of an event's or a notice's particulars (`日時：…`, `■料金:1,600円`, `定員 先着17名`), a
# clock time (`11:30~12:30`), and an issue's masthead (`広報…令和5年9月号 第588号`): lines that give
# particulars or identify the issue, never the heading of a case, whatever their typography.
_FIELD_LABEL = re.compile(
    r"^[■□●○◆◇▼▽▶►・※◎]?\s*(?:日時|日程|期日|期間|時間|場所|会場|集合場所|集合|定員|料金|費用|参加費|受講料|"
    r"対象者?|申込み?|申し込み|締切|締め切り|問い?合わせ先?|問合せ先?|持ち物|診療時間|診療日|受付|主催|共催|講師|"
    r"備考|応募資格|募集人数|賃金|給与|勤務地|勤務時間|開館時間|休館日|入場料|入館料|電話|TEL|FAX|E-?mail)"
    r"\s*(?:[：:]|\s|\d|$)", re.I)
_CLOCK_TIME = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}")
_MASTHEAD = re.compile(r"第\s*\d+\s*号|\d+\s*月\s*号|^\s*(?:No|NO|Vol|VOL)\.?\s*\d+\s*$")
# A photo's caption points at it (`↑合同ワークショップの様子`).
_CAPTION = re.compile(r"^[↑↓←→⇧⇩⇦⇨▲]")


# Verbs that report an event or activity held, as a newsletter's article opens (`…が開催されました`,
# `…稲刈りを体験しました`), passive or active.
EVENT_HELD = (r"行われ|開催され|開催し|開かれ|開きま|実施され|実施し|開設され|開設し|締結さ|締結し|オープンし|"
              r"訪れ|行いま|体験し|参加し|交流し|完成し|学びま")


# An article's byline: the writer's name, after their role or alone (`地域おこし協力隊 光森 恵理子`,
# `…3モア 学芸員 川﨑映`, `足立 悠`). Newsletters sign their columns and reports so. The name must read
# as one in Sudachi's dictionary (a surname is a proper noun, of a person or a place: `川崎`), which
# tells `足立 悠` from two words set apart (`以 上`, `目 次`, `概要 期間`).
_KANJI = "\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_PERSON_ROLE = (r"(?:協力隊|隊員|マネージャー|学芸員|館長|園長|校長|教頭|教諭|所長|会長|室長|課長|係長|主事|主任|担当|"
                r"記者|講師|支援員|相談員|指導員|保健師|栄養士|看護師|司書|代表|理事長|コーディネーター|スタッフ|編集員)")
_GIVEN = rf"(?:[{_KANJI}]{{1,3}}|[ぁ-ゖ]{{2,4}})"
_SYMBOL_MARK = re.compile(r"^[■□●○◆◇▼▽▶►◎☆★・]")  # a head's mark: a byline carries none
_BYLINE = re.compile(
    rf"^(?:.{{0,30}}{_PERSON_ROLE}[ \u3000]+(?P<name>[{_KANJI}]{{1,3}}(?:[ \u3000]?{_GIVEN})?)"
    rf"|(?P<pair>[{_KANJI}]{{1,3}}[ \u3000]{_GIVEN}))$")
# what ends an office's, a body's or a place's name, never a person's
_NOT_A_PERSON = re.compile(r"[課室係所館会部局町村市区県駅校園隊協団社店]$")
# variant forms of name characters the dictionary knows in their common form (`髙田`, `川﨑`)
_NAME_VARIANTS = str.maketrans("髙﨑德濵邊邉齋齊", "高崎徳浜辺辺斎斉")


def _reads_as_name(name: str) -> bool:
    """Does a name's first word read as a proper noun of a person or a place (surnames are often
    both) in Sudachi's dictionary?"""
    words = [m for m in sudachi_tokenizer().tokenize(name.translate(_NAME_VARIANTS)) if m.part_of_speech()[0] != "空白"]
    return bool(words) and words[0].part_of_speech()[1:3] in (("固有名詞", "人名"), ("固有名詞", "地名"))


def is_pen_name(text: str) -> bool:
    """Is a line a name written in hiragana alone (`こんのななみ`), as a message or a drawing is
    signed: a few kana whose last word Sudachi reads as a given name? Not read by the model's
    features (`is_byline` is): a rule over headlines only."""
    t = re.sub(r"\s+", "", text)
    if not re.fullmatch(r"[ぁ-ゖー]{4,10}", t):
        return False
    words = list(sudachi_tokenizer().tokenize(t))
    return words[-1].part_of_speech()[1:4] == ("固有名詞", "人名", "名")


def is_byline(text: str) -> bool:
    """Is a line an article's byline: a person's name, after their role (`地域おこし協力隊 関 はずき`)
    or alone with surname and given name apart (`足立 悠`)?"""
    t = text.strip()
    m = _BYLINE.match(t) if len(t) <= 44 and not _SYMBOL_MARK.match(t) else None
    if m is None:
        return False
    name = m.group("name") or m.group("pair")
    return not any(_NOT_A_PERSON.search(w) for w in name.split()) and _reads_as_name(name)


# `---`, `***`, `___`: a markdown thematic break (a converter's page break), and `![図1](p3.png)`: a
# markdown image reference (converters write one per picture); never content.
_THEMATIC_BREAK = re.compile(r"^(?:-{3,}|\*{3,}|_{3,}|!\[[^\]]*\]\([^)]*\))$")


def is_break_or_picture(text: str) -> bool:
    """A markdown thematic break (`---`) or image reference (`![…](…)`): layout, never content."""
    return bool(_THEMATIC_BREAK.match(text.strip()))


_ROMANISED_BANNER = re.compile(r"^[a-z]{3,15}$")


def is_romanised_banner(text: str) -> bool:
    """Is a line a column's banner in romanised lower case (`topics`, `kurashi`)? It heads a
    column, never an article."""
    return bool(_ROMANISED_BANNER.match(text.strip()))


# Romanised banners of a newsletter's notice columns: notices, living information, the
# administration's news, the calendar.
_ROMANISED_NOTICE = re.compile(r"^(?:oshirase|kurashi|gyousei|information|calendar)$", re.I)


def is_notice_banner(text: str) -> bool:
    """Is a line the romanised banner of a notice column (`oshirase`, `kurashi`)?"""
    return bool(_ROMANISED_NOTICE.match(text.strip()))


# A newsletter's name on its cover (`広報`, `広報おといねっぷ`, `まちの広報誌`).
_PUBLICATION = re.compile(r"^(?:広報\S{0,12}|\S{0,8}広報誌?)$")


def names_publication(line: str) -> bool:
    """Is a line a newsletter's name alone (`広報おといねっぷ`), as its cover prints it?"""
    return bool(_PUBLICATION.match(line.strip()))


def is_masthead(text: str) -> bool:
    """Is a line an issue's masthead (`広報みほん村 2024年10月号`, `第712号`)?"""
    return bool(_MASTHEAD.search(text)) and len(text.strip()) <= 40


def is_field_line(text: str) -> bool:
    """Does a line give particulars (a field label, a clock time), an issue's masthead or a photo's
    caption rather than head anything?"""
    t = text.strip()
    return bool(_FIELD_LABEL.match(t) or _CLOCK_TIME.search(t) or _MASTHEAD.search(t) or _CAPTION.match(t))


_ARTICLE_REF = re.compile(r"第\s*[0-9０-９一二三四五六七八九十百]+\s*条")


def is_legal_text(text: str) -> bool:
    """Is a document a legal text (work rules, an official notice, a regulation), which holds no
    case (corpus/segmentation/README.md)? It cites its own articles (`第N条`) throughout: at least
    20 times and 5 times per 10,000 characters; a report quoting a law does so a few times."""
    n = len(_ARTICLE_REF.findall(text))
    return n >= 20 and n * 10_000 >= 5 * len(text)


# A notice's or a contact's label alone on its line (`お知らせ`, `【問合せ先】`).
_NOTICE_LABEL = re.compile(r"^[【\[〈<≪■◆●]?(?:お知らせ|おしらせ|お問い?合わ?せ(?:先)?|問い?合わ?せ先?)[】\]〉>≫]?$")


def is_notice_label(text: str) -> bool:
    """Is a line a notice's or contact's label and nothing else? It ends the case above it, set
    right under the case's last line or not: what follows is a notice or a contact, not the case."""
    return bool(_NOTICE_LABEL.match(re.sub(r"\s+", "", text)))


# A line of dates only: an event's day or period (`2023/8/21‐9/18`, `8月21日(月)~9月18日(月)`).
DATE_LINE = re.compile(r"^(?=.*\d{1,2}\s*[/.月]\s*\d{1,2})[\d\s/.年月日()（）月火水木金土日祝・~〜～‐\-–―－]+$")

# Matter the guideline lists as no case whose heads read like an article's: a report of disaster
# damage (`令和5年8月大雨災害`) and a column opening with a greeting (`こんにちは`). Not among the
# notice words the model reads as a feature: a rule over its labels only.
_DAMAGE_OR_GREETING = re.compile(
    r"(?:大雨|豪雨|台風|地震|大雪)(?:災害|被害)(?:について|の状況|状況)?$|被害状況|被災状況|^こんにちは|^はじめまして"
    # a headline reporting the damage (`大雨により水害が発生`), not a recovery (`被害からの復興`)
    r"|(?:大雨|豪雨|台風|地震|大雪|洪水|津波)(?:により|による|で)[^。]{0,6}?(?:水害|浸水|被害|冠水|土砂災害|停電)が?(?:発生|相次)")


def is_damage_report_or_greeting(text: str) -> bool:
    """Is a heading a report of disaster damage or a greeting (corpus/segmentation/README.md: no
    case)?"""
    return bool(_DAMAGE_OR_GREETING.search(re.sub(r"\s+", "", text)))


def is_notice_head(text: str) -> bool:
    """Does a heading title matter that is no case (NON_CASE_HEAD_WORDS, NOTICE_HEAD_WORDS)?
    Spaces are ignored: PDFs space out display headings (`目 次`)."""
    flat = re.sub(r"\s+", "", text)
    return bool(re.search(NON_CASE_HEAD_WORDS + "|" + NOTICE_HEAD_WORDS, flat))


def is_no_case_head(text: str) -> bool:
    """Does a heading title matter the guideline lists as no case: a notice (`is_notice_head`), a
    notice column's romanised banner, a report of disaster damage or a greeting? The last two are
    read from labels only, never as the model's notice feature."""
    return is_notice_head(text) or is_notice_banner(text) or is_damage_report_or_greeting(text)


def names_org_or_place(fragment: str) -> bool:
    """Does a short fragment name an organisation or a place (not e.g. `分野別`, `2023年11月設立`)?"""
    fragment = fragment.strip()
    if not fragment or re.search(r"\d{4}\s*年|設立|分野別|参考|予定|仮称", fragment):
        return False
    if any(w in fragment for w in ORG_WORDS):
        return True
    if any(fragment.startswith(p) or f"、{p}" in fragment or f"・{p}" in fragment for p in _PREFECTURES):
        return True
    # every listed part ends like a place name: `株和賀組・湯沢市`, `長野県茅野市-東京都虎ノ門地区`
    parts = [p for p in re.split(r"[・、,\-‐]", fragment) if p.strip()]
    return len(fragment) <= 40 and any(_PLACE_END.search(p.strip()) for p in parts)


def is_short_phrase(text: str, limit: int = 40) -> bool:
    """A heading-like phrase: short, not a sentence."""
    t = text.strip()
    return 0 < len(t) <= limit and "。" not in t and not t.endswith(("、", ","))


# Subjects that introduce a case in running prose: `「備後圏域連携中枢都市圏」では`, `XX市では、`.
_SUBJECT = re.compile(r"(?:「([^」]{2,40})」|(?:^|[。、]\s*)([^。、「」\s]{2,30}?))(?:で|において)は[、,]")
_GENERIC_SUBJECTS = re.compile(
    r"^(?:地方自治体|自治体|地方|地域|国|政府|各地|各社|企業|当社|弊社|同社|本事業|本取組|これ|それ|そこ|この|その|"
    r"一般的|具体的|実際|現在|今後|近年|最近|本年|昨年|当初|将来)"
)


def paragraph_subject(paragraph: str, sentences: int = 2) -> str | None:
    """The named actor a prose paragraph introduces in its first sentences, if any."""
    head = "。".join(paragraph.split("。")[:sentences])
    for m in _SUBJECT.finditer(head):
        subject = (m.group(1) or m.group(2) or "").strip()
        if subject and not _GENERIC_SUBJECTS.match(subject):
            return subject
    return None


def same_subject(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a in b or b in a or a[:3] == b[:3]


# A case's parts are labelled in brackets at the head of a line (`【民】`, `【官】`, `≪KPI≫`,
# `＜課題＞`, `［現状と課題］`): the same short label opens a part of every case. A label that opens
# PART_LABEL_REPEATS lines or more labels parts, unless what follows it on the line names an
# organisation or a place (`【まちづくり】三重県伊勢市`: a theme tag on the case's own head).
PART_LABEL_REPEATS = 3
_LEAD_LABEL = re.compile(r"^(?:【([^】]{1,8})】|[≪《<＜〈]([^≫》>＞〉]{1,8})[≫》>＞〉]|[［\[]([^］\]]{1,8})[］\]])\s*(.*)$")


def part_label_lines(contents: list[str]) -> set[int]:
    """Indices of the lines (given by their content) that open with a case's part label."""
    found: dict[str, list[tuple[int, str]]] = {}
    for i, text in enumerate(contents):
        m = _LEAD_LABEL.match(text.strip())
        if m:
            label = re.sub(r"\s", "", next(g for g in m.groups()[:3] if g))
            found.setdefault(label, []).append((i, m.group(4).strip()))
    out: set[int] = set()
    for occurrences in found.values():
        if len(occurrences) < PART_LABEL_REPEATS:
            continue
        for i, rest in occurrences:
            if not rest or rest.endswith("。") or not names_org_or_place(paren_tail(rest) or rest):
                out.add(i)
    return out


# Slides and pages that frame a talk or report rather than present a case: its contents (`本日の内容`,
# `アジェンダ`), a definition (`関係人口とは`), a trend (`地方の人口の推移`), its close (`まとめ`,
# `ご清聴ありがとうございました`) and the label over a slide of several cases (`事例紹介(2)`). Read on
# the heading alone, spaces and marks removed; a heading that names an organisation or a place is
# never framing.
_FRAMING_HEAD = re.compile(
    r"^(?:本日の)?(?:内容|アジェンダ|agenda|目次|もくじ|構成)$|^.{1,24}とは[?？]?$|の推移$"
    r"|^(?:まとめ|おわりに|終わりに|さいごに|最後に|結びに|ご清聴ありがとうございま(?:した|す)|thankyou(?:foryourattention)?)[。.!！]?$"
    r"|^(?:主な|先進|優良|取組|他地域の|全国の)?事例(?:紹介|一覧|の紹介)(?:[(（][0-9０-９]{1,2}[)）]|その[0-9０-９]{1,2})?$",
    re.I)


# A municipality or prefecture named anywhere in a text (`東川町の…`), not a word built on one
# (`町民`, `市長`, `県内`, `村立`).
NAMES_PLACE = re.compile(r"[\u4e00-\u9fff]{1,5}(?:都|道|府|県|市|区|町|村)(?![\u4e00-\u9fff]?(?:民|長|政|内|外|場|議|立))")


def is_framing_head(text: str) -> bool:
    flat = re.sub(r"\s+", "", text)
    return bool(_FRAMING_HEAD.search(flat)) and not names_org_or_place(flat) and not NAMES_PLACE.search(flat)

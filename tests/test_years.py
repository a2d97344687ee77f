"""Year extraction (jirei.extract.years): rule families on short snippets, many quoted from the seeds."""

from __future__ import annotations

import pytest

from jirei.extract.years import (
    era_to_year,
    find_document_date,
    find_document_date_info,
    find_year_mentions,
    fiscal_year_of,
    kanji_to_int,
    score_years,
    stated_years,
)

try:
    from conftest import shared_path
except ImportError:  # tests/ imported as a package
    from .conftest import shared_path


def years(text: str, doc_date: str | None = None) -> list[int]:
    return stated_years(find_year_mentions(text, doc_date))


def one(text: str, doc_date: str | None = None) -> dict:
    ms = find_year_mentions(text, doc_date)
    assert len(ms) == 1, ms
    return ms[0]


# --- 西暦 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, year", [
    ("カドーのネットスーパーは2001年よりサービスを開始し", 2001),           # 001 セブン&アイ
    ("中部経済連合会では、2019 年 5 月に名古屋市と連携協力し", 2019),       # 001, spaced
    ("三菱重工業では、1975 年の N-1 ロケット打ち上げ", 1975),
])
def test_western(text, year):
    assert years(text) == [year]


def test_western_month_and_day():
    m = one("2024年11月13日に報告書を公表")
    assert (m["year"], m["month"], m["day"], m["fiscal"], m["relative"]) == (2024, 11, 13, False, False)
    assert m["text"] == "2024年11月13日" and m["span"] == [0, 11] and m["source"] == "rule"


@pytest.mark.parametrize("text, year, month", [
    ("協定締結 2019/4/1", 2019, 4), ("2019.4 開始", 2019, 4), ("2024-11-13 公表", 2024, 11),
])
def test_slash_dot_iso(text, year, month):
    m = one(text)
    assert (m["year"], m["month"]) == (year, month)


def test_fullwidth_digits_are_folded_and_spans_kept():
    text = "は２０１９年４月に"
    m = one(text)
    assert m["year"] == 2019 and m["month"] == 4 and text[slice(*m["span"])] == m["text"] == "２０１９年４月"


# --- 和暦 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, year", [
    ("「令和元年台風」において千曲川の鋼矢板仮締切堤防工事では", 2019),    # 001 大成建設
    ("「令和2年7月豪雨」では、熊本県球磨川流域の人吉市に", 2020),           # 001 ヴェオリア
    ("| 平成 30 年 (2018 年) 7 月豪雨 |", 2018),
    ("令和6年度派遣実績", 2024), ("昭和50年に創業", 1975), ("大正十一年法律第七十号", 1922),
    ("明治29年法律第89号", 1896), ("平成三十年三月五日", 2018), ("令和二年", 2020),
    ("平成二十九年度", 2017), ("二〇一九年に開始", 2019), ("R6年度に開始", 2024), ("H30.4.1施行", 2018),
    ("2024(令和6)年3月31日までの間", 2024), ("令和6(2024)年度", 2024),
])
def test_era_and_kanji(text, year):
    # the conversion; what the year is for is the kind's business (a cited law's year is history)
    assert {m["year"] for m in find_year_mentions(text, "2025-10")} == {year}


def test_era_one_mention_for_gannen_nendo():
    m = one("令和元年度に実施")
    assert (m["text"], m["year"], m["fiscal"]) == ("令和元年度", 2019, True)


@pytest.mark.parametrize("text", ["昭和電工では、2003年から", "令和の時代には", "明治以来の中央集権的モデル",
                                  "明治150年記念", "昭和40年代の団地"])
def test_era_words_without_a_year(text):
    assert all(m["text"] != "昭和" for m in find_year_mentions(text))
    assert years(text) in ([], [2003])


def test_era_helpers():
    assert era_to_year("令和", 1) == 2019 and era_to_year("H", 31) == 2019 and era_to_year("大正", 16) is None
    assert kanji_to_int("三十一") == 31 and kanji_to_int("二〇一九") == 2019 and kanji_to_int("元") == 1


# --- fiscal years -------------------------------------------------------------------------------

def test_fiscal():
    m = one("2024年度卒の一期生の多くが域内")                                  # 004 三条
    assert (m["year"], m["fiscal"]) == (2024, True)
    assert years("ソニーでは、2018 年度より、子ども向けの") == [2018]
    assert fiscal_year_of(2026, 2) == 2025 and fiscal_year_of(2025, 4) == 2025


# --- ranges and durations -----------------------------------------------------------------------

def test_ranges():
    m = one("2019~2021年に実施")
    assert (m["year"], m["end_year"], m["end_stated"]) == (2019, 2021, True)
    assert years("2019年から2021年まで実施") == [2019, 2021]
    assert years("2015年度から2019年度までとします") == [2015, 2019]
    assert years("令和2~4年度の3か年") == [2020, 2022]


@pytest.mark.parametrize("text, start, end", [
    # abbreviated eras in ranges, as programme lists and slide decks write periods
    ("事業期間:R6~R8", 2024, 2026), ("H30~R2年度", 2018, 2020), ("R5.4~R6.3", 2023, 2024),
    ("R6~8年度", 2024, 2026), ("R3~R5の3か年", 2021, 2023),
])
def test_abbreviated_era_ranges(text, start, end):
    (m,) = find_year_mentions(text)
    assert (m["year"], m["end_year"], m["end_stated"]) == (start, end, True)
    assert years(text) == [start, end]
    assert find_year_mentions("R5~R3") == [] and find_year_mentions("SR5~R6") == []


def test_duration_end_is_computed_not_stated():
    m = one("包括共同研究を実施している(2019 年 4 月から 5 年間)。")          # 001 三菱ケミカル
    assert (m["year"], m["end_year"], m["end_stated"]) == (2019, 2024, False)
    assert stated_years([m]) == [2019]
    assert one("2019年度から5年間")["end_year"] == 2023


def test_future_range_end_is_a_horizon():
    ms = find_year_mentions("2020年度から2030年度までの計画", "2025-10")
    assert stated_years(ms) == [2020] and ms[0]["end_target"]


# --- targets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2030年頃をマイルストーンに設定", "2050年カーボンニュートラルの実現",
                                  "2030年を目標に", "2030年に向けて連携", "目標値 (2019年度)"])
def test_targets_excluded(text):
    ms = find_year_mentions(text, "2015-04")
    assert ms and all(m["target"] for m in ms) and stated_years(ms) == []


def test_until_depends_on_document_date():
    # 001 Google (doc 2020): a target; 004 浜松 (doc 2025): a past count
    assert years("「2022 年までに 1000 万人」の方々を", "2020-10") == []
    # a past count is a statistic's reference year: a mention of kind statistic, not a year
    past = [m for m in find_year_mentions("2023年までに53品目を認定、新商品", "2025-10")]
    assert [(m["year"], m["kind"]) for m in past] == [(2023, "statistic")]
    assert years("2023年までに53品目を認定、新商品", "2025-10") == []


def test_budget_year_is_a_statistic():
    # a budget's fiscal year dates a figure, not the initiative
    ms = find_year_mentions("R6年度予算で500万円を計上", "2025-10")
    assert [(m["year"], m["kind"]) for m in ms] == [(2024, "statistic")]


def test_scheduled_events_count():
    assert years("(2019 年 9 月構想発表、2022 年春にまちびらきを予定)", "2020-10") == [2019, 2022]
    assert years("コングレでは、2021年11月に開業する JR 長崎駅前", "2020-10") == [2021]


# --- not years ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "日本全国 1,000万人の企業・個人", "2018年に200億円規模の", "相談件数2030件", "社員2019人",
    "創業100周年", "15歳から70歳まで", "10年以上", "2000年以上の歴史", "約2000年前", "2000年代",
    "4月1日から", "〒098-2501中川郡", "TEL 03-2019-4567", "前年度比120%", "同年代の若者", "日本年金機構",
    "2019.4万人", "p. 2019",
])
def test_not_years(text):
    assert years(text, "2025-10") in ([], [2018])
    assert not any(m["relative"] for m in find_year_mentions(text, "2025-10"))


# --- relative -----------------------------------------------------------------------------------

def test_relative_resolved_against_doc_date():
    ms = find_year_mentions("今年度中に、地域が停電になった場合… また、今年9月、同センター内に", "2020-10")  # 001 IHI
    assert [(m["text"], m["year"], m["relative"]) for m in ms] == [("今年度", 2020, True), ("今年9月", 2020, True)]
    assert stated_years(ms) == []
    assert [(m["text"], m["year"]) for m in find_year_mentions("昨年度は石川県内の製造業の", "2020-10")] == [("昨年度", 2019)]
    assert [(m["text"], m["year"]) for m in find_year_mentions("本年、地元企業の経営革新", "2025-10")] == [("本年", 2025)]
    assert one("一昨年", "2025-10")["year"] == 2023 and one("来年度", "2025-10")["year"] == 2026


def test_relative_fiscal_boundary():
    assert one("今年度", "2026-02")["year"] == 2025
    assert one("今年度", "2026-04")["year"] == 2026
    assert one("本年", "2026-02")["year"] == 2026


def test_relative_without_doc_date_is_kept_unresolved():
    m = one("本年2月に統一した受付業務を開始")
    assert (m["text"], m["year"], m["relative"], m["month"]) == ("本年2月", None, True, 2)


def test_anaphora():
    ms = find_year_mentions("2025年4月、提言に反映。政府に働きかけた結果、同年6月「骨太の方針」に反映された。")
    assert [(m["text"], m["year"], m["relative"]) for m in ms] == [
        ("2025年4月", 2025, False), ("同年6月", 2025, True)]
    # 001 東洋建設: 翌年 after a "since" start is each sowing's next year, not recorded
    ms = find_year_mentions("2014年より、小学校での体験授業等…種まきを行い、翌年の夏前にかけて苗を生育させて")
    assert [m["text"] for m in ms] == ["2014年"]


# --- what a year is for (kind) -----------------------------------------------------------------
# Statistics' reference dates, a previous event and targets are kept as mentions, not years.

@pytest.mark.parametrize("text, kind", [
    ("2020年10月時点で参加企業・団体は61法人に拡大", "statistic"),           # 001 伊藤忠商事
    ("2025年5月現在の参加事業者は124。", "statistic"),                         # 004 豊岡
    ("高校の入学者数40人(2014年度)→年40人(2019年度)", "statistic"),         # village strategy PDF: baseline
    ("2012年度に実施した高校生アンケートでは", "statistic"),
    ("2019年秋にデビューしたキハ40", "history"),                              # village newsletter 2021-04
    ("小谷真夕さん(ともにおと高2021年度卒)", "history"),                     # village newsletter 2023-09
    ("2019年8月より岐阜県飛騨市・高山市にて", "initiative"),                  # 001 出光興産
    ("「令和2年7月豪雨」では、熊本県球磨川流域の人吉市に給水車を派遣", "initiative"),
])
def test_year_kind(text, kind):
    ms = [m for m in find_year_mentions(text, "2025-08") if not m["relative"]]
    assert ms[0]["kind"] == kind
    assert (ms[0]["year"] in years(text, "2025-08")) == (kind == "initiative")


@pytest.mark.parametrize("text, kind", [
    # the issue's own date in a running header or the colophon (village newsletters 2023-09, 2025-08)
    ("広報おといねっぷ\n令和5年9月号 第588号\n◇印刷 (株)旭川アートプロセス", "publication"),
    ("広報おといねっぷ\n令和7年8月号 第611号", "publication"),
    ("2020年11月17日 発行", "publication"),
    # a figure given for a year (the village strategy's population)
    ("1990年の1,584人から2010年には995人(20年間で589人の減少)にまで人口が減少", "statistic"),
    ("2023年度の事業費は500万円", "statistic"),
    ("2019年の観光入込客数", "statistic"),
    # the year of a cited law or notice (the MHLW model work rules and notice)
    ("労働基準法(昭和22年法律第49号。以下「労基法」といいます。)第89条", "history"),
    ("基本診療料の施設基準等(平成二十年厚生労働省告示第六十二号)の一部を次のように改正し", "history"),
    ("「副業・兼業の場合における労働時間管理に係る労働基準法第38条第1項の解釈等について」(令和2年9月1日付け基発0901第3号)", "history"),
    # an award won before
    ("2022年度グッドデザイン賞を受賞", "history"),
    ("2019年に地域づくり総務大臣表彰を受けた", "history"),
    # and the initiative's own years stay
    ("2019年に3社で協定を締結", "initiative"),
    ("「令和元年 台風 15 号」の被災地に給水車を派遣", "initiative"),
    ("2021年11月に開業する", "initiative"),
])
def test_written_years_that_are_not_the_initiatives(text, kind):
    ms = [m for m in find_year_mentions(text, "2025-08") if not m["relative"]]
    assert {m["kind"] for m in ms} == {kind}
    assert bool(years(text, "2025-08")) == (kind == "initiative")


def test_kpi_table_baseline_and_target():
    # the strategy's KPI header: the baseline is a statistic, the target year a target
    ms = find_year_mentions("現状値\n(2014年度)\n\n目標値\n(2019年度)", "2016")
    assert [(m["year"], m["kind"]) for m in ms] == [(2014, "statistic"), (2019, "target")]


@pytest.mark.parametrize("text", [
    "#### 現状値\n#### (2014年度)\n\n#### 目標値\n#### (2019年度)",  # heading lines from font sizes
    "| 現状値 | (2014年度) | 目標値 | (2019年度) |",  # a markdown table row
])
def test_kpi_header_as_markdown(text):
    # the same header as converters to markdown write it: the marks do not hide the labels
    ms = find_year_mentions(text, "2016")
    assert [(m["year"], m["kind"]) for m in ms] == [(2014, "statistic"), (2019, "target")]


def test_heading_year_opens_an_event_title():
    # village newsletter 2025-08: `2025木の手づくり展`; bare numbers elsewhere stay unread
    assert years("今年も開催!2025木の手づくり展\n卒業制作作品を中心に", "2025-08") == [2025]
    assert years("本文\n骨太の方針2025に基づき") == []


# --- tables -------------------------------------------------------------------------------------

def test_table_years():
    assert years("| 日時 | 2016年6月 | 2017年2月 | 2018年1月 |") == [2016, 2017, 2018]
    # a header of years over a row of figures is a statistics table: its years are statistics
    ms = find_year_mentions("| 指標 | 2019 | 2020 | 2021 |\n|---|---|---|---|\n| 人口 | 1200 | 1180 | 1150 |")
    assert [(m["year"], m["kind"]) for m in ms] == [(2019, "statistic"), (2020, "statistic"), (2021, "statistic")]
    assert years("| 年度 | H30 | R1 | R2 |") == [2018, 2019, 2020]
    assert years("2015 2016 2017 2018 2019\n年度 年度 年度 年度 年度") == [2015, 2016, 2017, 2018, 2019]
    assert years("| 売上 | 1200 | 2019 |") == []


# --- scorer -------------------------------------------------------------------------------------

def test_score_years():
    assert score_years([2019, 2020], [2020, 2021]) == (1, 1, 1)
    assert score_years([], []) == (0, 0, 0)


# --- document date ------------------------------------------------------------------------------

def test_document_date_snippets():
    assert find_document_date("通知\n\n令和2年11月17日\n内閣府地方創生推進事務局\n\n本文") == "2020-11-17"
    assert find_document_date("with/post コロナの地方活性化\n\n2020年11月\n\n一般社団法人 日本経済団体連合会\n") == "2020-11"
    assert find_document_date("モデル就業規則\n\n令和4年11月版\n厚生労働省労働基準局監督課\n") == "2022-11"
    assert find_document_date("本文。2019年4月に設立した。\n") is None
    assert find_document_date("白書\n2025年 発行\n本文") == "2025"   # a bare year needs a publication word
    assert find_document_date("白書\n2025年\n本文") is None
    info = find_document_date_info("事例\n本文。2020年10月時点で61法人。2020 年 9 月現在、12大学。\n")
    assert info["date"] == "2020-10" and info["method"] == "as_of"


SEEDS = shared_path() / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"shared seeds not found at {SEEDS}")
@pytest.mark.parametrize("stem, date, method", [
    ("000_948473052867b212", "2021-11", "edition"),   # (2021年11月時点版)
    ("001_7db842c1dad96953", "2020-10", "as_of"),     # no date of its own; published 2020-11
    ("002_9c82568bb750c7de", None, None),
    ("003_a912029e63bdb806", None, None),
    ("004_1e7916743c47c828", "2025-10", "cover"),
])
def test_document_date_on_seeds(stem, date, method):
    from jirei.extract.ingest import ingest

    info = find_document_date_info(ingest(SEEDS / f"{stem}.txt").text)
    assert (info["date"], info["method"]) == (date, method) if date else info is None


# --- the gold's written non-initiative years and relative years, on the real PDFs -------------------

def test_year_mentions_of_the_real_pdfs_against_the_gold(seeds_dir, pdfs_dir):
    """Every year the gold lists apart from `years` (its kind) and every relative year (its resolution),
    for the village strategy and the 2023-09 newsletter, read from the PDFs with the gold's case spans."""
    from jirei.evaluation.entities import YearMentionCounts, gold_cases, load_entity_gold, score_year_mentions

    golds = {g["doc"]: g for g in load_entity_gold()}
    for doc, date, expected in (("otoineppu_sogosenryaku.pdf", None, (16, 16, 16, 1, 1)),
                                ("otoineppu_kouhou_2023-09.pdf", "2023-09", (2, 2, 2, 1, 1))):
        document, cases = gold_cases(seeds_dir, golds[doc])
        total = YearMentionCounts()
        for case, row in zip(cases, golds[doc]["cases"]):
            case.year_mentions = [dict(m, span=[case.span[0] + m["span"][0], case.span[0] + m["span"][1]])
                                  for m in find_year_mentions(case.text, date)]
            case.years = stated_years(case.year_mentions)
            assert case.years == row["years"], row["heading"]
            total += score_year_mentions(case, row)
        assert (total.excluded, total.kept_out, total.kind_right, total.relative, total.resolved) == expected, doc


def test_relative_years_get_a_kind_from_their_context_too():
    # never in `years`; their kind says what they date
    kinds = lambda t: [(m["text"], m["year"], m["kind"]) for m in find_year_mentions(t, "2025-08") if m["relative"]]
    assert kinds("昨年度実績:参加者120名") == [("昨年度", 2024, "statistic")]
    assert kinds("今年度予算で整備") == [("今年度", 2025, "statistic")]
    assert kinds("昨年受賞した") == [("昨年", 2024, "history")]
    # the 2025-08 and 2021-04 newsletters: the initiative's own
    assert kinds("今年も開催!2025木の手づくり展") == [("今年", 2025, "initiative")]
    assert kinds("昨年末に北大中川研究林様より寄託を受けました!") == [("昨年", 2024, "initiative")]
    assert years("昨年度実績:参加者120名", "2025-08") == [] and years("今年も開催!", "2025-08") == []


def test_the_issues_month_alone_on_a_line_is_its_running_header():
    # the 2025-08 newsletter's issue month printed above an article; a dated day stays the case's
    assert [(m["year"], m["kind"]) for m in find_year_mentions("八幡神社祭\n令和7年8月\n7月22日(火)に宵宮祭", "2025-08")] == [
        (2025, "publication")]
    assert [m["kind"] for m in find_year_mentions("令和7年7月\n", "2025-08")] == ["initiative"]
    assert [m["kind"] for m in find_year_mentions("2025年8月1日\n", "2025-08")] == ["initiative"]
    assert [m["kind"] for m in find_year_mentions("令和7年8月\n", None)] == ["initiative"]  # no issue date known
    # a field's value: the event's date
    assert [m["kind"] for m in find_year_mentions("日時\n2025年8月\n場所", "2025-08")] == ["initiative"]


@pytest.mark.parametrize("text, expected", [
    # slides' and programme lists' notations
    ("FY2024から実証開始", [(2024, True, "initiative")]),
    ("R6.4~ 運行開始", [(2024, False, "initiative")]),
    # a year glossed in the other calendar is one year of one kind
    ("2024年(令和6年)に開始", [(2024, False, "initiative"), (2024, False, "initiative")]),
])
def test_slide_notations(text, expected):
    assert [(m["year"], m["fiscal"], m["kind"]) for m in find_year_mentions(text, "2025-10")] == expected
    assert find_year_mentions("MFY2024") == [] and find_year_mentions("R6.13~") == []


@pytest.mark.parametrize("text, kind", [
    # the year a line, a school or a service closed, a merger: history (the issue's "the year a line closed")
    ("旧国鉄天北線は1989年に廃線となった", "history"),
    ("2021年3月末で廃止された", "history"), ("2019年3月をもって休止", "history"), ("2014年の廃校後", "history"),
    ("平成18年に旧町と合併", "history"),
    # a closed school put to use by the initiative: its own year
    ("2024年に廃校を活用した施設を開設", "initiative"),
])
def test_closures_and_mergers_are_history(text, kind):
    assert [m["kind"] for m in find_year_mentions(text, "2025-08")] == [kind]

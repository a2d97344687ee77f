"""A village newsletter whose articles and notices alternate: the article that follows a notice is
still an entry when its text reports an event held (`8月1日(木)、…が開設されました`), and an
interview's `Q1`/`A1` lines stay in their article. The same holds for a newsletter converted to
markdown, and, read one case per page, as paged plain text."""

from __future__ import annotations

from pathlib import Path

from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

CSS = """@page { size: A4; margin: 14mm; } body { font-size: 10pt; line-height: 1.6; }
h2 { font-size: 16pt; margin: 5mm 0 2mm 0; } h3 { font-size: 11pt; margin: 3mm 0 1mm 0; } .pg { break-after: page; }
.notice { border: 1pt solid #999; padding: 2mm; margin: 3mm 0; } .notice .h { font-weight: bold; font-size: 12pt; }"""

ARTICLES = [
    ("村の森で木育キャンプ", "7月20日(土)、村有林で親子向けの木育キャンプが開かれ、12組が参加しました。"
     "森林組合の職員が間伐の意味を説明し、子どもたちは丸太切りに挑戦しました。", []),
    ("新しい地域おこし協力隊員を紹介します", "4月から着任した佐藤さんにお話を伺いました。",
     [("Q1 村に来たきっかけは?", "A1 大学で林業を学び、木工の村で働きたいと思いました。"),
      ("Q2 これからの抱負は?", "A2 木工品の販路を広げ、村の魅力を発信したいです。")]),
    ("道の駅に直売所がオープン", "8月1日(木)、道の駅に農産物の直売所が開設されました。"
     "村内の農家8戸が出荷し、初日は200人が訪れました。", []),
]
NOTICES = [("ごみの出し方が変わります", "10月から、プラスチック製容器包装は毎週水曜日の収集になります。"),
           ("献血にご協力ください", "9月5日(木)10時から役場前で献血を行います。"),
           ("休日当番医", "9月の休日当番医は村立診療所です。")]


def _newsletter_html() -> str:
    parts = []
    for (title, text, qa), (notice, body) in zip(ARTICLES, NOTICES):
        parts.append(f"<h2>{title}</h2><p>{text}</p>" + "".join(f"<h3>{q}</h3><p>{a}</p>" for q, a in qa))
        parts.append(f'<div class="notice"><div class="h">{notice}</div><p>{body}</p><p>問 住民課 ☎01656-5-3311</p></div>')
        parts.append('<div class="pg"></div>')
    return (f'<html><head><meta charset="utf-8"><style>{CSS}</style></head><body><h1>広報むら 9月号</h1>'
            f'{"".join(parts)}</body></html>')


def test_the_article_after_a_notice_is_an_entry(tmp_path: Path):
    from tests.pdf_fixtures import render_pdf_or_skip

    cases = segment(ingest(render_pdf_or_skip(_newsletter_html(), tmp_path / "news.pdf")))
    titles = [c.title for c in cases]
    assert titles == [t for t, _, _ in ARTICLES], titles
    assert "A2木工品の販路を広げ" in cases[1].text.replace(" ", "")  # the interview stays one article
    assert cases[2].text.rstrip().endswith("初日は200人が訪れました。")
    assert not any("献血" in c.text or "休日当番医" in c.text for c in cases)


# The same kind of newsletter as a converter writes it to markdown: its masthead and issue number,
# `-----` between pages, `##` articles, a page of notices (`## お知らせ`, a tax deadline, a calendar
# table), an article after them whose first sentence reports an activity (`…を体験しました`), and
# the editor's column.
NEWSLETTER_MD = """\
# 広報みほん村 2024年10月号

**No.712**

## 特集 秋の収穫祭に1,200人

10月6日(日)、村民広場で第15回秋の収穫祭が開催されました。村内の農家12戸が新米や野菜を販売し、村外からも多くの来場者が訪れました。

今年はみほん村観光協会が初めてキッチンカーを誘致し、地元食材を使ったメニューが人気を集めました。

-----

## 空き家バンクで3世帯が移住

村が2022年に始めた空き家バンクを通じて、今年度は3世帯8人が移住しました。改修費の補助(上限100万円)も好評です。

移住した田中さんは「子育てしやすい環境が決め手でした」と話しています。

## 地域おこし協力隊が着任しました

9月1日付けで、地域おこし協力隊として佐藤美咲さんが着任しました。特産品のブランド化と通販サイトの運営を担当します。

-----

## お知らせ

### 住民税の納期限について

第3期の納期限は10月31日(木)です。口座振替の方は前日までに残高をご確認ください。

問合せ先:税務係 ☎ 0000-00-0000

### 11月の行事予定

| 日付 | 行事 | 場所 |
|---|---|---|
| 11/3 | 文化祭 | 公民館 |
| 11/12 | 健康教室 | 保健センター |

-----

## みほん小学校で稲刈り体験

9月26日(木)、みほん小学校の5年生が学校田で稲刈りを体験しました。JAみほんの職員が鎌の使い方を指導し、児童たちは約1アールの稲を刈り取りました。

収穫した米は、12月の餅つき大会で使う予定です。

## 編集後記

朝晩の冷え込みが厳しくなってきました。体調管理にお気をつけください。
"""
NEWSLETTER_ARTICLES = ["特集 秋の収穫祭に1,200人", "空き家バンクで3世帯が移住", "地域おこし協力隊が着任しました",
                       "みほん小学校で稲刈り体験"]


def test_a_markdown_newsletters_articles_are_its_entries(tmp_path: Path):
    path = tmp_path / "kouhou-2024-10.md"
    path.write_text(NEWSLETTER_MD, encoding="utf-8")
    cases = segment(ingest(path))
    assert [c.title for c in cases] == NEWSLETTER_ARTICLES
    assert cases[-1].text.rstrip().endswith("12月の餅つき大会で使う予定です。")  # not the editor's column


def test_the_newsletter_as_paged_plain_text_skips_its_masthead_and_notices(tmp_path: Path):
    # without heading marks the model falls back to one case per page; the masthead (`広報… 10月号`,
    # `No.712`) heads no article and the editor's column is no part of the last one
    import re

    path = tmp_path / "kouhou-2024-10.txt"
    path.write_text(re.sub(r"(?m)^#+ ", "", NEWSLETTER_MD).replace("**", ""), encoding="utf-8")
    cases = segment(ingest(path))
    assert cases[0].title == NEWSLETTER_ARTICLES[0]
    assert cases[-1].title == NEWSLETTER_ARTICLES[-1] and "編集後記" not in cases[-1].text
    assert not any("納期限" in c.text or "文化祭" in c.text for c in cases)


def test_a_paged_text_newsletters_second_article_on_a_page_is_an_entry(tmp_path: Path):
    # one case per page is the model's reading of this paged plain text; a page's second article
    # opens its own entry when its first sentence reports an event held, a column's banner does not
    pages = [
        "広報みほん村 2024年11月号\n\n文化祭に300人\n\n11月3日(日)、公民館で第40回文化祭が開催されました。"
        "書道や陶芸の作品120点が並び、"
        "子どもたちの合唱や郷土芸能の発表もありました。来場者は昨年より50人多く、会場は一日中にぎわいました。",
        "森の学校で木工教室\n\n11月9日(土)、森の学校で親子木工教室が開かれました。12組がまな板づくりを体験しました。\n\n"
        "kurashi\n\n11月10日(日)、消防団の秋季訓練が行われました。\n\n"
        "特産そばの新蕎麦まつり\n\n11月17日(日)、道の駅で新蕎麦まつりが開催されました。約500食が売れました。",
        "高校生が村長と意見交換\n\n11月20日(水)、おと高の生徒会と村長の意見交換会が行われました。",
        "図書館に新刊コーナー\n\n11月25日(月)、村立図書館に新刊コーナーを開設しました。",
    ]
    path = tmp_path / "kouhou-2024-11.txt"
    path.write_text("\n\n---\n\n".join(pages) + "\n", encoding="utf-8")
    cases = segment(ingest(path))
    assert [c.title for c in cases] == ["文化祭に300人", "森の学校で木工教室", "特産そばの新蕎麦まつり",
                                        "高校生が村長と意見交換", "図書館に新刊コーナー"]


def test_the_newsletter_as_unpaged_plain_text_keeps_its_article_after_the_notices(tmp_path: Path):
    # plain text without page breaks is the rule sets' to read; the article after the notices
    # reports an activity in the active voice (`…稲刈りを体験しました`)
    import re

    text = re.sub(r"(?m)^-----\n\n", "", re.sub(r"(?m)^#+ ", "", NEWSLETTER_MD).replace("**", ""))
    path = tmp_path / "kouhou-2024-10-unpaged.txt"
    path.write_text(text, encoding="utf-8")
    doc = ingest(path)
    assert not doc.pages
    cases = segment(doc)
    assert cases[0].title == NEWSLETTER_ARTICLES[0] and cases[-1].title == NEWSLETTER_ARTICLES[-1]
    assert "編集後記" not in cases[-1].text and not any("納期限" in c.text for c in cases)


# A newsletter converted to markdown whose converter marks an article's catch line and the event's
# name under it at one level (`## 夏の新たな風物詩!` / `## 森と匠の村ふるさと納涼まつり`).
SUBTITLED_MD = """\
# 広報みほん村 2024年9月号

## 夏の新たな風物詩!
## 森と匠の村ふるさと納涼まつり

8月17日(木)、第1回目となる納涼まつりが村民広場で開催されました。村内外から約300人が訪れ、屋台や盆踊りを楽しみました。実行委員会は来年も開催する予定です。

-----

## 自分だけの小物づくり!
## エコミュージアムでワークショップ

8月19日(土)、エコミュージアムおさしまセンターで木工のワークショップが開かれました。親子15組が参加し、コースターや箸置きを作りました。

## 美味しいパンの秘密、教えます!
## 農畜産物加工施設パン作り講習会

8月26日(土)、農畜産物処理加工施設でパン作り講習会が行われました。地元の小麦を使い、参加者12人が食パンとロールパンを焼きました。

-----

## お知らせ

### 住民税の納期限について

第3期の納期限は9月30日(月)です。

-----

## 高校生が村長と意見交換
## 生徒会との懇談会

9月20日(金)、おと高の生徒会と村長の意見交換会が行われました。通学バスの増便などについて話し合いました。
"""


def test_a_headline_and_its_subtitle_set_alike_open_one_article(tmp_path: Path):
    # a case has a body: a head right under a one-line headline, at its level, is its subtitle
    path = tmp_path / "kouhou-2024-09.md"
    path.write_text(SUBTITLED_MD, encoding="utf-8")
    cases = segment(ingest(path))
    assert len(cases) == 4 and all("日(" in c.text for c in cases)  # each entry holds its article's text
    assert [cases[i].title for i in (0, 1, 3)] == [
        "夏の新たな風物詩!森と匠の村ふるさと納涼まつり", "自分だけの小物づくり!エコミュージアムでワークショップ",
        "高校生が村長と意見交換生徒会との懇談会"]
    assert "8月26日" in cases[2].text
    # a catch line after another article's body on the same page keeps its title line
    assert cases[2].title == "美味しいパンの秘密、教えます!農畜産物加工施設パン作り講習会"


# A column page of staff reports under one banner, each signed by its writer, and an exhibition
# page that lists its artists by name (names over a list sign nothing).
SIGNED_REPORTS = [
    "広報みほん村 2024年12月号\n\n冬の星空観察会\n\n12月7日(土)、天文台で星空観察会が開かれました。"
    "村内外から親子30人が参加し、冬の大三角やオリオン座の星雲を望遠鏡で観察しました。",
    "地域おこし協力隊活動報告\n\n「木のおもちゃで遊ぼう!」\n\n地域おこし協力隊 山本 彩花\n\n"
    "11月から幼児センターで木のおもちゃの広場を開いています。村の木工職人さんに作っていただいた積み木や"
    "パズルで、子どもたちが毎週夢中になって遊んでいます。来年は親子向けのおもちゃ作り教室も計画しています。\n\n"
    "「冬の仕事、はじめました!」\n\n地域おこし協力隊 佐々木 翔\n\n"
    "10月に着任して二か月、除雪の手伝いや薪割りなど、冬の村の仕事を一つずつ覚えています。"
    "雪の多い村での暮らしは初めてですが、先輩の皆さんに教わりながら、冬の観光の企画にも取り組んでいます。",
    "冬の企画展 若手作家展\n\n12月20日(金)、エコミュージアムで若手作家展が開幕し、初日は40人が訪れました。"
    "村の美術工芸高校を卒業した若手作家6人の作品20点を、来年1月まで展示しています。\n\n"
    "出展作家\n\n佐藤 真由\n\n2020年3月卒\n\n絵画\n\n高橋 陸\n\n2021年3月卒\n\n彫刻",
]


def _segment_pages(path: Path, pages: list[str]):
    """Write pages as paged plain text (`---` between them, as converters write page breaks) and
    segment the file."""
    path.write_text("\n\n---\n\n".join(pages) + "\n", encoding="utf-8")
    return segment(ingest(path))


def test_each_signed_report_under_a_column_banner_is_an_entry(tmp_path: Path):
    # the page reading opens the column page once; each report signed under its headline opens its
    # own entry, and an exhibition's artists (a name over a list) open none
    cases = _segment_pages(tmp_path / "kouhou-2024-12.txt", SIGNED_REPORTS)
    titles = [c.title for c in cases]
    assert len(cases) == 4, titles
    assert "木のおもちゃで遊ぼう" in cases[1].text and "冬の仕事" not in cases[1].text
    assert titles[2] == "「冬の仕事、はじめました!」"
    assert cases[2].text.rstrip().endswith("冬の観光の企画にも取り組んでいます。")
    assert titles[3].startswith("冬の企画展")  # its artists' names open no entry


def test_a_byline_is_a_persons_name_not_an_office_a_place_or_a_column():
    from jirei.extract.segment.patterns import is_byline

    bylines = ["地域おこし協力隊 光森 恵理子", "地域プロジェクトマネージャー 加藤 瑛瑠", "足立 悠",
               "地域おこし協力隊 関 はずき", "エコミュージアムおさしまセンター 学芸員 川﨑映"]
    others = ["住民課 生活室", "音威子府村 公民館", "問 総務課", "地域おこし協力隊活動報告", "北海道 東川町",
              "■ 地域おこし協力隊 活動レポート", "令和7年 8月号", "伊那市 長谷", "概要 期間"]
    assert all(is_byline(s) for s in bylines)
    assert not any(is_byline(s) for s in others)


# A newsletter as paged plain text whose cover carries a feature's teaser and the publication's name
# (more text than a title page), and a notice page under a notice column's romanised banner.
COVER_AND_NOTICES = [
    "令和7\n\n2 0 2 5 2\n\n特\n集 冬の村を楽しむ\n雪まつりと星空観察会\nMihon village public relations magazine\n"
    "森とともに一人ひとりの匠が活躍する村\n広報\nみほん",
    "雪まつりに1,000人\n\n1月18日(土)、村民広場で第30回雪まつりが開催されました。巨大な滑り台や雪像コンテストに、"
    "村内外から約1,000人が訪れました。実行委員会は来年も同じ時期に開催する予定です。",
    "冬の星空観察会\n\n1月25日(土)、天文台で星空観察会が開かれました。村内外から親子30人が参加し、"
    "冬の大三角やオリオン座の星雲を望遠鏡で観察しました。",
    "oshirase\n\nマイナンバーカードの更新について\n\nカードの有効期限が近づいた方には、有効期限の2~3か月前に"
    "通知書が届きます。通知書と本人確認書類を持って、役場住民課で手続きをしてください。\n\n問 住民課 ☎5-3312",
    "おと高生が除雪ボランティア\n\n1月25日(土)、おと高の生徒20人が高齢者宅の除雪ボランティアを行いました。"
    "生徒たちは2班に分かれ、12軒の玄関先や窓の周りの雪を片付けました。",
]


def test_a_paged_newsletters_cover_and_notice_page_are_no_entries(tmp_path: Path):
    # one case per page: the cover (it names the publication, `広報`) and a page under `oshirase`
    # open none
    cases = _segment_pages(tmp_path / "kouhou-2025-02.txt", COVER_AND_NOTICES)
    assert [c.title for c in cases] == ["雪まつりに1,000人", "冬の星空観察会", "おと高生が除雪ボランティア"]


def test_a_pages_second_headline_over_its_own_text_is_an_entry(tmp_path: Path):
    # read one case per page, a page's second article opens its own entry when its head is a
    # headline (`…駆け抜けます!`) with prose of its own, under a first article that has prose too,
    # though neither reports an event held
    pages = list(COVER_AND_NOTICES)
    pages[2] = ("村営バスの路線を見直します\n\n村は4月から、村営バスの路線を見直し、診療所と役場、道の駅を結ぶ循環線を"
                "新設します。通院や買い物に使いやすいよう、午前と午後に各3便を運行し、運賃は一律100円とします。"
                "高齢者の免許返納後の移動手段としても期待されています。\n\n"
                "観光列車が春の宗谷本線を駆け抜けます!\n\n5月の週末、観光列車「花たびそうや」号が旭川と稚内の間を"
                "走ります。停車駅では地元の特産品を販売する予定で、村も駅前で木工品の販売ブースを出店します。"
                "沿線の町と共同で、乗客を迎えるおもてなしの準備を進めています。")
    titles = [c.title for c in _segment_pages(tmp_path / "kouhou-2025-03.txt", pages)]
    assert titles == ["雪まつりに1,000人", "村営バスの路線を見直します", "観光列車が春の宗谷本線を駆け抜けます!",
                      "おと高生が除雪ボランティア"], titles


# A newsletter converted to markdown whose articles' titles carry heading marks and whose feature
# article sets its sub-heads in the text's own size (`卒業生の活動を、地域で応援!`).
FEATURE_MD = """\
# 広報みほん村 2024年9月号

#### 夏の新たな風物詩!
#### 森と匠の村ふるさと納涼まつり

8月17日(木)、第1回目となる納涼まつりが村民広場で開催されました。村内外から約300人が訪れ、屋台や盆踊りを楽しみました。実行委員会は来年も同じ時期に開催する予定で、出店者の募集を始めています。

---

#### 自分だけの小物づくり!
#### エコミュージアムでワークショップ

8月19日(土)、エコミュージアムおさしまセンターで木工のワークショップが開かれました。親子15組が参加し、コースターや箸置きを作りました。

#### 美味しいパンの秘密、教えます!
#### 農畜産物加工施設パン作り講習会

8月26日(土)、農畜産物処理加工施設でパン作り講習会が行われました。地元の小麦を使い、参加者12人が食パンとロールパンを焼きました。

---

#### 若手作家展 -2024-
#### ~高校卒業生の「里帰り」

卒業生の活動を、地域で応援!

8月21日(水)から「若手作家展」が、エコミュージアムにて開催されています。高校を卒業したアーティストを応援し、地域をPRするイベントの第2弾として企画されました。4名が出展しました。

地域のみなさんと交流!
「トークセッション」

出展アーティストが滞在していた8月21日と9月1日(日)にそれぞれトークセッションが行われ、地域の方々が作品づくりの話に耳を傾けました。

---

#### 高校生が村長と意見交換
#### 生徒会との懇談会

9月20日(金)、高校の生徒会と村長の意見交換会が行われました。通学バスの増便などについて話し合いました。

#### 村の森で木育キャンプ

9月23日(月)、村有林で親子向けの木育キャンプが開かれ、12組が参加しました。子どもたちは丸太切りに挑戦しました。
"""


def test_a_feature_articles_unmarked_sub_heads_stay_in_it(tmp_path: Path):
    # where the cases open at marked heads, a line in the text's own size heads no case
    path = tmp_path / "kouhou-2024-09-feature.md"
    path.write_text(FEATURE_MD, encoding="utf-8")
    cases = segment(ingest(path))
    titles = [c.title for c in cases]
    assert len(cases) == 6 and titles[3].startswith("若手作家展"), titles
    assert "作品づくりの話に耳を傾けました" in cases[3].text


def test_the_rule_sets_read_a_catch_line_and_its_title_as_one_head(tmp_path: Path):
    # the rule sets' reading (a declared layout, the floor, plain text): a head with no body right
    # over an article's head is its catch line, part of the title, not an article's end
    path = tmp_path / "kouhou-2024-09.md"
    path.write_text(SUBTITLED_MD, encoding="utf-8")
    titles = [c.title for c in segment(ingest(path), layout="fallback")]
    assert titles == ["夏の新たな風物詩!森と匠の村ふるさと納涼まつり", "自分だけの小物づくり!エコミュージアムでワークショップ",
                      "美味しいパンの秘密、教えます!農畜産物加工施設パン作り講習会", "高校生が村長と意見交換生徒会との懇談会"]


def test_an_exhibition_announced_with_its_particulars_is_an_entry_a_calendar_is_not(tmp_path: Path):
    # a museum's notice page announces an exhibition and a gathering with their dates (event
    # programmes: cases by the guideline), a calendar lists events without particulars
    pages = list(COVER_AND_NOTICES)
    pages[3] = ("エコミュージアムからのお知らせ\n\n特別企画展 森の先人たち展\n\n会期 10月1日(水)~11月30日(日)\n\n"
                "村の開拓を支えた人々の写真や道具を、約80点の資料で紹介します。初公開の記録写真もあります。\n\n"
                "木の集い 開催します\n\n日時 10月18日(土) 9:00~14:30\n\n研究林の散策と、学芸員による館内の解説を"
                "予定しています。参加は無料です。\n\n問 エコミュージアム ☎5-3980")
    pages.insert(4, "イベントカレンダー 10月\n\n10/4(土) 村民運動会\n\n(小中学校体育館)\n\n10/11(土) 木工教室\n\n"
                    "(木遊館 10:00~)")
    titles = [c.title for c in _segment_pages(tmp_path / "kouhou-2025-10.txt", pages)]
    assert titles == ["雪まつりに1,000人", "冬の星空観察会", "特別企画展 森の先人たち展", "木の集い 開催します",
                      "おと高生が除雪ボランティア"], titles


def test_a_report_of_disaster_damage_and_a_greeting_column_are_no_entries(tmp_path: Path):
    # the guideline's non-cases whose heads read like articles' (corpus/segmentation/README.md)
    pages = list(COVER_AND_NOTICES)
    pages[3] = ("令和7年1月大雪災害\n\n1月8日からの大雪により、村内では住宅の屋根や農業用ハウスに被害が出ました。"
                "被害を受けた方は、役場産業課で罹災証明の申請を受け付けています。\n\n問 産業課 ☎5-3313")
    pages.insert(4, "こんにちは\n\n以前、ご縁があって村を訪れた際にここがとても気に入り、今回は一か月滞在しました。"
                    "森と匠の村の皆さんに暖かく迎えていただき、ありがとうございました。")
    titles = [c.title for c in _segment_pages(tmp_path / "kouhou-2025-02b.txt", pages)]
    assert titles == ["雪まつりに1,000人", "冬の星空観察会", "おと高生が除雪ボランティア"], titles


# A town's list of initiatives converted to markdown: each `###` head names its place in brackets
# (the headed-report layout), and notices stand between them at the same level.
NUMBERED_MD = """\
# 広報まちだより 10月号

### ① 工場の排熱を活用した温室でのいちご栽培(北海道東川町)

2019年から町内の工場で出る排熱を近隣の温室に送り、地元農家と共同でいちごを栽培している。

### ② 事業承継ファンドによる老舗旅館の再生(兵庫県豊岡市)

2020年に地域の事業承継ファンドを設立し、後継者不在の老舗旅館3軒に出資した。

### お知らせ

役場では、窓口業務を担当する会計年度任用職員を募集しています。

問 総務課 ☎0123-45-6703

-----

### ③ 間伐材を使った公共施設の建設(岐阜県郡上市)

郡上市産の間伐材を構造材に用いた保育園と図書館を建設した。若手の林業従事者の研修も受け入れている。

### 献血にご協力ください

9月5日(木)10時から役場前で献血を行います。
"""


def test_a_notice_at_the_entries_level_of_a_headed_report_is_no_entry(tmp_path: Path):
    path = tmp_path / "machi-2024-10.md"
    path.write_text(NUMBERED_MD, encoding="utf-8")
    cases = segment(ingest(path))
    assert [c.title[:2] for c in cases] == ["① ", "② ", "③ "], [c.title for c in cases]
    assert not any("会計年度任用職員" in c.text or "献血" in c.text for c in cases)

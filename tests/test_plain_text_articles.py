"""A town newsletter as plain text (no typography, no pages), read with the shipped model: a
feature whose lead introduces the articles after it (`今回は、…についてご紹介します。`) gives one
entry per article even where the model leaves the whole feature outside any case
(`crf.with_feature_articles`); a headline's prose may run over a photo's caption; an event's
title block with its dates opens the article that reports the event, the headline under it being
its subtitle (`crf.with_event_title_blocks`); a sub-head quoting what its article told of
(`「トークセッション」`) stays in it (`crf.without_told_subheads`); a report of disaster damage,
its headline set over two lines, is no case; nor is a message's signature in kana."""

from __future__ import annotations

from pathlib import Path

from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

FEATURE = """広報ほくと 令和6年6月号

北斗町における地域公共交通に関する取り組みについて

北斗町では、路線バスの利用者が年々減少するなか、町民の移動手段をどのように確保していくかが大きな課題となっています。これまでの「乗って残す」取り組みに加え、地域の資源として公共交通を生かしていく視点が欠かせません。
今回は、町が実施している地域公共交通の維持と利用促進に関する取り組みについてご紹介します。

企画課交通政策係

☎12‐3456

北斗町「みんなのバス停」プロジェクト

本町では、令和6年度から、利用の少ないバス停の維持管理を町が担うこととしました。待合所の清掃や除雪を地域の皆さんと一緒に行い、バス停を地域の交流の場として生かしていきます。ふるさと納税の使い道にも加え、全国の皆さまから支援をいただいています。

「北斗線利用促進協議会」北斗町・南川村で立ち上げ

本協議会は、北斗線を地域の足として考え、沿線住民の利用意識を高めることを目的に、北斗町と南川村が共同で設立しました。5月20日に行われた設立総会では、両町村の町長・村長が出席し、今後の取り組みについて意見を交わしました。

観光バス「ほくと花めぐり」号が、
初夏の北斗線を走ります!

この初夏、北斗線にて、観光バス「ほくと花めぐり」号が運行されます。
↑車内の様子。
沿線の花畑をめぐる特別運行で、町内の停留所では地元の特産品の販売も予定されています。
"""

TOPICS = """広報ほくと 令和6年9月号

夏の夜空に大輪の花!
北斗ふるさと花火大会

8月10日(土)、北斗川河川敷にて「北斗ふるさと花火大会」が行われました。5年ぶりの開催となった今年は、町内外から約3千人が訪れ、夜空を彩る約2千発の花火に大きな歓声が上がりました。会場では商工会青年部による屋台も並び、夏の夜のひとときを楽しみました。

北斗の木工作品展 -2024-
~北斗高校卒業生の「里帰り」
2024/8/20‐9/16

卒業生の活躍を、ふるさとで応援!

8月20日(火)から「北斗の木工作品展」が、北斗町民センターにて開催されています。本展示は、北斗高校を卒業した木工作家を応援し、町の木工文化を広く発信するために企画されたもので、5名が出展しました。展示の準備から作家が中心となって作り上げたほか、会期中には作家によるトークセッションも予定されています。

作家と語ろう!「トークセッション」

8月24日(土)、北斗町民センターにてトークセッションが行われ、出展した作家それぞれから作品の解説や現在の活動について話がありました。会場からの質問にも丁寧に答え、和やかなひとときとなりました。

令和6年8月豪雨災害

自然の猛威
豪雨により浸水被害が発生

8月28日(水)、豪雨による浸水が発生し、北斗川沿いの地区など広い範囲で道路の冠水が確認されました。消防団員や役場職員が土のう積みを行ったほか、一時避難所を開設しました。幸いにして人的被害はありませんでした。日頃から防災意識を持ち、できる備えをしておくことが大切です。

町民運動会で大にぎわい!

9月1日(日)、北斗町総合運動公園にて町民運動会が開催されました。地区対抗リレーや綱引きなどに約400人が参加し、世代を超えて汗を流しました。最後の地区対抗リレーでは、ゴール前の逆転に会場が大いに盛り上がりました。
"""


def _entries(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return segment(ingest(path))


def test_a_features_articles_are_its_entries_and_its_head_is_none(tmp_path: Path):
    cases = _entries(tmp_path, "feature.txt", FEATURE)
    assert [c.title.replace("\n", "") for c in cases] == [
        "北斗町「みんなのバス停」プロジェクト",
        "「北斗線利用促進協議会」北斗町・南川村で立ち上げ",
        "観光バス「ほくと花めぐり」号が、初夏の北斗線を走ります!",
    ]
    # each article ends where the next begins; the last keeps its prose past the photo's caption
    assert "ふるさと納税" in cases[0].text and "北斗線利用促進協議会" not in cases[0].text
    assert cases[2].text.rstrip().endswith("販売も予定されています。")
    # the feature's head and lead, and the contact under them, are in no entry
    assert not any("今回は" in c.text or "☎" in c.text for c in cases)


def test_an_events_title_block_opens_its_article_and_a_told_sub_head_stays_in_it(tmp_path: Path):
    cases = _entries(tmp_path, "topics.txt", TOPICS)
    titles = [c.title.replace("\n", "") for c in cases]
    assert len(cases) == 3, titles
    assert titles[0].startswith("夏の夜空に大輪の花!")
    assert titles[1].startswith("北斗の木工作品展 -2024-")  # not its subtitle `卒業生の活躍を、…`
    assert titles[2] == "町民運動会で大にぎわい!"
    exhibition = cases[1].text
    assert "卒業生の活躍を、ふるさとで応援!" in exhibition
    assert "作家と語ろう!「トークセッション」" in exhibition and "和やかなひとときとなりました。" in exhibition
    # the flood report opens no entry and belongs to none
    assert not any("浸水" in c.text for c in cases)


MESSAGES = """広報ほくと 令和6年10月号

北斗の木工作品展を振り返って

9月16日(月)まで北斗町民センターにて開催された「北斗の木工作品展」には、会期中に延べ600人が訪れました。出展した北斗高校の卒業生5名は、会期中それぞれ来町し、町民や在校生と交流しました。作品展を通じて、卒業生と地域のつながりを深めることができました。

出展した作家のうち、2名の方からメッセージを頂きました。

久しぶりに北斗町を訪れ、町の皆さんや高校の後輩と話すことができて、とても楽しい時間になりました。これからも作品づくりを通して町とつながっていきたいと思います。

あきやまさくら

高校を卒業して初めての展示で、緊張と不安でいっぱいでしたが、町の皆さんが温かく迎えてくださり、自分の活動に自信を持つことができました。また町で展示をしたいです。

もりのゆい

稲刈り体験で実りの秋を満喫!

9月25日(水)、北斗小学校の5年生が学校近くの田んぼで稲刈りを体験しました。地元の農家の皆さんに鎌の使い方を教わりながら、春に自分たちで植えた稲を一株ずつ丁寧に刈り取りました。収穫したお米は、12月の収穫祭で味わう予定です。
"""


def test_a_signature_in_kana_under_a_message_opens_no_case(tmp_path: Path):
    # the messages' signers (`あきやまさくら`, a name Sudachi reads as a given name) are no headlines,
    # though each stands alone over prose: the article keeps both messages
    cases = _entries(tmp_path, "messages.txt", MESSAGES)
    titles = [c.title.replace("\n", "") for c in cases]
    assert titles == ["北斗の木工作品展を振り返って", "稲刈り体験で実りの秋を満喫!"], titles
    assert "また町で展示をしたいです。" in cases[0].text


MARKED = """広報ほくと 令和6年8月号

◇北斗川で親子カヌー教室
7月13日(土)、北斗川で親子カヌー教室が開催され、町内の親子10組が参加しました。北斗町カヌー協会の指導員から漕ぎ方を教わり、親子で息を合わせて川を下りました。

◇町内企業と連携協定を締結
7月16日(火)、北斗町と北斗木材株式会社は「森林資源の活用に関する連携協定」を締結しました。町有林の間伐材を使った木製品の開発や、町内での木育活動に共同で取り組みます。

◇北斗高校でインターンシップ報告会
7月19日(金)、北斗高校で町内企業でのインターンシップ報告会が開かれました。2年生30名が、受け入れ先の企業で学んだことや働くことの意味について発表しました。
"""


def test_a_marked_head_one_reading_left_inside_an_entry_opens_its_own(tmp_path: Path):
    # plain text whose entries two readings decided: where one of them left a `◇` head inside the
    # entry before it (as the rule set's reading does under narrow columns), the merged entries are
    # read one way, a `◇` article each
    from dataclasses import replace

    from jirei.extract.segment import document_features, with_marked_siblings_across

    path = tmp_path / "marked.txt"
    path.write_text(MARKED, encoding="utf-8")
    doc = ingest(path)
    cases = segment(doc)
    assert [c.title for c in cases] == ["◇北斗川で親子カヌー教室", "◇町内企業と連携協定を締結", "◇北斗高校でインターンシップ報告会"]
    first, second, third = cases
    merged = replace(first, span=(first.span[0], second.span[1]), text=doc.text[first.span[0] : second.span[1]])
    out, _, _, _ = document_features(doc)
    read = with_marked_siblings_across(doc, out, [merged, third])
    assert [c.title for c in read] == [c.title for c in cases]
    assert [c.span for c in read] == [c.span for c in cases]
    assert [c.ordinal for c in read] == [1, 2, 3]
    assert read[1].text == doc.text[second.span[0] : second.span[1]]

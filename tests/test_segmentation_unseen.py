"""Real PDFs in layouts no declared rule set knows: the CRF over the outline (with the fallback's roles
as its prior) must still give sensible entries, as corpus/segmentation/pdfs says."""

import pytest

from jirei import paths
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

PDFS = paths.shared_dir() / "pdfs"
pytestmark = pytest.mark.skipif(not PDFS.is_dir(), reason=f"real PDFs not found at {PDFS}")


def test_village_newsletter_articles_become_entries():
    # The gold (corpus/segmentation/pdfs) heads each article with its catch line
    # (夏の新たな風物詩!) above the event's name.
    doc = ingest(PDFS / "otoineppu_kouhou_2023-09.pdf")
    cases = segment(doc)
    assert {c.layout for c in cases} == {"crf+fallback"}
    festival = next(c for c in cases if "森と匠の村ふるさと納涼まつり" in c.text)
    workshop = next(c for c in cases if "エコミュージアムでワークショップ" in c.text)
    assert festival.page == 2 and workshop.page == 3
    assert festival.span[1] <= workshop.span[0]  # one article does not swallow the next
    assert all(doc.text[c.span[0] : c.span[1]] == c.text for c in cases)


def test_model_rules_and_official_notice_are_not_read_as_slide_decks():
    # no place-naming heads over bullets: the slide rule set must not claim these documents
    from jirei.extract.segment import choose_rule_set
    from jirei.extract.segment.lines import split_lines

    for name in ("mhlw_model_shugyo_kisoku_R4-11.pdf", "otoineppu_sogosenryaku.pdf"):
        doc = ingest(PDFS / name)
        assert choose_rule_set(split_lines(doc)).name == "fallback", name
        cases = segment(doc)
        # the strategy's measures are written to one template, which reads them (`template+`)
        assert {c.layout for c in cases} <= {"crf+fallback", "template+fallback"}, name
    # model work rules are articles (第N条), not case entries (the gold has none): the fallback
    # alone took them for cases
    assert len(segment(ingest(PDFS / "mhlw_model_shugyo_kisoku_R4-11.pdf"))) <= 5


def test_markdown_report_heading_without_a_named_body_is_an_entry_not_a_section(tmp_path):
    # Seed 001 and 004 entries under `##` headings: one heading names no organisation in
    # parentheses (`② 丸紅:…`); at the entries' own level with a body under it, it is an entry.
    text = (
        "# 地域協創の取組事例\n\n"
        "## ② 丸紅:地銀への社員派遣による中堅・中小企業の活性化\n"
        "丸紅では、全国の地銀6行へ社員を派遣し、各地域の中堅・中小企業とのネットワークを構築している。\n\n"
        "## 関西発スタートアップの推進(大阪商工会議所)\n"
        "#### 地域発スタートアップを育成・強化\n"
        "京都や神戸商工会議所とも広域で連携、スタートアップ時の資金調達等も伴走支援\n\n"
        "## ② 住友化学:耕作放棄地の活用等による農業法人の展開(茨城県守谷市ほか)\n"
        "耕作放棄地においても農業経営ができるよう、全国7か所で農業法人を展開している。\n\n"
        "## こどもの農山漁村体験(山形県飯豊町)\n"
        "・東京都杉並区・飯豊町の官民が連携し、体験活動を支援\n"
    )
    path = tmp_path / "report.md"
    path.write_text(text, encoding="utf-8")
    cases = segment(ingest(path))
    assert [c.title[:4] for c in cases] == ["② 丸紅", "関西発ス", "② 住友", "こどもの"]
    assert all(c.section == ["地域協創の取組事例"] for c in cases)


def test_a_newsletter_as_plain_text_gives_its_articles():
    # the same newsletter without pages or typography (as a text export reaches Jirei): each
    # article opens with a catch line over the event's name, over prose reporting the event
    from jirei.evaluation.segmentation_cv import as_text

    doc = as_text(ingest(PDFS / "otoineppu_kouhou_2023-09.pdf"))
    cases = segment(doc)
    # plain text takes the model's route; where the model has no case open the fallback rule
    # set's reading of text stands, and `layout` says which decided
    assert cases and {c.layout for c in cases} <= {"crf+fallback", "rules+fallback"}
    titles = [c.title for c in cases]
    for catch in ("夏の新たな風物詩", "自分だけの小物づくり", "美味しいパンの秘密", "デコ盛り"):
        assert sum(catch in t for t in titles) == 1, (catch, titles)
    festival = next(c for c in cases if "夏の新たな風物詩" in c.title)
    assert "納涼まつり" in festival.text and "パン作り" not in festival.text
    # contact lines and banner words open no article
    assert not any("☎" in t or t.strip() in ("kurashi", "topics") for t in titles)
    # nor do an event's particulars (clinic hours, capacity, date and meeting place) or the
    # issue's masthead, though they stand over bullets or alone like heads
    from jirei.extract.segment.patterns import is_field_line

    assert not any(is_field_line(t) for t in titles), titles
    assert not any(w in t for t in titles for w in ("診療時間", "定員", "集合場所", "第588号"))


def test_notices_open_no_case_in_a_newsletter():
    # staff greetings, requests to residents and published figures share the pages of the
    # articles; whatever path reads the newsletter, none of them is a case
    cases = segment(ingest(PDFS / "otoineppu_kouhou_2021-04.pdf"))
    assert cases
    for notice in ("採用職員", "ご活用ください", "の公表", "自動車税", "入札"):
        assert not any(notice in c.title for c in cases), (notice, [c.title for c in cases])


def test_a_newsletter_converted_to_paged_markdown_is_read_by_its_pages(tmp_path):
    # the newsletter as a PDF-to-markdown converter writes it (`---` between pages): the text
    # reader gives it pages, and it takes the route chosen for paged text (the CRF's, whose
    # topic-page reading opens an entry on the page where each article starts)
    from jirei.evaluation.segmentation_cv import as_paged_text

    pdf = ingest(PDFS / "otoineppu_kouhou_2025-08.pdf")
    path = tmp_path / "kouhou_2025-08.md"
    path.write_text(as_paged_text(pdf).text, encoding="utf-8")
    doc = ingest(path)
    assert doc.kind == "text" and len(doc.pages) == len(pdf.pages)
    cases = segment(doc)
    assert cases and {c.layout.split("+")[0] for c in cases} <= {"crf", "pages"}
    shrine = next(c for c in cases if "八幡神社祭" in c.title)
    assert doc.pages[shrine.page - 1].label == f"part {shrine.page}"
    assert "八幡神社" in doc.text[doc.pages[shrine.page - 1].start : doc.pages[shrine.page - 1].end]
    assert all(doc.text[c.span[0] : c.span[1]] == c.text for c in cases)


def test_no_case_opens_at_particulars_contacts_or_a_bracketed_name():
    # the newsletter's notices carry lines the model may take for heads by their shape: clinic
    # hours, fees, phone numbers, a venue in brackets; none opens an entry
    from jirei.extract.segment.crf import not_a_head

    for name in ("otoineppu_kouhou_2025-08.pdf", "otoineppu_kouhou_2023-09.pdf"):
        cases = segment(ingest(PDFS / name))
        assert cases, name
        assert not [c.title for c in cases if not_a_head(c.title)], name
    assert not_a_head("(名寄市民文化センター)") and not_a_head("放送大学旭川サテライトスペース☎0166-00-0000")
    assert not not_a_head("わっしょい!わっしょい!八幡神社祭") and not not_a_head("「7月から着任しました!!」")

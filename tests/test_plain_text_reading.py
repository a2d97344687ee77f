"""A village newsletter as plain text (its PDF's text without pages or typography, as a text export
reaches Jirei), read by a case-boundary model fitted without it on the training set `jirei evaluate
segmentation --cv document` fits for it. Without typography the model opens only the cases it is
sure of (the column page's signed reports) and leaves the `topics` columns' articles outside any
case; where it has no case open, the fallback rule set's reading of text stands
(`segment.with_rule_cases_between`), and each entry's `layout` says which decided. In a feature whose articles the model reads as case text
without opening any, each headline standing right over its prose opens one
(`crf.with_headlines_in_unopened_runs`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import left_out_segmenter

NEWSLETTER = "otoineppu_kouhou_2025-08.pdf"


@pytest.mark.slow
def test_a_left_out_newsletter_as_plain_text_keeps_its_reports_and_its_articles(cv_documents, pdfs_dir: Path,
                                                                                 tmp_path: Path):
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.extract.segment import segment_crf, segment_rules

    if not (pdfs_dir / NEWSLETTER).is_file():
        pytest.skip(f"{NEWSLETTER} not found in {pdfs_dir}")
    text = next(d for d in cv_documents if d.name == f"{NEWSLETTER} as text")
    assert not text.doc.pages and not text.doc.line_levels
    segmenter, _ = left_out_segmenter(cv_documents, text, tmp_path / "left-out.crfsuite")

    cases = segment_crf(text.doc, segmenter)
    titles = [c.title for c in cases]
    by_layout = {c.layout for c in cases}
    assert by_layout == {"crf+fallback", "rules+fallback"}, by_layout  # both readings decided some
    # the signed reports the model reads, and the `topics` articles the rule set reads
    for head in ("「7月から着任しました!!」", "「No Maps旭川・木遊館鈴木知事訪問」", "大人も全員本気な村民運動会!",
                 "◇社会を明るくする運動", "◇木工技術継承普及に向けた連携協定締結", "◇北海道知事来村!なおみちカフェ"):
        assert sum(t.startswith(head) for t in titles) == 1, (head, titles)
    assert [c.ordinal for c in cases] == list(range(1, len(cases) + 1))
    assert all(a.span[1] <= b.span[0] for a, b in zip(cases, cases[1:]))  # entries never overlap
    score = score_segmentation(cases, text.gold)
    # the model alone 0.500 (its four reports), the rule set alone 0.783
    assert score.f1 > max(score_segmentation(segment_rules(text.doc), text.gold).f1, 0.8), (
        score.precision, score.recall, score.missed, score.spurious)


FEATURE_ISSUE = "otoineppu_kouhou_2021-04.pdf"


@pytest.mark.slow
def test_a_features_headlines_over_prose_open_cases_the_model_left_unopened(cv_documents, pdfs_dir: Path,
                                                                            tmp_path: Path):
    # the newsletter's feature (a banner and lead, then articles whose heads are lines like any
    # other over their prose) as plain text: the left-out model reads the articles as case text
    # but opens none; each headline right over its prose opens one, while the feature's banner,
    # a column's wrapped sentence (`関する事業」`) and a photo's caption (`↑…`) open none
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.extract.segment import document_features, segment_crf
    from jirei.extract.segment.crf import with_headlines_in_unopened_runs

    if not (pdfs_dir / FEATURE_ISSUE).is_file():
        pytest.skip(f"{FEATURE_ISSUE} not found in {pdfs_dir}")
    text = next(d for d in cv_documents if d.name == f"{FEATURE_ISSUE} as text")
    segmenter, _ = left_out_segmenter(cv_documents, text, tmp_path / "left-out.crfsuite")
    out, feats, _, _ = document_features(text.doc)
    labels = segmenter.label(feats)
    read = with_headlines_in_unopened_runs(out, labels)
    opened = [out.blocks[i].text.replace("\n", "") for i, (a, b) in enumerate(zip(labels, read)) if a != b]
    assert "音威子府村「みんなの駅」プロジェクト" in opened, opened
    assert "JR宗谷本線の未来を語るワークショップ" in opened, opened
    assert not any(t.startswith(("音威子府村における", "関する事業", "↑", "『実行委員会』")) for t in opened), opened

    titles = [c.title for c in segment_crf(text.doc, segmenter)]
    assert "音威子府村「みんなの駅」プロジェクト" in titles, titles
    # the rule set's reading of a vaccination notice's numbered items stays out (a notice reading
    # closes them) where the model has no case open
    assert not any(t.startswith(("②他の医療機関", "③どの医療機関")) for t in titles), titles
    # the model and the rule set alone: 0.400
    assert score_segmentation(segment_crf(text.doc, segmenter), text.gold).f1 >= 0.85


EVENTS_ISSUE = "otoineppu_kouhou_2023-09.pdf"


@pytest.mark.slow
def test_where_the_fallback_reads_a_newsletter_its_entries_take_the_final_reading(cv_documents, pdfs_dir: Path,
                                                                                   tmp_path: Path):
    # as plain text the left-out model opens no case and the fallback rule set's entries stand
    # (`rules+fallback`); they take the readings every reading ends with: an exhibition and a
    # gathering announced with their particulars are entries, a disaster-preparedness notice is none
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.extract.segment import segment_crf, segment_rules

    if not (pdfs_dir / EVENTS_ISSUE).is_file():
        pytest.skip(f"{EVENTS_ISSUE} not found in {pdfs_dir}")
    text = next(d for d in cv_documents if d.name == f"{EVENTS_ISSUE} as text")
    segmenter, _ = left_out_segmenter(cv_documents, text, tmp_path / "left-out.crfsuite")
    cases = segment_crf(text.doc, segmenter)
    assert {c.layout for c in cases} == {"rules+fallback"}
    titles = [c.title for c in cases]
    assert any(t.startswith("特別企画展") for t in titles), titles
    assert any(t.startswith("ビッキの木の集い") for t in titles), titles
    assert not any(t.startswith("災害への備え") for t in titles), titles
    rules = [c.title for c in segment_rules(text.doc)]
    assert any(t.startswith("災害への備え") for t in rules) and not any(t.startswith("特別企画展") for t in rules)
    # the rule set's entries as they stand: 0.471
    assert score_segmentation(cases, text.gold).f1 >= 0.65


EXHIBITION_ISSUE = "otoineppu_kouhou_2023-09.pdf"


def test_an_events_title_block_with_its_dates_heads_the_article_under_it(pdfs_dir: Path):
    # `音威子府展U22 -2023-` / `~おと高卒業生の「里帰り」` / `2023/8/21‐9/18`, a gap, then the report's
    # own head `卒業生の活動を、地域で応援!` over its prose: the dated block is the exhibition's title
    # and the head under it its subtitle, not an article of its own
    from jirei.evaluation.segmentation_cv import as_text
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment_rules

    if not (pdfs_dir / EXHIBITION_ISSUE).is_file():
        pytest.skip(f"{EXHIBITION_ISSUE} not found in {pdfs_dir}")
    doc = as_text(ingest(pdfs_dir / EXHIBITION_ISSUE))
    cases = segment_rules(doc)
    exhibition = [c for c in cases if c.title.startswith("音威子府展U22")]
    assert len(exhibition) == 1, [c.title for c in cases]
    assert "2023/8/21‐9/18" in exhibition[0].text and "卒業生の活動を、地域で応援!" in exhibition[0].text
    assert "本展示は、今年2月に札幌市にて開催した" in exhibition[0].text
    assert not any(c.title.startswith("卒業生の活動を") for c in cases)
    # the articles before it keep their own heads (a catch line over the event's name)
    assert [c.title for c in cases[:4]] == ["夏の新たな風物詩!", "自分だけの小物づくり!", "美味しいパンの秘密、教えます!",
                                            "おと高卒業生と、デコ盛り♪"]


def test_a_dated_line_closes_a_title_block_only_as_its_last_line(tmp_path: Path):
    from jirei.extract.segment.fallback import _head_block
    from jirei.extract.segment.lines import split_lines
    from jirei.extract.text import read_text

    def lines(text: str):
        path = tmp_path / "newsletter.txt"
        path.write_text(text, encoding="utf-8")
        return split_lines(read_text(path))

    dated = lines("本文の終わりです。\n\n音威子府展U22 -2023-\n~おと高卒業生の「里帰り」\n2023/8/21‐9/18\n\n"
                  "卒業生の活動を、地域で応援!\n")
    assert _head_block(dated, 2)
    # dates inside running lines end no block
    running = lines("本文の終わりです。\n\n講習会のお知らせ\n2023/8/21‐9/18\n公民館で開催します。参加者を募集しています。\n")
    assert not _head_block(running, 2)


def test_a_run_left_unopened_by_a_closed_opening_reads_its_headlines(pdfs_dir: Path):
    # the committed model reading the 2021-04 newsletter as plain text opens a case at a sentence
    # the reader split (`『実行委員会』)」` / `が設立されました。…`); a line that never heads a case
    # opens none, which leaves the feature's articles under it as case text with no case open: its
    # headline over prose (`JR宗谷本線の未来を語るワークショップ`) opens one
    from jirei.evaluation.segmentation_cv import as_text
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment

    if not (pdfs_dir / FEATURE_ISSUE).is_file():
        pytest.skip(f"{FEATURE_ISSUE} not found in {pdfs_dir}")
    titles = [c.title for c in segment(as_text(ingest(pdfs_dir / FEATURE_ISSUE)))]
    assert "JR宗谷本線の未来を語るワークショップ" in titles, titles
    assert not any(t.startswith(("が設立されました", "『実行委員会』")) for t in titles), titles

"""A real village newsletter read by a case-boundary model that never saw it: the 2025-08 issue of
the shared folder, with the CRF fitted on every other development document (seed texts and the
other real PDFs; what `jirei evaluate segmentation --cv document` does for it, without the
renderings). Its notice page lists `●` items under a romanised `oshirase` banner, its calendar
lists what is on, its column page prints two staff reports, each signed, under one banner, a
`topics` banner heads its first articles, and a page holds four `◇` articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from jirei import paths

NEWSLETTER = "otoineppu_kouhou_2025-08.pdf"


@pytest.mark.slow
def test_a_left_out_newsletters_notice_items_are_no_cases_and_its_signed_reports_are(pdfs_dir: Path,
                                                                                      seeds_dir: Path,
                                                                                      tmp_path: Path):
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.evaluation.segmentation_cv import _group_out, development_documents, training_sequences
    from jirei.extract.segment import segment_crf
    from jirei.extract.segment.crf import Segmenter, train

    if not (pdfs_dir / NEWSLETTER).is_file():
        pytest.skip(f"{NEWSLETTER} not found in {pdfs_dir}")
    docs = development_documents(seeds_dir, pdfs_dir, None, paths.SEGMENTATION_GOLD)
    left_out = next(d for d in docs if d.name == NEWSLETTER)
    pool = [d for d in docs if d.trains and not _group_out(left_out, d)]
    assert not any(d.source == left_out.source for d in pool)
    model = tmp_path / "left-out.crfsuite"
    train(training_sequences(pool), model)

    cases = segment_crf(left_out.doc, Segmenter(model))
    titles = [c.title for c in cases]
    assert not any("振り仮名" in t or t == "開催中" for t in titles), titles  # a notice's items, the calendar
    reports = ("「想像して楽しみながら創り出す事の大切さ!」", "「7月から着任しました!!」", "「行事祭りと木工体験教室!」",
               "「No Maps旭川・木遊館鈴木知事訪問」")
    holding = [[k for k, c in enumerate(cases) if report in c.text] for report in reports]
    assert all(len(h) == 1 for h in holding) and len({h[0] for h in holding}) == 4, "\n".join(titles)
    assert not any(t.startswith("●追記●") for t in titles)  # a postscript ends a report, never opens one
    # a column's banner over its first report titles a section; the report's headline, its case
    assert not any(t.endswith("活動報告") for t in titles), "\n".join(titles)
    # a page of `◇` articles is read one way: each its own entry
    marked = ("◇社会を明るくする運動", "◇木工技術継承普及に向けた連携協定締結", "◇幼小中高連携授業", "◇北海道知事来村!")
    assert all(any(t.startswith(m) for t in titles) for m in marked), "\n".join(titles)
    # a column's romanised banner opens no entry: its first article does
    assert "topics" not in titles and "大人も全員本気な村民運動会!" in titles, "\n".join(titles)
    assert score_segmentation(cases, left_out.gold).f1 > 0.5  # one entry per page scores 0.500


def test_every_entry_of_the_newsletter_has_a_body(pdfs_dir: Path):
    # the committed model opens a case at a column's banner and again at the report right under it:
    # a case has a body, so the two are one entry
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment

    if not (pdfs_dir / NEWSLETTER).is_file():
        pytest.skip(f"{NEWSLETTER} not found in {pdfs_dir}")
    cases = segment(ingest(pdfs_dir / NEWSLETTER))
    assert cases and all(len(c.text) >= len(c.title) + 40 for c in cases), [c.title for c in cases]

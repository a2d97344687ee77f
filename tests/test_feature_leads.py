"""A head whose first paragraph says the pages after it introduce something (`今回は、…についてご紹介
します。`, `本冊子では、…取組を紹介します。`) heads a feature or a booklet, not a case: it is a section
(`crf.without_feature_leads`), and in text with no typography the headlines under it open their
articles. An exhibition introducing its subject (`本展示では、…をご紹介いたします!`) is an article."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import left_out_segmenter

NEWSLETTER = "otoineppu_kouhou_2021-04.pdf"


def test_a_lead_introduces_the_pages_after_it_an_exhibition_its_subject():
    from jirei.extract.segment.crf import _INTRODUCES

    leads = ["今回は、村が実施している、JR宗谷本線の活性化・維持利活用に関する取り組みについてご紹介します。",
             "本冊子では、各地で進められている特色ある取組を紹介します。"]
    articles = ["本展示では、「歴史」や「生物」、「岩石」などの様々な視点で頓別坊川をご紹介いたします!",
                "村の木工職人さんに作っていただいた積み木やパズルを紹介します。"]
    assert all(_INTRODUCES.search(t) for t in leads)
    assert not any(_INTRODUCES.search(t) for t in articles)


@pytest.mark.slow
def test_a_features_banner_and_lead_open_no_case_its_articles_do(cv_documents, pdfs_dir: Path, tmp_path: Path):
    # as paged text the page reading opened the feature's page at its banner and the lead's case
    # swallowed two articles; the banner is a section, the articles open their cases
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.extract.segment import segment_crf

    if not (pdfs_dir / NEWSLETTER).is_file():
        pytest.skip(f"{NEWSLETTER} not found in {pdfs_dir}")
    paged = next(d for d in cv_documents if d.name == f"{NEWSLETTER} as paged text")
    segmenter, _ = left_out_segmenter(cv_documents, paged, tmp_path / "left-out.crfsuite")
    for dev in (paged, next(d for d in cv_documents if d.name == NEWSLETTER)):
        cases = segment_crf(dev.doc, segmenter)
        titles = [c.title for c in cases]
        assert not any(t.startswith("音威子府村における") for t in titles), (dev.name, titles)
        assert any(t.startswith("音威子府村「みんなの駅」プロジェクト") for t in titles), (dev.name, titles)
        assert any(t.startswith("「宗谷本線マイレール意識向上事業実行") for t in titles), (dev.name, titles)
        assert score_segmentation(cases, dev.gold).f1 == 1.0, (dev.name, titles)

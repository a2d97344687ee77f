"""A numbered head the model reads inside its predecessor's case opens a case of its own when its
number continues its family's last opened one (`crf.with_numbered_successors`): in seed 001 part I
printed as a two-column booklet, read by a model fitted without seed 001, `②アステラス製薬:…`
follows `①第一生命保険:…` in the same family and size. A `①` that restarts a numbering under a
new section is left to the model. A numbered title cut mid-phrase at a page turn, its rest in the
title's size at the top of the next page, is one title (`crf.wrapped_over_page_turn`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import left_out_segmenter


@pytest.mark.slow
def test_the_next_number_of_a_family_opens_a_case_in_a_left_out_booklet(cv_documents, tmp_path: Path):
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.extract.segment import document_features, segment_crf
    from jirei.extract.segment.crf import numbering_ordinal, with_numbered_successors

    booklet = next((d for d in cv_documents if d.name == "train-001-partI.booklet.pdf"), None)
    if booklet is None:
        pytest.skip("the booklet layout of seed 001 part I was not rendered (no seeds)")
    segmenter, _ = left_out_segmenter(cv_documents, booklet, tmp_path / "left-out.crfsuite")
    out, feats, _, _ = document_features(booklet.doc)
    labels = segmenter.label(feats)
    read = with_numbered_successors(out, labels)
    opened = [i for i, (a, b) in enumerate(zip(labels, read)) if a != b]
    assert opened, "the model read every numbered head right: nothing left to show"
    for i in opened:  # only heads read inside a case turn, each to open one, each the next number
        b = out.blocks[i]
        assert (labels[i], read[i]) == ("I", "B")
        before = [j for j in range(i) if read[j] == "B" and out.blocks[j].family == b.family]
        assert numbering_ordinal(out.blocks[before[-1]].text) + 1 == numbering_ordinal(b.text), b.text
    assert not any(numbering_ordinal(out.blocks[i].text) == 1 for i in opened)

    titles = [c.title for c in segment_crf(booklet.doc, segmenter)]
    assert any(t.startswith("②アステラス製薬") for t in titles), titles
    assert score_segmentation(segment_crf(booklet.doc, segmenter), booklet.gold).f1 >= 0.93


@pytest.mark.slow
def test_a_title_cut_at_a_page_turn_opens_its_case_at_its_numbered_first_line(cv_documents, tmp_path: Path):
    # `③サントリーホールディングス:…継承等による` ends page 11, `地域の活性化に貢献した個人・団体の表彰`
    # opens page 12 in the title's size: one title, one case opened at `③`
    # (`crf.wrapped_over_page_turn`), its title both lines
    from jirei.extract.segment import document_features, segment_crf
    from jirei.extract.segment.crf import wrapped_over_page_turn

    booklet = next((d for d in cv_documents if d.name == "train-001-partI.booklet.pdf"), None)
    if booklet is None:
        pytest.skip("the booklet layout of seed 001 part I was not rendered (no seeds)")
    segmenter, _ = left_out_segmenter(cv_documents, booklet, tmp_path / "left-out.crfsuite")
    out, _, _, _ = document_features(booklet.doc)
    turns = [(a.text, b.text) for a, b in zip(out.blocks, out.blocks[1:]) if wrapped_over_page_turn(a, b)]
    assert any(a.startswith("③サントリー") for a, _ in turns), turns
    # a head that ends as a phrase (a noun, a bracket) is no title cut at the turn
    assert not any(a.rstrip().endswith((")", "）", "!", "」")) for a, _ in turns), turns

    titles = [c.title for c in segment_crf(booklet.doc, segmenter)]
    assert "③サントリーホールディングス:芸術、文学、伝統の保存・継承等による地域の活性化に貢献した個人・団体の表彰" in titles, titles
    assert not any(t.startswith("地域の活性化に貢献した") for t in titles), titles

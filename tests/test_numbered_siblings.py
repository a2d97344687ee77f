"""Numbered cases read on after a notice: seed 001 part I's cases re-typeset as a town newsletter
(`①日立製作所:…`, `②…` under `まちの話題`, with `お知らせ` notices, a pension reminder and a
recruitment between them), read by a case-boundary model that never saw the seed nor the template
(fitted on the development documents of other sources, as `jirei evaluate segmentation --cv
document` fits it for this layout: seed 002's text and renderings, the real PDFs). After a notice
the model carries its `O` on over the next numbered cases; the numbering says they are cases like
the ones it opened (`crf.with_numbered_siblings`). A title wrapped at the column's edge opens its
case at its first line, the one with the number (`crf.with_wrapped_titles`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jirei import paths


@pytest.mark.slow
def test_numbered_cases_after_a_notice_are_entries(layout_pdfs, seed_pdfs, pdfs_dir: Path, seeds_dir: Path,
                                                  tmp_path: Path):
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.evaluation.segmentation_cv import _group_out, _layout_docs, development_documents, training_sequences
    from jirei.extract.segment import segment_crf
    from jirei.extract.segment.crf import Segmenter, train

    pdf, _ = layout_pdfs[("train-001-partI", "newsletter")]
    newsletter = next(d for d in _layout_docs(pdf.parent, False) if d.name == pdf.name)
    renderings = tmp_path / "renderings"  # seed 002 printed in the suite's two layouts
    renderings.mkdir()
    for (stem, layout), path in seed_pdfs.items():
        if stem.startswith("002"):
            shutil.copy(path, renderings / f"{stem}.{layout}.pdf")
    docs = development_documents(seeds_dir, pdfs_dir, renderings, paths.SEGMENTATION_GOLD)
    pool = [d for d in docs if d.trains and not _group_out(newsletter, d)]
    assert sum(d.kind == "rendered" for d in pool) == 2 and not any(d.source == "001" for d in pool)
    model = tmp_path / "left-out.crfsuite"
    train(training_sequences(pool), model)

    cases = segment_crf(newsletter.doc, Segmenter(model))
    titles = [c.title for c in cases]
    # the cases printed right after a notice (`お知らせ`, the recruitment `消防団員の募集`)
    for head in ("③東北電力:", "④積水化学工業:", "⑤IHI:", "②住友化学:", "①三井住友フィナンシャルグループ:"):
        assert any(t.startswith(head) for t in titles), "\n".join(titles)
    assert not any(t.startswith(("お知らせ", "消防団員の募集")) for t in titles)
    # `④北陸経済連合会:会員大` / `学・企業との情報交換・交流の場の構築`: one title, opening at the number
    assert "④北陸経済連合会:会員大学・企業との情報交換・交流の場の構築" in titles, "\n".join(titles)
    score = score_segmentation(cases, newsletter.gold)
    assert score.f1 >= 0.95, (score.precision, score.recall)  # 0.636 without the two rules

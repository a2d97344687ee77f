"""Units written to one template hold a document's cases (`crf.with_templated_units`): a
comprehensive strategy prints, under each goal (`1.…`), the same part labels (`[現状と課題]`,
`[具体的な施策]`) and, under each of its measures (`① …`), the same others (`◎施策の目標`,
`現状値(2014年度)`, `目標値(2019年度)`, `<主な事業>`). In plain text, with no typography to
tell a measure from any other line, the template still does: each measure is a case, a goal opens
its first measure's case, and no case opens before the first unit. A casebook whose sections each print the same preamble keeps the cases
the model reads under them: the template there is a section's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import left_out_segmenter, seed_file

STRATEGY = "otoineppu_sogosenryaku.pdf"


@pytest.mark.slow
def test_a_left_out_strategy_as_plain_text_is_read_by_its_template(cv_documents, pdfs_dir: Path, tmp_path: Path):
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.evaluation.segmentation_cv import page_baseline
    from jirei.extract.segment import segment_crf
    from jirei.extract.segment.crf import templated_runs
    from jirei.extract.segment.outline import outline

    if not (pdfs_dir / STRATEGY).is_file():
        pytest.skip(f"{STRATEGY} not found in {pdfs_dir}")
    text = next(d for d in cv_documents if d.name == f"{STRATEGY} as text")
    paged = next(d for d in cv_documents if d.name == f"{STRATEGY} as paged text")
    # as a converter that drops page breaks writes it: the model opens the introduction's
    # `[…の検証]` heads too, which the units (the document's cases) close
    unpaged = next(d for d in cv_documents if d.name == f"{STRATEGY} as unpaged markdown")
    assert not text.doc.pages and not text.doc.line_levels
    blocks = outline(text.doc).blocks
    runs = [[re.sub(r"\s", "", blocks[i].text)[:6] for i in run] for run in templated_runs(blocks)]
    assert runs == [["1.村の振興", "2.卒業生の", "3.高校を軸", "4.高校生参"],
                    ["①高校の仕組", "①新エネルギ", "②新規就農者", "①卒業生のU", "②高校を活用", "③学校間連携",
                     "①高校生の村"]], runs

    segmenter, _ = left_out_segmenter(cv_documents, text, tmp_path / "left-out.crfsuite")
    for dev in (text, paged, unpaged):
        cases = segment_crf(dev.doc, segmenter)
        heads = [re.match(r"\d\.|[①-⑳]", c.title.strip()).group() for c in cases]
        # each goal opens its first measure's case; the further measures open their own
        assert heads == ["1.", "2.", "②", "3.", "②", "③", "4."], (dev.name, [c.title for c in cases])
        assert all(c.layout == "template+fallback" for c in cases), {c.layout for c in cases}
        score = score_segmentation(cases, dev.gold)
        assert score.f1 == 1.0 > score_segmentation(page_baseline(dev.doc), dev.gold).f1, (dev.name, score)
        # the last measure runs to the document's end: its KPI table and main projects are in it
        assert "村民による高校1年生の里親制度事業" in cases[-1].text


def test_sections_printing_one_preamble_keep_the_cases_under_them(tmp_path: Path):
    from jirei.evaluation.segmentation_cv import PART_II
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import load_segmenter, segment_crf
    from jirei.extract.segment.crf import templated_runs
    from jirei.extract.segment.outline import outline

    seed = seed_file("001")
    segmenter = load_segmenter()
    if seed is None or segmenter is None:
        pytest.skip("seed 001 (../shared/seeds) or the trained segmenter not found")
    part_one = seed.read_text(encoding="utf-8").split(PART_II)[0]
    # every section (`1. 「住む」:…`) prints the same two-part preamble before its first case
    templated = re.sub(r"^(\d\.\s.*)$", r"\1\n[背景]\nこの分野の背景を述べる。\n[方針]\nこの分野の方針を述べる。",
                       part_one, flags=re.M)
    path = tmp_path / "casebook-with-preambles.txt"
    path.write_text(templated, encoding="utf-8")
    doc = ingest(path)
    sections = templated_runs(outline(doc).blocks)
    assert len(sections) == 1 and len(sections[0]) >= 3  # the sections are written to one template

    cases = segment_crf(doc, segmenter)
    # the model's cases stand: the case entries under the sections, not the sections
    assert len(cases) > 3 * len(sections[0])
    assert all(c.layout.startswith("crf+") for c in cases), {c.layout for c in cases}
    assert all(re.match(r"[①-⑳]", c.title) for c in cases), [c.title for c in cases if not re.match(r"[①-⑳]", c.title)]

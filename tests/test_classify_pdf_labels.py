"""Hand labels of the real PDFs' cases (corpus/labels/pdfs/) and the guideline's labelling
functions (classify/rules.py), on the real PDFs and the seed training text."""

import json

import pytest

from jirei import paths
from jirei.classify import rules
from jirei.classify.taxonomy import load_taxonomy
from jirei.classify.training import PDF_SUBDIR, gold_cases, label_files, training_rows

PDF_LABELS = sorted((paths.LABEL_GOLD / PDF_SUBDIR).glob("*.json"))


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


def test_every_pdf_label_file_follows_the_guideline_format(taxonomy):
    assert [p.stem for p in PDF_LABELS] == ["otoineppu_kouhou_2021-04", "otoineppu_kouhou_2023-09",
                                             "otoineppu_kouhou_2025-08", "otoineppu_sogosenryaku"]
    pillars = set(taxonomy.label_set("pillar").ids)
    themes = {t.id: t.get("pillar") for t in taxonomy.label_set("theme").labels}
    for path in PDF_LABELS:
        labels = json.loads(path.read_text(encoding="utf-8"))
        segmentation = json.loads((paths.SEGMENTATION_GOLD / PDF_SUBDIR / path.name).read_text(encoding="utf-8"))
        assert labels["doc"] == segmentation["doc"] and labels["sha256"] == segmentation["sha256"]
        assert [c["heading"] for c in labels["cases"]] == [c["heading"] for c in segmentation["cases"]]
        for row in labels["cases"]:
            assert row["split"] == "train" and row["source"] == "hand"
            assert row["pillar"] in pillars and row["pillar"] not in row["secondary_pillars"]
            assert set(row["secondary_pillars"]) <= pillars
            assert row["theme"] is None or themes[row["theme"]] == row["pillar"], row["heading"]
            assert 1 <= len(row["action_items"]) <= 3 and len(set(row["action_items"])) == len(row["action_items"])
            assert all(1 <= i <= 10 for i in row["action_items"])
            assert not row["judgement_call"] or row["note"].count("JC") >= 1, row["heading"]
    assert label_files()[-len(PDF_LABELS):] == PDF_LABELS


def test_pdf_cases_are_training_rows_cut_from_the_pdf_text(taxonomy, seeds_dir, pdfs_dir):
    cases = gold_cases("otoineppu_sogosenryaku", seeds_dir)
    assert len(cases) == 7 and all(c.split == "train" for c in cases)
    assert cases[1].heading.startswith("2.卒業生のための雇用の場の創出")
    assert "バイオガスプラント" in cases[1].text and cases[1].pillar == "work" and cases[1].items[0] == 4
    rows = training_rows(taxonomy, seeds_dir)
    keys = [r.key for r in rows if r.origin == "case"]
    assert sum(k.startswith("otoineppu_") for k in keys) == 6 + 7 + 12 + 7
    pdf_rows = [r for r in rows if r.key.startswith("otoineppu_")]
    assert all(r.pillar and r.items for r in pdf_rows)


def test_labelling_functions_vote_or_abstain():
    votes = dict(zip(rules.NAMES, rules.votes("鳥取県の中小企業の事業承継とビジネスマッチングを商工会議所が支援")))
    assert votes["business_in_town_is_work"] == 1 and votes["item4_new_business"] == 1
    assert votes["living_service_is_live"] == 0 and votes["visitors_are_interact"] == 0
    clinic = dict(zip(rules.NAMES, rules.votes("医療過疎地で移動診療車によるオンライン診療を実施")))
    assert clinic["living_service_is_live"] == 1 and clinic["item9_daily_life"] == 1
    assert clinic["business_in_town_is_work"] == 0  # a living service is not a business in a town
    students = dict(zip(rules.NAMES, rules.votes("高校生のインターンシップで地元企業の人材育成")))
    assert students["hr_for_students_is_nurture"] == 1 and students["hr_for_firms_is_work"] == 0
    assert rules.votes("") == [0] * len(rules.LABELLING_FUNCTIONS)


def test_rule_report_on_the_training_cases(taxonomy, seeds_dir, pdfs_dir):
    cases = [r for r in training_rows(taxonomy, seeds_dir) if r.origin == "case"]
    report = rules.rule_report(cases)
    assert [f.name for f in report] == list(rules.NAMES)
    for f in report:
        assert f.rows == len(cases) and 0 <= f.coverage <= 1
        assert f.accuracy is None or 0 <= f.accuracy <= 1
    assert sum(f.coverage > 0 for f in report) >= len(report) - 2  # nearly every rule fires somewhere

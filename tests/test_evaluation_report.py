"""`jirei evaluate all` on the seeds: the report holds every section and the figures the individual
`jirei evaluate …` commands print; untrusted text is escaped; the runs file lists and compares runs."""

from __future__ import annotations

import copy
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import numpy
import pytest

from jirei.cli import main
from jirei.evaluation.report import SECTIONS, error_card, figures_script, read_figures
from jirei.evaluation.run_all import EvaluationRun, reliability_bins
from jirei.evaluation.runs import append_run, compare, find_run, load_runs

slow = pytest.mark.slow


def run_main(*argv: str) -> tuple[int, str]:
    """`jirei <argv>` in this process: exit status and standard output."""
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


@pytest.fixture(scope="module")
def evaluated(seeds_dir: Path, tmp_path_factory) -> dict:
    """One `jirei evaluate all` run over the seeds (the entities stage with stock NER is the slow part)."""
    folder = tmp_path_factory.mktemp("evaluate-all")
    report, runs = folder / "report.html", folder / "runs.jsonl"
    status, stdout = run_main("evaluate", "all", "--seeds", str(seeds_dir), "--report", str(report), "--runs", str(runs))
    assert status == 0
    html = report.read_text(encoding="utf-8")
    return {"report": report, "runs": runs, "stdout": stdout, "html": html, "data": read_figures(html)}


@pytest.fixture(scope="module")
def command_json(seeds_dir: Path) -> dict:
    """What `jirei evaluate <stage> --json` prints, per stage."""
    out = {}
    for stage in ("segmentation", "entities", "classification"):
        status, stdout = run_main("evaluate", stage, "--seeds", str(seeds_dir), "--json")
        assert status == 0
        out[stage] = json.loads(stdout)
    return out


def _without_seconds(entities: dict) -> dict:
    """Entity scores minus their timing, which differs from run to run."""
    return {system: {k: v for k, v in scores.items() if k != "seconds"} for system, scores in entities.items()}


# --- the report on the seeds ------------------------------------------------------------

@slow
def test_report_exists_and_holds_every_section(evaluated):
    assert evaluated["report"].stat().st_size > 0
    for section_id, _ in SECTIONS:
        assert f'<section id="{section_id}">' in evaluated["html"], section_id
    # plots are inline SVG, one per plot
    assert evaluated["html"].count("<svg") >= 6
    assert f"report: {evaluated['report']}" in evaluated["stdout"]


@slow
def test_report_is_self_contained(evaluated):
    html = evaluated["html"]
    assert not re.search(r"<link\b|@import|\bsrc\s*=|url\(\s*['\"]?https?:", html, re.I)
    assert not re.search(r'href="(?!#|data:)', html)  # links within the page, images inline
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    # the one script element is the JSON data block
    assert len(re.findall(r"<script\b", html, re.I)) == 1
    assert '<script type="application/json" id="jirei-figures">' in html


@slow
def test_report_figures_equal_the_individual_commands(evaluated, command_json):
    stages = evaluated["data"]["stages"]
    assert stages["segmentation"] == command_json["segmentation"]
    assert _without_seconds(stages["entities"]) == _without_seconds(command_json["entities"])
    assert stages["classification"] == command_json["classification"]


@slow
def test_flat_figures_are_the_commands_values(evaluated, command_json):
    figures = evaluated["data"]["figures"]
    for doc in command_json["segmentation"]:
        stem = Path(doc["doc"]).stem
        for k in ("precision", "recall", "f1", "ends_included"):
            assert figures[f"segmentation.by_doc.{stem}.{k}"] == doc[k]
    for system, scores in command_json["entities"].items():
        for field, counts in scores["fields"].items():
            for k in ("precision", "recall", "f1"):
                assert figures[f"entities.{system}.{field}.{k}"] == counts[k]
    assert figures["entities.jirei.lead_accuracy"] == command_json["entities"]["jirei"]["lead_accuracy"]
    for s in command_json["classification"]["scores"]:
        part = s["part"].replace(" ", "_")
        for k in ("pillar_accuracy", "pillar_macro_f1", "pillar_ece", "items_micro_f1", "items_macro_f1",
                  "items_top1_hit"):
            assert figures[f"classification.{s['system']}.{part}.{k}"] == s[k]
    assert evaluated["data"]["model_version"] == command_json["classification"]["model_version"]


@slow
def test_stdout_prints_the_commands_tables(evaluated, seeds_dir):
    for stage in ("segmentation", "classification"):
        status, table = run_main("evaluate", stage, "--seeds", str(seeds_dir))
        assert status == 0
        assert table.strip() in evaluated["stdout"], stage
    assert "stock NER P" in evaluated["stdout"]


@slow
def test_the_run_is_kept_and_listed(evaluated):
    runs = load_runs(evaluated["runs"])
    assert [r["run_id"] for r in runs] == [evaluated["data"]["run_id"]]
    assert runs[0]["figures"] == evaluated["data"]["figures"]
    assert set(runs[0]["timings"]) >= {"segmentation", "entities.jirei", "entities.stock_ner", "classification"}
    status, listing = run_main("evaluate", "history", "--runs", str(evaluated["runs"]))
    assert status == 0 and runs[0]["run_id"] in listing


# --- escaping ---------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def test_case_text_in_the_confident_errors_is_escaped():
    card = error_card({"doc": "a.txt", "ordinal": 1, "title": HOSTILE, "excerpt": HOSTILE + "本文",
                       "gold_pillar": "live", "predicted_pillar": "work", "confidence": 0.9,
                       "gold_items": [1], "predicted_items": [2]}, {"live": "住む", "work": "働く"})
    assert "<script" not in card and "<img" not in card
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in card


def test_the_figures_block_cannot_be_closed_by_text():
    hostile_doc = [{"doc": "a.txt", "missed": ["</script><script>alert(1)</script>"]}]
    run = EvaluationRun(run_id="r", started_at="t", settings={}, model_version="m", git_commit=None,
                        figures={"segmentation.f1": 1.0}, timings={},
                        details={"segmentation": hostile_doc, "entities": {}, "classification": {}})
    block = figures_script(run)
    assert len(re.findall(r"<script\b", block)) == 1 and block.count("</script>") == 1
    assert read_figures(block)["stages"]["segmentation"] == hostile_doc


# --- calibration ------------------------------------------------------------------------

def test_reliability_bins_give_the_ece_of_the_classification_figures():
    from jirei.classify.model import expected_calibration_error

    rng = numpy.random.default_rng(0)
    probs = rng.dirichlet(numpy.ones(4), size=200)
    correct = rng.random(200) < probs.max(axis=1)
    bins = reliability_bins(probs.max(axis=1), correct)
    ece = sum(b["count"] / 200 * abs(b["accuracy"] - b["confidence"]) for b in bins)
    assert ece == pytest.approx(expected_calibration_error(probs, correct))
    assert sum(b["count"] for b in bins) == 200


# --- runs file: history and compare -----------------------------------------------------

def _record(run_id: str, figures: dict, timings: dict | None = None) -> dict:
    return {"run_id": run_id, "started_at": "2026-01-01T00:00:00+00:00", "settings": {}, "model_version": "m-1",
            "git_commit": "abc1234def", "figures": figures, "timings": timings or {"total": 10.0}}


FIGURES = {"segmentation.f1": 1.0, "entities.jirei.organisations.f1": 0.909,
           "classification.jirei.all.pillar_accuracy": 0.689, "classification.jirei.all.pillar_ece": 0.119}


def test_compare_flags_a_drop_and_a_worse_ece_but_not_noise_or_gains():
    new = copy.deepcopy(FIGURES)
    new["entities.jirei.organisations.f1"] -= 0.05  # regression
    new["classification.jirei.all.pillar_ece"] += 0.02  # calibration worse: regression
    new["segmentation.f1"] -= 0.004  # within tolerance
    new["classification.jirei.all.pillar_accuracy"] += 0.1  # better
    rows = {r.figure: r for r in compare(_record("a", FIGURES), _record("b", new, {"total": 30.0}))}
    assert {f for f, r in rows.items() if r.regression} == {"entities.jirei.organisations.f1",
                                                            "classification.jirei.all.pillar_ece"}
    assert rows["entities.jirei.organisations.f1"].change == pytest.approx(-0.05)
    assert rows["timing.total"].flag == "slower" and not rows["timing.total"].regression


def test_history_lists_runs_and_compare_prints_changes(tmp_path):
    runs = tmp_path / "runs.jsonl"
    lowered = dict(FIGURES, **{"entities.jirei.organisations.f1": 0.8})
    append_run(runs, _record("20260101T000000Z-aaaa", FIGURES))
    append_run(runs, _record("20260102T000000Z-bbbb", lowered))

    status, listing = run_main("evaluate", "history", "--runs", str(runs))
    assert status == 0
    assert "20260101T000000Z-aaaa" in listing and "20260102T000000Z-bbbb" in listing

    status, table = run_main("evaluate", "history", "--runs", str(runs), "--compare", "20260101")
    assert status == 1
    line = next(x for x in table.splitlines() if x.startswith("entities.jirei.organisations.f1"))
    assert "-0.109" in line and line.endswith("REGRESSION")
    assert "1 regression(s)" in table

    status, table = run_main("evaluate", "history", "--runs", str(runs), "--compare", "-1", "-2")
    assert status == 0 and "0 regression(s)" in table


def test_runs_are_found_by_id_prefix_or_position():
    runs = [_record("20260101T000000Z-aaaa", {}), _record("20260101T000000Z-bbbb", {}), _record("20260103T0-c", {})]
    assert find_run(runs, "-1")["run_id"] == "20260103T0-c"
    assert find_run(runs, "-3")["run_id"] == "20260101T000000Z-aaaa"
    assert find_run(runs, "20260101T000000Z-b")["run_id"] == "20260101T000000Z-bbbb"
    with pytest.raises(LookupError, match="ambiguous"):
        find_run(runs, "20260101")
    with pytest.raises(LookupError):
        find_run(runs, "-4")


def test_an_unknown_run_is_an_error(tmp_path, capsys):
    runs = tmp_path / "runs.jsonl"
    append_run(runs, _record("20260101T000000Z-aaaa", FIGURES))
    assert main(["evaluate", "history", "--runs", str(runs), "--compare", "nope"]) == 2
    assert "no run id starts with it" in capsys.readouterr().err


def test_db_that_is_no_store_is_a_one_line_error_and_left_untouched(tmp_path, capsys):
    missing = tmp_path / "cases.db"
    assert main(["evaluate", "all", "--db", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"jirei: error: {missing}: no such store (run `jirei batch` to make one)"
    assert not missing.exists()

    notes = tmp_path / "notes.db"
    notes.write_text("会議メモ", encoding="utf-8")
    assert main(["evaluate", "all", "--db", str(notes)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"jirei: error: {notes}: not a Jirei store") and "\n" not in err
    assert notes.read_text(encoding="utf-8") == "会議メモ"


# --- extra held-out cases (hook for a case store) ---------------------------------------

@slow
def test_extra_held_out_cases_are_scored_apart_from_the_seed_figures(seeds_dir, command_json):
    import dataclasses

    from jirei.classify.training import held_out_cases
    from jirei.evaluation.classification import EXTRA_PART, evaluate_classification_with_predictions

    extra = [dataclasses.replace(c, doc=f"store/{c.doc}") for c in held_out_cases(seeds_dir)[:3]]
    report, predictions = evaluate_classification_with_predictions(seeds=seeds_dir, extra_cases=extra)
    seed_scores = [s for s in report.as_dict()["scores"] if s["part"] != EXTRA_PART]
    assert seed_scores == command_json["classification"]["scores"]
    assert report.score("jirei", EXTRA_PART).cases == 3
    assert sum(predictions.parts[EXTRA_PART]) == 3


def test_learning_curve_section_plots_and_tabulates_the_points():
    from jirei.evaluation.report import learning_curve_section

    points = [{"cases": 10, "pillar_accuracy": 0.678, "pillar_macro_f1": 0.648, "items_top1_hit": 0.75, "fits": 10},
              {"cases": 72, "pillar_accuracy": 0.817, "pillar_macro_f1": 0.808, "items_top1_hit": 0.806, "fits": 10}]
    section = learning_curve_section(points)
    assert "<svg" in section and "0.817" in section and "0.806" in section
    assert "--learning-curve" in learning_curve_section(None)  # says how to get it when not computed

"""Command-line wiring for `jirei evaluate classification`, `all` and `history`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from jirei import paths

from .runs import DEFAULT_RUNS_FILE, SLOWER_SHARE, TOLERANCE

DEFAULT_REPORT = Path("out/report.html")

EVALUATE_ALL_HELP = """\
Score every stage in one run, each beside its baselines, against the gold in corpus/:
segmentation (corpus/segmentation), entities next to stock ja_ginza NER (corpus/entities) and
classification next to a majority and a character TF-IDF baseline (corpus/labels, held-out
cases). The figures come from the same functions as `jirei evaluate segmentation`, `entities`
and `classification`, so they equal what those commands print; the three tables are printed
as they print them.

The run is appended to the runs file (settings, model version, git commit, figures, stage
timings) and written up in one self-contained HTML report (no network needed to open it):
per-document segmentation, entity P/R/F1 per field, pillar confusion matrices and per-item
counts, a reliability diagram with ECE, per-class precision/recall, the cases the model got
most confidently wrong, stage timings and the recent runs. The figures are embedded in the
report as JSON (<script type="application/json" id="jirei-figures">).

examples:
  jirei evaluate all
  jirei evaluate all --report out/report.html --runs out/evaluation-runs.jsonl
  jirei evaluate all --no-baseline          # skip stock NER (the slowest part)
  jirei evaluate all --json > run.json
"""

HISTORY_HELP = f"""\
List the runs kept in the runs file (`jirei evaluate all` appends one per run), oldest first,
with a few headline figures; or, with --compare, every figure's change between two runs.

A run is named by its id, a unique prefix of its id, or its position: -1 is the latest run,
-2 the one before. `--compare RUN` compares RUN with the latest run; `--compare RUN RUN2`
compares RUN with RUN2. A figure that got worse by more than {TOLERANCE} is flagged REGRESSION
(higher is better, except the calibration error ECE); a stage more than {SLOWER_SHARE:.0%} slower is
flagged "slower", for information only.

exit status: 0; with --compare, 1 when any figure is flagged REGRESSION (so a script or CI
step can stop on it), 2 when a run cannot be found.

examples:
  jirei evaluate history
  jirei evaluate history --compare -2            # the run before the latest vs the latest
  jirei evaluate history --compare 20261123T1830 -1
"""


def _error(message: str, status: int = 2) -> int:
    print(f"jirei: error: {message}", file=sys.stderr)
    return status


def output_file_problem(path: str | Path) -> str | None:
    """Why a file the command writes (its folder made if missing) cannot be written, or None."""
    path = Path(path)
    if path.is_dir():
        return "is a folder"
    folder = next((p for p in path.parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        return f"{folder} is a file, not a folder"
    return None


def store_heldout_cases(db: str | None, seeds: Path) -> list:
    """The reviewed cases of held-out documents in the case store at `db` (none without `db`).
    Raises StoreError (one line) for a file that is not a readable Jirei store."""
    if not db:
        return []
    from jirei.classify.store_data import heldout_reviewed_cases
    from jirei.store import open_for_reading

    with open_for_reading(db) as store:
        return heldout_reviewed_cases(store, seeds)


def run_evaluate_all(args: argparse.Namespace) -> int:
    from jirei.classify.model import ModelFilesError
    from jirei.classify.taxonomy import TaxonomyError
    from jirei.evaluation.classification import format_table as classification_table
    from jirei.evaluation.entities import format_table as entities_table
    from jirei.evaluation.report import figures_data, write_report
    from jirei.evaluation.run_all import run_all
    from jirei.evaluation.runs import append_run, load_runs
    from jirei.evaluation.segmentation import format_table as segmentation_table
    from jirei.records import IngestError

    from jirei.store import StoreError

    seeds = Path(args.seeds)
    if args.db:  # a wrong store is named before anything else is looked at
        from jirei.store import Store

        try:
            Store(args.db, create=False).close()
        except StoreError as exc:
            return _error(str(exc), 2)
    if not seeds.is_dir():
        return _error(f"{seeds}: seeds folder not found ({paths.SHARED_HOWTO}; or pass --seeds)", 2)
    for option, out in (("--report", args.report), ("--runs", args.runs)):
        problem = output_file_problem(out)
        if problem:  # found now, not after minutes of scoring
            return _error(f"{out}: {problem} ({option})", 2)
    try:
        history = load_runs(args.runs)
    except ValueError as exc:
        return _error(str(exc), 2)
    from jirei.pipeline import check_models

    try:
        check_models(args.models)  # before minutes of segmentation and NER
    except RuntimeError as exc:
        return _error(str(exc), 2)
    try:
        extra = store_heldout_cases(args.db, seeds)
    except StoreError as exc:
        return _error(str(exc), 2)
    try:
        run = run_all(seeds, Path(args.models), baselines=not args.no_baseline, extra_cases=extra or None,
                      learning_curve=args.learning_curve)
    except (IngestError, ModelFilesError, TaxonomyError, FileNotFoundError, ValueError) as exc:
        return _error(str(exc))
    cv_tables = None
    if args.segmentation_cv:
        from jirei.evaluation.segmentation_cv import cv_document_figures

        try:
            cv_figures, cv_tables = cv_document_figures(
                seeds, Path(args.pdfs), Path(args.renderings), Path(args.layouts), paths.SEGMENTATION_GOLD)
        except (IngestError, ValueError) as exc:
            return _error(str(exc))
        run.figures.update(cv_figures)
    append_run(args.runs, run.record())
    report = write_report(run, args.report, history + [run.record()])

    if args.json:
        print(json.dumps({**figures_data(run), "report": str(report)}, ensure_ascii=False, indent=1))
        return 0
    results = run.results
    print(segmentation_table(results.segmentation))
    print()
    if cv_tables:
        print(cv_tables)
        print()
    print(entities_table(results.entities, results.entities_baseline))
    print()
    print(classification_table(results.classification))
    print()
    if run.details.get("learning_curve"):
        from jirei.classify.model import CurvePoint
        from jirei.evaluation.classification import format_learning_curve

        print(format_learning_curve([CurvePoint(**p) for p in run.details["learning_curve"]]))
        print()
    print("seconds: " + ", ".join(f"{stage} {s:.1f}" for stage, s in run.timings.items()))
    print(f"report: {report}")
    print(f"run: {run.run_id} (kept in {args.runs})")
    return 0


def run_evaluate_classification(args: argparse.Namespace) -> int:
    from jirei.classify.model import ModelFilesError  # scikit-learn loads only for the commands that need it
    from jirei.classify.taxonomy import TaxonomyError
    from jirei.evaluation.classification import evaluate_classification, format_table
    from jirei.store import StoreError

    try:
        extra = store_heldout_cases(args.db, Path(args.seeds))
    except StoreError as exc:
        return _error(str(exc), 2)
    try:
        report = evaluate_classification(Path(args.models), Path(args.seeds), extra_cases=extra or None)
    except (ModelFilesError, TaxonomyError, FileNotFoundError, ValueError) as exc:
        return _error(str(exc))
    if args.json:
        data = report.as_dict()
        if args.learning_curve:
            from dataclasses import asdict

            from jirei.evaluation.classification import learning_curve

            data["learning_curve"] = [asdict(p) for p in learning_curve(Path(args.models), Path(args.seeds))]
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    print(format_table(report))
    if args.learning_curve:
        from jirei.evaluation.classification import format_learning_curve, learning_curve

        print()
        print(format_learning_curve(learning_curve(Path(args.models), Path(args.seeds))))
    return 0


def run_evaluate_history(args: argparse.Namespace) -> int:
    from jirei.evaluation.runs import compare, find_run, format_compare, format_history, load_runs

    if Path(args.runs).is_dir():
        return _error(f"{args.runs}: is a folder, not a runs file", 2)
    try:
        runs = load_runs(args.runs)
    except ValueError as exc:
        return _error(str(exc))
    if not args.compare:
        if not runs:
            print(f"no runs in {args.runs} yet (run `jirei evaluate all`)")
            return 0
        print(format_history(runs))
        return 0
    if len(args.compare) > 2:
        return _error("--compare takes one or two runs", 2)
    try:
        old = find_run(runs, args.compare[0])
        new = find_run(runs, args.compare[1] if len(args.compare) == 2 else "-1")
    except LookupError as exc:
        return _error(str(exc.args[0]), 2)
    rows = compare(old, new)
    print(format_compare(old, new, rows, changed_only=args.changed))
    return 1 if any(r.regression for r in rows) else 0


def add_evaluate_all_parsers(evaluate_subparsers) -> None:
    """`jirei evaluate all` (every stage, report, runs file) and `jirei evaluate history`."""
    parser = evaluate_subparsers.add_parser(
        "all",
        help="score every stage in one run, write an HTML report and keep the run",
        description=EVALUATE_ALL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--report", default=str(DEFAULT_REPORT), metavar="FILE",
                        help="HTML report to write (default: %(default)s)")
    parser.add_argument("--runs", default=str(DEFAULT_RUNS_FILE), metavar="FILE",
                        help="runs file (JSON Lines) the run is appended to (default: %(default)s)")
    parser.add_argument("--seeds", default=str(paths.seeds_dir()), metavar="DIR",
                        help="folder holding the seed reports (default: %(default)s)")
    parser.add_argument("--models", default=str(paths.MODELS), metavar="DIR",
                        help="folder holding the trained models (default: %(default)s)")
    parser.add_argument("--db", metavar="FILE",
                        help="a case store whose reviewed held-out cases are scored too, as their own part")
    parser.add_argument("--segmentation-cv", action="store_true",
                        help="also run `evaluate segmentation --cv document` (several minutes) and keep its "
                             "figures as segmentation.cv.* and segmentation.cv_heldout.*")
    parser.add_argument("--pdfs", default=str(paths.shared_dir() / "pdfs"), help=argparse.SUPPRESS)
    parser.add_argument("--renderings", default=str(paths.RENDERINGS), help=argparse.SUPPRESS)
    parser.add_argument("--layouts", default=str(paths.LAYOUTS), help=argparse.SUPPRESS)
    parser.add_argument("--learning-curve", action="store_true",
                        help="also compute the classifiers' learning curve (CV on the training data) and show it "
                             "in the report")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the stock NER baseline of the entities stage (the classification "
                             "baselines take a second and are always fitted)")
    parser.add_argument("--json", action="store_true",
                        help="print the run (figures, timings, each stage's JSON output, report path) as JSON")
    parser.set_defaults(func=run_evaluate_all)

    parser = evaluate_subparsers.add_parser(
        "history",
        help="list the kept evaluation runs, or compare two of them",
        description=HISTORY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", default=str(DEFAULT_RUNS_FILE), metavar="FILE",
                        help="runs file (default: %(default)s)")
    parser.add_argument("--compare", nargs="+", metavar=("RUN", "RUN2"),
                        help="compare RUN with RUN2 (a second RUN), or with the latest run")
    parser.add_argument("--changed", action="store_true",
                        help="with --compare, list only the figures that changed or are flagged")
    parser.set_defaults(func=run_evaluate_history)


def add_evaluate_classification_parser(evaluate_subparsers) -> argparse.ArgumentParser:
    """`jirei evaluate classification`: held-out figures of the saved models beside two baselines."""
    parser = evaluate_subparsers.add_parser(
        "classification",
        help="score the classifiers on the held-out gold cases",
        description=(
            "Score the saved models on the held-out gold cases (seed 001 part II, seeds 003 and 004) and, "
            "in the same run, a majority-class baseline and a character TF-IDF + logistic regression "
            "baseline fitted on the same training data. Prints overall and per-document figures."
        ),
    )
    parser.add_argument("--models", default=str(paths.MODELS), metavar="DIR",
                        help="folder holding the trained models (default: %(default)s)")
    parser.add_argument("--seeds", default=str(paths.seeds_dir()), metavar="DIR",
                        help="folder holding the seed reports (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--db", metavar="FILE",
                        help="also score the reviewed cases of held-out documents in this case store "
                             "(a part of their own, 'case store')")
    parser.add_argument("--learning-curve", action="store_true",
                        help="also print pillar accuracy, macro-F1 and item top-1 against the number of training "
                             "cases, by cross-validation on the training data (a minute or two)")
    parser.set_defaults(func=run_evaluate_classification)
    return parser

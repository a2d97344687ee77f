"""Command line: wires the stages together; no stage logic lives here."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from jirei import paths
from jirei.problems import check_doc_date, os_problem, output_problem
from jirei.classify.commands import add_train_parser
from jirei.evaluation.commands import add_evaluate_all_parsers, add_evaluate_classification_parser
from jirei.records import IngestError

EXTRACT_HELP = """\
Read reports (PDF, .txt, .md; files or folders, searched recursively) and write one JSON
object per case entry (JSON Lines) to OUT or standard output.

Each object: doc, case_id (document sha256 prefix + ordinal; stable across runs), title,
text (heading + body as extracted), page (PDF page of the heading, or null), span (offsets
into the document's extracted text), section (headings above the entry, outermost first),
layout (what segmented it: crf+<rule set> for the case-boundary model with that rule
set's roles as prior, or a rule set alone: casebook, slides, headed-report, fallback);
organisations, places (JIS X 0402 codes), years and year_mentions, each with its source and
span; pillar, pillars, theme, action_items (model scores), declared_pillar (where the report
files the entry under a pillar) and needs_review.

A file that cannot be read (encrypted, corrupt, empty, undecodable) is reported on standard
error in one line naming the file and the problem; the other files are still processed and
the exit status is 1.

examples:
  jirei extract report.pdf
  jirei extract submissions/ -o cases.jsonl
  jirei extract casebook.txt --layout casebook
"""

EVAL_SEG_HELP = """\
Score case segmentation against the hand-checked boundaries in corpus/segmentation/.
Without DOCS, every gold file's document is read from the shared seeds folder. DOCS may also
name renderings of those documents (e.g. 001_7db842c1dad96953.two-column.pdf): a document is
paired with the gold file whose name its file name starts with.

Per document it prints predicted and gold entry counts, precision, recall and F1 (an entry
matches when its gold heading lies in one predicted entry, one-to-one), and the share of
matched entries whose gold ending is included.
"""


EVAL_ENT_HELP = """\
Score organisations, places and years against the hand-labelled gold in corpus/entities/
(seeds 001, 003, 004; and corpus/entities/pdfs/: the real PDFs of the shared pdfs/ folder), and in
the same run stock ja_ginza NER alone mapped to the same fields.

Both systems read each gold case's span. Per field: precision, recall, F1, micro-averaged over
cases; organisations match by stored name (all of them, the lead, and the partners apart;
`mentioned` ones are not scored), places by prefecture + municipality (regions by name), years by
calendar year. Then F1 per document, pooled over the seeds (the rules were written against them)
and over the real PDFs (the cross-document figure), and the share of cases whose lead is right.

With --end-to-end, also each document as a user gets it: segmented by Jirei (each real PDF also
as plain text and as paged markdown), its entries' values scored against the gold cases they
match (an entry holding a gold case's heading); unmatched gold cases count as missed, unmatched
entries' values as spurious.
"""


def _write_err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)





def cmd_extract(args: argparse.Namespace) -> int:
    from jirei.extract.ingest import expand_inputs

    doc_date = check_doc_date(args.doc_date)
    # Arguments and paths first: nothing heavy loads for a command that cannot run.
    inputs = list(expand_inputs(args.paths))
    missing = [p for p in inputs if not p.exists()]
    if missing and len(missing) == len(inputs):  # files that cannot be read: status 1, as in a run
        for p in missing:
            _write_err(f"jirei: error: {p}: no such file or folder")
        return 1
    problem = output_problem(args.output)
    if problem:
        _write_err(f"jirei: error: {args.output}: {problem}")
        return 2
    if args.workers < 1:
        _write_err(f"jirei: error: --workers {args.workers}: expected 1 or more")
        return 2
    if args.layout:
        from jirei.extract.segment import rule_set_named

        rule_set_named(args.layout)  # an unknown name is a usage error (KeyError, see main)
    models = Path(args.models)
    if not args.no_labels and not (models / "model_card.json").is_file():
        _write_err(f"jirei: error: {models / 'model_card.json'}: no such file: no trained models in {models} "
                   "(pass --models DIR, or --no-labels)")
        return 2

    from jirei.pipeline import Pipeline, PipelineConfig

    config = PipelineConfig(models_dir=models, layout=args.layout, doc_date=doc_date,
                            entities="none" if args.no_entities else "ner", labels=not args.no_labels,
                            ner_workers=args.workers)
    try:
        pipeline = Pipeline.load(config)
    except RuntimeError as exc:  # the models cannot load: one line
        _write_err(f"jirei: error: {exc} (or pass --no-labels)")
        return 2

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failed = docs = 0
    cases_total = 0

    def write(doc, finish) -> None:
        nonlocal docs, cases_total
        cases = finish()
        docs += 1
        cases_total += len(cases)
        for case in cases:
            record = case.to_json()
            if not args.include_contacts:
                record.pop("contacts", None)  # personal data: only on request
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
        if not args.quiet:
            layout = cases[0].layout if cases else "-"
            _write_err(f"{doc.name}: {len(cases)} cases ({layout})")

    pending = None  # the document begun last: finished once the next one is in the workers
    try:
        for path in inputs:
            try:
                doc = pipeline.read(path)
            except IngestError as exc:
                failed += 1
                _write_err(f"jirei: error: {exc}")
                continue
            for warning in doc.warnings:
                _write_err(f"jirei: warning: {doc.path}: {warning}")
            begun = (doc, pipeline.begin(doc, pipeline.segment(doc)))
            if pending is not None:
                write(*pending)
            pending = begun
        if pending is not None:
            write(*pending)
    finally:
        if args.output:
            out.close()
        pipeline.close()
    if not args.quiet:
        _write_err(f"{docs} documents, {cases_total} cases, {failed} failed")
    return 1 if failed else 0


def _pair_with_gold(docs: list[Path], golds: list) -> list[tuple[Path, object]]:
    pairs = []
    for d in docs:
        gold = next((g for g in golds if d.name.startswith(g.stem)), None)
        if gold is None:
            _write_err(f"jirei: error: {d}: no gold file in corpus/segmentation matches this name")
            raise SystemExit(2)
        pairs.append((d, gold))
    return pairs


def cmd_evaluate_segmentation(args: argparse.Namespace) -> int:
    if args.cv:
        from jirei.evaluation.segmentation_cv import run_cv_document

        return run_cv_document(args)
    from jirei.evaluation.segmentation import format_table, load_gold_dir, score_segmentation
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment

    golds = load_gold_dir(args.gold) if Path(args.gold).is_dir() else []
    if not golds:
        _write_err(f"jirei: error: {args.gold}: no gold files (a folder of corpus/segmentation files)")
        return 2
    if args.docs:
        pairs = _pair_with_gold([Path(d) for d in args.docs], golds)
    else:
        seeds = Path(args.seeds)
        if not seeds.is_dir():
            _write_err(f"jirei: error: {seeds}: seeds folder not found (set --seeds or JIREI_SHARED)")
            return 2
        pairs = [(seeds / g.doc, g) for g in golds]
    scores = []
    for path, gold in pairs:
        try:
            doc = ingest(path)
        except IngestError as exc:
            _write_err(f"jirei: error: {exc}")
            return 1
        scores.append(score_segmentation(segment(doc), gold, doc_name=path.name))
    if args.json:
        print(json.dumps([s.as_dict() for s in scores], ensure_ascii=False, indent=2))
    else:
        print(format_table(scores))
        if args.verbose:
            for s in scores:
                for kind in ("missed", "spurious", "truncated"):
                    for item in getattr(s, kind):
                        print(f"  {s.doc}: {kind}: {item[:70]}")
    return 0


def _add_segmenter_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pdfs", default=str(paths.shared_dir() / "pdfs"), metavar="DIR",
                   help="real PDFs with gold in corpus/segmentation/pdfs (default: %(default)s)")
    p.add_argument("--renderings", default=str(paths.RENDERINGS), metavar="DIR",
                   help="seeds rendered to PDF, <seed stem>.<template>.pdf (default: %(default)s; "
                        "made by scripts/render_seeds.py)")
    p.add_argument("--layouts", default=str(paths.LAYOUTS), metavar="DIR",
                   help="seed cases re-typeset in report layouts with their gold, <source>.<template>.pdf/.json "
                        "(default: %(default)s; made by scripts/render_layouts.py)")


def cmd_train_segmenter(args: argparse.Namespace) -> int:
    from jirei.evaluation.segmentation_cv import run_train_segmenter

    return run_train_segmenter(args)


def cmd_evaluate_entities(args: argparse.Namespace) -> int:
    from jirei.evaluation.entities import format_table, load_entity_gold, score_jirei, score_stock_ner, source_path

    seeds = Path(args.seeds)
    if not seeds.is_dir():
        _write_err(f"jirei: error: {seeds}: seeds folder not found (set --seeds or JIREI_SHARED)")
        return 2
    golds = []
    for g in load_entity_gold():
        if source_path(seeds, g).is_file():
            golds.append(g)
        else:
            _write_err(f"jirei: note: {source_path(seeds, g)}: not found, its entity gold is skipped")
    jirei = score_jirei(seeds, golds)
    baseline = None if args.no_baseline else score_stock_ner(seeds, golds)
    if args.json:
        out = {"jirei": jirei.as_dict()}
        if baseline:
            out["stock_ner"] = baseline.as_dict()
        if args.end_to_end:
            from jirei.evaluation.entities_end_to_end import score_end_to_end

            out["end_to_end"] = [r.as_dict() for r in score_end_to_end(seeds, golds)]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(format_table(jirei, baseline))
    print()
    speed = f"Jirei {jirei.chars / jirei.seconds:,.0f} chars/s" if jirei.seconds else ""
    if baseline and baseline.seconds:
        speed += f", stock NER {baseline.chars / baseline.seconds:,.0f} chars/s"
    print(f"{jirei.chars:,} chars of case text; {speed} (entities stage only, one process)")
    if args.end_to_end:
        from jirei.evaluation.entities_end_to_end import format_end_to_end, score_end_to_end

        print()
        print(format_end_to_end(score_end_to_end(seeds, golds)))
    if args.verbose:
        for err in jirei.errors:
            print(f"  {err['doc'][:3]} {err['heading'][:36]:<36} {err['field']:<13} "
                  f"missed={err['missed']} spurious={err['spurious']}")
    return 0


def _demo_labels(c: dict) -> str:
    org = next((o["name"] for o in c["organisations"]), "-")
    place = next((f"{p['prefecture'] or ''}{p['municipality'] or ''} {p['code'] or ''}".strip() if p["level"] != "region"
                  else p["region"] for p in c["places"] if p["level"] != "abroad"), "-")
    pillar = f"{c['pillar']['label']} {c['pillar']['score']:.2f}" if c["pillar"] else "-"
    items = ",".join(str(a["item"]) for a in c["action_items"]) or "-"
    review = "  needs review" if c["needs_review"] else ""
    return f"org {org} | place {place} | years {c['years'] or '-'} | pillar {pillar} | items {items}{review}"


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the sample reports into a case store, summarise them, and query the store."""
    from jirei.batch import run_batch
    from jirei.export import case_table, write_jsonl
    from jirei.store import CaseQuery, Store

    folder = Path(args.folder) if args.folder else paths.samples_dir()
    if not folder.is_dir():
        _write_err(f"jirei: error: {folder}: reports folder not found")
        return 2
    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    print(f"Jirei demo: reports in {folder} -> case store {db}")
    with Store(db) as store:
        summary = run_batch(store, [str(folder)], workers=os.cpu_count() or 1, progress=False, stream=sys.stdout)
        for line in summary.lines():
            print(line)
        print()
        records, total = store.query_cases(CaseQuery())
        by_doc: dict[str, list[dict]] = {}
        for r in records:
            by_doc.setdefault(r["doc"], []).append(r)
        for doc in store.documents():
            if doc["status"] != "done" or not doc["current"]:
                print(f"  {doc['name']:<34} FAILED: {doc['error']}" if doc["status"] == "failed" else "", end="")
                continue
            cases = by_doc.get(doc["name"], [])
            print(f"  {doc['name']:<34} {doc['chars']:>7} chars  {len(cases):>3} cases  layout={doc['layout'] or '-'}")
            for c in cases[:3]:
                print(f"      #{c['ordinal']:<3} {c['title'][:48]}")
                print("           " + _demo_labels(c))
            if len(cases) > 3:
                print(f"      … {len(cases) - 3} more")
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            write_jsonl(records, fh)
        print(f"\n{total} cases in {db}; JSON Lines in {out}")
        print(f"\n$ jirei cases --db {db} --search 人材 --limit 12")
        found, n = store.query_cases(CaseQuery(search="人材", limit=12))
        print(case_table(found, n))
    bin_dir = Path(sys.argv[0]).parent if Path(sys.argv[0]).name == "jirei" else None
    jirei = f"{bin_dir}/jirei" if bin_dir and str(bin_dir) not in ("", ".") else "jirei"
    print("\nReview these cases in the browser (reviewer web app on http://127.0.0.1:8000):")
    print(f"  {jirei} users add YOUR_NAME --role admin --db {db}    # asks for a password")
    print(f"  {jirei} serve --db {db}", flush=True)
    status = 1 if summary.failed and not summary.new_documents else 0
    if args.evaluate:
        print()
        if not paths.checkout():
            print("Gold evaluation skipped: it needs a checkout of Jirei's repository (corpus/).")
        elif not paths.seeds_dir().is_dir():
            print(f"Gold evaluation skipped: no seed reports at {paths.seeds_dir()} ({paths.SHARED_HOWTO}).")
        else:
            print(f"$ {jirei} evaluate all --report {args.report}", flush=True)
            status = max(status, main(["evaluate", "all", "--report", str(args.report)]))
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jirei",
        description="Jirei (事例): turn Japanese regional-revitalisation reports into labelled case studies.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "extract",
        help="reports in, one JSON line per case entry out",
        description=EXTRACT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="report files (.pdf, .txt, .md, .docx, .pptx, .xlsx) or folders")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="write JSON Lines here (default: standard output)")
    p.add_argument(
        "--layout",
        metavar="NAME",
        help="force a rule set (casebook, slides, headed-report, fallback, form) instead of detecting it",
    )
    p.add_argument(
        "--doc-date",
        metavar="YYYY-MM",
        help="date of the reports, to resolve 本年/昨年度; default: the date each report states (e.g. on its cover)",
    )
    p.add_argument("--no-entities", action="store_true", help="skip organisations, places and years")
    p.add_argument("--include-contacts", action="store_true",
                   help="also write submission forms' contact fields (担当者, 電話, メール: personal data)")
    p.add_argument("--no-labels", action="store_true", help="skip pillars, theme and action items")
    p.add_argument("--models", default=str(paths.MODELS), help="classifier artefacts (default: %(default)s)")
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes running GiNZA's NER and the classifier's features (lemmas, e5), each loading the "
             "models once (default: all cores, %(default)s)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no per-document progress on standard error")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("evaluate", help="score Jirei against the gold data in corpus/")
    esub = p.add_subparsers(dest="stage", required=True, metavar="STAGE")
    e = esub.add_parser(
        "segmentation",
        help="case boundaries vs corpus/segmentation",
        description=EVAL_SEG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("docs", nargs="*", metavar="DOC", help="documents to score (default: the seeds of every gold file)")
    e.add_argument("--gold", default=str(paths.SEGMENTATION_GOLD), help="gold folder (default: %(default)s)")
    e.add_argument("--seeds", default=str(paths.seeds_dir()), help="seeds folder (default: %(default)s)")
    e.add_argument("--json", action="store_true", help="print the scores as JSON")
    e.add_argument("-v", "--verbose", action="store_true", help="list missed, spurious and truncated entries")
    e.add_argument("--cv", choices=["document"],
                   help="leave one development document out (with its source and template): the CRF fitted "
                        "on the others, beside one-entry-per-page and the rule sets; then the held-out seeds")
    _add_segmenter_data_args(e)
    e.set_defaults(func=cmd_evaluate_segmentation)

    t = sub.add_parser(
        "train-segmenter",
        help="fit the case-boundary CRF (models/segmenter.crfsuite) and its card",
        description=(
            "Fit the linear-chain CRF that labels outline blocks (case start, inside, outside, section) on the "
            "development documents: seed 001 part I and 002 (text and renderings), layouts written from 001 part "
            "I's cases, and the real PDFs with gold in corpus/segmentation/pdfs. Seed 001 part II, 003 and 004 "
            "are never used. Leave-one-document-out figures decide, per document kind, whether the CRF or the "
            "rule sets segment; the card records them and the training documents' sha256."
        ),
    )
    t.add_argument("--models", default=str(paths.MODELS), metavar="DIR", help="output folder (default: %(default)s)")
    t.add_argument("--gold", default=str(paths.SEGMENTATION_GOLD), help="gold folder (default: %(default)s)")
    t.add_argument("--seeds", default=str(paths.seeds_dir()), help="seeds folder (default: %(default)s)")
    _add_segmenter_data_args(t)
    t.set_defaults(func=cmd_train_segmenter)

    e = esub.add_parser(
        "entities",
        help="organisations, places, years vs corpus/entities, next to stock GiNZA NER",
        description=EVAL_ENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("--seeds", default=str(paths.seeds_dir()), help="seeds folder (default: %(default)s)")
    e.add_argument("--no-baseline", action="store_true", help="skip the stock NER baseline")
    e.add_argument("--json", action="store_true", help="print the scores as JSON")
    e.add_argument("-v", "--verbose", action="store_true", help="list each case's missed and spurious values")
    e.add_argument("--end-to-end", action="store_true",
                   help="also score each document segmented by Jirei (real PDFs also as text and markdown)")
    e.set_defaults(func=cmd_evaluate_entities)

    add_evaluate_classification_parser(esub)
    add_train_parser(sub)
    add_evaluate_all_parsers(esub)

    from jirei.store_commands import add_store_parsers
    from jirei.webapp.commands import add_webapp_parsers

    add_store_parsers(sub)
    add_webapp_parsers(sub)

    p = sub.add_parser("demo", help="load the sample reports into a case store and print a summary")
    p.add_argument("--folder", help="reports folder (default: the shared seeds, else the samples Jirei ships)")
    p.add_argument("--db", default="out/demo.db", help="case store (default: %(default)s)")
    p.add_argument("-o", "--output", default="out/demo-cases.jsonl", help="JSONL output (default: %(default)s)")
    p.add_argument("--evaluate", action="store_true",
                   help="then score every stage against the gold (`jirei evaluate all`) where the seed reports "
                        "are present; else say how to get them")
    p.add_argument("--report", default="out/report.html", help="evaluation report with --evaluate (default: %(default)s)")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Every failure a command does not report itself still ends in one line and status 2:
    # no traceback reaches the user (JIREI_TRACEBACK=1 lets an unexpected one through).
    try:
        return args.func(args)
    except KeyError as exc:  # unknown --layout
        parser.error(str(exc.args[0]))
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        _write_err("jirei: interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("JIREI_TRACEBACK"):
            raise
        _write_err(f"jirei: error: {_problem(exc, getattr(args, 'db', None))}")
        return 2


def _problem(exc: Exception, db: str | None) -> str:
    import sqlite3

    from jirei.store import StoreError, store_problem

    if isinstance(exc, (StoreError, IngestError)) or type(exc).__module__.startswith("jirei."):
        return str(exc)  # Jirei's own errors are one line naming the file already
    if isinstance(exc, sqlite3.Error):
        return str(store_problem(Path(db), exc)) if db else f"SQLite: {exc}"
    if isinstance(exc, OSError):
        return os_problem(exc)
    return f"internal error: {type(exc).__name__}: {exc} (JIREI_TRACEBACK=1 shows where)"


if __name__ == "__main__":
    sys.exit(main())

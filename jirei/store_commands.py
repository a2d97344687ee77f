"""Commands over the case store: `jirei batch`, `relabel`, `cases`, `export`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jirei import paths
from jirei.problems import output_problem

DEFAULT_DB = "jirei.db"

BATCH_HELP = """\
Process reports (PDF, .txt, .md; files or folders, searched recursively) into the case store.

Only what is new is processed: a file whose bytes are already stored is skipped (a renamed copy
too); a changed file is stored as a new version of its path (the earlier version stays, marked
not current). Each document is committed with all its cases in one transaction, so a batch
stopped at any moment (Ctrl-C, kill -9, power loss) loses nothing stored, and running the same
command again finishes the rest.

A file that cannot be read (encrypted, corrupt, empty, image-only, undecodable) is stored as a
failed document with its reason; the batch goes on and the exit status is 1. Failed documents
are skipped by later runs unless --retry-failed is given.

Backends: `local` runs worker processes on this machine, each loading GiNZA once. `dask` runs
the same per-document function on a Dask cluster: a LocalCluster of --workers processes, or the
scheduler at --scheduler ADDRESS (start one with `dask scheduler` and `dask worker ADDRESS
--nthreads 1` on each machine; workers need Jirei installed with its models, not the files:
each task carries the file's bytes). Only this process writes the store.

examples:
  jirei batch submissions/ --db jirei.db
  jirei batch new/*.pdf --db jirei.db --workers 2
  jirei batch submissions/ --db jirei.db --backend dask --scheduler tcp://10.0.0.5:8786
  jirei batch submissions/ --db jirei.db --retry-failed
"""

CASES_HELP = """\
List stored cases as a table (or JSON Lines with --jsonl).

Filters combine (AND). --search is full-text over the case text (SQLite FTS5, trigram index);
the words are normalised as report text is (NFKC), so full-width and half-width forms match.
Words of one or two characters (東京, 人材), which a trigram index cannot find, are matched
directly in the text instead. Only current document versions are listed unless --all-versions.

In the table: `!` needs review, `✓` reviewed, `*` a reviewer set the pillar.

examples:
  jirei cases --db jirei.db --pillar work --prefecture 長野県
  jirei cases --db jirei.db --search "人材 育成" --needs-review
  jirei cases --db jirei.db --item 3 --limit 200
"""

EXPORT_HELP = """\
Write the stored cases to a file. JSONL rows are the `jirei extract` record plus review_status
and history_count. CSV and XLSX have one row per case: organisations, places with JIS X 0402
codes, years, pillar, items, review status. CSV is UTF-8 with a byte order mark so Excel opens
it with Japanese intact; --encoding cp932 writes Shift_JIS (Windows) for older software.
The filters of `jirei cases` apply.
"""


def _open_store(path: str, create: bool = False, reading: bool = False):
    from jirei.store import Store, StoreError, open_for_reading

    try:
        return open_for_reading(path) if reading else Store(path, create=create)
    except StoreError as exc:
        print(f"jirei: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _check_layout(layout: str | None) -> None:
    if layout:
        from jirei.extract.segment import layout_names

        if layout not in layout_names():
            raise SystemExit(_usage_error(f"--layout {layout!r}: unknown; known: {', '.join(layout_names())}"))


def _usage_error(message: str) -> int:
    print(f"jirei: error: {message}", file=sys.stderr)
    return 2


def cmd_batch(args: argparse.Namespace) -> int:
    from jirei.batch import run_batch
    from jirei.problems import check_doc_date as _check_doc_date
    from jirei.store import StoreError

    if args.backend == "local" and args.scheduler:
        return _usage_error("--scheduler needs --backend dask")
    if args.workers < 1:
        return _usage_error(f"--workers {args.workers}: expected 1 or more")
    _check_layout(args.layout)
    _check_doc_date(args.doc_date)
    # Inputs and models are checked before the store is opened, so a mistyped command creates nothing.
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing and len(missing) == len(args.paths):
        for p in missing:
            print(f"jirei: error: {p}: no such file or folder", file=sys.stderr)
        return 2
    with _open_store(args.db, create=True) as store:
        try:
            summary = run_batch(store, args.paths, workers=args.workers, backend=args.backend,
                                scheduler=args.scheduler, retry_failed=args.retry_failed, layout=args.layout,
                                doc_date=args.doc_date, models_dir=str(_models_of(args, store)),
                                quiet=args.quiet)
        except (RuntimeError, StoreError) as exc:
            # a full disk, a read-only store, missing models, an unreachable cluster: every
            # document stored so far is complete, and the same command finishes the rest
            return _usage_error(str(exc))
        except KeyboardInterrupt:
            print("jirei: interrupted: the documents stored so far are complete; run the same command "
                  "to finish", file=sys.stderr)
            return 130
    lines = summary.lines()
    if not args.verbose:
        lines = [line for line in lines if not line.startswith("  skipped")]
    for line in lines:
        print(line, file=sys.stderr)
    return 1 if summary.failed else 0


def _models_of(args: argparse.Namespace, store) -> Path:
    """--models when given, else the model promoted in the store (the reviewer app's Models
    page), else the shipped models."""
    from jirei.model_jobs import active_models_dir

    return Path(args.models) if args.models is not None else active_models_dir(store)


def cmd_relabel(args: argparse.Namespace) -> int:
    from jirei.batch import check_models
    from jirei.relabel import relabel_store
    from jirei.store import StoreError

    with _open_store(args.db) as store:
        try:
            classifier = check_models(_models_of(args, store))
        except RuntimeError as exc:
            return _usage_error(str(exc))
        try:
            summary = relabel_store(store, classifier)
        except StoreError as exc:  # read-only, disk full: the cases relabelled so far stay relabelled
            return _usage_error(str(exc))
    for line in summary.lines():
        print(line)
    return 0


def _pillar_id(value: str | None) -> str | None:
    """A pillar given as its id (work) or its Japanese name (働く)."""
    if not value:
        return None
    from jirei.classify.taxonomy import load_taxonomy

    pillars = load_taxonomy("chiiki_kyoso").label_set("pillar").labels
    for p in pillars:
        if value in (p.id, p.label_ja, f"「{p.label_ja}」"):
            return p.id
    known = ", ".join(f"{p.id} ({p.label_ja})" for p in pillars)
    raise SystemExit(_usage_error(f"--pillar {value!r}: expected one of {known}"))


def _query_from(args: argparse.Namespace, limit: int | None):
    from jirei.extract.text import normalise
    from jirei.store import CaseQuery

    return CaseQuery(
        pillar=_pillar_id(args.pillar), item=args.item,
        prefecture=normalise(args.prefecture).strip() if args.prefecture else None,
        search=args.search, needs_review=True if args.needs_review else None,
        reviewed={"yes": True, "no": False}.get(args.reviewed) if args.reviewed else None,
        doc_id=args.doc, all_versions=args.all_versions, limit=limit)


def cmd_cases(args: argparse.Namespace) -> int:
    import json

    from jirei.export import case_table, jsonl_record

    # listing works on a store in a read-only folder or file system too
    with _open_store(args.db, reading=True) as store:
        records, total = store.query_cases(_query_from(args, None if args.limit == 0 else args.limit))
    if args.jsonl:
        for r in records:
            print(json.dumps(jsonl_record(r), ensure_ascii=False))
    else:
        print(case_table(records, total))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from jirei import export
    from jirei.store import store_files

    # Writing over the store (or SQLite's files beside it) would destroy it, and even opening it
    # with a plain file handle would drop the locks of any connection this process holds.
    if args.output and Path(args.output).resolve() in store_files(args.db):
        print(f"jirei: error: {args.output}: is the case store {args.db} (or one of its SQLite files); "
              "choose another output file", file=sys.stderr)
        return 2
    if args.segmentation_gold:
        return _export_segmentation_gold(args)
    fmt = args.format
    if fmt == "xlsx" and not args.output:
        return _usage_error("--format xlsx needs -o FILE")
    problem = output_problem(args.output)
    if problem:
        return _usage_error(f"{args.output}: {problem}")
    with _open_store(args.db, reading=True) as store:
        records, _ = store.query_cases(_query_from(args, None))
        store.add_review_info(records)
    if not args.output:
        if fmt == "csv":
            data, n, lost = export.csv_bytes(records, args.encoding or "utf-8-sig", args.include_contacts)
            sys.stdout.buffer.write(data)
        else:
            n, lost = export.write_jsonl(records, sys.stdout, args.include_contacts), 0
    else:
        # Written beside the target and renamed over it: a reader (or a full disk) never meets a
        # half-written export, and an earlier export stays whole until the new one is complete.
        out = Path(args.output)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        lost = 0
        try:
            if fmt == "xlsx":
                n = export.write_xlsx(records, tmp, args.include_contacts)
            elif fmt == "csv":
                data, n, lost = export.csv_bytes(records, args.encoding or "utf-8-sig", args.include_contacts)
                tmp.write_bytes(data)
            else:
                with tmp.open("w", encoding="utf-8") as fh:
                    n = export.write_jsonl(records, fh, args.include_contacts)
            os.replace(tmp, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            return _usage_error(f"{args.output}: cannot write ({exc.strerror or exc})")
    if lost:
        print(f"jirei: warning: {lost} characters have no {args.encoding} form and were written as '?'",
              file=sys.stderr)
    if args.output:
        print(f"{n} cases written to {args.output}", file=sys.stderr)
    return 0


def _export_segmentation_gold(args: argparse.Namespace) -> int:
    from jirei import export

    folder = Path(args.segmentation_gold)
    if folder.exists() and not folder.is_dir():
        return _usage_error(f"{folder}: not a folder")
    with _open_store(args.db, reading=True) as store:
        try:
            written, problems = export.write_segmentation_gold(store, folder)
        except OSError as exc:
            return _usage_error(f"{folder}: cannot write ({exc.strerror or exc})")
    for problem in problems:
        print(f"jirei: warning: {problem}", file=sys.stderr)
    print(f"{len(written)} documents with reviewed boundaries written to {folder} (gold files as in "
          "corpus/segmentation; score with `jirei evaluate segmentation --gold DIR`)", file=sys.stderr)
    return 0


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pillar", metavar="P", help="primary pillar: live, work, nurture, interact (or 住む, 働く, 育む, 交わる)")
    p.add_argument("--item", type=int, metavar="N", help="action item number (1-10)")
    p.add_argument("--prefecture", metavar="NAME", help="a place in this prefecture, e.g. 長野県")
    p.add_argument("--search", metavar="WORDS", help="full-text search; all words must occur")
    p.add_argument("--needs-review", action="store_true", help="only cases the model is unsure of")
    p.add_argument("--reviewed", choices=["yes", "no"], help="only reviewed (yes) or unreviewed (no) cases")
    p.add_argument("--doc", metavar="SHA256", help="only the cases of this document (a prefix of its sha256)")
    p.add_argument("--all-versions", action="store_true", help="include earlier versions of changed files")


def add_store_parsers(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("batch", help="process new reports into the case store (resumable, parallel)",
                       description=BATCH_HELP, formatter_class=fmt)
    p.add_argument("paths", nargs="+", metavar="PATH", help="report files (.pdf, .txt, .md, .docx, .pptx, .xlsx) or folders")
    p.add_argument("--db", default=DEFAULT_DB, help="case store (SQLite file; made if missing; default: %(default)s)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: all cores, %(default)s)")
    p.add_argument("--backend", choices=["local", "dask"], default="local", help="where documents are processed")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler (e.g. tcp://host:8786); default: a LocalCluster")
    p.add_argument("--retry-failed", action="store_true", help="try documents that failed before again")
    p.add_argument("--layout", metavar="NAME", help="force a segmentation rule set (see `jirei extract --help`)")
    p.add_argument("--doc-date", metavar="YYYY-MM", help="date of the reports, to resolve 本年/昨年度")
    p.add_argument("--models", default=None, metavar="DIR",
                   help=f"classifier artefacts (default: the store's active model, else {paths.MODELS})")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-document lines")
    p.add_argument("-v", "--verbose", action="store_true", help="list the skipped files in the summary")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("relabel", help="apply the current model to stored cases (reviewers' values kept)",
                       description="Classify every stored case (current document versions) with the store's "
                                   "active model (the one last promoted in the reviewer app's Models page; "
                                   "without one, the shipped models) or with --models. A field a reviewer set is "
                                   "never changed; every change is written to the case's history under "
                                   "model@<version>.")
    p.add_argument("--db", default=DEFAULT_DB, help="case store (default: %(default)s)")
    p.add_argument("--models", default=None, metavar="DIR",
                   help=f"classifier artefacts (default: the store's active model, else {paths.MODELS})")
    p.set_defaults(func=cmd_relabel)

    p = sub.add_parser("cases", help="list stored cases with filters and full-text search",
                       description=CASES_HELP, formatter_class=fmt)
    p.add_argument("--db", default=DEFAULT_DB, help="case store (default: %(default)s)")
    _add_filters(p)
    p.add_argument("--limit", type=int, default=50, metavar="N", help="rows to show, 0 for all (default: %(default)s)")
    p.add_argument("--jsonl", action="store_true", help="print JSON Lines instead of a table")
    p.set_defaults(func=cmd_cases)

    p = sub.add_parser("export", help="write stored cases to CSV, JSONL or XLSX",
                       description=EXPORT_HELP, formatter_class=fmt)
    p.add_argument("--db", default=DEFAULT_DB, help="case store (default: %(default)s)")
    p.add_argument("--format", choices=["csv", "jsonl", "xlsx"], default="csv", help="file format (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output; required for xlsx)")
    p.add_argument("--encoding", choices=["utf-8-sig", "utf-8", "cp932"],
                   help="CSV encoding (default: utf-8-sig, UTF-8 with a BOM for Excel)")
    p.add_argument("--include-contacts", action="store_true",
                   help="also write submission forms' contact fields (personal data; left out by default)")
    p.add_argument("--segmentation-gold", metavar="DIR",
                   help="instead of cases: write the case boundaries of every document reviewers corrected (split, "
                        "merge, not a case) as segmentation gold files into DIR (PDFs under DIR/pdfs), the format of "
                        "corpus/segmentation/")
    _add_filters(p)
    p.set_defaults(func=cmd_export)

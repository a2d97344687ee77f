"""Command-line wiring for `jirei train`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from jirei import paths

from .taxonomy import DEFAULT_SCHEME, TaxonomyError


def _error(message: str, status: int = 2) -> int:
    print(f"jirei: error: {message}", file=sys.stderr)
    return status


def run_train(args: argparse.Namespace) -> int:
    from .taxonomy import load_taxonomy
    from .training import SplitError, training_rows

    if not paths.checkout():
        return _error(f"training needs a checkout of Jirei's repository (its gold data in corpus/); this Jirei "
                      f"is installed at {paths.REPO}", 2)
    seeds = Path(args.seeds)
    if not seeds.is_dir():
        return _error(f"{seeds}: seeds folder not found (it must hold seed 001 for the training cases)")
    models = Path(args.models)
    if models.exists() and not models.is_dir():
        return _error(f"{models}: is a file; --models names the folder the models are written to", 2)
    store = selection = None
    if args.db:
        from jirei.store import Store, StoreError

        try:
            store = Store(args.db, create=False)
        except StoreError as exc:
            return _error(str(exc), 2)
    try:
        taxonomy = load_taxonomy(args.scheme)
        if store is not None:
            from .store_data import select_store_cases, training_rows_with_store

            selection = select_store_cases(store, taxonomy, seeds)
            rows = training_rows_with_store(taxonomy, selection, seeds)
        else:
            rows = training_rows(taxonomy, seeds)
    except (TaxonomyError, FileNotFoundError, ValueError, SplitError) as exc:
        if store is not None:
            store.close()
        return _error(str(exc))
    if selection is not None:
        for line in selection.summary():
            print(line)
        for problem in selection.invalid:
            print(f"  not used: {problem}", file=sys.stderr)
    try:
        return _train_and_save(args, taxonomy, rows, selection, store)
    finally:
        if store is not None:
            store.close()


def _train_and_save(args: argparse.Namespace, taxonomy, rows: list, selection, store) -> int:
    """Fit, write the models, print the card's figures; with a store, record the run in it."""
    from . import model

    cases = f"{sum(r.origin == 'case' for r in rows)} cases of split 'train'"
    if selection is not None:
        cases += f" and {len(selection.corrections)} new cases from the case store"
    print(f"training on {len(rows)} rows ({cases}); scheme {taxonomy.versioned_name}; "
          "hyperparameter search by CV over whole runs of documents' cases ...", file=sys.stderr)
    run_id = store.start_run("train", {"models": str(args.models), "search": not args.no_search,
                                       "corrections": selection.count}) if store is not None else None
    status = "failed"
    try:
        trained = model.train(taxonomy, rows, search=not args.no_search,
                              store=selection.card() if selection is not None else None)
        written = model.save(trained, Path(args.models))
        status = "finished"
    finally:
        if run_id is not None:
            counts = {"rows": len(rows), "corrections": selection.count,
                      "held_out_reviewed": selection.held_out_reviewed}
            store.finish_run(run_id, counts, {}, status=status)
    if store is not None:
        store.register_model(trained.version, trained.card)
    card = trained.card
    cv = card["cv"]
    p, i = cv["pillar"], cv["action_items"]
    print(f"model {trained.version}  (training data sha256 {card['training_data']['sha256'][:16]})")
    print(f"CV on training cases ({cv['protocol']}):")
    print(f"  pillar        accuracy {p['accuracy']:.3f}  macro-F1 {p['macro_f1']:.3f}  ECE {p['ece']:.3f}  "
          f"log loss {p['log_loss']:.3f}")
    print(f"  theme         accuracy {cv['theme_accuracy']:.3f}")
    print(f"  action items  micro-F1 {i['micro_f1']:.3f}  macro-F1 {i['macro_f1']:.3f}  top-1 hit {i['top1_hit']:.3f}")
    print(f"hyperparameters {json.dumps(card['hyperparameters'])}")
    print(f"thresholds {json.dumps(card['thresholds'])}")
    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    if selection is not None:
        print(f"next: `jirei relabel --db {args.db} --models {args.models}` puts this model's labels on the "
              f"unreviewed cases (reviewers' labels are kept)")
    return 0


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """`jirei train`: fit the pillar, theme and action-item models and write them with a model card."""
    parser = subparsers.add_parser(
        "train",
        help="train the pillar/theme/action-item classifiers",
        description=(
            "Fit Jirei's classifiers on the training data only: the scheme's own wording and the partner "
            "rows of seed 000, and the gold cases of seed 001 part I (split 'train'). Hyperparameters and "
            "thresholds are chosen by cross-validation on those cases. Writes skops files and "
            "model_card.json (training-data sha256, label sets, CV figures, thresholds, library versions). "
            "With --db, reviewed cases of a case store are added (see classify/store_data.py); then run "
            "`jirei relabel` to update the unreviewed cases."
        ),
    )
    parser.add_argument("--models", default=str(paths.MODELS), metavar="DIR",
                        help="folder to write the models and model card to (default: %(default)s)")
    parser.add_argument("--seeds", default=str(paths.seeds_dir()), metavar="DIR",
                        help="folder holding the seed reports, for the training cases' text (default: %(default)s)")
    parser.add_argument("--scheme", default=DEFAULT_SCHEME, help=argparse.SUPPRESS)
    parser.add_argument("--no-search", action="store_true",
                        help="skip the hyperparameter search and use the defaults (quicker)")
    parser.add_argument("--db", metavar="FILE",
                        help="also train on the reviewed cases of this case store (reviewers' labels), except "
                             "cases of held-out documents: seed documents keep their corpus split; of the "
                             "others, one in five is held out by its sha256 (classify/store_data.py)")
    parser.set_defaults(func=run_train)
    return parser

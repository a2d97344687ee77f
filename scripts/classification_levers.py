"""What each classifier change does: training rows (seed 001 part I alone, or with the real PDFs'
cases) × feature blocks (labelling functions, e5 sentence embedding), each fitted with fixed
hyperparameters (pillar C 30; items C 3 with the new blocks, as the CV search chose for the committed
models, and C 10 without them, as it chose for the earlier lemmas + vectors models), printed with its training-CV
figures and its held-out figures. The held-out figures are for reporting; nothing is chosen on them.

    OPENBLAS_CORETYPE=Haswell .venv/bin/python scripts/classification_levers.py [NAME ...]

Models go to out/levers/<name>/. Takes several minutes per row on two cores.
"""

import sys
from pathlib import Path

from jirei.classify import model as M
from jirei.classify.taxonomy import load_taxonomy
from jirei.classify.training import PDF_SUBDIR, label_files, training_rows
from jirei.evaluation.classification import evaluate_classification

H = M.Hyperparameters
PILLAR = dict(C=30.0, vector_weight=3.0)
ITEMS = dict(vector_weight=3.0)


def main(names: list[str]) -> None:
    taxonomy = load_taxonomy()
    rows = training_rows(taxonomy)
    pdf_docs = {Path(p.stem).name for p in label_files() if p.parent.name == PDF_SUBDIR}
    seed_rows = [r for r in rows if r.key.split("#")[0] not in pdf_docs]
    variants = {
        "seed_base": (seed_rows, 0.0, 0.0, 10.0),
        "seed_rules_e5": (seed_rows, 0.3, 3.0, 3.0),
        "pdf_base": (rows, 0.0, 0.0, 10.0),
        "pdf_rules": (rows, 0.3, 0.0, 3.0),
        "pdf_e5": (rows, 0.0, 3.0, 3.0),
        "pdf_rules_e5": (rows, 0.3, 3.0, 3.0),
    }
    for name in names or variants:
        fit_rows, rule_weight, sentence_weight, item_c = variants[name]
        extra = dict(rule_weight=rule_weight, sentence_weight=sentence_weight)
        trained = M.train(taxonomy, fit_rows, search=False, hyperparameters=H(**PILLAR, **extra),
                          item_hyperparameters=H(C=item_c, **ITEMS, **extra))
        folder = Path("out/levers") / name
        M.save(trained, folder)
        report = evaluate_classification(folder)
        s = report.score("jirei")
        review = next(r for r in report.review if r.part == "all")
        cv = trained.card["cv"]
        print(f"{name:<14} CV ({sum(r.origin == 'case' for r in fit_rows)} cases) pillar acc {cv['pillar']['accuracy']:.3f} "
              f"log loss {cv['pillar']['log_loss']:.3f} items micro-F1 {cv['action_items']['micro_f1']:.3f} "
              f"top-1 {cv['action_items']['top1_hit']:.3f} | held-out pillar acc {s.pillar_accuracy:.3f} "
              f"macro-F1 {s.pillar_macro_f1:.3f} ECE {s.pillar_ece:.3f} items micro-F1 {s.items_micro_f1:.3f} "
              f"top-1 {s.items_top1_hit:.3f} | needs_review {review.flagged_share:.3f}, "
              f"unflagged pillar acc {review.unflagged_pillar_accuracy:.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

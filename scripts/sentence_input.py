"""What the e5 sentence embedding should read: each candidate (a view of the classifier input,
`classify.features.SENTENCE_VIEWS`, within N characters) scored by `jirei train`'s
cross-validation over the training rows (the whole search grid; nothing held out is read), beside
what it costs: e5 seconds (one thread, best of three) and tokens over the cases `jirei extract`
finds in the seed texts (the texts `make bench` times; only their text is read, never a label).

    OPENBLAS_CORETYPE=Haswell .venv/bin/python scripts/sentence_input.py [--no-cv] [VIEW:CHARS ...]

VIEW:CHARS e.g. prefix:64 leads:128 windows:192; `none` (no e5) and `whole` (the whole text).
"""

from __future__ import annotations

import argparse
import time

from threadpoolctl import threadpool_limits

from jirei import paths
from jirei.classify import features as F
from jirei.classify import model as M
from jirei.classify.taxonomy import load_taxonomy
from jirei.classify.training import training_rows
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

DEFAULT = ["none", "prefix:64", "prefix:96", "prefix:128", "prefix:192", "prefix:256", "leads:64", "leads:96",
           "leads:128", "leads:192", "windows:96", "windows:128", "windows:192", "whole"]


def parse(candidate: str) -> tuple[str, int | None] | None:
    if candidate == "none":
        return None
    if candidate == "whole":
        return ("prefix", None)
    view, chars = candidate.split(":")
    return view, int(chars)


def bench_texts() -> list[list[str]]:
    """The classifier inputs of the cases in each seed text, as `jirei extract` segments them."""
    return [[F.case_input(c.title, c.text) for c in segment(ingest(p))] for p in sorted(paths.seeds_dir().glob("*.txt"))]


def e5_cost(spec, docs: list[list[str]], repeats: int = 3) -> dict[str, float]:
    """e5 seconds over the seed cases, one batch per document as a worker sees them (best of
    `repeats`, cache cleared), the tokens and characters embedded."""
    if spec is None:
        return {"seconds": 0.0, "tokens": 0, "chars": 0}
    view, chars = spec
    encoder = F.sentence_encoder()
    pieces = [sorted({p for t in texts for p in F.sentence_pieces(t, chars, view)}) for texts in docs]
    best = float("inf") if repeats else 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for batch in pieces:
            encoder.passage(batch)
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best, "tokens": sum(encoder.token_count(p) for b in pieces for p in b),
            "chars": sum(len(p) for b in pieces for p in b)}


def cv(spec, rows, item_numbers) -> dict[str, float]:
    """The best pillar log loss of the search grid (with that entry's accuracy) and the best item
    micro-F1 + top-1 entry, as `jirei train` chooses them (uncalibrated OOF figures)."""
    grid = [hp for hp in M.SEARCH_GRID if (hp.sentence_weight > 0) == (spec is not None)]
    view, chars = spec if spec is not None else ("prefix", None)
    with threadpool_limits(limits=1):
        X = F.feature_matrix([r.input_text for r in rows], sentences=spec is not None, sentence_chars=chars,
                             sentence_view=view)
        _, _, log = M._select(X, rows, item_numbers, grid)
    pillar = min(log, key=lambda e: (round(e["pillar"]["log_loss"], 6), -e["hyperparameters"]["C"]))
    items = max(log, key=lambda e: (round(e["items"]["micro_f1"] + e["items"]["top1_hit"], 6), e["hyperparameters"]["C"]))
    return {"log_loss": pillar["pillar"]["log_loss"], "accuracy": pillar["pillar"]["accuracy"],
            "pillar_hp": pillar["hyperparameters"], "micro_f1": items["items"]["micro_f1"],
            "top1": items["items"]["top1_hit"], "items_hp": items["hyperparameters"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidates", nargs="*", default=DEFAULT)
    parser.add_argument("--no-cv", action="store_true", help="only the e5 cost")
    parser.add_argument("--no-timing", action="store_true", help="only the CV figures (tokens and chars still counted)")
    args = parser.parse_args()
    docs = bench_texts()
    print(f"seed texts: {len(docs)} documents, {sum(map(len, docs))} cases, {sum(len(t) for d in docs for t in d)} input chars")
    taxonomy = load_taxonomy()
    rows = training_rows(taxonomy)
    item_numbers = sorted(taxonomy.label_set("action_item").numbers)
    print(f"{'candidate':<12} {'e5 s':>6} {'tokens':>7} {'chars':>7} {'ms/tok':>7} {'us/char':>8} | "
          f"{'log loss':>8} {'acc':>6} {'items F1':>8} {'top-1':>6}  chosen C (pillar, items)", flush=True)
    for candidate in args.candidates:
        spec = parse(candidate)
        with threadpool_limits(limits=1):
            cost = e5_cost(spec, docs, repeats=0 if args.no_timing else 3)
        per_tok = 1000 * cost["seconds"] / cost["tokens"] if cost["tokens"] else 0.0
        per_char = 1e6 * cost["seconds"] / cost["chars"] if cost["chars"] else 0.0
        line = (f"{candidate:<12} {cost['seconds']:>6.2f} {cost['tokens']:>7} {cost['chars']:>7} {per_tok:>7.3f} "
                f"{per_char:>8.1f}")
        if not args.no_cv:
            s = cv(spec, rows, item_numbers)
            line += (f" | {s['log_loss']:>8.3f} {s['accuracy']:>6.3f} {s['micro_f1']:>8.3f} {s['top1']:>6.3f}  "
                     f"{s['pillar_hp']['C']:g}/{s['pillar_hp']['rule_weight']:g}, {s['items_hp']['C']:g}/{s['items_hp']['rule_weight']:g}")
        print(line, flush=True)


if __name__ == "__main__":
    main()

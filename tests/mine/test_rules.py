"""Each mining rule on a real BM25 run of the xquad-r dev queries, checked row by row."""

from __future__ import annotations

import numpy as np
import pytest

from polyret.errors import InvalidInputError, UnknownNameError
from polyret.mine import (
    PRESETS,
    HardNegativeMiner,
    MiningConfig,
    build_pool,
    load_miner,
    mine,
    miners,
)
from polyret.types import TrainingSet


def rows(mined: TrainingSet) -> list:
    return list(mined)


def assert_consistent_with_run(mined, run, corpus, n: int | None) -> None:
    """Negatives are run entries (score and rank as in the run), never the positive, in
    rank order, with their corpus texts; exactly ``n`` of them when given."""
    texts = dict(zip(corpus.ids, corpus.full_texts(), strict=True))
    for ex in mined:
        ranked, scores = run.scores(ex.id)
        rank_of = {d: r + 1 for r, d in enumerate(ranked.tolist())}
        score_of = dict(zip(ranked.tolist(), scores.tolist(), strict=True))
        if n is not None:
            assert len(ex.negative_ids) == n
        assert ex.positive_id not in ex.negative_ids
        assert ex.negative_ranks == [rank_of[d] for d in ex.negative_ids]
        assert ex.negative_ranks == sorted(ex.negative_ranks)
        assert np.allclose(ex.negative_scores, [score_of[d] for d in ex.negative_ids], atol=1e-5)
        assert ex.negatives == [texts[d] for d in ex.negative_ids]
        if ex.positive_id in rank_of:
            assert ex.positive_score == pytest.approx(score_of[ex.positive_id], abs=1e-5)
        else:
            assert ex.positive_score is None


def test_top_k_takes_the_best_ranked_non_positives(dev_pairs, bm25_run, xquad_r):
    mined = mine(dev_pairs, bm25_run, xquad_r.corpus, "top-k", num_negatives=5, dedup=False)
    assert_consistent_with_run(mined, bm25_run, xquad_r.corpus, 5)
    for ex in mined:
        ranked = [d for d in bm25_run.scores(ex.id)[0].tolist() if d != ex.positive_id]
        assert ex.negative_ids == ranked[:5]
    step = mined.funnel[-1]
    # every row BM25 retrieved at least 6 documents for is kept; the rest are counted
    enough = sum(
        int(len([d for d in bm25_run[e.id] if d != e.positive_id]) >= 5)
        for e in dev_pairs
        if e.id in bm25_run
    )
    assert step["kept"] == len(mined) == enough
    assert step["short"] == step["dropped"].get("too_few_negatives", 0) == len(dev_pairs) - enough
    assert step["removed"]["positive"] == sum(
        e.positive_id in bm25_run[e.id] for e in dev_pairs if e.id in bm25_run
    )


def test_run_window_bounds_and_random_sampling(dev_pairs, bm25_run, xquad_r):
    mined = mine(dev_pairs, bm25_run, xquad_r.corpus, "sfr")  # 7 from ranks 30-100
    assert_consistent_with_run(mined, bm25_run, xquad_r.corpus, 7)
    assert all(30 <= r <= 100 for ex in mined for r in ex.negative_ranks)
    # a sample, not the top of the window
    assert any(ex.negative_ranks != list(range(30, 37)) for ex in mined)
    piccolo = mine(dev_pairs, bm25_run, xquad_r.corpus, "piccolo")
    assert all(len(ex.negative_ids) == 15 for ex in piccolo)
    assert all(50 <= r <= 100 for ex in piccolo for r in ex.negative_ranks)


def test_kept_window_counts_positions_among_survivors(dev_pairs, bm25_run, xquad_r):
    """sentence-transformers' range_min/range_max: the 11th..20th surviving candidates."""
    config = MiningConfig(num_negatives=10, min_rank=11, max_rank=20, window="kept", dedup=False)
    mined = mine(dev_pairs, bm25_run, xquad_r.corpus, config)
    for ex in mined:
        survivors = [d for d in bm25_run.scores(ex.id)[0].tolist() if d != ex.positive_id]
        assert ex.negative_ids == survivors[10:20]


def test_perc_pos_and_margin_pos_bound_by_the_positive(dev_pairs, bm25_run, xquad_r):
    perc = mine(dev_pairs, bm25_run, xquad_r.corpus, "nv-retriever", short="keep", dedup=False)
    margin = mine(dev_pairs, bm25_run, xquad_r.corpus, "margin-pos", margin_pos=1.5, short="keep")
    assert_consistent_with_run(perc, bm25_run, xquad_r.corpus, None)
    for ex in perc:
        if ex.positive_score is None:  # positive not retrieved: no bound known, no negative
            assert ex.negative_ids == []
            continue
        bound = ex.positive_score - abs(ex.positive_score) * (1 - 0.95)
        assert all(s <= bound + 1e-5 for s in ex.negative_scores)
        assert len(ex.negative_ids) <= 4
        # TopK: the best-ranked candidates under the bound, none skipped
        under = [d for d, s in bm25_run[ex.id].items() if d != ex.positive_id and s <= bound]
        assert ex.negative_ids == under[: len(ex.negative_ids)]
    for ex in margin:
        if ex.positive_score is not None:
            assert all(s <= ex.positive_score - 1.5 + 1e-5 for s in ex.negative_scores)
    step = perc.funnel[-1]
    unscored = sum(e.id in bm25_run and e.positive_id not in bm25_run[e.id] for e in dev_pairs)
    assert unscored > 0
    assert sum(ex.positive_score is None and ex.id in bm25_run for ex in perc) == unscored
    assert step["removed"]["perc_pos"] > 0 and step["removed"]["no_positive_score"] > 0
    assert step["kept"] == len(dev_pairs)  # short="keep"


def test_absolute_thresholds(dev_pairs, bm25_run, xquad_r):
    scores = bm25_run.to_arrays()[2]
    low, high = np.percentile(scores, [20, 60])
    mined = mine(
        dev_pairs, bm25_run, xquad_r.corpus, "arctic", max_score=high, min_score=low, short="keep"
    )
    assert_consistent_with_run(mined, bm25_run, xquad_r.corpus, None)
    values = [s for ex in mined for s in ex.negative_scores]
    assert values and min(values) >= low - 1e-5 and max(values) <= high + 1e-5
    removed = mined.funnel[-1]["removed"]
    assert removed["max_score"] > 0 and removed["min_score"] > 0
    assert all(r <= 100 for ex in mined for r in ex.negative_ranks)


def test_seeded_sampling_is_reproducible_and_seed_sensitive(dev_pairs, bm25_run, xquad_r):
    def draw(seed, examples=dev_pairs):
        return {
            ex.id: ex.negative_ids
            for ex in mine(examples, bm25_run, xquad_r.corpus, "netease", seed=seed)
        }

    first, again, other = draw(0), draw(0), draw(1)
    assert first == again
    differing = sum(first[i] != other[i] for i in first)
    assert differing > 0.9 * len(first)
    # a row's draw depends on its own id and candidates only, not on the other rows
    subset = dev_pairs.take(range(0, len(dev_pairs), 3))
    assert all(first[i] == negs for i, negs in draw(0, subset).items())


def test_short_rows_kept_or_dropped_and_counted(dev_pairs, bm25_run, xquad_r):
    config = MiningConfig(num_negatives=30, min_rank=150, sampling="random")
    dropped = mine(dev_pairs, bm25_run, xquad_r.corpus, config)
    kept = mine(dev_pairs, bm25_run, xquad_r.corpus, config, short="keep")
    short = kept.funnel[-1]["short"]
    assert 0 < short < len(dev_pairs)
    assert dropped.funnel[-1]["short"] == short
    assert len(dropped) == len(dev_pairs) - short
    assert dropped.funnel[-1]["dropped"] == {"too_few_negatives": short}
    assert len(kept) == len(dev_pairs)
    counts = [len(ex.negative_ids) for ex in kept]
    assert sum(c < 30 for c in counts) == short
    assert dropped.num_negatives == 30


def test_output_is_a_training_set_for_both_trainers(dev_pairs, bm25_run, xquad_r, tmp_path):
    mined = mine(dev_pairs, bm25_run, xquad_r.corpus, "sfr", num_negatives=3)
    st = mined.to_sentence_transformers()
    assert st.column_names == ["anchor", "positive", "negative_1", "negative_2", "negative_3"]
    first = next(iter(mined))
    assert st.slice(0, 1).to_pylist()[0] == {
        "anchor": first.query,
        "positive": first.positive,
        **{f"negative_{i + 1}": t for i, t in enumerate(first.negatives)},
    }
    mined.save(tmp_path / "mined")
    back = TrainingSet.load(tmp_path / "mined")
    assert back == mined
    assert back.provenance["mine"]["strategy"] == "sfr"
    assert back.provenance["mine"]["config"]["num_negatives"] == 3
    assert back.provenance["mine"]["config"]["min_rank"] == 30
    assert [s["step"] for s in back.funnel] == ["pairs", "mine"]


def test_strategies_by_name(dev_pairs):
    assert set(PRESETS) <= set(miners.names())
    for name in ("netease", "sfr", "piccolo", "nv-retriever", "arctic", "gist"):
        miner = load_miner(name, seed=5)
        assert miner.name == name and miner.config.seed == 5
    assert load_miner("nv-retriever").config.perc_pos == 0.95
    assert load_miner("sfr").config.min_rank == 30
    with pytest.raises(UnknownNameError, match="nv-retriever"):
        load_miner("nv-retriver")
    with pytest.raises(InvalidInputError, match="min_rank"):
        MiningConfig(min_rank=0)
    with pytest.raises(InvalidInputError, match="perc_pos"):
        HardNegativeMiner(perc_pos=1.5)


def test_a_custom_strategy_registers_with_one_decorator(dev_pairs, bm25_run, xquad_r):
    @miners.register("every-third")
    def every_third(**options):
        return HardNegativeMiner(MiningConfig(min_rank=3, **options), name="every-third")

    mined = mine(dev_pairs, bm25_run, xquad_r.corpus, "every-third", num_negatives=2)
    assert mined.provenance["mine"]["strategy"] == "every-third"
    assert all(min(ex.negative_ranks) >= 3 for ex in mined)


def test_run_queries_must_be_examples_and_documents_in_the_corpus(dev_pairs, xquad_r):
    first = next(iter(dev_pairs))
    run = {first.id: {"not-a-doc": 1.0}, "stranger": {first.positive_id: 2.0}}
    with pytest.raises(InvalidInputError, match="not-a-doc"):
        mine(dev_pairs, run, xquad_r.corpus)
    mined = mine(dev_pairs, {"stranger": {first.positive_id: 2.0}}, xquad_r.corpus)
    assert len(mined) == 0 and mined.funnel[-1]["not_in_run"] == len(dev_pairs)


def test_pool_matches_the_mined_negatives(dev_pairs, bm25_run, xquad_r):
    miner = load_miner("perc-pos", num_negatives=3)
    pool = miner.pool(dev_pairs, bm25_run, xquad_r.corpus)
    mined = miner.mine(dev_pairs, bm25_run, xquad_r.corpus)
    ids = dev_pairs.ids
    kept = pool.kept_pairs()
    assert all((ids.index(ex.id), d) in kept for ex in mined for d in ex.negative_ids)
    assert len(build_pool(dev_pairs, bm25_run, xquad_r.corpus)) == bm25_run.num_entries


def test_depth_limits_candidates_but_not_the_positive_score(dev_pairs, bm25_run, xquad_r):
    mined = mine(
        dev_pairs, bm25_run, xquad_r.corpus, "perc-pos", depth=3, short="keep", dedup=False
    )
    deep = 0
    for ex in mined:
        if ex.id not in bm25_run or ex.positive_id not in bm25_run[ex.id]:
            continue
        ranked = list(bm25_run[ex.id])
        assert ex.positive_score == pytest.approx(bm25_run[ex.id][ex.positive_id], abs=1e-5)
        assert all(r <= 3 for r in ex.negative_ranks)
        deep += ranked.index(ex.positive_id) >= 3
    assert deep > 0

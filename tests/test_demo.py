"""The demo with the real packaged encoder: the per-language table it prints is earned."""

from __future__ import annotations

from polyret.demo import DEMO_METRICS, run_demo, systems_table


def test_demo_hybrid_beats_bm25_and_dense_on_average(fast_encoder):
    result = run_demo(encoder=fast_encoder)
    ndcg = {name: report.mean["ndcg@10"] for name, report in result.reports.items()}
    # measured: BM25 0.789, dense 0.830, hybrid 0.850 (weights tuned on dev)
    assert ndcg["hybrid"] > max(ndcg["BM25"], ndcg["dense"])
    assert ndcg["dense"] > 0.8
    assert sum(result.hybrid_weights) == 1
    for metric in DEMO_METRICS:
        table = systems_table(result.reports, metric)
        assert table.row_count == 10  # nine languages and "all"
    # no cross-encoder ships, so reranking may at best match the hybrid (measured: equal)
    assert ndcg["reranked"] >= ndcg["hybrid"] - 0.005

"""Late interaction (MaxSim over token vectors) as the stage after the hybrid.

For each shared collection (monolingual, as a user's own corpus would be):

- ``hybrid`` (the anchor): BM25 + multilingual-e5-small dense, min-max interpolation with
  weights tuned on dev, k=100;
- ``maxsim``: the hybrid's top ``--depth`` reordered by :class:`polyret.rerank.
  LateInteractionReranker` alone (zero-shot token states, or a folder's trained projection);
- ``reranked``: what the pipeline's rerank stage with ``ensemble: true`` delivers, the
  hybrid and the MaxSim scores of its top ``--depth`` combined by
  :class:`polyret.rerank.EnsembleReranker` with weights learned on dev;
- ``bi-encoder``: the same ensemble with the full-text bi-encoder reranker (the previous
  default), for comparison.

Test nDCG@10 per language, Δ to the hybrid, paired randomization p (10,000 sign flips), the
ensemble weights, and the time to encode the token vectors and score the pairs.
``--variant NAME=JSON`` passes :class:`~polyret.encode.tokens.TokenEncoder` options (e.g.
``'last2={"layers": [-1, -2]}'``); ``--members bm25,dense`` ensembles the MaxSim scores with
BM25 and dense separately (three weights learned on dev) instead of with the hybrid, and
``--normalization z-score`` changes the ensemble's per-query normalization. Results go to
``--out`` (one JSON per collection and variant, reused when present).

    nice python benchmarks/bench_late_interaction.py --collections 'xquad-r-*,xquad-p-*'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import shared_collections

from polyret.evaluate import evaluate, randomization_test
from polyret.io import read_beir
from polyret.rerank import BiEncoderReranker, EnsembleReranker, LateInteractionReranker
from polyret.retrieve import BM25, Dense, tune_fusion
from polyret.retrieve.fusion import Normalization
from polyret.types import Dataset, Run

K = 100
METRIC = "ndcg@10"


def main() -> None:
    args = parse_args()
    variants = dict(parse_variant(v) for v in args.variant) or {"zero-shot": {}}
    results = []
    for folder in shared_collections(args.collections):
        data = read_beir(folder)
        base: dict[str, Any] | None = None
        for name, options in variants.items():
            target = args.out / f"{data.name}.{name}.json"
            if target.is_file():
                results.append(json.loads(target.read_text()))
                continue
            if base is None:
                base = base_runs(data, args.depth, args.bi_encoder)
            reranker = LateInteractionReranker(**options)
            result = measure(data, base, reranker, args.depth, args.members, args.normalization)
            result |= {"variant": name, "options": options}
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(result, indent=1))
            results.append(result)
            print_rows([result])
    print_rows(results, summary=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default="xquad-r-*,xquad-p-*", help="glob list")
    parser.add_argument("--depth", type=int, default=30, help="hybrid candidates rescored")
    parser.add_argument("--variant", action="append", default=[], help="NAME=JSON options")
    parser.add_argument("--bi-encoder", action="store_true", help="the bi-encoder row too")
    parser.add_argument("--members", default="hybrid", help="first-stage runs in the ensemble")
    parser.add_argument("--normalization", default="min-max", choices=["min-max", "z-score"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/polyret-bench-li"))
    return parser.parse_args()


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, options = text.partition("=")
    return name, json.loads(options or "{}")


def base_runs(data: Dataset, depth: int, bi_encoder: bool) -> dict[str, Any]:
    """The dev-tuned hybrid over the dev + test questions (and the bi-encoder ensemble)."""
    queries = data.queries.filter(ids={*data.split("dev")[0].ids, *data.split("test")[0].ids})
    runs = {"bm25": BM25().index(data.corpus).search(queries, k=K)}
    runs["dense"] = Dense().index(data.corpus).search(queries, k=K)
    tuning = tune_fusion(
        {n: r.select(data.split("dev")[0].ids) for n, r in runs.items()}, data.split("dev")[1]
    )
    out: dict[str, Any] = {**runs, "hybrid": tuning.apply([runs["bm25"], runs["dense"]], k=K)}
    out["hybrid weights"] = list(tuning.weights)
    if bi_encoder:
        out["bi-encoder"], out["bi-encoder weights"], _ = ensemble(
            data, out, BiEncoderReranker(), depth
        )
    return out


def ensemble(
    data: Dataset,
    base: dict[str, Any],
    reranker: Any,
    depth: int,
    members: str = "hybrid",
    normalization: Normalization = "min-max",
) -> tuple[Run, dict[str, float], Run]:
    """``reranker``'s scores of the hybrid's top ``depth`` ensembled on dev with the
    ``members`` runs (by default the hybrid, as the pipeline's rerank stage does); also the
    reranker's own ordering."""
    hybrid = base["hybrid"]
    scored = reranker.rerank(data.queries, hybrid, data.corpus, depth)
    dev_queries, dev_qrels = data.split("dev")
    runs = {name: base[name] for name in members.split(",")}
    ensembled = EnsembleReranker({**runs, "reranker": scored}, normalization=normalization)
    fit = ensembled.fit(
        dev_queries, hybrid.select(dev_queries.ids), data.corpus, dev_qrels, k=depth
    )
    test_ids = data.split("test")[0].ids
    combined = ensembled.rerank(
        data.queries.filter(ids=test_ids), hybrid.select(test_ids), data.corpus, depth
    )
    return combined, dict(zip(fit.names, fit.weights, strict=True)), scored


def measure(
    data: Dataset,
    base: dict[str, Any],
    reranker: LateInteractionReranker,
    depth: int,
    members: str = "hybrid",
    normalization: Normalization = "min-max",
) -> dict:
    started = time.perf_counter()
    reranked, weights, alone = ensemble(data, base, reranker, depth, members, normalization)
    seconds = time.perf_counter() - started
    queries, qrels = data.split("test")
    systems = {"hybrid": base["hybrid"], "maxsim": alone, "reranked": reranked}
    if "bi-encoder" in base:
        systems["bi-encoder"] = base["bi-encoder"]
    reports = {
        n: evaluate(r.select(queries.ids), qrels, [METRIC], queries=queries)
        for n, r in systems.items()
    }
    order = reports["hybrid"].query_ids.tolist()
    scores = {}
    for name, report in reports.items():
        position = {q: i for i, q in enumerate(report.query_ids.tolist())}
        scores[name] = report.scores[[position[q] for q in order], 0]
    langs = reports["hybrid"].langs
    per_lang = {}
    for lang in sorted(set(langs.tolist())):
        rows = langs == lang
        cells: dict[str, float] = {n: float(v[rows].mean()) for n, v in scores.items()}
        for name in systems:
            if name != "hybrid":
                cells[f"p({name})"] = float(
                    randomization_test(scores[name][rows], scores["hybrid"][rows])
                )
        cells["queries"] = int(rows.sum())
        per_lang[lang] = cells
    return {
        "collection": data.name,
        "depth": depth,
        "members": members,
        "normalization": normalization,
        "weights": weights,
        "hybrid weights": base["hybrid weights"],
        "seconds": round(seconds, 1),
        "documents": len(data.corpus),
        "langs": per_lang,
    }


def print_rows(results: list[dict], *, summary: bool = False) -> None:
    print("\n| collection | variant | lang | hybrid | maxsim | Δ | reranked | Δ | p | weight | s |")
    print("|---" * 11 + "|")
    deltas: dict[str, list[tuple[float, ...]]] = {}
    for r in results:
        for lang, c in r["langs"].items():
            d_alone, d_rr = c["maxsim"] - c["hybrid"], c["reranked"] - c["hybrid"]
            print(
                f"| {r['collection']} | {r['variant']} | {lang} | {c['hybrid']:.4f} | "
                f"{c['maxsim']:.4f} | {d_alone:+.4f} | {c['reranked']:.4f} | {d_rr:+.4f} | "
                f"{c['p(reranked)']:.3g} | {r['weights']['reranker']:.2f} | {r['seconds']:.0f} |"
            )
            extra = c.get("bi-encoder", np.nan) - c["hybrid"]
            deltas.setdefault(r["variant"], []).append((d_alone, d_rr, extra))
    if summary:
        for variant, values in deltas.items():
            arr = np.array(values)
            bi = np.nanmean(arr[:, 2]) if np.isfinite(arr[:, 2]).any() else float("nan")
            print(
                f"\n{variant}: mean over {len(arr)} collections: maxsim {arr[:, 0].mean():+.4f}, "
                f"reranked {arr[:, 1].mean():+.4f} (worst {arr[:, 1].min():+.4f}), "
                f"bi-encoder ensemble {bi:+.4f} nDCG@10"
            )


if __name__ == "__main__":
    main()

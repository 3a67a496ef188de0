"""Training on label-free data, measured on held-out human queries (embedded xquad-r).

The collection: 2,378 sentences in 9 languages; dev 378 / test 1,809 human questions. The
training data is made **without any human query**:

- queries: ``polyret.curate``'s ``crop`` generator (a random span of 20–50 % of each
  sentence is the query, the whole sentence its positive);
- negatives: ``polyret.mine`` over a retriever's top ranks (the positive excluded), or
  none with topic-aware batches (``--group-by article|paragraph``: the rows of one topic
  are batched together, so in-batch negatives come from the same article or paragraph).

``bi-encoder``: fine-tune multilingual-e5-small (word embeddings frozen) and compare nDCG@10
per language before/after. Base and trained folder go through the same code: ``Dense`` over
the whole corpus with ``load_encoder("sentence-transformers", model=folder)`` (float32
torch; the fast ONNX path does not read the pooling config sentence-transformers 6 writes),
then ``evaluate(run, qrels, ["ndcg@10"])`` per query language.

``cross-encoder``: train a cross-encoder from multilingual-e5-small (fresh head) with mined
negatives, and rerank the BM25 and dense top-``k`` of a fixed sample of test queries with
the untrained and the trained model; the first stages themselves are the baselines.

``difficulty``: no training. How hard is each source of training rows for the *base* model?
Its InfoNCE loss (τ 0.01) and top-1 accuracy against seeded in-batch negatives (what
training sees) and against the other sentences of the positive's paragraph (what the test
questions need). A source the base model already solves gives little gradient: this is the
diagnostic behind the small label-free gains.

The dev split serves only for dev evaluation / early stopping.

    nice .venv/bin/python benchmarks/bench_train.py bi-encoder --group-by article --steps 100
    nice .venv/bin/python benchmarks/bench_train.py cross-encoder --steps 150
    nice .venv/bin/python benchmarks/bench_train.py difficulty

Results go to ``--out`` (default ``/tmp/polyret-bench-train``) as JSON; Markdown tables are
printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from polyret.curate import load_generator
from polyret.datasets import load
from polyret.encode import load_encoder
from polyret.evaluate import Report, evaluate, randomization_test
from polyret.mine import mine_negatives
from polyret.models import default_model_path
from polyret.retrieve import BM25, Dense
from polyret.train import (
    BiEncoderConfig,
    CrossEncoderConfig,
    train_bi_encoder,
    train_cross_encoder,
)
from polyret.types import Corpus, Dataset, Queries, Run, TrainingSet

log = logging.getLogger("bench_train")
GROUPS = {"article": r"^([a-z]+_a\d+)_", "paragraph": r"^([a-z]+_a\d+_p\d+)_"}


def st_encoder(folder: str | Path) -> Any:
    return load_encoder("sentence-transformers", model=str(folder), batch_size=64)


def scores(folder: str | Path, data: Dataset, split: str) -> dict[str, Any]:
    """nDCG@10 overall and per language of dense retrieval with ``folder`` on ``split``."""
    queries, qrels = data.split(split)
    dense = Dense(st_encoder(folder)).index(data.corpus)
    return summary(evaluate(dense.search(queries, k=100), qrels, ["ndcg@10"], queries=queries))


def summary(report: Report) -> dict[str, Any]:
    return {
        "mean": report.mean["ndcg@10"],
        "by_lang": {lang: v["ndcg@10"] for lang, v in report.by_lang.items()},
        "per_query": {q: v["ndcg@10"] for q, v in report.per_query.items()},
    }


def p_value(after: dict[str, Any], before: dict[str, Any]) -> float | None:
    """Paired randomization test of the mean nDCG@10 difference (None without per-query)."""
    if "per_query" not in after or "per_query" not in before:
        return None
    ids = sorted(after["per_query"])
    a = np.array([after["per_query"][q] for q in ids])
    b = np.array([before["per_query"][q] for q in ids])
    return float(randomization_test(a, b))


def crops(data: Dataset, seed: int, per_doc: int = 1, thai_phrases: bool = False) -> TrainingSet:
    """Label-free (query, positive) rows: a random span of each sentence → the sentence.

    With ``thai_phrases`` Thai is cropped at the spaces between its phrases instead of at
    any character (character crops cut Thai words in the middle).
    """

    def generate(corpus: Any, unit: str) -> TrainingSet:
        return load_generator(
            "crop",
            per_doc=per_doc,
            ratio_min=0.2,
            ratio_max=0.5,
            positive="document",
            unit=unit,
            seed=seed,
        ).generate(corpus)

    if not thai_phrases:
        return generate(data.corpus, "auto")
    langs = data.corpus.table.column("lang").to_pylist()
    thai = [i for i, lang in enumerate(langs) if lang == "th"]
    rest = [i for i, lang in enumerate(langs) if lang != "th"]
    return TrainingSet.concat(
        [generate(data.corpus.take(rest), "auto"), generate(data.corpus.take(thai), "word")]
    )


def dev_questions(data: Dataset) -> TrainingSet:
    """NOT label-free: the human dev questions and their judged sentences. A diagnostic only
    (how much can this model and recipe gain from in-domain supervision?); test stays unseen.
    """
    from polyret.mine import pairs_from_qrels

    queries, qrels = data.split("dev")
    return pairs_from_qrels(queries, qrels, data.corpus)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def table(title: str, rows: dict[str, dict[str, Any]], delta_of: tuple[str, str] | None) -> None:
    langs = sorted(next(iter(rows.values()))["by_lang"])
    print(f"\n## {title}")
    print("| model | mean | " + " | ".join(langs) + " |")
    print("|---|---|" + "---|" * len(langs))
    for label, s in rows.items():
        cells = " | ".join(f"{s['by_lang'][lang]:.4f}" for lang in langs)
        print(f"| {label} | {s['mean']:.4f} | {cells} |")
    if delta_of:
        after, before = rows[delta_of[0]], rows[delta_of[1]]
        cells = " | ".join(
            f"{after['by_lang'][lang] - before['by_lang'][lang]:+.4f}" for lang in langs
        )
        print(f"| delta | {after['mean'] - before['mean']:+.4f} | {cells} |")
        p = p_value(after, before)
        if p is not None:
            print(f"\npaired randomization test of the mean delta: p = {p:.3f}")


def bi_encoder(args: argparse.Namespace, data: Dataset) -> None:
    splits = ["dev"] if args.no_test else ["dev", "test"]
    base_file = args.out / "base.json"
    if base_file.is_file():
        base = json.loads(base_file.read_text())
    else:
        base = {s: scores(default_model_path(), data, s) for s in ("dev", "test")}
        base_file.write_text(json.dumps(base, indent=1))
    if args.data == "crops":
        rows = crops(data, args.seed, args.per_doc, args.thai_phrases)
    else:
        rows = dev_questions(data)
    if args.negatives:
        rows = mine_negatives(
            rows, data.corpus, "bm25", "random-top-k", num_negatives=args.negatives, max_rank=30
        )
    name = (
        f"bi-{args.data}-n{args.negatives}{'-' + args.group_by if args.group_by else ''}"
        f"{'-x' + str(args.per_doc) if args.per_doc > 1 else ''}"
        f"{'-noprefix' if args.no_prefixes else ''}{'-thphrase' if args.thai_phrases else ''}"
        f"-s{args.steps}"
        f"-bs{args.batch_size}-lr{args.lr:g}-t{args.temperature:g}-seed{args.seed}"
    )
    config = BiEncoderConfig(
        max_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        temperature=args.temperature,
        max_seq_length=args.max_seq_length,
        num_negatives=args.negatives,
        group_by=GROUPS[args.group_by] if args.group_by else None,
        query_prefix="" if args.no_prefixes else None,
        passage_prefix="" if args.no_prefixes else None,
        eval_steps=args.eval_steps,
        seed=args.seed,
        threads=2,
    )
    started, cpu = time.perf_counter(), cpu_seconds()
    folder = train_bi_encoder(
        rows,
        "multilingual-e5-small",
        args.out / name,
        config,
        dev=data if args.eval_steps else None,
        overwrite=True,
    )
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    after = {s: scores(folder, data, s) for s in splits}
    result = {"name": name, "rows": len(rows), "config": config.model_dump(mode="json")}
    result |= {"train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1)}
    (args.out / f"{name}.json").write_text(json.dumps({**result, "base": base, "after": after}))
    for split in splits:
        title = f"{name}: {split} nDCG@10 (train {wall:.0f} s wall, {cpu:.0f} s CPU)"
        table(title, {"base": base[split], "trained": after[split]}, ("trained", "base"))


def ict_neighbours(data: Dataset, seed: int) -> TrainingSet:
    """Label-free: a sentence → an adjacent sentence of its paragraph (ICT, group mode)."""
    return load_generator("ict", group_by=GROUPS["paragraph"], seed=seed).generate(data.corpus)


def infonce(logits: np.ndarray, target: int) -> tuple[float, bool]:
    """InfoNCE loss (τ 0.01) of ``target`` among cosine ``logits``, and whether it is top-1."""
    logits = logits / 0.01
    log_z = logits.max() + np.log(np.exp(logits - logits.max()).sum())
    return float(log_z - logits[target]), bool(logits.argmax() == target)


def mean_of(scored: list[tuple[float, bool]]) -> dict[str, float]:
    return {"loss": float(np.mean([x for x, _ in scored])),
            "top1": float(np.mean([h for _, h in scored]))}  # fmt: skip


def source_rows(rows: TrainingSet, corpus: Corpus) -> list[int]:
    """The corpus row of each example's source document (-1: not a corpus document)."""
    out = []
    for source in rows.table.column("source_id").to_pylist():
        try:
            out.append(corpus.row_of(source))
        except KeyError:
            out.append(-1)
    return out


def difficulty_of(
    rows: TrainingSet,
    queries: np.ndarray,
    corpus: Corpus,
    doc_vectors: np.ndarray,
    paragraph_of: list[list[int]],
    batch_size: int,
    seed: int,
) -> dict[str, Any]:
    """The base model's InfoNCE loss and top-1 accuracy for one source of rows.

    Two candidate sets: the seeded in-batch positives (what training with in-batch negatives
    sees) and every sentence of the positive's paragraph (``paragraph_of[row]``: what the
    test questions need, the distractors of an answer sentence are its neighbours).
    """
    positives = np.array([corpus.row_of(d) for d in rows.table.column("positive_id").to_pylist()])
    order = np.random.default_rng(seed).permutation(len(rows))
    in_batch: list[tuple[float, bool]] = []
    for start in range(0, len(order) - batch_size + 1, batch_size):
        batch = order[start : start + batch_size]
        logits = queries[batch] @ doc_vectors[positives[batch]].T
        in_batch.extend(infonce(logits[i], i) for i in range(len(batch)))
    in_paragraph, sizes = [], []
    for query, positive, source in zip(queries, positives, source_rows(rows, corpus), strict=True):
        # an ICT query is itself a sentence of the paragraph: not a candidate for its own row
        group = [i for i in paragraph_of[positive] if i == positive or i != source]
        in_paragraph.append(infonce(doc_vectors[group] @ query, group.index(positive)))
        sizes.append(len(group))
    return {
        "rows": len(rows),
        "in_batch": mean_of(in_batch),
        "in_paragraph": {**mean_of(in_paragraph), "candidates": float(np.mean(sizes))},
    }


def difficulty(args: argparse.Namespace, data: Dataset) -> None:
    sources = {
        "crop 20-50 % (label-free)": crops(data, args.seed),
        "ICT neighbour (label-free)": ict_neighbours(data, args.seed),
        "dev human questions (supervised, diagnostic)": dev_questions(data),
    }
    encoder = load_encoder()
    corpus = data.corpus
    doc_vectors = encoder.encode_documents(corpus.texts)
    paragraph = re.compile(GROUPS["paragraph"])
    members: dict[str, list[int]] = {}
    keys = [paragraph.match(doc_id).group(1) for doc_id in corpus.ids]  # type: ignore[union-attr]
    for row, key in enumerate(keys):
        members.setdefault(key, []).append(row)
    paragraph_of = [members[key] for key in keys]
    results = {
        name: difficulty_of(
            rows,
            encoder.encode_queries(rows.table.column("query").to_pylist()),
            corpus,
            doc_vectors,
            paragraph_of,
            args.batch_size,
            args.seed,
        )
        for name, rows in sources.items()
    }
    (args.out / "difficulty.json").write_text(json.dumps(results, indent=1))
    print(f"\n## base model on each source (τ 0.01; batches of {args.batch_size})")
    print("| source | rows | in-batch loss | top-1 | in-paragraph loss | top-1 |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        b, p = r["in_batch"], r["in_paragraph"]
        print(f"| {name} | {r['rows']} | {b['loss']:.3f} | {b['top1']:.3f} | "
              f"{p['loss']:.3f} | {p['top1']:.3f} |")  # fmt: skip


def sample_queries(queries: Queries, per_lang: int) -> Queries:
    """The first ``per_lang`` test queries of each language (a fixed, documented sample)."""
    keep: list[str] = []
    for lang in sorted(queries.languages()):
        keep += queries.filter(lang=lang).ids[:per_lang]
    return queries.filter(ids=keep)


def cross_encoder(args: argparse.Namespace, data: Dataset) -> None:
    from polyret.rerank import CrossEncoderReranker

    name = f"ce-{args.loss}-n{args.negatives}-s{args.steps}-bs{args.batch_size}-lr{args.lr:g}"
    queries, qrels = data.split("test")
    queries = sample_queries(queries, args.per_lang)
    qrels = qrels.select(queries.ids)
    firsts_file = args.out / "ce-first-stages.json"
    if firsts_file.is_file():
        firsts = {n: Run.from_dict(r) for n, r in json.loads(firsts_file.read_text()).items()}
    else:
        firsts = {
            "bm25": BM25().index(data.corpus).search(queries, k=args.k),
            "dense": Dense(st_encoder(default_model_path()))
            .index(data.corpus)
            .search(queries, k=args.k),
        }
        firsts_file.write_text(json.dumps({n: r.to_dict() for n, r in firsts.items()}))
    if args.model:  # an already trained cross-encoder: its dev-tuned fusion with the first stage
        fusion(args, data, Path(args.model), firsts, queries, qrels)
        return
    rows = mine_negatives(
        crops(data, args.seed),
        data.corpus,
        args.miner_retriever,
        args.miner,
        num_negatives=args.negatives,
        max_rank=30,
    )
    config = CrossEncoderConfig(
        loss=args.loss,
        max_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        max_seq_length=args.max_seq_length,
        seed=args.seed,
        threads=2,
    )
    started, cpu = time.perf_counter(), cpu_seconds()
    folder = train_cross_encoder(
        rows, "multilingual-e5-small", args.out / name, config, overwrite=True
    )
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    results: dict[str, dict[str, Any]] = {}
    for first, run in firsts.items():
        results[first] = summary(evaluate(run, qrels, ["ndcg@10"], queries=queries))
        models = {"trained": folder}
        if not args.skip_untrained:
            models["untrained"] = _untrained(args.out, args.seed)
        for label, model in models.items():
            reranker = CrossEncoderReranker(model, batch_size=32)
            reranked = reranker.rerank(queries, run, data.corpus, k=args.k)
            results[f"{first} → {label} CE"] = summary(
                evaluate(reranked, qrels, ["ndcg@10"], queries=queries)
            )
    info = {"name": name, "rows": len(rows), "config": config.model_dump(mode="json")}
    info |= {"train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1), "results": results}
    (args.out / f"{name}.json").write_text(json.dumps(info, indent=1))
    title = (
        f"{name}: test nDCG@10, {len(queries)} queries ({args.per_lang}/language), "
        f"top-{args.k} reranked (train {wall:.0f} s wall, {cpu:.0f} s CPU)"
    )
    table(title, results, None)
    for first in firsts:
        p = p_value(results[f"{first} → trained CE"], results[first])
        print(f"{first} → trained CE vs {first}: paired randomization test p = {p:.3f}")


def fusion(
    args: argparse.Namespace,
    data: Dataset,
    folder: Path,
    firsts: dict[str, Run],
    queries: Queries,
    qrels: Any,
) -> None:
    """First stage + cross-encoder, min-max normalized per query, weights fit on dev
    (polyret.rerank.EnsembleReranker), then applied to the same test sample."""
    from polyret.rerank import CrossEncoderReranker, EnsembleReranker

    dev_queries, dev_qrels = data.split("dev")
    dev_firsts = {
        "bm25": BM25().index(data.corpus).search(dev_queries, k=args.k),
        "dense": Dense(st_encoder(default_model_path()))
        .index(data.corpus)
        .search(dev_queries, k=args.k),
    }
    reranker = CrossEncoderReranker(folder, batch_size=32, cache=args.out / "ce-scores.sqlite")
    results: dict[str, dict[str, Any]] = {}
    for first, run in firsts.items():
        ensemble = EnsembleReranker({first: dev_firsts[first], "ce": reranker})
        fit = ensemble.fit(dev_queries, dev_firsts[first], data.corpus, dev_qrels, k=args.k)
        ensemble.members[first] = run
        results[first] = summary(evaluate(run, qrels, ["ndcg@10"], queries=queries))
        fused = ensemble.rerank(queries, run, data.corpus, k=args.k)
        label = f"{first} + CE (dev weights {fit.weights[0]:.1f}/{fit.weights[1]:.1f})"
        results[label] = summary(evaluate(fused, qrels, ["ndcg@10"], queries=queries))
        p = p_value(results[label], results[first])
        print(f"{label} vs {first}: paired randomization test p = {p:.3f}")
    (args.out / f"{folder.name}-fusion.json").write_text(json.dumps(results, indent=1))
    table(f"{folder.name}: fusion with the first stage, test sample", results, None)


def _untrained(out: Path, seed: int) -> Path:
    """multilingual-e5-small with a fresh (seeded, random) head, saved once."""
    folder = out / f"ce-untrained-seed{seed}"
    if not (folder / "config.json").is_file():
        from sentence_transformers.cross_encoder import CrossEncoder
        from transformers import set_seed

        set_seed(seed)
        CrossEncoder(str(default_model_path()), num_labels=1, device="cpu").save(str(folder))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiment", choices=["bi-encoder", "cross-encoder", "difficulty"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--negatives", type=int, default=0, help="mined negatives per row")
    parser.add_argument(
        "--data", choices=["crops", "dev-questions"], default="crops", help="bi-encoder rows"
    )
    parser.add_argument("--per-doc", type=int, default=1, help="crops per sentence")
    parser.add_argument("--thai-phrases", action="store_true", help="crop Thai at spaces")
    parser.add_argument("--no-prefixes", action="store_true", help="train without query:/passage:")
    parser.add_argument("--group-by", choices=sorted(GROUPS), help="topic-aware batches")
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--eval-steps", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-test", action="store_true", help="bi-encoder: dev only")
    parser.add_argument("--loss", default="listwise", help="cross-encoder: listwise or bce")
    parser.add_argument("--miner", default="random-top-k", help="cross-encoder: mine strategy")
    parser.add_argument("--miner-retriever", default="bm25", help="cross-encoder: bm25, dense")
    parser.add_argument("--k", type=int, default=10, help="cross-encoder: documents reranked")
    parser.add_argument("--per-lang", type=int, default=50, help="cross-encoder: test queries")
    parser.add_argument("--skip-untrained", action="store_true")
    parser.add_argument("--model", help="cross-encoder: a trained folder → dev-tuned fusion")
    parser.add_argument("--out", type=Path, default=Path("/tmp/polyret-bench-train"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("faiss.loader", "bm25s", "sentence_transformers.base.model"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    data = load("xquad-r")
    if args.experiment == "bi-encoder":
        bi_encoder(args, data)
    elif args.experiment == "difficulty":
        difficulty(args, data)
    else:
        cross_encoder(args, data)


if __name__ == "__main__":
    main()

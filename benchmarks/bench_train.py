"""Fine-tuning multilingual-e5-small on label-free data: nDCG@10 per language before/after.

On the embedded xquad-r collection (2,378 sentences in 9 languages; dev 378 / test 1,809
human questions) the training data is made **without any human query**:

- queries: ``polyret.curate``'s ``crop`` generator (a random span of each sentence is the
  query, the whole sentence its positive);
- negatives: drawn from the BM25 top-30 of each crop (the positive excluded), or none with
  topic-aware batches (``--group-by``: one article per batch, from the sentence ids).

The base and the trained folder are evaluated by the same code (``Dense`` over the whole
corpus with ``load_encoder("sentence-transformers", model=folder)``, then
``evaluate(run, qrels, ["ndcg@10"])`` per query language) on the test split (and dev). The dev split serves only for dev evaluation / early stopping.

    nice .venv/bin/python benchmarks/bench_train.py --variant crop-bm25 --steps 150

Results go to ``--out`` (default ``/tmp/polyret-bench-train``) as JSON, and a Markdown table
is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from pathlib import Path
from typing import Any

from polyret.curate import load_generator
from polyret.datasets import load
from polyret.encode import load_encoder
from polyret.evaluate import evaluate
from polyret.models import default_model_path
from polyret.retrieve import BM25, Dense
from polyret.train import BiEncoderConfig, train_bi_encoder
from polyret.train.refresh import negatives_from_run
from polyret.types import Dataset, TrainingSet

log = logging.getLogger("bench_train")
ARTICLE = r"^([a-z]+_a\d+)_"


def scores(folder: str | Path, data: Dataset, split: str) -> dict[str, Any]:
    """nDCG@10 overall and per language of dense retrieval with ``folder`` on ``split``.

    Both the base and the trained folder go through the sentence-transformers backend
    (float32 torch): a folder saved by sentence-transformers 6 writes its pooling config in a
    format polyret's fast (ONNX) path does not read, and the comparison must use one path.
    """
    queries, qrels = data.split(split)
    encoder = load_encoder("sentence-transformers", model=str(folder), batch_size=64)
    dense = Dense(encoder).index(data.corpus)
    report = evaluate(dense.search(queries, k=100), qrels, ["ndcg@10"], queries=queries)
    return {
        "mean": report.mean["ndcg@10"],
        "by_lang": {lang: v["ndcg@10"] for lang, v in report.by_lang.items()},
    }


def training_set(data: Dataset, variant: str, seed: int) -> TrainingSet:
    """Label-free training rows for ``variant``."""
    crops = load_generator(
        "crop", per_doc=1, ratio_min=0.2, ratio_max=0.5, positive="document", seed=seed
    ).generate(data.corpus)
    if variant.endswith("-bm25"):
        bm25 = BM25().index(data.corpus)
        run = bm25.search(crops.queries(), k=30)
        crops = negatives_from_run(crops, run, data.corpus, num_negatives=1, top_k=30, seed=seed)
    return crops


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", default="crop-bm25", help="crop-bm25 | crop")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--group-by", action="store_true", help="topic-aware (article) batches")
    parser.add_argument("--max-seq-length", type=int, default=96)
    parser.add_argument("--eval-steps", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/polyret-bench-train"))
    parser.add_argument("--no-test", action="store_true", help="dev only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    data = load("xquad-r")
    splits = ["dev"] if args.no_test else ["dev", "test"]

    base_file = args.out / "base.json"
    if base_file.is_file():
        base = json.loads(base_file.read_text())
    else:
        base = {s: scores(default_model_path(), data, s) for s in ("dev", "test")}
        base_file.write_text(json.dumps(base, indent=1))

    rows = training_set(data, args.variant, args.seed)
    name = (
        f"{args.variant}{'-grouped' if args.group_by else ''}-s{args.steps}-bs{args.batch_size}"
        f"-lr{args.lr:g}-t{args.temperature:g}-seed{args.seed}"
    )
    config = BiEncoderConfig(
        max_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        temperature=args.temperature,
        max_seq_length=args.max_seq_length,
        group_by=ARTICLE if args.group_by else None,
        eval_steps=args.eval_steps,
        seed=args.seed,
        threads=2,
        logging_steps=10,
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
    train_wall, train_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    after = {s: scores(folder, data, s) for s in splits}
    result = {
        "name": name,
        "rows": len(rows),
        "config": config.model_dump(mode="json"),
        "train_wall_s": round(train_wall, 1),
        "train_cpu_s": round(train_cpu, 1),
        "base": base,
        "after": after,
    }
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1))
    for split in splits:
        langs = sorted(base[split]["by_lang"])
        print(
            f"\n## {name}: {split} nDCG@10 (train {train_wall:.0f} s wall, {train_cpu:.0f} s CPU)"
        )
        print("| model | mean | " + " | ".join(langs) + " |")
        print("|---|---|" + "---|" * len(langs))
        for label, s in (("base", base[split]), ("trained", after[split])):
            cells = " | ".join(f"{s['by_lang'][lang]:.4f}" for lang in langs)
            print(f"| {label} | {s['mean']:.4f} | {cells} |")
        delta = " | ".join(
            f"{after[split]['by_lang'][lang] - base[split]['by_lang'][lang]:+.4f}" for lang in langs
        )
        print(f"| delta | {after[split]['mean'] - base[split]['mean']:+.4f} | {delta} |")


if __name__ == "__main__":
    main()

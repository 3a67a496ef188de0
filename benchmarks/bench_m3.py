"""M3 self-knowledge distillation of BGE-M3's heads over the packaged encoder, label-free,
judged on a held-out language.

Training rows: crops (a random 20–50 % word span of a sentence → the sentence) of the
shared ``xquad-r-<lang>`` corpora of the training languages, one BM25 negative each (a
top-30 sentence other than the source); no question is used. Both heads are trained by
:func:`polyret.train.train_heads` with :class:`~polyret.train.M3Config` over the frozen
packaged multilingual-e5-small. Then, on the test split of the held-out collection, each
system retrieves over the whole corpus, test nDCG@10 and Recall@100:

- ``bm25`` (the anchor) and ``dense`` (the packaged encoder alone);
- ``sparse zero-shot``: the same folder with a fresh ``sparse_linear.pt`` (what M3 training
  starts from; :func:`polyret.models.m3.write_m3_folder`);
- ``sparse trained``: the trained sparse head alone (:class:`~polyret.retrieve.LearnedSparse`),
  by default trained with M3 (``--heads sparse --distill 0``: the sparse head on its own).

    nice python benchmarks/bench_m3.py [--train de,en,es,ru] [--test ar] [--per-lang 600]
                                       [--steps 300] [--lr 1e-3] [--heads colbert,sparse]
                                       [--distill 1]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from _common import require_shared

from polyret.evaluate import evaluate
from polyret.io import read_beir
from polyret.models import default_model_path
from polyret.models.m3 import write_m3_folder
from polyret.retrieve import BM25, Dense, LearnedSparse
from polyret.train import M3Config, train_heads
from polyret.types import Corpus, Queries, TrainingSet


def crops(corpus: Corpus, lang: str, per_lang: int, rng: random.Random) -> list[dict]:
    """Label-free rows from ``per_lang`` sentences: a span → its sentence, a BM25 negative."""
    picked = rng.sample(range(len(corpus)), min(per_lang, len(corpus)))
    ids, texts = corpus.ids, corpus.full_texts()
    spans = {}
    for i in picked:
        words = texts[i].split()
        n = max(1, int(len(words) * rng.uniform(0.2, 0.5)))
        start = rng.randint(0, len(words) - n)
        spans[f"{lang}-{i}"] = " ".join(words[start : start + n])
    run = BM25().index(corpus).search(Queries.from_dict(spans, lang=lang), k=30)
    row = {d: j for j, d in enumerate(ids)}
    out = []
    for i in picked:
        key = f"{lang}-{i}"
        others = [row[d] for d in run[key] if row[d] != i] or [(i + 1) % len(corpus)]
        negative = rng.choice(others)
        out.append(
            {
                "id": key,
                "query": spans[key],
                "lang": lang,
                "positive_id": ids[i],
                "positive": texts[i],
                "negative_ids": [ids[negative]],
                "negatives": [texts[negative]],
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default="de,en,es,ru")
    parser.add_argument("--test", default="ar")
    parser.add_argument("--per-lang", type=int, default=600)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=M3Config().learning_rate)
    parser.add_argument("--heads", default="colbert,sparse", help="sparse alone: no M3")
    parser.add_argument("--distill", type=float, default=1.0, help="0: each head alone")
    args = parser.parse_args()
    shared = require_shared()
    rng = random.Random(0)
    rows = []
    for lang in args.train.split(","):
        rows += crops(read_beir(shared / f"xquad-r-{lang}").corpus, lang, args.per_lang, rng)
    training = TrainingSet.from_records(rows, provenance={"method": "crops"})
    test = read_beir(shared / f"xquad-r-{args.test}")
    queries, qrels = test.split("test")
    base = default_model_path()
    config = M3Config(
        heads=args.heads.split(","),
        distill=args.distill,
        max_steps=args.steps,
        learning_rate=args.lr,
        threads=2,
    )
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_heads(training, base, Path(tmp) / "m3", config)
        run = json.loads((trained / "provenance.json").read_text())["training"]
        print(
            f"trained on {len(training)} crops ({args.train}): encoding {run['encoding_s']} s, "
            f"{run['steps']} steps in {run['runtime_s'] - run['encoding_s']:.0f} s, loss "
            f"{run['first_loss']:.3f} → {run['last_losses']:.3f}"
        )
        systems = {
            "bm25": BM25(),
            "dense": Dense(encoder=str(base)),
            "sparse zero-shot": LearnedSparse(encoder=str(write_m3_folder(base, Path(tmp) / "zs"))),
            f"sparse trained ({args.heads}, distill {args.distill:g})": LearnedSparse(
                encoder=str(trained)
            ),
        }
        print(
            f"\nxquad-r-{args.test} test ({len(queries)} questions, {len(test.corpus)} sentences)"
        )
        print("| system | nDCG@10 | Recall@100 |\n|---|---|---|")
        for name, system in systems.items():
            run = system.index(test.corpus).search(queries, k=100)
            scores = evaluate(run, qrels, ["ndcg@10", "recall@100"]).mean
            print(f"| {name} | {scores['ndcg@10']:.4f} | {scores['recall@100']:.4f} |", flush=True)


if __name__ == "__main__":
    main()

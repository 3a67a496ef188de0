"""Peak memory of dense indexing on a 200k-document synthetic corpus.

Each case runs in a fresh subprocess and reports its peak RSS (``ru_maxrss``) before and
after: building the Corpus (Arrow), then encoding + indexing with polyret's ``Dense``
(flat FAISS). The encoder is the hashing encoder at 384 dimensions (the size of
multilingual-e5-small), so the run measures polyret's memory behaviour in minutes, not the
neural model's speed; ``--model multilingual-e5-small --docs 20000`` runs the real encoder.
The growth is compared with the size of the embedding matrix itself.

    python benchmarks/bench_dense_memory.py [--docs 200000] [--model hashing]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, random, resource, sys, time
from polyret.types import Corpus
from polyret.retrieve import Dense
docs, model = int(sys.argv[1]), sys.argv[2]
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
words = "river city war music school ocean north light stone king paper garden".split()
rng = random.Random(0)
start_rss = rss()
corpus = Corpus.from_records(
    {"id": f"d{i}", "text": " ".join(rng.choices(words, k=rng.randint(8, 40))), "lang": "en"}
    for i in range(docs)
)
corpus_rss = rss()
options = {"dim": 384} if model == "hashing" else {}
dense = Dense(model, **options)
loaded_rss = rss()
start = time.perf_counter()
dense.index(corpus)
seconds = time.perf_counter() - start
print(json.dumps({"start": start_rss, "corpus": corpus_rss, "encoder": loaded_rss,
                  "indexed": rss(), "seconds": seconds, "dim": dense.encoder.dim}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--model", default="hashing")
    args = parser.parse_args()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.docs), args.model],
        capture_output=True,
        text=True,
        check=True,
    )
    m = json.loads(out.stdout.strip().splitlines()[-1])
    matrix_mb = args.docs * m["dim"] * 4 / 2**20
    growth = m["indexed"] - m["encoder"]
    print(f"{args.docs} documents, encoder {args.model}, dim {m['dim']}")
    print(
        f"  peak RSS: start {m['start']:.0f} MB, after Corpus {m['corpus']:.0f} MB, "
        f"after encoder load {m['encoder']:.0f} MB, after encode+index {m['indexed']:.0f} MB"
    )
    print(
        f"  embedding matrix {matrix_mb:.0f} MB; growth during encode+index {growth:.0f} MB "
        f"= {growth / matrix_mb:.2f}x the matrix "
        "(FAISS's index is 1x; its storage grows by reallocation)"
    )
    print(f"  encode+index {m['seconds']:.1f} s ({args.docs / m['seconds']:.0f} docs/s)")


if __name__ == "__main__":
    main()

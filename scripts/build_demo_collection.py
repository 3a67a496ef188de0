"""Build polyret's embedded demo collection ``xquad-r`` from ../shared/data.

One multilingual corpus from the nine XQuAD-R answer-sentence collections (ar de en es hi
ru th tr zh): every sentence of a fixed, hash-chosen fifth of XQuAD's 240 paragraphs in all
nine languages, the questions whose answer sentence lies in those paragraphs, and the
source's dev/test split. Run from the repository root:

    python scripts/build_demo_collection.py ../shared/data
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import polyret
from polyret.io import read_beir, write_beir
from polyret.types import Corpus, Dataset, Qrels, Queries

LANGS = ("ar", "de", "en", "es", "hi", "ru", "th", "tr", "zh")
PARAGRAPHS = 48
SEED = "polyret-xquad-r-v1"
OUT = Path(__file__).resolve().parents[1] / "src/polyret/datasets/data/xquad-r"


def paragraph_of(doc_id: str) -> str:
    """``de_a03_p02_s05`` → ``a03_p02`` (paragraph ids are aligned across languages)."""
    return "_".join(doc_id.split("_")[1:3])


def main(shared: Path) -> None:
    sources = {lang: read_beir(shared / f"xquad-r-{lang}") for lang in LANGS}
    paragraphs = sorted({paragraph_of(d) for d in sources["en"].corpus.ids})
    chosen = set(
        sorted(paragraphs, key=lambda p: hashlib.sha1(f"{SEED}:{p}".encode()).hexdigest())[
            :PARAGRAPHS
        ]
    )
    docs, queries, qrels = [], [], {"dev": {}, "test": {}}
    for source in sources.values():
        docs += [d for d in source.corpus if paragraph_of(d.id) in chosen]
        for split, judged in source.qrels.items():
            for query_id, rels in judged.items():
                if all(paragraph_of(d) in chosen for d in rels):
                    qrels[split][query_id] = rels
                    queries.append(source.queries[query_id])
    dataset = Dataset(
        "xquad-r",
        Corpus.from_records(docs),
        Queries.from_records(queries),
        {split: Qrels.from_dict(judged) for split, judged in qrels.items()},
        {
            "description": "XQuAD-R answer-sentence retrieval, 9 languages in one corpus",
            "source": "google-research-datasets/lareqa @ 9bc8c7fb6dd8d01d72a05a93c2cb96882b0d299c",
            "license": "CC BY-SA 4.0",
            "built_by": f"scripts/build_demo_collection.py (polyret {polyret.__version__})",
            "selection": f"{PARAGRAPHS} of 240 paragraphs by sha1('{SEED}:<paragraph>')",
        },
    )
    kept = {
        name: (OUT / name).read_text() for name in ("LICENSE", "README.md") if (OUT / name).exists()
    }
    write_beir(dataset, OUT, overwrite=True)
    for name, text in kept.items():  # the license and attribution are written by hand
        (OUT / name).write_text(text)
    print(json.dumps(dataset.stats(), indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))

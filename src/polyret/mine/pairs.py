""":func:`pairs_from_qrels`: (query, positive) training pairs from judged queries."""

from __future__ import annotations

import numpy as np

from polyret.types import Corpus, Qrels, Queries, TrainingSet


def pairs_from_qrels(
    queries: Queries, qrels: Qrels, corpus: Corpus, *, min_relevance: int = 1
) -> TrainingSet:
    """One example per (query, document judged at least ``min_relevance``).

    The example id is the query id, or ``<query id>#<n>`` (n = 1, 2, …) when the query
    has several relevant documents; the positive is the document's full text (title +
    text). Queries absent from ``queries`` and documents absent from ``corpus`` are
    skipped; the funnel records the pairs made.

    Example:
        >>> pairs = pairs_from_qrels(Queries.from_dict({"q": "Rhine?"}),
        ...     Qrels.from_dict({"q": {"d1": 1, "d2": 0}}), Corpus.from_dict({"d1": "Rhein"}))
        >>> [(e.id, e.query, e.positive_id, e.positive) for e in pairs]
        [('q', 'Rhine?', 'd1', 'Rhein')]
    """
    qrels = Qrels.from_dict(qrels)
    q, d, relevance = qrels.to_arrays()
    keep = relevance >= min_relevance
    keep &= np.fromiter((x in queries for x in q.tolist()), dtype=bool, count=len(q))
    keep &= np.fromiter((x in corpus for x in d.tolist()), dtype=bool, count=len(d))
    q, d = q[keep].tolist(), d[keep].tolist()
    per_query: dict[str, int] = {}
    for query_id in q:
        per_query[query_id] = per_query.get(query_id, 0) + 1
    seen: dict[str, int] = {}
    doc_rows = np.array([corpus.row_of(doc) for doc in d], dtype=np.int64)
    distinct, inverse = np.unique(doc_rows, return_inverse=True)
    texts = corpus.take(distinct).full_texts() if len(distinct) else []
    full = [texts[i] for i in inverse.tolist()]
    rows = []
    for query_id, doc_id, text in zip(q, d, full, strict=True):
        seen[query_id] = seen.get(query_id, 0) + 1
        query = queries[query_id]
        document = corpus[doc_id]
        rows.append(
            {
                "id": query_id if per_query[query_id] == 1 else f"{query_id}#{seen[query_id]}",
                "query": query.text,
                "lang": query.lang,
                "positive_id": doc_id,
                "positive": text,
                "positive_lang": document.lang,
                "source_id": doc_id,
                "method": "qrels",
            }
        )
    out = TrainingSet.from_records(rows) if rows else TrainingSet.empty()
    return out.with_step({"step": "pairs", "method": "qrels", "kept": len(out)})

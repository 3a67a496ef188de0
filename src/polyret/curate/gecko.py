"""Gecko / FRet: LLM-generated (task, query) pairs whose positive the LLM chooses again.

Step 1: the LLM reads a passage and writes a task description and a query for it. Step 2:
a retriever fetches the query's top candidates from the whole corpus, and the LLM scores
each candidate twice: query likelihood (``log P(query | passage)``) and a relevance
judgement (``P(yes)`` from the first answer token's log-probabilities). The two rankings
are fused with reciprocal rank fusion; the best candidate becomes the positive, which is
often not the passage the query was written from, and a low-ranked candidate becomes a
hard negative.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from polyret.curate.prompting import (
    LLMGenerator,
    LLMOptions,
    Target,
    Template,
    prompt_id,
    score_continuations,
)
from polyret.errors import InvalidInputError
from polyret.llm.base import LLMClient, LLMResponse
from polyret.llm.parsing import parse_json
from polyret.retrieve.fusion import reciprocal_ranks
from polyret.types import Corpus, Document, Queries, Run

__all__ = ["Gecko", "GeckoOptions", "Searcher", "fuse_rankings", "parse_task_query"]

log = logging.getLogger(__name__)


class Searcher(Protocol):
    """Anything that ranks documents for queries (``BM25``, ``Dense``, ...)."""

    def search(self, queries: Queries, k: int) -> Run: ...


@dataclass(frozen=True)
class GeckoOptions(LLMOptions):
    """Options of :class:`Gecko` (the shared ones: :class:`~polyret.curate.prompting.LLMOptions`).

    Args:
        top_n: Candidates retrieved per query and judged by the LLM.
        include_source: Judge the passage the query was written from even when the
            retriever does not return it.
        num_negatives: Hard negatives kept per row, the lowest-ranked candidates after
            fusion (never the positive nor the source passage).
        rrf_k: The ``k`` of reciprocal rank fusion, ``1 / (k + rank)``.
        relevance_logprobs: First-token candidates asked for in the relevance call.
        num_exemplars: Few-shot exemplars in the generation prompt.
    """

    top_n: int = 20
    include_source: bool = True
    num_negatives: int = 1
    rrf_k: float = 60.0
    relevance_logprobs: int = 5
    num_exemplars: int = 3
    max_tokens: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.top_n < 1 or self.num_negatives < 0 or self.rrf_k < 0:
            raise InvalidInputError(
                "need top_n ≥ 1, num_negatives ≥ 0 and rrf_k ≥ 0", field="top_n"
            )


def parse_task_query(text: str) -> tuple[str, str, str | None, str]:
    """``(task, query, None, "")`` from a ``{"task", "query"}`` answer, or
    ``("", "", error_kind, detail)`` with kind ``"no-json"``, ``"missing-field"`` or
    ``"empty-query"``.

    Example:
        >>> parse_task_query('```json\\n{"task": "Find answers", "query": "wo liegt Ulm"}\\n```')
        ('Find answers', 'wo liegt Ulm', None, '')
        >>> parse_task_query('{"query": "x"}')[2:], parse_task_query("no")[2]
        (('missing-field', "no 'task' string"), 'no-json')
    """
    value, error = parse_json(text)
    if not isinstance(value, dict):
        return "", "", "no-json", error or "not a JSON object"
    for name in ("task", "query"):
        if not isinstance(value.get(name), str):
            return "", "", "missing-field", f"no {name!r} string"
    task, query = value["task"].strip(), value["query"].strip()
    if not query:
        return "", "", "empty-query", "the query is empty"
    return task, query, None, ""


def fuse_rankings(
    score_lists: Sequence[Sequence[float]], k: float = 60.0
) -> tuple[list[float], list[int]]:
    """Reciprocal rank fusion of several score lists over the same candidates.

    Each list ranks the candidates with a score (higher is better; ties and ``nan`` are
    broken by position); a ``nan`` candidate gets no contribution from that list. Returns
    the fused scores and the candidates' order (best first; ties by position).

    Example:
        >>> scores, order = fuse_rankings([[-3.0, -1.0, -2.0], [0.9, 0.2, float("nan")]], k=60)
        >>> order, scores[0] == 1 / (60 + 3) + 1 / (60 + 1)
        ([1, 0, 2], True)

    References:
        Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
        individual Rank Learning Methods", SIGIR 2009.
    """
    if not score_lists:
        return [], []
    table = np.asarray(score_lists, dtype=np.float64)
    positions = np.arange(table.shape[1])
    fused = np.zeros(table.shape[1])
    for scores in table:
        valid = positions[~np.isnan(scores)]
        ranked = valid[np.lexsort((valid, -scores[valid]))]  # best first, ties by position
        fused[ranked] += reciprocal_ranks(np.arange(1, len(ranked) + 1), k)
    return fused.tolist(), np.lexsort((positions, -fused)).tolist()


@dataclass
class _Query:
    """One parsed query of a chunk and what relabeling finds for it."""

    row: int
    target: Target
    task: str
    query: str
    pid: str
    raw: str
    candidates: list[str]
    retrieval_ranks: list[int | None]


class Gecko(LLMGenerator):
    """FRet two-step generation: (task, query) from a passage, then LLM-relabeled positives.

    1. ``generate.txt`` asks for ``{"task": ..., "query": ...}`` (JSON) about the passage,
       in the target language, with few-shot exemplars.
    2. ``retriever`` returns the query's ``top_n`` candidates from ``candidates_corpus``
       (the whole corpus, not the chunk being generated; the source passage is added when
       missing and ``include_source``). The LLM scores every candidate with query
       likelihood (``likelihood.txt`` as context, the query as continuation; needs a
       backend with :meth:`~polyret.llm.BaseLLMClient.loglikelihood`) and relevance
       (``relevance.txt``, ``P(yes)`` from the first token's log-probabilities, else the
       Yes/No text). Both rankings are fused by RRF (:func:`fuse_rankings`); the best
       candidate is the positive (``source_id`` keeps the passage the query came from)
       and the ``num_negatives`` lowest-ranked others the hard negatives, with their fused
       scores and ranks. A backend without log-likelihoods falls back to the relevance
       ranking alone, recorded in ``meta["relabel"]["likelihood"]``.

    ``meta`` holds the task, whether the positive changed, and each candidate's retrieval
    rank, likelihood, relevance and fused score. Failed requests and malformed answers are
    :data:`~polyret.curate.prompting.MALFORMED_QUERY` rows.

    Args:
        llm: An LLM client, a dict of :func:`~polyret.llm.load_llm` options or
            ``"backend:model"``.
        candidates_corpus: The corpus candidates come from (a :class:`~polyret.types.Corpus`
            or a file/collection name); its texts fill ``positive``/``negatives``.
        retriever: Anything with ``search(queries, k) -> Run`` over ``candidates_corpus``
            (default: :class:`~polyret.retrieve.BM25` built on it at first use).
        langs: Query languages; ``None``: the passage's language.
        seed: Seed of the per-document random streams.
        prompts_dir: A folder whose files replace the packaged templates.
        options: :class:`GeckoOptions`; keyword ``**overrides`` replace its fields.

    Example:
        >>> corpus = Corpus.from_dict({"d1": "Ulm liegt an der Donau.",
        ...                            "d2": "Köln liegt am Rhein."}, lang="de")
        >>> gen = Gecko(llm={"model": "m", "base_url": "http://127.0.0.1:9"},
        ...             candidates_corpus=corpus, top_n=10)
        >>> gen.config["retriever"]["class"], gen.config["candidates"]["documents"]
        ('BM25', 2)

    References:
        Lee, Dai, Ren, Chen, Cer, Cole, Hui, Boratko et al., "Gecko: Versatile Text
        Embeddings Distilled from Large Language Models", arXiv 2403.20327.
        Sachan et al., "Improving Passage Retrieval with Zero-Shot Question Generation",
        EMNLP 2022, arXiv 2204.07496 (query likelihood).
        Zhuang et al., "Beyond Yes and No: Improving Zero-Shot LLM Rankers via Scoring
        Fine-Grained Relevance Labels", NAACL 2024, arXiv 2310.14122 (relevance).
    """

    name: ClassVar[str] = "gecko"
    options_type: ClassVar[type[LLMOptions]] = GeckoOptions
    options: GeckoOptions

    def __init__(
        self,
        *,
        llm: LLMClient | Mapping[str, Any] | str,
        candidates_corpus: Corpus | str | Path,
        retriever: Searcher | None = None,
        langs: Iterable[str] | str | None = None,
        seed: int = 0,
        prompts_dir: str | Path | None = None,
        options: LLMOptions | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(
            llm=llm, langs=langs, seed=seed, prompts_dir=prompts_dir, options=options, **overrides
        )
        if isinstance(candidates_corpus, str | Path):
            from polyret.datasets.sources import corpus_from

            candidates_corpus = corpus_from(str(candidates_corpus))
        if not isinstance(candidates_corpus, Corpus) or not len(candidates_corpus):
            raise InvalidInputError(
                "candidates_corpus must be a non-empty Corpus (the whole corpus the "
                "candidates come from, not one chunk)",
                field="candidates_corpus",
            )
        if retriever is not None and not callable(getattr(retriever, "search", None)):
            raise InvalidInputError(
                "retriever needs a search(queries, k) method", field="retriever"
            )
        self.candidates = candidates_corpus
        self._retriever = retriever
        self._fingerprint = candidates_corpus.fingerprint()
        self._retriever_identity = _identity(retriever)

    # configuration ------------------------------------------------------------------------
    @property
    def retriever(self) -> Searcher:
        """The candidate retriever (BM25 over ``candidates_corpus`` unless one was given)."""
        if self._retriever is None:
            from polyret.retrieve import BM25

            log.info("gecko: indexing %d candidate documents with BM25", len(self.candidates))
            self._retriever = BM25().index(self.candidates)
        return self._retriever

    def extra_config(self) -> dict[str, Any]:
        return {
            **super().extra_config(),
            "candidates": {"documents": len(self.candidates), "sha256": self._fingerprint},
            "retriever": self._retriever_identity,
        }

    # prompts ------------------------------------------------------------------------------
    def generate_prompt(self, target: Target) -> tuple[str, Template, str]:
        """Step 1's prompt, template and exemplar block for one target."""
        rows, code = self.prompts.exemplars(target.lang)
        example = self.prompts.template("generate_example", target.lang)
        block = "\n\n".join(
            example.render(
                passage=row.get("passage", ""),
                json=json.dumps(
                    {"task": row.get("task", ""), "query": row.get("query", "")},
                    ensure_ascii=False,
                ),
                language=self.language(code) if code else "",
            )
            for row in rows[: self.options.num_exemplars]
        )
        template = self.prompts.template("generate", target.lang)
        text = template.render(
            passage=self.passage(target.doc),
            language=self.language(target.lang),
            examples=block,
        )
        return text, template, block

    def _candidate_passage(self, doc_id: str) -> str:
        return self.passage(self.candidates[doc_id])

    # generation ---------------------------------------------------------------------------
    def generate_batch(self, docs: list[Document]) -> list[dict[str, Any]]:
        targets = self.targets(docs)
        if not targets:
            return []
        prompts = [self.generate_prompt(t) for t in targets]
        replies = self.ask([p[0] for p in prompts], targets)
        self.check_failures(replies, "generate")
        rows: list[dict[str, Any] | None] = [None] * len(targets)
        parsed: list[_Query] = []
        for i, (target, (_, template, block), reply) in enumerate(
            zip(targets, prompts, replies, strict=True)
        ):
            pid = prompt_id(template, block)
            raw = {"generate": reply.text}
            if not reply.ok:
                rows[i] = self.failed_row(
                    target, "request-failed", str(reply.error), prompt_id=pid, raw=raw
                )
                continue
            task, query, error, detail = parse_task_query(reply.text)
            if error:
                rows[i] = self.failed_row(target, error, detail, prompt_id=pid, raw=raw)
                continue
            parsed.append(_Query(i, target, task, query, pid, reply.text, [], []))
        if parsed:
            self._retrieve(parsed)
            for item, row in zip(parsed, self._relabel(parsed), strict=True):
                rows[item.row] = row
        return [row for row in rows if row is not None]

    def _retrieve(self, parsed: list[_Query]) -> None:
        queries = Queries.from_records(
            {"id": q.target.id(self.name), "text": q.query, "lang": q.target.lang} for q in parsed
        )
        run = self.retriever.search(queries, self.options.top_n)
        for item in parsed:
            qid = item.target.id(self.name)
            ids = [str(d) for d in run.scores(qid)[0]] if qid in run else []
            ids = [d for d in ids if d in self.candidates][: self.options.top_n]
            ranks: list[int | None] = list(range(1, len(ids) + 1))
            source = item.target.doc.id
            if self.options.include_source and source not in ids and source in self.candidates:
                ids.append(source)
                ranks.append(None)
            item.candidates, item.retrieval_ranks = ids, ranks

    def _relabel(self, parsed: list[_Query]) -> list[dict[str, Any]]:
        from polyret.rerank.llm_pointwise import score_answer

        likelihood = self.prompts.template("likelihood")
        relevance = self.prompts.template("relevance")
        pairs, conversations = [], []
        for item in parsed:
            for doc_id in item.candidates:
                passage = self._candidate_passage(doc_id)
                pairs.append((likelihood.render(passage=passage), " " + item.query))
                content = relevance.render(query=item.query, passage=passage, task=item.task)
                conversations.append([{"role": "user", "content": content}])
        ql_scores, ql_status = score_continuations(self.client, pairs)
        answers: list[LLMResponse] = self.client.chat_many(
            conversations,
            raise_on_error=False,
            temperature=0.0,
            max_tokens=1,
            top_logprobs=self.options.relevance_logprobs,
        )
        self.check_failures(answers, "relevance")
        if ql_status.startswith("unavailable"):
            log.warning("gecko: no query likelihoods (%s); ranking by relevance alone", ql_status)
        grades = [score_answer(answer, "yes-no")[0] for answer in answers]
        relabel_ids = prompt_id(likelihood, relevance.text)
        rows, offset = [], 0
        for item in parsed:
            size = len(item.candidates)
            ql = ql_scores[offset : offset + size]
            grade = grades[offset : offset + size]
            offset += size
            rows.append(self._row(item, ql, grade, ql_status, relabel_ids))
        return rows

    def _row(
        self,
        item: _Query,
        ql: list[float],
        grade: list[float],
        ql_status: str,
        relabel_id: str,
    ) -> dict[str, Any]:
        target, source = item.target, item.target.doc.id
        lists = [s for s in (ql, grade) if any(not math.isnan(v) for v in s)]
        fused, order = fuse_rankings(lists, self.options.rrf_k)
        candidates = [
            {
                "id": doc_id,
                "retrieval_rank": item.retrieval_ranks[i],
                "loglikelihood": ql[i],
                "relevance": grade[i],
                "rrf": fused[i],
            }
            for i, doc_id in enumerate(item.candidates)
        ]
        relabel: dict[str, Any] = {
            "likelihood": "ok" if ql_status == "ok" else ql_status,
            "relevance": _status(grade),
            "prompt_id": relabel_id,
        }
        meta: dict[str, Any] = {"task": item.task, "relabel": relabel, "candidates": candidates}
        raw = {"generate": item.raw}
        if not lists:  # nothing could be judged: keep the source passage, no negatives
            relabel["positive"] = "source (no judgement)"
            meta["relabeled"] = False
            return self.row(target, item.query, prompt_id=item.pid, raw=raw, meta=meta)
        best = item.candidates[order[0]]
        fused_rank = {item.candidates[i]: r for r, i in enumerate(order, 1)}
        others = [i for i in order if item.candidates[i] not in (best, source)]
        chosen = sorted(others[::-1][: self.options.num_negatives], key=order.index)
        positive = self.candidates[best]
        meta["relabeled"] = best != source
        return self.row(
            target,
            item.query,
            prompt_id=item.pid,
            raw=raw,
            meta=meta,
            positive_id=best,
            positive=positive.text,
            positive_lang=positive.lang,
            negative_ids=[item.candidates[i] for i in chosen],
            negatives=[self.candidates[item.candidates[i]].text for i in chosen],
            negative_scores=[fused[i] for i in chosen],
            negative_ranks=[fused_rank[item.candidates[i]] for i in chosen],
        )


def _identity(retriever: Searcher | None) -> dict[str, Any]:
    """The retriever's class and config (a dataclass or pydantic model), for the config."""
    if retriever is None:
        from polyret.retrieve.bm25 import BM25Config

        return {"class": "BM25", "config": BM25Config().model_dump()}
    config: Any = getattr(retriever, "config", None)
    if is_dataclass(config) and not isinstance(config, type):
        config = asdict(config)
    elif hasattr(config, "model_dump"):
        config = config.model_dump()
    return {
        "class": type(retriever).__name__,
        "config": config if isinstance(config, dict) else None,
    }


def _status(scores: Sequence[float]) -> str:
    failed = sum(math.isnan(s) for s in scores)
    if not scores or not failed:
        return "ok"
    return "unavailable" if failed == len(scores) else "partial"

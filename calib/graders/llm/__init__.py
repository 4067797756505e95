"""LLM-as-judge grader for any OpenAI-compatible chat-completions endpoint (extra ``[llm]``).

Modules: :mod:`~.provider` (one-method provider interface, OpenAI-compatible provider),
:mod:`~.smollm2` (opt-in in-process llama.cpp provider for the SmolLM2 GGUF),
:mod:`~.prompt` (versioned templates), :mod:`~.parse` (defensive answer parsing),
:mod:`~.cache` (SQLite response cache), :mod:`~.retry`, :mod:`~.pricing`,
:mod:`~.logprobs` (expected score, confidence), :mod:`~.calibration` (ECE, reliability
table), :mod:`~.consistency` (self-consistency, prompt sensitivity), :mod:`~.biases` (all
judge-bias checks in one call), :mod:`~.config` (YAML settings), :mod:`~.runner`.

Examples
--------
>>> from calib.graders.llm import LLMGrader
>>> grader = LLMGrader(base_url="http://127.0.0.1:8000/v1", model="qwen2.5-7b-instruct",
...                    mode="per_dimension", samples=3, temperature=0.7, progress=False)
>>> grader.rater_id.startswith("llm-")
True
"""

from calib.graders.llm.biases import JudgeBiases, judge_biases
from calib.graders.llm.cache import ResponseCache, cache_key
from calib.graders.llm.calibration import (
    JudgeCalibration,
    expected_calibration_error,
    human_consensus,
    judge_calibration,
    reliability_table,
)
from calib.graders.llm.config import llm_grader_from_config, load_llm_config
from calib.graders.llm.consistency import (
    prompt_sensitivity,
    quadratic_weighted_kappa,
    self_consistency,
)
from calib.graders.llm.logprobs import expected_score, score_distribution
from calib.graders.llm.parse import ParsedScore, coerce_score, parse_answer
from calib.graders.llm.pricing import PriceTable, load_prices
from calib.graders.llm.prompt import (
    TEMPLATES,
    PromptTemplate,
    build_messages,
    get_template,
    neutralise,
    render_transcript,
)
from calib.graders.llm.provider import (
    ChatRequest,
    ChatResponse,
    OpenAICompatibleProvider,
    Provider,
    ProviderError,
)
from calib.graders.llm.retry import RetryPolicy, complete_with_retries
from calib.graders.llm.runner import (
    MAX_CONSECUTIVE_CONNECTION_FAILURES,
    OUTPUT_COLUMNS,
    EndpointUnreachable,
    LLMGrader,
    NoAnswerError,
    format_summary,
    ratings_from_outputs,
    reparse,
    require_an_answer,
)

__all__ = [
    "MAX_CONSECUTIVE_CONNECTION_FAILURES",
    "EndpointUnreachable",
    "NoAnswerError",
    "require_an_answer",
    "ChatRequest",
    "ChatResponse",
    "JudgeBiases",
    "JudgeCalibration",
    "LLMGrader",
    "OUTPUT_COLUMNS",
    "OpenAICompatibleProvider",
    "ParsedScore",
    "PriceTable",
    "PromptTemplate",
    "Provider",
    "ProviderError",
    "ResponseCache",
    "RetryPolicy",
    "TEMPLATES",
    "build_messages",
    "cache_key",
    "coerce_score",
    "complete_with_retries",
    "expected_calibration_error",
    "expected_score",
    "format_summary",
    "get_template",
    "human_consensus",
    "judge_biases",
    "judge_calibration",
    "llm_grader_from_config",
    "load_llm_config",
    "load_prices",
    "neutralise",
    "parse_answer",
    "prompt_sensitivity",
    "quadratic_weighted_kappa",
    "ratings_from_outputs",
    "reliability_table",
    "render_transcript",
    "reparse",
    "score_distribution",
    "self_consistency",
]

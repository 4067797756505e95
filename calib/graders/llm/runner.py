"""The LLM grader: prompts, concurrency, retries, cache, samples, parsing, summary.

Ratings policy (documented contract): each (transcript, dimension) gets exactly one ratings
row for the grader. Its ``score`` is the median of the scored samples -- with an even number
of scored samples the *lower* middle value, so the score stays a level of the rubric scale --
and its ``rationale`` is that of the first scored sample (lowest sample index). When no sample
could be scored the row has ``score = NaN`` and the ``unscored_reason`` of the first sample
(``failed: ...`` for calls that never got an answer; ``truncated``, ``unparseable``,
``off-scale``, ``missing``, ``wrong dimension`` for answers that could not be used).
Every sample of every call is kept in the ``llm_outputs`` table (raw text included), and
:func:`reparse` rebuilds both tables from it without calling the model again.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from calib.errors import CalibWarning, DataValidationError, GraderError
from calib.graders.base import RATING_COLUMNS, Grader, GradeResult
from calib.graders.llm.cache import ResponseCache, cache_key
from calib.graders.llm.consistency import self_consistency
from calib.graders.llm.logprobs import expected_score, score_distribution
from calib.graders.llm.parse import ParsedScore, parse_answer
from calib.graders.llm.pricing import PriceTable
from calib.graders.llm.prompt import (
    MODES,
    build_messages,
    get_template,
    iter_calls,
    response_schema,
)
from calib.graders.llm.provider import (
    ChatRequest,
    ChatResponse,
    OpenAICompatibleProvider,
    Provider,
    ProviderError,
)
from calib.graders.llm.retry import RetryPolicy, complete_with_retries

if TYPE_CHECKING:  # the rubric stage sits to our left; typing only
    from calib.rubric import Rubric

__all__ = [
    "LLMGrader",
    "reparse",
    "ratings_from_outputs",
    "format_summary",
    "OUTPUT_COLUMNS",
    "RESPONSE_FORMATS",
    "MAX_CONSECUTIVE_CONNECTION_FAILURES",
    "EndpointUnreachable",
    "NoAnswerError",
    "require_an_answer",
]

log = logging.getLogger("calib.graders.llm")

#: ``auto`` probes ``json_schema``, then ``json_object``, then plain text, once per grader.
RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "text")

#: Columns of the ``llm_outputs`` table (one row per call, sample and dimension asked).
OUTPUT_COLUMNS = (
    "run_id", "rater_id", "transcript_id", "dimension", "sample", "call_id", "mode",
    "template_version", "model", "endpoint", "response_format", "status", "cache_hit",
    "attempts", "finish_reason", "raw_text", "score", "rationale", "unscored_reason",
    "parse_method", "expected_score", "confidence", "score_mass", "prompt_tokens",
    "completion_tokens", "latency_s", "error", "cost_usd",
)  # fmt: skip

#: Consecutive calls that fail to connect at all (after their retries) before the run stops:
#: the endpoint is down or the URL is wrong, and carrying on would only record failures.
MAX_CONSECUTIVE_CONNECTION_FAILURES = 5

# A 4xx to these during the response_format probe means "format not supported here".
_PROBE_STATUSES = {400, 415, 422, 501}


class EndpointUnreachable(GraderError):
    """The run stopped: too many consecutive calls could not connect to the endpoint."""


class NoAnswerError(GraderError):
    """No call of the run got an answer from the endpoint (nothing is worth storing)."""


@dataclass
class _Call:
    key: str
    transcript_id: str
    dims: tuple[str, ...]
    sample: int
    turns: Any  # the prompt is rebuilt when sending: 10^5 calls need not hold 10^5 prompts
    dimension: str | None
    params: dict
    response: ChatResponse | None = None
    cache_hit: bool = False
    attempts: int = 0
    error: str | None = None
    extra: dict = field(default_factory=dict)


def _wire_format(kind: str, rubric: Rubric, dims: tuple[str, ...]) -> dict | None:
    if kind == "json_schema":
        schema = response_schema(
            rubric, dims[0] if len(dims) == 1 and len(rubric.dimension_ids) > 1 else None
        )
        return {
            "type": "json_schema",
            "json_schema": {"name": "rubric_scores", "strict": True, "schema": schema},
        }
    if kind == "json_object":
        return {"type": "json_object"}
    return None


class LLMGrader(Grader):
    """LLM-as-judge grader for any OpenAI-compatible chat-completions endpoint.

    Parameters
    ----------
    base_url : str, optional
        Endpoint, e.g. ``http://127.0.0.1:8000/v1``. Give this or ``provider``.
    model : str
        Model name as the endpoint knows it.
    api_key_env : str, optional
        Environment variable holding the API key (never the key itself).
    provider : Provider, optional
        Any object with ``async complete(request)`` (e.g. the in-process SmolLM2 provider);
        overrides ``base_url``.
    mode : {"all", "per_dimension"}
        One call per transcript for all dimensions (cheaper, more halo) or one call per
        transcript and dimension (n_dimensions times the calls, independent scores).
    template : str or PromptTemplate
        Prompt template version (``"v1"``, ``"v2"``); its hash is part of the grader id.
    samples : int
        Calls per prompt; the ratings row holds the median (see module notes). With
        ``samples > 1`` use ``temperature > 0`` (and/or ``seed``), or every sample is the same.
    temperature, max_tokens, top_p, seed : sampling parameters sent to the endpoint.
        With ``seed`` set, sample ``i`` is sent ``seed + i``.
    response_format : {"auto", "json_schema", "json_object", "text"}
        ``auto`` probes json_schema, then json_object, then plain text.
    logprobs : bool
        Request ``top_logprobs`` to compute the expected score and confidence.
    top_logprobs : int
    concurrency : int
        Maximum calls in flight to this endpoint.
    timeout_s : float
        Per-request timeout.
    retry : RetryPolicy
        Retries on 429/5xx/timeouts with exponential backoff, full jitter and Retry-After.
    cache_path : str or Path, optional
        SQLite response cache; makes runs resumable. None = in-memory (not resumable).
    prices : PriceTable or mapping, optional
        USD per million tokens by model; cost is ``"unknown"`` without one.
    progress : bool
        Show a tqdm progress bar (throughput and ETA) on stderr.
    jitter_seed : int
        Seed of the backoff jitter (timing only; never changes scores).
    extra_params : mapping, optional
        More request fields (e.g. ``{"repeat_penalty": 1.1}``); part of the grader id.
    max_connection_failures : int
        Stop the run (:class:`EndpointUnreachable`) after this many consecutive calls failed
        to connect even after their retries (default
        :data:`MAX_CONSECUTIVE_CONNECTION_FAILURES` = 5). Answers already received stay in
        the cache, so a rerun resumes. (``calib grade`` also stores nothing for a run in
        which no call got an answer: :func:`require_an_answer`.)

    Examples
    --------
    >>> g = LLMGrader(base_url="http://127.0.0.1:8000/v1", model="m", progress=False)
    >>> g.rater_id.startswith("llm-"), g.config()["mode"]
    (True, 'all')
    """

    name = "llm"
    rater_type = "llm"

    def __init__(
        self,
        base_url: str | None = None,
        model: str = "",
        *,
        api_key_env: str | None = None,
        provider: Provider | None = None,
        mode: str = "all",
        template: Any = "v1",
        samples: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 512,
        top_p: float | None = None,
        seed: int | None = None,
        response_format: str = "auto",
        logprobs: bool = False,
        top_logprobs: int = 5,
        concurrency: int = 4,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        cache_path=None,
        prices: PriceTable | Mapping | None = None,
        progress: bool = True,
        jitter_seed: int = 0,
        extra_params: Mapping[str, Any] | None = None,
        max_connection_failures: int = MAX_CONSECUTIVE_CONNECTION_FAILURES,
    ):
        if not model:
            raise GraderError("--model: a model name is required")
        if mode not in MODES:
            raise GraderError(f"--mode: expected one of {', '.join(MODES)}, got {mode!r}")
        if response_format not in RESPONSE_FORMATS:
            raise GraderError(
                f"response_format: expected one of {', '.join(RESPONSE_FORMATS)}, got {response_format!r}"
            )
        if int(samples) < 1:
            raise GraderError(f"--samples: must be >= 1, got {samples}")
        if int(concurrency) < 1:
            raise GraderError(f"--concurrency: must be >= 1, got {concurrency}")
        if int(samples) > 1 and float(temperature) == 0.0 and seed is None:
            warnings.warn(
                f"samples={samples} at temperature 0 without a seed: the samples will very likely be "
                "identical; set temperature > 0 (and a seed for reproducibility)",
                CalibWarning,
                stacklevel=2,
            )
        if provider is None:
            if not base_url:
                raise GraderError("--base-url: required (or pass provider=)")
            provider = OpenAICompatibleProvider(
                base_url,
                api_key_env=api_key_env,
                timeout_s=timeout_s,
                max_connections=max(int(concurrency), 1),
            )
        self.provider = provider
        self.model = model
        self.mode = mode
        self.template = get_template(template)
        self.samples = int(samples)
        self.params: dict[str, Any] = {
            "temperature": float(temperature),
            "max_tokens": int(max_tokens),
        }
        if top_p is not None:
            self.params["top_p"] = float(top_p)
        if logprobs:
            self.params["logprobs"] = True
            self.params["top_logprobs"] = int(top_logprobs)
        self.params.update(dict(extra_params or {}))
        self.seed = seed
        self.response_format = response_format
        self.concurrency = int(concurrency)
        self.retry = retry or RetryPolicy()
        self.cache_path = cache_path
        self.prices = prices if isinstance(prices, PriceTable) else PriceTable(prices)
        self.progress = progress
        self.jitter_seed = int(jitter_seed)
        if int(max_connection_failures) < 1:
            raise GraderError(
                f"max_connection_failures: must be >= 1, got {max_connection_failures}"
            )
        self.max_connection_failures = int(max_connection_failures)
        self._resolved_format: str | None = None if response_format == "auto" else response_format

    def __repr__(self) -> str:
        return f"LLMGrader(rater_id={self.rater_id!r}, endpoint={self.provider.endpoint!r}, model={self.model!r})"

    def config(self) -> dict:
        """Everything that changes the scores (never the API key, cache path or concurrency)."""
        return {
            "endpoint": self.provider.endpoint,
            "model": self.model,
            "mode": self.mode,
            "template": self.template.version,
            "template_hash": self.template.hash,
            "samples": self.samples,
            "params": self.params,
            "seed": self.seed,
            "response_format": self.response_format,
        }

    # ------------------------------------------------------------------ planning
    def _plan(self, transcripts: pd.DataFrame, rubric: Rubric) -> list[_Call]:
        calls = []
        for tid, turns in zip(transcripts["transcript_id"].astype(str), transcripts["turns"]):
            for dim in iter_calls(self.mode, rubric.dimension_ids):
                messages = build_messages(self.template, rubric, turns, dimension=dim)
                dims = tuple(rubric.dimension_ids) if dim is None else (dim,)
                for s in range(self.samples):
                    params = dict(self.params)
                    if self.seed is not None:
                        params["seed"] = int(self.seed) + s
                    # The cache key holds the response_format *setting*: with "auto" the
                    # resolved format is a function of the endpoint, already in the key.
                    keyed = ChatRequest(
                        self.model, messages, params, {"setting": self.response_format}
                    )
                    calls.append(
                        _Call(
                            cache_key(self.provider.endpoint, keyed, s),
                            tid,
                            dims,
                            s,
                            turns,
                            dim,
                            params,
                        )
                    )
        return calls

    # ------------------------------------------------------------------ calling
    async def _gated_complete(self, request: ChatRequest) -> ChatResponse:
        """``provider.complete`` behind the endpoint-wide pause set by a 429's Retry-After.

        A ``Retry-After`` is about the endpoint, not one request: every worker waits it out,
        instead of the other workers carrying on into more 429s.
        """
        loop = asyncio.get_running_loop()
        wait = self._pause_until - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            return await self.provider.complete(request)
        except ProviderError as exc:
            if exc.status == 429 and exc.retry_after:
                until = loop.time() + min(exc.retry_after, self.retry.max_retry_after_s)
                self._pause_until = max(self._pause_until, until)
            raise

    async def _send(
        self, call: _Call, fmt: str, rubric: Rubric, rng: np.random.Generator
    ) -> ChatResponse:
        messages = build_messages(self.template, rubric, call.turns, dimension=call.dimension)
        req = ChatRequest(self.model, messages, call.params, _wire_format(fmt, rubric, call.dims))
        response, attempts = await complete_with_retries(self._gated_complete, req, self.retry, rng)
        call.attempts += attempts
        return response

    async def _probe(self, call: _Call, rubric: Rubric, rng: np.random.Generator) -> None:
        """Resolve ``auto`` on one real call: json_schema, then json_object, then text."""
        order = ["json_schema", "json_object", "text"]
        for i, fmt in enumerate(order):
            try:
                call.response = await self._send(call, fmt, rubric, rng)
                self._resolved_format = fmt
                log.info("response_format resolved to %s for %s", fmt, self.provider.endpoint)
                return
            except ProviderError as exc:
                rejected = (
                    exc.status in _PROBE_STATUSES or getattr(exc, "kind", None) == "format_rejected"
                )
                if rejected and i < len(order) - 1:
                    log.info(
                        "endpoint rejected response_format %s (%s); trying %s",
                        fmt,
                        exc.status,
                        order[i + 1],
                    )
                    continue
                raise

    async def _run_calls(self, calls: list[_Call], rubric: Rubric, cache: ResponseCache) -> dict:
        rng = np.random.default_rng(self.jitter_seed)
        self._pause_until = 0.0
        pending = []
        for call in calls:
            cached = cache.get(call.key)
            if cached is not None:
                call.response, call.cache_hit = cached, True
            else:
                pending.append(call)
        stats = {"cache_hits": len(calls) - len(pending), "calls_made": 0}
        unreachable = {"run": 0}
        bar = tqdm(
            total=len(calls), initial=stats["cache_hits"], unit="call", desc=f"llm {self.model}",
            disable=not self.progress, file=sys.stderr, dynamic_ncols=True,
        )  # fmt: skip

        def finish(call: _Call, exc: ProviderError | None) -> None:
            stats["calls_made"] += 1
            if exc is None:
                cache.put(call.key, call.response)  # committed now: a kill after this loses nothing
                unreachable["run"] = 0
            else:
                call.attempts = max(call.attempts, getattr(exc, "attempts", 1))
                call.error = (
                    f"failed: {exc} (after {call.attempts} attempt{'s' * (call.attempts != 1)})"
                )
                log.warning("call for transcript %s failed: %s", call.transcript_id, exc)
                unreachable["run"] = unreachable["run"] + 1 if exc.kind == "connection" else 0
            bar.update(1)
            if unreachable["run"] >= self.max_connection_failures:
                answered = sum(c.response is not None for c in calls)
                raise EndpointUnreachable(
                    f"{self.provider.endpoint}: {unreachable['run']} consecutive calls could not "
                    f"connect ({exc}); stopped after {stats['calls_made']} of {len(calls) - stats['cache_hits']} calls. "
                    f"Is the server running and --base-url right? Nothing was written for this "
                    f"run; {answered} answer(s) are cached and a rerun resumes from them."
                )

        try:
            probes = 0
            while pending and self._resolved_format is None:
                first, pending = pending[0], pending[1:]
                probes += 1
                try:
                    await self._probe(first, rubric, rng)
                    finish(first, None)
                except ProviderError as exc:
                    finish(first, exc)
                    # This call failed in every format (e.g. its prompt is too long), so the
                    # failure says nothing about the formats: probe again on the next call.
                    # After three such calls, fall back to plain text, which every server
                    # accepts (the parser finds JSON inside text too).
                    if probes >= 3:
                        self._resolved_format = "text"
            queue = collections.deque(pending)

            async def worker() -> None:
                # ``concurrency`` workers share one queue: that is the per-endpoint limit, and
                # memory stays flat however many calls the run has.
                while queue:
                    call = queue.popleft()
                    try:
                        call.response = await self._send(
                            call, self._resolved_format or "text", rubric, rng
                        )
                    except ProviderError as exc:
                        finish(call, exc)
                        continue
                    finish(call, None)

            tasks = [
                asyncio.ensure_future(worker()) for _ in range(min(self.concurrency, len(pending)))
            ]
            try:
                await asyncio.gather(*tasks)
            except BaseException:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        finally:
            bar.close()
            await self.provider.aclose()
        return stats

    # ------------------------------------------------------------------ public
    async def agrade(
        self, transcripts: pd.DataFrame, rubric: Rubric, *, run_id: str | None = None
    ) -> GradeResult:
        """Async :meth:`grade` (use from inside a running event loop)."""
        _check_transcripts(transcripts)
        run_id = run_id or f"llm-{pd.Timestamp.now(tz='UTC').strftime('%Y%m%dT%H%M%S%fZ')}"
        t0 = time.perf_counter()
        calls = self._plan(transcripts, rubric)
        cache = ResponseCache(self.cache_path)
        try:
            stats = await self._run_calls(calls, rubric, cache)
        finally:
            cache.close()
        elapsed = time.perf_counter() - t0
        meta = {
            "run_id": run_id,
            "rater_id": self.rater_id,
            "mode": self.mode,
            "template_version": self.template.version,
            "model": self.model,
            "endpoint": self.provider.endpoint,
            "response_format": self._resolved_format or self.response_format,
        }
        outputs = _outputs_from_calls(calls, rubric, meta)
        outputs["cost_usd"] = call_costs(outputs, self.prices, self.model)
        ratings = ratings_from_outputs(outputs, rubric, rater_id=self.rater_id, run_id=run_id)
        summary = _summary(outputs, ratings, stats, self.prices, self.model, elapsed)
        summary.update({"rater_id": self.rater_id, "run_id": run_id, "config": self.config(),
                        "response_format_resolved": meta["response_format"]})  # fmt: skip
        return GradeResult(ratings=ratings, evidence=outputs, summary=summary)

    def grade(
        self, transcripts: pd.DataFrame, rubric: Rubric, *, run_id: str | None = None
    ) -> GradeResult:
        """Grade every transcript on every dimension (see the class docstring).

        Returns
        -------
        GradeResult
            ``ratings`` (one row per transcript x dimension), ``evidence`` = the
            ``llm_outputs`` table (every sample of every call), ``summary`` (counts, cache
            hits, tokens, cost, latency, self-consistency).
        """
        box: dict[str, Any] = {}

        async def main() -> None:
            # The result goes in a box, not out of the task: Python 3.11's asyncio.run reprs
            # the main task (its result included) when restoring the SIGINT handler, and the
            # repr of a GradeResult formats whole DataFrames.
            box["result"] = await self.agrade(transcripts, rubric, run_id=run_id)

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(main())
            return box["result"]

        # Called from inside a running loop (e.g. Jupyter): run in a private thread and loop.
        def target() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # re-raised in the caller's thread
                box["error"] = exc

        th = threading.Thread(target=target, name="calib-llm-grader")
        th.start()
        th.join()
        if "error" in box:
            raise box["error"]
        return box["result"]


def require_an_answer(result: GradeResult, endpoint: str = "") -> None:
    """Raise :class:`NoAnswerError` when no call of the run got an answer.

    ``calib grade`` calls this before writing: a run whose every call failed (endpoint down,
    wrong model name, bad key) holds nothing but "failed" rows, which are not grades and would
    show in reports as NaN agreement. The library's :meth:`LLMGrader.grade` still returns such
    a result, for inspection.
    """
    ev = result.evidence
    if len(ev) and not (ev["status"] == "ok").any():
        first = ev["error"].dropna()
        first = first.iloc[0] if len(first) else "no call completed"
        raise NoAnswerError(
            f"{endpoint or 'the endpoint'}: no call got an answer ({ev['call_id'].nunique()} "
            f"failed; first: {first}); nothing was written for this run"
        )


def _check_transcripts(transcripts: pd.DataFrame) -> None:
    missing = {"transcript_id", "turns"} - set(transcripts.columns)
    if missing:
        raise DataValidationError(f"transcripts: missing column(s) {sorted(missing)}")
    dup = transcripts["transcript_id"].astype(str).duplicated()
    if dup.any():
        raise DataValidationError(
            f"transcripts: duplicate transcript_id {transcripts['transcript_id'][dup].iloc[0]!r}"
        )


def _rows_for_call(c: dict, rubric: Rubric, meta: Mapping[str, Any]) -> list[dict]:
    """One llm_outputs row per dimension asked in one call (parse + logprobs)."""
    base = {
        **meta,
        "transcript_id": c["transcript_id"],
        "sample": int(c["sample"]),
        "call_id": c["call_id"],
        "status": "failed" if c["error"] else "ok",
        "cache_hit": bool(c["cache_hit"]),
        "attempts": int(c["attempts"]),
        "finish_reason": c["finish_reason"],
        "raw_text": c["text"],
        "prompt_tokens": c["prompt_tokens"],
        "completion_tokens": c["completion_tokens"],
        "latency_s": c["latency_s"],
        "error": c["error"],
    }
    values = [int(v) for v in rubric.scale.values]
    if c["error"]:
        return [
            {**base, "dimension": d, "score": math.nan, "rationale": None, "unscored_reason": c["error"],
             "parse_method": "none", "expected_score": math.nan, "confidence": math.nan, "score_mass": math.nan}
            for d in c["dims"]
        ]  # fmt: skip
    rows = []
    try:
        parsed = parse_answer(
            c["text"], c["finish_reason"], c["dims"], rubric.scale.min, rubric.scale.max
        )
    except Exception as exc:  # noqa: BLE001 - no answer, cached or fresh, may crash a run
        why = f"unparseable: the parser failed on this answer ({type(exc).__name__})"
        parsed = [ParsedScore(d, math.nan, None, why, "none") for d in c["dims"]]
    for p in parsed:
        exp = conf = mass = math.nan
        try:
            dist = (
                score_distribution(c["logprobs"], c["text"] or "", p.span, values)
                if p.unscored_reason is None
                else None
            )
        except Exception:  # noqa: BLE001 - malformed log-probabilities: no confidence, same score
            dist = None
        if dist is not None:
            probs, mass = dist
            exp = expected_score(probs, values)
            conf = float(probs[values.index(int(p.score))])
        rows.append(
            {**base, "dimension": p.dimension, "score": p.score, "rationale": p.rationale,
             "unscored_reason": p.unscored_reason, "parse_method": p.method,
             "expected_score": exp, "confidence": conf, "score_mass": mass}
        )  # fmt: skip
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    for col in ("score", "expected_score", "confidence", "score_mass", "latency_s"):
        df[col] = df[col].astype("float64")
    for col in ("prompt_tokens", "completion_tokens"):
        df[col] = df[col].astype("Int64")
    df["sample"] = df["sample"].astype("int64")
    df["attempts"] = df["attempts"].astype("int64")
    df["cache_hit"] = df["cache_hit"].astype(bool)
    return df.sort_values(["transcript_id", "dimension", "sample"], kind="stable").reset_index(
        drop=True
    )


def _outputs_from_calls(
    calls: list[_Call], rubric: Rubric, meta: Mapping[str, Any]
) -> pd.DataFrame:
    rows: list[dict] = []
    for call in calls:
        r = call.response
        rec = {
            "call_id": call.key, "transcript_id": call.transcript_id, "dims": call.dims, "sample": call.sample,
            "error": call.error if r is None else None, "cache_hit": call.cache_hit, "attempts": call.attempts,
            "text": None if r is None else r.text, "finish_reason": None if r is None else r.finish_reason,
            "logprobs": None if r is None else r.logprobs,
            "prompt_tokens": None if r is None else r.prompt_tokens,
            "completion_tokens": None if r is None else r.completion_tokens,
            "latency_s": None if r is None or call.cache_hit else r.latency_s,
        }  # fmt: skip
        if r is None and rec["error"] is None:  # cancelled before an answer: not a grade
            continue
        rows.extend(_rows_for_call(rec, rubric, meta))
    return _frame(rows)


def ratings_from_outputs(outputs: pd.DataFrame, rubric: Rubric, *, rater_id: str, run_id: str | None,
                         rated_at: pd.Timestamp | None = None) -> pd.DataFrame:  # fmt: skip
    """Collapse ``llm_outputs`` samples into one ratings row per (transcript, dimension).

    Score: lower median of the scored samples; rationale: the first scored sample's; when no
    sample is scored, NaN with the first sample's ``unscored_reason`` (see module notes).

    Examples
    --------
    >>> class _R: id, version = "r", "1"
    >>> o = pd.DataFrame({"transcript_id": ["t"] * 3, "dimension": ["d"] * 3, "sample": [0, 1, 2],
    ...                   "score": [2.0, float("nan"), 3.0], "rationale": ["a", None, "c"],
    ...                   "unscored_reason": [None, "off-scale: 9", None]})
    >>> ratings_from_outputs(o, _R(), rater_id="llm-x", run_id="r1")[["score", "rationale"]].values.tolist()
    [[2.0, 'a']]
    """
    rated_at = rated_at if rated_at is not None else pd.Timestamp.now(tz="UTC")
    keys = ["transcript_id", "dimension"]
    o = outputs.sort_values(keys + ["sample"], kind="stable")
    units = o.drop_duplicates(keys)[keys + ["unscored_reason"]].set_index(keys)
    scored = o[o["score"].notna()]
    med = (
        scored.groupby(keys, sort=True)["score"]
        .quantile(0.5, interpolation="lower")
        .rename("score")
    )
    first = scored.drop_duplicates(keys).set_index(keys)["rationale"]
    n_scored = scored.groupby(keys).size()
    n_all = o.groupby(keys).size()
    out = units.join(med).join(first)
    out["unscored_reason"] = out["unscored_reason"].where(out["score"].isna(), None)
    partly = (n_scored.reindex(out.index).fillna(0) < n_all.reindex(out.index)) & out[
        "score"
    ].notna()
    if partly.any():
        log.info(
            "%d ratings are the median of only some samples (others unscored)", int(partly.sum())
        )
    out = out.reset_index()
    out["rater_id"] = rater_id
    out["rater_type"] = "llm"
    out["rubric_id"] = rubric.id
    out["rubric_version"] = str(rubric.version)
    out["rated_at"] = pd.Series([rated_at] * len(out), dtype="datetime64[ns, UTC]")
    out["run_id"] = run_id
    out["score"] = out["score"].astype("float64")
    out["rationale"] = out["rationale"].astype(object).where(out["rationale"].notna(), None)
    out["unscored_reason"] = (
        out["unscored_reason"].astype(object).where(out["unscored_reason"].notna(), None)
    )
    return out[list(RATING_COLUMNS)].reset_index(drop=True)


def call_costs(outputs: pd.DataFrame, prices: PriceTable, model: str) -> np.ndarray:
    """USD cost of each output row: a call's cost sits on its first row (so sums over rows
    count each call once), cache hits cost 0 in this run, and NaN means unknown (no price or
    no token counts) -- never 0.
    """
    cost = np.full(len(outputs), np.nan)
    first = ~outputs["call_id"].duplicated().to_numpy()
    for i in np.flatnonzero(first):
        if bool(outputs["cache_hit"].iloc[i]):
            cost[i] = 0.0
            continue
        p, c = outputs["prompt_tokens"].iloc[i], outputs["completion_tokens"].iloc[i]
        value = prices.cost(model, None if pd.isna(p) else int(p), None if pd.isna(c) else int(c))
        cost[i] = value if isinstance(value, float) else np.nan
    # the other rows of a call carry 0 when the call's cost is known, NaN when it is not
    known = dict(zip(outputs["call_id"].to_numpy()[first], ~np.isnan(cost[first])))
    rest = np.flatnonzero(~first)
    cost[rest] = [0.0 if known[k] else np.nan for k in outputs["call_id"].to_numpy()[rest]]
    return cost


def _summary(outputs: pd.DataFrame, ratings: pd.DataFrame, stats: dict, prices: PriceTable, model: str,
             elapsed: float) -> dict:  # fmt: skip
    calls = outputs.drop_duplicates("call_id")
    fresh = calls[~calls["cache_hit"] & (calls["status"] == "ok")]
    reasons = ratings["unscored_reason"].fillna("")
    failed = int(reasons.str.startswith("failed").sum())
    ptok = fresh["prompt_tokens"]
    ctok = fresh["completion_tokens"]
    tokens_known = bool(len(fresh)) and ptok.notna().all() and ctok.notna().all()
    p_sum = int(ptok.sum()) if tokens_known else (0 if not len(fresh) else None)
    c_sum = int(ctok.sum()) if tokens_known else (0 if not len(fresh) else None)
    lat = fresh["latency_s"].dropna()
    summary = {
        "transcripts": int(ratings["transcript_id"].nunique()),
        "ratings": int(len(ratings)),
        "scored": int(ratings["score"].notna().sum()),
        "unscored": int(ratings["score"].isna().sum()) - failed,
        "failed": failed,
        "calls": int(len(calls)),
        "calls_made": int(stats["calls_made"]),
        "failed_calls": int((calls["status"] == "failed").sum()),
        "cache_hits": int(stats["cache_hits"]),
        "retries": int((calls["attempts"] - 1).clip(lower=0).sum()),
        "tokens": {"prompt": p_sum, "completion": c_sum},
        "cost": prices.cost(model, p_sum, c_sum),
        "latency_s": {
            "mean": float(lat.mean()) if len(lat) else None,
            "p50": float(lat.quantile(0.5)) if len(lat) else None,
            "p95": float(lat.quantile(0.95)) if len(lat) else None,
        },
        "elapsed_s": round(elapsed, 3),
        "calls_per_s": round(stats["calls_made"] / elapsed, 3) if elapsed > 0 else None,
        "unscored_reasons": {
            k: int(v)
            for k, v in reasons[reasons != ""]
            .str.split(":")
            .str[0]
            .value_counts()
            .sort_index()
            .items()
        },
    }
    if len(outputs) and outputs["sample"].max() >= 1:
        sc = self_consistency(outputs)
        summary["self_consistency"] = sc.replace({np.nan: None}).to_dict("records")
    return summary


def reparse(
    llm_outputs: pd.DataFrame, rubric: Rubric, *, cache_path: str | os.PathLike | None = None
) -> GradeResult:
    """Re-apply parsing to stored raw answers -- no model call.

    Parameters
    ----------
    llm_outputs : DataFrame
        A stored ``llm_outputs`` table (one grader, one run).
    rubric : Rubric
    cache_path : optional
        The run's response cache; when given, logprobs are read back from it so expected
        scores and confidences are recomputed too.

    Returns
    -------
    GradeResult
        New ``ratings`` and ``evidence`` (the re-parsed ``llm_outputs``); ``summary`` counts.

    Examples
    --------
    >>> from calib.io import read_table  # doctest: +SKIP
    >>> outputs = read_table("store/", "llm_outputs")  # doctest: +SKIP
    >>> mine = outputs[outputs["run_id"] == "nightly-01"]  # doctest: +SKIP
    >>> fixed = reparse(mine, rubric, cache_path="store/llm_cache.sqlite")  # doctest: +SKIP
    >>> fixed.summary["reparsed_calls"]  # doctest: +SKIP
    """
    if llm_outputs.empty:
        raise DataValidationError("llm_outputs: empty table, nothing to re-parse")
    for col in (
        "rater_id",
        "call_id",
        "raw_text",
        "finish_reason",
        "status",
        "dimension",
        "sample",
    ):
        if col not in llm_outputs.columns:
            raise DataValidationError(f"llm_outputs: missing column {col!r}")
    if llm_outputs["rater_id"].nunique() != 1:
        raise DataValidationError(
            "llm_outputs: holds several rater_id values; filter to one grader first"
        )
    cache = ResponseCache(cache_path) if cache_path is not None else None
    rows: list[dict] = []
    try:
        for call_id, g in llm_outputs.groupby("call_id", sort=False):
            first = g.iloc[0]
            cached = cache.get(call_id) if cache is not None else None
            rec = {
                "call_id": call_id, "transcript_id": first["transcript_id"], "dims": tuple(g["dimension"]),
                "sample": int(first["sample"]), "cache_hit": bool(first["cache_hit"]),
                "attempts": int(first["attempts"]),
                "error": first["error"] if first["status"] == "failed" else None,
                "text": first["raw_text"], "finish_reason": first["finish_reason"],
                "logprobs": cached.logprobs if cached is not None else None,
                "prompt_tokens": first["prompt_tokens"], "completion_tokens": first["completion_tokens"],
                "latency_s": first["latency_s"],
            }  # fmt: skip
            meta = {
                k: first[k]
                for k in (
                    "run_id",
                    "rater_id",
                    "mode",
                    "template_version",
                    "model",
                    "endpoint",
                    "response_format",
                )
            }
            rows.extend(_rows_for_call(rec, rubric, meta))
    finally:
        if cache is not None:
            cache.close()
    outputs = _frame(rows)
    ratings = ratings_from_outputs(
        outputs, rubric, rater_id=str(outputs["rater_id"].iloc[0]), run_id=outputs["run_id"].iloc[0]
    )
    summary = {
        "scored": int(ratings["score"].notna().sum()),
        "unscored": int(ratings["score"].isna().sum()),
        "reparsed_calls": int(outputs["call_id"].nunique()),
    }
    return GradeResult(ratings=ratings, evidence=outputs, summary=summary)


def format_summary(summary: Mapping[str, Any]) -> str:
    """The end-of-run summary as a few human-readable lines (for the CLI).

    Examples
    --------
    >>> print(format_summary({"rater_id": "llm-1", "ratings": 8, "scored": 7, "unscored": 1, "failed": 0,
    ...                       "calls": 1, "calls_made": 1, "cache_hits": 0, "retries": 0,
    ...                       "tokens": {"prompt": 900, "completion": 80}, "cost": "unknown",
    ...                       "elapsed_s": 1.5, "unscored_reasons": {"off-scale": 1}}))
    llm-1: 8 ratings: 7 scored, 1 unscored, 0 failed
    calls: 1 (1 made, 0 cache hits, 0 retries) in 1.5 s
    tokens: 900 prompt + 80 completion; cost: unknown
    unscored: off-scale 1
    """
    lines = [
        f"{summary.get('rater_id', 'llm')}: {summary['ratings']} ratings: {summary['scored']} scored, "
        f"{summary['unscored']} unscored, {summary['failed']} failed",
        f"calls: {summary['calls']} ({summary['calls_made']} made, {summary['cache_hits']} cache hits, "
        f"{summary['retries']} retries) in {summary['elapsed_s']} s",
    ]
    tok = summary.get("tokens") or {}
    cost = summary.get("cost")
    cost_s = f"${cost:.4f}" if isinstance(cost, (int, float)) else str(cost)
    lines.append(
        f"tokens: {tok.get('prompt')} prompt + {tok.get('completion')} completion; cost: {cost_s}"
    )
    reasons = summary.get("unscored_reasons") or {}
    if reasons:
        lines.append("unscored: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    for row in summary.get("self_consistency") or []:
        if row.get("n_units"):
            lines.append(
                f"self-consistency {row['dimension']}: modal share {row['modal_share']:.2f}, "
                f"all agree {row['all_agree']:.2f}, mean sd {row['mean_sd']:.2f} (n={row['n_units']})"
            )
    return "\n".join(lines)

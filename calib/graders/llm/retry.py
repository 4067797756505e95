"""Retries with exponential backoff and full jitter, honouring ``Retry-After``.

Retried: HTTP 429, 5xx, timeouts and connection errors (``ProviderError.retryable``).
Not retried: any other 4xx, and answers that arrived but cannot be parsed (those are
unscored by the parser, not re-requested). After the last attempt the error is raised and
the runner records it as a failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from calib.graders.llm.provider import ChatRequest, ChatResponse, ProviderError

__all__ = ["RetryPolicy", "complete_with_retries"]

log = logging.getLogger("calib.graders.llm")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    Parameters
    ----------
    max_attempts : int
        Total attempts including the first (1 = no retry).
    base_delay_s : float
        Backoff for the first retry; doubles every attempt (exponential).
    max_delay_s : float
        Cap on one backoff delay.
    max_retry_after_s : float
        Cap on how long a ``Retry-After`` header may make us wait; a longer request is
        honoured up to this cap (a run should not hang for an hour on one header).

    Notes
    -----
    Delay before retry ``k`` (k = 1, 2, ...) is ``max(retry_after, U(0, min(max_delay,
    base * 2**(k-1))))`` -- "full jitter" (Brooker, *Exponential Backoff And Jitter*, AWS
    Architecture Blog, 2015), so concurrent workers that hit the same 429 do not retry in
    lock-step, while a server-sent ``Retry-After`` is a lower bound.

    Examples
    --------
    >>> RetryPolicy(max_attempts=3).delay(1, None, np.random.default_rng(0)) <= 0.5
    True
    """

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_retry_after_s: float = 120.0

    def delay(self, retry: int, retry_after: float | None, rng: np.random.Generator) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        cap = min(self.max_delay_s, self.base_delay_s * 2 ** (retry - 1))
        jittered = float(rng.uniform(0.0, cap)) if cap > 0 else 0.0
        if retry_after is not None:
            return max(min(retry_after, self.max_retry_after_s), jittered)
        return jittered


async def complete_with_retries(
    complete: Callable[[ChatRequest], Awaitable[ChatResponse]],
    request: ChatRequest,
    policy: RetryPolicy,
    rng: np.random.Generator,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[ChatResponse, int]:
    """Call ``complete(request)`` until it succeeds, a non-retryable error, or attempts run out.

    Returns
    -------
    (ChatResponse, attempts)

    Raises
    ------
    ProviderError
        The last error, with ``attempts`` set on it.

    Examples
    --------
    >>> import asyncio
    >>> async def ok(req):
    ...     return ChatResponse("{}", "stop")
    >>> asyncio.run(complete_with_retries(ok, ChatRequest("m", ()), RetryPolicy(),
    ...                                   np.random.default_rng(0)))[1]
    1
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return await complete(request), attempt
        except ProviderError as exc:
            exc.attempts = attempt
            if not exc.retryable or attempt >= policy.max_attempts:
                raise
            wait = policy.delay(attempt, exc.retry_after, rng)
            log.info("retry %d/%d in %.2fs after %s", attempt, policy.max_attempts - 1, wait, exc)
            await sleep(wait)

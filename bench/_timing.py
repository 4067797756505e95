"""Shared timer for the benchmark scripts (run as ``python bench/bench_<area>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 3, warmup: bool = False) -> tuple[float, Any]:
    """Best wall time (time.perf_counter) of ``repeat`` calls, optionally after one untimed
    warm-up call (page faults, caches); returns (seconds, the last result)."""
    if warmup:
        fn()
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out

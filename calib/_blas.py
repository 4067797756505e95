"""One-threaded BLAS for code made of many small or tall-skinny matrix products.

Multi-threaded OpenBLAS gains nothing on products like ``(ratings x 4) @ (4 x 4)`` and thrashes
when the machine is busy (measured: 3 ms on one thread, 130 ms on two threads next to other
work, at 240k rows). Statistics built from such products run inside :func:`single_threaded_blas`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

__all__ = ["single_threaded_blas", "with_single_threaded_blas"]


def single_threaded_blas() -> AbstractContextManager:
    """Context manager limiting BLAS to one thread (a no-op without threadpoolctl).

    Examples
    --------
    >>> import numpy as np
    >>> with single_threaded_blas():
    ...     float((np.ones((3, 2)) @ np.ones(2)).sum())
    6.0
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


def with_single_threaded_blas(fn):
    """Decorator: run ``fn`` inside :func:`single_threaded_blas`.

    Examples
    --------
    >>> @with_single_threaded_blas
    ... def f():
    ...     return 1
    >>> f()
    1
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return fn(*args, **kwargs)

    return wrapper

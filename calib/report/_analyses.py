"""Adapters that call the analysis stages and normalise what they return for the report.

Each adapter returns an :class:`Analysis`: either ``computed`` with the analysis' own tables,
or ``not computed`` with the reason (stage not installed, not enough data, or the error the
stage raised). The report shows the reason verbatim and never substitutes numbers of its own.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from calib.errors import CalibError, CalibWarning

__all__ = ["Analysis", "call_analysis", "find", "run_analysis"]


@dataclass
class Analysis:
    """Outcome of one analysis call.

    Attributes
    ----------
    status : str
        ``computed`` or ``not computed``.
    reason : str
        Why it was not computed ("" when computed).
    value : Any
        What the analysis returned.
    warnings : list of str
        CalibWarning messages the analysis emitted (degenerate cases).
    """

    status: str
    reason: str = ""
    value: Any = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when computed."""
        return self.status == "computed"


def find(module: str, *names: str) -> Any | None:
    """The first attribute of ``module`` among ``names`` that exists, or None."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for n in names:
        fn = getattr(mod, n, None)
        if fn is not None:
            return fn
    return None


def run_analysis(fn: Any, *args: Any, **kwargs: Any) -> Analysis:
    """Call the stage function ``fn(*args, **kwargs)`` (imported directly) and capture the outcome.

    Same outcome rules as :func:`call_analysis`, without the lookup by name.
    """
    return call_analysis(fn.__module__, (fn.__name__,), *args, _fn=fn, **kwargs)


def call_analysis(module: str, names: tuple[str, ...], *args: Any, **kwargs: Any) -> Analysis:
    """Call ``module.<first available name>(*args, **kwargs)`` and capture the outcome.

    CalibErrors (e.g. too few raters) become ``not computed`` with the error's message;
    CalibWarnings are recorded so the report can show them. Any other exception is a bug
    in the analysis: the section says "not computed (internal error in ...)" with the
    exception, a CalibWarning is emitted, and the rest of the report is still written.
    """
    fn = kwargs.pop("_fn", None) or find(module, *names)
    if fn is None:
        return Analysis(
            "not computed", f"{module}.{names[0]} is not available in this installation"
        )
    failure = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalibWarning)
        try:
            value = fn(*args, **kwargs)
        except CalibError as exc:
            return Analysis("not computed", _short(f"{module}.{fn.__name__}: {exc}"))
        except Exception as exc:  # noqa: BLE001 - one failing analysis must not sink the report
            failure = _short(
                f"internal error in {module}.{fn.__name__}: {type(exc).__name__}: {exc}"
            )
    if failure is not None:
        warnings.warn(failure, CalibWarning, stacklevel=2)
        return Analysis("not computed", failure)
    msgs = sorted({str(w.message) for w in caught if issubclass(w.category, CalibWarning)})
    return Analysis("computed", value=value, warnings=msgs)


def _short(text: str, limit: int = 300) -> str:
    """Reasons end up in the report: keep them to one readable line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def frame(value: Any) -> pd.DataFrame | None:
    """A DataFrame view of an analysis result (DataFrame, or an object with ``.table``/``.to_frame()``)."""
    if isinstance(value, pd.DataFrame):
        return value
    for attr in ("table", "summary", "to_frame", "to_dataframe"):
        v = getattr(value, attr, None)
        if v is None:
            continue
        v = v() if callable(v) else v
        if isinstance(v, pd.DataFrame):
            return v
    return None

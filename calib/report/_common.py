"""Options and helpers shared by the report's section builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calib.agreement import DEFAULT_N_BOOT, DEFAULT_SEED
from calib.report._analyses import Analysis, call_analysis, frame
from calib.report._inputs import ReportInputs
from calib.report.recommend import THRESHOLDS, verdict

__all__ = ["ReportOptions", "SECTION_TITLES", "agreement_display"]


SECTION_TITLES: dict[str, str] = {
    "overview": "Overview",
    "calibration_session": "Calibration session",
    "agreement": "Agreement per dimension",
    "scale_use": "Scale use and anchor ambiguity",
    "rater_effects": "Rater effects",
    "reliability_planning": "Reliability planning",
    "graders": "Automated graders",
    "recommendations": "Recommendations",
}


@dataclass(frozen=True)
class ReportOptions:
    """Resolved options of one report run (written to ``run.json``).

    Attributes
    ----------
    seed : int
        Seed for every bootstrap the analyses run.
    n_boot : int
        Bootstrap resamples for confidence intervals.
    thresholds : dict
        Overrides for :data:`calib.report.recommend.THRESHOLDS`.
    max_raters_dstudy : int
        Largest number of raters in the D-study chart.
    """

    seed: int = DEFAULT_SEED
    n_boot: int = DEFAULT_N_BOOT
    thresholds: dict[str, float] = field(default_factory=dict)
    max_raters_dstudy: int = 6

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "seed": self.seed,
            "n_boot": self.n_boot,
            "max_raters_dstudy": self.max_raters_dstudy,
            "thresholds": {**THRESHOLDS, **self.thresholds},
        }


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"


# ---------------------------------------------------------------------------------------------
# analyses (calls into the stages on the left; adapters normalise their outputs)
# ---------------------------------------------------------------------------------------------


def _human(ratings: pd.DataFrame) -> pd.DataFrame:
    return ratings[ratings["rater_type"].eq("human")]


def _agreement(inp: ReportInputs, opt: ReportOptions, by: str = "dimension") -> Analysis:
    kw = {}
    if by != "dimension":
        if inp.transcripts is None or by not in inp.transcripts.columns:
            return Analysis("not computed", f"the transcripts table has no {by!r} column")
        kw["unit_info"] = inp.transcripts[["transcript_id", by]]
    a = call_analysis(
        "calib.agreement",
        ("agreement_table",),
        _human(inp.ratings),
        by=by,
        scales=inp.rubric.scales,
        n_boot=opt.n_boot,
        seed=opt.seed,
        dimension_order=list(inp.rubric.dimension_ids),
        **kw,
    )
    if a.ok:
        a.value = _normalise_agreement(frame(a.value))
    return a


_AGREEMENT_COLUMNS = {  # our short name -> column of calib.agreement.agreement_table
    "alpha": ("alpha_ordinal", "alpha"),
    "alpha_low": ("alpha_ordinal_low", "alpha_low"),
    "alpha_high": ("alpha_ordinal_high", "alpha_high"),
}


#: (label, column prefix) of the agreement statistics shown with their 95% CIs.
_AGREEMENT_CI = [
    ("alpha", "alpha"),
    ("ICC", "icc"),  # the form the design supports: agreement_table's icc_form
    ("QWK", "qwk_mean"),
    ("exact", "exact_agreement"),
    ("adjacent", "adjacent_agreement"),
]


def _with_ci(est: pd.Series, low: pd.Series, high: pd.Series) -> pd.Series:
    """'0.61 [0.54, 0.66]' per row; '–' where the estimate is missing."""
    f = lambda s: s.map(lambda x: "–" if pd.isna(x) else f"{x:.2f}")  # noqa: E731
    out = f(est) + " [" + f(low) + ", " + f(high) + "]"
    return out.where(est.notna(), "–")


def agreement_display(t: pd.DataFrame) -> pd.DataFrame:
    """Display view of an agreement table: each statistic with its 95% bootstrap CI in one cell.

    Example
    -------
    >>> t = pd.DataFrame({"dimension": ["data"], "n_units": [3], "alpha_ordinal": [0.6],
    ...                   "alpha_ordinal_low": [0.5], "alpha_ordinal_high": [0.7], "band": ["unreliable"]})
    >>> agreement_display(t).loc[0, "alpha"]
    '0.60 [0.50, 0.70]'
    """
    keys = [c for c in ("question_type", "dimension") if c in t.columns]
    out = t[keys].copy()
    if "alpha" not in t.columns and "alpha_ordinal" in t.columns:  # tables from before scales
        t = t.assign(
            alpha=t["alpha_ordinal"],
            alpha_low=t.get("alpha_ordinal_low", np.nan),
            alpha_high=t.get("alpha_ordinal_high", np.nan),
        )
    if "alpha_metric" in t.columns:
        out["alpha metric"] = t["alpha_metric"].fillna("").astype(str)
    for label, c in _AGREEMENT_CI:
        if c in t.columns and t[c].notna().any():  # QWK/exact/adjacent: few-level scales only
            out[label] = _with_ci(
                t[c],
                t.get(f"{c}_low", pd.Series(np.nan, index=t.index)),
                t.get(f"{c}_high", pd.Series(np.nan, index=t.index)),
            )
    if "icc_form" in t.columns and "ICC" in out.columns:  # which ICC the design supports
        short = {"two-way": "two-way", "one-way": "one-way", "REML": "REML"}
        out.insert(
            out.columns.get_loc("ICC") + 1,
            "ICC form",
            t["icc_form"]
            .fillna("")
            .astype(str)
            .map(lambda f: next((v for k, v in short.items() if k in f), f)),
        )
    if "alpha_ordinal" in t.columns:  # the report's verdict rule (undetermined when unplaceable)
        n = t["n_pairable"] if "n_pairable" in t.columns else pd.Series(np.nan, index=t.index)
        lo = t.get("alpha_ordinal_low", pd.Series(np.nan, index=t.index))
        hi = t.get("alpha_ordinal_high", pd.Series(np.nan, index=t.index))
        out["verdict"] = [
            verdict(a, THRESHOLDS, l_, h_, None if pd.isna(k) else int(k))
            for a, l_, h_, k in zip(t["alpha_ordinal"], lo, hi, n, strict=True)
        ]
    elif "band" in t.columns:
        out["verdict"] = t["band"].astype(str)
    return out


def _normalise_agreement(t: pd.DataFrame | None) -> pd.DataFrame | None:
    if t is None:
        return None
    t = t.reset_index() if "dimension" not in t.columns else t.copy()
    for ours, cands in _AGREEMENT_COLUMNS.items():
        for c in cands:
            if c in t.columns and ours not in t.columns:
                t[ours] = t[c]
    return t


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------


def _num(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return None if not np.isfinite(f) else round(f, 6)

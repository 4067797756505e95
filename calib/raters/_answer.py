"""The answer to "which raters need attention, for what, and how much?" in one small table.

:func:`flag_summary` condenses the flagged rows of :func:`calib.raters.rater_effects` into one
row per rater x effect with the dimensions inside the row, so nothing has to be cut to fit a
screen. ``calib raters`` prints it first and ``calib report`` shows it; both use
:data:`DEFAULT_FLAG_MODEL` and :data:`calib.raters.THRESHOLDS`, so they flag the same raters.

Sign convention (every number here): positive = harsher, in score points (severity, subgroup
difference); drift is the change in severity per 30 days (positive = becoming harsher).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_FLAG_MODEL", "EFFECT_LABELS", "flag_summary", "flag_sentence"]

#: The rater model whose flags ``calib raters`` (default ``--model``) and ``calib report`` show:
#: the additive model, because its severities are in score points, the unit of every other
#: number in the report (the MFRM stays available with ``--model mfrm``).
DEFAULT_FLAG_MODEL = "additive"

#: Plain names for the effects.
EFFECT_LABELS = {
    "severity": "severity",
    "dimension_bias": "dimension-specific severity",
    "misfit": "inconsistent scoring (misfit)",
    "central_tendency": "central tendency",
    "halo": "halo",
    "drift": "drift over time",
    "subgroup": "subgroup difference",
}

_ORDER = list(EFFECT_LABELS)
_SUB = re.compile(r"^(?P<attr>[^=]+)=(?P<group>[^:]+):")


_RULE_WORDS = {
    "halo_excess": "excess inter-dimension correlation",
    "spread_ratio": "spread ratio (rater / colleagues)",
    "|measure|": "|severity|",
}


def _plain_rule(rule: str) -> str:
    for raw, plain in _RULE_WORDS.items():
        rule = rule.replace(raw, plain)
    return rule


def _pts(x: float) -> str:
    return f"{x:+.2f}"


def _dims(g: pd.DataFrame, fmt=None) -> str:
    d = g[g["dimension"] != "all"]
    if d.empty:
        return "all dimensions"
    parts = [
        f"{r.dimension} ({fmt(r)})" if fmt else str(r.dimension)
        for r in d.sort_values("dimension", kind="stable").itertuples()
    ]
    return ", ".join(parts)


def flag_summary(effects: pd.DataFrame, n_dimensions: int | None = None) -> pd.DataFrame:
    """One row per flagged rater x effect, dimensions inside the row.

    Parameters
    ----------
    effects : pandas.DataFrame
        Output of :func:`calib.raters.rater_effects` (flagged and unflagged rows).
    n_dimensions : int, optional
        Number of rubric dimensions (for "on 8 of 8 dimensions"); default: those in ``effects``.

    Returns
    -------
    pandas.DataFrame
        ``rater_id``, ``effect``, ``label`` (plain name), ``direction`` (harsh, lenient,
        becoming harsher..., or the subgroup and direction), ``size`` (headline number:
        score points for severity and subgroup, positive = harsher; points per 30 days for
        drift, positive = becoming harsher; the statistic itself otherwise), ``where`` (the
        dimensions, each with its own number), ``n_dimensions`` flagged, ``rule``.
        Ordered by rater, then effect.

    Example
    -------
    >>> e = pd.DataFrame({"rater_id": ["r1", "r1", "r1"], "dimension": ["all", "a", "b"],
    ...     "effect": "severity", "statistic": "severity_points", "value": [0.5, 0.6, 0.4],
    ...     "threshold": "|severity| >= 0.2", "flagged": True, "p_value": 0.0, "n": 40,
    ...     "note": "harsh"})
    >>> flag_summary(e)[["rater_id", "direction", "size", "where"]].values.tolist()
    [['r1', 'harsh', 0.5, 'a (+0.60), b (+0.40)']]
    """
    cols = ["rater_id", "effect", "label", "direction", "size", "where", "n_dimensions", "rule"]
    if effects is None or effects.empty or "flagged" not in effects.columns:
        return pd.DataFrame(columns=cols)
    f = effects[effects["flagged"].astype(bool)]
    n_dim = n_dimensions or max(
        1, effects.loc[effects["dimension"] != "all", "dimension"].nunique()
    )
    rows = []
    for (rater, effect), g in f.groupby(["rater_id", "effect"], sort=False):
        allrow = g[g["dimension"] == "all"]
        per = g[g["dimension"] != "all"]
        head = float(allrow["value"].iloc[0]) if len(allrow) else float(per["value"].mean())
        rule = _plain_rule(str(g["threshold"].iloc[0]))
        if effect in ("severity", "dimension_bias"):
            direction = "harsh" if head > 0 else "lenient"
            if allrow.empty:  # flagged on some dimensions only: say which
                direction += " on " + ", ".join(sorted(per["dimension"].astype(str)))
            where = _dims(g, lambda r: _pts(r.value))
            size = head
        elif effect == "drift":
            head = -head  # rater_effects: slope of the residual; + = becoming more lenient
            direction = "becoming harsher" if head > 0 else "becoming more lenient"
            where, size = "all dimensions", head
            rule = rule.replace("slope", "change in severity per 30 days")
        elif effect == "subgroup":
            parts = []
            for r in g.sort_values("dimension", kind="stable").itertuples():
                m = _SUB.match(str(r.note))
                grp = f"{m['attr']} = {m['group']}" if m else str(r.note)
                parts.append((grp, r.dimension, float(r.value)))
            groups = sorted({p[0] for p in parts})
            big = max(parts, key=lambda p: abs(p[2]))
            direction = f"{'harsher' if big[2] > 0 else 'more lenient'} on {', '.join(groups)}"
            where = ", ".join(
                f"{'all dimensions' if d == 'all' else d} ({grp}, {_pts(v)})" for grp, d, v in parts
            )
            size = big[2]
        else:  # misfit, central tendency, halo: the statistic itself (unitless)
            direction = (
                str(g["note"].iloc[0])
                if effect != "misfit"
                else ("noisy/unpredictable" if head > 1 else "too predictable")
            )
            where = _dims(g, lambda r: f"{r.value:.2f}") if len(per) else "all dimensions"
            size = head
            if effect == "central_tendency":
                direction = f"uses {head:.0%} of colleagues' spread"
        rows.append(
            {
                "rater_id": str(rater),
                "effect": str(effect),
                "label": EFFECT_LABELS.get(str(effect), str(effect).replace("_", " ")),
                "direction": direction,
                "size": round(float(size), 6) if np.isfinite(size) else np.nan,
                "where": where,
                "n_dimensions": int(per["dimension"].nunique()) if len(per) else n_dim,
                "rule": rule,
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    if out.empty:
        return out
    out["_e"] = out["effect"].map({e: i for i, e in enumerate(_ORDER)}).fillna(len(_ORDER))
    return (
        out.sort_values(["rater_id", "_e"], kind="stable").drop(columns="_e").reset_index(drop=True)
    )


#: A sentence names at most this many raters, then says how many more and where they are.
MAX_NAMED = 5


def flag_sentence(summary: pd.DataFrame, n_raters: int) -> str:
    """The answer in one line: who, which effect, how big.

    Example
    -------
    >>> s = pd.DataFrame({"rater_id": ["r1"], "effect": ["severity"], "label": ["severity"],
    ...     "direction": ["harsh"], "size": [0.5], "where": ["all dimensions"],
    ...     "n_dimensions": [8], "rule": [""]})
    >>> flag_sentence(s, 4)
    '1 of 4 raters flagged: r1 (harsh +0.50 points).'
    """
    if summary is None or summary.empty:
        return f"No rater effect is flagged among {n_raters} raters."
    parts = []
    # largest effect first, so that a long list (a crowd) names the raters that matter most
    biggest = summary.assign(_a=pd.to_numeric(summary["size"], errors="coerce").abs())
    order = biggest.groupby("rater_id")["_a"].max().fillna(0)
    ranked = sorted(order.index, key=lambda r: (-float(order[r]), str(r)))
    groups = dict(tuple(summary.groupby("rater_id", sort=True)))
    for rater, g in ((r, groups[r]) for r in ranked):
        bits = []
        for r in g.itertuples():
            if r.effect in ("severity", "dimension_bias"):
                bits.append(f"{r.direction} {r.size:+.2f} points")
            elif r.effect == "drift":
                bits.append(f"{r.direction} ({r.size:+.2f} points per 30 days)")
            elif r.effect == "subgroup":
                bits.append(f"{r.direction} ({r.size:+.2f} points)")
            else:
                bits.append(r.label)
        parts.append(f"{rater} ({'; '.join(bits)})")
    k = summary["rater_id"].nunique()
    if len(parts) > MAX_NAMED:  # never a paragraph of ids: the top few, a count, a pointer
        shown = ", ".join(parts[:MAX_NAMED])
        return (
            f"{k} of {n_raters} raters flagged, largest effects first: {shown} and "
            f"{len(parts) - MAX_NAMED} more (every flag is in the flag table)."
        )
    return f"{k} of {n_raters} raters flagged: " + ", ".join(parts) + "."

"""Rater-effect diagnostics: one tidy table of flags per rater (and per dimension).

Effects: severity/leniency, rater x dimension bias, misfit (inconsistency), central tendency
(restriction of range), halo, drift and differential severity by candidate subgroup.
Thresholds come from :data:`calib.raters.THRESHOLDS`; docs/raters.md explains each.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from calib.errors import CalibWarning, DataValidationError
from calib.raters._additive import AdditiveResult, fit_additive
from calib.raters._design import validate_ratings
from calib.raters._mfrm import MFRMResult, _holm, fit_mfrm
from calib.raters._thresholds import THRESHOLDS

__all__ = [
    "rater_effects",
    "EFFECT_COLUMNS",
    "central_tendency",
    "halo",
    "drift",
    "drift_windows",
    "subgroup_differences",
    "DRIFT_WINDOW",
]

EFFECT_COLUMNS = [
    "rater_id",
    "dimension",
    "effect",
    "statistic",
    "value",
    "threshold",
    "flagged",
    "p_value",
    "n",
    "note",
]
_EFFECT_ORDER = [
    "severity",
    "dimension_bias",
    "misfit",
    "central_tendency",
    "halo",
    "drift",
    "subgroup",
]


def _rows(**cols) -> pd.DataFrame:
    out = pd.DataFrame(cols)
    for c in EFFECT_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan if c in ("p_value", "n") else ""
    return out[EFFECT_COLUMNS]


# --------------------------------------------------------------------------- raw-score effects
def central_tendency(
    ratings: pd.DataFrame, scale: tuple[float, float] | None = None
) -> pd.DataFrame:
    """Spread and extreme-level use of each rater versus the other raters on the same cells.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table.
    scale : (min, max), optional
        Scale end points for extreme-level use (default: observed range).

    Returns
    -------
    pandas.DataFrame
        ``rater_id``, ``dimension`` (a dimension or ``"all"``), ``n``, ``spread_ratio`` (SD of
        the rater's rater-centred scores over the SD of the other raters' rater-centred scores
        on the same transcript x dimension cells; < 1 = compressed range) and ``extreme_ratio``
        (share of the rater's scores at the scale ends over the others' share on those cells).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"transcript_id": ["t1", "t1", "t2", "t2", "t3", "t3"],
    ...                    "rater_id": ["a", "b"] * 3, "dimension": "data",
    ...                    "score": [1, 2, 4, 3, 2, 2]})
    >>> central_tendency(df).query("dimension == 'all'").spread_ratio.round(2).tolist()
    [2.65, 0.38]
    """
    df = validate_ratings(ratings)
    lo, hi = (df.score.min(), df.score.max()) if scale is None else scale
    # Centre on each rater x dimension mean so severity does not masquerade as spread.
    df["dev"] = df.score - df.groupby(["rater_id", "dimension"]).score.transform("mean")
    df["ext"] = ((df.score <= lo) | (df.score >= hi)).astype(float)
    cell = pd.factorize(pd.MultiIndex.from_arrays([df.transcript_id, df.dimension]))[0]
    n_cell = np.bincount(cell)
    keep = n_cell[cell] >= 2
    df, cell = df[keep], cell[keep]
    cols = ["rater_id", "dimension", "n", "spread_ratio", "extreme_ratio"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    # "Others on the same cells" in O(N): for each of the rater's rows, the cell's totals minus
    # the rater's own totals in that cell (sums of 1, dev, dev^2 and ext), then summed per rater
    # (and per rater x dimension). A rater with k rows in a cell counts the others k times, as a
    # merge of the others' rows onto the rater's cells would.
    rater = pd.factorize(df.rater_id)[0]
    rc = pd.factorize(pd.MultiIndex.from_arrays([rater, cell]))[0]
    dev, ext = df.dev.to_numpy(float), df.ext.to_numpy(float)
    stats = np.column_stack([np.ones(len(df)), dev, dev * dev, ext])

    def totals(codes: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [np.bincount(codes, stats[:, j], minlength=codes.max() + 1) for j in range(4)]
        )

    oth = totals(cell)[cell] - totals(rc)[rc]  # per row: the others' sums on this row's cell
    work = pd.DataFrame(
        np.column_stack([stats, oth]),
        columns=["n", "s1", "s2", "e", "on", "os1", "os2", "oe"],
    )
    work["rater_id"], work["dimension"] = df.rater_id.to_numpy(), df.dimension.to_numpy()
    per_dim = work.groupby(["rater_id", "dimension"], sort=True).sum().reset_index()
    all_dims = work.drop(columns="dimension").groupby("rater_id", sort=True).sum().reset_index()
    all_dims["dimension"] = "all"
    agg = pd.concat([all_dims, per_dim], ignore_index=True)
    agg["_order"] = (agg["dimension"] != "all").astype(int)
    agg = agg.sort_values(["rater_id", "_order", "dimension"], kind="stable")

    def sd(n: pd.Series, s1: pd.Series, s2: pd.Series) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (s2 - s1 * s1 / n) / (n - 1)
        return np.sqrt(np.where(n > 1, np.maximum(var, 0.0), np.nan))

    sd_own, sd_oth = sd(agg.n, agg.s1, agg.s2), sd(agg.on, agg.os1, agg.os2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ext_own, ext_oth = agg.e / agg.n, (agg.oe / agg.on).to_numpy()
        spread = np.where(sd_oth > 0, sd_own / sd_oth, np.nan)
        extreme = np.where(ext_oth > 0, ext_own / ext_oth, np.nan)
    return pd.DataFrame(
        {
            "rater_id": agg.rater_id.to_numpy(),
            "dimension": agg.dimension.to_numpy(),
            "n": agg.n.to_numpy().astype(int),
            "spread_ratio": spread,
            "extreme_ratio": extreme,
        },
        columns=cols,
    )


def halo(ratings: pd.DataFrame) -> pd.DataFrame:
    """Mean inter-dimension correlation of each rater versus the others on the same transcripts.

    Returns
    -------
    pandas.DataFrame
        ``rater_id``, ``n`` (transcripts), ``rater_corr``, ``others_corr`` and ``halo_excess``
        = ``rater_corr - others_corr`` (positive = the rater's dimensions move together more
        than the consensus's do: halo).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)   # synthetic: rater h copies one impression everywhere
    >>> rows = []
    >>> for n in range(40):
    ...     g = rng.normal()
    ...     for i in range(3):
    ...         rows += [(n, "h", i, g), (n, "c", i, rng.normal())]
    >>> df = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])
    >>> bool(halo(df).set_index("rater_id").halo_excess["h"] > 0.5)
    True
    """
    df = validate_ratings(ratings)
    out = []

    def mean_offdiag(frame: pd.DataFrame) -> float:
        c = frame.corr().to_numpy()
        k = c.shape[0]
        if k < 2:
            return np.nan
        off = c[~np.eye(k, dtype=bool)]
        off = off[np.isfinite(off)]  # constant dimensions have no correlation
        return float(off.mean()) if off.size else np.nan

    for rid, own in df.groupby("rater_id", sort=True):
        wide = own.pivot(index="transcript_id", columns="dimension", values="score")
        oth = df[(df.rater_id != rid) & df.transcript_id.isin(wide.index)]
        wide_o = oth.pivot(index=["transcript_id", "rater_id"], columns="dimension", values="score")
        r_own, r_oth = mean_offdiag(wide), mean_offdiag(wide_o) if len(wide_o) > 2 else np.nan
        out.append(
            {
                "rater_id": rid,
                "n": len(wide),
                "rater_corr": r_own,
                "others_corr": r_oth,
                "halo_excess": r_own - r_oth,
            }
        )
    return pd.DataFrame(out)


#: When drift is estimated at all (docs/raters.md, "Drift"): a rater's ratings must span at
#: least ``min_span_days`` and fall into at least ``min_periods`` periods of ``window_days`` that
#: each hold ``min_period_ratings`` ratings. Below that a slope is an extrapolation of noise
#: (a 5-hour session says nothing about points per 30 days).
DRIFT_WINDOW = {"min_span_days": 14.0, "min_periods": 2, "min_period_ratings": 10}


def _drift_frame(residuals: pd.DataFrame, residual: str, need: list[str]) -> pd.DataFrame:
    missing = [c for c in need if c not in residuals.columns]
    if missing:
        raise DataValidationError(f"residuals: missing column(s) {missing}")
    r = residuals[need].dropna().copy()
    r["rated_at"] = pd.to_datetime(r["rated_at"], utc=True)
    return r


def _eligibility(
    r: pd.DataFrame, window_days: float, t0, window: dict
) -> tuple[pd.DataFrame, pd.Series]:
    """Period of every rating and, per rater, why drift is not estimated ("" = it is)."""
    days = (r.rated_at - t0).dt.total_seconds() / 86400.0
    r = r.assign(days=days, window=(days // window_days).astype(int))
    span = r.groupby("rater_id", sort=True).days.agg(lambda d: d.max() - d.min())
    per = r.groupby(["rater_id", "window"]).size()
    full = (per >= window["min_period_ratings"]).groupby(level=0).sum()
    full = full.reindex(span.index, fill_value=0)
    why = pd.Series("", index=span.index, dtype=object)
    short = span < window["min_span_days"]
    few = full < window["min_periods"]
    why[few] = [
        f"not estimated: {int(k)} period(s) of {window_days:g} days with >= "
        f"{window['min_period_ratings']} ratings (needs {window['min_periods']})"
        for k in full[few]
    ]
    why[short] = [
        f"not estimated: ratings span {s:.1f} days (needs {window['min_span_days']:g})"
        for s in span[short]
    ]
    return r, why


def drift(
    residuals: pd.DataFrame,
    residual: str = "residual",
    window_days: float = 30.0,
    *,
    window: dict | None = None,
) -> pd.DataFrame:
    """Trend of each rater's residuals over time (severity drift), with a trend test.

    Parameters
    ----------
    residuals : pandas.DataFrame
        ``rater_id``, ``transcript_id``, ``rated_at`` and the ``residual`` column (observed -
        expected, score points), e.g. a model's ``residuals`` table.
    residual : str
        Name of the residual column.
    window_days : float
        The slope's time unit and the period length of the eligibility rule.
    window : dict, optional
        Overrides of :data:`DRIFT_WINDOW` (``min_span_days``, ``min_periods``,
        ``min_period_ratings``). A rater outside it gets NaN and a ``note`` saying why.

    Returns
    -------
    pandas.DataFrame
        ``rater_id``, ``n`` (transcripts), ``span_days`` (first to last rating), ``slope``
        (score points per ``window_days``; positive = scores rising over time relative to the
        model = becoming more lenient), ``se``, ``p_value`` (OLS t-test on the rater's mean
        residual per transcript against time, so the dimensions of one transcript do not count
        as independent evidence), ``change`` (slope x span: the change over the observed span,
        never beyond it) and ``note``.

    Examples
    --------
    >>> import pandas as pd
    >>> days = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49]
    >>> res = pd.DataFrame({"rater_id": "a", "transcript_id": [f"t{d}" for d in days],
    ...     "rated_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(days, unit="D"),
    ...     "residual": [d / 300 for d in days]})
    >>> round(float(drift(res).slope[0]), 2)
    0.1
    >>> drift(res.iloc[:10]).note[0]
    'not estimated: ratings span 9.0 days (needs 14)'
    """
    win = {**DRIFT_WINDOW, **(window or {})}
    r = _drift_frame(residuals, residual, ["rater_id", "transcript_id", "rated_at", residual])
    cols = ["rater_id", "n", "span_days", "slope", "se", "p_value", "change", "note"]
    if r.empty:
        return pd.DataFrame(columns=cols)
    t0 = r.rated_at.min()
    r, why = _eligibility(r, window_days, t0, win)
    per_tr = (
        r.groupby(["rater_id", "transcript_id"], sort=True)
        .agg(days=("days", "mean"), res=(residual, "mean"))
        .reset_index()
    )
    out = []
    for rid, g in per_tr.groupby("rater_id", sort=True):
        span = float(g.days.max() - g.days.min())
        row = {"rater_id": rid, "n": len(g), "span_days": span, "note": why[rid]}
        if why[rid] or len(g) < 3 or g.days.nunique() < 2:
            out.append(row | {"slope": np.nan, "se": np.nan, "p_value": np.nan, "change": np.nan})
            continue
        lr = stats.linregress(g.days / window_days, g.res)
        out.append(
            row
            | {
                "slope": lr.slope,
                "se": lr.stderr,
                "p_value": lr.pvalue,
                "change": lr.slope * span / window_days,
            }
        )
    return pd.DataFrame(out)[cols]


def drift_windows(
    residuals: pd.DataFrame,
    residual: str = "residual",
    window_days: float = 30.0,
    *,
    window: dict | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Each rater's severity per period (score points) with a CI, where drift is estimable.

    Parameters
    ----------
    residuals : pandas.DataFrame
        ``rater_id``, ``rated_at`` and the ``residual`` column (observed - expected);
        with ``transcript_id`` the CI treats the ratings of one transcript as one cluster.
    residual : str
        Name of the residual column.
    window_days : float
        Period length; periods start at the earliest ``rated_at``.
    window : dict, optional
        Overrides of :data:`DRIFT_WINDOW`. Only raters that meet it are reported, and only
        their periods with at least ``min_period_ratings`` ratings.
    ci : float
        Confidence level of the per-period interval.

    Returns
    -------
    pandas.DataFrame
        ``rater_id``, ``window`` (0, 1, ...), ``start`` (UTC), ``n`` (ratings),
        ``n_transcripts``, ``severity_points`` = -mean residual (positive = harsher than the
        rater's model-implied scores in that period), ``se`` (SD of the per-transcript mean
        residuals / sqrt(transcripts)), ``ci_low``, ``ci_high`` (t interval with
        transcripts - 1 degrees of freedom). Nothing outside the observed periods.

    Examples
    --------
    >>> import pandas as pd
    >>> days = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49]
    >>> res = pd.DataFrame({"rater_id": "a", "transcript_id": [f"t{d}" for d in days],
    ...     "rated_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(days, unit="D"),
    ...     "residual": [0.2, 0.4] * 5 + [-0.2, -0.4] * 5})
    >>> drift_windows(res).severity_points.round(2).tolist()
    [-0.3, 0.3]
    """
    win = {**DRIFT_WINDOW, **(window or {})}
    has_t = "transcript_id" in residuals.columns
    need = ["rater_id", "rated_at", residual] + (["transcript_id"] if has_t else [])
    r = _drift_frame(residuals, residual, need)
    cols = [
        "rater_id",
        "window",
        "start",
        "n",
        "n_transcripts",
        "severity_points",
        "se",
        "ci_low",
        "ci_high",
    ]
    if r.empty:
        return pd.DataFrame(columns=cols)
    t0 = r.rated_at.min()
    r, why = _eligibility(r, window_days, t0, win)
    r = r[r.rater_id.map(why).eq("")]
    if not has_t:
        r = r.assign(transcript_id=np.arange(len(r)).astype(str))
    n = r.groupby(["rater_id", "window"]).size().rename("n")
    per_tr = r.groupby(["rater_id", "window", "transcript_id"])[residual].mean()
    g = per_tr.groupby(level=["rater_id", "window"]).agg(["size", "mean", "std"])
    out = g.join(n).reset_index()
    out = out[out["n"] >= win["min_period_ratings"]]
    se = out["std"] / np.sqrt(out["size"])
    with np.errstate(invalid="ignore"):
        q = stats.t.ppf(0.5 + ci / 2, np.maximum(out["size"] - 1, 1))
    sev = -out["mean"]
    return pd.DataFrame(
        {
            "rater_id": out.rater_id,
            "window": out.window,
            "start": t0 + pd.to_timedelta(out["window"] * window_days, unit="D"),
            "n": out["n"],
            "n_transcripts": out["size"],
            "severity_points": sev,
            "se": se,
            "ci_low": sev - q * se,
            "ci_high": sev + q * se,
        },
        columns=cols,
    ).reset_index(drop=True)


def _metadata_table(transcripts: pd.DataFrame, attributes: list[str] | None) -> pd.DataFrame:
    if "transcript_id" not in transcripts.columns:
        raise DataValidationError("transcripts: missing column 'transcript_id'")
    if "metadata" in transcripts.columns:
        meta = pd.DataFrame.from_records(
            [m if isinstance(m, Mapping) else {} for m in transcripts["metadata"]],
            index=transcripts.index,
        )
    else:
        meta = transcripts.drop(columns=["transcript_id"])
    meta.insert(0, "transcript_id", transcripts["transcript_id"].astype(str))
    if attributes is None:
        # Categorical attributes with a handful of groups; ids and free text are not subgroups.
        attributes = [
            c
            for c in meta.columns[1:]
            if meta[c].map(lambda v: isinstance(v, (str, bool, int))).all()
            and 2 <= meta[c].nunique() <= 10
        ]
    else:
        bad = [a for a in attributes if a not in meta.columns]
        if bad:
            raise DataValidationError(f"attributes: not found in transcript metadata: {bad}")
    return meta[["transcript_id", *attributes]]


def subgroup_differences(
    residuals: pd.DataFrame,
    transcripts: pd.DataFrame,
    *,
    residual: str = "residual",
    attributes: list[str] | None = None,
) -> pd.DataFrame:
    """Differential severity: each rater's mean residual in a subgroup versus their other candidates.

    Parameters
    ----------
    residuals : pandas.DataFrame
        ``rater_id``, ``transcript_id``, ``dimension`` and the ``residual`` column (observed -
        expected from a model that already includes the rater's severity).
    transcripts : pandas.DataFrame
        ``transcript_id`` and ``metadata`` dicts (or flat attribute columns).
    attributes : list of str, optional
        Metadata keys to test; default: every categorical key with 2-10 groups.

    Returns
    -------
    pandas.DataFrame
        ``rater_id``, ``dimension`` (or ``"all"``, using per-transcript mean residuals),
        ``attribute``, ``group``, ``n``, ``difference`` (score points; positive = the rater is
        harsher on this group than on their other candidates), ``se``, ``t``, ``df`` (Welch),
        ``p_value``.

    Examples
    --------
    >>> import pandas as pd
    >>> res = pd.DataFrame({"rater_id": "a", "transcript_id": list("pqrstu"), "dimension": "d",
    ...                     "residual": [-.5, -.4, -.6, .5, .4, .6]})
    >>> tr = pd.DataFrame({"transcript_id": list("pqrstu"),
    ...                    "metadata": [{"tier": "x"}] * 3 + [{"tier": "y"}] * 3})
    >>> subgroup_differences(res, tr).query("dimension == 'd' and group == 'x'").difference.round(1).tolist()
    [1.0]
    """
    meta = _metadata_table(transcripts, attributes)
    attrs = list(meta.columns[1:])
    base = (
        residuals[["rater_id", "transcript_id", "dimension", residual]]
        .rename(columns={residual: "res"})
        .dropna()
    )
    base = base.assign(transcript_id=base.transcript_id.astype(str))
    per_tr = base.groupby(["rater_id", "transcript_id"], as_index=False).res.mean()
    per_tr["dimension"] = "all"
    frames = []
    for attr in attrs:
        lab = meta.set_index("transcript_id")[attr].astype(str)
        for data in (base, per_tr):
            d = data.assign(group=data.transcript_id.map(lab)).dropna(subset=["group"])
            d = d[d.group != "nan"]
            keys = ["rater_id", "dimension"]
            d = d.assign(res2=d.res**2, one=1.0)
            cell = d.groupby([*keys, "group"])[["one", "res", "res2"]].sum()
            cell.columns = ["n", "s1", "s2"]
            tot = d.groupby(keys)[["one", "res", "res2"]].sum()
            tot.columns = ["N", "S1", "S2"]
            cell = cell.join(tot, on=keys)
            n1, n2 = cell.n, cell.N - cell.n
            m1, m2 = cell.s1 / n1, (cell.S1 - cell.s1) / n2
            v1 = (cell.s2 - n1 * m1**2) / (n1 - 1)
            v2 = (cell.S2 - cell.s2 - n2 * m2**2) / (n2 - 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                a, b = v1 / n1, v2 / n2
                se = np.sqrt(a + b)
                dfw = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
                diff = -(m1 - m2)  # lower residuals in the group = harsher on it
                t = diff / se
            frames.append(
                pd.DataFrame(
                    {
                        "rater_id": cell.index.get_level_values(0),
                        "dimension": cell.index.get_level_values(1),
                        "attribute": attr,
                        "group": cell.index.get_level_values(2),
                        "n": n1.to_numpy(),
                        "difference": diff.to_numpy(),
                        "se": se.to_numpy(),
                        "t": t.to_numpy(),
                        "df": dfw.to_numpy(),
                        "p_value": 2 * stats.t.sf(np.abs(t.to_numpy()), dfw.to_numpy()),
                    }
                )
            )
    if not frames:
        return pd.DataFrame(
            columns=[
                "rater_id",
                "dimension",
                "attribute",
                "group",
                "n",
                "difference",
                "se",
                "t",
                "df",
                "p_value",
            ]
        )
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- the flag table
def rater_effects(
    ratings: pd.DataFrame,
    *,
    model: Literal["mfrm", "additive"] = "mfrm",
    transcripts: pd.DataFrame | None = None,
    fit: MFRMResult | AdditiveResult | None = None,
    thresholds: Mapping[str, float] | None = None,
    attributes: list[str] | None = None,
    subgroup_tests: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every rater-effect diagnostic in one tidy table of flags.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table (``transcript_id``, ``rater_id``, ``dimension``, ``score``; with
        ``rated_at`` for drift).
    model : {"mfrm", "additive"}
        Severity in logits from :func:`fit_mfrm` or in score points from :func:`fit_additive`.
    transcripts : pandas.DataFrame, optional
        Transcripts table with ``metadata`` dicts, for differential severity by subgroup.
    fit : MFRMResult or AdditiveResult, optional
        A fit of ``ratings`` to reuse (must match ``model``).
    thresholds : dict, optional
        Overrides of :data:`calib.raters.THRESHOLDS`.
    attributes : list of str, optional
        Metadata keys for the subgroup analysis (default: every categorical key, 2-10 groups).
    subgroup_tests : pandas.DataFrame, optional
        A :func:`calib.raters.differential_rater_functioning` result for these ratings to reuse
        (the subgroup rows are taken from it instead of being recomputed).

    Returns
    -------
    pandas.DataFrame
        Columns ``rater_id``, ``dimension`` (a dimension id or ``"all"``), ``effect``
        (severity, dimension_bias, misfit, central_tendency, halo, drift, subgroup),
        ``statistic`` (which number ``value`` is), ``value``, ``threshold`` (the rule, as
        text), ``flagged`` (bool), ``p_value`` (Holm-adjusted where a test is involved),
        ``n`` (ratings or transcripts behind the value) and ``note``. Flagged rows first.

    Examples
    --------
    >>> from calib.simulate import simulate_dataset, SimulationConfig
    >>> ds = simulate_dataset(SimulationConfig(n_transcripts=120, seed=3))   # SYNTHETIC
    >>> flags = rater_effects(ds.ratings, transcripts=ds.transcripts)
    >>> "r01" in set(flags[flags.flagged & (flags.effect == "severity")].rater_id)
    True
    """
    th = {**THRESHOLDS, **(thresholds or {})}
    unknown = set(thresholds or {}) - set(THRESHOLDS)
    if unknown:
        raise DataValidationError(f"thresholds: unknown key(s) {sorted(unknown)}")
    if model not in ("mfrm", "additive"):
        raise DataValidationError(f"model: expected 'mfrm' or 'additive', got {model!r}")
    df = validate_ratings(ratings)
    alpha, min_n = th["alpha"], th["min_ratings"]
    parts = []
    if model == "mfrm":
        res = fit if fit is not None else fit_mfrm(df)
        if not isinstance(res, MFRMResult):
            raise DataValidationError("fit: expected an MFRMResult for model='mfrm'")
        ra = res.raters
        z = ra.measure / ra.se
        p = _holm(2 * stats.norm.sf(np.abs(z)))
        flag = (ra.measure.abs() >= th["severity_logits"]) & (p < alpha) & (ra.n >= min_n)
        parts.append(
            _rows(
                rater_id=ra.rater_id,
                dimension="all",
                effect="severity",
                statistic="measure_logits",
                value=ra.measure,
                threshold=f"|measure| >= {th['severity_logits']} logits and Holm p < {alpha}",
                flagged=flag,
                p_value=p,
                n=ra.n,
                note=np.where(ra.measure > 0, "harsh", "lenient"),
            )
        )
        b = res.bias("dimension")
        flag = (b.bias.abs() >= th["bias_logits"]) & (b.p_holm < alpha) & (b.n >= min_n)
        parts.append(
            _rows(
                rater_id=b.rater_id,
                dimension=b.dimension,
                effect="dimension_bias",
                statistic="bias_logits",
                value=b.bias,
                threshold=f"|bias| >= {th['bias_logits']} logits and Holm p < {alpha}",
                flagged=flag,
                p_value=b.p_holm,
                n=b.n,
                note=np.where(
                    b.bias > 0, "harsher on this dimension", "more lenient on this dimension"
                ),
            )
        )
        for stat in ("infit", "outfit"):
            v = ra[stat]
            flag = ((v < th["fit_low"]) | (v > th["fit_high"])) & (ra.n >= min_n)
            parts.append(
                _rows(
                    rater_id=ra.rater_id,
                    dimension="all",
                    effect="misfit",
                    statistic=f"{stat}_mnsq",
                    value=v,
                    threshold=f"outside {th['fit_low']}-{th['fit_high']}",
                    flagged=flag,
                    n=ra.n,
                    note=np.where(
                        v > 1,
                        "noisy/unpredictable (underfit)",
                        "too predictable (overfit: muted or halo)",
                    ),
                )
            )
        resid = res.residuals.assign(residual=res.residuals.score - res.residuals.expected)
        resid = resid[resid.used]
        # Per rater x dimension mean-squares: inconsistency confined to one dimension.
        cell = (
            resid.assign(y2=resid.residual**2, z2=resid.std_residual**2)
            .groupby(["rater_id", "dimension"], sort=True)
            .agg(n=("y2", "size"), y2=("y2", "sum"), w=("variance", "sum"), z2=("z2", "mean"))
        )
        cell = cell.reset_index()
        # A dimension that misfits for everyone points at the rubric, not at the rater.
        dim_fit = res.dimensions.set_index("dimension").infit
        bad_dim = cell.dimension.map(lambda d: not (th["fit_low"] <= dim_fit[d] <= th["fit_high"]))
        dim_note = [
            f"; dimension {d!r} misfits for all raters (infit {dim_fit[d]:.2f}): "
            "likely ambiguous rubric anchors"
            if b
            else ""
            for d, b in zip(cell.dimension, bad_dim)
        ]
        for stat, v in (("infit", cell.y2 / cell.w), ("outfit", cell.z2)):
            flag = ((v < th["fit_low"]) | (v > th["fit_high"])) & (cell.n >= min_n)
            base = np.where(
                v > 1, "noisy/unpredictable (underfit)", "too predictable (overfit: muted or halo)"
            )
            parts.append(
                _rows(
                    rater_id=cell.rater_id,
                    dimension=cell.dimension,
                    effect="misfit",
                    statistic=f"{stat}_mnsq",
                    value=v,
                    threshold=f"outside {th['fit_low']}-{th['fit_high']}",
                    flagged=flag,
                    n=cell.n,
                    note=[a + b for a, b in zip(base, dim_note)],
                )
            )
    else:
        res = fit if fit is not None else fit_additive(df)
        if not isinstance(res, AdditiveResult):
            raise DataValidationError("fit: expected an AdditiveResult for model='additive'")
        ra = res.raters
        p = ra.p_value.copy()
        for is_all in (True, False):  # Holm within overall and within per-dimension rows
            sel = (ra.dimension == "all") == is_all
            p[sel] = _holm(ra.p_value[sel].to_numpy())
        flag = (ra.severity.abs() >= th["severity_points"]) & (p < alpha) & (ra.n >= min_n)
        parts.append(
            _rows(
                rater_id=ra.rater_id,
                dimension=ra.dimension,
                effect="severity",
                statistic="severity_points",
                value=ra.severity,
                threshold=f"|severity| >= {th['severity_points']} points and Holm p < {alpha}",
                flagged=flag,
                p_value=p,
                n=ra.n,
                note=np.where(ra.severity > 0, "harsh", "lenient"),
            )
        )
        resid = res.residuals
        # Misfit in raw units: mean-square of residuals relative to the pooled residual variance.
        pooled = resid.groupby("dimension").residual.var()
        z2 = resid.residual**2 / resid.dimension.map(pooled)
        ms = z2.groupby(resid.rater_id).agg(["mean", "size"]).reset_index()
        flag = ((ms["mean"] < th["fit_low"]) | (ms["mean"] > th["fit_high"])) & (
            ms["size"] >= min_n
        )
        parts.append(
            _rows(
                rater_id=ms.rater_id,
                dimension="all",
                effect="misfit",
                statistic="residual_mnsq",
                value=ms["mean"],
                threshold=f"outside {th['fit_low']}-{th['fit_high']}",
                flagged=flag,
                n=ms["size"],
                note=np.where(
                    ms["mean"] > 1, "noisy/unpredictable", "too predictable (muted or halo)"
                ),
            )
        )

    ct = central_tendency(df)
    lim = np.where(
        ct.dimension == "all", th["spread_ratio_low"], th["spread_ratio_low_per_dimension"]
    )
    flag = (ct.spread_ratio < lim) & (ct.n >= min_n)
    parts.append(
        _rows(
            rater_id=ct.rater_id,
            dimension=ct.dimension,
            effect="central_tendency",
            statistic="spread_ratio",
            value=ct.spread_ratio,
            threshold=[f"spread_ratio < {v}" for v in lim],
            flagged=flag,
            n=ct.n,
            note=[f"extreme-level use ratio {e:.2f}" for e in ct.extreme_ratio],
        )
    )
    hl = halo(df)
    flag = (hl.halo_excess >= th["halo_excess"]) & (hl.n >= min_n)
    parts.append(
        _rows(
            rater_id=hl.rater_id,
            dimension="all",
            effect="halo",
            statistic="halo_excess_corr",
            value=hl.halo_excess,
            threshold=f"halo_excess >= {th['halo_excess']}",
            flagged=flag,
            n=hl.n,
            note=[
                f"mean inter-dimension r {a:.2f} vs others {b:.2f}"
                for a, b in zip(hl.rater_corr, hl.others_corr)
            ],
        )
    )
    if "rated_at" in df.columns and df["rated_at"].notna().any():
        rr = resid.copy()
        if "rated_at" not in rr.columns:
            rr["rated_at"] = df.loc[rr.index, "rated_at"]
        rr["rated_at"] = pd.to_datetime(rr["rated_at"], utc=True)
        dr = drift(rr)
        p = _holm(dr.p_value.to_numpy())
        flag = (dr.slope.abs() >= th["drift_points_per_30_days"]) & (p < alpha) & (dr.n >= min_n)
        parts.append(
            _rows(
                rater_id=dr.rater_id,
                dimension="all",
                effect="drift",
                statistic="slope_points_per_30_days",
                value=dr.slope,
                threshold=f"|slope| >= {th['drift_points_per_30_days']} and Holm p < {alpha}",
                flagged=flag,
                p_value=p,
                n=dr.n,
                note=np.where(
                    dr.note.ne(""),
                    dr.note,
                    [
                        ("becoming more lenient" if s > 0 else "becoming harsher")
                        + f"; {c:+.2f} points over the {d:.0f} days rated"
                        for s, c, d in zip(dr.slope, dr.change, dr.span_days)
                    ],
                ),
            )
        )
    if transcripts is not None:
        # differential rater functioning: a fixed-effects model with the interaction in it
        # (see calib.raters._fairness for why not the residuals of the fit above)
        from calib.raters._fairness import differential_rater_functioning

        drf = (
            subgroup_tests
            if subgroup_tests is not None
            else differential_rater_functioning(
                df, transcripts, attributes=attributes, thresholds=thresholds
            )
        )
        if len(drf):
            parts.append(
                _rows(
                    rater_id=drf.rater_id,
                    dimension=drf.dimension,
                    effect="subgroup",
                    statistic="difference_points",
                    value=drf.difference,
                    threshold=f"|difference| >= {th['subgroup_points']} points and "
                    f"Holm p < {th['subgroup_alpha']}",
                    flagged=drf.flagged,
                    p_value=drf.p_holm,
                    n=drf.n_group,
                    note=[
                        f"{a}={g}: "
                        + ("harsher" if d > 0 else "more lenient")
                        + " than on the rater's other candidates"
                        for a, g, d in zip(drf.attribute, drf.group, drf.difference, strict=True)
                    ],
                )
            )
    else:
        warnings.warn(
            "rater_effects: no transcripts given, subgroup differences skipped",
            CalibWarning,
            stacklevel=2,
        )
    out = pd.concat(parts, ignore_index=True)
    out["flagged"] = out["flagged"].fillna(False).astype(bool)
    out["_e"] = out.effect.map({e: i for i, e in enumerate(_EFFECT_ORDER)})
    out["_a"] = out.dimension != "all"
    out = out.sort_values(
        ["flagged", "_e", "rater_id", "_a", "dimension"],
        ascending=[False, True, True, True, True],
        kind="stable",
    )
    out = out.drop(columns=["_e", "_a"]).reset_index(drop=True)
    if transcripts is not None:
        # attributes the subgroup check could not test, and why (read by rater_tables' notes)
        out.attrs["subgroup_untested"] = {
            "time": dict(drf.attrs.get("untested_attributes") or {}),
            "level": dict(drf.attrs.get("level_confounded_attributes") or {}),
        }
    return out

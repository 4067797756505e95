"""Compare two calibration rounds or rubric versions (store A = before, store B = after).

Reliability per dimension comes from :func:`calib.agreement.agreement_table` run on each
store; rater severity from :func:`calib.raters.fit_additive`; rubric changes from
:func:`calib.rubric.diff_rubrics`. The only arithmetic here is the difference of the two
rounds' estimates and its noise band.

Notes
-----
"Larger than the noise": the two rounds are independent samples of transcripts, so the
standard error of ``alpha_B - alpha_A`` is ``sqrt(se_A^2 + se_B^2)`` with each ``se`` read
off its 95% bootstrap interval as ``(high - low) / (2 * 1.96)``; a change is flagged when
``|alpha_B - alpha_A| > 1.96 * se`` (a normal approximation to the bootstrap, adequate
when the intervals are roughly symmetric). The same rule is used for rater severity with
the model's standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.raters import DEFAULT_FLAG_MODEL, fit_additive, rater_effects
from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import find, run_analysis
from calib.report._common import ReportOptions, _agreement, _with_ci
from calib.report._inputs import ReportInputs
from calib.report._model import ReportResults, Section
from calib.report._scale import alpha_word, list_some, scale_view

__all__ = ["compare_inputs", "Z95"]

Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


def _se_from_ci(low: pd.Series, high: pd.Series) -> pd.Series:
    return (high - low) / (2 * Z95)


def _reliability(
    a: ReportInputs, b: ReportInputs, dims: list[str], opt: ReportOptions
) -> tuple[Section, pd.DataFrame]:
    s = Section("reliability", "Reliability per dimension, before and after")
    ra, rb = _agreement(a, opt), _agreement(b, opt)
    if not (ra.ok and rb.ok):
        s.not_computed("agreement in one of the stores", ra.reason or rb.reason)
        return s, pd.DataFrame()
    cols = ["dimension", "alpha", "alpha_low", "alpha_high"]
    t = ra.value[cols].merge(rb.value[cols], on="dimension", how="outer", suffixes=("_a", "_b"))
    t = (
        t.set_index("dimension")
        .reindex([d for d in dims if d in set(t["dimension"])])
        .reset_index()
    )
    t["change"] = t["alpha_b"] - t["alpha_a"]
    se = np.sqrt(
        _se_from_ci(t["alpha_low_a"], t["alpha_high_a"]) ** 2
        + _se_from_ci(t["alpha_low_b"], t["alpha_high_b"]) ** 2
    )
    t["change_low"], t["change_high"] = t["change"] - Z95 * se, t["change"] + Z95 * se
    t["beyond_noise"] = (t["change_low"] > 0) | (t["change_high"] < 0)
    s.tables["alpha"] = t
    s.show.append(
        (
            f"Krippendorff's alpha ({alpha_word(a.rubric)}) in A and B [95% CI], the change [95% interval] and whether it "
            "is larger than the noise",
            "alpha",
            20,
            _alpha_display,
        )
    )
    s.figures.append(
        plots.forest_plot(
            t.assign(flag=t["beyond_noise"]),
            label="dimension",
            estimate="change",
            low="change_low",
            high="change_high",
            highlight="flag",
            reference=0.0,
            xlabel="Change in alpha, B minus A (95% interval)",
            key="compare_alpha_change",
            title="Change in reliability per dimension (highlighted: larger than the noise)",
            alt=f"Forest plot of the change in Krippendorff's alpha ({alpha_word(a.rubric)}) from store A to store B per dimension; "
            + "; ".join(
                f"{r.dimension} {r.change:+.2f}{' (beyond noise)' if r.beyond_noise else ''}"
                for r in t.itertuples()
                if np.isfinite(r.change)
            ),
        )
    )
    up, down = t[t["beyond_noise"] & (t["change"] > 0)], t[t["beyond_noise"] & (t["change"] < 0)]
    s.takeaway = (
        f"Beyond the noise: {len(up)} dimension(s) improved ({', '.join(up['dimension']) or 'none'}), "
        f"{len(down)} got worse ({', '.join(down['dimension']) or 'none'})."
    )
    s.facts["alpha"] = {
        r.dimension: {
            "a": _r(r.alpha_a),
            "b": _r(r.alpha_b),
            "change": _r(r.change),
            "beyond_noise": bool(r.beyond_noise),
        }
        for r in t.itertuples()
    }
    return s, t


def _alpha_display(t: pd.DataFrame) -> pd.DataFrame:
    """Display view: estimates with intervals in one cell, the verdict move and the noise call."""
    from calib.report.recommend import verdict

    return pd.DataFrame(
        {
            "dimension": t["dimension"],
            "alpha A": _with_ci(t["alpha_a"], t["alpha_low_a"], t["alpha_high_a"]),
            "alpha B": _with_ci(t["alpha_b"], t["alpha_low_b"], t["alpha_high_b"]),
            "change": _with_ci(t["change"], t["change_low"], t["change_high"]).str.replace(
                r"^(\d)", r"+\1", regex=True
            ),
            "beyond the noise": t["beyond_noise"].map({True: "yes", False: "no (within noise)"}),
            "verdict A → B": t["alpha_a"].map(verdict) + " → " + t["alpha_b"].map(verdict),
        }
    )


def _scale(a: ReportInputs, b: ReportInputs, dims: list[str]) -> Section:
    s = Section("scale_use", "Scale use, before and after")
    # levels on a few-level scale; score bins on wide or continuous scales (see _scale.py)
    view = scale_view(a.rubric, dims)
    levels = view.levels
    da, db = (
        desc.score_distribution(
            a.ratings.assign(level=view.codes(a.ratings)), dims, levels, "level"
        ),
        desc.score_distribution(
            b.ratings.assign(level=view.codes(b.ratings)), dims, levels, "level"
        ),
    )
    if view.binned:
        ren = {str(int(c)): lab for c, lab in zip(levels, view.labels, strict=True)}
        da, db = da.rename(columns=ren), db.rename(columns=ren)
    lv = list(view.labels)
    diff = db[lv].to_numpy(float) - da[lv].to_numpy(float)
    t = pd.DataFrame(diff, columns=[f"change_{c}" for c in lv])
    t.insert(0, "dimension", da["dimension"].to_numpy())
    t["mean_a"], t["mean_b"] = da["mean"].to_numpy(), db["mean"].to_numpy()
    t["total_variation"] = 0.5 * np.nansum(
        np.abs(diff), axis=1
    )  # share of ratings that moved level
    s.tables["distribution_change"] = t
    hm = pd.DataFrame(
        100 * diff, index=da["dimension"].to_numpy(), columns=[f"level {c}" for c in lv]
    )
    s.figures.append(
        plots.heatmap(
            hm,
            key="compare_scale_use",
            title="Change in scale use: share of human ratings at each level, B minus A",
            alt="Heatmap of the change in percentage points of ratings at each level per dimension from A to B; "
            + "; ".join(
                f"{d} total variation {tv:.0%}"
                for d, tv in zip(t["dimension"], t["total_variation"])
            ),
            xlabel="Scale level",
            ylabel="Rubric dimension",
            fmt="{:+.0f}",
            cmap="PuOr",
            vmin=-20,
            vmax=20,
            cbar_label="percentage points",
        )
    )
    s.show.append(
        (
            "Change in the share of human ratings at each level (B minus A) and total variation distance",
            "distribution_change",
            20,
        )
    )
    biggest = t.sort_values("total_variation", ascending=False, kind="stable").iloc[0]
    s.takeaway = (
        f"Largest shift in scale use: {biggest['dimension']} "
        f"({biggest['total_variation']:.0%} of ratings moved level; mean {biggest['mean_a']:.2f} -> "
        f"{biggest['mean_b']:.2f})."
    )
    s.facts["total_variation"] = {r.dimension: _r(r.total_variation) for r in t.itertuples()}
    return s


#: Smallest change of each rater effect worth acting on (its unit), used with the CI: a change
#: is "practical" when at least this size AND its 95% interval excludes 0 (where the effect has
#: a standard error). Severity and drift use the flag thresholds of calib.raters (a change as
#: large as the flag rule itself); the unitless statistics use a fixed step (docs/report.md).
PRACTICAL_CHANGE = {
    "severity": 0.2,  # score points (THRESHOLDS["severity_points"])
    "misfit": 0.25,  # mean-square
    "central_tendency": 0.1,  # spread ratio
    "halo": 0.15,  # excess inter-dimension correlation (THRESHOLDS["halo_excess"])
    "drift": 0.1,  # points per 30 days (THRESHOLDS["drift_points_per_30_days"])
}
_UNITS = {
    "severity": "points, + = harsher",
    "misfit": "mean-square",
    "central_tendency": "spread ratio (1 = like colleagues)",
    "halo": "excess correlation",
    "drift": "change in severity per 30 days, + = becoming harsher",
}


def _effects(inp: ReportInputs) -> pd.DataFrame | None:
    human = inp.ratings[inp.ratings["rater_type"].eq("human")]
    out = run_analysis(rater_effects, human, model=DEFAULT_FLAG_MODEL, transcripts=None)
    return out.value if out.ok else None


def _raters(a: ReportInputs, b: ReportInputs) -> Section:
    s = Section("rater_effects", "Rater effects, before and after")
    fa = run_analysis(fit_additive, a.ratings[a.ratings["rater_type"].eq("human")])
    fb = run_analysis(fit_additive, b.ratings[b.ratings["rater_type"].eq("human")])
    if not (fa.ok and fb.ok):
        s.not_computed("rater severity", fa.reason or fb.reason)
        return s
    cols = ["rater_id", "severity", "se"]
    ta = fa.value.raters.query("dimension == 'all'")[cols]
    tb = fb.value.raters.query("dimension == 'all'")[cols]
    t = ta.merge(tb, on="rater_id", how="inner", suffixes=("_a", "_b")).sort_values(
        "rater_id", kind="stable"
    )
    t["change"] = t["severity_b"] - t["severity_a"]
    se = np.sqrt(t["se_a"] ** 2 + t["se_b"] ** 2)
    t["change_low"], t["change_high"] = t["change"] - Z95 * se, t["change"] + Z95 * se
    t["beyond_noise"] = (t["change_low"] > 0) | (t["change_high"] < 0)
    t["practical"] = t["beyond_noise"] & (t["change"].abs() >= PRACTICAL_CHANGE["severity"])
    t = t.reset_index(drop=True)
    s.tables["severity"] = t
    # every other effect: the headline ("all") value per rater in each round, the change, and
    # whether it is as large as the practical step; flagged before/after from calib.raters
    ea, eb = _effects(a), _effects(b)
    rows = []
    if ea is not None and eb is not None:
        key = ["rater_id", "effect", "statistic"]
        pa = ea[ea["dimension"].eq("all")].drop_duplicates(key)
        pb = eb[eb["dimension"].eq("all")].drop_duplicates(key)
        j = pa[[*key, "value", "flagged"]].merge(
            pb[[*key, "value", "flagged"]], on=key, suffixes=("_a", "_b")
        )
        for r in j.itertuples():
            eff = str(r.effect)
            va, vb = float(r.value_a), float(r.value_b)
            if eff == "drift":  # rater_effects' slope is + = more lenient; one sign: + = harsher
                va, vb = -va, -vb
            step = PRACTICAL_CHANGE.get(eff)
            if step is None:
                continue
            ch = vb - va
            if eff == "severity":
                m = t.set_index("rater_id")
                ok = bool(m.loc[r.rater_id, "practical"]) if r.rater_id in m.index else False
            else:
                ok = abs(ch) >= step
            rows.append(
                {
                    "rater_id": r.rater_id,
                    "effect": eff,
                    "statistic": r.statistic,
                    "before": va,
                    "after": vb,
                    "change": ch,
                    "practical_step": step,
                    "practical": ok,
                    "flagged_before": bool(r.flagged_a),
                    "flagged_after": bool(r.flagged_b),
                }
            )
    eff_t = pd.DataFrame(
        rows,
        columns=[
            "rater_id",
            "effect",
            "statistic",
            "before",
            "after",
            "change",
            "practical_step",
            "practical",
            "flagged_before",
            "flagged_after",
        ],
    )
    s.tables["effects"] = eff_t
    if len(t):
        s.figures.append(
            plots.forest_plot(
                t.assign(flag=t["practical"]),
                label="rater_id",
                estimate="change",
                low="change_low",
                high="change_high",
                highlight="flag",
                reference=0.0,
                key="compare_severity_change",
                xlabel="Change in severity, B minus A (score points; positive = became harsher), "
                "95% interval; vermillion = a practical change (>= 0.2 points, CI excludes 0)",
                title="Did any rater become harsher or more lenient between the rounds?",
                alt="Forest plot of each rater's severity change from A to B (positive = became "
                "harsher) with 95% intervals; "
                + "; ".join(
                    f"{r.rater_id} {r.severity_a:+.2f} -> {r.severity_b:+.2f}"
                    for r in t.itertuples()
                ),
            )
        )
    if len(eff_t):
        s.show.append(
            (
                "Every rater effect before (A) and after (B): a change counts when it is at least "
                "the practical step (severity 0.2 points with a 95% interval excluding 0; misfit "
                "0.25; central tendency 0.1; halo 0.15; drift 0.1 points per 30 days)",
                "effects",
                None,
                _effects_display,
            )
        )
    s.show.append(
        (
            "Severity (score points, positive = harsher) of raters present in both stores, "
            "with the change and its 95% interval",
            "severity",
            None,
            lambda x: pd.DataFrame(
                {
                    "rater": x["rater_id"],
                    "severity A": x["severity_a"].map(lambda v: f"{v:+.2f}"),
                    "severity B": x["severity_b"].map(lambda v: f"{v:+.2f}"),
                    "change [95% CI]": [
                        f"{c:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                        for c, lo, hi in zip(
                            x["change"], x["change_low"], x["change_high"], strict=True
                        )
                    ],
                    "practical change": x["practical"].map({True: "yes", False: "no"}),
                }
            ),
        )
    )
    moved = eff_t[eff_t["practical"]]
    s.takeaway = (
        f"{len(t)} rater(s) in both rounds; "
        + (
            f"{len(moved)} practical change(s): "
            + list_some(
                [
                    f"{r.rater_id} {r.effect.replace('_', ' ')} {r.before:+.2f} -> {r.after:+.2f}"
                    for r in moved.itertuples()
                ],
                noun="changes",
                where="the rater effects table",
            )
            if len(moved)
            else "no rater effect changed by a practical amount"
        )
        + "."
        if len(t)
        else "No rater appears in both stores."
    )
    s.facts["severity_change"] = {
        r.rater_id: {
            "a": _r(r.severity_a),
            "b": _r(r.severity_b),
            "change": _r(r.change),
            "beyond_noise": bool(r.beyond_noise),
            "practical": bool(r.practical),
        }
        for r in t.itertuples()
    }
    s.facts["effects"] = [
        {k: (_r(v) if isinstance(v, float) else v) for k, v in r.items()}
        for r in eff_t.to_dict("records")
    ]
    return s


def _effects_display(t: pd.DataFrame) -> pd.DataFrame:
    neutral = t["effect"].map({"misfit": 1.0, "central_tendency": 1.0}).fillna(0.0)
    closer = (t["after"] - neutral).abs() < (t["before"] - neutral).abs()
    verdict = np.where(
        t["practical"],
        np.where(
            closer, "practical change, toward colleagues", "practical change, away from colleagues"
        ),
        "no practical change",
    )
    return pd.DataFrame(
        {
            "rater": t["rater_id"],
            "effect": t["effect"].str.replace("_", " ") + " (" + t["effect"].map(_UNITS) + ")",
            "A": t["before"].map(lambda v: f"{v:+.2f}"),
            "B": t["after"].map(lambda v: f"{v:+.2f}"),
            "change": t["change"].map(lambda v: f"{v:+.2f}"),
            "reading": verdict,
            "flagged A → B": t["flagged_before"].map({True: "yes", False: "no"})
            + " → "
            + t["flagged_after"].map({True: "yes", False: "no"}),
        }
    )


def _rubric(a: ReportInputs, b: ReportInputs, alpha: pd.DataFrame) -> Section:
    s = Section("rubric_changes", "Rubric changes and their effect")
    diff_fn = find("calib.rubric", "diff_rubrics")
    if diff_fn is None:
        s.not_computed("rubric diff", "calib.rubric.diff_rubrics is not available")
        return s
    d = diff_fn(a.rubric, b.rubric)
    if d.empty:
        s.takeaway = (
            "Both stores use the same rubric text; changes above come from raters or candidates."
        )
        s.facts["changes"] = 0
        return s
    d = d.reset_index(drop=True)
    s.tables["diff"] = d
    s.show.append(("Every change between the two rubric versions", "diff", 40))
    s.facts["changes"] = int(len(d))
    if not alpha.empty:
        per = (
            d[d["dimension"].notna()]
            .groupby("dimension")["change"]
            .agg(lambda x: ", ".join(sorted(set(x))))
            .rename("changes")
            .reset_index()
        )
        j = per.merge(
            alpha[["dimension", "alpha_a", "alpha_b", "change", "beyond_noise"]],
            on="dimension",
            how="left",
        )
        # a reworded anchor is credited only with what it moved beyond the dimensions that were
        # not reworded (difference in differences): rounds differ in raters and candidates too
        changed = set(per["dimension"])
        un = alpha[~alpha["dimension"].isin(changed) & alpha["change"].notna()]
        se_d = (alpha["change_high"] - alpha["change_low"]) / (2 * Z95)
        alpha = alpha.assign(se_change=se_d)
        un = alpha.loc[un.index]
        if len(un):
            base = float(un["change"].mean())
            base_se = float(np.sqrt((un["se_change"] ** 2).sum()) / len(un))
            jj = j.merge(alpha[["dimension", "se_change"]], on="dimension", how="left")
            jj["did"] = jj["change"] - base
            did_se = np.sqrt(jj["se_change"] ** 2 + base_se**2)
            jj["did_low"], jj["did_high"] = jj["did"] - Z95 * did_se, jj["did"] + Z95 * did_se
            jj["did_beyond_noise"] = (jj["did_low"] > 0) | (jj["did_high"] < 0)
            j = jj.drop(columns=["se_change"])
            s.facts["unchanged_dimensions_change"] = {
                "mean": _r(base),
                "ci": [_r(base - Z95 * base_se), _r(base + Z95 * base_se)],
                "dimensions": sorted(un["dimension"]),
            }
        else:
            j = j.assign(did=np.nan, did_low=np.nan, did_high=np.nan, did_beyond_noise=False)
            s.notes.append(
                "Every dimension was reworded: there is no unchanged dimension to separate the "
                "rewording's effect from other differences between the rounds."
            )
        s.tables["effect"] = j
        s.show.insert(
            0,
            (
                "Reworded dimensions: the change in alpha, and its effect net of the unchanged "
                "dimensions' mean change (difference in differences, 95% interval)",
                "effect",
                None,
                _did_display,
            ),
        )
        moved = j[j["did_beyond_noise"].fillna(False).astype(bool)]
        base_txt = (
            f"the unchanged dimensions moved {s.facts['unchanged_dimensions_change']['mean']:+.2f} "
            "on average"
            if "unchanged_dimensions_change" in s.facts
            else "no unchanged dimension to compare with"
        )
        s.takeaway = (
            f"{len(per)} dimension(s) reworded; {base_txt}; beyond that, agreement moved on "
            + (
                ", ".join(
                    f"{r.dimension} ({r.did:+.2f} [{r.did_low:+.2f}, {r.did_high:+.2f}])"
                    for r in moved.itertuples()
                )
                or "none"
            )
            + "."
        )
        s.facts["reworded_effect"] = {
            r.dimension: {
                "changes": r.changes,
                "alpha_change": _r(r.change),
                "difference_in_differences": _r(r.did),
                "did_ci": [_r(r.did_low), _r(r.did_high)],
                "beyond_noise": bool(r.did_beyond_noise),
            }
            for r in j.itertuples()
        }
    return s


def _did_display(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension": t["dimension"],
            "what changed": t["changes"],
            "alpha A → B": [
                "–" if pd.isna(a) else f"{a:.2f} → {b:.2f}"
                for a, b in zip(t["alpha_a"], t["alpha_b"], strict=True)
            ],
            "change": t["change"].map(lambda v: "–" if pd.isna(v) else f"{v:+.2f}"),
            "net of unchanged dimensions [95% CI]": [
                "–" if pd.isna(d) else f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                for d, lo, hi in zip(t["did"], t["did_low"], t["did_high"], strict=True)
            ],
        }
    )


def compare_inputs(
    a: ReportInputs, b: ReportInputs, options: ReportOptions | None = None
) -> ReportResults:
    """Compare store A (before) with store B (after).

    Parameters
    ----------
    a, b : ReportInputs
    options : ReportOptions, optional

    Returns
    -------
    ReportResults
        Sections ``reliability``, ``scale_use``, ``rater_effects``, ``rubric_changes``.

    Example
    -------
    >>> from calib.report import load_inputs  # doctest: +SKIP
    >>> res = compare_inputs(load_inputs("round1/store"), load_inputs("round2/store"))  # doctest: +SKIP
    >>> res.section("reliability").facts["alpha"]["tradeoffs"]["beyond_noise"]  # doctest: +SKIP
    True
    """
    opt = options or ReportOptions()
    dims = [d for d in b.rubric.dimension_ids if d in set(a.rubric.dimension_ids)]
    rel, alpha = _reliability(a, b, dims, opt)
    sections = [rel, _scale(a, b, dims), _raters(a, b), _rubric(a, b, alpha)]
    meta = {
        "calib_version": __import__("calib").__version__,
        "kind": "comparison",
        "rubric": {
            "id": b.rubric.id,
            "version": b.rubric.version,
            "title": b.rubric.title,
            "content_hash": b.rubric.content_hash,
        },
        "rubric_a": {
            "id": a.rubric.id,
            "version": a.rubric.version,
            "content_hash": a.rubric.content_hash,
        },
        "store_a": a.store.as_posix() if a.store else None,
        "store_b": b.store.as_posix() if b.store else None,
        "synthetic": a.synthetic or b.synthetic,
        "dimensions": dims,
        "options": opt.to_dict(),
    }
    return ReportResults(
        meta=meta,
        sections=sections,
        recommendations=[],
        headline=[s.takeaway for s in sections[:3]],
    )


def _r(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)

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

from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import call_analysis, find
from calib.report._common import ReportOptions, _agreement, _with_ci
from calib.report._inputs import ReportInputs
from calib.report._model import ReportResults, Section
from calib.report._scale import alpha_word, list_some

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
    levels = np.asarray(a.rubric.scale.values)
    da, db = (
        desc.score_distribution(a.ratings, dims, levels),
        desc.score_distribution(b.ratings, dims, levels),
    )
    lv = [str(int(x)) for x in levels]
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


def _raters(a: ReportInputs, b: ReportInputs) -> Section:
    s = Section("rater_effects", "Rater severity, before and after")
    fa = call_analysis(
        "calib.raters", ("fit_additive",), a.ratings[a.ratings["rater_type"].eq("human")]
    )
    fb = call_analysis(
        "calib.raters", ("fit_additive",), b.ratings[b.ratings["rater_type"].eq("human")]
    )
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
    t = t.reset_index(drop=True)
    s.tables["severity"] = t
    if len(t):
        s.figures.append(
            plots.forest_plot(
                t,
                label="rater_id",
                estimate="change",
                low="change_low",
                high="change_high",
                highlight="beyond_noise",
                reference=0.0,
                key="compare_severity_change",
                xlabel="Change in severity, B minus A (score points; negative = more lenient), 95% interval",
                title="Rater severity change between the rounds (highlighted: larger than the noise)",
                alt="Forest plot of each rater's severity change from A to B with 95% intervals; "
                + "; ".join(
                    f"{r.rater_id} {r.severity_a:+.2f} -> {r.severity_b:+.2f}"
                    for r in t.itertuples()
                ),
            )
        )
    s.show.append(
        ("Severity (score points, + = harsh) of raters present in both stores", "severity", 40)
    )
    toward = t[t["beyond_noise"] & (t["severity_b"].abs() < t["severity_a"].abs())]
    s.takeaway = (
        f"{len(t)} rater(s) in both rounds; {int(t['beyond_noise'].sum())} changed severity beyond the noise"
        f", {len(toward)} of them toward the group ({list_some(toward['rater_id'], where='the severity table') or 'none'})."
        if len(t)
        else "No rater appears in both stores."
    )
    s.facts["severity_change"] = {
        r.rater_id: {
            "a": _r(r.severity_a),
            "b": _r(r.severity_b),
            "change": _r(r.change),
            "beyond_noise": bool(r.beyond_noise),
        }
        for r in t.itertuples()
    }
    return s


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
        s.tables["effect"] = j
        s.show.insert(
            0, ("Dimensions whose rubric text changed, with the change in alpha", "effect", 20)
        )
        moved = j[j["beyond_noise"].fillna(False).astype(bool)]
        s.takeaway = (
            f"{len(per)} dimension(s) reworded; agreement moved beyond the noise on "
            + (", ".join(f"{r.dimension} ({r.change:+.2f})" for r in moved.itertuples()) or "none")
            + "."
        )
        s.facts["reworded_effect"] = {
            r.dimension: {
                "changes": r.changes,
                "alpha_change": _r(r.change),
                "beyond_noise": bool(r.beyond_noise) if r.beyond_noise == r.beyond_noise else None,
            }
            for r in j.itertuples()
        }
    return s


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

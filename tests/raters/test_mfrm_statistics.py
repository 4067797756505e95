"""MFRM statistics: fit mean-squares, separation, fair averages, bias analysis (SYNTHETIC data
drawn from the model itself, so the expected values of the statistics are known)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calib.raters import fit_mfrm, separation_stats


def test_fit_statistics_match_their_definitions_and_are_near_one_under_the_model(rasch_data):
    """Wright & Masters (1982, ch. 5): outfit = mean(z^2), infit = sum(y^2)/sum(W). When the
    data follow the model (drawn from the MFRM here) their expectation is 1 less the share of
    degrees of freedom the estimated transcript measures use up, about 1 - 1/L with L ratings
    per transcript (a known property of JMLE fit statistics, also in FACETS)."""
    df = rasch_data(n_t=400, n_r=6, n_d=4, per_t=3, seed=12)
    res = fit_mfrm(df)
    r = res.residuals[res.residuals.used]
    y = r.score - r.expected
    by = r.rater_id
    outfit = (y**2 / r.variance).groupby(by).mean()
    infit = (y**2).groupby(by).sum() / r.variance.groupby(by).sum()
    tab = res.raters.set_index("rater_id")
    np.testing.assert_allclose(tab.outfit, outfit[tab.index], rtol=1e-12)
    np.testing.assert_allclose(tab.infit, infit[tab.index], rtol=1e-12)
    L = 3 * 4
    assert tab.infit.mean() == pytest.approx(1 - 1 / L, abs=0.04)
    assert tab.outfit.mean() == pytest.approx(1 - 1 / L, abs=0.05)
    assert tab.infit.between(0.8, 1.1).all() and tab.outfit.between(0.75, 1.15).all()
    z = res.transcripts.infit_zstd.dropna()
    assert abs(z.mean()) < 0.5 and 0.6 < z.std() < 1.3  # ZSTD roughly unit normal


def test_random_rater_underfits_and_parameters_are_recovered(rasch_data):
    df = rasch_data(n_t=300, n_r=5, n_d=4, per_t=3, seed=4, severities=[-1.0, -0.5, 0.0, 0.5, 1.0])
    rng = np.random.default_rng(0)
    noisy = df.rater_id == "r2"
    df.loc[noisy, "score"] = rng.integers(1, 5, noisy.sum()).astype(float)
    res = fit_mfrm(df).raters.set_index("rater_id")
    assert res.infit["r2"] > 1.5 and res.outfit["r2"] > 1.5
    others = res.drop("r2")
    # The consistent raters look *more* predictable than the model once a random rater shares
    # their transcripts (the transcript measures absorb part of the noise): all below 1.
    assert others.infit.max() < 1.0 and others.outfit.max() < 1.0
    assert np.corrcoef(others.measure, [-1.0, -0.5, 0.5, 1.0])[0, 1] > 0.98


def test_partial_credit_recovers_dimension_thresholds(rasch_data):
    df = rasch_data(n_t=600, n_r=4, n_d=3, per_t=3, seed=6, partial=True)
    res = fit_mfrm(df, "partial_credit")
    thr = res.thresholds.pivot(index="dimension", columns="category", values="threshold")
    assert (np.diff(thr.to_numpy(), axis=1) > 0).all()  # ordered, as generated
    assert thr.shape == (3, 3)
    np.testing.assert_allclose(thr.mean(axis=1), 0, atol=1e-10)  # identification


def test_separation_statistics_definitions():
    """Wright & Masters (1982): G = true_sd / rmse, strata = (4G+1)/3, R = G^2 / (1 + G^2)."""
    rng = np.random.default_rng(3)
    measure, se = rng.normal(0, 1, 50), np.full(50, 0.4)
    s = separation_stats(measure, se)
    g = s["separation"]
    assert s["strata"] == pytest.approx((4 * g + 1) / 3)
    assert s["reliability"] == pytest.approx(g**2 / (1 + g**2))
    assert s["rmse"] == pytest.approx(0.4)
    assert np.isnan(separation_stats(measure[:1], se[:1])["separation"])


def test_fair_average_is_the_expected_score_from_an_average_rater(rasch_data):
    df = rasch_data(n_t=120, n_r=4, n_d=3, per_t=2, seed=9)
    res = fit_mfrm(df)
    tr = res.transcripts
    np.testing.assert_allclose(
        tr.fair_average, res.expected_score(tr.measure.to_numpy()), rtol=1e-12
    )
    # Monotone in the measure and inside the scale.
    order = np.argsort(tr.measure.to_numpy())
    assert np.all(np.diff(tr.fair_average.to_numpy()[order]) >= -1e-12)
    assert tr.fair_average.between(1, 4).all()
    # A harsh rater's raw scores are below the fair averages of the transcripts they rated.
    harsh = res.raters.sort_values("measure").rater_id.iloc[-1]
    r = res.residuals[res.residuals.rater_id == harsh]
    fair = tr.set_index("transcript_id").fair_average
    assert (r.score - r.transcript_id.map(fair)).mean() < 0


def test_bias_analysis_finds_a_planted_rater_by_dimension_interaction(rasch_data):
    df = rasch_data(n_t=500, n_r=4, n_d=4, per_t=2, seed=15)
    # Plant: rater r1 scores dimension d0 one category lower whenever it can (harsher).
    sel = (df.rater_id == "r1") & (df.dimension == "d0") & (df.score > 1)
    df.loc[sel, "score"] -= 1
    b = fit_mfrm(df).bias("dimension").set_index(["rater_id", "dimension"])
    assert b.loc[("r1", "d0"), "bias"] > 0.5 and b.loc[("r1", "d0"), "p_holm"] < 1e-6
    others = b.drop(index=("r1", "d0"))
    sig = others[others.p_holm < 0.05]
    # Main effects absorb part of a large interaction, so only compensating cells may show:
    # the same rater's other dimensions or the other raters on d0, with the opposite sign.
    idx = sig.index.to_frame(index=False)
    assert ((idx.rater_id == "r1") | (idx.dimension == "d0")).all()
    assert (sig.bias < 0).all()
    assert (
        others[
            (others.index.get_level_values(0) != "r1") & (others.index.get_level_values(1) != "d0")
        ].p_holm
        > 0.05
    ).all()


def test_bias_by_subgroup_series(rasch_data):
    df = rasch_data(n_t=400, n_r=3, n_d=3, per_t=2, seed=2)
    ids = sorted(df.transcript_id.unique())
    group = pd.Series(np.where(np.arange(len(ids)) % 2 == 0, "a", "b"), index=ids, name="tier")
    sel = (df.rater_id == "r0") & df.transcript_id.map(group).eq("a") & (df.score > 1)
    df.loc[sel, "score"] -= 1  # SYNTHETIC differential severity against group a
    b = fit_mfrm(df).bias(group).set_index(["rater_id", "tier"])
    assert b.loc[("r0", "a"), "bias"] > 0.3 and b.loc[("r0", "a"), "t"] > 4
    assert b.loc[("r0", "b"), "bias"] < 0


def test_jmle_bias_correction_removes_the_scale_inflation(rasch_data):
    """JMLE inflates the spread of item-side measures by about L/(L-1) with L ratings per
    transcript (Wright & Douglas 1977); the correction should bring the slope of estimated on
    true severities back to ~1. Sparse design: 2 raters x 3 dimensions = 6 ratings each."""
    true = np.linspace(-1, 1, 6)
    slopes = {True: [], False: []}
    for seed in range(2):
        df = rasch_data(n_t=1500, n_r=6, n_d=3, per_t=2, seed=seed, severities=true)
        for corrected in (True, False):
            est = fit_mfrm(df, bias_correction=corrected).raters.measure.to_numpy()
            slopes[corrected].append(np.polyfit(true, est, 1)[0])
    assert np.mean(slopes[False]) > 1.1
    assert np.mean(slopes[True]) == pytest.approx(1.0, abs=0.05)

"""G-theory: published G-study values (Brennan 2001) and independent implementations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm

from calib.errors import DataValidationError
from calib.raters import g_study, reliability_plan


def test_brennan_synthetic_data_set_4_p_x_r_within_t(brennan):
    """Brennan (2001) *Generalizability Theory*, Synthetic Data Set No. 4 (Table 3.2, p. 73),
    p x (r:t) design. G-study variance components as published by Brennan for this design
    (ch. 3: sigma2(p)=.4731, sigma2(t)=.3252, sigma2(r:t)=.6475, sigma2(pt)=.5596,
    sigma2(pr:t)=2.3802) and the D-study for n't=3, n'r=4 (ch. 4, ~p. 116 per the refdata
    README: E rho^2 = .55, Phi = .46)."""
    g = g_study(
        brennan, object="Person", facets=["Rater", "Task"], nested={"Rater": "Task"}, score="Score"
    )
    comp = g.components.set_index("source").variance
    published = {
        "Person": 0.4731,
        "Task": 0.3252,
        "Rater:Task": 0.6475,
        "Person x Task": 0.5596,
        "Person x Rater:Task,e": 2.3802,
    }
    for source, value in published.items():
        assert comp[source] == pytest.approx(value, abs=1.5e-4), source
    d = g.d_study({"Rater": 4, "Task": 3}).iloc[0]
    assert d.G == pytest.approx(0.55, abs=0.005)
    assert d.Phi == pytest.approx(0.46, abs=0.005)
    # The D-study error variances follow Brennan's rules: delta = pt/n't + pr:t/(n'r n't).
    assert d.rel_error_var == pytest.approx(
        comp["Person x Task"] / 3 + comp["Person x Rater:Task,e"] / 12, rel=1e-12
    )


def _balanced_pxr(seed=0, n_p=30, n_r=4):
    rng = np.random.default_rng(seed)  # SYNTHETIC persons x raters scores
    p, r = np.meshgrid(np.arange(n_p), np.arange(n_r), indexing="ij")
    y = rng.normal(0, 1.0, n_p)[p] + rng.normal(0, 0.6, n_r)[r] + rng.normal(0, 0.7, p.shape)
    return pd.DataFrame({"p": p.ravel(), "r": r.ravel(), "y": y.ravel()})


def test_balanced_person_by_rater_matches_pingouin_icc():
    """Reference: pingouin.intraclass_corr (Shrout & Fleiss 1979; McGraw & Wong 1996).
    For a balanced p x r design Phi(n'r) = ICC(2,k) (absolute) and G(n'r) = ICC(3,k)
    (consistency) with ANOVA variance components, which REML equals when they are >= 0."""
    df = _balanced_pxr()
    g = g_study(df, object="p", facets=["r"], score="y")
    icc = pg.intraclass_corr(df, targets="p", raters="r", ratings="y").set_index("Type").ICC
    one, four = g.d_study({"r": 1}).iloc[0], g.d_study({"r": 4}).iloc[0]
    assert one.Phi == pytest.approx(icc["ICC(A,1)"], abs=1e-5)
    assert one.G == pytest.approx(icc["ICC(C,1)"], abs=1e-5)
    assert four.Phi == pytest.approx(icc["ICC(A,k)"], abs=1e-5)
    assert four.G == pytest.approx(icc["ICC(C,k)"], abs=1e-5)


def test_unbalanced_crossed_design_matches_statsmodels_reml():
    """Reference: statsmodels MixedLM (REML) with crossed variance components in one group."""
    df = _balanced_pxr(seed=4, n_p=25, n_r=5)
    df = df.sample(frac=0.75, random_state=1).sort_index()  # SYNTHETIC, incomplete design
    g = g_study(df, object="p", facets=["r"], score="y")
    md = sm.MixedLM.from_formula(
        "y ~ 1",
        groups=np.ones(len(df)),
        re_formula="0",
        vc_formula={"p": "0 + C(p)", "r": "0 + C(r)"},
        data=df,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = md.fit(reml=True, method="lbfgs")
    ref = dict(zip(md.exog_vc.names, fit.vcomp))
    comp = g.components.set_index("source").variance
    assert comp["p"] == pytest.approx(ref["p"], rel=2e-3)
    assert comp["r"] == pytest.approx(ref["r"], rel=2e-3)
    assert comp["p x r,e"] == pytest.approx(fit.scale, rel=2e-3)


def test_d_study_monotone_and_n_needed():
    g = g_study(_balanced_pxr(seed=2), object="p", facets=["r"], score="y")
    tab = g.d_study({"r": range(1, 7)})
    assert tab.G.is_monotonic_increasing and tab.Phi.is_monotonic_increasing
    assert (tab.Phi <= tab.G + 1e-12).all()
    need = g.n_needed("r", 0.8)
    full = g.d_study({"r": range(1, 101)})
    assert full.G[need - 1] >= 0.8 and (need == 1 or full.G[need - 2] < 0.8)


def test_bad_arguments_are_named():
    df = _balanced_pxr()
    with pytest.raises(DataValidationError, match="missing column"):
        g_study(df, object="p", facets=["nope"], score="y")
    with pytest.raises(DataValidationError, match="nested"):
        g_study(df, object="p", facets=["r"], nested={"r": "p"}, score="y")
    g = g_study(df, object="p", facets=["r"], score="y")
    with pytest.raises(DataValidationError, match="missing sample size"):
        g.d_study({})


def test_reliability_plan_on_synthetic_data():
    from calib.simulate import SimulationConfig, simulate_dataset

    ds = simulate_dataset(SimulationConfig(n_transcripts=120, seed=9))  # SYNTHETIC
    plan = reliability_plan(ds.ratings)
    assert set(plan.dimension) == set(ds.ratings.dimension) | {"composite"}
    # The planted ambiguous dimension (extra noise on "tradeoffs") needs the most raters.
    per_dim = plan[plan.n_raters == 1].set_index("dimension")
    assert per_dim.drop("composite").G.idxmin() == "tradeoffs"
    assert per_dim.raters_needed_G["tradeoffs"] == per_dim.drop("composite").raters_needed_G.max()


def test_sparse_and_dense_reml_paths_agree(brennan, monkeypatch):
    """Large designs use a sparse LU of the Schur complement; it must give the same REML fit."""
    import calib._varcomp as gt  # the REML routine shared with calib.agreement

    args = dict(object="Person", facets=["Rater", "Task"], nested={"Rater": "Task"}, score="Score")
    dense = g_study(brennan, **args).components.variance.to_numpy()
    monkeypatch.setattr(gt, "SPARSE_ABOVE", 0)
    sparse_ = g_study(brennan, **args).components.variance.to_numpy()
    np.testing.assert_allclose(sparse_, dense, rtol=1e-5)

"""Additive model against statsmodels OLS; invariances; design validation and connectedness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st

from calib.errors import CalibWarning, DataValidationError
from calib.raters import DisconnectedDesignError, connectedness, fit_additive, fit_mfrm


def test_additive_matches_statsmodels_ols_with_sum_contrasts(rasch_data):
    """Reference: statsmodels OLS ``score ~ 0 + C(transcript) + C(rater, Sum)`` per dimension;
    severity = -(rater effect), standard errors from the same model."""
    df = rasch_data(n_t=50, n_r=5, n_d=2, per_t=2, seed=8)
    res = fit_additive(df)
    for dim, sub in df.groupby("dimension"):
        ols = smf.ols("score ~ 0 + C(transcript_id) + C(rater_id, Sum)", data=sub).fit()
        ours = res.raters[res.raters.dimension == dim].set_index("rater_id")
        raters = sorted(sub.rater_id.unique())
        for r in raters[:-1]:  # Sum coding omits the last level
            name = f"C(rater_id, Sum)[S.{r}]"
            assert ours.severity[r] == pytest.approx(-ols.params[name], abs=1e-9)
            assert ours.se[r] == pytest.approx(ols.bse[name], rel=1e-9)
            lo, hi = ols.conf_int().loc[name]
            assert ours.ci_low[r] == pytest.approx(-hi, abs=1e-9)
        # Fair scores: transcript effects = the score from an average (severity 0) rater.
        fair = res.scores[res.scores.dimension == dim].set_index("transcript_id").fair_score
        t_par = ols.params.filter(like="C(transcript_id)")
        t_par.index = [s.split("[")[1].rstrip("]") for s in t_par.index]
        np.testing.assert_allclose(fair[t_par.index], t_par, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(
    shift=st.floats(-2, 2).filter(lambda v: abs(v) > 1e-3),
    which=st.integers(0, 3),
    seed=st.integers(0, 10_000),
)
def test_adding_a_constant_to_one_rater_moves_only_that_rater(rasch_data, shift, which, seed):
    """Shifting rater j's scores by c moves j's severity by -c relative to every other rater and
    leaves the other raters' relative severities untouched. (With raters centred at 0 every
    value also moves by the common constant c / n_raters, as the identification requires.)"""
    df = rasch_data(n_t=30, n_r=4, n_d=2, per_t=2, seed=seed)
    target = f"r{which}"
    shifted = df.assign(score=np.where(df.rater_id == target, df.score + shift, df.score))
    a = fit_additive(df).raters.set_index(["dimension", "rater_id"]).severity
    b = fit_additive(shifted).raters.set_index(["dimension", "rater_id"]).severity
    delta = b - a
    is_target = delta.index.get_level_values("rater_id") == target
    common = delta[~is_target]
    np.testing.assert_allclose(common, shift / 4, atol=1e-9)
    np.testing.assert_allclose(delta[is_target] - shift / 4, -shift, atol=1e-9)


def test_mfrm_harsher_rater_gets_higher_measure(rasch_data):
    df = rasch_data(n_t=80, n_r=4, n_d=3, per_t=2, seed=2)
    base = fit_mfrm(df).raters.set_index("rater_id").measure
    harsher = df.assign(
        score=np.where((df.rater_id == "r1") & (df.score > 1), df.score - 1, df.score)
    )
    new = fit_mfrm(harsher).raters.set_index("rater_id").measure
    assert new["r1"] - base["r1"] > 0.5
    # The others keep their order and relative spacing up to estimation noise.
    others = ["r0", "r2", "r3"]
    np.testing.assert_allclose(np.diff(new[others]), np.diff(base[others]), atol=0.15)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_mfrm_invariant_to_row_order_and_id_spelling(rasch_data, seed):
    df = rasch_data(n_t=40, n_r=3, n_d=2, per_t=2, seed=seed % 7)
    a = fit_mfrm(df)
    shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    b = fit_mfrm(shuffled)
    pd.testing.assert_frame_equal(a.raters, b.raters, atol=1e-8)
    pd.testing.assert_frame_equal(a.transcripts, b.transcripts, atol=1e-8)


def test_disconnected_design_names_the_subsets():
    df = pd.DataFrame(
        {
            "transcript_id": ["t1", "t1", "t2", "t2", "t3", "t3"],
            "rater_id": ["a", "b", "a", "b", "c", "d"],
            "dimension": "x",
            "score": [1, 2, 2, 3, 3, 4],
        }
    )
    sub = connectedness(df)
    assert sub.subset.nunique() == 2
    assert set(sub[(sub.subset == 2)].element) == {"t3", "c", "d"}
    for fit in (fit_mfrm, fit_additive):
        with pytest.raises(
            DisconnectedDesignError,
            match=r"subset 1: raters \[a, b\].*"
            r"subset 2: raters \[c, d\]",
        ) as e:
            fit(df)
        assert e.value.subsets.subset.nunique() == 2


def test_validation_errors_name_row_and_field():
    df = pd.DataFrame(
        {
            "transcript_id": ["t1", "t1"],
            "rater_id": ["a", "a"],
            "dimension": ["x", "x"],
            "score": [1, 2],
        }
    )
    with pytest.raises(DataValidationError, match="row 0.*duplicate"):
        fit_mfrm(df)
    with pytest.raises(DataValidationError, match="missing required column"):
        fit_mfrm(df.drop(columns="score"))
    bad = df.assign(rater_id=["a", "b"], score=["1", "high"])
    with pytest.raises(DataValidationError, match="row 1: field 'score'"):
        fit_additive(bad)
    with pytest.raises(DataValidationError, match="model"):
        fit_mfrm(df, model="graded")


def test_unscored_machine_rows_are_dropped_with_a_warning(rasch_data):
    df = rasch_data(n_t=30, n_r=3, n_d=2, seed=1)
    with_nan = pd.concat([df, df.iloc[:3].assign(rater_id="llm", score=np.nan)], ignore_index=True)
    with pytest.warns(CalibWarning, match="dropped 3 unscored"):
        res = fit_mfrm(with_nan)
    assert "llm" not in set(res.raters.rater_id)


def test_null_category_per_dimension_is_an_error_for_partial_credit(rasch_data):
    # Rating-scale fits with unused levels are tested in test_real_designs.py.
    with pytest.raises(DataValidationError, match="never received score"):
        fit_mfrm(
            rasch_data(n_t=30, n_r=3, n_d=2, seed=1).pipe(
                lambda d: d[~((d.dimension == "d0") & (d.score == 4))]
            ),
            "partial_credit",
        )

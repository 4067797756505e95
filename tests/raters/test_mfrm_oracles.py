"""fit_mfrm against independent estimators of the same joint likelihood.

The published FACETS reference (Guilford's creativity ratings) is in test_mfrm_guilford.py. Here
JMLE is checked on further designs against two independent fits of the identical likelihood:

* dichotomous data: JMLE of the MFRM *is* unconditional ML logistic regression with dummy
  variables for transcripts, raters and dimensions -> statsmodels ``Logit``;
* polytomous data: the adjacent-category (rating-scale / partial-credit) likelihood written as a
  multinomial choice model over categories with reference coding, maximised by
  ``scipy.optimize.minimize`` in the test (different parameterisation and optimiser).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from calib.raters import fit_mfrm


def test_dichotomous_jmle_equals_statsmodels_logit(rasch_data):
    df = rasch_data(n_t=80, n_r=5, n_d=4, per_t=3, m=1, seed=3)
    res = fit_mfrm(df, bias_correction=False, tol=1e-10)
    used = res.residuals[res.residuals.used]
    # Design: transcript dummies (no intercept), rater and dimension effect-free reference coding.
    X = pd.concat(
        [
            pd.get_dummies(used.transcript_id, dtype=float),
            -pd.get_dummies(used.rater_id, dtype=float).iloc[:, 1:],
            -pd.get_dummies(used.dimension, dtype=float).iloc[:, 1:],
        ],
        axis=1,
    )
    y = (used.score - used.score.min()).to_numpy()
    fit = sm.Logit(y, X.to_numpy()).fit(method="newton", disp=0, tol=1e-12, maxiter=200)
    nt = used.transcript_id.nunique()
    C = np.r_[0.0, fit.params[nt : nt + 4]]
    D = np.r_[0.0, fit.params[nt + 4 :]]
    np.testing.assert_allclose(res.raters.measure, C - C.mean(), atol=1e-6)
    np.testing.assert_allclose(res.dimensions.measure, D - D.mean(), atol=1e-6)
    # The single dichotomous threshold is absorbed by the centring: it must be 0.
    np.testing.assert_allclose(res.thresholds.threshold, [0.0], atol=1e-10)


@pytest.mark.parametrize("model", ["rating_scale", "partial_credit"])
def test_polytomous_jmle_matches_independent_choice_model(rasch_data, model, choice_oracle):
    partial = model == "partial_credit"
    df = rasch_data(n_t=70, n_r=4, n_d=3, per_t=2, m=3, seed=5, partial=partial)
    res = fit_mfrm(df, model, bias_correction=False, tol=1e-10)
    used = res.residuals[res.residuals.used]
    C, D, tau = choice_oracle(used, 3, partial)
    np.testing.assert_allclose(res.raters.set_index("rater_id").measure[C.index], C, atol=1e-4)
    np.testing.assert_allclose(res.dimensions.set_index("dimension").measure[D.index], D, atol=1e-4)
    np.testing.assert_allclose(res.thresholds.threshold.to_numpy(), np.ravel(tau), atol=1e-4)


def test_real_incomplete_design_sirt_ratings1(sirt_ratings, choice_oracle):
    """sirt::data.ratings1 (real essay ratings, 7 raters, 5 criteria, linked incomplete design).

    Reference: the same likelihood maximised independently (see module docstring); the README
    of refdata/sirt-ratings1 notes TAM/sirt (MML) agree with JMLE up to identification and
    method, which we cannot check offline.
    """
    res = fit_mfrm(sirt_ratings, bias_correction=False, tol=1e-10)
    assert res.converged
    used = res.residuals[res.residuals.used]
    C, D, tau = choice_oracle(used, 3, partial=False)
    np.testing.assert_allclose(res.raters.set_index("rater_id").measure[C.index], C, atol=1e-4)
    np.testing.assert_allclose(res.dimensions.set_index("dimension").measure[D.index], D, atol=1e-4)
    np.testing.assert_allclose(res.thresholds.threshold, tau, atol=1e-4)
    # Students with only extreme ratings are measured FACETS-style (0.3 score adjustment).
    ext = res.transcripts[res.transcripts.extreme]
    assert len(ext) > 0 and np.isfinite(ext.measure).all()
    assert (
        ext.measure.abs() > res.transcripts[~res.transcripts.extreme].measure.abs().median()
    ).all()


def test_sirt_ratings1_agrees_with_raschpy(sirt_ratings):
    """Cross-implementation check on real data: raschpy 1.4.0's MFRM ('global' = rating-scale
    model; regularised pairwise composite likelihood, Elliott & Buttery 2022) is a different
    estimator, so only the ordering and near-linearity of rater severities and criterion
    difficulties are expected to agree (measured r = 0.999; raschpy's spread is ~1.1-1.2x
    ours on this unbalanced design)."""
    raschpy = pytest.importorskip("raschpy")
    import warnings

    wide = sirt_ratings.pivot_table(
        index=["rater_id", "transcript_id"], columns="dimension", values="score"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = raschpy.MFRM(wide, max_score=3)
        m.calibrate("global")
    res = fit_mfrm(sirt_ratings)
    ours_r = res.raters.set_index("rater_id").measure
    ours_d = res.dimensions.set_index("dimension").measure
    theirs_r = m.raters_global.reindex(ours_r.index)
    theirs_d = m.items_global.reindex(ours_d.index)
    assert np.corrcoef(ours_r, theirs_r)[0, 1] > 0.99
    assert np.corrcoef(ours_d, theirs_d)[0, 1] > 0.99
    assert list(ours_r.sort_values().index) == list(theirs_r.sort_values().index)

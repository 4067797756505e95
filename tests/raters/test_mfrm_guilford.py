"""fit_mfrm on Guilford's (1954) creativity ratings, the standard MFRM worked example.

Data: J. P. Guilford (1954), *Psychometric Methods*, 2nd ed., McGraw-Hill, p. 282 (REAL data,
3 judges x 7 examinees x 5 traits, 1-9); FACETS example ``Guilford.txt``
(https://www.winsteps.com/facetman/creativity.htm); Linacre (1994) *Many-Facet Rasch
Measurement*, ch. 10. See tests/raters/data/README.md for provenance.

What is, and is not, checked here. FACETS' published measures for this example (its Table 7,
in the FACETS manual and MFRM ch. 10) could not be obtained from this workplace, so no FACETS
number appears below and none was invented. Instead:

* the data file is checked against the design facts the FACETS manual does print;
* the FACETS-equivalent configuration (uncorrected JMLE on the 1-9 rating scale) is checked
  against an independent maximisation of the same likelihood (``choice_oracle``, scipy L-BFGS on
  a reference-coded parameterisation): judges, traits, examinees and Rasch-Andrich thresholds;
* model S.E., infit and outfit are recomputed from the oracle's parameters with the FACETS /
  Wright & Masters (1982, ch. 5) definitions, written out independently of calib's code.
"""

from __future__ import annotations

import numpy as np
import pytest

from calib.raters import fit_mfrm


def test_guilford_file_matches_the_published_design(guilford):
    # Design printed with the FACETS example (facetman/creativity.htm): 3 senior scientists rate
    # 7 junior scientists on 5 traits, ratings 1-9, fully crossed.
    assert len(guilford) == 105
    assert guilford.groupby(["transcript_id", "rater_id", "dimension"]).size().eq(1).all()
    assert guilford[["rater_id", "transcript_id", "dimension"]].nunique().tolist() == [3, 7, 5]
    assert sorted(guilford.score.unique()) == list(range(1, 10))
    # FACETS manual Table 6.2 for these data (facetman/table6_2.htm): Count = 15 per examinee.
    assert guilford.groupby("transcript_id").size().eq(15).all()
    # FACETS manual, Winsteps export of these data (facetman/winstepsscreen.htm): Avogadro's
    # row starts "553" = his ratings of Anne on traits 1-3.
    anne = guilford[(guilford.rater_id == "j1") & (guilford.transcript_id == "e1")]
    assert anne.sort_values("dimension").score.tolist()[:3] == [5, 5, 3]


@pytest.fixture(scope="module")
def facets_like(guilford):
    """FACETS' configuration of this example: JMLE without (L-1)/L correction, scale 1-9."""
    return fit_mfrm(guilford, scale=(1, 9), bias_correction=False, tol=1e-10)


def test_guilford_uncorrected_jmle_is_the_likelihood_maximum(facets_like, choice_oracle):
    res = facets_like
    assert res.converged and res.bias_correction == 1.0
    used = res.residuals[res.residuals.used]
    assert used.used.all() and len(used) == 105  # no extreme examinee: all ratings estimate
    C, D, tau, B = choice_oracle(used, 8, partial=False, with_transcripts=True)
    np.testing.assert_allclose(res.raters.set_index("rater_id").measure[C.index], C, atol=1e-4)
    np.testing.assert_allclose(res.dimensions.set_index("dimension").measure[D.index], D,
                               atol=1e-4)
    np.testing.assert_allclose(res.transcripts.set_index("transcript_id").measure[B.index], B,
                               atol=1e-4)
    np.testing.assert_allclose(res.thresholds.threshold, tau, atol=1e-4)


def test_guilford_model_se_and_fit_follow_facets_definitions(facets_like, guilford,
                                                             choice_oracle):
    """Model S.E. = 1/sqrt(sum W); infit = sum(y^2)/sum(W); outfit = mean(y^2/W) (FACETS manual,
    Table 7 column definitions; Wright & Masters 1982, ch. 5), from the oracle's parameters."""
    res = facets_like
    C, D, tau, B = choice_oracle(guilford, 8, partial=False, with_transcripts=True)
    eta = (B[guilford.transcript_id].to_numpy() - C[guilford.rater_id].to_numpy()
           - D[guilford.dimension].to_numpy())
    k = np.arange(9)
    z = eta[:, None] * k - np.r_[0.0, np.cumsum(tau)]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = p @ k
    w = p @ k**2 - expected**2
    y = (guilford.score.to_numpy() - 1) - expected
    frame = guilford.assign(w=w, y2=y**2, z2=y**2 / w)
    for col, table in (("rater_id", res.raters), ("dimension", res.dimensions),
                       ("transcript_id", res.transcripts)):
        g = frame.groupby(col)
        ours = table.set_index(col)
        np.testing.assert_allclose(ours.se[g.w.sum().index], 1 / np.sqrt(g.w.sum()), atol=1e-4)
        np.testing.assert_allclose(ours.infit[g.w.sum().index], g.y2.sum() / g.w.sum(),
                                   atol=1e-4)
        np.testing.assert_allclose(ours.outfit[g.w.sum().index], g.z2.mean(), atol=1e-4)


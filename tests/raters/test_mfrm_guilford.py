"""fit_mfrm on Guilford's (1954) creativity ratings against FACETS' published estimates.

Data: J. P. Guilford (1954), *Psychometric Methods*, 2nd ed., McGraw-Hill, p. 282 (REAL data,
3 judges x 7 examinees x 5 traits, 1-9); FACETS example ``Guilford.txt``
(https://www.winsteps.com/facetman/creativity.htm); Linacre (1994) *Many-Facet Rasch
Measurement*, ch. 10. See tests/raters/data/README.md for provenance.

Published reference: J. M. Linacre, *A User's Guide to FACETS*, help page "Anchor output file ="
(https://www.winsteps.com/facetman/anchorfile.htm), example "Using an edited version of
Guilford.txt" (the edits visible there are output options; model ``?B,?B,?,R9``,
``Non-centered = 1``): the
Anchorfile FACETS writes lists its final estimates at full precision (FACETS_* below). Only the
values visible in that example are used: the 8 Rasch-Andrich thresholds, the 3 judges and the
first examinee (Anne, printed "-0.06864..."; we use -0.0686).

FACETS conventions and how calib is configured to match them:
* uncorrected JMLE (``bias_correction=False``), rating scale 1-9, thresholds summing to 0;
* FACETS centres examinees and traits and lets judges float; calib centres judges and traits
  and lets transcripts float. FACETS frame = calib frame shifted by the mean examinee measure
  (judges and examinees), traits and thresholds unchanged;
* FACETS stops iterating at its default ``Convergence = .5, .01`` (largest marginal score
  residual .5 rating points, largest change .01 logits: FACETS manual, "Convergence (criteria to
  end iteration) = .5, .01"), calib iterates to 1e-10 logits. So the published numbers are a
  near-solution: agreement is to about 0.01 logit for judges and examinees and 0.05 for the
  rarely used extreme categories' thresholds (categories 1-2 and 8-9 hold 4+4 and 3+3 of the 105
  ratings). The second test shows that this gap is FACETS' stopping rule, not a different model
  or different data: holding judges and thresholds at FACETS' values, calib recovers FACETS'
  examinee centring and Anne's published measure, with score residuals inside FACETS' .5.

The other tests check the FACETS-equivalent fit against an independent maximisation of the same
likelihood (scipy L-BFGS, ``choice_oracle``) and recompute model S.E., infit and outfit from the
FACETS / Wright & Masters (1982, ch. 5) definitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from calib.raters import fit_mfrm

# FACETS Anchorfile for Guilford.txt (facetman/anchorfile.htm): Rating scale = RS1,R9 lines
# 2=..9= (category 1 is the placeholder 0), Labels 1 (Senior scientists) and Labels 2, element 1.
FACETS_THRESHOLDS = [
    -0.6441868,
    -2.317694,
    0.8300989,
    -1.477257,
    1.710222,
    -1.001601,
    2.358206,
    0.5422113,
]
FACETS_JUDGES = {"j1": 0.038439, "j2": 0.2356183, "j3": -0.091576}  # Avogadro, Brahe, Cavendish
FACETS_ANNE = -0.0686  # examinee 1, printed -0.06864...


def test_guilford_file_matches_the_published_design(guilford):
    # Design printed with the FACETS example (facetman/creativity.htm): 3 senior scientists rate
    # 7 junior scientists on 5 traits, ratings 1-9, fully crossed.
    assert len(guilford) == 105
    assert guilford.groupby(["transcript_id", "rater_id", "dimension"]).size().eq(1).all()
    assert guilford[["rater_id", "transcript_id", "dimension"]].nunique().tolist() == [3, 7, 5]
    assert sorted(guilford.score.unique()) == list(range(1, 10))
    # FACETS manual Table 6.2 for these data (facetman/table6_2.htm): Count = 15 per examinee.
    assert guilford.groupby("transcript_id").size().eq(15).all()
    # FACETS manual, Winsteps export of a version of these data edited to add a fourth judge
    # (facetman/winstepsscreen.htm): Avogadro's row starts "553" = his ratings of Anne on traits
    # 1-3.
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
    np.testing.assert_allclose(res.dimensions.set_index("dimension").measure[D.index], D, atol=1e-4)
    np.testing.assert_allclose(
        res.transcripts.set_index("transcript_id").measure[B.index], B, atol=1e-4
    )
    np.testing.assert_allclose(res.thresholds.threshold, tau, atol=1e-4)


def test_guilford_model_se_and_fit_follow_facets_definitions(facets_like, guilford, choice_oracle):
    """Model S.E. = 1/sqrt(sum W); infit = sum(y^2)/sum(W); outfit = mean(y^2/W) (FACETS manual,
    Table 7 column definitions; Wright & Masters 1982, ch. 5), from the oracle's parameters."""
    res = facets_like
    C, D, tau, B = choice_oracle(guilford, 8, partial=False, with_transcripts=True)
    eta = (
        B[guilford.transcript_id].to_numpy()
        - C[guilford.rater_id].to_numpy()
        - D[guilford.dimension].to_numpy()
    )
    k = np.arange(9)
    z = eta[:, None] * k - np.r_[0.0, np.cumsum(tau)]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = p @ k
    w = p @ k**2 - expected**2
    y = (guilford.score.to_numpy() - 1) - expected
    frame = guilford.assign(w=w, y2=y**2, z2=y**2 / w)
    for col, table in (
        ("rater_id", res.raters),
        ("dimension", res.dimensions),
        ("transcript_id", res.transcripts),
    ):
        g = frame.groupby(col)
        ours = table.set_index(col)
        np.testing.assert_allclose(ours.se[g.w.sum().index], 1 / np.sqrt(g.w.sum()), atol=1e-4)
        np.testing.assert_allclose(ours.infit[g.w.sum().index], g.y2.sum() / g.w.sum(), atol=1e-4)
        np.testing.assert_allclose(ours.outfit[g.w.sum().index], g.z2.mean(), atol=1e-4)


def test_guilford_reproduces_facets_published_estimates(facets_like):
    res = facets_like
    shift = res.transcripts.measure.mean()  # to FACETS' frame: examinees centred, judges float
    judges = res.raters.set_index("rater_id").measure - shift
    anne = res.transcripts.set_index("transcript_id").measure["e1"] - shift
    # Judges and Anne to about the published 2 decimals (calib: .040, .245, -.096, -.071).
    np.testing.assert_allclose(
        judges[list(FACETS_JUDGES)], list(FACETS_JUDGES.values()), atol=0.015
    )
    assert abs(anne - FACETS_ANNE) < 0.015
    # Thresholds within 0.05 (largest gaps: the 4- and 3-rating categories 2 and 9).
    np.testing.assert_allclose(res.thresholds.threshold, FACETS_THRESHOLDS, atol=0.05)
    # Same orderings as FACETS: Brahe most severe, Cavendish most lenient; disordered thresholds.
    assert list(judges.sort_values().index) == ["j3", "j1", "j2"]
    assert (np.sign(np.diff(res.thresholds.threshold)) == np.sign(np.diff(FACETS_THRESHOLDS))).all()


def test_guilford_facets_values_solve_the_same_equations_within_facets_stopping_rule(guilford):
    """Anchor judges and thresholds at FACETS' published values (FACETS ",A" anchoring)."""
    res = fit_mfrm(
        guilford,
        scale=(1, 9),
        bias_correction=False,
        tol=1e-10,
        anchors={"rater": FACETS_JUDGES, "threshold": FACETS_THRESHOLDS},
    )
    assert res.converged
    np.testing.assert_allclose(
        res.raters.set_index("rater_id").measure[list(FACETS_JUDGES)],
        list(FACETS_JUDGES.values()),
        atol=1e-12,
    )
    b = res.transcripts.set_index("transcript_id").measure
    # FACETS centres the examinees: the data, at FACETS' values, put their mean at 0 again.
    assert abs(b.mean()) < 0.005
    assert abs(b["e1"] - FACETS_ANNE) < 0.005
    # What is left over is inside FACETS' stopping rule of .5 score points.
    r = res.residuals
    judge_resid = (r.score - r.expected).groupby(r.rater_id).sum()
    assert judge_resid.abs().max() < 0.5
    k = np.arange(9)
    z = r.eta.to_numpy()[:, None] * k - np.r_[0.0, np.cumsum(FACETS_THRESHOLDS)]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    x = r.score.to_numpy() - 1
    above = [(x >= c).sum() - p[:, c:].sum() for c in range(1, 9)]  # threshold score residuals
    assert np.abs(above).max() < 0.5
    # ... while the fully converged calib solution leaves none.
    free = fit_mfrm(guilford, scale=(1, 9), bias_correction=False, tol=1e-10).residuals
    assert (free.score - free.expected).groupby(free.rater_id).sum().abs().max() < 1e-6

"""Anchoring in fit_mfrm (FACETS ",A"): fixed raters, dimensions or thresholds.

Reference behaviour: FACETS manual, "Anchor output file =" and "Labels= ... ,A": re-running an
analysis with every estimate anchored at its own final value reproduces the analysis, and
anchored elements keep their values. Checked here on SYNTHETIC Rasch data.
"""

from __future__ import annotations

import numpy as np
import pytest

from calib.errors import DataValidationError
from calib.raters import fit_mfrm


@pytest.fixture(scope="module")
def data(rasch_data):
    return rasch_data(n_t=60, n_r=4, n_d=3, per_t=2, m=3, seed=11)


def test_anchoring_at_own_estimates_reproduces_the_fit(data):
    free = fit_mfrm(data, bias_correction=False, tol=1e-10)
    anchored = fit_mfrm(
        data,
        bias_correction=False,
        tol=1e-10,
        anchors={
            "rater": dict(zip(free.raters.rater_id, free.raters.measure)),
            "threshold": free.thresholds.threshold.tolist(),
        },
    )
    for a, b in (
        (anchored.raters, free.raters),
        (anchored.dimensions, free.dimensions),
        (anchored.transcripts, free.transcripts),
    ):
        np.testing.assert_allclose(a.measure, b.measure, atol=1e-6)
    np.testing.assert_allclose(anchored.raters.se, free.raters.se, atol=1e-6)  # model S.E.
    assert anchored.thresholds.se.isna().all() and free.thresholds.se.notna().all()


def test_partial_anchors_fix_the_origin_and_free_the_rest(data):
    free = fit_mfrm(data, bias_correction=False, tol=1e-10)
    c = free.raters.set_index("rater_id").measure
    # Anchor one rater 1 logit above its free estimate: every measure moves by +1 (raters,
    # transcripts) and the other raters are no longer centred, but all differences are kept.
    res = fit_mfrm(data, bias_correction=False, tol=1e-10, anchors={"rater": {"r0": c["r0"] + 1}})
    got = res.raters.set_index("rater_id").measure
    assert got["r0"] == pytest.approx(c["r0"] + 1, abs=1e-12)
    np.testing.assert_allclose(got - c, 1.0, atol=1e-6)
    np.testing.assert_allclose(res.transcripts.measure - free.transcripts.measure, 1.0, atol=1e-6)
    np.testing.assert_allclose(res.dimensions.measure, free.dimensions.measure, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"anchors": {"rater": {"r0": 0.0}}}, "bias_correction=False"),
        ({"anchors": {"rater": {"nobody": 0.0}}, "bias_correction": False}, "nobody"),
        ({"anchors": {"rater": {"r0": np.nan}}, "bias_correction": False}, "finite"),
        ({"anchors": {"threshold": [0.0, 1.0]}, "bias_correction": False}, "expected 3"),
        ({"anchors": {"judge": {"r0": 0.0}}, "bias_correction": False}, "unknown key"),
        (
            {
                "anchors": {"threshold": [0.0, 0.0, 0.0]},
                "bias_correction": False,
                "model": "partial_credit",
            },
            "rating_scale",
        ),
    ],
)
def test_bad_anchors_are_named(data, kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        fit_mfrm(data, **kwargs)

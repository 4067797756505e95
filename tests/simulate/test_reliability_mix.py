"""The default SYNTHETIC sample shows a realistic mix of reliability bands (not all red).

Oracle: the ``krippendorff`` package (Castro, 0.9.0), an independent implementation of
Krippendorff's alpha; ordinal metric on the rubric's values 1-4 (values never used still count).
Bands: Krippendorff (2004), *Content Analysis*, 2nd ed., p. 241 -- rely on alpha >= .800, draw
tentative conclusions for .667 <= alpha < .800, discard below .667.

The generator is tuned (docs/simulate.md, "Reliability of the default sample") so that on the
default sample two dimensions are reliable, three or four tentative and two or three
unreliable, with the planted ambiguous dimension ``tradeoffs`` clearly the worst.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

krippendorff = pytest.importorskip("krippendorff")


def _alphas(ds) -> pd.Series:
    out = {}
    for dim, g in ds.ratings.groupby("dimension", sort=False):
        wide = g.pivot(index="transcript_id", columns="rater_id", values="score").to_numpy(float)
        out[dim] = krippendorff.alpha(
            reliability_data=wide.T, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4]
        )
    return pd.Series(out)


def _band(a: pd.Series) -> pd.Series:
    return pd.Series(
        np.select([a >= 0.800, a >= 0.667], ["reliable", "tentative"], "unreliable"), index=a.index
    )


def test_default_sample_has_a_mix_of_bands(sample_ds):
    a = _alphas(sample_ds)
    bands = _band(a)
    counts = bands.value_counts()
    assert counts.get("reliable", 0) == 2, a.round(3).to_dict()
    assert 3 <= counts.get("tentative", 0) <= 4, a.round(3).to_dict()
    assert 2 <= counts.get("unreliable", 0) <= 3, a.round(3).to_dict()
    # the wide-spread dimensions are the reliable ones; the noisy ones are not
    assert set(bands[bands == "reliable"].index) == {"problem_framing", "evaluation"}
    assert bands["communication"] == "unreliable"
    # tradeoffs (planted ambiguity) is clearly the worst
    assert a.idxmin() == "tradeoffs"
    assert a["tradeoffs"] <= a.drop("tradeoffs").min() - 0.04


def test_ordering_holds_on_a_large_sample(big_ds):
    """Not a seed accident: on 4,000 transcripts (seed 11) the ordering is the designed one."""
    a = _alphas(big_ds)
    assert set(a.nlargest(2).index) == {"problem_framing", "evaluation"}
    # tradeoffs (central-band ambiguity) is the worst; the two base-noise dimensions come next
    assert a.idxmin() == "tradeoffs"
    assert set(a.nsmallest(3).index) == {"tradeoffs", "communication", "adaptability"}
    assert (
        a["tradeoffs"] < 0.667
        and a[["problem_framing", "evaluation"]].min()
        > a.drop(["problem_framing", "evaluation"]).max() + 0.05
    )


def test_clean_data_has_no_unreliable_dimension(clean_ds):
    """clean=True removes the rater effects and the dimension noise: no dimension is unreliable."""
    a = _alphas(clean_ds)
    assert a.min() >= 0.80, a.round(3).to_dict()

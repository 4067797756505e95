"""Descriptive tables of the report, against hand-worked examples and scipy/pandas oracles.

Data: small hand-made SYNTHETIC tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calib.report import _descriptive as desc
from calib.report import recommend


def _long(rows):
    df = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])
    return df.assign(rater_type="human", score=df["score"].astype(float))


def test_excess_disagreement_removes_the_rater_pair_offset():
    # rater b is exactly one point harsher than a on every dimension of t1/t2, except that on
    # 'y' of t2 they also disagree by an extra 2 points -> only 'y' carries specific disagreement
    rows = []
    for t, (ya, yb) in {"t1": (3, 2), "t2": (4, 1)}.items():
        rows += [
            (t, "a", "x", 3),
            (t, "b", "x", 2),
            (t, "a", "z", 2),
            (t, "b", "z", 1),
            (t, "a", "y", ya),
            (t, "b", "y", yb),
        ]
    ex = desc.excess_disagreement(desc.disagreement_pairs(_long(rows))).set_index("dimension")
    # hand-worked: t1 diffs (1,1,1) -> residuals 0; t2 diffs x=1, y=3, z=1, mean 5/3
    # residuals x,z = -2/3, y = 4/3; mean squares over the two transcripts:
    assert ex.loc["x", "residual_ms"] == pytest.approx((0 + (2 / 3) ** 2) / 2)
    assert ex.loc["y", "residual_ms"] == pytest.approx((0 + (4 / 3) ** 2) / 2)
    assert ex.loc["y", "ratio"] == pytest.approx(4.0)  # (16/9) / median(4/9, 4/9)
    assert ex.loc["x", "ratio"] == pytest.approx((4 / 9) / np.median([16 / 9, 4 / 9]))


def test_disconnected_design_is_found_and_recommended():
    rows = [
        (t, r, "x", 2) for t, r in [("t1", "a"), ("t1", "b"), ("t2", "c"), ("t2", "d"), ("t3", "a")]
    ]
    per_rater, facts = desc.design_coverage(_long(rows))
    assert facts["components"] == 2 and not facts["connected"]
    assert per_rater.set_index("rater_id")["component"].to_dict() == {
        "a": 0,
        "b": 0,
        "c": 1,
        "d": 1,
    }
    assert per_rater.set_index("rater_id")["transcripts"].to_dict() == {
        "a": 2,
        "b": 1,
        "c": 1,
        "d": 1,
    }
    (rec,) = recommend({"coverage": facts})
    assert rec.rule == "disconnected" and rec.evidence == {"components": 2}


def test_missingness_counts_absent_rows_and_nan_scores():
    r = _long([("t1", "a", "x", 2), ("t1", "a", "y", 3), ("t1", "b", "x", 1)])
    r = pd.concat(
        [
            r,
            pd.DataFrame(
                {
                    "transcript_id": ["t1"],
                    "rater_id": ["g"],
                    "dimension": ["x"],
                    "score": [np.nan],
                    "rater_type": ["rule"],
                }
            ),
        ],
        ignore_index=True,
    )
    m = desc.missingness(r, ["x", "y"]).set_index("dimension")
    assert m.loc["x", "human"] == 0.0 and m.loc["y", "human"] == 0.5  # b never scored y
    assert m.loc["x", "rule"] == 1.0  # the grader's only row is unscored


def test_dimension_correlations_equal_scipy_spearman():
    rng = np.random.default_rng(8)  # SYNTHETIC scores, 3 raters x 40 transcripts x 3 dims
    rows = [
        (f"t{t}", f"r{r}", d, float(rng.integers(1, 5)))
        for t in range(40)
        for r in range(3)
        for d in ("x", "y", "z")
    ]
    df = _long(rows)
    corr = desc.dimension_correlations(df, ["x", "y", "z"])
    cons = df.groupby(["transcript_id", "dimension"])["score"].mean().unstack()
    rho = stats.spearmanr(cons[["x", "y", "z"]].to_numpy()).statistic
    np.testing.assert_allclose(corr.to_numpy(), rho)


def test_rare_levels_and_distribution():
    rows = [(f"t{i}", "a", "x", 2 if i < 19 else 1) for i in range(20)]
    dist = desc.score_distribution(_long(rows), ["x"], np.array([1, 2, 3, 4]))
    assert dist.loc[0, ["1", "2", "3", "4"]].tolist() == [0.05, 0.95, 0.0, 0.0]
    rare = desc.rare_levels(dist, 0.05)
    assert rare["level"].tolist() == [3, 4]  # 5% is not "less than 5%"

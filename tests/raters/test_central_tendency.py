"""central_tendency in O(N) equals the direct definition (merge the others' rows per rater).

Oracle: the previous implementation, kept here verbatim -- for each rater, merge the other
raters' rows onto the rater's transcript x dimension cells and take pandas standard deviations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calib.raters import central_tendency


def _direct(df: pd.DataFrame, scale=None) -> pd.DataFrame:
    df = df.copy()
    lo, hi = (df.score.min(), df.score.max()) if scale is None else scale
    df["dev"] = df.score - df.groupby(["rater_id", "dimension"]).score.transform("mean")
    df["ext"] = ((df.score <= lo) | (df.score >= hi)).astype(float)
    df["cell_n"] = df.groupby(["transcript_id", "dimension"]).score.transform("size")
    df = df[df.cell_n >= 2]
    out = []
    for rid, own in df.groupby("rater_id", sort=True):
        cells = own[["transcript_id", "dimension"]]
        others = df[df.rater_id != rid].merge(cells, on=["transcript_id", "dimension"])
        for dim, o_own, o_oth in [("all", own, others)] + [
            (d, own[own.dimension == d], others[others.dimension == d])
            for d in sorted(own.dimension.unique())
        ]:
            sd_own, sd_oth = o_own.dev.std(ddof=1), o_oth.dev.std(ddof=1)
            ext_oth = o_oth.ext.mean()
            out.append(
                {
                    "rater_id": rid,
                    "dimension": dim,
                    "n": len(o_own),
                    "spread_ratio": sd_own / sd_oth if sd_oth > 0 else np.nan,
                    "extreme_ratio": o_own.ext.mean() / ext_oth if ext_oth > 0 else np.nan,
                }
            )
    return pd.DataFrame(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_central_tendency_matches_the_direct_definition(seed):
    rng = np.random.default_rng(seed)
    n = 600
    df = pd.DataFrame(
        {
            "transcript_id": [f"t{i}" for i in rng.integers(0, 80, n)],
            "rater_id": [f"r{i}" for i in rng.integers(0, 9, n)],
            "dimension": [f"d{i}" for i in rng.integers(0, 3, n)],
            "score": rng.integers(1, 6, n).astype(float),
        }
    ).drop_duplicates(["transcript_id", "rater_id", "dimension"], ignore_index=True)
    # a rater with one lonely rating in a cell of its own (dropped: cell_n < 2)
    df.loc[len(df)] = ["t_alone", "r_alone", "d0", 3.0]
    got = central_tendency(df)
    ref = _direct(df)
    assert (
        got[["rater_id", "dimension"]].values.tolist()
        == ref[["rater_id", "dimension"]].values.tolist()
    )
    assert got["n"].tolist() == ref["n"].tolist()
    for col in ("spread_ratio", "extreme_ratio"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-10, equal_nan=True)
    got_s = central_tendency(df, scale=(1, 5))
    np.testing.assert_allclose(
        got_s["extreme_ratio"], _direct(df, (1, 5))["extreme_ratio"], rtol=1e-10, equal_nan=True
    )

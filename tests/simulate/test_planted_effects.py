"""Planted rater effects are visible in the raw SYNTHETIC ratings, and absent with clean=True.

These check the generator against its own documented model (planted.json / docs/simulate.md):
residual = observed score - latent true score, per rater. Tolerances allow for rounding to
the 1-4 scale and clipping at its ends, which attenuate every effect a little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

NEAR_CLEAN = ["r07", "r08"]


def _long(ds) -> pd.DataFrame:
    r = ds.ratings.merge(ds.true_scores, on=["transcript_id", "dimension"], validate="many_to_one")
    r["residual"] = r["score"] - r["true_score"]
    start = pd.Timestamp(ds.config.start_date, tz="UTC")
    r["days"] = (r["rated_at"] - start) / pd.Timedelta(days=1)
    meta = pd.DataFrame(list(ds.transcripts["metadata"]), index=ds.transcripts["transcript_id"])
    return r.join(meta, on="transcript_id")


@pytest.fixture(scope="module")
def big(big_ds):
    return _long(big_ds)


@pytest.fixture(scope="module")
def clean(clean_ds):
    return _long(clean_ds)


def _slope(x: pd.Series, y: pd.Series) -> float:
    return float(np.polyfit(x.to_numpy(float), y.to_numpy(float), 1)[0])


def _mean_interdim_corr(r: pd.DataFrame) -> float:
    wide = r.pivot_table(index="transcript_id", columns="dimension", values="score")
    c = np.corrcoef(wide.to_numpy().T)
    return float(c[np.triu_indices_from(c, 1)].mean())


def test_severe_and_lenient(big):
    res = big.groupby("rater_id")["residual"].mean()
    base = res[NEAR_CLEAN].mean()
    assert res.idxmin() == "r01"
    assert -0.7 < res["r01"] - base < -0.45  # planted +0.6 severity (lower scores)
    assert 0.35 < res["r02"] - base < 0.6  # planted -0.5 (lenient)
    assert abs(res["r07"] - res["r08"]) < 0.1


def test_central_tendency_rater_compresses(big):
    sd = big.groupby("rater_id")["score"].std()
    assert sd.idxmin() == "r04"
    slopes = big.groupby("rater_id").apply(
        lambda g: _slope(g["true_score"], g["score"]), include_groups=False
    )
    # planted ct = 0.6: judgements keep 40% of their distance from the midpoint; rounding to
    # integer scores near the midpoint inflates the observed ratio a little (about 0.5).
    assert 0.35 < slopes["r04"] / slopes[NEAR_CLEAN].mean() < 0.58


def test_halo_rater_flattens_profiles(big):
    corr = big.groupby("rater_id").apply(_mean_interdim_corr, include_groups=False)
    assert corr.idxmax() == "r03"
    assert corr["r03"] > corr[NEAR_CLEAN].mean() + 0.25


def test_drifting_rater(big):
    slopes = big.groupby("rater_id").apply(
        lambda g: _slope(g["days"], g["residual"]) * 30, include_groups=False
    )
    assert 0.12 < slopes["r05"] < 0.3  # planted +0.25 per 30 days (clipped at 4 late on)
    assert slopes.drop("r05").abs().max() < 0.05
    # r05 starts harsh (severity +0.7) so its drift is centred on the period: about neutral on
    # average, harsh in January and lenient by June (a drift, not a lenient rater in disguise).
    res = big.groupby("rater_id")["residual"].mean()
    assert abs(res["r05"] - res[NEAR_CLEAN].mean()) < 0.15
    month = big[big["rater_id"] == "r05"].groupby(big["rated_at"].dt.month)["residual"].mean()
    assert (
        month.iloc[0] < res[NEAR_CLEAN].mean() - 0.3 < res[NEAR_CLEAN].mean() + 0.3 < month.iloc[-1]
    )


def test_subgroup_effect(big):
    comm = big[big["dimension"] == "communication"]
    gap = comm.groupby(["rater_id", "school_tier"])["residual"].mean().unstack()
    gap = gap["non_target"] - gap["target"]
    assert -0.85 < gap["r06"] < -0.45  # planted shift -0.7 (rounding to levels attenuates it)
    assert gap.drop("r06").abs().max() < 0.15
    other = big[(big["rater_id"] == "r06") & (big["dimension"] != "communication")]
    other_gap = other.groupby("school_tier")["residual"].mean()
    assert abs(other_gap["non_target"] - other_gap["target"]) < 0.1


def test_ambiguous_dimension_confuses_2_and_3(big):
    r = big[big["rater_id"].isin(NEAR_CLEAN)].copy()
    r["true_level"] = np.clip(np.floor(r["true_score"] + 0.5), 1, 4)
    central = r[r["true_level"].isin([2, 3])]
    miss = (central["score"] != central["true_level"]).groupby(central["dimension"]).mean()
    assert miss.idxmax() == "tradeoffs"
    assert miss["tradeoffs"] > miss.drop("tradeoffs").max() + 0.1


def test_clean_has_no_effects(clean, clean_ds):
    res = clean.groupby("rater_id")["residual"].mean()
    assert res.max() - res.min() < 0.1
    sd = clean.groupby("rater_id")["score"].std()
    assert sd.max() - sd.min() < 0.08
    drift = clean.groupby("rater_id").apply(
        lambda g: _slope(g["days"], g["residual"]) * 30, include_groups=False
    )
    assert drift.abs().max() < 0.05
    corr = clean.groupby("rater_id").apply(_mean_interdim_corr, include_groups=False)
    assert corr.max() - corr.min() < 0.12
    comm = clean[clean["dimension"] == "communication"]
    gap = comm.groupby(["rater_id", "school_tier"])["residual"].mean().unstack()
    assert (gap["non_target"] - gap["target"]).abs().max() < 0.15
    by_dim = clean.groupby("dimension")["residual"].std()
    assert by_dim["tradeoffs"] < by_dim.drop("tradeoffs").max() + 0.05
    # clean also drops the per-dimension base noise: communication is not noisier than the rest
    assert by_dim["communication"] < by_dim.drop("communication").median() + 0.05

    planted = clean_ds.planted
    assert planted["subgroup_effects"] == [] and planted["ambiguous_dimensions"] == {}
    assert set(planted["dimension_base_noise"].values()) == {0.0}
    for p in planted["raters"].values():
        assert p["halo"] == p["central_tendency"] == p["drift_per_30_days"] == 0.0
        assert set(p["severity"].values()) == {0.0}
        assert 0 < p["noise_sd"] <= 0.35


def test_clean_keeps_true_scores(big_ds, clean_ds):
    # clean=True changes raters only: same candidates and transcripts for the same seed.
    pd.testing.assert_frame_equal(big_ds.true_scores, clean_ds.true_scores)
    pd.testing.assert_frame_equal(big_ds.transcripts, clean_ds.transcripts)

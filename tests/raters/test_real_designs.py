"""fit_mfrm and rater_tables on the designs real programmes produce (issue 9, part 1).

Elements with extreme scores are set aside and measured afterwards with FACETS' 0.3-point
extreme-score adjustment; unused score levels are structural zeros; a scale too wide for a
Rasch rating scale is routed to the additive model; disordered thresholds are flagged.
Oracles: the definition of the adjustment (the expected raw score of the element's ratings
equals its raw score moved 0.3 inwards, recomputed here from the published model formula),
the fit on the data without the set-aside elements, the fit on recoded data, and the
independent choice-model maximiser of conftest.py (scipy L-BFGS on the same likelihood).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calib.errors import DataValidationError
from calib.raters import fit_mfrm, rater_tables
from calib.raters._mfrm import ScaleTooWideError

pytestmark = pytest.mark.filterwarnings("ignore:rater_effects. no transcripts given:UserWarning")


def _expected(res, rows: pd.DataFrame) -> np.ndarray:
    """Expected score of each rating from the published rating-scale model formula."""
    b = res.transcripts.set_index("transcript_id").measure
    c = res.raters.set_index("rater_id").measure
    d = res.dimensions.set_index("dimension").measure
    tau = res.thresholds.threshold.to_numpy()
    eta = (
        b[rows.transcript_id].to_numpy()
        - c[rows.rater_id].to_numpy()
        - d[rows.dimension].to_numpy()
    )
    k = np.arange(tau.size + 1)
    z = eta[:, None] * k - np.r_[0.0, np.cumsum(tau)][None, :]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return p @ k


def test_extreme_raters_are_set_aside_and_adjusted(rasch_data):
    df = rasch_data(n_t=80, n_r=5, n_d=3, per_t=3, seed=11)
    # Two crowd raters who only ever give the top (resp. bottom) score to a few transcripts.
    extra = []
    for rid, s, ts in (("easy", 4.0, ["t000", "t001", "t002"]), ("hard", 1.0, ["t003", "t004"])):
        for t in ts:
            for d in ("d0", "d1", "d2"):
                extra.append((t, rid, d, s))
    full = pd.concat([df, pd.DataFrame(extra, columns=df.columns)], ignore_index=True)
    res = fit_mfrm(full, bias_correction=False, tol=1e-10)
    ra = res.raters.set_index("rater_id")
    assert ra.extreme[["easy", "hard"]].all() and not ra.extreme.drop(["easy", "hard"]).any()
    assert ra.loc["easy", "measure"] < ra.drop(["easy", "hard"]).measure.min()  # lenient
    assert ra.loc["hard", "measure"] > ra.drop(["easy", "hard"]).measure.max()  # severe
    assert np.isnan(ra.loc["easy", "infit"]) and np.isfinite(ra.loc["easy", "se"])
    assert res.design["extreme_raters"] == 2
    assert any("extreme" in n and "easy" in n for n in res.notes)
    # Oracle 1: set aside = estimated without them (every other measure unchanged).
    alone = fit_mfrm(df, bias_correction=False, tol=1e-10).raters.set_index("rater_id")
    np.testing.assert_allclose(ra.measure[alone.index], alone.measure, atol=1e-6)
    # Oracle 2: the definition of the adjustment (Linacre, Facets manual: 0.3 score points).
    for rid, raw in (("easy", 3 * 3 * 3 - 0.3), ("hard", 0 + 0.3)):
        rows = full[full.rater_id == rid]
        assert _expected(res, rows).sum() == pytest.approx(raw, abs=1e-6)


def test_extreme_dimension_and_everything_extreme(rasch_data):
    df = rasch_data(n_t=60, n_r=4, n_d=3, per_t=2, seed=2)
    df.loc[df.dimension == "d2", "score"] = 4.0  # nobody ever scores below the top on d2
    res = fit_mfrm(df)
    di = res.dimensions.set_index("dimension")
    assert di.extreme["d2"] and np.isfinite(di.measure["d2"])
    assert di.measure["d2"] < di.measure[["d0", "d1"]].min()  # the easiest dimension
    allmax = df.assign(score=4.0)
    with pytest.raises(DataValidationError, match="at least two categories"):
        fit_mfrm(allmax)


def test_unused_levels_are_structural_zeros(rasch_data):
    df = rasch_data(n_t=120, n_r=4, n_d=3, per_t=2, seed=4)
    gap = df.assign(score=df.score.map({1.0: 1.0, 2.0: 2.0, 3.0: 4.0, 4.0: 5.0}))
    res = fit_mfrm(gap, scale=(1, 5), bias_correction=False, tol=1e-10)
    assert res.thresholds.category.tolist() == [2, 4, 5]
    assert any("3" in n and "never used" in n for n in res.notes)
    # Oracle: the same as the fit of the consecutively recoded data, in score units for the
    # expected scores (3 -> 4, 4 -> 5).
    ref = fit_mfrm(df, bias_correction=False, tol=1e-10)
    np.testing.assert_allclose(res.raters.measure, ref.raters.measure, atol=1e-8)
    np.testing.assert_allclose(res.thresholds.threshold, ref.thresholds.threshold, atol=1e-8)
    mapped = ref.residuals.expected.to_numpy()
    np.testing.assert_allclose(
        res.residuals.expected, np.interp(mapped, [1, 2, 3, 4], [1, 2, 4, 5]), atol=0.5
    )
    assert res.categories.category.tolist() == [1, 2, 4, 5]


def test_level_used_only_by_extreme_elements_is_merged(rasch_data, choice_oracle):
    df = rasch_data(n_t=80, n_r=4, n_d=2, per_t=2, seed=8)
    df = df[df.score > 1]  # nobody else uses the bottom level ...
    extra = [("t000", "lowball", d, 1.0) for d in ("d0", "d1")]  # ... except one extreme rater
    full = pd.concat([df, pd.DataFrame(extra, columns=df.columns)], ignore_index=True)
    res = fit_mfrm(full, scale=(1, 4), bias_correction=False, tol=1e-10)
    assert res.raters.set_index("rater_id").extreme["lowball"]
    assert res.thresholds.category.tolist()[0] == 3  # categories 2, 3, 4 estimated
    used = res.residuals[res.residuals.used]
    C, D, tau = choice_oracle(used, 2, partial=False)
    np.testing.assert_allclose(res.thresholds.threshold, tau, atol=1e-4)


def test_wide_scale_is_refused_with_a_reason_and_routed(rasch_data):
    rng = np.random.default_rng(0)
    df = rasch_data(n_t=100, n_r=4, n_d=2, per_t=3, seed=3)
    df["score"] = np.clip(df.score * 25 - 25 + rng.integers(-9, 10, len(df)), 0, 100)
    with pytest.raises(ScaleTooWideError, match="additive model") as err:
        fit_mfrm(df)
    assert "scale=" not in str(err.value)  # no hint naming an option the CLI lacks
    tables = rater_tables(df, plan=False)
    assert "severity" in set(tables["effects"].effect)
    notes = " ".join(tables["notes"].note)
    assert "additive model" in notes and "score levels" in notes


def test_disordered_thresholds_are_flagged(choice_oracle):
    # SYNTHETIC: rating-scale data generated with a disordered middle threshold.
    rng = np.random.default_rng(5)
    n_t, n_r, n_d = 400, 4, 2
    tau = np.array([-1.0, 1.0, 0.2])
    B, C = rng.normal(0, 1.5, n_t), np.array([-0.3, -0.1, 0.1, 0.3])
    t = np.repeat(np.arange(n_t), 2 * n_d)
    r = np.repeat(np.concatenate([rng.choice(n_r, 2, replace=False) for _ in range(n_t)]), n_d)
    d = np.tile(np.arange(n_d), 2 * n_t)
    eta = B[t] - C[r]
    z = eta[:, None] * np.arange(4) - np.r_[0, np.cumsum(tau)]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    x = (rng.random(len(eta))[:, None] > np.cumsum(p, 1)).sum(1)
    df = pd.DataFrame(
        {
            "transcript_id": [f"t{i}" for i in t],
            "rater_id": [f"r{i}" for i in r],
            "dimension": [f"d{i}" for i in d],
            "score": x + 1.0,
        }
    )
    res = fit_mfrm(df, bias_correction=False, tol=1e-10)
    used = res.residuals[res.residuals.used]
    _, _, oracle_tau = choice_oracle(used, 3, partial=False)
    np.testing.assert_allclose(res.thresholds.threshold, oracle_tau, atol=1e-4)
    assert res.thresholds.disordered.tolist() == list(np.r_[False, np.diff(oracle_tau) < 0])
    assert res.thresholds.disordered.tolist() == [False, False, True]
    assert res.design["disordered_thresholds"] == 1
    assert any("disordered" in n and "score 4" in n for n in res.notes)
    tables = rater_tables(df, plan=False)
    assert any("disordered" in n for n in tables["notes"].note)


def test_sirt_ratings1_unchanged_by_the_extreme_handling(sirt_ratings):
    """Real data: sirt::data.ratings1 has extreme students but no extreme rater/criterion."""
    res = fit_mfrm(sirt_ratings)
    assert not res.raters.extreme.any() and not res.dimensions.extreme.any()
    assert res.transcripts.extreme.sum() == res.design["extreme_transcripts"] > 0


# ------------------------------------------------------------------ drift window (part 5)
def _timed(days, residuals, rater="a"):
    return pd.DataFrame(
        {
            "rater_id": rater,
            "transcript_id": [f"{rater}{i}" for i in range(len(days))],
            "rated_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(days, unit="D"),
            "residual": residuals,
        }
    )


def test_drift_is_not_extrapolated_from_a_short_session():
    from calib.raters import drift, drift_windows

    rng = np.random.default_rng(0)
    hours = np.linspace(0, 5 / 24, 40)  # one 5-hour session with a steep in-session trend
    short = _timed(hours, np.linspace(-1, 1, 40) + rng.normal(0, 0.1, 40), "s")
    long_days = np.r_[np.linspace(0, 20, 15), np.linspace(35, 55, 15)]
    long = _timed(long_days, rng.normal(0, 0.3, 30), "l")
    both = pd.concat([short, long], ignore_index=True)
    dr = drift(both).set_index("rater_id")
    assert np.isnan(dr.slope["s"]) and dr.note["s"].startswith("not estimated: ratings span 0.2")
    assert np.isfinite(dr.slope["l"]) and dr.note["l"] == ""
    assert dr.change["l"] == pytest.approx(dr.slope["l"] * dr.span_days["l"] / 30)
    w = drift_windows(both)
    assert set(w.rater_id) == {"l"} and w.window.tolist() == [0, 1]
    # Oracle: scipy's t interval on the per-transcript residuals of each period.
    for row in w.itertuples():
        days = long_days[(long_days // 30) == row.window]
        vals = -long.residual[(long_days // 30) == row.window]
        lo, hi = __import__("scipy").stats.t.interval(
            0.95, len(vals) - 1, loc=vals.mean(), scale=vals.std(ddof=1) / np.sqrt(len(vals))
        )
        assert (row.ci_low, row.ci_high) == pytest.approx((lo, hi))
        assert row.n == len(days) >= 10
    # A rater with one full period and a thin second one is not estimated either.
    thin = _timed(np.r_[np.linspace(0, 20, 15), [40, 41, 42]], rng.normal(0, 0.3, 18), "t")
    assert drift(thin).note[0].startswith("not estimated: 1 period(s)")


def test_rater_effects_do_not_flag_drift_within_hours(rasch_data):
    df = rasch_data(n_t=120, n_r=4, n_d=2, per_t=2, seed=6)
    df["rated_at"] = pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(
        np.arange(len(df)) * 20, unit="s"
    )  # everything within ~3 hours
    df.loc[df.rater_id == "r1", "score"] = np.clip(
        df.loc[df.rater_id == "r1", "score"] + (np.arange((df.rater_id == "r1").sum()) > 60), 1, 4
    )
    tables = rater_tables(df, plan=False)
    dr = tables["effects"][tables["effects"].effect == "drift"]
    assert not dr.flagged.any() and dr.note.str.startswith("not estimated").all()
    assert tables["drift"].empty
    assert any("drift not estimated for 4 rater(s)" in n for n in tables["notes"].note)


def test_quasi_separated_pair_is_reported_not_estimable(rasch_data):
    """Sparse crowds produce pairs with no finite JMLE measure; the fit must not abort."""
    df = rasch_data(n_t=60, n_r=5, n_d=2, per_t=3, seed=12)
    rows = []
    for d in ("d0", "d1"):
        rows += [("tq", r, d, 4.0) for r in ("r0", "r1")]  # everyone else: top score on tq
        rows += [("tq", "rq", d, 2.0)]  # rq: middling on tq ...
        rows += [(t, "rq", d, 1.0) for t in ("t000", "t001", "t002")]  # ... bottom elsewhere
    full = pd.concat([df, pd.DataFrame(rows, columns=df.columns)], ignore_index=True)
    res = fit_mfrm(full)
    ra, tr = res.raters.set_index("rater_id"), res.transcripts.set_index("transcript_id")
    assert ra.not_estimable["rq"] and tr.not_estimable["tq"]
    assert np.isnan(ra.measure["rq"]) and ra.measure.drop("rq").notna().all()
    assert res.design["not_estimable"] == 2
    assert any("quasi-separation" in n for n in res.notes)

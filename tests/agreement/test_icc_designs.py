"""agreement_table picks the ICC form the design supports (issue 9, part 2), with oracles.

* nested designs (each transcript has its own raters): one-way ICC(1)/ICC(1,k) = pingouin's
  ``intraclass_corr`` ICC1/ICC1k on balanced data; on unbalanced data the one-way mean squares
  of statsmodels ``anova_lm`` with Searle's n0;
* incomplete crossed designs (crowds, 3 of 4 reviewers): REML variance components = statsmodels
  ``MixedLM`` (REML, crossed variance components in one group);
* complete designs: the classical two-way ICC(A,1) of ``icc_table`` (itself checked against
  pingouin and Shrout & Fleiss 1979 in test_icc.py).
All data SYNTHETIC except SQuALITY (tests/data/squality, CC BY 4.0).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from refdata_paths import SQUALITY

from calib.agreement import ICC_FORMS, agreement_table, icc_table
from calib.errors import CalibWarning

# Nested designs have no rater pair that meets twice: the QWK note is expected there.
pytestmark = pytest.mark.filterwarnings("ignore:agreement_table.*qwk_mean not computed")


def _long(x: np.ndarray, rater_ids) -> pd.DataFrame:
    rows = [
        (f"t{u:03d}", rater_ids(u, j), "d", x[u, j])
        for u in range(x.shape[0])
        for j in range(x.shape[1])
        if not np.isnan(x[u, j])
    ]
    return pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])


def _table(df, **kw):
    return agreement_table(df, rater_type=None, n_boot=0, **kw).iloc[0]


def _statsmodels_vc(df: pd.DataFrame) -> tuple[float, float, float]:
    md = sm.MixedLM.from_formula(
        "score ~ 1",
        groups=np.ones(len(df)),
        re_formula="0",
        vc_formula={"t": "0 + C(transcript_id)", "r": "0 + C(rater_id)"},
        data=df,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = md.fit(reml=True, method="lbfgs")
    vc = dict(zip(md.exog_vc.names, fit.vcomp, strict=True))
    return vc["t"], vc["r"], fit.scale


def test_nested_balanced_design_is_one_way_and_equals_pingouin():
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(3, 1, (50, 1)) + rng.normal(0, 0.8, (50, 3)))
    df = _long(x, lambda u, j: f"crowd{u}_{j}")  # every transcript has its own 3 raters
    row = _table(df)
    assert row["icc_form"] == ICC_FORMS["one_way"]
    slots = pd.DataFrame(
        [(u, j, x[u, j]) for u in range(50) for j in range(3)], columns=["t", "slot", "y"]
    )
    ref = pg.intraclass_corr(slots, targets="t", raters="slot", ratings="y").set_index("Type")
    assert row["icc"] == pytest.approx(ref.loc["ICC(1,1)", "ICC"], abs=1e-12)
    assert row["icck"] == pytest.approx(ref.loc["ICC(1,k)", "ICC"], abs=1e-12)
    # pingouin rounds its CI to 2 decimals
    assert (row["icc_low"], row["icc_high"]) == pytest.approx(
        ref.loc["ICC(1,1)", "CI95"], abs=0.006
    )
    assert (row["icck_low"], row["icck_high"]) == pytest.approx(
        ref.loc["ICC(1,k)", "CI95"], abs=0.006
    )
    assert row["icc_k"] == 3 and row["icc_n_units"] == 50


def test_nested_unbalanced_design_matches_statsmodels_anova():
    rng = np.random.default_rng(1)
    sizes = rng.integers(2, 6, 40)
    x = np.full((40, 5), np.nan)
    for u, s in enumerate(sizes):
        x[u, :s] = rng.normal(0, 1) + rng.normal(0, 1, s)
    df = _long(x, lambda u, j: f"r{u}_{j}")
    row = _table(df)
    assert row["icc_form"] == ICC_FORMS["one_way"]
    aov = sm.stats.anova_lm(smf.ols("score ~ C(transcript_id)", data=df).fit())
    msb, msw = aov["mean_sq"].iloc[0], aov["mean_sq"].iloc[1]
    N, n = len(df), 40
    n0 = (N - np.sum(sizes.astype(float) ** 2) / N) / (n - 1)  # Searle (1971), p. 474
    assert row["icc"] == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw), abs=1e-10)
    assert row["icck"] == pytest.approx((msb - msw) / msb, abs=1e-10)
    assert row["icc_k"] == pytest.approx(n0)


def test_incomplete_crossed_design_uses_reml_equal_to_statsmodels():
    rng = np.random.default_rng(2)
    n_t, n_r = 90, 6
    truth_t, truth_r = rng.normal(0, 1, n_t), rng.normal(0, 0.6, n_r)
    x = np.full((n_t, n_r), np.nan)
    for u in range(n_t):  # 3 of 6 raters per transcript
        js = rng.choice(n_r, 3, replace=False)
        x[u, js] = truth_t[u] + truth_r[js] + rng.normal(0, 0.7, 3)
    df = _long(x, lambda u, j: f"r{j}")
    row = _table(df)
    assert row["icc_form"] == ICC_FORMS["reml"]
    vt, vr, ve = _statsmodels_vc(df)
    assert row["icc"] == pytest.approx(vt / (vt + vr + ve), rel=2e-3)
    assert row["icck"] == pytest.approx(vt / (vt + (vr + ve) / 3), rel=2e-3)
    assert row["icc_low"] < row["icc"] < row["icc_high"]
    assert row["icck_low"] < row["icck"] < row["icck_high"]


def test_complete_design_keeps_the_classical_two_way_form():
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(3, 1, (30, 1)) + rng.normal(0, 0.7, (30, 4)) + [0, 0.5, -0.3, 0])
    row = _table(_long(x, lambda u, j: f"r{j}"))
    ref = icc_table(x)
    assert row["icc_form"] == ICC_FORMS["two_way"]
    assert row["icc"] == pytest.approx(ref.loc["ICC2", "icc"], abs=1e-12)
    assert row["icck_high"] == pytest.approx(ref.loc["ICC2k", "ci_high"], abs=1e-12)


def test_never_na_with_two_pairable_units_and_warning_text_is_whole():
    df = pd.DataFrame(
        {
            "transcript_id": ["a", "a", "b", "b", "c"],
            "rater_id": ["p", "q", "r", "s", "t"],
            "dimension": "d",
            "score": [1.0, 2.0, 3.0, 4.0, 2.0],
        }
    )
    with pytest.warns(CalibWarning, match="rater pairs never share two transcripts"):
        row = _table(df)
    assert np.isfinite(row["icc"]) and row["icc_form"] == ICC_FORMS["one_way"]
    with pytest.warns(CalibWarning) as rec:
        _table(df[df.transcript_id != "b"])
    text = " ".join(str(w.message) for w in rec)
    # the reason contains a ';' and used to be cut there
    assert "1 unit(s) with two or more ratings; ICC needs at least 2)" in text


def test_simulated_crowd_of_283_raters():
    """A crowd design (issue 9): items x 5 ratings from a pool of 283 raters, REML ICC."""
    rng = np.random.default_rng(4)
    n_t, n_r = 300, 283
    item, sev = rng.normal(0, 1, n_t), rng.normal(0, 0.4, n_r)
    rows = []
    for u in range(n_t):
        for j in rng.choice(n_r, 5, replace=False):
            s = np.clip(np.round(3 + item[u] + sev[j] + rng.normal(0, 0.7)), 1, 5)
            rows.append((f"t{u}", f"w{j}", "d", s))
    df = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])
    with pytest.warns(CalibWarning, match="qwk_mean not computed: rater pairs share a median"):
        row = _table(df, categories=[1, 2, 3, 4, 5])
    assert row["icc_form"] == ICC_FORMS["reml"] and row["n_raters"] == df.rater_id.nunique()
    vt, vr, ve = _statsmodels_vc(df)
    assert row["icc"] == pytest.approx(vt / (vt + vr + ve), rel=5e-3)
    assert np.isfinite(row["alpha_ordinal"]) and np.isfinite(row["exact_agreement"])
    assert np.isnan(row["qwk_mean"])  # pairs of crowd raters meet on 1-2 items


def test_anonymous_slots_get_agreement_and_one_way_icc():
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(3, 1, (40, 1)) + rng.normal(0, 0.8, (40, 3)))
    df = _long(x, lambda u, j: f"x{u}{j}").assign(rater_id=np.nan)  # no rater identities
    row = _table(df, categories=np.arange(-2, 9))
    assert row["icc_form"] == ICC_FORMS["one_way"] and pd.isna(row["n_raters"])
    assert np.isfinite(row["alpha_ordinal"]) and pd.isna(row["qwk_mean"])
    named = _table(_long(x, lambda u, j: f"x{u}_{j}"), categories=np.arange(-2, 9))
    assert row["icc"] == pytest.approx(named["icc"], abs=1e-12)
    assert row["alpha_ordinal"] == pytest.approx(named["alpha_ordinal"], abs=1e-12)


def test_squality_three_of_four_reviewers_is_reml():
    df = pd.read_csv(SQUALITY / "ratings.csv")  # vendored, CC BY 4.0 (tests/data/squality)
    tab = agreement_table(df, n_boot=0, categories=np.arange(0, 101)).set_index("dimension")
    assert (tab.icc_form == ICC_FORMS["reml"]).all()
    vt, vr, ve = _statsmodels_vc(df[df.dimension == "overall"])
    assert tab.loc["overall", "icc"] == pytest.approx(vt / (vt + vr + ve), rel=2e-3)

"""validate-grader statistics against RSMTool's published outputs and independent oracles.

Reference: ETS RSMTool test data (Apache-2.0), ../shared/refdata/rsmtool/ -- rsmeval run
``lr-eval-with-h2`` on ``predictions_scaled_with_subgroups.csv`` (200 responses, h1/h2,
subgroups L1), RSMTool commit a844f716; see that folder's README for the definitions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from refdata_paths import RSMTOOL

from calib.errors import ConfigError, DataValidationError
from calib.graders._hmstats import (
    multinomial_weights,
    ols,
    weighted_hh_metrics,
    weighted_hm_metrics,
)
from calib.graders.validate import (
    Criteria,
    fairness_metrics,
    human_consensus,
    length_bias,
    resolve_grader_id,
    subgroup_dsm,
    validate_grader,
)

REF = RSMTOOL
EVAL = REF / "lr-eval-with-h2"


@pytest.fixture(scope="module")
def rsm():
    df = pd.read_csv(REF / "inputs" / "predictions_scaled_with_subgroups.csv")
    # rsmeval config: scale_with asis, trim_min 1, trim_max 6 -> clip to [0.5002, 6.4998]
    df["sys"] = df["score"].clip(1 - 0.4998, 6 + 0.4998)
    return df


def test_hm_metrics_reproduce_rsmtool_eval(rsm):
    # lr_eval_with_h2_eval.csv, rows "scale_trim" (continuous metrics) and "scale_trim_round"
    # (kappa, exact_agr, adj_agr are computed on rounded system scores)
    ref = pd.read_csv(EVAL / "lr_eval_with_h2_eval.csv", index_col=0)
    got = weighted_hm_metrics(rsm["h1"].to_numpy(), rsm["sys"].to_numpy()).iloc[0]
    for m in ["N", "h_mean", "h_sd", "sys_mean", "sys_sd", "corr", "wtkappa", "R2", "SMD", "RMSE"]:
        assert got[m] == pytest.approx(ref.loc["scale_trim", m], abs=1e-6), m
    for m in ["kappa", "exact_agr", "adj_agr"]:
        assert got[m] == pytest.approx(ref.loc["scale_trim_round", m], abs=1e-6), m


def test_hh_metrics_and_degradation_reproduce_rsmtool(rsm):
    # lr_eval_with_h2_consistency.csv and lr_eval_with_h2_degradation.csv
    cons = pd.read_csv(EVAL / "lr_eval_with_h2_consistency.csv").iloc[0]
    hh = weighted_hh_metrics(rsm["h1"].to_numpy(), rsm["h2"].to_numpy()).iloc[0]
    for m in ["corr", "wtkappa", "kappa", "exact_agr", "adj_agr", "SMD"]:
        assert hh[m] == pytest.approx(cons[m], abs=1e-6), m
    deg = pd.read_csv(EVAL / "lr_eval_with_h2_degradation.csv", index_col=0)
    hm = weighted_hm_metrics(rsm["h1"].to_numpy(), rsm["sys"].to_numpy()).iloc[0]
    for m in ["corr", "wtkappa", "kappa", "SMD"]:
        assert hm[m] - hh[m] == pytest.approx(deg.loc["scale_trim", m], abs=1e-6), m
    for m in ["exact_agr", "adj_agr"]:
        assert hm[m] - hh[m] == pytest.approx(deg.loc["scale_trim_round", m], abs=1e-6), m


def test_fairness_reproduces_rsmtool_osa_osd_csd(rsm):
    # lr_eval_with_h2_fairness_metrics_by_L1.csv (Loukina, Madnani & Zechner 2019)
    ref = pd.read_csv(EVAL / "lr_eval_with_h2_fairness_metrics_by_L1.csv", index_col=0)
    got = fairness_metrics(rsm["sys"].to_numpy(), rsm["h1"].to_numpy(), rsm["L1"].to_numpy())
    names = {
        "OSA": "Overall score accuracy",
        "OSD": "Overall score difference",
        "CSD": "Conditional score difference",
    }
    for short, long_ in names.items():
        assert got.loc[short, "R2"] == pytest.approx(float(ref.loc["R2", long_]), abs=1e-6), short
        assert got.loc[short, "p_value"] == pytest.approx(float(ref.loc["sig", long_]), abs=1e-6), (
            short
        )
        assert got.loc[short, "base_group"] == ref.loc["R2", "base_category"] == "Vulcan"


def test_subgroup_dsm_reproduces_rsmtool(rsm):
    # lr_eval_with_h2_eval_by_L1.csv, column DSM.scale_trim
    ref = pd.read_csv(EVAL / "lr_eval_with_h2_eval_by_L1.csv", index_col=0)
    got = subgroup_dsm(rsm["sys"].to_numpy(), rsm["h1"].to_numpy(), rsm["L1"].to_numpy()).set_index(
        "group"
    )
    for g in ["Esperanto", "Klingon", "Navi", "Vulcan"]:
        assert got.loc[g, "DSM"] == pytest.approx(ref.loc[g, "DSM.scale_trim"], abs=1e-6), g
        assert got.loc[g, "N"] == ref.loc[g, "N"]


def test_ols_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(80), rng.normal(size=(80, 3))])
    y = X @ [1.0, 0.5, -0.2, 0.0] + rng.normal(size=80)
    ref = sm.OLS(y, X).fit()
    got = ols(y, X)
    np.testing.assert_allclose(got["beta"], ref.params, atol=1e-10)
    np.testing.assert_allclose(got["se"], ref.bse, atol=1e-10)
    assert got["r2_adj"] == pytest.approx(ref.rsquared_adj, abs=1e-12)
    assert got["f_pvalue"] == pytest.approx(ref.f_pvalue, abs=1e-12)


def test_length_bias_matches_statsmodels_and_finds_planted_bias():
    smf = pytest.importorskip("statsmodels.formula.api")
    rng = np.random.default_rng(11)
    n = 300
    cons = rng.integers(1, 5, n).astype(float)
    words = rng.integers(40, 600, n).astype(float)
    # SYNTHETIC: a grader that adds 0.3 points per 100 words on top of the consensus
    err = 0.3 * words / 100 + rng.normal(0, 0.5, n)
    got = length_bias(err, words, cons)
    ref = smf.ols("e ~ I(w / 100) + C(c)", pd.DataFrame({"e": err, "w": words, "c": cons})).fit()
    assert got["slope_per_100_words"] == pytest.approx(ref.params["I(w / 100)"], abs=1e-10)
    assert got["p_value"] == pytest.approx(ref.pvalues["I(w / 100)"], abs=1e-10)
    lo, hi = ref.conf_int().loc["I(w / 100)"]
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((lo, hi), abs=1e-10)
    assert got["p_value"] < 1e-6
    # no planted bias -> no detection at the 1% level for this seed
    clean = length_bias(rng.normal(0, 0.5, n), words, cons)
    assert clean["p_value"] > 0.01


def test_bootstrap_weights_are_deterministic_and_resample_units():
    a = multinomial_weights(50, 20, np.random.default_rng(5))
    b = multinomial_weights(50, 20, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert (a.sum(axis=1) == 50).all()
    # the weighted statistic of a replicate equals the statistic of the explicitly resampled data
    rng = np.random.default_rng(6)
    h = rng.integers(1, 5, 50).astype(float)
    s = np.clip(h + rng.integers(-1, 2, 50), 1, 4).astype(float)
    idx = np.repeat(np.arange(50), a[0].astype(int))
    w_row = weighted_hm_metrics(h, s, a[:1]).iloc[0]
    explicit = weighted_hm_metrics(h[idx], s[idx]).iloc[0]
    pd.testing.assert_series_equal(w_row, explicit, check_names=False, atol=1e-12)


def test_human_consensus_rounds_half_up():
    r = pd.DataFrame(
        {
            "transcript_id": ["a", "a", "b", "b", "c"],
            "rater_type": "human",
            "dimension": "d",
            "score": [2.0, 3.0, 3.0, 4.0, np.nan],
        }
    )
    assert human_consensus(r)["d"].tolist() == [3.0, 4.0]
    assert human_consensus(r, rounded=False)["d"].tolist() == [2.5, 3.5]
    with pytest.raises(DataValidationError):
        human_consensus(r.assign(rater_type="rule"))


def test_criteria_from_mapping_names_bad_keys():
    assert (
        Criteria.from_mapping({"min_wtkappa": 0.8, "require_beats_length": False}).min_wtkappa
        == 0.8
    )
    with pytest.raises(ConfigError, match="crit.yaml.min_qwk"):
        Criteria.from_mapping({"min_qwk": 0.7}, source="crit.yaml")
    with pytest.raises(ConfigError, match="expected a number"):
        Criteria.from_mapping({"max_abs_smd": "small"})


def test_resolve_grader_id():
    r = pd.DataFrame(
        {
            "rater_id": ["rules-aaaa1111", "rules-bbbb2222", "length-cccc3333", "r01"],
            "rater_type": ["rule", "rule", "rule", "human"],
        }
    )
    assert resolve_grader_id(r, "length") == "length-cccc3333"
    with pytest.raises(DataValidationError, match="ambiguous"):
        resolve_grader_id(r, "rules")
    with pytest.raises(DataValidationError, match="no machine ratings"):
        resolve_grader_id(r, "llm")


# --- end to end on SYNTHETIC data with planted graders --------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    from calib.rubric import load_rubric
    from calib.simulate import SimulationConfig, simulate_dataset

    rubric = load_rubric(Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml")
    ds = simulate_dataset(SimulationConfig(n_transcripts=80, seed=21))  # SYNTHETIC
    return rubric, ds


def _machine(ds, rubric, name, scores, reasons=None):
    t = ds.true_scores
    return pd.DataFrame(
        {
            "transcript_id": t["transcript_id"],
            "rater_id": name,
            "rater_type": "rule",
            "dimension": t["dimension"],
            "score": scores,
            "rubric_id": rubric.id,
            "rubric_version": rubric.version,
            "rated_at": pd.Timestamp("2026-07-01", tz="UTC"),
            "rationale": None,
            "run_id": "synthetic",
            "unscored_reason": reasons,
        }
    )


def test_validate_grader_passes_a_good_grader_and_fails_a_bad_one(synthetic):
    rubric, ds = synthetic
    true = ds.true_scores["true_score"].to_numpy(float)
    good = np.clip(np.floor(true + 0.5), 1, 4)
    rng = np.random.default_rng(0)
    noisy = rng.integers(1, 5, len(true)).astype(float)
    ratings = pd.concat(
        [
            ds.ratings,
            _machine(ds, rubric, "good-00000001", good),
            _machine(ds, rubric, "noise-00000002", noisy),
        ],
        ignore_index=True,
    )
    crit = Criteria(min_degradation=-1, max_abs_subgroup_smd=1, min_n=30)
    res = validate_grader(ratings, "good", rubric, ds.transcripts, criteria=crit, n_boot=50, seed=1)
    bad = validate_grader(
        ratings, "noise", rubric, ds.transcripts, criteria=crit, n_boot=50, seed=1
    )
    assert len(res.decision) == len(bad.decision) == 8
    # the true-score grader agrees with the consensus better than any human does with another
    assert (res.decision["wtkappa"] > bad.decision["wtkappa"] + 0.3).all()
    assert not bad.decision["passed"].any()
    assert bad.decision["reason"].str.contains("wtkappa").all()
    d = res.decision
    assert ((d["wtkappa_low"] <= d["wtkappa"]) & (d["wtkappa"] <= d["wtkappa_high"])).all()
    assert set(res.metrics["comparison"]) >= {
        "consensus",
        "h1",
        "human_human",
        "degradation",
        "length_baseline",
    }
    assert set(res.fairness["metric"]) == {"OSA", "OSD", "CSD"}
    assert {"seniority"} <= set(res.subgroups["variable"])
    assert len(res.per_rater) > 0
    # deterministic given the seed
    again = validate_grader(
        ratings, "good", rubric, ds.transcripts, criteria=crit, n_boot=50, seed=1
    )
    pd.testing.assert_frame_equal(res.decision, again.decision)


def test_unscored_rows_never_pass(synthetic):
    rubric, ds = synthetic
    true = ds.true_scores["true_score"].to_numpy(float)
    score = np.clip(np.floor(true + 0.5), 1, 4)
    dim = ds.true_scores["dimension"].to_numpy()
    # unscore half of one dimension's transcripts
    drop = (dim == "adaptability") & (
        ds.true_scores.groupby("dimension").cumcount().to_numpy() % 2 == 0
    )
    score = np.where(drop, np.nan, score)
    reasons = np.where(drop, "no_followup: synthetic", None)
    ratings = pd.concat(
        [ds.ratings, _machine(ds, rubric, "half-00000003", score, reasons)], ignore_index=True
    )
    res = validate_grader(ratings, "half", rubric, ds.transcripts, n_boot=0)
    row = res.decision.set_index("dimension").loc["adaptability"]
    assert not row["passed"] and "unscored 50%" in row["reason"]


def test_validate_rejects_bad_arguments(synthetic):
    rubric, ds = synthetic
    with pytest.raises(ConfigError, match="n_boot"):
        validate_grader(ds.ratings, "x", rubric, n_boot=-1)
    with pytest.raises(DataValidationError, match="no machine ratings"):
        validate_grader(ds.ratings, "rules", rubric)
    with pytest.raises(ConfigError, match="subgroups"):
        r = pd.concat(
            [ds.ratings, _machine(ds, rubric, "g-1", np.ones(len(ds.true_scores)))],
            ignore_index=True,
        )
        validate_grader(r, "g", rubric, ds.transcripts, subgroups=["shoe_size"], n_boot=0)


def test_vectorised_bootstrap_twin_equals_calib_agreement_point_estimates():
    # The bootstrap uses calib.graders._hmstats; point estimates use calib.agreement. They
    # must be the same statistic (checked on random integer scores incl. ties and constant runs).
    from calib.agreement import human_machine_metrics

    rng = np.random.default_rng(12)
    for n in (5, 40, 300):
        h = rng.integers(1, 5, n).astype(float)
        s = np.clip(h + rng.integers(-2, 3, n), 1, 4).astype(float)
        h2 = np.clip(h + rng.integers(-1, 2, n), 1, 4).astype(float)
        ref = human_machine_metrics(h, s, second_human=h2, trim_min=1, trim_max=4)
        got = weighted_hm_metrics(h, s).iloc[0]
        for m in [
            "N",
            "h_mean",
            "h_sd",
            "sys_mean",
            "sys_sd",
            "corr",
            "wtkappa",
            "R2",
            "SMD",
            "RMSE",
        ]:
            assert got[m] == pytest.approx(ref.eval.loc["raw_trim", m], abs=1e-12), m
        for m in ["kappa", "exact_agr", "adj_agr"]:
            assert got[m] == pytest.approx(ref.eval.loc["raw_trim_round", m], abs=1e-12), m
        hh = weighted_hh_metrics(h, h2).iloc[0]
        for m in ["corr", "wtkappa", "kappa", "exact_agr", "adj_agr", "SMD"]:
            assert hh[m] == pytest.approx(ref.consistency.iloc[0][m], abs=1e-12), m


def test_prmse_is_reported_from_calib_agreement(synthetic):
    rubric, ds = synthetic
    true = ds.true_scores["true_score"].to_numpy(float)
    ratings = pd.concat(
        [ds.ratings, _machine(ds, rubric, "true-00000004", np.clip(np.floor(true + 0.5), 1, 4))],
        ignore_index=True,
    )
    res = validate_grader(ratings, "true", rubric, ds.transcripts, n_boot=0)
    # a grader reading the (synthetic) true score predicts it better than one human does
    assert (res.decision["prmse"] > 0.5).all()


def test_constant_grader_gives_nan_corr_with_warning_and_a_reason(synthetic):
    from calib.errors import CalibWarning

    rubric, ds = synthetic
    ratings = pd.concat(
        [ds.ratings, _machine(ds, rubric, "const-00000005", np.full(len(ds.true_scores), 3.0))],
        ignore_index=True,
    )
    with pytest.warns(CalibWarning, match="do not vary"):
        res = validate_grader(ratings, "const", rubric, ds.transcripts, n_boot=10)
    d = res.decision
    assert d["corr"].isna().all() and (d["wtkappa"] == 0).all() and not d["passed"].any()
    assert d["reason"].str.contains("corr undefined: grader scores do not vary").all()


# --- invariances (hypothesis) ---------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

_scores = arrays(np.float64, 40, elements=st.integers(1, 4).map(float))
_groups = arrays(object, 40, elements=st.sampled_from(["a", "b", "c"]))


@settings(max_examples=30, deadline=None)
@given(h=_scores, s=_scores, g=_groups)
def test_dsm_is_a_weighted_zero_sum(h, s, g):
    # z-scores have mean 0 over all transcripts, so the N-weighted DSMs sum to 0
    if np.ptp(h) == 0 or np.ptp(s) == 0:
        return
    d = subgroup_dsm(s, h, g)
    assert float((d["N"] * d["DSM"]).sum()) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(h=_scores, s=_scores, g=_groups, perm_seed=st.integers(0, 2**16))
def test_fairness_does_not_depend_on_row_order_or_labels(h, s, g, perm_seed):
    if len(set(g)) < 2:
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = fairness_metrics(s, h, g)
        p = np.random.default_rng(perm_seed).permutation(40)
        relabel = np.array([{"a": "z", "b": "y", "c": "x"}[x] for x in g], dtype=object)
        b = fairness_metrics(s[p], h[p], relabel[p])
    np.testing.assert_allclose(a["R2"].to_numpy(), b["R2"].to_numpy(), atol=1e-9, equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(shift=arrays(np.float64, 4, elements=st.floats(-2, 2)))
def test_length_bias_ignores_level_specific_offsets(shift):
    # the consensus enters as a categorical control: adding any constant per consensus level
    # to the error leaves the word-count slope unchanged
    rng = np.random.default_rng(0)
    c = rng.integers(1, 5, 120).astype(float)
    w = rng.integers(50, 600, 120).astype(float)
    e = 0.2 * w / 100 + rng.normal(0, 0.3, 120)
    a = length_bias(e, w, c)["slope_per_100_words"]
    b = length_bias(e + shift[(c - 1).astype(int)], w, c)["slope_per_100_words"]
    assert a == pytest.approx(b, abs=1e-9)


def test_bootstrap_over_distinct_pairs_has_the_unit_bootstrap_law(monkeypatch):
    """``bootstrap_stats`` resamples counts of distinct (human, grader) rows.

    Exactness: a unit-level count vector aggregated onto the distinct rows gives the same weighted
    statistics (the statistics are functions of the weighted empirical distribution). Law: a
    multinomial draw of n over distinct rows with p_j = count_j / n is the distribution of those
    aggregated counts, so the bootstrap mean and SD of wtkappa match the unit-level bootstrap's
    within Monte Carlo error (4,000 replicates each).
    """
    import calib.graders._hmstats as hm

    rng = np.random.default_rng(7)
    h = rng.integers(1, 5, 300).astype(float)
    s = np.clip(h + rng.integers(-1, 2, 300), 1, 4).astype(float)
    # exactness of the aggregation for one unit-level replicate
    a = multinomial_weights(300, 1, np.random.default_rng(8))[0]
    uniq, inv = np.unique(np.column_stack([h, s]), axis=0, return_inverse=True)
    agg = np.bincount(inv.ravel(), weights=a, minlength=len(uniq))
    pd.testing.assert_frame_equal(
        weighted_hm_metrics(uniq[:, 0], uniq[:, 1], agg[None, :]),
        weighted_hm_metrics(h, s, a[None, :]),
        atol=1e-12,
    )
    # same law as the unit bootstrap
    (fast,) = hm.bootstrap_stats((h, s), 4000, np.random.default_rng(9), weighted_hm_metrics)
    slow = weighted_hm_metrics(h, s, multinomial_weights(300, 4000, np.random.default_rng(9)))
    assert len(uniq) <= 16 and len(fast) == 4000
    se = slow["wtkappa"].std()
    assert fast["wtkappa"].mean() == pytest.approx(
        slow["wtkappa"].mean(), abs=4 * se / np.sqrt(2000)
    )
    assert fast["wtkappa"].std() == pytest.approx(se, rel=0.1)
    # chunking over replicates does not change the draws
    monkeypatch.setattr(hm, "_CHUNK_BYTES", 8 * 16 * 7)  # 7 replicates per chunk
    (chunked,) = hm.bootstrap_stats((h, s), 50, np.random.default_rng(9), weighted_hm_metrics)
    pd.testing.assert_frame_equal(chunked, fast.iloc[:50].reset_index(drop=True))

"""agreement_table picks the statistics that fit each dimension's scale (issue 9, part 3).

Oracle: the ``krippendorff`` package (Castro 2017, https://github.com/pln-fing-udelar/fast-krippendorff)
for interval and ordinal alpha; scikit-learn's ``cohen_kappa_score(weights="quadratic")`` for
QWK on the few-level scale.
"""

import itertools

import krippendorff
import numpy as np
import pandas as pd
import pytest
from refdata_paths import SQUALITY
from sklearn.metrics import cohen_kappa_score

from calib.agreement import agreement_table
from calib.rubric import Scale, load_rubric


@pytest.fixture(scope="module")
def squality():
    return pd.read_csv(SQUALITY / "ratings.csv"), load_rubric(SQUALITY / "squality.yaml")


def _wide(long, dim):
    return long[long["dimension"] == dim].pivot(
        index="transcript_id", columns="rater_id", values="score"
    )


def test_wide_scale_uses_interval_alpha_and_no_level_statistics(squality):
    long, rubric = squality
    tab = agreement_table(long, scales=rubric.scales, n_boot=50, seed=1)
    assert tab["scale"].tolist() == ["0-100 (101 levels)"] * 3
    assert tab["alpha_metric"].tolist() == ["interval"] * 3
    for row in tab.itertuples():
        w = _wide(long, row.dimension).to_numpy(dtype=float)
        want = krippendorff.alpha(reliability_data=w.T, level_of_measurement="interval")
        assert row.alpha == pytest.approx(want, abs=1e-12)
        assert row.alpha_interval == pytest.approx(want, abs=1e-12)
        assert row.alpha_low < row.alpha < row.alpha_high
        ordinal = krippendorff.alpha(
            reliability_data=w.T,
            level_of_measurement="ordinal",
            value_domain=list(range(0, 101)),
        )
        assert row.alpha_ordinal == pytest.approx(ordinal, abs=1e-12)
    assert tab[["qwk_mean", "exact_agreement", "adjacent_agreement"]].isna().all().all()
    # the band reads the interval alpha: SQuALITY correctness is unreliable, overall tentative
    assert tab.set_index("dimension")["band"].to_dict() == {
        "correctness": "unreliable",
        "coverage": "tentative",
        "overall": "tentative",
    }


def test_continuous_scale_fractional_scores():
    rng = np.random.default_rng(3)
    truth = rng.uniform(1, 7, 40)
    rows = [
        (f"t{i}", f"r{j}", "warmth", float(np.clip(np.round(t + rng.normal(0, 0.8), 2), 1, 7)))
        for i, t in enumerate(truth)
        for j in range(3)
        if not (i % 5 == 0 and j == 2)  # some transcripts with two ratings only
    ]
    long = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])
    long["rater_type"] = "human"
    tab = agreement_table(long, scales={"warmth": Scale(1, 7, kind="continuous")}, n_boot=0)
    w = _wide(long, "warmth").to_numpy(dtype=float)
    want = krippendorff.alpha(reliability_data=w.T, level_of_measurement="interval")
    assert tab.loc[0, "alpha"] == pytest.approx(want, abs=1e-12)
    assert tab.loc[0, "alpha_metric"] == "interval"
    assert tab.loc[0, "scale"] == "1-7 (continuous)"
    assert np.isnan(tab.loc[0, "alpha_ordinal"]) and np.isnan(tab.loc[0, "qwk_mean"])


def test_few_level_scale_keeps_every_statistic():
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 6, 60)
    rows = [
        (f"t{i}", f"r{j}", "d", int(np.clip(t + rng.integers(-1, 2), 1, 5)))
        for i, t in enumerate(truth)
        for j in range(3)
    ]
    long = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])
    long["rater_type"] = "human"
    tab = agreement_table(long, scales=Scale(1, 5), n_boot=0)
    w = _wide(long, "d")
    want = krippendorff.alpha(
        reliability_data=w.to_numpy(dtype=float).T,
        level_of_measurement="ordinal",
        value_domain=[1, 2, 3, 4, 5],
    )
    assert tab.loc[0, "alpha_metric"] == "ordinal"
    assert tab.loc[0, "alpha"] == pytest.approx(want, abs=1e-12)
    qwk = np.mean(
        [
            cohen_kappa_score(w[a], w[b], weights="quadratic", labels=[1, 2, 3, 4, 5])
            for a, b in itertools.combinations(w.columns, 2)
        ]
    )
    assert tab.loc[0, "qwk_mean"] == pytest.approx(qwk, abs=1e-12)
    assert tab.loc[0, "adjacent_agreement"] >= tab.loc[0, "exact_agreement"] > 0

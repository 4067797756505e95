"""human_machine_metrics and prmse reproduce ETS RSMTool's published test outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from refdata_paths import RSMTOOL

from calib.agreement import human_machine_metrics, prmse
from calib.errors import CalibWarning, DataValidationError

REF = RSMTOOL
EXP = REF / "lr-eval-with-h2"


@pytest.fixture(scope="module")
def rsm():
    data = pd.read_csv(REF / "inputs" / "predictions_scaled_with_subgroups.csv")
    # lr_eval_with_h2.json: human h1, second human h2, system "score", scale_with asis, trim 1-6
    return data, human_machine_metrics(
        data["h1"], data["score"], data["h2"], trim_min=1, trim_max=6
    )


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(EXP / f"lr_eval_with_h2_{name}.csv", index_col=0)


# RSMTool commit a844f71, tests/data/experiments/lr-eval-with-h2/output/*.csv (rsmeval
# with scale_with "asis": its rows scale / scale_trim / scale_trim_round are calib's
# raw / raw_trim / raw_trim_round).
ROWS = {"scale": "raw", "scale_trim": "raw_trim", "scale_trim_round": "raw_trim_round"}


def test_eval_table(rsm):
    _, res = rsm
    ref = _ref("eval")
    ours = res.eval.loc[[ROWS[i] for i in ref.index], ref.columns]
    np.testing.assert_allclose(
        ours.to_numpy(dtype=float), ref.to_numpy(dtype=float), atol=1e-6, rtol=0
    )


def test_consistency_and_degradation(rsm):
    _, res = rsm
    cons = _ref("consistency")
    np.testing.assert_allclose(
        res.consistency[cons.columns].to_numpy(dtype=float), cons.to_numpy(dtype=float), atol=1e-6
    )
    deg = _ref("degradation")
    ours = res.degradation.loc[[ROWS[i] for i in deg.index], deg.columns]
    np.testing.assert_allclose(ours.to_numpy(dtype=float), deg.to_numpy(dtype=float), atol=1e-6)


def test_eval_by_subgroup(rsm):
    # lr_eval_with_h2_eval_by_L1.csv: per-L1 metrics ("X.scale_trim" / "X.scale_trim_round");
    # DSM (subgroup differences, Loukina et al. 2019) is not a human_machine_metrics output.
    data, _ = rsm
    by = _ref("eval_by_L1")
    groups = {"All data": data, **dict(tuple(data.groupby("L1")))}
    checked = 0
    for group, part in groups.items():
        res = human_machine_metrics(part["h1"], part["score"], trim_min=1, trim_max=6)
        for col in by.columns:
            name, _, row = col.partition(".")
            if name == "DSM":
                continue
            ours = res.eval.loc[ROWS.get(row, "raw"), name]
            assert ours == pytest.approx(by.loc[group, col], abs=1e-6), (group, col)
            checked += 1
    assert checked == len(groups) * (len(by.columns) - 2)


def test_prmse_true_score_eval(rsm):
    data, _ = rsm
    ref = _ref("true_score_eval")
    humans = data[["h1", "h2"]]
    trimmed = np.clip(data["score"], 1 - 0.4998, 6 + 0.4998)
    for row, system in (
        ("scale", data["score"]),
        ("scale_trim", trimmed),
        ("scale_trim_round", np.round(trimmed)),
    ):
        ours = prmse(system, humans, details=True)
        np.testing.assert_allclose(
            ours[ref.columns].to_numpy(dtype=float), ref.loc[row].to_numpy(dtype=float), atol=1e-6
        )


def test_prmse_sparse_human_matrix():
    path = REF / "inputs" / "prmse_data_sparse_matrix.csv"
    sparse = pd.read_csv(path)
    full = pd.read_csv(REF / "inputs" / "prmse_data.csv")
    hcols = [c for c in sparse.columns if c.startswith("h")]
    res = prmse(sparse["system"], sparse[hcols], details=True)
    assert res["N single"] + res["N multiple"] == res["N"]
    assert 0 < res["PRMSE true"] < 1
    # the complete data set estimates the same true-score variance within sampling error
    comp = prmse(full["system"], full[hcols], details=True)
    assert res["True score var"] == pytest.approx(comp["True score var"], rel=0.1)


def test_errors():
    with pytest.raises(DataValidationError, match="same length"):
        human_machine_metrics([1, 2, 3], [1, 2])
    with pytest.warns(CalibWarning, match="two human scores"):
        assert np.isnan(prmse([1, 2, 3], [[1, np.nan], [2, np.nan], [3, np.nan]]))


@pytest.mark.parametrize(
    "name, expected",
    [
        # Matt Johnson's R derivation benchmarks as asserted in RSMTool's tests/test_prmse.py
        # (TestPrmseJohnsonData, test_compute_true_score_evaluations_full / _sparse), 7 decimals.
        (
            "prmse_data.csv",
            {
                "N": 10000,
                "N raters": 4,
                "N single": 0,
                "N multiple": 10000,
                "Variance of errors": 0.509375,
                "True score var": 0.7765515,
                "MSE true": 0.3564625,
                "PRMSE true": 0.5409673,
            },
        ),
        (
            "prmse_data_sparse_matrix.csv",
            {
                "N": 10000,
                "N raters": 4,
                "N single": 3421,
                "N multiple": 6579,
                "Variance of errors": 0.5150882,
                "True score var": 0.769816,
                "MSE true": 0.3550792,
                "PRMSE true": 0.538748,
            },
        ),
    ],
)
def test_prmse_reproduces_published_johnson_benchmarks(name, expected):
    path = REF / "inputs" / name
    data = pd.read_csv(path)
    got = prmse(data["system"], data[["h1", "h2", "h3", "h4"]], details=True)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=5e-7), key

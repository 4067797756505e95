"""SQuALITY (real ratings, CC BY 4.0, vendored in tests/data/squality) end to end, as issue 9's
"Done means" asks: ingest -> agree -> raters (both models) -> report, exit 0, no warnings (every
non-calib warning is an error here: tests/strict_cli.py), sensible numbers.

Design: 300 responses, 4 reviewers, each response rated by 3 of them (no response by all 4),
three dimensions on a 0-100 slider; rubric tests/data/squality/squality.yaml (anchors at 0, 25,
50, 75, 100). The figures asserted here are the ones documented in docs/real-data.md.
Oracles: the ``krippendorff`` package (interval alpha), pandas group means (raw severity).
"""

from __future__ import annotations

import json

import krippendorff
import pandas as pd
import pytest
from refdata_paths import SQUALITY
from strict_cli import run_strict


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("squality") / "store"
    res = run_strict(
        [
            "ingest",
            "--transcripts",
            SQUALITY / "transcripts.jsonl",
            "--ratings",
            SQUALITY / "ratings.csv",
            "--rubric",
            SQUALITY / "squality.yaml",
            "--store",
            path,
            "--strict",
        ]
    )
    assert "no validation problems" in res.output
    from calib.io import read_quarantine, read_ratings, read_transcripts

    # every row stored, none quarantined (rows in = rows stored + rows quarantined)
    assert (len(read_ratings(path)), len(read_transcripts(path))) == (2700, 300)
    assert len(read_quarantine(path)) == 0
    return path


@pytest.fixture(scope="module")
def ratings():
    return pd.read_csv(SQUALITY / "ratings.csv")


def test_agree_interval_alpha_matches_krippendorff(store, ratings):
    res = run_strict(["agree", "--store", store, "--n-boot", "200", "--format", "json"])
    tab = pd.DataFrame(json.loads(res.stdout)).set_index("dimension")
    assert list(tab.index) == ["correctness", "coverage", "overall"]
    for dim, g in ratings.groupby("dimension"):
        w = g.pivot(index="transcript_id", columns="rater_id", values="score").to_numpy(float)
        want = krippendorff.alpha(reliability_data=w.T, level_of_measurement="interval")
        assert tab.loc[dim, "alpha"] == pytest.approx(want, abs=1e-9)
    assert tab["alpha_metric"].eq("interval").all()
    assert tab["n_units"].eq(300).all() and tab["n_raters"].eq(4).all()
    # documented in docs/real-data.md
    assert tab["alpha"].round(2).to_dict() == {
        "correctness": 0.46,
        "coverage": 0.78,
        "overall": 0.80,
    }
    assert tab["band"].to_dict() == {
        "correctness": "unreliable",
        "coverage": "tentative",
        "overall": "tentative",
    }
    # a 0-100 slider: no QWK, exact or adjacent agreement
    assert tab[["qwk_mean", "exact_agreement", "adjacent_agreement"]].isna().all().all()


def test_agree_icc_on_the_incomplete_design(store):
    """No response was rated by all four reviewers: the ICC comes from REML variance
    components (issue 9, part 2); single-rater absolute ICC = the G-study's Phi for one rater."""
    res = run_strict(["agree", "--store", store, "--n-boot", "0", "--format", "json"])
    tab = pd.DataFrame(json.loads(res.stdout)).set_index("dimension")
    assert tab["icc"].notna().all(), tab.T
    assert tab["icc_form"].str.contains("REML").all()
    # documented in docs/real-data.md; close to interval alpha, as expected on this design
    assert tab["icc"].round(2).to_dict() == {"correctness": 0.48, "coverage": 0.78, "overall": 0.80}
    plan = pd.DataFrame(
        json.loads(
            run_strict(["raters", "--store", store, "--table", "plan", "--format", "json"]).stdout
        )["plan"]
    )
    phi1 = plan[plan["n_raters"] == 1].set_index("dimension")["Phi"]
    for dim in tab.index:
        assert tab.loc[dim, "icc"] == pytest.approx(phi1[dim], abs=1e-4)


@pytest.mark.parametrize("model", ["mfrm", "additive"])
def test_raters_both_models(store, ratings, model):
    res = run_strict(["raters", "--store", store, "--model", model, "--format", "json"])
    tables = json.loads(res.stdout)
    flags = pd.DataFrame(tables["flags"])
    sev = flags[(flags["effect"] == "severity") & (flags["dimension"] == "correctness")]
    # w6 is by far the most lenient reviewer on correctness: raw mean 22+ points above the others
    raw = ratings[ratings["dimension"] == "correctness"].groupby("rater_id")["score"].mean()
    assert raw.idxmax() == "w6" and raw["w6"] - raw.drop("w6").mean() > 20
    assert "w6" in set(sev.loc[sev["flagged"].astype(bool), "rater_id"])
    # thresholds are in this scale's points (0.2 points of a 1-4 scale = 6.67 of 0-100)
    if "threshold" in flags.columns:
        assert not flags["threshold"].astype(str).str.contains(r"\b0\.2 points").any()


def test_report(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("squality_report")
    res = run_strict(["report", "--store", store, "--out", out])
    md = (out / "report.md").read_text().replace("\\", "")  # undo Markdown escapes
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scale"] == {
        "min": 0,
        "max": 100,
        "type": "ordinal",
        "n_levels": 101,
        "few_levels": False,
        "metric": "interval",
        "labels": {"0": "worst", "50": "middle", "100": "best"},
    }
    # nothing assumes a 1-4 scale or level-by-level advice on a slider
    for bad in ("1 and 4", "level 99", "99 from 100", "4 from 5", "QWK", "Levels almost never"):
        assert bad not in md, bad
    assert "alpha (interval)" in md and "ends of the scale (0 and 100)" in md
    # the anchor advice for correctness names its anchored points, not 16 adjacent level pairs
    assert "Sharpen the 'correctness' anchors (now at 0, 25, 50, 75, 100)" in res.output
    assert "27.2 points on average" in res.output
    facts = summary["sections"]["agreement"]["facts"]["by_dimension"]
    assert round(facts["correctness"]["alpha"], 2) == 0.46

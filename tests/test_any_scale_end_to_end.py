"""A 1-5 rubric and a 0-100 rubric end to end (issue 9, part 3): ingest -> agree -> raters (both
models) -> report and feedback, with every non-calib warning an error (tests/strict_cli.py).

The ratings are SYNTHETIC, drawn here from a seeded latent model: 90 transcripts, 6 raters, 3
per transcript, two dimensions; rater ``r1`` is planted 0.8 levels harsh on 1-5 (16 points on
0-100). Oracles: the ``krippendorff`` package for alpha; the planted harsh rater for severity.
"""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pandas as pd
import pytest
import yaml
from strict_cli import run_strict

SCALES = {
    "likert5": {"min": 1, "max": 5},
    "slider100": {"min": 0, "max": 100},
}


def _rubric(kind: str) -> dict:
    sc = SCALES[kind]
    if kind == "likert5":
        points = {1: "Poor", 2: "Weak", 3: "Adequate", 4: "Good", 5: "Excellent"}
        key = "levels"
    else:
        points = {0: "Useless", 25: "Weak", 50: "Adequate", 75: "Good", 100: "Excellent"}
        key = "anchors"
    return {
        "id": f"test_{kind}",
        "version": "1.0",
        "title": f"Test rubric on a {sc['min']}-{sc['max']} scale (SYNTHETIC)",
        "scale": dict(sc),
        "dimensions": [
            {
                "id": dim,
                "name": dim.title(),
                "description": f"How {dim} is the answer?",
                key: [
                    {"score": s, "anchor": f"{text} {dim}: the answer is {text.lower()}."}
                    for s, text in points.items()
                ],
            }
            for dim in ("accuracy", "clarity")
        ],
    }


def _data(kind: str, tmp_path):
    rng = np.random.default_rng(20260101)
    n_t, raters = 90, [f"r{i}" for i in range(1, 7)]
    truth = rng.normal(0, 1, (n_t, 2))
    rows = []
    for t in range(n_t):
        for r in rng.choice(len(raters), 3, replace=False):
            for d, dim in enumerate(("accuracy", "clarity")):
                x = truth[t, d] - (0.8 if raters[r] == "r1" else 0.0) + rng.normal(0, 0.45)
                if kind == "likert5":
                    score = int(np.clip(np.round(3 + x), 1, 5))
                else:
                    score = int(np.clip(np.round(50 + 20 * x), 0, 100))
                rows.append((f"t{t:03d}", raters[r], "human", dim, score))
    ratings = pd.DataFrame(
        rows, columns=["transcript_id", "rater_id", "rater_type", "dimension", "score"]
    )
    (tmp_path / "ratings.csv").write_text(ratings.to_csv(index=False))
    (tmp_path / "transcripts.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "transcript_id": f"t{t:03d}",
                    "question_id": f"q{t % 5}",
                    "question_type": "synthetic",
                    "turns": [
                        {"speaker": "interviewer", "text": "Explain your approach."},
                        {"speaker": "candidate", "text": f"SYNTHETIC answer number {t}."},
                    ],
                }
            )
            + "\n"
            for t in range(n_t)
        )
    )
    (tmp_path / "rubric.yaml").write_text(yaml.safe_dump(_rubric(kind), sort_keys=False))
    return ratings


@pytest.fixture(scope="module", params=list(SCALES))
def run(request, tmp_path_factory):
    kind = request.param
    tmp = tmp_path_factory.mktemp(kind)
    ratings = _data(kind, tmp)
    store = tmp / "store"
    ing = run_strict(
        [
            "ingest",
            "--transcripts",
            tmp / "transcripts.jsonl",
            "--ratings",
            tmp / "ratings.csv",
            "--rubric",
            tmp / "rubric.yaml",
            "--store",
            store,
            "--strict",
        ]
    )
    assert "no validation problems" in ing.output
    return kind, tmp, store, ratings


def test_agree_picks_the_metric_for_the_scale(run):
    kind, _, store, ratings = run
    res = run_strict(["agree", "--store", store, "--n-boot", "100", "--format", "json"])
    tab = pd.DataFrame(json.loads(res.stdout)).set_index("dimension")
    few = kind == "likert5"
    for dim, g in ratings.groupby("dimension"):
        w = g.pivot(index="transcript_id", columns="rater_id", values="score").to_numpy(float)
        metric = "ordinal" if few else "interval"
        domain = list(range(1, 6)) if few else None
        want = krippendorff.alpha(
            reliability_data=w.T, level_of_measurement=metric, value_domain=domain
        )
        assert tab.loc[dim, "alpha_metric"] == metric
        assert tab.loc[dim, "alpha"] == pytest.approx(want, abs=1e-9)  # JSON keeps 10 digits
        # planted noise 0.45 vs latent sd 1: clearly reliable but not perfect
        assert 0.6 < tab.loc[dim, "alpha"] < 0.95
        assert pd.notna(tab.loc[dim, "qwk_mean"]) == few
        assert pd.notna(tab.loc[dim, "adjacent_agreement"]) == few
    table = run_strict(["agree", "--store", store, "--n-boot", "50"]).stdout
    assert ("QWK" in table) == few and ("adj" in table) == few
    assert ("1-5 (5 levels)" if few else "0-100 (101 levels)") in table


@pytest.mark.parametrize("model", ["mfrm", "additive"])
def test_raters_find_the_planted_harsh_rater(run, model):
    kind, _, store, _ = run
    res = run_strict(["raters", "--store", store, "--model", model, "--format", "json"])
    tables = json.loads(res.stdout)
    flags = pd.DataFrame(tables["flags"])
    harsh = flags[(flags["effect"] == "severity") & flags["flagged"]]
    assert "r1" in set(harsh["rater_id"]), flags
    # nobody else is planted: at most one other severity flag by chance
    assert len(set(harsh["rater_id"]) - {"r1"}) <= 1


def test_report_and_feedback_speak_the_scale(run):
    kind, tmp, store, _ = run
    out = tmp / "report"
    run_strict(["report", "--store", store, "--out", out])
    md = (out / "report.md").read_text().replace("\\", "")  # undo Markdown escapes
    summary = json.loads((out / "summary.json").read_text())
    few = kind == "likert5"
    assert "1 and 4" not in md and "1-4" not in md
    assert summary["scale"]["few_levels"] is few
    assert summary["scale"]["metric"] == ("ordinal" if few else "interval")
    if few:
        assert "ends of the scale (1 and 5)" in md
        assert "alpha (ordinal)" in md
    else:
        assert "ends of the scale (0 and 100)" in md and "alpha (interval)" in md
        assert "90-100" in md  # binned distribution
        assert "level 99" not in md and " vs 100 " not in md and "QWK" not in md
        assert "Levels almost never used" not in md
    fb = tmp / "feedback"
    run_strict(["report", "--store", store, "--out", fb, "--rater", "r1"])
    fmd = (fb / "report.md").read_text().replace("\\", "")
    assert "r1" in fmd and "lower (harsher)" in fmd
    if few:
        assert "a full level" in fmd
    else:
        assert "10 points (a tenth of the scale)" in fmd and "anchor at " in fmd

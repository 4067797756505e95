"""`calib agree` / `calib raters` end to end on designs other than the simulator's (issue 9).

Anonymous annotation slots (a ratings file without rater_id) and a crowd of 283 raters with
raters who only ever give the top score. Transcripts from the SYNTHETIC simulator; ratings
SYNTHETIC. The statistics themselves are checked against their oracles in
tests/agreement/test_icc_designs.py and tests/raters/test_real_designs.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from calib.cli.main import cli
from calib.io import ANONYMOUS_PREFIX, ingest, read_ratings
from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("designs_cli")
    ds = simulate_dataset(SimulationConfig(n_transcripts=120, seed=5))  # SYNTHETIC
    return root, ds, write_dataset(ds, root / "synthetic")


def _run(*args):
    res = CliRunner().invoke(cli, list(map(str, args)))
    assert res.exit_code == 0, res.output
    return res.stdout


def test_anonymous_slots_end_to_end(sim):
    root, ds, files = sim
    human = ds.ratings[ds.ratings.rater_type == "human"]
    anon = root / "anonymous.csv"
    human.drop(columns=["rater_id"]).to_csv(anon, index=False)  # no rater identities
    store = root / "anon_store"
    ingest([files["transcripts.jsonl"]], [anon], rubric=RUBRIC, store=store)
    stored = read_ratings(store)
    assert len(stored) == len(human)  # rows in = rows stored
    assert stored.rater_id.str.startswith(ANONYMOUS_PREFIX).all()
    again = ingest([files["transcripts.jsonl"]], [anon], rubric=RUBRIC, store=store)
    assert len(read_ratings(store)) == len(human) and again is not None  # idempotent
    tab = json.loads(_run("agree", "--store", store, "--n-boot", 0, "--format", "json"))
    assert all(r["icc_form"].startswith("ICC(1) one-way") for r in tab)
    assert all(r["n_raters"] is None and r["alpha"] is not None for r in tab)
    out = _run("raters", "--store", store)
    assert "not computed: raters are not identified" in out


def test_crowd_with_extreme_raters_end_to_end(sim):
    root, ds, files = sim
    rng = np.random.default_rng(0)
    ids = ds.transcripts.transcript_id.to_numpy()
    dims = ds.ratings.dimension.unique()
    level = dict(zip(ids, rng.normal(0, 1, ids.size), strict=True))
    rows = []
    for t in ids:
        for r in rng.choice(283, 5, replace=False):
            for d in dims:
                s = 4 if r < 9 else int(np.clip(round(2.5 + level[t] + rng.normal(0, 0.7)), 1, 4))
                rows.append((t, f"w{r:03d}", "human", d, s))
    crowd = root / "crowd.csv"
    pd.DataFrame(
        rows, columns=["transcript_id", "rater_id", "rater_type", "dimension", "score"]
    ).to_csv(crowd, index=False)
    # No candidate metadata: the subgroup analysis is not what this test is about (and its
    # cost grows with the number of raters; see bench/results/crowd.md).
    plain = root / "plain.jsonl"
    with open(files["transcripts.jsonl"]) as src, plain.open("w") as dst:
        for line in src:
            rec = json.loads(line)
            rec.pop("metadata", None)
            dst.write(json.dumps(rec) + "\n")
    store = root / "crowd_store"
    ingest([plain], [crowd], rubric=RUBRIC, store=store)
    tab = json.loads(_run("agree", "--store", store, "--n-boot", 50, "--format", "json"))
    assert all("REML" in r["icc_form"] and r["icc"] is not None for r in tab)
    out = _run("raters", "--store", store, "--model", "mfrm", "--no-plan")
    assert "gave only extreme" in out or "only extreme" in out
    flags = json.loads(
        _run("raters", "--store", store, "--model", "mfrm", "--no-plan", "--format", "json")
    )
    raters = pd.DataFrame(flags["raters"])
    top = raters[raters.rater_id.isin([f"w{r:03d}" for r in range(9)])]
    assert top.extreme.all() and np.isfinite(top.measure).all()

"""Hypothesis properties: invariants of any SYNTHETIC dataset, whatever the seed and size."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calib.simulate import SimulationConfig, simulate_dataset


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    n_raters=st.integers(3, 10),
    clean=st.booleans(),
    lo_hi=st.sampled_from([(2, 3), (1, 1), (3, 3), (2, 2)]),
)
def test_invariants(seed, n, n_raters, clean, lo_hi):
    cfg = SimulationConfig(
        n_transcripts=n, n_raters=n_raters, seed=seed, clean=clean, raters_per_transcript=lo_hi
    )
    ds = simulate_dataset(cfg)
    r = ds.ratings
    assert r["score"].between(1, 4).all() and (r["score"] == np.round(r["score"])).all()
    per_t = r.groupby("transcript_id")["rater_id"].nunique()
    linked = set(ds.planted["linked_transcripts"])
    assert len(linked) == cfg.n_linked
    for tid, k in per_t.items():
        assert k == n_raters if tid in linked else lo_hi[0] <= k <= lo_hi[1]
    assert set(per_t.index) == set(ds.transcripts["transcript_id"])
    when = ds.transcripts.set_index("transcript_id")["interviewed_at"]
    assert (r["rated_at"] > r["transcript_id"].map(when)).all()
    assert len(ds.true_scores) == n * 8
    assert all(m["synthetic"] is True for m in ds.transcripts["metadata"])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_clean_only_changes_scores(seed):
    a = simulate_dataset(SimulationConfig(n_transcripts=15, seed=seed))
    b = simulate_dataset(SimulationConfig(n_transcripts=15, seed=seed, clean=True))
    assert a.transcripts.equals(b.transcripts)
    assert a.ratings[["transcript_id", "rater_id", "dimension", "rated_at"]].equals(
        b.ratings[["transcript_id", "rater_id", "dimension", "rated_at"]]
    )

"""read_ratings: column selection and the Arrow-side rater_type filter give the same rows."""

from __future__ import annotations

import pandas as pd
import pytest
from io_helpers import RUBRIC

from calib.io import ingest, read_ratings


def test_columns_and_rater_type_filter_match_the_full_read(good_files, tmp_path):
    t, r = good_files
    store = tmp_path / "store"
    ingest([t], [r], rubric=RUBRIC, store=store)
    full = read_ratings(store)
    cols = ["transcript_id", "rater_id", "dimension", "score"]
    some = read_ratings(store, columns=cols)
    assert some.columns.tolist() == cols
    pd.testing.assert_frame_equal(some, full[cols])
    humans = read_ratings(store, rater_type="human", columns=cols)
    pd.testing.assert_frame_equal(
        humans, full[full.rater_type == "human"][cols].reset_index(drop=True)
    )
    assert read_ratings(store, rater_type="machine").empty
    with pytest.raises(ValueError, match="unknown ratings column"):
        read_ratings(store, columns=["scor"])

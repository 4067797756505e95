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


def test_ingest_closes_the_files_it_reads(good_files, tmp_path):
    """No unclosed file (ResourceWarning) left by reading JSONL transcripts and CSV ratings.

    The warning is raised in a finaliser, where Python reports it through sys.unraisablehook
    instead of raising it, so the test collects what that hook sees.
    """
    import gc
    import sys
    import warnings

    t, r = good_files
    seen = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(repr(u.exc_value))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            ingest([t], [r], rubric=RUBRIC, store=tmp_path / "s2", progress=False)
            gc.collect()
    finally:
        sys.unraisablehook = old
    assert not [x for x in seen if "unclosed" in x], seen

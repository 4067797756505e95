"""Grader runs in a store: list them, and drop one (its ratings, evidence and run record)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from calib.errors import StoreError
from calib.io._schema import RATINGS_SCHEMA
from calib.io._store import commit_parts, read_arrow_table, read_manifest, store_lock

__all__ = ["RUN_TABLES", "drop_run", "list_runs"]

#: Tables whose rows carry the ``run_id`` of the grader run that wrote them.
RUN_TABLES = ("ratings", "grader_evidence", "llm_outputs", "grader_runs")


def list_runs(store: str | os.PathLike) -> pd.DataFrame:
    """One row per grader run in the store (human ratings, which have no run, are not listed).

    Returns
    -------
    pandas.DataFrame
        ``run_id``, ``rater_id``, ``grader``, ``graded_at``, ``ratings`` (rows in the ratings
        table), ``scored``, ``unscored``, ``evidence_rows`` and ``recorded`` (whether the run
        has its ``grader_runs`` record), sorted by ``graded_at`` then ``run_id``.

    Examples
    --------
    >>> list_runs("store/")[["run_id", "rater_id", "ratings"]]  # doctest: +SKIP
    """
    read_manifest(store)
    ratings = read_arrow_table(
        store, "ratings", RATINGS_SCHEMA, ["run_id", "rater_id", "rater_type", "score"]
    ).to_pandas()
    machine = ratings[ratings["rater_type"] != "human"]
    machine = machine[machine["run_id"].notna()]
    counts = (
        machine.groupby(["run_id", "rater_id"], sort=False)["score"]
        .agg(ratings="size", scored="count")
        .reset_index()
    )
    runs = read_arrow_table(store, "grader_runs").to_pandas()
    cols = ["run_id", "rater_id", "grader", "graded_at"]
    runs = runs[[c for c in cols if c in runs.columns]] if len(runs) else pd.DataFrame(columns=cols)
    out = counts.merge(runs, on=["run_id", "rater_id"], how="outer")
    out["recorded"] = out["run_id"].isin(set(runs["run_id"]))
    ev = {}
    for name in ("grader_evidence", "llm_outputs"):
        t = read_arrow_table(store, name)
        if t.num_rows and "run_id" in t.column_names:
            for k, v in t.select(["run_id"]).to_pandas()["run_id"].value_counts().items():
                ev[k] = ev.get(k, 0) + int(v)
    out["ratings"] = out["ratings"].fillna(0).astype(int)
    out["scored"] = out["scored"].fillna(0).astype(int)
    out["unscored"] = out["ratings"] - out["scored"]
    out["evidence_rows"] = out["run_id"].map(ev).fillna(0).astype(int)
    out = out.sort_values(["graded_at", "run_id"], na_position="first", kind="stable")
    return out[
        ["run_id", "rater_id", "grader", "graded_at", "ratings", "scored", "unscored",
         "evidence_rows", "recorded"]
    ].reset_index(drop=True)  # fmt: skip


def drop_run(store: str | os.PathLike, run_id: str) -> dict[str, int]:
    """Remove every row of grader run ``run_id`` from the store, in one atomic commit.

    Rows of :data:`RUN_TABLES` whose ``run_id`` equals ``run_id`` are removed (ratings,
    evidence, raw LLM outputs, the run record); everything else is kept byte for byte. A
    ratings row that this run had superseded (an earlier unscored row of the same key)
    becomes current again. Human ratings have no run and are never touched.

    Returns
    -------
    dict
        Rows removed per table.

    Raises
    ------
    StoreError
        When no table holds rows of ``run_id``.

    Examples
    --------
    >>> drop_run("store/", "llm-nightly-01")  # doctest: +SKIP
    {'ratings': 2400, 'llm_outputs': 2400, 'grader_runs': 1}
    """
    root = Path(store)
    with store_lock(root):
        manifest = read_manifest(root)
        new: dict[str, list[pa.Table]] = {}
        removed: dict[str, int] = {}
        for name in RUN_TABLES:
            if not manifest["tables"].get(name):
                continue
            schema = RATINGS_SCHEMA if name == "ratings" else None
            table = read_arrow_table(root, name, schema)
            if "run_id" not in table.column_names:
                continue
            run = table.column("run_id").to_pandas()
            hit = (run == run_id).to_numpy(dtype=bool)
            if hit.any():
                removed[name] = int(hit.sum())
                new[name] = [table.filter(pa.array(~hit))]
        if not removed:
            raise StoreError(f"{root}: no grader run {run_id!r} (see `calib runs --store {root}`)")
        commit_parts(
            root,
            new,
            replace=list(new),
            batch={"dropped_run": run_id, "rows_removed": json.loads(json.dumps(removed))},
        )
    return removed

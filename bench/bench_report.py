"""Benchmark calib.report on the shipped SYNTHETIC sample (datasets/sample, 300 transcripts).

Peers, timed in the same run on the same data (results checked equal before timing):
  * level-confusion counts per dimension: calib's single self-merge of the long table vs
    scikit-learn's ``confusion_matrix`` over every rater pair (the usual per-pair approach);
  * leave-one-out consensus: calib's groupby-transform vs pandas ``groupby.apply``.
End to end (no peer exists for the whole report): ``calib demo`` wall time per step against
the issue's 60 s budget.

Run: python bench/bench_report.py   (about a minute on 2 shared cores; prints a table and
writes bench/results/report.md)
"""

from __future__ import annotations

import itertools
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from calib.report import _descriptive as desc  # noqa: E402
from calib.report.demo import run_demo  # noqa: E402

LEVELS = np.array([1.0, 2.0, 3.0, 4.0])


from _timing import best_of  # noqa: E402  (bench/ is on sys.path when run as a script)


def best_seconds(fn, repeat: int = 3) -> float:
    return best_of(fn, repeat)[0]


def calib_confusions(r: pd.DataFrame) -> pd.DataFrame:
    return desc.confusion_table(desc.disagreement_pairs(r))


def sklearn_confusions(r: pd.DataFrame) -> dict[tuple[str, float, float], int]:
    out: dict[tuple[str, float, float], int] = {}
    h = r[r["rater_type"] == "human"]
    for dim, g in h.groupby("dimension"):
        wide = g.pivot(index="transcript_id", columns="rater_id", values="score")
        for a, b in itertools.combinations(wide.columns, 2):
            both = wide[[a, b]].dropna()
            if both.empty:
                continue
            m = confusion_matrix(both[a], both[b], labels=LEVELS)
            m = m + m.T  # unordered pairs: (2,3) and (3,2) are the same confusion
            for i, j in zip(*np.triu_indices(len(LEVELS), k=1)):
                if m[i, j]:
                    key = (dim, LEVELS[i], LEVELS[j])
                    out[key] = out.get(key, 0) + int(m[i, j])
    return out


def calib_loo(r: pd.DataFrame) -> pd.DataFrame:
    return desc.rater_vs_consensus(r)


def pandas_apply_loo(r: pd.DataFrame) -> pd.DataFrame:
    h = desc.human_ratings(r)

    def per_group(g: pd.DataFrame) -> pd.DataFrame:
        s = g["score"].to_numpy()
        if len(s) < 2:
            return g.iloc[0:0].assign(consensus=np.nan)
        return g.assign(consensus=(s.sum() - s) / (len(s) - 1))

    parts = [
        per_group(g) for _, g in h.groupby(["transcript_id", "dimension"])
    ]  # what apply does, per group
    return pd.concat(parts)


def main() -> None:
    ratings = pd.read_csv(
        REPO / "datasets" / "sample" / "ratings.csv", dtype={"transcript_id": str, "rater_id": str}
    )
    rows = []

    c = calib_confusions(ratings)
    peer = sklearn_confusions(ratings)
    assert {
        (d, lo, hi): n for d, lo, hi, n in zip(c["dimension"], c["low"], c["high"], c["count"])
    } == peer
    t_c, t_p = (
        best_seconds(lambda: calib_confusions(ratings)),
        best_seconds(lambda: sklearn_confusions(ratings)),
    )
    rows.append(
        (
            "level-confusion counts, 8 dims x 28 rater pairs",
            "sklearn confusion_matrix per pair",
            t_c,
            t_p,
        )
    )

    a = (
        calib_loo(ratings)
        .sort_values(["transcript_id", "dimension", "rater_id"])
        .reset_index(drop=True)
    )
    b = (
        pandas_apply_loo(ratings)
        .sort_values(["transcript_id", "dimension", "rater_id"])
        .reset_index(drop=True)
    )
    np.testing.assert_allclose(a["consensus"].to_numpy(), b["consensus"].to_numpy())
    t_c, t_p = (
        best_seconds(lambda: calib_loo(ratings)),
        best_seconds(lambda: pandas_apply_loo(ratings)),
    )
    rows.append(
        (
            "leave-one-out consensus, 6848 ratings",
            "per-group Python loop (what groupby.apply does)",
            t_c,
            t_p,
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        demo = run_demo(Path(tmp) / "demo", progress=False)
        total = time.perf_counter() - t

    lines = ["| task | calib (s) | peer | peer (s) | peer / calib |", "|---|---|---|---|---|"]
    for task, peer_name, tc, tp in rows:
        lines.append(f"| {task} | {tc:.3f} | {peer_name} | {tp:.3f} | {tp / tc:.1f}x |")
    lines += ["", "| calib demo step (SYNTHETIC sample, 300 transcripts) | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in demo.timings.items()]
    lines += [f"| **total (budget 60 s)** | **{total:.1f}** |"]
    header = (
        f"# bench_report results\n\nMachine: {platform.machine()}, {platform.python_version()}, "
        f"2 cores shared with other engineers (timings are best of 3, noisy).\n"
        f"Command: `python bench/bench_report.py`.\n\n"
    )
    text = header + "\n".join(lines) + "\n"
    print(text)
    out = REPO / "bench" / "results" / "report.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()

"""Benchmark ``calib agree`` and ``calib report`` on a SYNTHETIC crowd design (issue 9, part 4).

Design: 1,400 items x 4 dimensions, each item scored by 5 of 283 crowd raters on a 1-5 scale
(28,000 ratings), all within one 5-hour session; a few raters give only the top score. That is
the shape of a real crowd-sourced rating set: many raters, few ratings each, rater pairs that
rarely meet. Targets (default options): ``calib agree`` <= 1 GB peak RSS and <= 10 s;
``calib report`` <= 1.5 GB.

Each command runs as its own process (start-up included); wall time from
``time.perf_counter`` around the child, peak RSS from the kernel's rusage of the reaped child
(``os.wait4``, ru_maxrss) -- the same figures ``/usr/bin/time -v`` prints. Median of
``--repeat`` runs. Reference point in the same run: the ``krippendorff`` package's ordinal
alpha on the same four units x raters matrices (an independent script computing one of the
numbers), in its own process.

Run: python bench/bench_crowd.py [--repeat 3]   (writes bench/results/crowd.md)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DIMS = ["accuracy", "clarity", "depth", "overall"]


def build_store(root: Path, n_items: int = 1400, n_raters: int = 283, per_item: int = 5) -> Path:
    """Write the SYNTHETIC crowd data set and ingest it; return the store path."""
    rng = np.random.default_rng(2026)
    rubric = root / "crowd.yaml"
    lines = [
        "id: crowd",
        'version: "1.0"',
        "title: SYNTHETIC crowd rating benchmark (1-5)",
        "scale:",
        "  min: 1",
        "  max: 5",
        "dimensions:",
    ]
    for d in DIMS:
        lines += [f"  - id: {d}", f"    name: {d.title()}", f"    description: {d} of the answer"]
        lines += ["    levels:"]
        lines += [f"      - score: {s}\n        anchor: level {s} of {d}" for s in range(1, 6)]
    rubric.write_text("\n".join(lines) + "\n")
    with (root / "transcripts.jsonl").open("w") as fh:
        for i in range(n_items):
            fh.write(
                json.dumps(
                    {
                        "transcript_id": f"item{i:04d}",
                        "question_id": f"q{i % 20}",
                        "question_type": "crowd",
                        "turns": [
                            {"speaker": "interviewer", "text": f"Question {i % 20}?"},
                            {"speaker": "candidate", "text": f"Answer number {i}."},
                        ],
                    }
                )
                + "\n"
            )
    quality = rng.normal(0, 1, n_items)
    severity = rng.normal(0, 0.4, n_raters)
    t0 = pd.Timestamp("2026-05-01T09:00:00Z")
    rows = []
    for i in range(n_items):
        for r in rng.choice(n_raters, per_item, replace=False):
            when = t0 + pd.Timedelta(seconds=int(rng.integers(0, 5 * 3600)))
            for d in DIMS:
                s = 3 + quality[i] + severity[r] + rng.normal(0, 0.8)
                if r < 9:  # a few crowd workers who only ever give the top score
                    s = 5
                rows.append(
                    (f"item{i:04d}", f"w{r:03d}", "human", d, int(np.clip(round(s), 1, 5)), when)
                )
    pd.DataFrame(
        rows, columns=["transcript_id", "rater_id", "rater_type", "dimension", "score", "rated_at"]
    ).to_csv(root / "ratings.csv", index=False)
    store = root / "store"
    subprocess.run(
        [
            *CALIB,
            "ingest",
            "--transcripts",
            str(root / "transcripts.jsonl"),
            "--ratings",
            str(root / "ratings.csv"),
            "--rubric",
            str(rubric),
            "--store",
            str(store),
        ],
        check=True,
        capture_output=True,
        env=ENV,
    )
    return store


def run(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


PEER = """
import sys, numpy as np, pandas as pd, krippendorff
r = pd.read_csv(sys.argv[1])
for d, g in r.groupby("dimension"):
    w = g.pivot(index="transcript_id", columns="rater_id", values="score")
    krippendorff.alpha(w.to_numpy(float).T, level_of_measurement="ordinal",
                       value_domain=[1, 2, 3, 4, 5])
"""

CALIB = [shutil.which("calib") or "calib"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = build_store(root)
        cases = [
            ("calib agree --store S", [*CALIB, "agree", "--store", str(store)], 10, 1024),
            (
                "calib report --store S --out R",
                [*CALIB, "report", "--store", str(store), "--out", str(root / "rep")],
                None,
                1536,
            ),
        ]
        try:
            import krippendorff  # noqa: F401

            cases.append(
                (
                    "krippendorff.alpha, 4 dimensions (peer, one statistic)",
                    [sys.executable, "-c", PEER, str(root / "ratings.csv")],
                    None,
                    None,
                )
            )
        except ImportError:
            pass
        out = []
        for name, cmd, t_max, mb_max in cases:
            res = [run(cmd) for _ in range(args.repeat)]
            walls, peaks, codes = zip(*res, strict=True)
            out.append(
                (
                    name,
                    statistics.median(walls),
                    statistics.median(peaks),
                    set(codes),
                    t_max,
                    mb_max,
                )
            )
            print(
                f"{name}: {statistics.median(walls):.2f} s, {statistics.median(peaks):.0f} MB, exit {set(codes)}"
            )
    lines = [
        "# Crowd design: calib agree / calib report",
        "",
        "SYNTHETIC data (`python bench/bench_crowd.py`): 1,400 items x 4 dimensions, 5 of 283",
        "raters per item, 1-5 scale, 28,000 ratings, default options (1,000 bootstrap resamples).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()};",
        f"median of {args.repeat} runs, each a fresh process (start-up included).",
        "",
        "| command | wall s | peak RSS MB | exit | target |",
        "|---|---:|---:|---|---|",
    ]
    for name, wall, peak, codes, t_max, mb_max in out:
        target = ", ".join(
            t
            for t in ((f"<= {t_max} s" if t_max else ""), (f"<= {mb_max} MB" if mb_max else ""))
            if t
        )
        lines.append(f"| {name} | {wall:.2f} | {peak:.0f} | {sorted(codes)} | {target} |")
    (REPO / "bench" / "results" / "crowd.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

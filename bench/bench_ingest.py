"""Benchmark: ingest N synthetic transcripts (+ their ratings) into a fresh store.

Target (issue 2): 100,000 transcripts with ~3 ratings x 8 dimensions each (2.4 M+ rating rows)
in under a minute on a 2-core machine, with bounded memory.

Peer: the same files read by pandas alone (``read_json(lines=True)`` + ``read_csv``), which
neither validates nor writes anything: the ratio says what validation + quarantine + Parquet
writing cost on top of plain parsing.

Usage::

    python bench/bench_ingest.py [--n-transcripts 100000] [--keep DIR]

Data is synthetic (calib.simulate), generated once into a temporary folder (or --keep DIR).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _child(code: str) -> tuple[float, float, float]:
    """Run code in a fresh interpreter; return (wall s, user+sys CPU s, peak RSS MiB)."""
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code += "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n-transcripts", type=int, default=100_000)
    ap.add_argument(
        "--keep", type=Path, help="folder for the generated data (kept; reused if present)"
    )
    args = ap.parse_args()
    data = args.keep or Path(tempfile.mkdtemp(prefix="calib-bench-"))
    if not (data / "ratings.csv").exists():
        print(
            f"generating {args.n_transcripts:,} synthetic transcripts into {data} ...", flush=True
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "calib.cli.main",
                "simulate",
                "--out",
                str(data),
                "--n-transcripts",
                str(args.n_transcripts),
                "--n-raters",
                "30",
                "--seed",
                "7",
                "--raters-per-transcript",
                "3",
                "--linked-fraction",
                "0",
            ],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
    n_ratings = sum(1 for _ in open(data / "ratings.csv", "rb")) - 1
    store = data / "store"
    shutil.rmtree(store, ignore_errors=True)
    calib_code = (
        "from calib.io import ingest\n"
        f"s = ingest([{str(data / 'transcripts.jsonl')!r}], [{str(data / 'ratings.csv')!r}], "
        f"rubric='rubrics/ml_interview_v1.yaml', store={str(store)!r})\n"
        "assert s.ok, s.format()\n"
    )
    peer_code = (
        "import pandas as pd\n"
        f"t = pd.read_json({str(data / 'transcripts.jsonl')!r}, lines=True)\n"
        f"r = pd.read_csv({str(data / 'ratings.csv')!r})\n"
    )
    c_wall, c_cpu, c_rss = _child(calib_code)
    p_wall, p_cpu, p_rss = _child(peer_code)
    rows = [
        ("calib ingest (validate + quarantine + Parquet store)", c_wall, c_cpu, c_rss),
        ("pandas read_json + read_csv only (no validation, no write)", p_wall, p_cpu, p_rss),
    ]
    print(f"\n{args.n_transcripts:,} transcripts, {n_ratings:,} rating rows (synthetic)")
    print(f"{'':60} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13}")
    for name, w, c, r in rows:
        print(f"{name:60} {w:8.1f} {c:8.1f} {r:13.0f}")
    print(
        f"ratio calib/pandas wall: {c_wall / p_wall:.2f}x; target < 60 s wall: "
        f"{'met' if c_wall < 60 else 'NOT met'}"
    )
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()

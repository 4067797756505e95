"""Benchmark: every command at 1k / 10k / 100k (/ 1M) transcripts, CPU seconds and peak RSS.

For each size, ``calib simulate`` writes SYNTHETIC transcripts with 3 raters x 8 dimensions
each (no linked set), ``calib ingest`` stores them, and each command runs as its own process:
``agree``, ``raters`` (Rasch), ``raters --model additive``, ``grade --grader rules``,
``validate-grader`` and ``report``. Each is measured from outside with ``os.wait4`` (user +
system CPU seconds, wall seconds and the process's peak RSS), exactly the way the floor is
measured.

Floor: a fresh interpreter that reads the same store's ratings columns the command needs with
pyarrow (``pq.read_table`` of every part, ids and scores) and does nothing else -- the I/O and
start-up no command can avoid. ``ratio`` = command CPU / floor CPU.

Usage::

    python bench/bench_scale.py [--sizes 1000,10000,100000] [--out bench/results/scale.md]
    python bench/bench_scale.py --sizes 1000000 --commands ingest,agree,raters-additive,report

Data is synthetic; each size is generated once into a temporary folder (or ``--keep DIR``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"
COMMANDS = [
    "ingest",
    "agree",
    "raters",
    "raters-additive",
    "grade-rules",
    "validate-grader",
    "report",
]


def measure(argv: list[str], cwd: Path) -> tuple[float, float, float, int]:
    """Run ``argv``; return (wall s, user+sys CPU s, peak RSS MiB, exit code) of that process."""
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=null, stderr=subprocess.PIPE, env=env)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1 = a finding (e.g. a grader that fails), not a crash
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, code


FLOOR = """
import sys, json, pathlib, pyarrow as pa, pyarrow.parquet as pq
root = pathlib.Path(sys.argv[1])
man = json.loads((root / "calib-store.json").read_text())
cols = sys.argv[2].split(",")
parts = [pq.read_table(root / "ratings" / p, columns=cols) for p in man["tables"]["ratings"]]
t = pa.concat_tables(parts)
print(t.num_rows)
"""


def calib(*args: str) -> list[str]:
    return [sys.executable, "-m", "calib.cli.main", *args]


def run_size(n: int, work: Path, commands: list[str]) -> list[dict]:
    data, store = work / f"sim{n}", work / f"store{n}"
    if not (data / "ratings.csv").exists():
        subprocess.run(
            calib(
                "simulate",
                "--out",
                str(data),
                "--n-transcripts",
                str(n),
                "--raters-per-transcript",
                "3",
                "--linked-fraction",
                "0",
            ),
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
        )
    out_dir = work / f"out{n}"
    shutil.rmtree(out_dir, ignore_errors=True)
    steps = {
        "ingest": calib(
            "ingest",
            "--transcripts",
            str(data / "transcripts.jsonl"),
            "--ratings",
            str(data / "ratings.csv"),
            "--rubric",
            str(RUBRIC),
            "--store",
            str(store),
        ),
        "agree": calib("agree", "--store", str(store)),
        "raters": calib("raters", "--store", str(store)),
        "raters-additive": calib("raters", "--store", str(store), "--model", "additive"),
        "grade-rules": calib("grade", "--store", str(store), "--grader", "rules"),
        "validate-grader": calib("validate-grader", "--store", str(store), "--grader", "rules"),
        "report": calib("report", "--store", str(store), "--out", str(out_dir / "report")),
    }
    floor_cols = {
        "ingest": None,
        "grade-rules": None,
    }
    rows = []
    if "ingest" in commands:
        shutil.rmtree(store, ignore_errors=True)
    for name in commands:
        wall, cpu, rss, code = measure(steps[name], work)
        row = {"n": n, "command": name, "wall": wall, "cpu": cpu, "rss": rss, "exit": code}
        if name not in floor_cols and (store / "calib-store.json").exists():
            fw, fc, fr, _ = measure(
                [
                    sys.executable,
                    "-c",
                    FLOOR,
                    str(store),
                    "transcript_id,rater_id,rater_type,dimension,score",
                ],
                work,
            )
            row.update(floor_cpu=fc, floor_rss=fr)
        rows.append(row)
        print(
            f"n={n:>9,} {name:<16} wall {wall:7.1f} s  cpu {cpu:7.1f} s  peak {rss:7.0f} MiB"
            + (f"  floor cpu {row['floor_cpu']:.1f} s" if "floor_cpu" in row else "")
            + f"  exit {code}",
            flush=True,
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--commands", default=",".join(COMMANDS))
    ap.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    ap.add_argument("--out", type=Path, help="append a Markdown table to this file")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    commands = [c for c in args.commands.split(",") if c]
    unknown = sorted(set(commands) - set(COMMANDS))
    if unknown:
        ap.error(f"unknown command(s) {unknown}; choose from {COMMANDS}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="calib-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for n in sizes:
            rows += run_size(n, work, commands)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    lines = [
        "| transcripts | command | CPU s | wall s | peak RSS MiB | floor CPU s | CPU / floor | exit |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        fc = r.get("floor_cpu")
        lines.append(
            f"| {r['n']:,} | {r['command']} | {r['cpu']:.1f} | {r['wall']:.1f} | {r['rss']:.0f} | "
            + (f"{fc:.1f} | {r['cpu'] / fc:.1f}x" if fc else "- | -")
            + f" | {r['exit']} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(table + "\n")


if __name__ == "__main__":
    main()

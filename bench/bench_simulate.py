"""Benchmark calib.simulate: generating and writing SYNTHETIC datasets.

Run:  python bench/bench_simulate.py                 (100,000 transcripts, about a minute on 2 cores)
      python bench/bench_simulate.py --n 20000        (quicker)
      python bench/bench_simulate.py --write          (also write bench/results/simulate.md)

There is no third-party generator of rated interview transcripts to race, so each stage is
timed against the floor a peer implementation cannot beat, measured in the same run:

* numbers: calib's latent scores + design + rater model vs numpy alone drawing the same number
  of random variates (the RNG floor);
* writing: calib.simulate.write_dataset vs the obvious pandas/stdlib writer of the same frames
  (DataFrame.to_csv for ratings.csv and true_scores.csv, json.dumps per transcript line).

Shape: the ingest benchmark's (3 raters x 8 dimensions per transcript, no linked set, i.e.
2.4 M rating rows for 100,000 transcripts). Each timing is the best of --repeat runs
(time.perf_counter). The machine is shared, so absolute times are noisy; ratios are from the
same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import best_of  # noqa: E402  (bench/ is on sys.path when run as a script)

from calib.simulate import (  # noqa: E402
    SimulationConfig,
    _dataset,  # noqa: E402
    simulate_dataset,
    write_dataset,
)
from calib.simulate._cast import (
    resolve_base_noise,  # noqa: E402
    resolve_cast,  # noqa: E402
)
from calib.simulate._design import draw_design  # noqa: E402
from calib.simulate._judge import judge  # noqa: E402
from calib.simulate._latent import draw_candidates  # noqa: E402


def numbers_only(cfg: SimulationConfig) -> int:
    """calib's numeric stages only (no text, no DataFrames): latent, design, rater model."""
    dims, scale = _dataset._rubric_dimensions()
    ss = np.random.SeedSequence(cfg.seed).spawn(5)
    raters, noise = resolve_cast(cfg, dims, np.random.default_rng(ss[0]))
    cand = draw_candidates(cfg, len(dims), np.random.default_rng(ss[1]), dims)
    design = draw_design(cfg, len(raters), cand.interviewed_at, np.random.default_rng(ss[2]))
    days = (design.rated_at - cfg.start_dt.timestamp()) / 86_400.0
    _, score = judge(
        cand.theta,
        design.t_idx,
        design.r_idx,
        days,
        {cfg.subgroup_attribute: cand.subgroup},
        raters,
        dims,
        noise,
        scale,
        np.random.default_rng(ss[3]),
        resolve_base_noise(cfg, dims),
    )
    return score.size


def rng_floor(n: int, n_ratings: int) -> int:
    """The same count of random variates, drawn by numpy in bulk (what no implementation beats)."""
    rng = np.random.default_rng(0)
    rng.standard_normal((n, 9))  # general factor + 8 dimension draws
    rng.random((n, 8))  # rater permutation keys
    rng.integers(0, 10, size=(n, 4))  # seniority, tier, day, minute
    rng.standard_normal(n_ratings)  # rating noise
    return n_ratings


def pandas_writer(ds, out: Path) -> None:
    """The obvious writer: DataFrame.to_csv and stdlib json, one call per transcript line."""
    tr = ds.transcripts
    with open(out / "transcripts.jsonl", "w", encoding="utf-8") as fh:
        for row in tr.itertuples(index=False):
            fh.write(
                json.dumps(
                    {
                        "transcript_id": row.transcript_id,
                        "question_id": row.question_id,
                        "question_type": row.question_type,
                        "interviewed_at": row.interviewed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "turns": row.turns,
                        "metadata": row.metadata,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    r = ds.ratings.iloc[:, :8].copy()
    r["rated_at"] = r["rated_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    r["score"] = r["score"].astype(int)
    r.to_csv(out / "ratings.csv", index=False)
    ds.true_scores.to_csv(out / "true_scores.csv", index=False)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=100_000, help="transcripts (default 100,000)")
    ap.add_argument("--repeat", type=int, default=1, help="repeats per timing (best is kept)")
    ap.add_argument("--write", action="store_true", help="write bench/results/simulate.md")
    args = ap.parse_args()
    cfg = SimulationConfig(n_transcripts=args.n, raters_per_transcript=(3, 3), linked_fraction=0.0)
    n_ratings = args.n * 3 * 8

    rows = []
    t_num, _ = best_of(lambda: numbers_only(cfg), args.repeat)
    t_floor, _ = best_of(lambda: rng_floor(args.n, n_ratings), args.repeat)
    rows.append(("numbers (latent, design, rater model)", "numpy RNG floor", t_num, t_floor))
    t_sim, ds = best_of(lambda: simulate_dataset(cfg), args.repeat)
    rows.append(("simulate_dataset (numbers + text + frames)", "-", t_sim, None))
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "calib"), Path(tmp, "peer")
        b.mkdir()
        t_write, _ = best_of(lambda: write_dataset(ds, a), args.repeat)
        t_peer, _ = best_of(lambda: pandas_writer(ds, b), args.repeat)
        size_mb = sum(p.stat().st_size for p in a.iterdir()) / 1e6
    rows.append(("write_dataset (5 files)", "pandas to_csv + json.dumps", t_write, t_peer))
    rows.append(("end to end (simulate + write)", "-", t_sim + t_write, None))

    head = (
        f"# calib.simulate benchmark\n\n`python bench/bench_simulate.py --n {args.n}`: {args.n:,} SYNTHETIC "
        f"transcripts, {len(ds.ratings):,} rating rows, {size_mb:.0f} MB written; best of {args.repeat}; "
        f"Python {platform.python_version()}, 2-core machine shared with other jobs (absolute times are noisy, "
        "ratios come from the same run). Ratio = peer time / calib time (> 1: calib faster; for a floor, "
        "< 1 says how close calib gets to it).\n\n"
    )
    table = ["| stage | calib (s) | peer | peer (s) | ratio peer/calib |", "|---|---|---|---|---|"]
    for stage, peer, tc, tp in rows:
        ratio = f"{tp / tc:.2f}" if tp else "-"
        table.append(
            f"| {stage} | {tc:.2f} | {peer} | {tp:.2f} | {ratio} |"
            if tp
            else f"| {stage} | {tc:.2f} | - | - | - |"
        )
    text = head + "\n".join(table) + "\n"
    print(text)
    if args.write:
        out = Path(__file__).resolve().parent / "results" / "simulate.md"
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

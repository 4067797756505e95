"""Benchmark calib.agreement against its best Python peers, measured in the same run.

Run:  python bench/bench_agreement.py           (about a minute on 2 cores)
      python bench/bench_agreement.py --full    (also runs the slow peers at full size)

All data are SYNTHETIC: integer scores 1-5 from a latent unit score plus rater noise,
with 10% of cells missing, seeded numpy Generator. Each timing is the best of a few
repeats after a warm-up run (time.perf_counter). Prints a Markdown table of ratios; --write saves it to
bench/results/agreement.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calib.agreement import agreement_table, bootstrap_ci, icc_table, krippendorff_alpha  # noqa: E402
from calib.errors import CalibWarning  # noqa: E402

warnings.simplefilter("ignore", CalibWarning)


from _timing import best_of  # noqa: E402  (bench/ is on sys.path when run as a script)


def synthetic(n_units: int, n_raters: int, seed: int = 0, missing: float = 0.1) -> np.ndarray:
    """SYNTHETIC ratings 1-5, units x raters, NaN = missing."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, size=n_units)
    x = np.clip(truth[:, None] + rng.integers(-1, 2, size=(n_units, n_raters)), 1, 5).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def _markdown(df: pd.DataFrame) -> str:
    """A GitHub Markdown table (no tabulate dependency)."""
    cells = [list(df.columns)] + df.astype(str).to_numpy().tolist()
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in df.columns) + "|")
    return "\n".join(lines)


def best(f, repeat: int = 3, warmup: bool = True) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs, after one untimed warm-up run (page faults, caches)."""
    return best_of(f, repeat, warmup)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--full", action="store_true", help="run slow peers at full size instead of extrapolating"
    )
    ap.add_argument("--write", action="store_true", help="write bench/results/agreement.md")
    args = ap.parse_args()
    import krippendorff

    rows = []

    def add(task, calib_s, peer, peer_s, target, note=""):
        ratio = peer_s / calib_s if peer_s else float("nan")
        rows.append(
            {
                "task": task,
                "calib (s)": f"{calib_s:.4f}",
                "peer": peer,
                "peer (s)": f"{peer_s:.3f}" if peer_s else "-",
                "speed-up": f"{ratio:.1f}x" if peer_s else "-",
                "target": target,
                "note": note,
            }
        )
        print(rows[-1], flush=True)

    # 1-2. alpha on 100k and 1M units x 5 raters, identical values required
    for n, target in ((100_000, ">= 1x"), (1_000_000, ">= 2x")):
        x = synthetic(n, 5)
        for level in ("interval", "ordinal"):
            # interleaved runs so both sides see the same background load; best of 5 each
            tc, tp = np.inf, np.inf
            for _ in range(5):
                t_c, a = best(lambda: krippendorff_alpha(x, level), repeat=1, warmup=False)
                t_p, b = best(
                    lambda: krippendorff.alpha(reliability_data=x.T, level_of_measurement=level),
                    repeat=1,
                    warmup=False,
                )
                tc, tp = min(tc, t_c), min(tp, t_p)
            assert abs(a - b) < 1e-9, (a, b)
            add(
                f"krippendorff_alpha {level}, {n:,} x 5",
                tc,
                "krippendorff 0.9 alpha",
                tp,
                target,
                f"|diff| = {abs(a - b):.1e}",
            )

    # 3. bootstrap CI, 1000 resamples, 10k x 5 vs calling krippendorff.alpha per resample
    x = synthetic(10_000, 5, seed=1)
    tc, res = best(
        lambda: bootstrap_ci(x, "krippendorff_alpha", n_boot=1000, seed=0, level="ordinal"),
        repeat=2,
    )
    n_peer = 1000 if args.full else 60
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(x), size=(n_peer, len(x)))

    def peer_boot():
        for i in idx:
            krippendorff.alpha(reliability_data=x[i].T, level_of_measurement="ordinal")

    # timed like calib: one warm-up, best of 2
    tp = best(peer_boot, repeat=2)[0] * (1000 / n_peer)
    add(
        "bootstrap_ci alpha ordinal, 1,000 resamples, 10,000 x 5",
        tc,
        "1,000 x krippendorff.alpha",
        tp,
        ">= 20x",
        "peer timed on all 1,000"
        if args.full
        else f"peer timed on {n_peer} resamples, scaled to 1,000",
    )

    # 4. agreement_table: 10k transcripts x 8 dimensions x 3 ratings (pool of 12 raters)
    rng = np.random.default_rng(2)
    n_t, dims, pool = (
        10_000,
        [f"dim{d}" for d in range(8)],
        np.array([f"r{i:02d}" for i in range(12)]),
    )
    frames = []
    for dim in dims:
        truth = rng.integers(1, 5, size=n_t)
        raters = np.argsort(rng.random((n_t, len(pool))), axis=1)[:, :3]
        scores = np.clip(truth[:, None] + rng.integers(-1, 2, size=(n_t, 3)), 1, 4)
        frames.append(
            pd.DataFrame(
                {
                    "transcript_id": np.repeat([f"t{i:05d}" for i in range(n_t)], 3),
                    "rater_id": pool[raters].ravel(),
                    "rater_type": "human",
                    "dimension": dim,
                    "score": scores.ravel().astype(float),
                }
            )
        )
    long = pd.concat(frames, ignore_index=True)
    tc, _ = best(
        lambda: agreement_table(long, categories=[1, 2, 3, 4], n_boot=1000, seed=0), repeat=2
    )
    add(
        "agreement_table, 10,000 transcripts x 8 dims x 3 ratings, 1,000 resamples",
        tc,
        "(no peer; target)",
        0.0,
        "< 10 s",
        "12-rater pool, 66 rater pairs for QWK",
    )

    # 5. ICC, all six forms with F-based CIs, 10k targets x 5 raters
    import pingouin as pg

    x = synthetic(10_000, 5, seed=3, missing=0.0)
    tc, ours = best(lambda: icc_table(x), repeat=3)  # same repeats and warm-up as the peer
    n_pg = 10_000 if args.full else 1_000
    sub = x[:n_pg]
    long_icc = (
        pd.DataFrame(sub)
        .rename_axis("t")
        .reset_index()
        .melt(id_vars="t", var_name="r", value_name="s")
    )
    tp, _ = best(
        lambda: pg.intraclass_corr(long_icc, targets="t", raters="r", ratings="s"), repeat=3
    )
    add(
        "icc_table (6 forms + F CIs), 10,000 x 5",
        tc,
        "pingouin intraclass_corr",
        tp if args.full else None,
        "< 50 ms",
        "" if args.full else f"pingouin on {n_pg:,} x 5 took {tp:.2f} s (not scaled: superlinear)",
    )

    table = _markdown(pd.DataFrame(rows))
    head = (
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}; run `python bench/bench_agreement.py"
        f"{' --full' if args.full else ''}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine: "
        "absolute times vary, the same-run ratios are what counts). Peer versions: krippendorff "
        f"{_version('krippendorff')}, pingouin {_version('pingouin')}."
    )
    print("\n" + head + "\n\n" + table)
    if args.write:
        out = Path(__file__).resolve().parent / "results" / "agreement.md"
        out.write_text(
            "# calib.agreement benchmarks (SYNTHETIC data)\n\n" + head + "\n\n" + table + "\n"
        )
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

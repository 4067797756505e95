"""Benchmark calib.raters against the best available peers (SYNTHETIC data from calib.simulate).

Run:  python bench/bench_raters.py [--quick]

* fit_mfrm (JMLE, rating scale; measures, SEs, infit/outfit, fair averages) on 2,000 transcripts
  x 10 raters (3 per transcript) x 8 dimensions = 48,000 ratings, against raschpy's MFRM
  ('global' model = the same rating-scale MFRM; calibrate + person estimates + SEs + fit), the
  only many-facet Rasch implementation on PyPI. The issue's target is < 30 s.
* g_study (REML) on one dimension's transcripts x raters ratings, against statsmodels MixedLM
  (REML, crossed variance components).
Prints a table and writes bench/results/raters.md.
"""

from __future__ import annotations

import argparse
import platform
import warnings
from pathlib import Path

import numpy as np
from _timing import best_of  # noqa: E402  (bench/ is on sys.path when run as a script)

from calib.raters import fit_mfrm, g_study
from calib.simulate import SimulationConfig, simulate_dataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat, smaller G-study")
    args = ap.parse_args()
    repeats = 1 if args.quick else 3
    rows = []

    sizes = [2000] if args.quick else [2000, 10000]
    ratings_for_g = None
    for n_t in sizes:
        cfg = SimulationConfig(
            n_transcripts=n_t,
            n_raters=10,
            raters_per_transcript=(3, 3),
            linked_fraction=0.0,
            seed=20261125,
        )
        ratings = simulate_dataset(cfg).ratings  # SYNTHETIC
        n = len(ratings)
        # calib and the peer are timed the same way: one untimed warm-up, then best of `repeats`
        t_calib, res = best_of(lambda: fit_mfrm(ratings), repeats, warmup=True)
        peer = "raschpy not installed"
        t_peer = np.nan
        r_sev = np.nan
        try:
            import raschpy

            wide = ratings.assign(score=ratings.score - ratings.score.min()).pivot_table(
                index=["rater_id", "transcript_id"], columns="dimension", values="score"
            )

            def run_peer(wide=wide):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    m = raschpy.MFRM(wide, max_score=int(wide.max().max()))
                    m.calibrate("global")
                    m.person_estimates("global")
                    m.std_errors("global")
                    m.fit_statistics("global")
                return m

            t_peer, m = best_of(run_peer, repeats, warmup=True)
            version = getattr(raschpy, "__version__", "")
            peer = f"raschpy {version}".strip()
            theirs = m.raters_global.reindex(res.raters.rater_id).to_numpy()
            r_sev = float(np.corrcoef(theirs, res.raters.measure)[0, 1])
        except ImportError:
            pass
        rows.append(
            (
                f"fit_mfrm, {n:,} ratings ({n_t} x 10 raters, 3/transcript x 8 dims)",
                t_calib,
                peer,
                t_peer,
                f"rater severities r = {r_sev:.4f}; {res.n_iter} Newton iterations",
            )
        )
        if n_t == sizes[0]:
            ratings_for_g = ratings  # the G-study uses the smallest data set

    ratings = ratings_for_g
    sub = ratings[ratings.dimension == "data"]
    sub = sub[
        sub.transcript_id.isin(sorted(sub.transcript_id.unique())[: 150 if args.quick else 300])
    ]
    t_g, g = best_of(
        lambda: g_study(sub, object="transcript_id", facets=["rater_id"]), repeats, warmup=True
    )
    t_sm, rel = np.nan, ""
    try:
        import statsmodels.api as sm

        def run_sm():
            md = sm.MixedLM.from_formula(
                "score ~ 1",
                groups=np.ones(len(sub)),
                re_formula="0",
                vc_formula={"t": "0 + C(transcript_id)", "r": "0 + C(rater_id)"},
                data=sub,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return md, md.fit(reml=True, method="lbfgs")

        t_sm, (md, fit) = best_of(run_sm, repeats, warmup=True)
        ref = dict(zip(md.exog_vc.names, fit.vcomp))
        ours = g.components.variance.to_numpy()
        rel = (
            f"max rel. diff of components "
            f"{max(abs(ours[0] / ref['t'] - 1), abs(ours[1] / ref['r'] - 1), abs(ours[2] / fit.scale - 1)):.1e}"
        )
    except ImportError:
        pass
    rows.append(
        (
            f"g_study REML, {len(sub):,} ratings (transcripts x raters)",
            t_g,
            "statsmodels MixedLM (REML)",
            t_sm,
            rel,
        )
    )

    header = (
        "| task | calib (s) | peer | peer (s) | peer / calib | note |\n|---|---|---|---|---|---|"
    )
    lines = [header]
    for task, tc, pname, tp, note in rows:
        ratio = tp / tc if np.isfinite(tp) else np.nan
        lines.append(f"| {task} | {tc:.2f} | {pname} | {tp:.2f} | {ratio:.1f}x | {note} |")
    table = "\n".join(lines)
    print(table)
    out = Path(__file__).resolve().parent / "results" / "raters.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "# calib.raters benchmark (SYNTHETIC data from calib.simulate)\n\n"
        f"`python bench/bench_raters.py{' --quick' if args.quick else ''}` on "
        f"{platform.machine()} / Python {platform.python_version()}, 2 shared cores; "
        f"calib and every peer timed alike: one warm-up, then best of {repeats} runs (wall clock; "
        "the machine is shared, so expect noise).\n\n" + table + "\n\n"
        "peer / calib > 1 means calib is faster. raschpy estimates the MFRM by regularised "
        "pairwise composite likelihood (a different estimator than calib's JMLE), so its rater "
        "severities agree closely but not exactly.\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

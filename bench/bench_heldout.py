"""Issue 13 goals on the hand-written held-out set (datasets/heldout): QWK against the expert,
the length-only baseline, style gaps, and the vocabulary counterfactuals.

    PYTHONPATH=. python bench/bench_heldout.py --split test            # the reported figures
    PYTHONPATH=. python bench/bench_heldout.py --split dev             # development only
    PYTHONPATH=. python bench/bench_heldout.py --split test --trained model/   # + trained grader

Writes ``bench/results/heldout_<split>.md``. The length baseline is cross-fitted exactly as
``calib validate-grader`` does (word-count quantile thresholds fitted on the other folds of the
same split). QWK = Cohen's quadratic-weighted kappa (scikit-learn ``cohen_kappa_score``);
95% CIs are percentile bootstraps over transcripts (500 resamples, seed 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calib.graders.rules import RuleGrader, candidate_word_counts  # noqa: E402
from calib.graders.validate import cross_fitted_length_scores  # noqa: E402
from calib.graders.vocab import vocabulary_sensitivity  # noqa: E402
from calib.rubric import load_rubric  # noqa: E402

RUBRIC = ROOT / "rubrics" / "ml_interview_v1.yaml"


def load_split(split: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transcripts (with ``style``) and the expert scores (wide) of one half."""
    base = ROOT / "datasets" / "heldout" / split
    rows = [json.loads(x) for x in (base / "transcripts.jsonl").read_text().splitlines() if x]
    t = pd.DataFrame(rows)
    t["style"] = [m.get("style") for m in t["metadata"]]
    r = pd.read_csv(base / "ratings.csv")
    expert = r.pivot(index="transcript_id", columns="dimension", values="score")
    return t, expert


def qwk(a: np.ndarray, b: np.ndarray) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok].astype(int), b[ok].astype(int)
    if len(a) < 2 or len(set(a)) < 2 and len(set(b)) < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4]))


def qwk_ci(a: np.ndarray, b: np.ndarray, n_boot: int = 500, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = len(a)
    reps = [qwk(a[i], b[i]) for i in rng.integers(0, n, size=(n_boot, n))]
    lo, hi = np.nanpercentile(reps, [2.5, 97.5])
    return qwk(a, b), float(lo), float(hi)


def scores_wide(ratings: pd.DataFrame) -> pd.DataFrame:
    return ratings.pivot(index="transcript_id", columns="dimension", values="score")


def length_scores(t: pd.DataFrame, expert: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    words = candidate_word_counts(t).astype(float)
    out = {}
    for d in dims:
        out[d] = cross_fitted_length_scores(words, expert[d], [1, 2, 3, 4])
    return pd.DataFrame(out)


def agreement_table(graders: dict[str, pd.DataFrame], expert: pd.DataFrame, dims: list[str]):
    rows = []
    for d in dims:
        row = {"dimension": d}
        for name, sc in graders.items():
            idx = expert.index.intersection(sc.index)
            e = expert.loc[idx, d].to_numpy(float)
            g = sc.reindex(idx)[d].to_numpy(float)
            ok = ~(np.isnan(e) | np.isnan(g))
            k, lo, hi = qwk_ci(e[ok], g[ok])
            row[f"{name}"] = k
            row[f"{name}_ci"] = f"[{lo:.2f}, {hi:.2f}]"
            row[f"{name}_n"] = int(ok.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def style_gaps(t, sc: pd.DataFrame, expert: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Mean (grader - expert) over dimensions, per style, plus the two goal groups."""
    g = sc.reindex(expert.index)[dims]
    diff = (g - expert[dims]).mean(axis=1)
    emean = expert[dims].mean(axis=1)
    style = t.set_index("transcript_id")["style"].reindex(expert.index)
    out = diff.groupby(style).agg(["count", "mean"]).rename(columns={"mean": "grader-expert"})
    groups = {
        "stuffed (weak, buzzwords)": style == "stuffed",
        "plain, expert mean >= 3": (style == "plain") & (emean >= 3),
        "terse, expert mean >= 3": (style == "terse") & (emean >= 3),
    }
    for name, m in groups.items():
        out.loc[name] = [int(m.sum()), float(diff[m].mean())]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["dev", "test"], default="test")
    ap.add_argument("--trained", default=None, help="model directory of calib train-grader")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rubric = load_rubric(RUBRIC)
    dims = list(rubric.dimension_ids)
    t, expert = load_split(args.split)
    rules = RuleGrader.from_rubric(rubric)
    graders = {"rules": rules}
    if args.trained:
        from calib.graders.trained import TrainedGrader

        graders["trained"] = TrainedGrader.load(args.trained)
    scored = {name: scores_wide(g.grade(t, rubric).ratings) for name, g in graders.items()}
    scored["length"] = length_scores(t, expert, dims)
    tab = agreement_table(scored, expert, dims)
    lines = [f"# Held-out `{args.split}` half ({len(t)} hand-written transcripts)", ""]
    cols = ["dimension"] + [c for n in scored for c in (n, f"{n}_ci")]
    lines.append(tab[cols].round(2).to_markdown(index=False))
    beats = int((tab["rules"] >= tab["length"]).sum())
    lines += ["", f"rules QWK >= length baseline on {beats} of {len(dims)} dimensions"]
    if "trained" in tab:
        tb = int((tab["trained"] > tab["rules"]).sum())
        lines.append(
            f"trained QWK > rules on {tb} of {len(dims)} dimensions; mean QWK trained "
            f"{tab['trained'].mean():.2f} vs rules {tab['rules'].mean():.2f}"
        )
    for name, sc in scored.items():
        if name == "length":
            continue
        lines += ["", f"## {name}: mean (grader - expert) by style", ""]
        lines.append(style_gaps(t, sc, expert, dims).round(2).to_markdown())
        vs = vocabulary_sensitivity(graders[name], t, rubric, expert=expert, seed=0)
        lines += ["", f"## {name}: vocabulary counterfactuals (mean change, 95% CI)", ""]
        lines.append(vs.round(2).to_markdown(index=False))
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        out = ROOT / "bench" / "results" / f"heldout_{args.split}.md"
        out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

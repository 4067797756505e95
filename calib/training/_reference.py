"""Pick the transcripts of a calibration round and their reference scores.

A reference score is the mean of the *reference raters'* scores for one transcript and
dimension: the named experts (``experts=``), or, without experts, every human rater of a
transcript that was scored with high agreement (the consensus). The mean of expert ratings as
the "true score" follows the rater-accuracy literature (Sulsky & Balzer 1988, J. Appl. Psychol.
73(3), 497-506).

Eligibility (one rule for both modes): a transcript is eligible when every rubric dimension was
scored by at least ``min_raters`` reference raters and their scores span at most
``max_spread`` levels (default 1: nobody is two levels away from another reference rater).

Selection is deterministic (preference order: more reference raters, then more human raters
overall, then transcript id):

1. *coverage*: the at most ``n`` transcripts that together cover the most (dimension, level)
   pairs (an exact maximum-coverage integer programme, solved with scipy's HiGHS ``milp``;
   at equal coverage the preferred transcripts); a cell covers the level nearest
   its reference score when that is unambiguous;
2. *borderline*: make sure at least ``max(1, n // 4)`` transcripts are borderline, i.e. have a
   dimension whose reference score lies at least 0.25 of a level away from the nearest level
   (the reference raters split between two adjacent levels);
3. *balance*: fill up to ``n`` with the transcripts that add most examples of the levels that
   are rarest in the set so far.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib.errors import CalibWarning, ConfigError, DataValidationError
from calib.rubric import Rubric

__all__ = ["ReferenceSet", "build_reference_set", "BORDERLINE_DISTANCE"]

#: A reference score at least this far (in levels) from the nearest level marks a borderline cell.
BORDERLINE_DISTANCE = 0.25


@dataclass(frozen=True)
class ReferenceSet:
    """The transcripts of one calibration round with their reference scores.

    Attributes
    ----------
    set_id : str
        Short content id (hash of the transcript ids and reference scores).
    rubric_id, rubric_version, rubric_hash : str
        Identity of the rubric the reference scores belong to.
    mode : str
        ``"experts"`` or ``"consensus"``.
    experts : tuple of str
        The named expert raters (empty in consensus mode).
    reference : pandas.DataFrame
        One row per transcript x dimension: ``transcript_id, dimension, reference_score``
        (mean of the reference raters), ``reference_level`` (text: ``"3"`` or ``"2 or 3"``
        when the mean is halfway), ``n_raters``, ``spread`` (max - min),
        ``reference_raters`` (``;``-joined ids) and ``borderline``.
    chosen : pandas.DataFrame
        One row per chosen transcript, in selection order: ``transcript_id, question_id,
        step`` (coverage, borderline or balance), ``reason`` (why it was chosen, in words),
        ``borderline_dimensions``.
    transcripts : pandas.DataFrame
        The chosen transcripts' records as read from the store.
    gaps : tuple of str
        (dimension, level) pairs the set does not cover, in words (empty when covered).
    source : str
        Where the scores came from (store path), for the record.
    """

    set_id: str
    rubric_id: str
    rubric_version: str
    rubric_hash: str
    mode: str
    experts: tuple[str, ...]
    reference: pd.DataFrame
    chosen: pd.DataFrame
    transcripts: pd.DataFrame
    gaps: tuple[str, ...] = ()
    source: str = ""
    settings: dict = field(default_factory=dict)

    @property
    def transcript_ids(self) -> list[str]:
        """Chosen transcript ids in selection order."""
        return list(self.chosen["transcript_id"])

    def reference_raters(self) -> dict[str, set[str]]:
        """``{transcript_id: {rater ids whose scores set that transcript's reference}}``."""
        out: dict[str, set[str]] = {}
        for tid, raters in zip(
            self.reference["transcript_id"], self.reference["reference_raters"], strict=True
        ):
            out.setdefault(str(tid), set()).update(r for r in str(raters).split(";") if r)
        return out


def levels_within(score: float, distance: float = 0.5) -> list[int]:
    """Integer levels at most ``distance`` from ``score`` (the nearest level, or two when halfway).

    Example
    -------
    >>> levels_within(2.5), levels_within(2.33), levels_within(3.0)
    ([2, 3], [2], [3])
    """
    lo, hi = int(np.floor(score - distance)), int(np.ceil(score + distance))
    return [v for v in range(lo, hi + 1) if abs(v - score) <= distance + 1e-9]


def _level_text(score: float) -> str:
    return " or ".join(str(v) for v in levels_within(score))


def _max_coverage(
    pool: list[str], pairs: dict[str, set[tuple[str, int]]], n: int, tiers: list[int]
) -> list[str]:
    """At most ``n`` transcripts of ``pool`` covering the most (dimension, level) pairs.

    Maximum coverage as a 0/1 integer programme (scipy.optimize.milp, HiGHS): maximise
    ``W * sum(y_p) - sum(c_t * x_t)`` subject to ``y_p <= sum_{t covers p} x_t`` and
    ``sum(x_t) <= n``. ``c_t = 0.1 + tier_t + rank_t / (10 len(pool))``: ``tier_t`` is 0 for
    the most preferred group of transcripts (most reference raters, then most raters), 1 for
    the next...; so at equal coverage a transcript from a less preferred group is used only
    when no preferred ones do as well, and ``W = n (max tier + 1.2) + 10`` makes one more
    covered pair always worth more than any choice of transcripts. Falls back to greedy
    selection if the solver returns no solution.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    targets = sorted(set().union(*(pairs.get(t, set()) for t in pool)))
    if not targets or not pool:
        return []
    nx, ny = len(pool), len(targets)
    col = {p: j for j, p in enumerate(targets)}
    tier = np.asarray(tiers, dtype=float)
    big = n * (tier.max() + 1.2) + 10.0
    cost = np.concatenate([0.1 + tier + np.arange(nx) / (10.0 * nx), np.full(ny, -big)])
    a = np.zeros((ny + 1, nx + ny))
    for i, t in enumerate(pool):
        for p in pairs.get(t, ()):
            a[col[p], i] = -1.0
    a[np.arange(ny), nx + np.arange(ny)] = 1.0
    a[ny, :nx] = 1.0
    upper = np.concatenate([np.zeros(ny), [float(n)]])
    res = milp(
        cost,
        constraints=LinearConstraint(a, -np.inf, upper),
        integrality=np.ones(nx + ny),
        bounds=Bounds(0, 1),
        options={"time_limit": 20.0},
    )
    if res.x is None:  # pragma: no cover - HiGHS always finds x = 0 feasible
        chosen: list[str] = []
        covered: set[tuple[str, int]] = set()
        while len(chosen) < n:
            best = max(
                (t for t in pool if t not in chosen),
                key=lambda t: len(pairs.get(t, set()) - covered),
                default=None,
            )
            if best is None or not pairs.get(best, set()) - covered:
                break
            chosen.append(best)
            covered |= pairs[best]
        return chosen
    return [t for i, t in enumerate(pool) if res.x[i] > 0.5]


def _cell_table(
    ratings: pd.DataFrame, rubric: Rubric, experts: Sequence[str] | None
) -> pd.DataFrame:
    """Per transcript x dimension: reference score and agreement of the reference raters."""
    human = ratings[(ratings["rater_type"] == "human") & ratings["score"].notna()]
    human = human[human["dimension"].isin(rubric.dimension_ids)]
    ref = human[human["rater_id"].isin(list(experts))] if experts else human
    g = ref.groupby(["transcript_id", "dimension"], sort=True)
    cells = g["score"].agg(reference_score="mean", lo="min", hi="max", n_raters="count")
    cells["reference_raters"] = g["rater_id"].agg(lambda s: ";".join(sorted(map(str, s))))
    cells = cells.reset_index()
    cells["spread"] = cells["hi"] - cells["lo"]
    dist = (cells["reference_score"] - cells["reference_score"].round()).abs()
    cells["borderline"] = dist >= BORDERLINE_DISTANCE - 1e-9
    cells["reference_level"] = cells["reference_score"].map(_level_text)
    return cells.drop(columns=["lo", "hi"])


def build_reference_set(
    ratings: pd.DataFrame,
    transcripts: pd.DataFrame,
    rubric: Rubric,
    n: int = 8,
    experts: Sequence[str] | None = None,
    *,
    min_raters: int | None = None,
    max_spread: int = 1,
    source: str = "",
) -> ReferenceSet:
    """Choose ``n`` transcripts and their reference scores for a calibration round.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table (``transcript_id, rater_id, rater_type, dimension, score``); only
        human rows are used.
    transcripts : pandas.DataFrame
        The store's transcripts (``transcript_id``, ``question_id``, ``turns``, ...).
    rubric : Rubric
        The store's rubric (levels and dimensions come from it, never from the data).
    n : int
        Number of transcripts in the set.
    experts : sequence of str, optional
        Expert rater ids whose (mean) scores are the reference. Without experts, the
        reference is the mean of all human raters of high-agreement transcripts.
    min_raters : int, optional
        Reference raters needed on every dimension of a transcript. Default: ``min(2,
        len(experts))`` with experts, 3 without (a consensus needs at least three raters).
    max_spread : int
        Largest allowed max - min of the reference raters' scores on a dimension.
    source : str
        Recorded in the set (e.g. the store path).

    Returns
    -------
    ReferenceSet

    Raises
    ------
    ConfigError
        ``n`` < 1, or an expert id that never rated in ``ratings``.
    DataValidationError
        The store cannot support a set of ``n`` transcripts (the message says why: how many
        transcripts were eligible, what excluded the others, and what to change).

    Warns
    -----
    CalibWarning
        When some (dimension, level) pair cannot be covered (listed in ``gaps``).

    Examples
    --------
    >>> from calib.io import read_ratings, read_transcripts, read_store_rubric  # doctest: +SKIP
    >>> rs = build_reference_set(read_ratings("store"), read_transcripts("store"),
    ...                          read_store_rubric("store"), n=8, experts=["r07", "r08"])  # doctest: +SKIP
    >>> rs.chosen[["transcript_id", "reason"]]  # doctest: +SKIP
    """
    if int(n) < 1:
        raise ConfigError(f"--n must be at least 1 (got {n})")
    n = int(n)
    experts = tuple(dict.fromkeys(str(e).strip() for e in (experts or ()) if str(e).strip()))
    human_ids = set(ratings.loc[ratings["rater_type"] == "human", "rater_id"].astype(str))
    unknown = [e for e in experts if e not in human_ids]
    if unknown:
        shown = ", ".join(sorted(human_ids)[:20]) + (" ..." if len(human_ids) > 20 else "")
        raise ConfigError(
            f"expert rater(s) {', '.join(map(repr, unknown))} have no human ratings in "
            f"{source or 'the ratings'}; human raters present: {shown or '(none)'}"
        )
    if min_raters is None:
        min_raters = min(2, len(experts)) if experts else 3
    if min_raters < 1:
        raise ConfigError(f"min_raters must be at least 1 (got {min_raters})")

    cells = _cell_table(ratings, rubric, experts)
    dims = list(rubric.dimension_ids)
    per_t = cells.groupby("transcript_id", sort=True).agg(
        n_dims=("dimension", "nunique"),
        min_n=("n_raters", "min"),
        max_spread=("spread", "max"),
        ref_raters=("n_raters", "sum"),
    )
    known = set(transcripts["transcript_id"].astype(str))
    per_t = per_t[per_t.index.isin(known)]
    complete = per_t["n_dims"] == len(dims)
    enough = per_t["min_n"] >= min_raters
    agree = per_t["max_spread"] <= max_spread
    eligible = per_t[complete & enough & agree]
    who = f"the experts {', '.join(experts)}" if experts else "human raters"
    if len(eligible) < n:
        why = [
            f"{int((~complete).sum())} miss a dimension",
            f"{int((complete & ~enough).sum())} have a dimension with fewer than {min_raters} "
            "reference raters",
            f"{int((complete & enough & ~agree).sum())} have reference raters more than "
            f"{max_spread} level(s) apart",
        ]
        fix = (
            "lower --n, name more experts, or have the experts score more transcripts"
            if experts
            else "lower --n, or name expert raters with --experts"
        )
        raise DataValidationError(
            f"{source or 'the store'} cannot support a reference set of {n} transcripts: only "
            f"{len(eligible)} transcript(s) have every dimension scored by at least {min_raters} "
            f"of {who} within {max_spread} level(s) of each other ({len(per_t)} transcript(s) "
            f"scored by {who}: {'; '.join(why)}). To fix: {fix}."
        )

    elig_cells = cells[cells["transcript_id"].isin(eligible.index)]
    total_raters = (
        ratings[ratings["rater_type"] == "human"].groupby("transcript_id")["rater_id"].nunique()
    )
    pairs: dict[str, set[tuple[str, int]]] = {}
    border: dict[str, list[str]] = {}
    for row in elig_cells.itertuples(index=False):
        lv = levels_within(row.reference_score)
        if len(lv) == 1:
            pairs.setdefault(row.transcript_id, set()).add((row.dimension, lv[0]))
        if row.borderline:
            border.setdefault(row.transcript_id, []).append(row.dimension)
    pool = sorted(
        eligible.index,
        key=lambda t: (-int(eligible.loc[t, "ref_raters"]), -int(total_raters.get(t, 0)), t),
    )
    coverable = set().union(*(pairs.get(t, set()) for t in pool))
    want = {(d, int(v)) for d in dims for v in rubric.scale.values}

    chosen: list[dict] = []
    covered: set[tuple[str, int]] = set()
    counts: dict[tuple[str, int], int] = {}

    def take(t: str, step: str, reason: str) -> None:
        pool.remove(t)
        for p in pairs.get(t, ()):
            counts[p] = counts.get(p, 0) + 1
        covered.update(pairs.get(t, ()))
        chosen.append(
            {
                "transcript_id": t,
                "step": step,
                "reason": reason,
                "borderline_dimensions": ";".join(border.get(t, [])),
            }
        )

    def pair_text(ps: set[tuple[str, int]]) -> str:
        by_dim: dict[str, list[int]] = {}
        for d, v in sorted(ps, key=lambda p: (dims.index(p[0]), p[1])):
            by_dim.setdefault(d, []).append(v)
        return "; ".join(f"{d} level {', '.join(map(str, vs))}" for d, vs in by_dim.items())

    # 1. coverage: the most (dimension, level) pairs n transcripts can cover (exact, by ILP),
    # listed in greedy order so each reason names the pairs that transcript adds
    keys = [(-int(eligible.loc[t, "ref_raters"]), -int(total_raters.get(t, 0))) for t in pool]
    tier = {k: i for i, k in enumerate(sorted(set(keys)))}
    cover = _max_coverage(pool, pairs, n, [tier[k] for k in keys])
    while cover and coverable - covered:
        best = max(cover, key=lambda t: len(pairs.get(t, set()) - covered))
        new = pairs.get(best, set()) - covered
        if not new:
            break
        cover.remove(best)
        take(best, "coverage", f"covers {pair_text(new)}")
    # 2. borderline cases
    n_border = max(1, n // 4)
    while len(chosen) < n and sum(bool(c["borderline_dimensions"]) for c in chosen) < n_border:
        cands = [t for t in pool if border.get(t)]
        if not cands:
            break
        best = max(cands, key=lambda t: len(border[t]))
        shown = elig_cells[
            (elig_cells["transcript_id"] == best) & elig_cells["dimension"].isin(border[best])
        ]
        detail = "; ".join(
            f"{r.dimension} (reference {r.reference_score:.2f}: raters split between levels)"
            for r in shown.itertuples(index=False)
        )
        take(best, "borderline", f"borderline case: {detail}")
    # 3. balance the levels
    while len(chosen) < n and pool:
        best = max(pool, key=lambda t: sum(1.0 / (1 + counts.get(p, 0)) for p in pairs.get(t, ())))
        rare = sorted(pairs.get(best, set()), key=lambda p: (counts.get(p, 0), dims.index(p[0])))
        take(
            best,
            "balance",
            "adds examples of the levels least represented so far: " + pair_text(set(rare[:3])),
        )
    for c in chosen:
        if c["borderline_dimensions"] and c["step"] != "borderline":
            c["reason"] += f"; also borderline on {c['borderline_dimensions'].replace(';', ', ')}"

    gaps = sorted(want - covered, key=lambda p: (dims.index(p[0]), p[1]))
    gap_text = tuple(f"{d} level {v}" for d, v in gaps)
    if gaps:
        missing_pool = sorted(want - coverable, key=lambda p: (dims.index(p[0]), p[1]))
        because = (
            f"no eligible transcript has a clear reference at {pair_text(set(missing_pool))}"
            if missing_pool
            else f"no {n} eligible transcripts cover them all: a larger --n would"
        )
        warnings.warn(
            f"the reference set does not cover {', '.join(gap_text)} ({because})",
            CalibWarning,
            stacklevel=2,
        )

    ids = [c["transcript_id"] for c in chosen]
    reference = (
        cells[cells["transcript_id"].isin(ids)]
        .assign(_o=lambda d: d["transcript_id"].map({t: i for i, t in enumerate(ids)}))
        .assign(_d=lambda d: d["dimension"].map({x: i for i, x in enumerate(dims)}))
        .sort_values(["_o", "_d"])
        .drop(columns=["_o", "_d"])
        .reset_index(drop=True)
    )
    reference = reference[
        [
            "transcript_id",
            "dimension",
            "reference_score",
            "reference_level",
            "n_raters",
            "spread",
            "reference_raters",
            "borderline",
        ]
    ]
    tr = transcripts.assign(transcript_id=transcripts["transcript_id"].astype(str))
    tr = tr.set_index("transcript_id").loc[ids].reset_index()
    chosen_df = pd.DataFrame(chosen)
    chosen_df.insert(1, "question_id", tr["question_id"].astype(str).to_numpy())
    digest = hashlib.sha256(
        "\n".join(
            f"{r.transcript_id}\t{r.dimension}\t{r.reference_score:.6f}"
            for r in reference.itertuples(index=False)
        ).encode()
    ).hexdigest()[:10]
    return ReferenceSet(
        set_id=f"set-{digest}",
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        rubric_hash=rubric.content_hash,
        mode="experts" if experts else "consensus",
        experts=experts,
        reference=reference,
        chosen=chosen_df,
        transcripts=tr,
        gaps=gap_text,
        source=str(source),
        settings={"n": n, "min_raters": int(min_raters), "max_spread": int(max_spread)},
    )

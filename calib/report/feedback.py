"""Personal feedback for one interviewer: where their scores depart from their colleagues'.

The comparison is with the *leave-one-out* consensus: the mean score the other human raters
gave the same transcript and dimension. Differences are averaged per dimension with a t-based
95% confidence interval. Rater-effect flags (halo, central tendency, drift...) come from
:func:`calib.raters.rater_effects` when available.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import ConfigError
from calib.raters import DEFAULT_FLAG_MODEL, flag_summary, rater_effects
from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import run_analysis
from calib.report._inputs import ReportInputs
from calib.report._model import ReportResults, Section
from calib.report._scale import scaled_rater_thresholds
from calib.report.results import ReportOptions

__all__ = ["build_feedback", "excerpt", "plain_difference", "PRACTICE_THRESHOLD"]

#: Mean difference from consensus at which a dimension gets a practice item, in score points of
#: a 1-4 scale (3 points wide); on other scales the same share of the width (0.4 on 1-5, 10 on 0-100).
PRACTICE_THRESHOLD = 0.3
_N_EXAMPLES = 5
_WORD = re.compile(r"[a-z][a-z\-]{3,}")
_STOP = frozenset(
    "that this with from have which when what them they their there then than into also only "
    "such each more most some other about would could should before after where while very "
    "does done being been were will just like make made answer".split()
)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP}


def excerpt(turns: list[dict] | None, keywords: str, max_chars: int = 420) -> str:
    """The candidate sentences that best match ``keywords`` (rubric text), in transcript order.

    Sentences are scored by how many word stems they share with the keywords; the best two
    are returned, cut to ``max_chars``. Returns "" if the transcript has no candidate turn.

    Example
    -------
    >>> turns = [{"speaker": "candidate", "text": "I like cats. Latency must stay under 50 ms, so a smaller model."}]
    >>> excerpt(turns, "latency budget and model size trade-off")
    'Latency must stay under 50 ms, so a smaller model.'
    """
    if not turns:
        return ""
    text = " ".join(str(t.get("text") or "") for t in turns if t.get("speaker") == "candidate")
    sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    if not sents:
        return ""
    keys = _stems(keywords)
    score = np.array([len(_stems(s) & keys) for s in sents])
    best = np.sort(np.argsort(-score, kind="stable")[:2]) if score.max() > 0 else np.array([0])
    best = [i for i in best if score[i] > 0] or [int(best[0])]
    out = " ".join(sents[i] for i in best)
    return out if len(out) <= max_chars else out[: max_chars - 1].rstrip() + "…"


def plain_difference(severity: float, low: float, high: float) -> str:
    """One sentence for one dimension: how much lower or higher than colleagues, and how sure.

    Example
    -------
    >>> plain_difference(0.5, 0.3, 0.7)
    'you score 0.50 points lower than colleagues (harsher)'
    >>> plain_difference(-0.1, -0.3, 0.1)
    'you score 0.10 points higher than colleagues (not clearly different)'
    """
    if severity is None or not np.isfinite(severity):
        return "no colleague scored the same transcripts"
    clear = np.isfinite(low) and np.isfinite(high) and (low > 0 or high < 0)
    word = "lower" if severity > 0 else "higher"
    why = ("harsher" if severity > 0 else "more lenient") if clear else "not clearly different"
    return f"you score {abs(severity):.2f} points {word} than colleagues ({why})"


def _dim_keywords(dim: Any) -> str:
    parts = (
        [dim.name, dim.description]
        + [lv.anchor for lv in dim.levels]
        + [i for lv in dim.levels for i in lv.indicators]
    )
    return " ".join(parts)


def _unit(scale) -> float:
    """One level on a few-level scale; a tenth of the width on wide and continuous scales."""
    return 1.0 if scale.few_levels else scale.span / 10


def _unit_text(rubric, dims: list[str]) -> str:
    scales = {rubric.scale_for(d).describe(): rubric.scale_for(d) for d in dims} or {
        rubric.scale.describe(): rubric.scale
    }
    if all(sc.few_levels for sc in scales.values()):
        return "a full level"
    if len(scales) == 1:
        return f"{_unit(next(iter(scales.values()))):g} points (a tenth of the scale)"
    return "a full level (a tenth of the scale on wide scales)"


def _score(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(float(x), 3)


def build_feedback(
    inputs: ReportInputs, rater_id: str, options: ReportOptions | None = None
) -> ReportResults:
    """Build the feedback report for one human rater.

    Parameters
    ----------
    inputs : ReportInputs
    rater_id : str
        A human rater in the ratings table.
    options : ReportOptions, optional

    Returns
    -------
    ReportResults
        Sections ``summary``, ``differences`` (examples with excerpt and anchors in
        ``facts["examples"]``), ``practice``.

    Raises
    ------
    ConfigError
        If ``rater_id`` has no human ratings (the message lists the known raters).

    Example
    -------
    >>> from calib.report import load_inputs, write_report  # doctest: +SKIP
    >>> inputs = load_inputs("reports/demo/store")  # doctest: +SKIP
    >>> fb = build_feedback(inputs, "r01")  # doctest: +SKIP
    >>> write_report(fb, "reports/feedback-r01", inputs=inputs, template="feedback")  # doctest: +SKIP
    """
    opt = options or ReportOptions()
    rubric = inputs.rubric
    dims = list(rubric.dimension_ids)
    human = inputs.ratings[inputs.ratings["rater_type"].eq("human")]
    known = sorted(human["rater_id"].astype(str).unique())
    if rater_id not in known:
        raise ConfigError(
            f"--rater {rater_id!r}: no human ratings by this rater; known raters: {', '.join(known)}"
        )
    rvc = desc.rater_vs_consensus(inputs.ratings)
    mine = rvc[rvc["rater_id"] == rater_id]
    dev = desc.rater_deviations(mine)
    dev = dev.set_index("dimension").reindex(dims).reset_index()
    dev["rater_id"] = rater_id
    n_tr = int(mine["transcript_id"].nunique())

    # --- summary -------------------------------------------------------------------------
    # one sign convention across calib: severity = the others' mean minus your score, in score
    # points, positive = harsher (you score lower than colleagues)
    dev["severity"] = -dev["mean_diff"]
    dev["severity_low"], dev["severity_high"] = -dev["ci_high"], -dev["ci_low"]
    s1 = Section("summary", "Your scores compared with your colleagues'")
    s1.tables["by_dimension"] = dev[
        [
            "dimension",
            "n",
            "severity",
            "severity_low",
            "severity_high",
            "mean_diff",
            "ci_low",
            "ci_high",
            "exact_agreement",
        ]
    ]
    names = {d.id: d.name for d in rubric.dimensions}
    s1.show.append(
        (
            "Per dimension, in plain words, with your severity in score points (positive = harsher "
            "than colleagues) and its 95% CI",
            "by_dimension",
            None,
            lambda t: pd.DataFrame(
                {
                    "dimension": t["dimension"].map(lambda d: names.get(d, d)),
                    "in plain words": [
                        plain_difference(v, lo, hi)
                        for v, lo, hi in zip(
                            t["severity"], t["severity_low"], t["severity_high"], strict=True
                        )
                    ],
                    "severity [95% CI]": [
                        "–" if pd.isna(v) else f"{v:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                        for v, lo, hi in zip(
                            t["severity"], t["severity_low"], t["severity_high"], strict=True
                        )
                    ],
                    "ratings": t["n"],
                    "same level as colleagues": t["exact_agreement"].map(
                        lambda x: "–" if pd.isna(x) else f"{100 * x:.0f}%"
                    ),
                }
            ),
        )
    )
    overall = float(mine["diff"].mean()) if len(mine) else float("nan")
    clear = dev[(dev["ci_low"] > 0) | (dev["ci_high"] < 0)]
    direction = "higher (more lenient)" if overall > 0 else "lower (harsher)"
    s1.takeaway = (
        f"Across {n_tr} transcripts you score on average {abs(overall):.2f} points {direction} "
        f"than the other raters (severity {-overall:+.2f})"
        if abs(overall) >= 0.05
        else f"Across {n_tr} transcripts your average matches the other raters' (severity "
        f"{-overall:+.2f})"
    ) + f"; the difference is clear (95% CI excludes 0) on {len(clear)} of {len(dims)} dimensions."
    s1.facts.update(
        rater_id=rater_id,
        transcripts=n_tr,
        ratings=int(len(mine)),
        mean_diff=round(overall, 6),
        by_dimension={
            r.dimension: {
                "severity": _r(r.severity),
                "mean_diff": _r(r.mean_diff),
                "ci": [_r(r.ci_low), _r(r.ci_high)],
                "n": int(r.n) if np.isfinite(r.n) else 0,
            }
            for r in dev.itertuples()
        },
    )
    fd = dev.assign(flag=dev["dimension"].isin(clear["dimension"]))
    s1.figures.append(
        plots.forest_plot(
            fd,
            label="dimension",
            estimate="severity",
            low="severity_low",
            high="severity_high",
            highlight="flag",
            reference=0.0,
            xlabel="Your severity: colleagues' mean minus your score (points; positive = harsher)",
            key="feedback_forest",
            title=f"{rater_id}: how much harsher or more lenient than colleagues, per dimension",
            alt=f"Forest plot of {rater_id}'s severity per dimension (the other raters' mean minus "
            "their score, positive = harsher) with 95% confidence intervals; "
            + "; ".join(
                f"{r.dimension} {r.severity:+.2f}"
                for r in dev.itertuples()
                if np.isfinite(r.severity)
            ),
        )
    )
    flags = run_analysis(
        rater_effects,
        human,
        model=DEFAULT_FLAG_MODEL,
        transcripts=inputs.transcripts,
        # point thresholds were set on a 1-4 scale; keep their share of this scale's width
        thresholds=scaled_rater_thresholds(rubric.scale.span),
    )
    ft = flags.value if flags.ok else None
    my_flags = pd.DataFrame()
    if ft is not None and "flagged" in ft.columns:
        my_flags = ft[(ft["rater_id"] == rater_id) & ft["flagged"].astype(bool)].reset_index(
            drop=True
        )
        s1.tables["flags"] = my_flags
        mine_sum = flag_summary(ft[ft["rater_id"] == rater_id], len(dims))
        s1.tables["flag_summary"] = mine_sum
        if len(mine_sum):
            s1.show.append(
                (
                    "What the rater analysis flags for you (the same flags as the calibration "
                    "report; sizes in score points, positive = harsher)",
                    "flag_summary",
                    None,
                    lambda t: (
                        t[["label", "direction", "size", "where"]]
                        .assign(size=t["size"].map(lambda v: f"{v:+.2f}"))
                        .rename(columns={"label": "effect", "where": "where (per dimension)"})
                    ),
                )
            )
    elif not flags.ok:
        s1.not_computed("rater-effect flags", flags.reason)

    # --- differences --------------------------------------------------------------------------
    s2 = Section("differences", "Where you differed most")
    top = mine.assign(a=mine["diff"].abs()).sort_values(
        ["a", "transcript_id", "dimension"], ascending=[False, True, True], kind="stable"
    )
    # at most two per dimension, so the examples cover different parts of the rubric
    # "a full level" on few-level scales; a tenth of the scale's width on wide/continuous ones
    unit = top["dimension"].map(lambda d: _unit(rubric.scale_for(d))).astype("float64")
    top = top[top["a"] >= unit].groupby("dimension", sort=False).head(2).head(_N_EXAMPLES)
    turns = (
        inputs.transcripts.set_index("transcript_id")["turns"]
        if inputs.transcripts is not None
        else pd.Series(dtype=object)
    )
    examples = []
    for r in top.itertuples():  # at most five examples: a loop over items shown, not over data rows
        dim = rubric.dimension(r.dimension)
        sc = rubric.scale_for(r.dimension)
        # the consensus' nearest anchored point (every level on a fully anchored scale)
        cons = dim.nearest_anchor(float(np.clip(r.consensus, sc.min, sc.max)))
        examples.append(
            {
                "transcript_id": r.transcript_id,
                "dimension": r.dimension,
                "dimension_name": dim.name,
                "your_score": _score(r.score),
                "others_mean": round(float(r.consensus), 3),
                "others_n": int(r.n_others),
                "excerpt": (
                    excerpt(turns.get(r.transcript_id), _dim_keywords(dim))
                    if inputs.transcripts is not None
                    else "not computed: no transcript text"
                ),
                "your_anchor": dim.nearest_anchor(r.score).anchor,
                "consensus_level": _score(cons.score),
                "consensus_anchor": cons.anchor,
            }
        )
    s2.facts["examples"] = examples
    s2.tables["examples"] = pd.DataFrame(
        examples,
        columns=[
            "transcript_id",
            "dimension",
            "your_score",
            "others_mean",
            "others_n",
            "consensus_level",
        ],
    )
    far = _unit_text(rubric, list(mine["dimension"].unique()))
    s2.takeaway = (
        f"{len(examples)} transcript(s) where your score was {far} or more from the others' mean."
        if examples
        else f"You were never {far} away from the other raters' mean."
    )

    # --- practice ------------------------------------------------------------------------------
    s3 = Section("practice", "What to practise")
    items = []
    # largest difference first: the first item is what to practise first
    # PRACTICE_THRESHOLD is in points of a 1-4 scale: the same share of each dimension's width
    practice_at = pd.Series(
        [PRACTICE_THRESHOLD * rubric.scale_for(d).span / 3.0 for d in dev["dimension"]],
        index=dev.index,
        dtype="float64",
    )
    todo = dev[(dev["mean_diff"].abs() >= practice_at) & dev.index.isin(clear.index)]
    todo = todo.assign(_a=todo["mean_diff"].abs()).sort_values(
        ["_a", "dimension"], ascending=[False, True], kind="stable"
    )
    first = None
    for r in todo.itertuples():
        dim = rubric.dimension(r.dimension)
        word = "lower (harsher)" if r.mean_diff < 0 else "higher (more lenient)"
        sc = rubric.scale_for(r.dimension)
        # the anchor two thirds up the scale (level 3 of 1-4): where strict and lenient raters
        # part most often
        anchor = dim.nearest_anchor(sc.min + 2 * sc.span / 3)
        which = f"level-{anchor.score:g} anchor" if sc.few_levels else f"anchor at {anchor.score:g}"
        first = (
            first
            or f"{dim.name}, where you score {abs(r.mean_diff):.2f} points {word} than colleagues"
        )
        items.append(
            f"On {dim.name} you score {abs(r.mean_diff):.2f} points {word} than colleagues. Re-read the "
            f'{which} ("{anchor.anchor}") and score two of the example '
            f"transcripts below again before comparing with the consensus."
        )
    plain = {
        "halo": "Your scores move together across dimensions more than colleagues' do: score each dimension "
        "on its own evidence, one dimension at a time.",
        "central_tendency": "You use the middle of the scale more than colleagues: when the evidence "
        "matches the top or bottom anchor, give that end of the scale.",
        "drift": "Your scores changed over time: re-read the anchors at the start of each session.",
        "misfit": "Your scores are less predictable than the model expects: compare your notes with the "
        "anchors' indicators before scoring.",
    }
    if len(my_flags):
        for eff in sorted(
            set(my_flags["effect"].astype(str)) - {"severity", "dimension_bias", "subgroup"}
        ):
            items.append(plain.get(eff, f"calib.raters flagged: {eff}."))
            first = first or plain.get(eff, eff).split(":")[0].lower()
        for r in my_flags[my_flags["effect"].astype(str).eq("subgroup")].itertuples():
            grp = str(r.note).split(":")[0].replace("=", " = ")
            where = (
                "across dimensions"
                if r.dimension == "all"
                else f"on {names.get(r.dimension, r.dimension)}"
            )
            items.append(
                f"{where[0].upper() + where[1:]}, you score candidates with {grp} "
                f"{abs(float(r.value)):.2f} points {'lower' if r.value > 0 else 'higher'} "
                f"(relative to colleagues) than your other candidates: check that only rubric "
                "evidence drives the score."
            )
            first = first or f"the {grp} difference {where}"
    s3.facts["items"] = items
    s3.takeaway = (
        f"{len(items)} thing(s) to practise; start with {first}."
        if items and first
        else f"{len(items)} thing(s) to practise."
        if items
        else "Nothing to practise: your scores are in line with your colleagues'."
    )

    meta = {
        "calib_version": __import__("calib").__version__,
        "rubric": {
            "id": rubric.id,
            "version": rubric.version,
            "title": rubric.title,
            "content_hash": rubric.content_hash,
        },
        "synthetic": inputs.synthetic,
        "rater_id": rater_id,
        "dimensions": dims,
        "kind": "interviewer_feedback",
        "options": opt.to_dict(),
    }
    return ReportResults(
        meta=meta,
        sections=[s1, s2, s3],
        recommendations=[],
        headline=[s1.takeaway, s2.takeaway, s3.takeaway],
    )


def _r(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)

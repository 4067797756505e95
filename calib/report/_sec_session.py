"""Report section for a calibration session: every rater scored the same transcripts.

A calibration session is read differently from operational scoring: nobody will average
these raters' scores, so the D-study's "fewer raters would do" does not apply; what the
session is for is to see, transcript by transcript, who departs from the group and where.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._inputs import ReportInputs
from calib.report._model import Section

__all__ = ["is_calibration_session", "calibration_session"]

#: A deviation from the others' mean larger than this many levels is listed.
OUTSIDE_LEVELS = 1.0


def is_calibration_session(ratings: pd.DataFrame) -> bool:
    """True when at least two human raters each scored every rated transcript (fully crossed).

    Example
    -------
    >>> r = pd.DataFrame({"transcript_id": ["a", "a", "b", "b"], "rater_id": ["x", "y"] * 2,
    ...                   "rater_type": "human", "dimension": "d", "score": [1.0, 2, 3, 3]})
    >>> is_calibration_session(r)
    True
    """
    h = desc.human_ratings(ratings)
    if h.empty:
        return False
    pairs = h[["transcript_id", "rater_id"]].drop_duplicates()
    n_r = pairs["rater_id"].nunique()
    per_t = pairs.groupby("transcript_id")["rater_id"].nunique()
    return bool(n_r >= 2 and (per_t == n_r).all())


def calibration_session(inp: ReportInputs, dims: list[str]) -> Section:
    """Interviewer x transcript grid of deviations from the others' mean, and who is outside
    +/-1 level on which transcript and dimension.
    """
    s = Section("calibration_session", "Calibration session: who departs from the group, where")
    rvc = desc.rater_vs_consensus(inp.ratings)
    # one sign everywhere: positive = harsher (the rater scored below the others' mean)
    rvc = rvc.assign(harsher=-rvc["diff"])
    grid = (
        rvc.groupby(["rater_id", "transcript_id"])["harsher"].mean().unstack("transcript_id")
    ).sort_index()
    s.tables["grid"] = grid.rename_axis(index="rater_id", columns=None).reset_index()
    out = rvc[rvc["diff"].abs() > OUTSIDE_LEVELS].copy()
    out["dimension"] = pd.Categorical(out["dimension"], categories=dims, ordered=True)
    out = out.sort_values(["rater_id", "transcript_id", "dimension"], kind="stable")
    out["dimension"] = out["dimension"].astype(str)
    s.tables["outside"] = out[
        ["rater_id", "transcript_id", "dimension", "score", "consensus", "harsher"]
    ].reset_index(drop=True)
    n_r, n_t = grid.shape
    s.facts.update(
        raters=int(n_r),
        transcripts=int(n_t),
        outside=int(len(out)),
        outside_by_rater={str(k): int(v) for k, v in out.groupby("rater_id").size().items()},
    )
    s.figures.append(
        plots.heatmap(
            grid,
            key="session_grid",
            title="Calibration session: each interviewer's mean deviation from the other raters "
            "on each transcript (points, positive = harsher)",
            alt="Heatmap of interviewers by transcripts: mean over dimensions of the other "
            "raters' mean minus the interviewer's score (positive = harsher); "
            + "; ".join(
                f"{r} {v:+.2f} on {t}"
                for (r, t), v in grid.stack()
                .sort_values(key=np.abs, ascending=False)
                .head(5)
                .items()
            ),
            xlabel="Transcript",
            ylabel="Interviewer",
            fmt="{:+.1f}",
            cmap="PuOr_r",
            vmin=-1.5,
            vmax=1.5,
            cbar_label="points below the others' mean (+ = harsher)",
        )
    )
    if n_t <= 15:  # small enough to read as a table too (the figure carries larger sessions)
        s.show.append(
            (
                "Interviewer x transcript: mean deviation from the other raters' mean over the "
                "dimensions (points, positive = harsher)",
                "grid",
                None,
                lambda t: t.assign(
                    **{
                        c: t[c].map(lambda v: "–" if pd.isna(v) else f"{v:+.2f}")
                        for c in t.columns[1:]
                    }
                ),
            )
        )
    s.show += [
        (
            f"Scores more than {OUTSIDE_LEVELS:g} level from the other raters' mean "
            "(deviation: positive = harsher)",
            "outside",
            None,
            lambda t: t.rename(
                columns={"consensus": "others' mean", "harsher": "deviation (points, + = harsher)"}
            ),
        ),
    ]
    who = ", ".join(f"{r} ({k})" for r, k in s.facts["outside_by_rater"].items())
    s.takeaway = f"Every one of the {n_r} raters scored the same {n_t} transcripts. " + (
        f"{len(out)} score(s) are more than one level from the others' mean: {who}."
        if len(out)
        else "No score is more than one level from the others' mean."
    )
    return s

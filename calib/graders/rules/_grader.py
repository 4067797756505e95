"""The transparent rule-based grader."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import GraderError, RubricError
from calib.graders.base import RATING_COLUMNS, Grader, GradeResult
from calib.graders.rules._engine import EVIDENCE_COLUMNS, _Texts, evaluate_dimension
from calib.graders.rules._schema import DimensionSignals, check_thresholds, parse_signals
from calib.graders.rules._turns import explode_turns

__all__ = ["RuleGrader", "ENGINE_VERSION", "ratings_frame"]

#: Bumped whenever the meaning of a signal changes, so old and new grades get different ids.
ENGINE_VERSION = "3"


def ratings_frame(
    transcript_ids: np.ndarray,
    dims: list[str],
    scores: np.ndarray,
    rationale: np.ndarray,
    reasons: np.ndarray,
    *,
    rater_id: str,
    rater_type: str,
    rubric: Any,
    run_id: str | None,
) -> pd.DataFrame:
    """Build long ratings rows from (transcript x dimension) arrays (dimension-major order).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(id="tiny", version="1")
    >>> df = ratings_frame(np.array(["t1"]), ["d"], np.array([[2.0]]), np.array([["why"]]),
    ...                    np.array([[None]]), rater_id="x-1", rater_type="rule", rubric=r, run_id=None)
    >>> df[["transcript_id", "dimension", "score"]].to_dict("records")
    [{'transcript_id': 't1', 'dimension': 'd', 'score': 2.0}]
    """
    n, k = len(transcript_ids), len(dims)
    out = pd.DataFrame(
        {
            "transcript_id": np.tile(np.asarray(transcript_ids, dtype=object), k),
            "rater_id": rater_id,
            "rater_type": rater_type,
            "dimension": np.repeat(np.asarray(dims, dtype=object), n),
            "score": np.asarray(scores, dtype=np.float64).T.reshape(-1),
            "rubric_id": rubric.id,
            "rubric_version": str(rubric.version),
            "rated_at": pd.Timestamp(datetime.now(timezone.utc)),
            "rationale": np.asarray(rationale, dtype=object).T.reshape(-1),
            "run_id": run_id,
            "unscored_reason": np.asarray(reasons, dtype=object).T.reshape(-1),
        },
        columns=list(RATING_COLUMNS),
    )
    out["rated_at"] = out["rated_at"].astype("datetime64[us, UTC]")
    return out.sort_values(["transcript_id", "dimension"], kind="stable").reset_index(drop=True)


class RuleGrader(Grader):
    """Score transcripts from the ``signals:`` declared under each rubric dimension.

    Each rule yields a value in [0, 1] per transcript (phrase presence/count/density, an
    ordering such as "objective before the first model", or the share of interviewer
    follow-ups the next candidate turn addressed); the weighted sum is mapped to the
    rubric scale by the dimension's thresholds. Every score carries evidence rows (quoted
    span, turn, offsets) and a rationale listing the rules that fired.

    Parameters
    ----------
    signals : mapping of str to DimensionSignals
        Validated signals per dimension (use :meth:`from_rubric`).
    thresholds : mapping of str to list of float, optional
        Per-dimension threshold overrides (e.g. fitted by ``calib calibrate-grader``).
    name : str
        Grader name; the rater id is ``f"{name}-{config_hash}"``.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> from calib.graders.rules import parse_signals
    >>> sig = parse_signals({"thresholds": [1.0], "rules": [
    ...     {"id": "goal", "weight": 1, "phrases": ["the goal"]}]}, "framing", 2)
    >>> rubric = SimpleNamespace(id="tiny", version="1", dimension_ids=("framing",),
    ...     scale=SimpleNamespace(min=1, max=2, values=np.array([1, 2])))
    >>> t = pd.DataFrame({"transcript_id": ["a", "b"], "turns": [
    ...     [{"speaker": "candidate", "text": "First, what is the goal here?"}],
    ...     [{"speaker": "candidate", "text": "I would train XGBoost."}]]})
    >>> res = RuleGrader({"framing": sig}).grade(t, rubric)
    >>> res.ratings["score"].tolist(), res.evidence["span_text"].tolist()
    ([2.0, 1.0], ['the goal'])
    """

    name = "rules"
    rater_type = "rule"

    def __init__(
        self,
        signals: Mapping[str, DimensionSignals],
        *,
        thresholds: Mapping[str, list[float]] | None = None,
        name: str = "rules",
    ):
        if not signals:
            raise GraderError(
                "RuleGrader: no dimension has signals; add a 'signals:' block to the rubric"
            )
        self.name = name
        self.signals: dict[str, DimensionSignals] = dict(signals)
        for dim, th in (thresholds or {}).items():
            if dim not in self.signals:
                raise GraderError(
                    f"RuleGrader: thresholds given for {dim!r}, which has no signals "
                    f"(known: {', '.join(self.signals)})"
                )
            s = self.signals[dim]
            self.signals[dim] = DimensionSignals(
                s.dimension,
                s.rules,
                check_thresholds(list(th), len(s.thresholds) + 1, f"thresholds.{dim}"),
                s.min_words,
            )

    @classmethod
    def from_rubric(cls, rubric: Any, config: Mapping[str, Any] | None = None) -> RuleGrader:
        """Build the grader from the ``signals:`` blocks of a rubric.

        ``config`` may hold ``thresholds: {dimension: [...]}`` (as written by
        ``calib calibrate-grader``) and ``name``. Dimensions without signals are skipped
        (their rows are unscored with reason ``no_signals``).

        Raises
        ------
        RubricError
            Naming the rubric file and the key path of an invalid signal.
        """
        config = dict(config or {})
        unknown = set(config) - {
            "thresholds",
            "name",
            "grader",
            "fitted",
            "rubric_id",
            "rubric_version",
            "rubric_hash",
            "method",
            "cv",
            "calib_version",
            "seed",
        }
        if unknown:
            raise GraderError(f"rule grader config: unknown key(s) {sorted(unknown)}")
        n_levels = int(rubric.scale.max - rubric.scale.min + 1)
        parsed = {}
        for i, dim in enumerate(rubric.dimensions):
            if dim.signals is not None:
                parsed[dim.id] = parse_signals(
                    dim.signals,
                    dim.id,
                    n_levels,
                    path=getattr(rubric, "source_path", None),
                    key_path=f"dimensions[{i}].signals",
                )
        if not parsed:
            raise RubricError(
                "no dimension has a 'signals:' block; the rule grader has nothing to run",
                path=getattr(rubric, "source_path", None),
                key_path="dimensions",
            )
        return cls(parsed, thresholds=config.get("thresholds"), name=config.get("name", "rules"))

    def config(self) -> dict:
        return {
            "engine": ENGINE_VERSION,
            "signals": {d: s.spec() for d, s in sorted(self.signals.items())},
        }

    def raw_scores(self, transcripts: pd.DataFrame, dimensions: list[str] | None = None):
        """Raw (pre-threshold) points per transcript x dimension plus evidence.

        Returns
        -------
        raw : pandas.DataFrame
            Index ``transcript_id`` (input order), one column per dimension; NaN where the
            dimension cannot be scored.
        reasons : pandas.DataFrame
            Same shape, the unscored reason or None.
        contributions : dict of str to pandas.DataFrame
            Per dimension, ``weight * value`` per rule.
        evidence : pandas.DataFrame
        """
        dims = [d for d in (dimensions or list(self.signals)) if d in self.signals]
        turns = explode_turns(transcripts)
        n = len(transcripts)
        ids = transcripts["transcript_id"].astype(str).to_numpy()
        texts = _Texts(turns)
        cand = turns["speaker"].to_numpy() == "candidate"
        words = np.bincount(
            turns["pos"].to_numpy()[cand], weights=turns["n_words"].to_numpy()[cand], minlength=n
        )
        n_cand_turns = np.bincount(turns["pos"].to_numpy()[cand], minlength=n)
        raw, reasons, contrib, evs = {}, {}, {}, []
        for d in dims:
            s = self.signals[d]
            values, ev, missing = evaluate_dimension(s, texts, n, words)
            weights = np.array([r.weight for r in s.rules])
            c = values * weights
            contrib[d] = c.set_axis(ids, axis=0)
            total = np.nansum(c.to_numpy(), axis=1)
            reason = np.full(n, None, dtype=object)
            reason = np.where(
                missing != None,  # noqa: E711 (elementwise on an object array)
                "no_followup: no interviewer follow-up matched rule "  # noqa: E711
                + missing.astype(str)
                + ", so there is nothing to adapt to",
                reason,
            )
            reason = np.where(
                words < s.min_words,
                "too_short: "
                + words.astype(int).astype(str)
                + f" candidate words < min_words {s.min_words}",
                reason,
            )
            reason = np.where(
                n_cand_turns == 0,
                "no_candidate_turns: the transcript has no candidate turn",
                reason,
            )
            raw[d] = np.where(reason == None, total, np.nan)  # noqa: E711
            reasons[d] = reason
            evs.append(ev)
        evidence = (
            pd.concat(evs, ignore_index=True)
            if evs
            else pd.DataFrame(columns=["pos", *EVIDENCE_COLUMNS])
        )
        return (
            pd.DataFrame(raw, index=pd.Index(ids, name="transcript_id")),
            pd.DataFrame(reasons, index=pd.Index(ids, name="transcript_id")),
            contrib,
            evidence,
        )

    def scores_from_raw(self, raw: pd.DataFrame, scale_min: int) -> pd.DataFrame:
        """Map raw points to the scale with each dimension's thresholds (NaN stays NaN)."""
        out = {}
        for d in raw.columns:
            th = np.asarray(self.signals[d].thresholds)
            r = raw[d].to_numpy(dtype=float)
            out[d] = np.where(np.isnan(r), np.nan, scale_min + np.searchsorted(th, r, side="right"))
        return pd.DataFrame(out, index=raw.index)

    def grade(
        self, transcripts: pd.DataFrame, rubric: Any, *, run_id: str | None = None
    ) -> GradeResult:
        dims = list(rubric.dimension_ids)
        raw, reasons, contrib, evidence = self.raw_scores(transcripts, dims)
        scores = self.scores_from_raw(raw, int(rubric.scale.min))
        ids = raw.index.to_numpy()
        n = len(ids)
        score_m = np.full((n, len(dims)), np.nan)
        rat_m = np.full((n, len(dims)), None, dtype=object)
        why_m = np.full(
            (n, len(dims)),
            "no_signals: the rubric declares no signals for this dimension",
            dtype=object,
        )
        for j, d in enumerate(dims):
            if d not in raw.columns:
                continue
            score_m[:, j] = scores[d].to_numpy()
            why_m[:, j] = reasons[d].to_numpy()
            rat_m[:, j] = _rationale(contrib[d], raw[d], self.signals[d].thresholds)
        ratings = ratings_frame(
            ids,
            dims,
            score_m,
            rat_m,
            why_m,
            rater_id=self.rater_id,
            rater_type=self.rater_type,
            rubric=rubric,
            run_id=run_id,
        )
        evidence = evidence.sort_values(
            ["pos", "dimension", "turn_index", "start", "signal"], kind="stable"
        )
        evidence = evidence[EVIDENCE_COLUMNS].reset_index(drop=True)
        evidence = evidence.astype(
            {
                "turn_index": "int64",
                "start": "int64",
                "end": "int64",
                "count": "int64",
                "weight": "float64",
            }
        )
        n_unscored = int(ratings["score"].isna().sum())
        summary = {
            "grader": self.rater_id,
            "transcripts": n,
            "scored": int(len(ratings) - n_unscored),
            "unscored": n_unscored,
            "failed": 0,
            "cache_hits": 0,
            "tokens": 0,
            "cost": 0.0,
            "evidence_rows": int(len(evidence)),
        }
        return GradeResult(ratings=ratings, evidence=evidence, summary=summary)


def _rationale(contrib: pd.DataFrame, raw: pd.Series, thresholds: tuple[float, ...]) -> np.ndarray:
    # "raw 2.50 (thresholds 1/2/3); goal_stated +1.00; filler -0.50", built column-wise
    # (one vectorised string operation per rule, not per transcript).
    head = (
        "raw "
        + raw.map("{:.2f}".format).astype(object)
        + " (thresholds "
        + "/".join(f"{t:g}" for t in thresholds)
        + ")"
    )
    body = pd.Series("", index=raw.index, dtype=object)
    for rule in contrib.columns:
        v = contrib[rule].reindex(raw.index)
        body = body + ("; " + rule + " " + v.map("{:+.2f}".format).astype(object)).where(
            v.fillna(0) != 0, ""
        )
    body = body.where(body != "", "; no rule fired")
    out = (head + body).to_numpy(dtype=object)
    return np.where(raw.isna().to_numpy(), None, out)

"""Length-only baseline grader: the score is a function of the candidate's word count alone.

A grader that cannot beat this baseline on agreement with humans is measuring length
(AlpacaEval's evaluator table lists its length-only "longest" annotator at about 62% human
agreement, tatsu-lab/alpaca_eval; on length bias in LLM judges see Dubois et al. 2024,
"Length-Controlled AlpacaEval", arXiv:2404.04475).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import DataValidationError, GraderError
from calib.graders.base import Grader, GradeResult
from calib.graders.rules._grader import ratings_frame
from calib.graders.rules._schema import check_thresholds
from calib.graders.rules._turns import candidate_word_counts

__all__ = ["LengthGrader", "quantile_thresholds"]


def quantile_thresholds(
    words: np.ndarray, scores: np.ndarray, scale_values: Sequence[int]
) -> np.ndarray:
    """Word-count thresholds that reproduce the human score distribution (quantile matching).

    The k-th threshold is the word-count quantile at the share of consensus scores at or
    below level k, so the baseline hands out each level as often as the humans did and
    ranks transcripts by length alone. Only the marginal distribution of the human scores
    is used, never which transcript got which score.

    Parameters
    ----------
    words : array of int
        Candidate word counts.
    scores : array of float
        Human (consensus) scores on the scale; NaN ignored.
    scale_values : sequence of int
        The rubric scale levels, ascending.

    Returns
    -------
    numpy.ndarray
        ``len(scale_values) - 1`` strictly increasing thresholds: score = min level +
        number of thresholds <= word count.

    Example
    -------
    >>> quantile_thresholds(np.array([10, 20, 30, 40]), np.array([1, 1, 2, 2.]), [1, 2])
    array([25.])
    """
    scores = np.asarray(scores, dtype=float)
    scores = scores[~np.isnan(scores)]
    words = np.asarray(words, dtype=float)
    if len(scores) == 0 or len(words) == 0:
        raise DataValidationError(
            "quantile_thresholds: need at least one word count and one human score"
        )
    levels = np.asarray(scale_values, dtype=float)
    share_at_or_below = (scores[:, None] <= levels[None, :-1]).mean(axis=0)
    th = np.quantile(words, share_at_or_below)
    # Ties (e.g. a level humans never used) would collapse thresholds; keep them strictly
    # increasing so the level becomes (almost) unreachable, as it was for the humans.
    return np.maximum.accumulate(th + np.arange(len(th)) * 1e-9)


class LengthGrader(Grader):
    """Score = function of the candidate's word count only (one threshold set per dimension).

    Parameters
    ----------
    thresholds : mapping of dimension to list of float
        Word-count cut points per dimension (``len(scale) - 1`` each, increasing). Fit them
        with :meth:`fit` (quantile matching to the human scores).
    min_words : int
        Fewer candidate words than this -> unscored (``too_short``).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> rubric = SimpleNamespace(id="tiny", version="1", dimension_ids=("d",),
    ...     scale=SimpleNamespace(min=1, max=2, values=np.array([1, 2])))
    >>> t = pd.DataFrame({"transcript_id": ["a", "b"], "turns": [
    ...     [{"speaker": "candidate", "text": "short answer"}],
    ...     [{"speaker": "candidate", "text": "a much longer answer with many more words"}]]})
    >>> LengthGrader({"d": [5]}).grade(t, rubric).ratings["score"].tolist()
    [1.0, 2.0]
    """

    name = "length"
    rater_type = "rule"

    def __init__(self, thresholds: Mapping[str, Sequence[float]], *, min_words: int = 1):
        if not thresholds:
            raise GraderError(
                "LengthGrader: thresholds are required (fit them with LengthGrader.fit)"
            )
        self.thresholds = {d: [float(x) for x in th] for d, th in thresholds.items()}
        self.min_words = int(min_words)

    @classmethod
    def fit(
        cls, transcripts: pd.DataFrame, consensus: pd.DataFrame, rubric: Any, *, min_words: int = 1
    ) -> LengthGrader:
        """Fit per-dimension thresholds by quantile matching to ``consensus``.

        Parameters
        ----------
        transcripts : pandas.DataFrame
            The transcripts table.
        consensus : pandas.DataFrame
            Human consensus, index ``transcript_id``, one column per dimension.
        rubric : Rubric
        """
        words = candidate_word_counts(transcripts)
        th = {}
        for d in rubric.dimension_ids:
            if d not in consensus.columns:
                continue
            c = consensus[d].dropna()
            w = words.reindex(c.index).dropna()
            if len(w) == 0:
                continue
            th[d] = quantile_thresholds(
                w.to_numpy(), c.loc[w.index].to_numpy(), rubric.scale.values
            ).tolist()
        if not th:
            raise DataValidationError(
                "LengthGrader.fit: no transcript has both a human consensus score and text"
            )
        return cls(th, min_words=min_words)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], rubric: Any) -> LengthGrader:
        """Build from a config mapping ``{thresholds: {dim: [...]}, min_words: n}`` (validated)."""
        unknown = set(config) - {
            "thresholds",
            "min_words",
            "grader",
            "fitted",
            "method",
            "rubric_id",
            "rubric_version",
            "rubric_hash",
            "calib_version",
            "seed",
            "cv",
        }
        if unknown:
            raise GraderError(f"length grader config: unknown key(s) {sorted(unknown)}")
        n_levels = len(rubric.scale.values)
        th = config.get("thresholds") or {}
        if not isinstance(th, Mapping):
            raise GraderError("length grader config: 'thresholds' must map dimension ids to lists")
        checked = {
            d: list(check_thresholds(list(v), n_levels, f"thresholds.{d}")) for d, v in th.items()
        }
        return cls(checked, min_words=config.get("min_words", 1))

    def config(self) -> dict:
        return {
            "words": "candidate",
            "min_words": self.min_words,
            "thresholds": {
                d: [round(x, 6) for x in th] for d, th in sorted(self.thresholds.items())
            },
        }

    def grade(
        self, transcripts: pd.DataFrame, rubric: Any, *, run_id: str | None = None
    ) -> GradeResult:
        dims = list(rubric.dimension_ids)
        words = candidate_word_counts(transcripts)
        w = words.to_numpy()
        ids = words.index.to_numpy()
        n = len(ids)
        score = np.full((n, len(dims)), np.nan)
        why = np.full(
            (n, len(dims)),
            "no_threshold: the length baseline has no thresholds for this dimension",
            dtype=object,
        )
        rat = np.full((n, len(dims)), None, dtype=object)
        short = w < self.min_words
        for j, d in enumerate(dims):
            if d not in self.thresholds:
                continue
            th = np.asarray(self.thresholds[d])
            score[:, j] = np.where(
                short, np.nan, rubric.scale.min + np.searchsorted(th, w, side="right")
            )
            why[:, j] = np.where(
                short,
                "too_short: " + w.astype(str) + f" candidate words < min_words {self.min_words}",
                None,
            )
            text = (
                w.astype(str).astype(object)
                + " candidate words (thresholds "
                + "/".join(f"{x:g}" for x in th)
                + ")"
            )
            rat[:, j] = np.where(short, None, text)
        ratings = ratings_frame(
            ids,
            dims,
            score,
            rat,
            why,
            rater_id=self.rater_id,
            rater_type=self.rater_type,
            rubric=rubric,
            run_id=run_id,
        )
        evidence = pd.DataFrame(
            {
                "transcript_id": np.repeat(ids, len(dims)),
                "dimension": np.tile(dims, n),
                "signal": "word_count",
                "weight": 1.0,
                "span_text": None,
                "turn_index": -1,
                "start": -1,
                "end": -1,
                "count": np.repeat(w, len(dims)).astype(np.int64),
            }
        )
        unscored = int(ratings["score"].isna().sum())
        summary = {
            "grader": self.rater_id,
            "transcripts": n,
            "scored": len(ratings) - unscored,
            "unscored": unscored,
            "failed": 0,
            "cache_hits": 0,
            "tokens": 0,
            "cost": 0.0,
        }
        return GradeResult(ratings=ratings, evidence=evidence, summary=summary)

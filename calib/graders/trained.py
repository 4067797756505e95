"""A trained grader: per dimension, an ordinal-approximating model on transparent features.

How automated scoring is built in practice (RSMTool fits its scoring models on human scores
from interpretable features): features come from the rule grader (every rule's contribution
for the dimension) plus reasoning and structure features shared by all dimensions; the target
is the programme's human consensus (mean of the human ratings, rounded half up). The model
is scikit-learn's multinomial ``LogisticRegression`` on standardised features (L2, ``C``);
the score is the rounded **expected level** sum_k k P(k | x), which uses the ordering of the
levels (the documented ordinal approximation -- a multinomial model does not impose
proportional odds, but the expected-level read-out is ordinal and is what maximises QWK in
practice better than the most likely level).

Cross-validation is grouped by question (``GroupKFold`` on ``question_id``): every transcript
belongs to one question, so no transcript and no question appears in both the training and
the held-out fold. The length-only baseline is cross-fitted in the same folds.

The fitted model is stored as JSON (scaler means/scales, coefficients, intercepts, feature
names) -- no pickle, so a model directory is safe to load -- next to ``model_card.md``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import ConfigError, DataValidationError, GraderError
from calib.graders.base import Grader, GradeResult
from calib.graders.rules import RuleGrader, candidate_word_counts, explode_turns
from calib.graders.rules._grader import ratings_frame
from calib.graders.rules._reasoning import split_units, unit_features

__all__ = [
    "TrainedGrader",
    "structure_features",
    "grader_features",
    "train_grader",
    "FORMAT_VERSION",
]

FORMAT_VERSION = 1
STRUCTURE_FEATURES = (
    "log_words",
    "candidate_turns",
    "reasoned_units",
    "reasoned_share",
    "numbers_per_100w",
    "markers_per_100w",
    "bare_jargon_per_100w",
    "hedged_share",
    "candidate_questions",
    "mean_unit_words",
)


def structure_features(transcripts: pd.DataFrame) -> pd.DataFrame:
    """Wording-free reasoning and structure features per transcript (candidate words only).

    Example
    -------
    >>> t = pd.DataFrame({"transcript_id": ["a"], "turns": [[
    ...     {"speaker": "candidate", "text": "I'd cap it at 30 ms because it times out."}]]})
    >>> int(structure_features(t).loc["a", "reasoned_units"])
    1
    """
    turns = explode_turns(transcripts)
    units = split_units(turns)
    f = unit_features(units)
    cand = (units["speaker"] == "candidate").to_numpy()
    ids = transcripts["transcript_id"].astype(str)
    g = pd.DataFrame(
        {
            "tid": units["transcript_id"].to_numpy()[cand],
            "words": units["n_words"].to_numpy()[cand],
            "q": f["qualified"].to_numpy()[cand] & ~f["hedged"].to_numpy()[cand],
            "num": f["numbers"].to_numpy()[cand],
            "mk": f["markers"].to_numpy()[cand],
            "bj": f["jargon"].to_numpy()[cand] * ~f["qualified"].to_numpy()[cand],
            "h": f["hedged"].to_numpy()[cand],
            "qm": units["text"].str.count(r"\?").to_numpy()[cand],
        }
    ).groupby("tid")
    words = candidate_word_counts(transcripts, turns).astype(float)
    w100 = np.maximum(words.to_numpy(), 1.0) / 100.0
    agg = g.agg(
        q=("q", "sum"), n=("q", "size"), num=("num", "sum"), mk=("mk", "sum"),
        bj=("bj", "sum"), h=("h", "mean"), qm=("qm", "sum"), uw=("words", "mean"),
    ).reindex(ids)  # fmt: skip
    nturns = turns[turns["speaker"] == "candidate"].groupby("transcript_id").size().reindex(ids)
    out = pd.DataFrame(
        {
            "log_words": np.log1p(words.to_numpy()),
            "candidate_turns": nturns.fillna(0).to_numpy(float),
            "reasoned_units": agg["q"].fillna(0).to_numpy(float),
            "reasoned_share": (agg["q"] / agg["n"]).fillna(0).to_numpy(float),
            "numbers_per_100w": agg["num"].fillna(0).to_numpy(float) / w100,
            "markers_per_100w": agg["mk"].fillna(0).to_numpy(float) / w100,
            "bare_jargon_per_100w": agg["bj"].fillna(0).to_numpy(float) / w100,
            "hedged_share": agg["h"].fillna(0).to_numpy(float),
            "candidate_questions": agg["qm"].fillna(0).to_numpy(float),
            "mean_unit_words": agg["uw"].fillna(0).to_numpy(float),
        },
        index=pd.Index(ids.to_numpy(), name="transcript_id"),
    )
    return out


def grader_features(
    transcripts: pd.DataFrame, rubric: Any, rules: RuleGrader | None = None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Feature matrix per dimension: ``rule:<id>`` contributions + structure features.

    Returns
    -------
    features : dict of str to pandas.DataFrame
        Per dimension, index ``transcript_id``; NaN rule values (nothing to judge) are 0.
    reasons : pandas.DataFrame
        The rule grader's unscored reasons (a dimension the rules cannot score -- e.g. no
        follow-up for adaptability -- stays unscored by the trained grader too).
    """
    rules = rules or RuleGrader.from_rubric(rubric)
    dims = [d for d in rubric.dimension_ids if d in rules.signals]
    _, reasons, contrib, _ = rules.raw_scores(transcripts, dims)
    sf = structure_features(transcripts)
    out = {}
    for d in dims:
        c = contrib[d].fillna(0.0).add_prefix("rule:")
        c.index = sf.index
        out[d] = pd.concat([c, sf], axis=1)
    return out, reasons


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _expected_level(proba: np.ndarray, classes: np.ndarray, lo: int, hi: int) -> np.ndarray:
    ev = proba @ classes.astype(float)
    return np.clip(np.floor(ev + 0.5), lo, hi)


def _fit_one(X: np.ndarray, y: np.ndarray, C: float) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    Z = (X - scaler.mean_) / scale
    classes = np.unique(y)
    if len(classes) < 2:
        return {"mean": scaler.mean_, "scale": scale, "classes": classes,
                "coef": np.zeros((1, X.shape[1])), "intercept": np.zeros(1)}  # fmt: skip
    m = LogisticRegression(C=C, max_iter=5000).fit(Z, y)
    coef, icpt = m.coef_, m.intercept_
    if len(classes) == 2:  # binary: sklearn stores one row; make it two-class softmax
        coef = np.vstack([-coef / 2, coef / 2])
        icpt = np.array([-icpt[0] / 2, icpt[0] / 2])
    return {"mean": scaler.mean_, "scale": scale, "classes": m.classes_, "coef": coef,
            "intercept": icpt}  # fmt: skip


def _predict(p: dict, X: np.ndarray, lo: int, hi: int) -> np.ndarray:
    if len(p["classes"]) < 2:
        return np.full(len(X), float(p["classes"][0]))
    Z = (X - np.asarray(p["mean"])) / np.asarray(p["scale"])
    proba = _softmax(Z @ np.asarray(p["coef"]).T + np.asarray(p["intercept"]))
    return _expected_level(proba, np.asarray(p["classes"]), lo, hi)


def _ordinal_weights(p: dict) -> np.ndarray:
    """Standardised weight of each feature on the expected level near the centre.

    d E[level] / d z_j at equal class probabilities = mean_k (k - kbar) * coef_kj.
    """
    cls = np.asarray(p["classes"], float)
    coef = np.asarray(p["coef"])
    if coef.shape[0] != len(cls):
        return np.zeros(coef.shape[1])
    return ((cls - cls.mean())[:, None] * coef).mean(axis=0)


def _qwk(a: np.ndarray, b: np.ndarray, labels: Sequence[int]) -> float:
    from sklearn.metrics import cohen_kappa_score

    if len(a) < 2 or (len(set(a)) < 2 and len(set(b)) < 2):
        return float("nan")
    return float(
        cohen_kappa_score(a.astype(int), b.astype(int), weights="quadratic", labels=list(labels))
    )


def train_grader(
    transcripts: pd.DataFrame,
    consensus: pd.DataFrame,
    rubric: Any,
    *,
    C: float = 0.5,
    folds: int = 5,
    n_boot: int = 1000,
    seed: int = 0,
) -> TrainedGrader:
    """Fit one model per dimension to the human consensus, with question-grouped CV.

    Parameters
    ----------
    transcripts : pandas.DataFrame
        ``transcript_id``, ``question_id``, ``turns``.
    consensus : pandas.DataFrame
        Wide human consensus (index ``transcript_id``, one column per dimension), e.g.
        ``calib.graders.validate.human_consensus(humans)`` pivoted.
    rubric : Rubric
    C : float
        Inverse L2 strength of the logistic regression.
    folds : int
        At most this many ``GroupKFold`` folds over ``question_id`` (fewer if there are fewer
        questions; at least 2 questions are needed).
    n_boot, seed
        Percentile bootstrap CI of the out-of-fold QWK (transcripts resampled).

    Returns
    -------
    TrainedGrader
        With ``card`` (per-dimension CV QWK, CI, the length baseline's CV QWK, standardised
        weights).

    Raises
    ------
    DataValidationError
        Fewer than 2 questions or 10 transcripts with a consensus score.
    """
    from sklearn.model_selection import GroupKFold

    from calib.graders.baseline import quantile_thresholds

    if "question_id" not in transcripts:
        raise DataValidationError("train-grader: transcripts have no question_id column")
    transcripts = transcripts.reset_index(drop=True)
    feats, _ = grader_features(transcripts, rubric)
    ids = transcripts["transcript_id"].astype(str).to_numpy()
    qid = transcripts["question_id"].astype(str).to_numpy()
    words = candidate_word_counts(transcripts).to_numpy(float)
    lo, hi = int(rubric.scale.min), int(rubric.scale.max)
    labels = list(range(lo, hi + 1))
    rng = np.random.default_rng(seed)
    models, card = {}, []
    for d, F in feats.items():
        y = (
            consensus.reindex(ids)[d].to_numpy(float)
            if d in consensus
            else np.full(len(ids), np.nan)
        )
        ok = ~np.isnan(y) & np.isfinite(F.to_numpy()).all(axis=1)
        if ok.sum() < 10 or len(set(qid[ok])) < 2:
            raise DataValidationError(
                f"train-grader: dimension {d!r} has {int(ok.sum())} transcripts with a human "
                f"consensus over {len(set(qid[ok]))} questions; need >= 10 and >= 2 questions"
            )
        X, yy, g, w = F.to_numpy(float)[ok], y[ok], qid[ok], words[ok]
        k = min(folds, len(set(g)))
        oof = np.full(len(yy), np.nan)
        oof_len = np.full(len(yy), np.nan)
        for tr, te in GroupKFold(n_splits=k).split(X, yy, g):
            p = _fit_one(X[tr], yy[tr], C)
            oof[te] = _predict(p, X[te], lo, hi)
            th = quantile_thresholds(w[tr], yy[tr], labels)
            oof_len[te] = lo + np.searchsorted(th, w[te], side="right")
        q = _qwk(yy, oof, labels)
        ql = _qwk(yy, oof_len, labels)
        idx = rng.integers(0, len(yy), size=(n_boot, len(yy)))
        reps = np.array([_qwk(yy[i], oof[i], labels) for i in idx]) if n_boot else np.array([])
        rl = np.array([_qwk(yy[i], oof_len[i], labels) for i in idx]) if n_boot else np.array([])
        full = _fit_one(X, yy, C)
        models[d] = {
            "features": list(F.columns),
            "mean": full["mean"].tolist(),
            "scale": np.asarray(full["scale"]).tolist(),
            "classes": np.asarray(full["classes"]).astype(int).tolist(),
            "coef": np.asarray(full["coef"]).tolist(),
            "intercept": np.asarray(full["intercept"]).tolist(),
        }
        ci = np.nanpercentile(reps, [2.5, 97.5]) if len(reps) else [np.nan, np.nan]
        cil = np.nanpercentile(rl, [2.5, 97.5]) if len(rl) else [np.nan, np.nan]
        card.append(
            {
                "dimension": d,
                "N": int(ok.sum()),
                "questions": len(set(g)),
                "folds": k,
                "cv_qwk": q,
                "cv_qwk_low": float(ci[0]),
                "cv_qwk_high": float(ci[1]),
                "length_cv_qwk": ql,
                "length_cv_qwk_low": float(cil[0]),
                "length_cv_qwk_high": float(cil[1]),
                "weights": dict(zip(F.columns, _ordinal_weights(full).round(4).tolist())),
            }
        )
    meta = {"C": C, "folds": folds, "seed": seed, "n_boot": n_boot,
            "rubric_id": rubric.id, "rubric_version": str(rubric.version)}  # fmt: skip
    return TrainedGrader(models, card=card, meta=meta)


class TrainedGrader(Grader):
    """Per-dimension model fitted by :func:`train_grader`; load with :meth:`load`.

    Example
    -------
    >>> g = TrainedGrader({}, card=[], meta={})
    >>> g.name, g.rater_type
    ('trained', 'rule')
    """

    name = "trained"
    rater_type = "rule"  # a deterministic machine grader on rule features (store schema)

    def __init__(self, models: dict, *, card: list | None = None, meta: dict | None = None):
        self.models = models
        self.card = card or []
        self.meta = meta or {}

    def config(self) -> dict:
        from calib.graders.rules import ENGINE_VERSION

        return {"format": FORMAT_VERSION, "engine": ENGINE_VERSION, "models": self.models,
                "meta": self.meta}  # fmt: skip

    def save(self, out: str | Path) -> Path:
        """Write ``model.json`` and ``model_card.md`` into ``out`` (created)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        doc = {"format": FORMAT_VERSION, "grader": "trained", "meta": self.meta,
               "models": self.models, "card": self.card}  # fmt: skip
        (out / "model.json").write_text(json.dumps(doc, indent=1, sort_keys=True), "utf-8")
        (out / "model_card.md").write_text(model_card(self), "utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path) -> TrainedGrader:
        """Read a model directory (or its ``model.json``) written by :meth:`save`.

        Raises
        ------
        ConfigError
            Missing or malformed file, naming the file and field.
        """
        p = Path(path)
        p = p / "model.json" if p.is_dir() else p
        try:
            doc = json.loads(p.read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read the trained model ({exc.strerror})") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}: not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_VERSION:
            raise ConfigError(f"{p}: format: expected {FORMAT_VERSION}, got {doc.get('format')!r}")
        for d, m in (doc.get("models") or {}).items():
            for key in ("features", "mean", "scale", "classes", "coef", "intercept"):
                if key not in m:
                    raise ConfigError(f"{p}: models.{d}.{key}: required field is missing")
        return cls(doc["models"], card=doc.get("card"), meta=doc.get("meta"))

    def grade(
        self, transcripts: pd.DataFrame, rubric: Any, *, run_id: str | None = None
    ) -> GradeResult:
        if not self.models:
            raise GraderError("trained grader: the model has no dimensions")
        transcripts = transcripts.reset_index(drop=True)
        feats, reasons = grader_features(transcripts, rubric)
        dims = list(rubric.dimension_ids)
        ids = transcripts["transcript_id"].astype(str).to_numpy()
        lo, hi = int(rubric.scale.min), int(rubric.scale.max)
        S = np.full((len(ids), len(dims)), np.nan)
        R = np.full((len(ids), len(dims)), None, dtype=object)
        W = np.full(
            (len(ids), len(dims)), "no_model: the trained model has no such dimension", dtype=object
        )
        for j, d in enumerate(dims):
            m = self.models.get(d)
            if m is None or d not in feats:
                continue
            F = feats[d].reindex(columns=m["features"])
            if F.isna().all(axis=0).any():
                missing = [c for c in m["features"] if c not in feats[d].columns]
                raise GraderError(
                    f"trained grader: features {missing} of {d!r} are not produced by this rubric's rules"
                )
            pred = _predict(m, F.fillna(0.0).to_numpy(float), lo, hi)
            why = reasons[d].reindex(ids).to_numpy() if d in reasons else np.full(len(ids), None)
            S[:, j] = np.where(pd.isna(why), pred, np.nan)
            W[:, j] = why
            R[:, j] = np.where(
                pd.isna(why),
                [f"expected level from {len(m['features'])} features" for _ in ids],
                None,
            )
        ratings = ratings_frame(ids, dims, S, R, W, rater_id=self.rater_id, rater_type=self.rater_type,
                                rubric=rubric, run_id=run_id)  # fmt: skip
        n_uns = int(ratings["score"].isna().sum())
        summary = {"grader": self.rater_id, "transcripts": len(ids), "scored": len(ratings) - n_uns,
                   "unscored": n_uns, "failed": 0, "cache_hits": 0, "tokens": 0, "cost": 0.0}  # fmt: skip
        ev = pd.DataFrame(columns=["transcript_id", "dimension", "signal", "weight", "span_text",
                                   "turn_index", "start", "end", "count"])  # fmt: skip
        return GradeResult(ratings=ratings, evidence=ev, summary=summary)


def model_card(g: TrainedGrader) -> str:
    """Markdown model card: features, standardised weights, CV QWK with CIs vs length."""
    lines = [
        "# Trained grader -- model card",
        "",
        "Per dimension: scikit-learn multinomial LogisticRegression (L2, C = "
        f"{g.meta.get('C')}) on standardised features; score = rounded expected level. Target: the "
        "human consensus (mean of the human ratings, rounded half up). CV: GroupKFold by "
        "question_id (no question, hence no transcript, in both training and held-out folds); "
        "the length-only baseline (word-count quantile thresholds) is cross-fitted in the same "
        "folds. 95% CIs: percentile bootstrap over transcripts of the out-of-fold predictions.",
        "",
        f"rubric {g.meta.get('rubric_id')} v{g.meta.get('rubric_version')}, seed {g.meta.get('seed')}",
        "",
        "| dimension | N | questions | CV QWK [95% CI] | length CV QWK [95% CI] |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for c in g.card:
        lines.append(
            f"| {c['dimension']} | {c['N']} | {c['questions']} | {c['cv_qwk']:.2f} "
            f"[{c['cv_qwk_low']:.2f}, {c['cv_qwk_high']:.2f}] | {c['length_cv_qwk']:.2f} "
            f"[{c['length_cv_qwk_low']:.2f}, {c['length_cv_qwk_high']:.2f}] |"
        )
    lines += ["", "## Standardised weights (d expected level / d one SD of the feature)", ""]
    for c in g.card:
        w = sorted(c["weights"].items(), key=lambda kv: -abs(kv[1]))
        lines.append(f"**{c['dimension']}**: " + ", ".join(f"`{k}` {v:+.2f}" for k, v in w))
        lines.append("")
    lines += ["## Features", "", "`rule:<id>`: the rule grader's contribution (weight x value) of "
              "that rule of the dimension; structure features (all dimensions): "
              + ", ".join(f"`{f}`" for f in STRUCTURE_FEATURES) + ".", ""]  # fmt: skip
    return "\n".join(lines)

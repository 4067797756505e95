"""One call that runs the whole rater analysis and returns its tables (for the CLI and report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from calib.errors import DataValidationError
from calib.raters._additive import fit_additive
from calib.raters._diagnostics import (
    DRIFT_WINDOW,
    _metadata_table,
    drift_windows,
    rater_effects,
)
from calib.raters._gtheory import reliability_plan
from calib.raters._mfrm import ScaleTooWideError, fit_mfrm

__all__ = ["rater_tables"]


def rater_tables(
    ratings: pd.DataFrame,
    transcripts: pd.DataFrame | None = None,
    *,
    model: Literal["mfrm", "additive"] = "mfrm",
    rasch_model: Literal["rating_scale", "partial_credit"] = "rating_scale",
    plan: bool = True,
    dimension_order: list[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Fit the rater model, flag rater effects and plan reliability; return named tables.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table (one rater type, usually humans).
    transcripts : pandas.DataFrame, optional
        Transcripts with ``metadata`` for the subgroup analysis.
    model : {"mfrm", "additive"}
        Logit-scale many-facet Rasch model or raw-score additive model.
    rasch_model : {"rating_scale", "partial_credit"}
        Threshold structure when ``model="mfrm"``.
    plan : bool
        Add the per-dimension reliability plan (G-theory D-study).
    dimension_order : list of str, optional
        Order of dimensions in the outputs (e.g. ``rubric.dimension_ids``).
    thresholds : dict, optional
        Flagging thresholds passed to :func:`rater_effects` (e.g.
        ``thresholds_for_scale(rubric.scale.span)``, as ``calib raters`` does).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``notes`` (one ``note`` per row: what the fit did that the reader must know, e.g.
        elements set aside for extreme scores, unused score levels, disordered thresholds,
        a scale too wide for the Rasch model and therefore the additive model used instead,
        drift not estimated), ``flags`` (flagged rows of :func:`rater_effects`, the rest in ``effects``), then for
        the MFRM ``design`` (counts, connectedness), ``raters``, ``dimensions``, ``thresholds``, ``categories``, ``separation``,
        ``bias`` (rater x dimension), ``bias_subgroup`` (FACETS rater x subgroup bias for every
        categorical metadata attribute, when ``transcripts`` is given); for the additive model ``raters`` (per dimension and
        ``all``) and ``dimensions``; ``drift`` (severity per 30-day period with a 95% CI, for
        the raters that meet :data:`DRIFT_WINDOW`, when ratings have ``rated_at``); ``effects`` (every diagnostic row); and ``plan`` when requested.

    Examples
    --------
    >>> from calib.simulate import simulate_dataset, SimulationConfig
    >>> ds = simulate_dataset(SimulationConfig(n_transcripts=60, seed=4))   # SYNTHETIC
    >>> list(rater_tables(ds.ratings, ds.transcripts, plan=False))[:4]
    ['notes', 'flags', 'design', 'raters']
    """
    out: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    fit = None
    if model == "mfrm" and rasch_model == "partial_credit":
        try:
            fit = fit_mfrm(ratings, rasch_model)
        except ScaleTooWideError:
            pass  # handled below with the rating-scale attempt's reason
        except DataValidationError as exc:
            if "never received score" not in str(exc):
                raise
            notes.append(
                f"partial-credit model not fitted ({str(exc).removeprefix('ratings: ')}); the "
                "rating-scale model (one set of thresholds for all dimensions) is used instead"
            )
            rasch_model = "rating_scale"
    if model == "mfrm" and fit is None:
        try:
            fit = fit_mfrm(ratings, rasch_model)
        except ScaleTooWideError as exc:
            notes.append(
                "Rasch model not fitted: "
                + str(exc).removeprefix("ratings: ").split("; use the additive")[0]
                + "; the additive "
                "model (severity in score points) is used instead"
            )
            model = "additive"
    if model == "additive":
        fit = fit_additive(ratings)
    else:
        notes.extend(fit.notes)
    effects = rater_effects(
        ratings, model=model, transcripts=transcripts, fit=fit, thresholds=thresholds
    )
    untested = effects.attrs.get("subgroup_untested") or {}
    for attr, eta2 in sorted((untested.get("level") or {}).items()):
        notes.append(
            f"subgroup check: {attr} not tested -- its groups explain {eta2:.0%} of the variance "
            "of the candidates' mean score, so a rater's treatment of a group cannot be told "
            "apart from their use of the scale"
        )
    for attr, eta2 in sorted((untested.get("time") or {}).items()):
        notes.append(
            f"subgroup check: {attr} not tested -- it mostly says when a candidate was rated "
            f"(eta squared {eta2:.2f}), so it is confounded with drift"
        )
    out["notes"] = pd.DataFrame({"note": notes}, dtype=object)
    out["flags"] = effects[effects.flagged].reset_index(drop=True)

    def order(df: pd.DataFrame) -> pd.DataFrame:
        if dimension_order is None or "dimension" not in df.columns:
            return df
        rank = {d: i for i, d in enumerate([*dimension_order, "all"])}
        key = df["dimension"].map(lambda d: rank.get(d, len(rank)))
        return (
            df.assign(_k=key)
            .sort_values([c for c in ("rater_id",) if c in df.columns] + ["_k"], kind="stable")
            .drop(columns="_k")
        )

    if model == "mfrm":
        out["design"] = pd.DataFrame([fit.design])
        out["raters"] = fit.raters
        out["dimensions"] = order(fit.dimensions)
        out["thresholds"] = order(fit.thresholds)
        out["categories"] = fit.categories
        out["separation"] = fit.summary
        out["bias"] = order(fit.bias("dimension"))
        if transcripts is not None:
            meta = _metadata_table(transcripts, None).set_index("transcript_id")
            frames = [
                fit.bias(meta[attr].astype(str), name="group").assign(attribute=attr)
                for attr in meta.columns
            ]
            if frames:
                sub = pd.concat(frames, ignore_index=True)
                out["bias_subgroup"] = sub[
                    [
                        "rater_id",
                        "attribute",
                        "group",
                        *[c for c in sub.columns if c not in ("rater_id", "attribute", "group")],
                    ]
                ]
    else:
        out["raters"] = order(fit.raters)
        out["dimensions"] = order(fit.dimensions)
    if "rated_at" in ratings.columns and ratings["rated_at"].notna().any():
        res = fit.residuals
        if "residual" not in res.columns:
            res = res[res.used].assign(residual=res.score - res.expected)
        if "rated_at" in res.columns:
            out["drift"] = drift_windows(
                res.assign(rated_at=pd.to_datetime(res.rated_at, utc=True))
            )
            dr = effects[(effects.effect == "drift") & effects.note.str.startswith("not estimated")]
            if len(dr):
                notes.append(
                    f"drift not estimated for {dr.rater_id.nunique()} rater(s) whose ratings "
                    f"span less than {DRIFT_WINDOW['min_span_days']:g} days or fall into fewer "
                    f"than {DRIFT_WINDOW['min_periods']} periods of 30 days with "
                    f"{DRIFT_WINDOW['min_period_ratings']} ratings each (docs/raters.md)"
                )
                out["notes"] = pd.DataFrame({"note": notes}, dtype=object)
    out["effects"] = effects
    if plan:
        out["plan"] = order(reliability_plan(ratings))
    return out

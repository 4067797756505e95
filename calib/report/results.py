"""Assemble a :class:`ReportResults` from a store: call the analyses, collect tables and figures.

The order of work is the order of the report: overview, agreement, scale use, rater
effects, reliability planning, automated graders, recommendations. Each section builder
takes the inputs and the analyses already run, and never recomputes an analysis' numbers.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from calib import __version__
from calib.report import _descriptive as desc
from calib.report._analyses import Analysis
from calib.report._common import SECTION_TITLES, ReportOptions, _agreement
from calib.report._evidence import attach_exhibits
from calib.report._first_screen import first_screen
from calib.report._inputs import ReportInputs
from calib.report._model import ReportResults
from calib.report._sec_graders import _graders, _recommendations
from calib.report._sec_overview import _agreement_section, _overview
from calib.report._sec_raters import _planning, _rater_effects
from calib.report._sec_scale import _scale_use
from calib.report._sec_session import calibration_session, is_calibration_session
from calib.report.recommend import THRESHOLDS, recommend

__all__ = ["ReportOptions", "build_results", "SECTION_TITLES"]


def _headline(audiences: list[dict[str, str]]) -> list[str]:
    """Three findings, one per reader of the first screen (printed by ``calib demo``)."""
    return [f"{a['audience']}: {a['answer']}" for a in audiences]


def _scale_meta(scale) -> dict:
    """The scale as summary.json shows it; labels that only repeat the number are left out."""
    num = lambda x: int(x) if float(x).is_integer() else float(x)  # noqa: E731
    return {
        "min": num(scale.min),
        "max": num(scale.max),
        "type": scale.kind,
        "n_levels": scale.n_levels,
        "few_levels": scale.few_levels,
        "metric": scale.metric,
        "labels": {f"{k:g}": v for k, v in scale.labels.items() if str(v) != f"{k:g}"},
    }


def build_results(
    inputs: ReportInputs, options: ReportOptions | None = None, *, progress: bool = False
) -> ReportResults:
    """Run the analyses on ``inputs`` and assemble every report section.

    Parameters
    ----------
    inputs : ReportInputs
        Ratings, transcripts and rubric (see :func:`calib.report.load_inputs`).
    options : ReportOptions, optional
    progress : bool
        Show a tqdm bar over the analysis steps (stderr).

    Returns
    -------
    ReportResults

    Example
    -------
    >>> from calib.report import load_inputs, build_results  # doctest: +SKIP
    >>> res = build_results(load_inputs("reports/demo/store"))  # doctest: +SKIP
    >>> [s.key for s in res.sections][:2]  # doctest: +SKIP
    ['overview', 'agreement']
    """
    opt = options or ReportOptions()
    th = {**THRESHOLDS, **opt.thresholds}
    if "rater_deviation" not in opt.thresholds:  # set in points of a 1-4 scale (3 wide)
        th["rater_deviation"] = THRESHOLDS["rater_deviation"] * inputs.rubric.scale.span / 3.0
    dims = list(inputs.rubric.dimension_ids)
    ev: dict[str, Any] = {
        "n_dimensions": len(dims),
        "calibration_session": is_calibration_session(inputs.ratings),
    }
    lengths = (
        desc.transcript_lengths(inputs.transcripts) if inputs.transcripts is not None else None
    )
    state: dict[str, Analysis] = {}

    def agreement_step() -> None:
        state["agreement"] = _agreement(inputs, opt)
        if state["agreement"].ok and state["agreement"].value is not None:
            ev["agreement"] = state["agreement"].value
        state["by_qtype"] = _agreement(inputs, opt, by="question_type")

    steps = [
        ("agreement", agreement_step),
        ("overview", lambda: _overview(inputs, dims, state["agreement"], ev, th)),
        (
            "calibration session",
            lambda: (
                calibration_session(inputs, dims)
                if is_calibration_session(inputs.ratings)
                else None
            ),
        ),
        (
            "agreement section",
            lambda: _agreement_section(inputs, dims, state["agreement"], state["by_qtype"]),
        ),
        ("scale use", lambda: _scale_use(inputs, dims, ev, th)),
        ("rater effects", lambda: _rater_effects(inputs, dims, ev, th, opt)),
        ("reliability planning", lambda: _planning(inputs, dims, ev, th, opt)),
        ("graders", lambda: _graders(inputs, dims, ev, th, lengths, opt)),
    ]
    sections = []
    bar = tqdm(steps, desc="report", unit="section", disable=not progress, leave=False)
    for name, fn in bar:  # eight steps; each is vectorised inside
        bar.set_postfix_str(name)
        out = fn()
        if out is not None:
            sections.append(out)
    recs = attach_exhibits(recommend(ev, th), inputs)
    sections.append(_recommendations(recs, th))
    audiences = first_screen(sections, recs, th)
    headline = _headline(audiences)
    r = inputs.rubric
    meta = {
        "calib_version": __version__,
        "rubric": {
            "id": r.id,
            "version": r.version,
            "title": r.title,
            "content_hash": r.content_hash,
        },
        "synthetic": inputs.synthetic,
        "dimensions": dims,
        "scale": _scale_meta(r.scale),
        **(
            {}
            if r.uniform_scale
            else {"dimension_scales": {d: _scale_meta(sc) for d, sc in r.scales.items()}}
        ),
        "options": opt.to_dict(),
    }
    return ReportResults(
        meta=meta, sections=sections, recommendations=recs, headline=headline, audiences=audiences
    )

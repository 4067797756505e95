"""The training report: accuracy, certification and progress over rounds, plus the session sheet.

``write_training_report`` writes into one folder::

    report.html / report.md     who is certified, progress, accuracy per interviewer, method
    session.html / session.md   the group session sheet (see calib.training._session)
    tables/*.csv                accuracy, bias, certification, cells, progress (formula-safe)
    summary.json                the figures, the gate, the rounds and the run's provenance

HTML is rendered by jinja2 with autoescape on; Markdown escapes every untrusted value with
:func:`calib.training._escape.md`; CSV cells are neutralised against formula injection.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from calib import __version__
from calib.errors import DataValidationError
from calib.rubric import Rubric
from calib.training._accuracy import accuracy_against_reference
from calib.training._escape import md, write_csv
from calib.training._gate import Gate, certify
from calib.training._packet import check_rubric
from calib.training._progress import RoundResult, compare_rounds
from calib.training._reference import ReferenceSet
from calib.training._session import SessionSheet, session_sheet

__all__ = ["TrainingReport", "build_training_report", "write_training_report", "round_ratings"]


@dataclass(frozen=True)
class TrainingReport:
    """Everything the training report shows (see :func:`build_training_report`)."""

    rounds: list[RoundResult]
    gate: Gate
    progress: pd.DataFrame | None
    session: SessionSheet
    rubric: Rubric
    meta: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.95

    @property
    def last(self) -> RoundResult:
        return self.rounds[-1]

    def certified(self) -> list[str]:
        """Interviewers certified in the last round."""
        c = self.last.certification
        return sorted(c.loc[c["certified"], "rater_id"])


def round_ratings(ratings: pd.DataFrame, reference_set: ReferenceSet) -> pd.DataFrame:
    """The ratings that belong to a round on ``reference_set``.

    Rows tagged by another round's packet (``run_id`` = ``training:<other set id>``) are left
    out, so several rounds on different sets can share one store.
    """
    if "run_id" not in ratings.columns:
        return ratings
    run = ratings["run_id"].astype("string")
    other = run.str.startswith("training:").fillna(False) & (
        run != f"training:{reference_set.set_id}"
    ).fillna(True)
    return ratings[~other.to_numpy(dtype=bool)]


def build_training_report(
    rounds: Sequence[tuple[str, pd.DataFrame, ReferenceSet]],
    rubric: Rubric,
    gate: Gate | None = None,
    raters: Sequence[str] | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    max_items: int = 10,
) -> TrainingReport:
    """Accuracy, certification, progress and the session sheet over one or more rounds.

    Parameters
    ----------
    rounds : sequence of (store label, ratings, ReferenceSet)
        In chronological order. ``ratings`` is the round store's long ratings table.
    rubric : Rubric
        Must be the rubric of every set.
    gate : Gate, optional
        Certification thresholds (default :class:`Gate`).
    raters : sequence of str, optional
        Only these interviewers (``--rater``).
    n_boot, seed : int
        Bootstrap resamples and seed for the progress CIs.
    confidence : float
    max_items : int
        Cells to discuss on the session sheet.

    Returns
    -------
    TrainingReport

    Raises
    ------
    DataValidationError
        A round without interviewer ratings of its set, or ``raters`` absent from a round.
    ConfigError
        A set's rubric differs from ``rubric``.
    """
    if not rounds:
        raise DataValidationError("give at least one round (a store and a reference set)")
    gate = gate or Gate()
    results = []
    for i, (label, ratings, rs) in enumerate(rounds, 1):
        check_rubric(rs, rubric)
        name = str(i)
        try:
            acc = accuracy_against_reference(round_ratings(ratings, rs), rs, raters, confidence)
        except DataValidationError as exc:
            raise DataValidationError(f"round {name} ({label}, set {rs.set_id}): {exc}") from None
        results.append(RoundResult(name, str(label), rs, acc, certify(acc.summary, acc.bias, gate)))
    progress = (
        compare_rounds(results, n_boot=n_boot, seed=seed, confidence=confidence)
        if len(results) > 1
        else None
    )
    sheet = session_sheet(results[-1].accuracy, results[-1].reference_set, rubric, max_items)
    meta = {
        "calib_version": __version__,
        "rubric_id": rubric.id,
        "rubric_version": rubric.version,
        "rubric_hash": rubric.content_hash,
        "seed": int(seed),
        "n_boot": int(n_boot),
        "confidence": float(confidence),
        "raters": list(raters) if raters else None,
        "rounds": [
            {"round": r.name, "store": r.store, "set_id": r.reference_set.set_id} for r in results
        ],
    }
    return TrainingReport(results, gate, progress, sheet, rubric, meta, confidence)


# ---------------------------------------------------------------- formatting helpers


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


class _Lit(str):
    """Text calib composed from numbers and fixed words only (no input text): not escaped."""


def _pct(x: Any) -> str:
    return _Lit(f"{100 * float(x):.0f}%" if _finite(x) else "n/a")


def _pts(x: Any) -> str:
    return _Lit(f"{100 * float(x):+.0f} pts" if _finite(x) else "n/a")


def _num(x: Any, d: int = 2) -> str:
    return _Lit(f"{float(x):.{d}f}" if _finite(x) else "n/a")


def _sgn(x: Any, d: int = 2) -> str:
    if not _finite(x):
        return _Lit("n/a")
    v = float(x)
    return _Lit("0" if abs(v) < 0.5 * 10**-d else f"{v:+.{d}f}".replace("-", "−"))


def _dev_class(d: float) -> str:
    a = abs(d)
    return "d0" if a <= 0.5 else "d1" if a <= 1.5 else "d2"


def _synthetic(report: TrainingReport) -> bool:
    meta = report.last.reference_set.transcripts.get("metadata", pd.Series([], dtype=object))
    return any(isinstance(m, dict) and m.get("synthetic") for m in meta)


def _reference_who(rs: ReferenceSet) -> str:
    if rs.experts:
        return "mean of the experts " + ", ".join(rs.experts)
    return "mean of all human raters of high-agreement transcripts (consensus)"


def _certified_text(report: TrainingReport) -> str:
    c = report.last.certification
    yes = report.certified()
    no = sorted(c.loc[~c["certified"], "rater_id"])
    parts = [
        f"Certified ({len(yes)} of {len(c)}): {', '.join(yes)}."
        if yes
        else f"Nobody certified yet (0 of {len(c)})."
    ]
    if no:
        parts.append(f"Not yet: {', '.join(no)}.")
    return " ".join(parts)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("calib.training", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _context(report: TrainingReport) -> dict[str, Any]:
    last = report.last
    bias = {r: list(g.itertuples(index=False)) for r, g in last.accuracy.bias.groupby("rater_id")}
    cert = {r.rater_id: r for r in last.certification.itertuples(index=False)}
    return {
        "rubric": report.rubric,
        "rounds": report.rounds,
        "last": last,
        "progress": report.progress,
        "gate_text": "; ".join(report.gate.describe()) or "no criteria",
        "certified_text": _certified_text(report),
        "bias": bias,
        "cert": cert,
        "confidence": report.confidence,
        "reference_who": _reference_who(last.reference_set),
        "n_excluded": len(last.accuracy.excluded),
        "meta": report.meta,
        "synthetic": _synthetic(report),
        "sheet": report.session,
        "min_dev": 0.5,
        "style": resources.files("calib.training")
        .joinpath("templates", "_style.css")
        .read_text("utf-8"),
        "pct": _pct,
        "pts": _pts,
        "num": _num,
        "sgn": _sgn,
        "dev_class": _dev_class,
    }


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    # headers are calib's own words; cells are escaped unless calib composed them (_Lit)
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += [
        "| " + " | ".join(c if isinstance(c, _Lit) else md(c) for c in row) + " |" for row in rows
    ]
    return out + [""]


def _report_md(report: TrainingReport) -> str:
    c = _context(report)
    last = report.last
    lines = [
        "# Calibration training report",
        "",
        f"{md(report.rubric.title)} ({md(report.rubric.id)} v{md(report.rubric.version)}), "
        f"{len(report.rounds)} round(s). Group session sheet: `session.md`.",
        "",
    ]
    if c["synthetic"]:
        lines += ["**SYNTHETIC DATA** (calib.simulate): no real person is represented.", ""]
    lines += [
        "## Who is certified",
        "",
        f"**{md(c['certified_text'])}**",
        "",
        f"Gate (round {md(last.name)}): {md(c['gate_text'])}.",
        "",
    ]
    lines += _md_table(
        ["interviewer", "certified", "failing criteria"],
        [
            [r.rater_id, _Lit("yes" if r.certified else "no"), r.failed or _Lit("—")]
            for r in last.certification.itertuples(index=False)
        ],
    )
    if report.progress is not None:
        lines += ["## Progress over rounds", ""]
        if report.progress.empty:
            lines += ["No interviewer was scored in two rounds.", ""]
        else:
            lines += _md_table(
                [
                    "interviewer",
                    "within one",
                    "change [CI]",
                    "differential accuracy",
                    "change [CI]",
                    "mean abs deviation",
                    "change [CI]",
                    "moved inside tolerance",
                ],
                [
                    [
                        p.rater_id,
                        _Lit(f"{_pct(p.within_one_first)} → {_pct(p.within_one_last)}"),
                        _Lit(
                            f"{_pts(p.within_one_change)} [{_pts(p.within_one_ci_low)}, "
                            f"{_pts(p.within_one_ci_high)}]"
                        ),
                        _Lit(
                            f"{_num(p.differential_accuracy_first)} → "
                            f"{_num(p.differential_accuracy_last)}"
                        ),
                        _Lit(
                            f"{_sgn(p.differential_accuracy_change)} "
                            f"[{_sgn(p.differential_accuracy_ci_low)}, "
                            f"{_sgn(p.differential_accuracy_ci_high)}]"
                        ),
                        _Lit(
                            f"{_num(p.mean_abs_deviation_first)} → "
                            f"{_num(p.mean_abs_deviation_last)}"
                        ),
                        _Lit(
                            f"{_sgn(p.mean_abs_deviation_change)} "
                            f"[{_sgn(p.mean_abs_deviation_ci_low)}, "
                            f"{_sgn(p.mean_abs_deviation_ci_high)}]"
                        ),
                        _Lit("yes" if p.moved_inside else "no"),
                    ]
                    for p in report.progress.itertuples(index=False)
                ],
            )
            lines += [f"- {md(t)}" for t in report.progress["text"]] + [""]
    lines += [f"## Accuracy against the reference (round {md(last.name)})", ""]
    lines += _md_table(
        ["interviewer", "exact", "adjacent", "within one", "E", "DE", "SA", "DA"],
        [
            [
                s.rater_id,
                _pct(s.exact),
                _pct(s.adjacent),
                _pct(s.within_one),
                _num(s.elevation),
                _num(s.differential_elevation),
                _num(s.stereotype_accuracy),
                _num(s.differential_accuracy),
            ]
            for s in last.accuracy.summary.itertuples(index=False)
        ],
    )
    lines += [
        "E, DE, SA, DA: Cronbach's (1955) elevation, differential elevation, stereotype accuracy "
        "and differential accuracy, rooted form (Sulsky & Balzer 1988), in levels; 0 = perfect.",
        "",
    ]
    for s in last.accuracy.summary.itertuples(index=False):
        cr = c["cert"][s.rater_id]
        lines += [
            f"### {md(s.rater_id)}: {'certified' if cr.certified else 'not certified'}",
            "",
            md(s.summary_text),
            "",
        ]
        if not cr.certified:
            lines += [f"Failing: {md(cr.failed)}", ""]
        lines += [f"- {md(b.text)}" for b in c["bias"].get(s.rater_id, [])] + [""]
    return "\n".join(lines)


def _session_md(report: TrainingReport) -> str:
    sheet = report.session
    lines = [
        f"# Group session sheet: round {md(report.last.name)}",
        "",
        f"Reference set {md(report.last.reference_set.set_id)}.",
        "",
        "## What to discuss",
        "",
    ]
    if not sheet.items:
        lines += ["Nothing to discuss: everyone was close to the reference everywhere.", ""]
    for i, it in enumerate(sheet.items, 1):
        lines += [
            f"### {i}. {md(it['name'])} on transcript {md(it['transcript_id'])}",
            "",
            f"Reference: level {md(it['reference_level'])} (score {_num(it['reference_score'])}); "
            f"mean |deviation| {_num(it['mean_abs_deviation'])}.",
            "",
        ]
        for lv, label, anchor in it["reference_anchors"]:
            lines.append(f"- **{lv} {md(label)} (reference)**: {md(anchor)}")
        for g in it["given"]:
            if not g["is_reference"]:
                lines.append(
                    f"- **{g['level']} {md(g['label'])}**, given by "
                    f"{md(', '.join(g['raters']))}: {md(g['anchor'])}"
                )
        same = [r for g in it["given"] if g["is_reference"] for r in g["raters"]]
        if same:
            lines.append(f"- gave the reference level: {md(', '.join(same))}")
        lines.append("")
        if it["excerpt"]:
            lines += [f"> {md(it['excerpt'])}", ""]
        for r, lv, text in it["rationales"]:
            lines.append(f"- {md(r)} (gave {lv}): {md(text)}")
        lines.append("")
    lines += ["## Deviations from the reference (score − reference)", ""]
    lines += [
        "Transcripts: "
        + ", ".join(f"T{i} = {md(t)}" for i, t in enumerate(sheet.transcripts, 1))
        + ".",
        "",
    ]
    for g in sheet.grids:
        lines += [f"### {md(g['name'])}", ""]
        rows = [["reference level", *g["reference"]]]
        rows += [
            [rater, *[("·" if d is None else _sgn(d, 1)) for d in devs]]
            for rater, devs in g["rows"]
        ]
        lines += _md_table(["", *[f"T{i}" for i in range(1, len(sheet.transcripts) + 1)]], rows)
    return "\n".join(lines)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v


def summary_dict(report: TrainingReport) -> dict[str, Any]:
    """The ``summary.json`` content."""
    last = report.last
    return _jsonable(
        {
            "kind": "calib_training_report",
            **report.meta,
            "gate": report.gate.to_dict(),
            "gate_text": report.gate.describe(),
            "certified": report.certified(),
            "certification": last.certification.to_dict("records"),
            "accuracy": last.accuracy.summary.to_dict("records"),
            "bias": last.accuracy.bias.to_dict("records"),
            "progress": None if report.progress is None else report.progress.to_dict("records"),
            "rounds_accuracy": [
                {"round": r.name, "accuracy": r.accuracy.summary.to_dict("records")}
                for r in report.rounds
            ],
        }
    )


def write_training_report(report: TrainingReport, out: str | os.PathLike) -> Path:
    """Write the report folder (see the module docstring); return ``out/report.html``."""
    out = Path(out)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    env = _env()
    ctx = _context(report)
    (out / "report.html").write_text(env.get_template("report.html.j2").render(**ctx), "utf-8")
    (out / "session.html").write_text(env.get_template("session.html.j2").render(**ctx), "utf-8")
    (out / "report.md").write_text(_report_md(report), encoding="utf-8")
    (out / "session.md").write_text(_session_md(report), encoding="utf-8")
    for r in report.rounds:
        suffix = f"_round{r.name}" if len(report.rounds) > 1 else ""
        write_csv(r.accuracy.summary, out / "tables" / f"accuracy{suffix}.csv")
        write_csv(r.accuracy.bias, out / "tables" / f"bias{suffix}.csv")
        write_csv(r.certification, out / "tables" / f"certification{suffix}.csv")
        write_csv(r.accuracy.cells, out / "tables" / f"cells{suffix}.csv")
    write_csv(report.session.table, out / "tables" / "session_grid.csv")
    if report.progress is not None:
        write_csv(report.progress, out / "tables" / "progress.csv")
    (out / "summary.json").write_text(
        json.dumps(summary_dict(report), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return out / "report.html"

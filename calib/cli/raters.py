"""``calib raters``: rater severity, fit, halo, central tendency, drift, subgroup bias, G-theory."""

from __future__ import annotations

import json

import click
import pandas as pd

from calib._escape import csv_text
from calib.errors import DataValidationError
from calib.io import read_ratings, read_store_rubric, read_transcripts
from calib.raters import (
    DEFAULT_FLAG_MODEL,
    NOT_IDENTIFIED,
    anonymous_rows,
    flag_sentence,
    flag_summary,
    rater_tables,
    reliability_plan,
    thresholds_for_scale,
)

_HELP = """Who disagrees, how, and what to do about it: rater effects and reliability planning.

\b
Fits an additive model (severity in score points; the default, and the model
'calib report' uses, so both flag the same raters) or a many-facet Rasch model
(transcript x rater x dimension; measures in logits, positive = severe), flags rater
effects against the thresholds documented in docs/raters.md, and plans how many raters
each dimension needs (G-theory D-study).

\b
The answer comes first: who is flagged, for which effect, how big (score points,
positive = harsher), one row per rater x effect with the dimensions inside the row.
The full tables (measures, fit, drift windows, subgroup tests, plan) follow with
--details.

\b
Examples:
  calib raters --store store/
  calib raters --store store/ --details
  calib raters --store store/ --model mfrm --details
  calib raters --store store/ --rasch-model partial_credit --no-plan
  calib raters --store store/ --format csv --table flags > flags.csv
  calib raters --store store/ --format json > raters.json

\b
Designs: elements (raters, transcripts, dimensions) that gave or received only
the lowest or only the highest score are set aside and measured afterwards with
FACETS' 0.3-point extreme-score adjustment (column 'extreme'); unused score
levels are skipped; a scale with more than 21 used levels (e.g. 0-100) is fitted
with the additive model instead, and disordered Rasch-Andrich thresholds are
flagged. Each such decision is printed as a 'note:' line first. Ratings without
a rater_id (anonymous annotation slots) have no rater effects.

\b
Reading the output:
  notes       what the fit did that you must know (see Designs above).
  answer      one row per flagged rater x effect (the summary printed first).
  flags       (--details) one row per flagged effect and dimension: severity (|measure| >= 0.5 logit or 0.2 point
              and Holm p < .05), dimension_bias, misfit (infit/outfit outside 0.5-1.5),
              central_tendency (spread ratio < 0.8), halo (inter-dimension r exceeds the
              others' by >= 0.15), drift (>= 0.1 point per 30 days), subgroup (>= 0.2 point
              and Holm p < .01: differential rater functioning, docs/raters.md).
  raters      measure, model S.E., infit/outfit mean-squares (ZSTD), fair average.
  separation  separation, strata and reliability per facet.
  drift       each rater's severity (points) per 30-day period with a 95% CI, for
              raters whose ratings span >= 14 days with >= 2 periods of >= 10.
  plan        expected G (relative) and Phi (absolute) reliability for 1-6 raters per
              dimension and the number of raters needed for 0.80.
"""

_TABLES = [
    "answer",
    "notes",
    "flags",
    "design",
    "raters",
    "dimensions",
    "thresholds",
    "categories",
    "separation",
    "bias",
    "bias_subgroup",
    "drift",
    "plan",
    "effects",
]


def _fmt_table(df: pd.DataFrame) -> str:
    shown = df.copy()
    for col in shown.columns:  # counts stored as float (NaN-able) read better as integers
        values = shown[col]
        if values.dtype.kind == "f" and col in {
            "n",
            "n_ratings",
            "count",
            "n_transcripts",
            "n_raters",
        }:
            if values.dropna().eq(values.dropna().round()).all():
                shown[col] = values.astype("Int64")
    return shown.to_string(index=False, float_format=lambda v: f"{v:.3f}")


@click.command("raters", help=_HELP)
@click.option(
    "--store",
    required=True,
    type=click.Path(file_okay=False),
    help="Store folder written by 'calib ingest'.",
)
@click.option(
    "--model",
    type=click.Choice(["mfrm", "additive"]),
    default=DEFAULT_FLAG_MODEL,
    show_default=True,
    help="Rater model: additive (score points; what 'calib report' uses) or many-facet "
    "Rasch (logits).",
)
@click.option(
    "--rasch-model",
    type=click.Choice(["rating_scale", "partial_credit"]),
    default="rating_scale",
    show_default=True,
    help="Threshold structure of the MFRM.",
)
@click.option(
    "--rater-type",
    default="human",
    show_default=True,
    help="Which raters to analyse: human, rule, llm, or 'all'.",
)
@click.option(
    "--plan/--no-plan",
    default=True,
    show_default=True,
    help="Include the G-theory reliability plan.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--table", "only", type=click.Choice(_TABLES), default=None, help="Print only this table."
)
@click.option(
    "--details",
    is_flag=True,
    help="After the answer, print every table (measures, fit, drift, subgroup tests, plan).",
)
def command(store, model, rasch_model, rater_type, plan, fmt, only, details) -> None:
    rubric = read_store_rubric(store)
    ratings = read_ratings(
        store,
        rater_type=None if rater_type == "all" else rater_type,
        columns=["transcript_id", "rater_id", "rater_type", "dimension", "score", "rated_at"],
    )
    if ratings.empty:
        raise DataValidationError(f"{store}: no ratings with rater_type={rater_type!r}")
    anon = anonymous_rows(ratings)
    if anon.all():
        # Annotation slots, not people: no rater effect is defined (agreement still is).
        click.echo(f"Rater analysis of {rater_type} ratings: {NOT_IDENTIFIED}.")
        click.echo("Agreement between the ratings of each transcript: calib agree --store ...")
        return
    if anon.any():
        click.echo(
            f"note: {int(anon.sum())} ratings without a rater_id (anonymous) are left out of "
            "the rater analysis",
            err=True,
        )
        ratings = ratings[~anon]
    if only == "plan":  # the plan needs no rater model
        tables = {"plan": reliability_plan(ratings)}
    else:
        tables = rater_tables(
            ratings,
            read_transcripts(store),
            model=model,
            rasch_model=rasch_model,
            plan=plan and only is None and (details or fmt != "table"),
            dimension_order=list(rubric.dimension_ids),
            # point thresholds were set on a 1-4 scale; keep their share of this scale's width
            thresholds=thresholds_for_scale(rubric.scale.span),
        )
    if "effects" in tables:
        tables = {
            "answer": flag_summary(tables["effects"], len(rubric.dimension_ids)),
            **tables,
        }
    if only is not None:
        if only not in tables:
            raise click.UsageError(f"table {only!r} is not produced by --model {model}")
        tables = {only: tables[only]}
    elif fmt == "table":
        tables.pop("effects", None)  # every row incl. unflagged: csv/json or --table effects
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    k: json.loads(v.to_json(orient="records", date_format="iso"))
                    for k, v in tables.items()
                },
                indent=2,
            )
        )
        return
    if fmt == "csv":
        for name, tab in tables.items():
            if len(tables) > 1:
                click.echo(f"# {name}")
            click.echo(csv_text(tab), nl=False)
        return
    n = ratings["score"].notna().sum()
    click.echo(
        f"Rater analysis of {rater_type} ratings ({n} ratings), rubric {rubric.id} "
        f"v{rubric.version}, model {model}" + (f" ({rasch_model})" if model == "mfrm" else "")
    )
    for note in tables.get("notes", pd.DataFrame(columns=["note"]))["note"]:
        click.echo(f"note: {note}")
    if only is None and "answer" in tables:
        ans = tables["answer"]
        n_r = ratings["rater_id"].nunique()
        click.echo("\n" + flag_sentence(ans, n_r))
        if len(ans):
            click.echo(
                "Sizes: score points, positive = harsher (drift: change per 30 days; "
                "central tendency: share of colleagues' spread; halo: excess correlation)."
            )
            show = ans[["rater_id", "label", "direction", "size", "where"]].rename(
                columns={"rater_id": "rater", "label": "effect"}
            )
            for c in ("rater", "effect", "direction", "where"):  # text reads left-aligned
                show[c] = show[c].astype(str).str.ljust(int(show[c].astype(str).str.len().max()))
            click.echo(
                show.to_string(index=False, justify="left", float_format=lambda v: f"{v:+.2f}")
            )
        if not details:
            click.echo("\nFull tables (measures, fit, drift, subgroup tests, plan): add --details.")
            return
    for name, tab in tables.items():
        if name in ("notes", "answer") and only is None:
            continue
        title = {"flags": "FLAGGED RATER EFFECTS (thresholds: docs/raters.md)"}.get(name, name)
        click.echo(f"\n== {title} ==")
        if name == "flags" and tab.empty:
            click.echo("no rater effect exceeds its threshold")
            continue
        if name == "flags":
            tab = tab.drop(columns=["threshold"])
        click.echo(_fmt_table(tab))

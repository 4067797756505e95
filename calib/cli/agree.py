"""``calib agree``: per-dimension inter-rater agreement of a store's ratings."""

from __future__ import annotations

import json
import math

import click
import pandas as pd

from calib._defaults import DEFAULT_N_BOOT, DEFAULT_SEED
from calib._escape import csv_text
from calib.agreement import ICC_FORMS, agreement_table
from calib.errors import DataValidationError
from calib.io import (
    RATINGS_SCHEMA,
    metadata_frame,
    read_ratings,
    read_store_rubric,
    read_transcripts,
)

_EPILOG = """\b
Examples:
  calib agree --store store/
  calib agree --store store/ --by question_type
  calib agree --store store/ --by seniority --format csv > agreement.csv
  calib agree --store store/ --rater-type llm --n-boot 0 --format json

\b
Columns: alpha = Krippendorff's alpha with the metric that fits the
dimension's scale (metric: ordinal on scales of at most 10 levels, interval on
wider scales such as 0-100 and on continuous scales), QWK = mean pairwise
quadratic-weighted Cohen's kappa, exact / adj = share of rating pairs that agree
exactly / within one level (QWK, exact and adj only on scales of at most 10
levels), each with its 95% CI in brackets (transcript-level bootstrap).
ICC = single-rating intraclass correlation in the form the design supports
(ICC form): ICC(A,1) two-way when every transcript was rated by the same raters,
ICC(1) one-way when each transcript has its own raters (or raters are
anonymous), ICC(A,1) from REML variance components for incomplete crossed
designs (e.g. crowds, 3-of-4 panels); see docs/agreement.md. band =
Krippendorff's reading of alpha: >= .800 reliable, .667-.800 tentative, below
.667 unreliable. --format csv/json add ordinal and interval alpha, ICC(k) of the
mean of k ratings, n_pairable and every bound. Ratings without a rater_id are
anonymous annotation slots: agreement is computed, raters shows '-'.
"""


def _fmt(v: float, lo: float, hi: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if lo is None or math.isnan(lo):
        return f"{v:.3f}"
    return f"{v:.3f} [{lo:.2f}, {hi:.2f}]"


def _scales_text(rubric) -> str:
    if rubric.uniform_scale:
        return rubric.scale.describe()
    return "; ".join(f"{d} {sc.describe()}" for d, sc in rubric.scales.items())


def _render(tab: pd.DataFrame, groups: list[str]) -> str:
    cols = [("alpha", "alpha")]
    if tab["qwk_mean"].notna().any():  # pairwise: few-level scales, pairs that share units
        cols += [("QWK", "qwk_mean")]
    if tab["exact_agreement"].notna().any():  # level-by-level statistics: few-level scales only
        cols += [("exact", "exact_agreement"), ("adj", "adjacent_agreement")]
    cols += [("ICC", "icc")]
    show = pd.DataFrame({g: tab[g].astype(str) for g in groups})
    show["units"] = tab["n_units"].astype("Int64").astype(str)
    show["raters"] = tab["n_raters"].astype("Int64").astype(str).replace("<NA>", "-")
    show["metric"] = tab["alpha_metric"].fillna("").astype(str)
    for title, c in cols:
        show[title] = [
            _fmt(v, lo, hi) for v, lo, hi in zip(tab[c], tab[f"{c}_low"], tab[f"{c}_high"])
        ]
    short = {v: s for v, s in zip(ICC_FORMS.values(), ("two-way", "one-way", "REML"))}
    show["ICC form"] = tab["icc_form"].map(short).fillna("")
    show["band"] = tab["band"]
    return show.to_string(index=False)


@click.command("agree", epilog=_EPILOG)
@click.option(
    "--store",
    required=True,
    type=click.Path(file_okay=False),
    help="Store folder written by 'calib ingest'.",
)
@click.option(
    "--by",
    default="dimension",
    show_default=True,
    help="Group by: dimension, question_type, or any transcript metadata key (always per dimension within it).",
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
    "--rater-type",
    default="human",
    show_default=True,
    help="Which raters to compare: human, rule, llm, or 'all'.",
)
@click.option(
    "--n-boot",
    default=DEFAULT_N_BOOT,
    show_default=True,
    type=click.IntRange(min=0),
    help="Bootstrap resamples for the CIs (0 = none).",
)
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int, help="Bootstrap seed.")
def command(store: str, by: str, fmt: str, rater_type: str, n_boot: int, seed: int) -> None:
    """Inter-rater agreement per rubric dimension, with 95% confidence intervals.

    Reads the ratings, transcripts and rubric of STORE, compares the raters of one type on
    the same transcripts, and prints Krippendorff's alpha, mean pairwise QWK, exact and
    adjacent agreement and ICC(2) for every dimension, on the rubric's full scale. On wide
    (more than 10 levels) and continuous scales only interval alpha and the ICC are shown.
    """
    rubric = read_store_rubric(store)
    # only the columns agreement needs: rationales and metadata are the bulk of a large store
    cols = ["transcript_id", "rater_id", "rater_type", "dimension", "score"]
    if by in RATINGS_SCHEMA.names and by not in cols:
        cols.append(by)
    ratings = read_ratings(
        store, rater_type=None if rater_type == "all" else rater_type, columns=cols
    )
    if ratings.empty:
        raise DataValidationError(f"{store}: no ratings with rater_type={rater_type!r}")
    unit_info = None
    if by not in ("dimension", *ratings.columns):
        transcripts = read_transcripts(store)
        unit_info = metadata_frame(transcripts)
        for col in ("question_type", "question_id"):
            if col in transcripts.columns:
                unit_info[col] = transcripts[col].to_numpy()
    tab = agreement_table(
        ratings,
        by=by,
        rater_type=None,
        scales=rubric.scales,
        n_boot=n_boot,
        seed=seed,
        unit_info=unit_info,
        dimension_order=rubric.dimension_ids,
    )
    groups = [by, "dimension"] if by != "dimension" else ["dimension"]
    if fmt == "csv":
        click.echo(csv_text(tab), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(json.loads(tab.to_json(orient="records")), indent=2))
    else:
        click.echo(
            f"Agreement of {rater_type} raters, rubric {rubric.id} v{rubric.version} "
            f"(scale {_scales_text(rubric)}), {n_boot} bootstrap resamples, seed {seed}\n"
        )
        click.echo(_render(tab, groups))

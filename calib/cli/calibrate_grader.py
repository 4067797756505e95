"""``calib calibrate-grader``: fit the rule grader's thresholds to the human consensus."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from calib.cli.grade import load_config
from calib.errors import DataValidationError
from calib.graders.calibrate import calibrate_rule_grader
from calib.graders.rules import RuleGrader
from calib.io import read_ratings, read_store_rubric, read_transcripts

_EPILOG = """\b
Examples:
  calib calibrate-grader --store store/ --out fitted_rules.yaml
  calib calibrate-grader --store store/ --method ordinal --folds 10 --out fitted_rules.yaml
  calib calibrate-grader --store store/ --method qwk --out fitted_rules.yaml
  calib grade --store store/ --grader rules --config fitted_rules.yaml
  calib validate-grader --store store/ --grader rules-<hash printed by grade>

\b
What is fitted: only the per-dimension thresholds that map the rule grader's raw points to
the rubric scale; the signals (phrases, weights) stay as written in the rubric.
  isotonic  monotone regression of the consensus on raw points, rounded to the scale
  ordinal   proportional-odds (cumulative logit) model; threshold = cutpoint / slope
  qwk       thresholds that maximise QWK with the consensus (coordinate ascent)
The CV columns are out-of-fold: transcripts are split into folds (seeded), thresholds are
fitted on the other folds and applied to the held-out ones. isotonic and ordinal aim at
the most likely level, which raises exact agreement but can shrink the score spread and
so lower QWK; qwk targets the QWK criterion of validate-grader. Check both columns.
"""


@click.command("calibrate-grader", epilog=_EPILOG)
@click.option(
    "--store",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Store with transcripts and human ratings.",
)
@click.option(
    "--grader",
    "kind",
    type=click.Choice(["rules"]),
    default="rules",
    show_default=True,
    help="Grader to calibrate.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Starting configuration (optional).",
)
@click.option(
    "--method",
    type=click.Choice(["isotonic", "ordinal", "qwk"]),
    default="isotonic",
    show_default=True,
    help="Fitting method.",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Cross-validation folds over transcripts.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fold assignment.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where to write the fitted configuration (.yaml or .json).",
)
def command(
    store: str,
    kind: str,
    config_path: str | None,
    method: str,
    folds: int,
    seed: int,
    out_path: str,
) -> None:
    """Fit the rule grader's score thresholds to the human consensus of STORE.

    Writes a configuration for 'calib grade --grader rules --config FILE' and prints the
    cross-validated agreement with the consensus before and after fitting.
    """
    rubric = read_store_rubric(store)
    transcripts = read_transcripts(store)
    humans = read_ratings(store, rater_type="human")
    if humans.empty:
        raise DataValidationError(f"{store}: no human ratings to calibrate against")
    grader = RuleGrader.from_rubric(rubric, load_config(config_path))
    result = calibrate_rule_grader(
        grader, transcripts, humans, rubric, method=method, folds=folds, seed=seed
    )
    out = Path(out_path)
    text = (
        json.dumps(result.config, indent=2)
        if out.suffix.lower() == ".json"
        else yaml.safe_dump(result.config, sort_keys=False, default_flow_style=None)
    )
    out.write_text(text, encoding="utf-8")
    click.echo(
        f"{method} thresholds fitted on {result.config['fitted']['n_transcripts']} transcripts "
        f"({folds}-fold CV by transcript, seed {seed}); written to {out}"
    )
    click.echo(result.cv.round(3).to_string(index=False))
    fitted = RuleGrader.from_rubric(rubric, result.config)
    click.echo(
        f"grade with: calib grade --store {store} --grader rules --config {out}   (rater id {fitted.rater_id})"
    )

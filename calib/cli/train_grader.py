"""``calib train-grader``: fit the trained grader to a store's human consensus."""

from __future__ import annotations

import click

_EPILOG = """\b
Examples:
  calib train-grader --store store/ --out model/
  calib train-grader --store store/ --out model/ --folds 5 --C 0.5 --seed 0
  calib grade --store other_store/ --grader trained --model model/

\b
Per rubric dimension: a multinomial logistic regression (scikit-learn; the score is the
rounded expected level) on transparent features -- every rule's contribution for the
dimension plus reasoning/structure features (reasoned sentences, numbers, buzzwords without
reasons, candidate questions, length) -- fitted to the human consensus. Cross-validation is
grouped by question_id (no question or transcript in both training and held-out folds); the
length-only baseline is cross-fitted in the same folds. Writes model.json (coefficients as
JSON, no pickle) and model_card.md (features, standardised weights, CV QWK with 95% CIs
against the length baseline). Needs scikit-learn: pip install 'calib[train]'.
"""


@click.command("train-grader", epilog=_EPILOG)
@click.option("--store", required=True, type=click.Path(file_okay=False, exists=True),
              help="Store with transcripts and human ratings.")  # fmt: skip
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Directory for model.json and model_card.md.")  # fmt: skip
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Max GroupKFold folds over question_id.")  # fmt: skip
@click.option("--C", "C", type=click.FloatRange(min=0, min_open=True), default=0.5,
              show_default=True, help="Inverse L2 regularisation strength.")  # fmt: skip
@click.option("--n-boot", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Bootstrap resamples for the CV QWK CIs.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
def command(store: str, out: str, folds: int, C: float, n_boot: int, seed: int) -> None:
    """Fit one model per dimension to STORE's human consensus and write it to OUT."""
    from calib.errors import DataValidationError
    from calib.graders.trained import train_grader
    from calib.graders.validate import human_consensus
    from calib.io import read_ratings, read_store_rubric, read_transcripts

    rubric = read_store_rubric(store)
    transcripts = read_transcripts(store)
    humans = read_ratings(store, rater_type="human")
    if humans.empty:
        raise DataValidationError(f"{store}: no human ratings to train on")
    g = train_grader(
        transcripts, human_consensus(humans), rubric, C=C, folds=folds, n_boot=n_boot, seed=seed
    )
    path = g.save(out)
    click.echo(f"trained grader {g.rater_id} written to {path}/model.json and model_card.md")
    click.echo(f"{'dimension':16s} {'N':>4s} {'CV QWK [95% CI]':>22s} {'length CV QWK':>14s}")
    for c in g.card:
        click.echo(f"{c['dimension']:16s} {c['N']:4d} {c['cv_qwk']:6.2f} "
                   f"[{c['cv_qwk_low']:.2f}, {c['cv_qwk_high']:.2f}]   {c['length_cv_qwk']:10.2f}")  # fmt: skip

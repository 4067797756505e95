"""``calib validate-grader``: can a grader stand in for a human, per rubric dimension?"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
import pandas as pd

from calib._defaults import DEFAULT_N_BOOT, DEFAULT_SEED
from calib._escape import csv_text, write_csv
from calib.cli.grade import load_config
from calib.graders.validate import Criteria, validate_grader
from calib.io import read_ratings, read_store_rubric, read_table, read_transcripts

_EPILOG = """\b
Examples:
  calib validate-grader --store store/ --grader rules
  calib validate-grader --store store/ --grader llm-3f2a9c1d --n-boot 2000 --out validation/
  calib validate-grader --store store/ --grader rules --criteria strict.yaml --strict
  calib validate-grader --store store/ --grader length --subgroups seniority,cohort --format json
  calib validate-grader --store store/ --grader llm-3f2a9c1d --other-grader llm-77b0e412
  calib validate-grader --store store/ --grader rules --vocab
  calib validate-grader --store store/ --grader trained --vocab --model model/

\b
Default criteria (Williamson, Xi & Breyer 2012), per dimension, grader vs human consensus:
  QWK >= 0.70, Pearson r >= 0.70, |SMD| <= 0.15, degradation (grader-h1 QWK minus
  h1-h2 QWK) >= -0.10, |DSM| <= 0.10 in every subgroup with >= 10 transcripts;
  plus calib's guards: N >= 30, <= 10% of transcripts unscored, and QWK above the
  length-only baseline (word-count thresholds, cross-fitted). A criteria file overrides
  any of: min_wtkappa, min_corr, min_degradation, max_abs_smd, max_abs_subgroup_smd,
  max_unscored_share, min_n, min_subgroup_n, require_beats_length,
  max_stuffing_gain (0.25), max_plain_loss (0.5).
  With --vocab: buzzwords are inserted into weak answers (consensus mean <= 2) and strong
  answers (>= 3) are reworded in plain words; a dimension fails when stuffing raises its
  mean score by > max_stuffing_gain levels or plain wording lowers it by > max_plain_loss.
  When transcripts carry metadata.style, a per-style breakdown is printed (styles.csv).

\b
Columns: QWK [95% bootstrap CI]; degr = degradation; len QWK = length baseline;
len bias = change in (grader - consensus) per 100 candidate words at equal consensus
(* p < .05); worst DSM = largest |standardized mean difference| over subgroups.
--out writes decision.csv, metrics.csv, per_rater.csv, length_bias.csv, subgroups.csv,
fairness.csv (OSA/OSD/CSD, Loukina et al. 2019) and validation.json; for LLM graders
also self_consistency.csv, prompt_sensitivity.csv (with --other-grader) and
judge_calibration.csv (when logprobs were recorded).
Exit code: 0, or 1 with --strict when any dimension fails.
"""


def _f(v: float, fmt: str = "{:.2f}") -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def render_decision(d: pd.DataFrame) -> str:
    """The pass/fail table as plain text."""
    show = pd.DataFrame(
        {
            "dimension": d["dimension"],
            "result": d["passed"].map({True: "PASS", False: "FAIL"}),
            "N": d["N"].astype(int),
            "QWK [95% CI]": [
                f"{_f(v)} [{_f(lo)}, {_f(hi)}]"
                for v, lo, hi in zip(d.wtkappa, d.wtkappa_low, d.wtkappa_high)
            ],
            "r": d["corr"].map(_f),
            "SMD": d["SMD"].map(lambda v: _f(v, "{:+.2f}")),
            "degr": d["degradation"].map(lambda v: _f(v, "{:+.2f}")),
            "len QWK": d["length_wtkappa"].map(_f),
            "len bias": [
                _f(v, "{:+.2f}") + ("*" if p < 0.05 else "")
                for v, p in zip(d.length_bias_per_100w, d.length_bias_p.fillna(1))
            ],
            "worst DSM": d["max_abs_subgroup_dsm"].map(_f),
        }
    )
    lines = [show.to_string(index=False), ""]
    lines += [f"{r.dimension}: {r.reason}" for r in d.itertuples()]
    return "\n".join(lines)


@click.command("validate-grader", epilog=_EPILOG)
@click.option(
    "--store",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Store with human and grader ratings.",
)
@click.option(
    "--grader",
    "grader_id",
    required=True,
    help="Grader rater_id, or a unique prefix such as 'rules'.",
)
@click.option(
    "--criteria",
    "criteria_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML/JSON file overriding acceptance criteria.",
)
@click.option(
    "--subgroups",
    default=None,
    help="Comma-separated metadata fields (default: every field with 2-20 levels).",
)
@click.option(
    "--n-boot",
    type=click.IntRange(min=0),
    default=DEFAULT_N_BOOT,
    show_default=True,
    help="Bootstrap resamples (0 = no CIs).",
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed for bootstrap, h1/h2 order and baseline folds.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format of the pass/fail table.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for every result table (CSV) and validation.json.",
)
@click.option(
    "--other-grader",
    "other_id",
    default=None,
    help="LLM graders: the same judge run with another prompt template (prompt sensitivity).",
)
@click.option(
    "--vocab",
    is_flag=True,
    help="Also run the vocabulary counterfactuals (stuffing weak answers, plain-wording strong "
    "ones) and apply the max_stuffing_gain / max_plain_loss criteria (rules and trained graders).",
)
@click.option(
    "--model",
    "model_dir",
    default=None,
    type=click.Path(exists=True),
    help="--vocab with a trained grader: its model directory.",
)
@click.option(
    "--config",
    "grader_config",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="--vocab with a rules grader graded with --config: the same config file.",
)
@click.option("--strict", is_flag=True, help="Exit 1 when any dimension fails.")
def command(
    store: str,
    grader_id: str,
    criteria_path: str | None,
    subgroups: str | None,
    n_boot: int,
    seed: int,
    fmt: str,
    out_dir: str | None,
    other_id: str | None,
    vocab: bool,
    model_dir: str | None,
    grader_config: str | None,
    strict: bool,
) -> None:
    """Validate a grader against the human ratings of STORE, per rubric dimension.

    Compares the grader with the human consensus and with each human, next to the
    human-human baseline on the same transcripts and the length-only baseline, with
    bootstrap CIs, a length-bias test and subgroup differences; prints PASS/FAIL with the
    reason for every dimension.
    """
    rubric = read_store_rubric(store)
    ratings = read_ratings(
        store, columns=["transcript_id", "rater_id", "rater_type", "dimension", "score"]
    )
    transcripts = read_transcripts(store)
    criteria = Criteria.from_mapping(load_config(criteria_path), source=criteria_path or "criteria")
    groups = [s.strip() for s in subgroups.split(",") if s.strip()] if subgroups else None
    llm_outputs = read_table(store, "llm_outputs") if "llm" in set(ratings["rater_type"]) else None
    res = validate_grader(
        ratings,
        grader_id,
        rubric,
        transcripts,
        criteria=criteria,
        subgroups=groups,
        n_boot=n_boot,
        seed=seed,
        llm_outputs=llm_outputs,
        other_grader_id=other_id,
    )
    if vocab:
        res = _with_vocabulary(res, rubric, transcripts, ratings, criteria, model_dir,
                               grader_config, seed)  # fmt: skip
    judge = {
        name: getattr(res, name)
        for name in ("self_consistency", "prompt_sensitivity", "judge_calibration")
        if getattr(res, name) is not None
    }
    if out_dir:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("decision", "metrics", "per_rater", "length_bias", "subgroups", "fairness"):
            write_csv(getattr(res, name), out / f"{name}.csv")
        for name in ("styles", "vocabulary"):
            if getattr(res, name) is not None:
                write_csv(getattr(res, name), out / f"{name}.csv")
        for name, table in judge.items():
            write_csv(table, out / f"{name}.csv")
        (out / "validation.json").write_text(
            json.dumps(
                {"config": res.config, "decision": res.decision.to_dict("records")},
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
    if fmt == "json":
        click.echo(
            json.dumps(
                {"config": res.config, "decision": res.decision.to_dict("records")},
                indent=2,
                default=str,
            )
        )
    elif fmt == "csv":
        click.echo(csv_text(res.decision), nl=False)
    else:
        n_pass = int(res.decision["passed"].sum())
        click.echo(
            f"grader {res.config['grader_id']} vs human consensus -- {n_pass}/{len(res.decision)} dimensions pass"
        )
        click.echo(render_decision(res.decision))
        if res.styles is not None:
            allrows = res.styles[res.styles["dimension"] == "all"]
            click.echo("\nby wording style (mean grader - consensus over dimensions, levels):")
            click.echo(allrows[["style", "N", "mean_diff"]].round(2).to_string(index=False))
        if res.vocabulary is not None:
            v = res.vocabulary[res.vocabulary["dimension"] == "all"]
            click.echo("\nvocabulary counterfactuals (mean change over dimensions, 95% CI):")
            click.echo(v.round(2).to_string(index=False))
        for name, table in judge.items():
            title = name.replace("_", " ")
            if name == "judge_calibration" and res.judge_ece is not None:
                title += f" (ECE {res.judge_ece:.3f})"
            click.echo(f"\n{title}:\n" + table.round(3).to_string(index=False))
        if out_dir:
            click.echo(f"tables written to {out_dir}")
    if strict and not res.decision["passed"].all():
        raise click.exceptions.Exit(1)


def _with_vocabulary(res, rubric, transcripts, ratings, criteria, model_dir, grader_config, seed):
    """Rebuild the grader, run the counterfactuals, apply the vocabulary criterion."""
    from calib.cli.grade import load_config as _load
    from calib.errors import ConfigError
    from calib.graders.validate import apply_vocabulary_criterion, human_consensus
    from calib.graders.vocab import vocabulary_sensitivity

    gid = res.config["grader_id"]
    if gid.startswith("trained-"):
        from calib.graders.trained import TrainedGrader

        if not model_dir:
            raise click.UsageError("--vocab for a trained grader needs --model DIR")
        grader = TrainedGrader.load(model_dir)
    elif gid.startswith("rules-"):
        from calib.graders.rules import RuleGrader

        grader = RuleGrader.from_rubric(rubric, _load(grader_config))
    else:
        raise ConfigError(
            f"--vocab: grader {gid!r} cannot be re-run here (rules and trained graders only; "
            "for an LLM judge call calib.graders.vocab.vocabulary_sensitivity from Python)"
        )
    if grader.rater_id != gid:
        raise ConfigError(
            f"--vocab: rebuilt grader is {grader.rater_id}, not {gid}; pass the --config / "
            "--model it was graded with"
        )
    vs = vocabulary_sensitivity(
        grader, transcripts, rubric, expert=human_consensus(ratings), seed=seed
    )
    return apply_vocabulary_criterion(res, vs, criteria)

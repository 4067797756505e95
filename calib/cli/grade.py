"""``calib grade``: run a grader over a store's transcripts and append its ratings."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import pandas as pd
import yaml

from calib.errors import ConfigError, GraderError
from calib.io import append_ratings, read_ratings, read_store_rubric, read_transcripts, write_table

_EPILOG = """\b
Examples:
  calib grade --store store/ --grader rules
  calib grade --store store/ --grader rules --config fitted_rules.yaml
  calib grade --store store/ --grader length
  calib grade --store store/ --grader length --config length.yaml --run-id nightly-01

\b
Graders:
  rules   transparent rules from the rubric's 'signals:' blocks (docs/graders.md);
          --config takes the thresholds written by 'calib calibrate-grader'.
  length  length-only baseline: score from the candidate's word count alone. Without
          --config its thresholds are fitted to the store's human scores by quantile
          matching (only the distribution of human scores is used).

\b
Ratings land in the store's ratings table (rater_id = grader name + config hash) and are
returned by calib.io.read_ratings(store); re-running the same configuration adds nothing.
Evidence (quoted spans and signals per score) goes to the table 'grader_evidence'.
Next: calib validate-grader --store store/ --grader rules
"""


def load_config(path: str | None) -> dict:
    """Read a YAML or JSON grader configuration (empty dict when no path)."""
    if not path:
        return {}
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from exc
    try:
        doc = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(doc).__name__}")
    return doc


def build_grader(kind: str, config: dict, rubric: Any, store: str, transcripts: pd.DataFrame):
    """Instantiate the rules or length grader (the llm branch lives in ``_build_llm``)."""
    if config.get("grader") not in (None, kind):
        raise ConfigError(f"config was written for grader {config['grader']!r}, not {kind!r}")
    if kind == "rules":
        from calib.graders.rules import RuleGrader

        return RuleGrader.from_rubric(rubric, config)
    if kind == "length":
        from calib.graders.baseline import LengthGrader
        from calib.graders.validate import human_consensus

        if config.get("thresholds"):
            return LengthGrader.from_config(config, rubric)
        humans = read_ratings(store, rater_type="human")
        if humans.empty:
            raise GraderError("length grader: no --config thresholds and no human ratings in the store to fit them to")
        return LengthGrader.fit(transcripts, human_consensus(humans), rubric, min_words=config.get("min_words", 1))
    raise GraderError(f"unknown grader {kind!r}")


def write_grades(store: str, grader: Any, result: Any, *, evidence_table: str = "grader_evidence") -> dict:
    """Append ratings (validated, idempotent) and the evidence rows of newly graded transcripts."""
    before = read_ratings(store)
    seen = set(before.loc[before["rater_id"] == grader.rater_id, "transcript_id"])
    summary = append_ratings(store, result.ratings, source=f"grader:{grader.rater_id}")
    src = summary.sources[0] if summary.sources else None
    ev = result.evidence
    if len(ev):
        ev = ev[~ev["transcript_id"].isin(seen)].assign(rater_id=grader.rater_id,
                                                      run_id=result.ratings["run_id"].iloc[0] if len(result.ratings) else None)
        if len(ev):
            write_table(store, evidence_table, ev.reset_index(drop=True))
    return {"accepted": src.accepted if src else 0, "duplicates_skipped": src.duplicates_skipped if src else 0,
            "quarantined": src.quarantined if src else 0, "evidence_rows_written": int(len(ev))}


@click.command("grade", epilog=_EPILOG)
@click.option("--store", required=True, type=click.Path(file_okay=False, exists=True), help="Store folder written by 'calib ingest'.")
@click.option("--grader", "kind", required=True, type=click.Choice(["rules", "length"]), help="Which grader to run.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="YAML/JSON grader configuration (e.g. thresholds fitted by 'calib calibrate-grader').")
@click.option("--run-id", default=None, help="Label stored with every rating (default: grader id + UTC time).")
@click.option("--dry-run", is_flag=True, help="Grade and print the summary, but write nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Summary format.")
def command(store: str, kind: str, config_path: str | None, run_id: str | None, dry_run: bool, fmt: str) -> None:
    """Grade every transcript of STORE on every rubric dimension and store the scores.

    A score the grader cannot produce (too few candidate words, no interviewer follow-up to
    adapt to, ...) is stored as unscored with its reason -- never dropped, never a low score.
    """
    config = load_config(config_path)
    rubric = read_store_rubric(store)
    transcripts = read_transcripts(store)
    grader = build_grader(kind, config, rubric, store, transcripts)
    run_id = run_id or f"{grader.rater_id}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    result = grader.grade(transcripts, rubric, run_id=run_id)
    written = {} if dry_run else write_grades(store, grader, result)
    out = {"grader": grader.rater_id, "run_id": run_id, **result.summary, **written, "dry_run": dry_run}
    if fmt == "json":
        click.echo(json.dumps(out, indent=2, default=str))
        return
    r = result.ratings
    per_dim = r.groupby("dimension", sort=False)["score"].agg(scored="count", mean="mean")
    per_dim["unscored"] = r["score"].isna().groupby(r["dimension"], sort=False).sum()
    per_dim = per_dim.reindex([d for d in rubric.dimension_ids if d in per_dim.index])
    click.echo(f"grader {grader.rater_id}  run {run_id}  transcripts {result.summary.get('transcripts', len(transcripts))}")
    click.echo(per_dim.round(2).to_string())
    if dry_run:
        click.echo("dry run: nothing written")
    else:
        click.echo(f"ratings: {written['accepted']} written, {written['duplicates_skipped']} already in the store, "
                   f"{written['quarantined']} quarantined; evidence rows: {written['evidence_rows_written']}")

"""``calib grade``: run a grader over a store's transcripts and append its ratings."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import pandas as pd
import yaml

from calib._yaml import load_yaml
from calib.errors import CalibError, ConfigError, GraderError
from calib.graders import write_grades
from calib.io import read_ratings, read_store_rubric, read_transcripts

_EPILOG = """\b
Examples:
  calib grade --store store/ --grader rules
  calib grade --store store/ --grader rules --config fitted_rules.yaml
  calib grade --store store/ --grader length
  calib grade --store store/ --grader trained --model model/
  calib grade --store store/ --grader length --config length.yaml --run-id nightly-01

\b
Graders:
  rules   transparent rules from the rubric's 'signals:' blocks (docs/graders.md);
          --config takes the thresholds written by 'calib calibrate-grader'.
  length  length-only baseline: score from the candidate's word count alone. Without
          --config its thresholds are fitted to the store's human scores by quantile
          matching (only the distribution of human scores is used).
  llm     an LLM judge on any OpenAI-compatible chat-completions endpoint (docs/llm-grader.md):
          calib grade --store store/ --grader llm --base-url http://127.0.0.1:8000/v1 \\
                      --model qwen2.5-7b-instruct --concurrency 8 --samples 3
          hosted API, key read from the variable you name (never pass the key itself):
          calib grade --store store/ --grader llm --base-url https://api.openai.com/v1 \\
                      --model gpt-4o-mini --api-key-env OPENAI_API_KEY --config llm.yaml
          Answers are cached in STORE/llm_cache.sqlite (--cache): a killed run restarts
          where it stopped. Raw answers go to the table 'llm_outputs'. A run that gets no
          answer at all, or meets 5 consecutive connection failures (dead endpoint), exits 1
          and writes nothing.

\b
Ratings land in the store's ratings table (rater_id = grader name + config hash) and are
returned by calib.io.read_ratings(store); re-running the same configuration adds nothing.
Evidence (quoted spans and signals per score) goes to the table 'grader_evidence'; each run
that added ratings is described (configuration, rubric hash, calib version) in 'grader_runs'.
Ratings, evidence and the run record are written in one store commit (all or nothing).
List or remove grader runs with: calib runs --store store/ [--drop RUN_ID]
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
        doc = json.loads(text) if p.suffix.lower() == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{path}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}"
        ) from exc
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
            raise GraderError(
                "length grader: no --config thresholds and no human ratings in the store to fit them to"
            )
        return LengthGrader.fit(
            transcripts, human_consensus(humans), rubric, min_words=config.get("min_words", 1)
        )
    raise GraderError(f"unknown grader {kind!r}")


def _build_llm(
    config: dict, config_path: str | None, store: str, options: dict, *, dry_run: bool = False
):
    """The LLM grader from ``--config`` (its ``llm:`` section) and the command-line options."""
    from calib.graders.llm import llm_grader_from_config, load_llm_config, load_prices

    if config.get("grader") not in (None, "llm"):
        raise ConfigError(
            f"{config_path}: config was written for grader {config['grader']!r}, not 'llm'"
        )
    settings = load_llm_config(config_path) if config_path else {}
    settings.pop("grader", None)
    prices_path = options.pop("prices_path", None)
    if prices_path:
        options["prices"] = load_prices(prices_path)
    if options.get("cache_path"):
        options["cache"] = options.pop("cache_path")
    else:
        options.pop("cache_path", None)
        # --dry-run writes nothing into the store, not even the default cache
        settings.setdefault("cache", None if dry_run else str(Path(store) / "llm_cache.sqlite"))
    for key in ("base_url", "model"):
        if not (options.get(key) or settings.get(key)):
            raise click.UsageError(
                f"--grader llm needs --{key.replace('_', '-')} (or {key}: in --config)"
            )
    return llm_grader_from_config(settings, source=str(config_path or "command line"), **options)


@click.command("grade", epilog=_EPILOG)
@click.option(
    "--store",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Store folder written by 'calib ingest'.",
)
@click.option(
    "--grader",
    "kind",
    required=True,
    type=click.Choice(["rules", "length", "llm", "trained"]),
    help="Which grader to run.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML/JSON grader configuration (e.g. thresholds fitted by 'calib calibrate-grader').",
)
@click.option(
    "--run-id", default=None, help="Label stored with every rating (default: grader id + UTC time)."
)
@click.option("--dry-run", is_flag=True, help="Grade and print the summary, but write nothing.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Summary format.",
)
@click.option(
    "--base-url",
    default=None,
    help="llm: endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp, Ollama, LM Studio, hosted).",
)
@click.option(
    "--model",
    default=None,
    help="llm: model name as the endpoint knows it; trained: model directory from train-grader.",
)
@click.option(
    "--api-key-env",
    default=None,
    metavar="VAR",
    help="llm: NAME of the environment variable holding the API key.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="llm: max calls in flight (default 4).",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=None,
    help="llm: answers per prompt; the rating is their median (default 1).",
)
@click.option(
    "--mode",
    type=click.Choice(["all", "per_dimension"]),
    default=None,
    help="llm: one call per transcript (all, default) or per transcript and dimension (less halo).",
)
@click.option("--template", default=None, help="llm: prompt template version, v1 (default) or v2.")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="llm: SQLite response cache (default STORE/llm_cache.sqlite).",
)
@click.option(
    "--prices",
    "prices_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="llm: YAML/JSON price table {model: {input_per_mtok, output_per_mtok}}; else cost is 'unknown'.",
)
@click.option(
    "--progress/--no-progress", default=True, show_default=True, help="llm: progress bar on stderr."
)
def command(store: str, kind: str, config_path: str | None, run_id: str | None, dry_run: bool, fmt: str,
            **llm_options: Any) -> None:  # fmt: skip
    """Grade every transcript of STORE on every rubric dimension and store the scores.

    A score the grader cannot produce (too few candidate words, no interviewer follow-up to
    adapt to, an LLM answer that is off-scale or unparseable, ...) is stored as unscored with
    its reason -- never dropped, never a low score.
    """
    config = load_config(config_path)
    rubric = read_store_rubric(store)
    transcripts = read_transcripts(store)
    if transcripts.empty:
        raise CalibError(
            f"{store}: no transcript text (a ratings-only store): graders read transcripts; "
            "ingest them with the same ids (calib ingest --transcripts ... --store "
            f"{store}) and grade again"
        )
    if kind == "llm":
        grader = _build_llm(config, config_path, store, llm_options, dry_run=dry_run)
    elif kind == "trained":
        from calib.graders.trained import TrainedGrader

        if not llm_options.get("model"):
            raise click.UsageError(
                "--grader trained needs --model DIR (written by calib train-grader)"
            )
        grader = TrainedGrader.load(llm_options["model"])
    else:
        grader = build_grader(kind, config, rubric, store, transcripts)
    run_id = run_id or f"{grader.rater_id}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    result = grader.grade(transcripts, rubric, run_id=run_id)
    if kind == "llm":
        from calib.graders.llm import require_an_answer

        require_an_answer(result, grader.provider.endpoint)  # else exit 1, nothing written
    evidence_table = "llm_outputs" if kind == "llm" else "grader_evidence"
    written = {} if dry_run else write_grades(store, grader, result, evidence_table=evidence_table)
    out = {
        "grader": grader.rater_id,
        "run_id": run_id,
        **result.summary,
        **written,
        "dry_run": dry_run,
    }
    if fmt == "json":
        click.echo(json.dumps(out, indent=2, default=str))
        return
    r = result.ratings
    per_dim = r.groupby("dimension", sort=False)["score"].agg(scored="count", mean="mean")
    per_dim["unscored"] = r["score"].isna().groupby(r["dimension"], sort=False).sum()
    per_dim = per_dim.reindex([d for d in rubric.dimension_ids if d in per_dim.index])
    click.echo(
        f"grader {grader.rater_id}  run {run_id}  transcripts {result.summary.get('transcripts', len(transcripts))}"
    )
    click.echo(per_dim.round(2).to_string())
    if kind == "llm":
        from calib.graders.llm import format_summary

        click.echo(format_summary({"rater_id": grader.rater_id, **result.summary}))
    if dry_run:
        click.echo("dry run: nothing written")
    else:
        click.echo(
            f"ratings: {written['accepted']} written, {written['duplicates_skipped']} already in the store, "
            f"{written['quarantined']} quarantined; evidence rows: {written['evidence_rows_written']}"
        )

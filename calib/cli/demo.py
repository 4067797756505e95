"""``calib demo``: the one-command tour on the shipped synthetic sample."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]

from calib._defaults import DEFAULT_N_BOOT

_HELP = """Run calib end to end on the shipped SYNTHETIC sample data and write a full report.

\b
Steps (each with a progress bar on stderr):
  1. ingest datasets/sample/ (300 synthetic transcripts, 8 synthetic raters) into OUT/store
  2. run the rule-based grader on every transcript
  3. run the LLM grader, only if CALIB_LLM_BASE_URL and CALIB_LLM_MODEL are set
     (an OpenAI-compatible endpoint; CALIB_LLM_API_KEY_ENV names the variable holding a key)
  4. analyse agreement, scale use, rater effects, reliability planning and graders
  5. write OUT/report.html (+ report.md, summary.json, figures/, tables/, run.json)

Prints the report path and the three headline findings, one per reader: what the rubric
designer should change, whether the interview-programme lead can trust the scores (and
how many raters, which raters to calibrate), and whether the grader builder's grader is
fit. Takes under a minute on 2 cores (about 15-20 s).

\b
Examples:
  calib demo
  calib demo --out /tmp/calib-demo
  CALIB_LLM_BASE_URL=http://127.0.0.1:8000/v1 CALIB_LLM_MODEL=smollm2 calib demo
"""


@click.command("demo", help=_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--out",
    "out",
    default="reports/demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (store goes to OUT/store).",
)
@click.option(
    "--n-boot",
    default=DEFAULT_N_BOOT,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Bootstrap resamples for confidence intervals.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def command(out: Path, n_boot: int, quiet: bool) -> None:
    from calib.report.demo import run_demo

    res = run_demo(out, n_boot=n_boot, progress=not quiet)
    click.echo(f"Report (synthetic data): {res.report}")
    click.echo("Headline findings:")
    for i, line in enumerate(res.headline[:3], 1):
        click.echo(f"  {i}. {line}")
    for note in res.notes:
        click.echo(f"  note: {note}")

"""``calib report``: write a calibration report (or one interviewer's feedback) for a store."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]

from calib._defaults import DEFAULT_N_BOOT, DEFAULT_SEED

_HELP = """Write a calibration report for a store: report.html, report.md, summary.json,
figures/, tables/ and run.json in OUT.

\b
The first screen answers three readers: the rubric designer (which anchors or dimensions
to change), the interview-programme lead (can the scores be trusted, how many raters,
which raters to calibrate) and the grader builder (is the automated grader fit, where).
The command prints those three answers. Then, section by section: is each rubric
dimension reliable (Krippendorff's alpha with CIs, ICC, QWK), which levels raters confuse,
which raters are severe or lenient, how many raters reliable scores need, how automated
graders compare with humans, and what to change in the rubric, each rubric change with the
anchor text and the transcripts where raters split. Severity is in score points, positive =
harsher, everywhere. A verdict is "undetermined" when its CI cannot place it, and no advice
is given below 30 double-rated transcripts (docs/report.md). Sections whose analysis is
unavailable say "Not computed" and why.

\b
With --rater ID it writes a personal feedback report for one interviewer instead: their
scores against the other raters' consensus per dimension (with 95% CIs), the transcripts
where they differed most with the excerpt and rubric anchors side by side, and what to
practise.

\b
Examples:
  calib report --store store/ --out reports/round1/
  calib report --store store/ --out reports/feedback-r01/ --rater r01
  calib report --store store/ --out reports/quick/ --n-boot 200 --seed 7

Same store and options give identical summary.json and tables.
"""


@click.command("report", help=_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "store",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Store folder written by 'calib ingest' (or 'calib demo').",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (created; existing report files are overwritten).",
)
@click.option(
    "--rater",
    "rater",
    default=None,
    metavar="ID",
    help="Write the feedback report for this human rater instead of the full report.",
)
@click.option(
    "--seed", default=DEFAULT_SEED, show_default=True, type=int, help="Seed for bootstrap CIs."
)
@click.option(
    "--n-boot",
    default=DEFAULT_N_BOOT,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Bootstrap resamples for confidence intervals (0 = none).",
)
def command(store: Path, out: Path, rater: str | None, seed: int, n_boot: int) -> None:
    from calib.report import ReportOptions, build_results, load_inputs, write_report

    inputs = load_inputs(store)
    options = ReportOptions(seed=seed, n_boot=n_boot)
    if rater is not None:
        from calib.report.feedback import build_feedback

        results = build_feedback(inputs, rater, options)
        path = write_report(results, out, inputs=inputs, options=options, template="feedback")
    else:
        results = build_results(inputs, options)
        path = write_report(results, out, inputs=inputs, options=options)
    click.echo(str(path))
    for i, line in enumerate(results.headline, 1):
        click.echo(f"  {i}. {line}")

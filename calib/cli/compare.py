"""``calib compare``: compare two calibration rounds or rubric versions."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]

from calib._defaults import DEFAULT_N_BOOT, DEFAULT_SEED

_HELP = """Compare two stores (A = before, B = after): reliability per dimension with the
change and whether it is larger than the noise, scale-use changes, every rater effect
(severity, misfit, central tendency, halo, drift) before and after with practical-size
thresholds (severity in score points, positive = harsher), and, when the rubric changed,
what each reworded dimension gained beyond the unchanged ones (difference in differences,
95% interval).

\b
Writes report.html, report.md, summary.json, figures/, tables/ and run.json in OUT.

\b
Examples:
  calib compare round1/store round2/store --out reports/round1-vs-round2/
  calib compare store_v1/ store_v2/ --out reports/rubric-v1-vs-v2/ --n-boot 1000
"""


@click.command("compare", help=_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("store_a", type=click.Path(file_okay=False, path_type=Path))
@click.argument("store_b", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (created).",
)
@click.option(
    "--seed", default=DEFAULT_SEED, show_default=True, type=int, help="Seed for bootstrap CIs."
)
@click.option(
    "--n-boot",
    default=DEFAULT_N_BOOT,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Bootstrap resamples for confidence intervals.",
)
def command(store_a: Path, store_b: Path, out: Path, seed: int, n_boot: int) -> None:
    from calib.report import ReportOptions, load_inputs, write_report
    from calib.report.compare import compare_inputs

    a, b = load_inputs(store_a), load_inputs(store_b)
    options = ReportOptions(seed=seed, n_boot=n_boot)
    results = compare_inputs(a, b, options)
    path = write_report(results, out, inputs=[a, b], options=options, template="compare")
    click.echo(str(path))
    for i, line in enumerate(results.headline, 1):
        click.echo(f"  {i}. {line}")

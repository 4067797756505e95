"""``calib runs``: list the grader runs in a store, or drop one."""

from __future__ import annotations

import json

import click

from calib.io import drop_run, list_runs

_EPILOG = """\b
Examples:
  calib runs --store store/
  calib runs --store store/ --format json
  calib runs --store store/ --drop llm-3f2a9c1d-20260105T221500Z

\b
A run is everything one 'calib grade' wrote: its ratings, its evidence ('grader_evidence')
or raw LLM answers ('llm_outputs') and its record in 'grader_runs'. --drop removes all of
them in one atomic store commit (human ratings are never touched); the LLM response cache
is kept, so grading again re-uses the answers already paid for.
"""


@click.command("runs", epilog=_EPILOG)
@click.option(
    "--store",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Store folder written by 'calib ingest'.",
)
@click.option("--drop", "drop", metavar="RUN_ID", default=None, help="Remove this grader run.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format of the listing.",
)
def command(store: str, drop: str | None, fmt: str) -> None:
    """List the grader runs stored in STORE (run id, grader, ratings, scored), or drop one."""
    if drop is not None:
        removed = drop_run(store, drop)
        click.echo(
            f"dropped run {drop}: "
            + ", ".join(f"{n} {name} row{'s' * (n != 1)}" for name, n in removed.items())
        )
        return
    runs = list_runs(store)
    if fmt == "json":
        click.echo(json.dumps(runs.astype(object).where(runs.notna(), None).to_dict("records"),
                              indent=2, default=str))  # fmt: skip
        return
    if runs.empty:
        click.echo(f"{store}: no grader runs (human ratings only)")
        return
    click.echo(runs.to_string(index=False))

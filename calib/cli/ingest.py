"""``calib ingest``: validate input files against a rubric and add them to a store."""

from __future__ import annotations

import click

from calib.io import ingest

_HELP = """Validate transcripts and ratings against a rubric and add them to a store.

\b
Inputs may be JSONL, CSV (turns as a JSON column, or one row per turn), Parquet, a Hugging
Face save_to_disk folder, or hf:NAME[:SPLIT] for a hub dataset. Ratings may be long
(transcript_id, rater_id, dimension, score, ...) or wide (one column per dimension id).
Every row that fails validation is kept in the store's quarantine table with the file, row,
field and reason; nothing is silently dropped. Re-ingesting the same files adds nothing;
a new batch is appended.

\b
Examples:
  calib ingest --transcripts datasets/sample/transcripts.jsonl \\
               --ratings datasets/sample/ratings.csv \\
               --rubric rubrics/ml_interview_v1.yaml --store store/
  calib ingest --transcripts batch2.csv --ratings batch2_wide.csv \\
               --rubric rubrics/ml_interview_v1.yaml --store store/ --strict

Exit status: 0 on success (quarantined rows are reported), 1 under --strict when any row
fails validation (then nothing is written), 2 on usage errors.
"""


@click.command("ingest", help=_HELP)
@click.option(
    "--transcripts",
    "transcripts",
    multiple=True,
    metavar="PATH",
    help="Transcript file or dataset (repeatable).",
)
@click.option(
    "--ratings",
    "ratings",
    multiple=True,
    metavar="PATH",
    help="Ratings file or dataset (repeatable).",
)
@click.option(
    "--rubric",
    required=True,
    type=click.Path(dir_okay=False),
    help="Rubric YAML, e.g. rubrics/ml_interview_v1.yaml.",
)
@click.option(
    "--store",
    required=True,
    type=click.Path(file_okay=False),
    help="Store folder (created if new).",
)
@click.option(
    "--strict", is_flag=True, help="Fail (exit 1) and write nothing if any row fails validation."
)
@click.option(
    "--max-examples", default=10, show_default=True, help="Quarantined rows to print as examples."
)
def command(transcripts, ratings, rubric, store, strict, max_examples) -> None:
    if not transcripts and not ratings:
        raise click.UsageError("give at least one --transcripts or --ratings input")
    summary = ingest(transcripts, ratings, rubric=rubric, store=store, strict=strict, progress=True)
    click.echo(summary.format(max_examples=max_examples))
    if strict and not summary.ok:
        raise SystemExit(1)

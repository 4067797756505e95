"""``calib ingest``: validate input files against a rubric and add them to a store."""

from __future__ import annotations

import click

from calib.io import ingest
from calib.io._scorecard import (
    DEFAULT_NA_VALUES,
    RatingOptions,
    parse_columns_option,
    parse_labels_option,
)
from calib.io._speakers import SpeakerRoles
from calib.io._transcripts import TranscriptOptions, load_transcript_info

_HELP = """Validate transcripts and ratings against a rubric and add them to a store.

\b
Transcripts: JSONL, CSV (turns as a JSON column, or one row per turn), Parquet, a Hugging
Face save_to_disk folder or hf:NAME[:SPLIT]; or documents as tools write them, one
interview per file, the transcript id from the file name: WebVTT (.vtt), SubRip (.srt),
text with speaker labels (.txt: "Name: text", "NAME (role): text", "[00:01:02] Name: text"),
Word (.docx), JSON segment lists ([{speaker, start, end, text}]), or a folder of them.
Speaker names become roles by --interviewers / --speaker-map, a role in the label
("Interviewer", "CANDIDATE (Sam Lee)"), or a per-file heuristic (the inferred mapping is
printed; an ambiguous file is quarantined with its speakers listed).

\b
Ratings: CSV/TSV (delimiter sniffed), Excel (.xlsx, first sheet), JSONL or Parquet; long
(transcript_id, rater_id, dimension, score, ...) or wide (one column per dimension, matched
by id or by the rubric's dimension name), e.g. an ATS scorecard export.
Common column names are recognised (Candidate, Interviewer, Interview Date, Notes,
Overall/Recommendation); --columns maps others. Score cells may be numbers, the rubric's
level labels or --labels labels; N/A, NA, n/a, -, none and blank mean "not rated". The
overall column, notes and every other column are kept in the store's scorecards table.
Ratings without any transcripts make a ratings-only store; transcripts ingested later
attach to the same ids. Dates: ISO 8601, --date-format, or common formats (month first
unless --dayfirst); an unreadable optional date is dropped with a warning, the score kept.
Full guide: docs/bring-your-own-data.md.

\b
Every row that fails validation is kept in the store's quarantine table with the file, row,
field and reason (list it with `calib quarantine --store S`). Re-ingesting the same files
adds nothing.

\b
Examples:
  calib ingest --transcripts interviews/ --interviewers "Priya Shah,Marco Rossi" \\
               --rubric rubrics/ml_interview_v1.yaml --store store/
  calib ingest --ratings scorecards.csv --rubric rubrics/ml_interview_v1.yaml --store store/ \\
               --columns "transcript_id=Candidate,rater_id=Interviewer,rated_at=Interview Date" \\
               --labels "Strong Hire=4,Hire=3,No Hire=2,Strong No Hire=1" --dayfirst
  calib ingest --transcripts datasets/sample/transcripts.jsonl \\
               --ratings datasets/sample/ratings.csv \\
               --rubric rubrics/ml_interview_v1.yaml --store store/

Exit status: 0 when rows were accepted (quarantined rows are reported); 1 when nothing
was accepted, when a file lacks required columns (one error listing every missing or
unmatched column and the rubric's dimensions), or under --strict when any row fails
validation (then nothing is written); 2 on usage errors.
"""


@click.command("ingest", help=_HELP)
@click.option(
    "--transcripts",
    "transcripts",
    multiple=True,
    metavar="PATH",
    help="Transcript file, folder of transcript files, or dataset (repeatable).",
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
    "--interviewers",
    metavar="NAMES",
    help='Comma-separated speaker names that are interviewers, e.g. "Priya Shah,Marco Rossi".',
)
@click.option(
    "--speaker-map",
    type=click.Path(dir_okay=False, exists=True),
    help="CSV (name,role) or YAML (name: role) mapping speaker names to interviewer/candidate.",
)
@click.option(
    "--question-id",
    metavar="ID",
    help="question_id for transcripts that give none (default: unspecified).",
)
@click.option(
    "--question-type",
    metavar="TYPE",
    help="question_type for transcripts that give none (default: unspecified).",
)
@click.option(
    "--transcript-info",
    type=click.Path(dir_okay=False, exists=True),
    help="Sidecar CSV keyed by transcript_id: question_id, question_type, interviewed_at, "
    "other columns become metadata.",
)
@click.option(
    "--columns",
    metavar="MAP",
    help='Column mapping, e.g. "transcript_id=Candidate,rater_id=Interviewer,rated_at=Interview '
    'Date" (a dimension id may be mapped too: "problem_framing=Framing").',
)
@click.option(
    "--labels",
    metavar="MAP",
    help='Score labels, e.g. "Strong Hire=4,Hire=3,No Hire=2,Strong No Hire=1" (added to the '
    "rubric's level labels and its labels: map).",
)
@click.option(
    "--na-values",
    metavar="LIST",
    help="Comma-separated cell values meaning 'not rated' (replaces the default: "
    + ", ".join(repr(v) for v in DEFAULT_NA_VALUES)
    + "; blank always means not rated).",
)
@click.option(
    "--date-format",
    metavar="FMT",
    help="strftime format of rated_at / interviewed_at values, e.g. '%d.%m.%Y' "
    "(ISO 8601 is always understood).",
)
@click.option(
    "--dayfirst",
    is_flag=True,
    help="Read ambiguous dates such as 03/02/2026 day first (3 February); default month first.",
)
@click.option(
    "--allow-missing-transcripts",
    is_flag=True,
    help="Accept ratings whose transcript is not in the store or this ingest (the ids are "
    "listed); without it such ratings are quarantined as likely id typos, unless the store "
    "holds no transcripts at all (ratings only).",
)
@click.option(
    "--strict", is_flag=True, help="Fail (exit 1) and write nothing if any row fails validation."
)
@click.option(
    "--max-examples",
    default=10,
    show_default=True,
    help="Quarantined rows to print as examples (at most two per reason).",
)
def command(
    transcripts,
    ratings,
    rubric,
    store,
    interviewers,
    speaker_map,
    question_id,
    question_type,
    transcript_info,
    columns,
    labels,
    na_values,
    date_format,
    dayfirst,
    allow_missing_transcripts,
    strict,
    max_examples,
) -> None:
    if not transcripts and not ratings:
        raise click.UsageError("give at least one --transcripts or --ratings input")
    t_opts = TranscriptOptions(
        roles=SpeakerRoles.build(interviewers, speaker_map),
        question_id=question_id,
        question_type=question_type,
        info=load_transcript_info(transcript_info) if transcript_info else {},
    )
    r_opts = RatingOptions(
        columns=parse_columns_option(columns),
        labels=parse_labels_option(labels),
        na_values=(
            ("",) + tuple(v.strip() for v in na_values.split(","))
            if na_values
            else DEFAULT_NA_VALUES
        ),
        date_format=date_format,
        dayfirst=dayfirst,
        allow_missing_transcripts=allow_missing_transcripts,
    )
    summary = ingest(
        transcripts,
        ratings,
        rubric=rubric,
        store=store,
        strict=strict,
        progress=True,
        transcript_options=t_opts,
        rating_options=r_opts,
    )
    click.echo(summary.format(max_examples=max_examples))
    if (strict and not summary.ok) or summary.nothing_accepted:
        raise SystemExit(1)

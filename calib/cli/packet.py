"""``calib packet``: the offline HTML scoring packet of a calibration round."""

from __future__ import annotations

import click

_HELP = """Write the scoring packet of a round: one offline HTML page for the interviewers.

\b
The page shows the set's transcripts (escaped), the rubric with its anchors, and a scoring
form per transcript x dimension with an optional rationale. The interviewer enters their id
once; progress is saved in their browser; 'Download my scores (CSV)' gives a file that
'calib ingest --ratings' reads as is. Nothing is fetched from the network. The page is
blind: it never contains the reference scores. scores_template.csv is the fallback
(one row per transcript, one column per dimension).

\b
Writes OUT/packet.html, OUT/scores_template.csv and OUT/README.md.

\b
Examples:
  calib packet --set set/ --rubric rubrics/ml_interview_v1.yaml --out packet/
  # after the round:
  calib ingest --transcripts set/transcripts.jsonl --ratings downloads/*.csv \\
               --rubric rubrics/ml_interview_v1.yaml --store round1/
"""


@click.command("packet", help=_HELP)
@click.option(
    "--set",
    "set_path",
    required=True,
    type=click.Path(),
    help="Reference-set folder from 'calib reference-set'.",
)
@click.option(
    "--rubric",
    required=True,
    type=click.Path(dir_okay=False),
    help="The rubric YAML of the set (must match its id, version and content).",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder to write the packet to."
)
def command(set_path: str, rubric: str, out: str) -> None:
    from calib.rubric import load_rubric
    from calib.training import read_reference_set, write_packet
    from calib.training._escape import plain

    rs = read_reference_set(set_path)
    page = write_packet(rs, load_rubric(rubric), out)
    size = page.stat().st_size
    click.echo(
        f"packet for {plain(rs.set_id)}: {len(rs.transcript_ids)} transcripts x "
        f"{rs.reference['dimension'].nunique()} dimensions ({size / 1024:.0f} KiB, offline)"
    )
    click.echo(f"wrote {page} and {page.parent / 'scores_template.csv'}")
    click.echo("give the interviewers the packet folder only, never the set folder")

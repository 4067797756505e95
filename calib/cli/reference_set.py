"""``calib reference-set``: pick the transcripts and reference scores of a calibration round."""

from __future__ import annotations

import warnings

import click

_HELP = """Pick N transcripts for a calibration round and their reference scores.

\b
Reference scores are the mean of the named --experts' scores, or (without --experts) the
mean of all human raters of transcripts scored with high agreement (at least 3 raters,
all within one level on every dimension). A transcript is eligible when every rubric
dimension has a reference. The set covers every level of every dimension where the store
allows, includes borderline cases (reference raters split between two levels), and says
why each transcript was chosen. It refuses, with the reason, when too few transcripts
are eligible.

\b
Writes OUT/set.json (read by 'calib packet' and 'calib training-report'),
OUT/reference.csv, OUT/chosen.csv, OUT/transcripts.jsonl and OUT/README.md.
Keep OUT away from the interviewers: it holds the reference scores.

\b
Examples:
  calib reference-set --store store/ --n 8 --experts r07,r08 --out set/
  calib reference-set --store store/ --n 10 --out set/
"""


@click.command("reference-set", help=_HELP)
@click.option(
    "--store", required=True, type=click.Path(file_okay=False), help="Store with the scores."
)
@click.option("--n", "n", default=8, show_default=True, type=int, help="Transcripts in the set.")
@click.option(
    "--experts",
    default=None,
    metavar="IDS",
    help="Comma-separated expert rater ids (e.g. r07,r08). Default: consensus of all raters.",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder to write the set to."
)
def command(store: str, n: int, experts: str | None, out: str) -> None:
    from calib.io import read_ratings, read_store_rubric, read_transcripts
    from calib.training import build_reference_set, write_reference_set
    from calib.training._escape import plain

    if n < 1:
        raise click.BadParameter("must be at least 1", param_hint="--n")
    expert_ids = [e.strip() for e in experts.split(",") if e.strip()] if experts else None
    if experts is not None and not expert_ids:
        raise click.BadParameter("give at least one rater id", param_hint="--experts")
    rubric = read_store_rubric(store)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rs = build_reference_set(
            read_ratings(store),
            read_transcripts(store),
            rubric,
            n=n,
            experts=expert_ids,
            source=store,
        )
    path = write_reference_set(rs, out)
    who = f"experts {plain(', '.join(rs.experts))}" if rs.experts else "consensus of human raters"
    click.echo(f"reference set {rs.set_id}: {len(rs.chosen)} transcripts, reference = {who}")
    for i, row in enumerate(rs.chosen.itertuples(index=False), 1):
        click.echo(f"  {i:>2}. {plain(row.transcript_id)}  [{row.step}] {plain(row.reason)}")
    if not rs.gaps:
        click.echo("every level of every dimension is covered")
    for w in caught:
        click.echo(f"note: {plain(w.message)}")
    click.echo(f"wrote {path.parent}/ (keep it away from the interviewers)")

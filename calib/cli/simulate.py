"""``calib simulate``: write a SYNTHETIC sample dataset with planted rater effects."""

from __future__ import annotations

from pathlib import Path

import click

from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

_HELP = """Write a SYNTHETIC dataset of rated ML-interview transcripts.

\b
Candidates get a latent true score per rubric dimension; transcript text reflects
each level; 8 default raters with planted effects (r01 severe, r02 lenient,
r03 halo, r04 central tendency, r05 drift, r06 subgroup bias on communication,
r07-r08 near-clean) score each transcript 2-3 at a time, plus a linked set
scored by all. Writes transcripts.jsonl, ratings.csv, true_scores.csv,
planted.json (every planted parameter) and README.md into OUT. The same seed
gives byte-identical files. Everything written is labelled synthetic.

\b
Examples:
  calib simulate --out datasets/sample
  calib simulate --out /tmp/clean --clean            # unbiased raters, noise only
  calib simulate --out /tmp/big --n-transcripts 100000 \\
                 --raters-per-transcript 3 --linked-fraction 0   # 2.4 M rating rows
"""


def _range(value: str) -> tuple[int, int]:
    """Parse ``"3"`` or ``"2-3"`` into an inclusive (lo, hi) range."""
    parts = str(value).split("-")
    try:
        lo, hi = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (0, -1)
    except ValueError:
        lo, hi = 0, -1
    if not 1 <= lo <= hi:
        raise click.BadParameter(f"expected N or LO-HI with 1 <= LO <= HI, got {value!r}")
    return lo, hi


@click.command(
    "simulate",
    help=_HELP,
    short_help="Write synthetic transcripts and ratings with planted effects.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (created if missing; the five files are replaced).",
)
@click.option(
    "--n-transcripts",
    default=300,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of synthetic interviews.",
)
@click.option(
    "--n-raters",
    default=8,
    show_default=True,
    type=click.IntRange(min=2),
    help="Number of raters (first 8 = the planted cast, extras near-clean).",
)
@click.option("--seed", default=20261125, show_default=True, type=int, help="Random seed.")
@click.option(
    "--raters-per-transcript",
    "per_transcript",
    default="2-3",
    show_default=True,
    callback=lambda ctx, param, value: _range(value),
    help="How many raters score each non-linked transcript: N or LO-HI.",
)
@click.option(
    "--linked-fraction",
    default=1.0 / 15.0,
    show_default="1/15, 20 of 300",
    type=click.FloatRange(0.0, 1.0),
    help="Share of transcripts scored by every rater.",
)
@click.option("--clean", is_flag=True, help="No planted effects: every rater unbiased, only noise.")
def command(
    out: Path,
    n_transcripts: int,
    n_raters: int,
    seed: int,
    per_transcript: tuple[int, int],
    linked_fraction: float,
    clean: bool,
) -> None:
    config = SimulationConfig(
        n_transcripts=n_transcripts,
        n_raters=n_raters,
        seed=seed,
        clean=clean,
        raters_per_transcript=per_transcript,
        linked_fraction=linked_fraction,
    )
    ds = simulate_dataset(config)
    written = write_dataset(ds, out)
    rows = {
        "transcripts.jsonl": f"{len(ds.transcripts)} transcripts",
        "ratings.csv": f"{len(ds.ratings)} ratings from {ds.ratings['rater_id'].nunique()} raters",
        "true_scores.csv": f"{len(ds.true_scores)} latent true scores",
        "planted.json": "planted parameters" + (" (clean: none planted)" if clean else ""),
        "README.md": "description, seed and command",
    }
    click.echo(f"SYNTHETIC dataset (seed {seed}) written to {out}/")
    for name, path in written.items():
        click.echo(f"  {path}  {rows[name]}")

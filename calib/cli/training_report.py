"""``calib training-report``: interviewers' accuracy against a reference set, certification,
progress over rounds and the group session sheet.
"""

from __future__ import annotations

import click

_HELP = """Accuracy of each interviewer against a round's reference scores; who is certified;
progress over rounds; a group session sheet for the discussion.

\b
Per interviewer: Cronbach's (1955) four accuracy components (elevation, differential
elevation, stereotype accuracy, differential accuracy; rooted, in levels, 0 = perfect),
exact and adjacent agreement with the reference, and the bias per dimension with a 95% CI,
in plain words. Certification gate (default): exact + adjacent >= 90% and |bias| <= 0.5
level on every dimension and the whole set scored; change it with --gate FILE (YAML/JSON,
keys min_within_one, max_abs_bias, min_coverage, min_exact, max_differential_accuracy).

\b
Rounds: give --store and --set once per round, in order (or one store with several sets,
or several stores with one set). With two or more rounds the report shows each
interviewer's change from first to last round with a bootstrap CI, and who moved inside
tolerance. The experts (or consensus raters) who set a reference are never scored on it.

\b
Writes OUT/report.html, OUT/report.md, OUT/session.html, OUT/session.md, OUT/tables/*.csv
and OUT/summary.json.

\b
Examples:
  calib training-report --store round1/ --set set/ --out training/
  calib training-report --store round1/ --set set/ --out training/ --rater r03
  calib training-report --store round1/ --set set1/ --store round2/ --set set2/ --out progress/
"""


@click.command("training-report", help=_HELP)
@click.option(
    "--store",
    "stores",
    required=True,
    multiple=True,
    type=click.Path(file_okay=False),
    help="Store with the round's interviewer scores (repeat per round).",
)
@click.option(
    "--set",
    "sets",
    required=True,
    multiple=True,
    type=click.Path(),
    help="Reference-set folder of the round (repeat per round).",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for the report."
)
@click.option(
    "--rater", "raters", multiple=True, metavar="ID", help="Only this interviewer (repeatable)."
)
@click.option(
    "--gate",
    "gate_file",
    type=click.Path(dir_okay=False, exists=True),
    help="Certification gate file (YAML or JSON).",
)
@click.option(
    "--n-boot", default=1000, show_default=True, help="Bootstrap resamples for progress CIs."
)
@click.option("--seed", default=0, show_default=True, help="Bootstrap seed.")
def command(stores, sets, out, raters, gate_file, n_boot, seed) -> None:
    from calib.errors import ConfigError
    from calib.io import read_ratings, read_store_rubric
    from calib.training import (
        Gate,
        build_training_report,
        load_gate,
        read_reference_set,
        write_training_report,
    )
    from calib.training._escape import plain

    stores, sets = list(stores), list(sets)
    if len(stores) != len(sets):
        if len(stores) == 1:
            stores = stores * len(sets)
        elif len(sets) == 1:
            sets = sets * len(stores)
        else:
            raise click.UsageError(
                f"give one --set per --store (got {len(stores)} stores and {len(sets)} sets), "
                "or a single --store or a single --set"
            )
    if n_boot < 100:
        raise click.BadParameter("use at least 100 resamples", param_hint="--n-boot")
    rubric = read_store_rubric(stores[0])
    for s in stores[1:]:
        other = read_store_rubric(s)
        if other.content_hash != rubric.content_hash:
            raise ConfigError(
                f"{s}: its rubric ({other.id} v{other.version}) differs from {stores[0]}'s "
                f"({rubric.id} v{rubric.version}); rounds must use the same rubric"
            )
    cache: dict[str, object] = {}
    rounds = []
    for store, set_path in zip(stores, sets, strict=True):
        if store not in cache:
            cache[store] = read_ratings(store)
        rounds.append((store, cache[store], read_reference_set(set_path)))
    gate = load_gate(gate_file) if gate_file else Gate()
    report = build_training_report(
        rounds, rubric, gate, list(raters) or None, n_boot=n_boot, seed=seed
    )
    page = write_training_report(report, out)
    click.echo(f"round(s): {len(report.rounds)}; gate: {'; '.join(gate.describe())}")
    for c in report.last.certification.itertuples(index=False):
        verdict = "certified" if c.certified else f"not certified: {plain(c.failed)}"
        click.echo(f"  {plain(c.rater_id)}: {verdict}")
    if report.progress is not None:
        moved = report.progress.loc[report.progress["moved_inside"], "rater_id"].tolist()
        click.echo(f"moved inside tolerance: {plain(', '.join(moved)) if moved else 'nobody'}")
    click.echo(f"wrote {page} and {page.parent / 'session.html'}")

"""``calib rubric``: show a rubric or what changed between two versions."""

from __future__ import annotations

import textwrap

import click
import pandas as pd

from calib.rubric import diff_rubrics, load_rubric


@click.group("rubric")
def command() -> None:
    """Inspect rubric files.

    \b
    Examples:
      calib rubric show rubrics/ml_interview_v1.yaml
      calib rubric show rubrics/ml_interview_v1.yaml --dimension tradeoffs
      calib rubric diff rubrics/ml_interview_v1.yaml rubrics/ml_interview_v2.yaml
    """


def _scale_text(scale) -> str:
    """'1-4 (4 levels: 1 Poor, ...)': the range and the labels that say more than the number."""
    named = [f"{k:g} {v}" for k, v in scale.labels.items() if str(v) != f"{k:g}"]
    return scale.describe()[:-1] + (": " + ", ".join(named) if named else "") + ")"


@command.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dimension", help="Show one dimension only (its id).")
@click.option(
    "--indicators/--no-indicators",
    default=True,
    show_default=True,
    help="List behavioural indicators.",
)
@click.option("--width", default=100, show_default=True, help="Wrap text at this width.")
def show(file, dimension, indicators, width) -> None:
    """Print a rubric as a readable table: dimensions, weights, and every level's anchor."""
    rubric = load_rubric(file)
    click.echo(
        f"{rubric.title}\n{rubric.id} v{rubric.version}  scale {_scale_text(rubric.scale)}"
        f"  hash {rubric.content_hash[:12]}\n"
    )
    dims = [rubric.dimension(dimension)] if dimension else rubric.dimensions
    for d in dims:
        own = f"  scale {_scale_text(d.scale)}" if d.scale is not None else ""
        click.echo(click.style(f"{d.id}", bold=True) + f"  {d.name}  (weight {d.weight:g}){own}")
        click.echo(textwrap.fill(d.description, width, initial_indent="  ", subsequent_indent="  "))
        w = max(len(f"{lvl.score:g}") for lvl in d.levels)
        for lvl in d.levels:
            head = f"  {lvl.score:>{w}g} {lvl.label:<11} "
            click.echo(
                textwrap.fill(
                    lvl.anchor, width, initial_indent=head, subsequent_indent=" " * len(head)
                )
            )
            if indicators:
                for ind in lvl.indicators:
                    click.echo(
                        textwrap.fill(
                            ind,
                            width,
                            initial_indent=" " * len(head) + "- ",
                            subsequent_indent=" " * (len(head) + 2),
                        )
                    )
        click.echo()


@command.command("diff")
@click.argument("before", type=click.Path(dir_okay=False))
@click.argument("after", type=click.Path(dir_okay=False))
@click.option("--width", default=100, show_default=True, help="Wrap text at this width.")
def diff(before, after, width) -> None:
    """Show what changed from BEFORE to AFTER: dimensions added/removed, anchors reworded, scale."""
    a, b = load_rubric(before), load_rubric(after)
    changes = diff_rubrics(a, b)
    click.echo(f"{a.id} v{a.version} -> {b.id} v{b.version}: {len(changes)} change(s)")
    for r in changes.itertuples(index=False):
        level = f"level {float(r.level):g}" if pd.notna(r.level) else None
        where = " ".join(str(x) for x in (r.dimension, level) if _present(x))
        click.echo(
            click.style(f"\n{r.change}", bold=True)
            + (f"  {where}" if where else "")
            + (f"  [{r.field}]" if _present(r.field) else "")
        )
        if _present(r.before):
            click.echo(textwrap.fill(f"- {r.before}", width, subsequent_indent="  "))
        if _present(r.after):
            click.echo(textwrap.fill(f"+ {r.after}", width, subsequent_indent="  "))
        if _present(r.similarity):
            click.echo(f"  (text similarity {r.similarity:.2f})")


def _present(value) -> bool:
    """Say whether a diff cell holds something (not None, NaN or <NA>: pandas 3 has all three)."""
    return value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value))

"""``calib quarantine``: list the input rows a store rejected, with file, row, field and reason."""

from __future__ import annotations

import csv
import io
import json
import re

import click
import pandas as pd

from calib._escape import csv_cell as _csv_safe  # the one CSV formula-neutraliser
from calib.io import read_quarantine

_HELP = """List the rows that ingest (or a grader) rejected, with file, row, field and reason.

\b
Every rejected row is kept in the store's quarantine table; this prints it. --reason keeps
rows whose reason (or field) contains TEXT (case-insensitive); --table keeps one table.
CSV and JSON include the raw record; CSV cells that a spreadsheet would run as a formula
(starting with = + - @) are prefixed with a single quote.

\b
Examples:
  calib quarantine --store store/
  calib quarantine --store store/ --reason "does not exist" --format csv > missing.csv
  calib quarantine --store store/ --format json

Exit status: 0 (also when the quarantine is empty), 1 when STORE is not a calib store.
"""

_COLUMNS = ["table", "source", "row", "field", "reason"]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _plain(value: str) -> str:
    """Terminal-safe text: control characters (escape sequences) shown as '?'."""
    return _CONTROL.sub("?", value)


@click.command("quarantine", help=_HELP)
@click.option("--store", required=True, type=click.Path(file_okay=False), help="Store folder.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--reason", metavar="TEXT", help="Only rows whose reason or field contains TEXT.")
@click.option(
    "--table",
    "table",
    type=click.Choice(["transcripts", "ratings"]),
    help="Only rows rejected from this table.",
)
@click.option(
    "--limit", type=int, default=None, help="Print at most this many rows (table format)."
)
def command(store, fmt, reason, table, limit) -> None:
    q = read_quarantine(store)
    if reason:
        needle = reason.casefold()
        hay = q["reason"].astype(object).fillna("") + " " + q["field"].astype(object).fillna("")
        q = q[hay.map(lambda s: needle in str(s).casefold()).to_numpy(dtype=bool)]
    if table:
        q = q[(q["table"] == table).to_numpy(dtype=bool)]
    q = q.sort_values(["table", "source", "row"], kind="stable", na_position="first")
    if fmt == "json":
        records = [
            {
                **{c: (None if _text(r[c]) == "" else r[c]) for c in _COLUMNS},
                "row": None if pd.isna(r["row"]) else int(r["row"]),
                "record": _record(r["record"]),
            }
            for r in q.to_dict("records")
        ]
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([*_COLUMNS, "record"])
        for r in q.to_dict("records"):
            w.writerow([_csv_safe(_text(r[c])) for c in [*_COLUMNS, "record"]])
        click.echo(buf.getvalue(), nl=False)
        return
    if q.empty:
        click.echo(
            f"{store}: the quarantine is empty" + (" for this filter" if reason or table else "")
        )
        return
    shown = q if limit is None else q.head(limit)
    rows = [
        [
            _plain(_text(r["table"])),
            _plain(_text(r["source"])),
            _text(r["row"]),
            _plain(_text(r["field"])) or "(row)",
            _plain(" ".join(_text(r["reason"]).split())),
        ]
        for r in shown.to_dict("records")
    ]
    widths = [max(len(h), *(len(x[i]) for x in rows)) for i, h in enumerate(_COLUMNS[:4])]
    widths = [min(w, 60) for w in widths]
    head = "  ".join(h.ljust(w) for h, w in zip(_COLUMNS[:4], widths, strict=False)) + "  reason"
    click.echo(head)
    for x in rows:
        cells = [
            c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(x[:4], widths, strict=False)
        ]
        click.echo("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + "  " + x[4])
    click.echo(
        f"{len(q):,} quarantined row(s)"
        + (f", {len(q) - len(shown):,} not shown (--limit)" if len(shown) < len(q) else "")
        + "; by reason: "
        + "; ".join(f"{n} x {k}" for k, n in _reason_counts(q).items())
    )


def _reason_counts(q: pd.DataFrame) -> dict[str, int]:
    from calib.io._ingest import _reason_class

    return q["reason"].astype(str).map(_reason_class).value_counts().head(10).to_dict()


def _record(text: object):
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text

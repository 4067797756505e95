"""Turn report objects into HTML (jinja2, autoescaped) and Markdown, and write output folders.

All text that reaches HTML goes through jinja2's autoescaping; figures are embedded as
``data:image/svg+xml;base64`` images, which browsers never run scripts from, so neither
transcript text nor labels drawn inside a figure can become live markup. Markdown output
HTML-escapes every cell for the same reason (most Markdown renderers pass raw HTML through).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from calib._escape import md_code, write_csv
from calib._escape import md_escape as _md_escape
from calib.report.plots import ReportFigure

__all__ = [
    "environment",
    "figure_src",
    "display_table",
    "write_tables",
    "write_figures",
    "write_json",
    "markdown_table",
    "file_sha256",
]


def environment() -> jinja2.Environment:
    """The jinja2 environment for calib templates.

    Autoescape is ON for every HTML template. Markdown templates (``*.md.j2``) escape
    explicitly with the ``md`` filter instead, because HTML entity-escaping a Markdown
    table twice would garble it; every untrusted field in them goes through ``| md``.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("calib.report", "templates"),
        autoescape=lambda name: not (name or "").endswith(".md.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["figure_src"] = figure_src
    env.filters["md"] = md_escape
    env.filters["md_code"] = md_code
    env.filters["pct"] = lambda x: (
        "n/a" if x is None or not math.isfinite(float(x)) else f"{100 * float(x):.0f}%"
    )
    env.filters["num"] = _fmt
    env.filters["brief"] = lambda x, n=180: (lambda t: t if len(t) <= n else t[: n - 1] + "…")(
        _fmt(x)
    )
    return env


def figure_src(fig: ReportFigure) -> str:
    """``data:`` URL of a figure's SVG (base64, so no character can close the attribute)."""
    return "data:image/svg+xml;base64," + base64.b64encode(fig.svg.encode("utf-8")).decode("ascii")


def md_escape(text: Any) -> str:
    """Escape untrusted text for a Markdown table cell or paragraph (:func:`calib._escape.md_escape`).

    HTML-escaped and every Markdown metacharacter backslash-escaped: no link, image, autolink,
    emphasis or raw HTML can come out of ids, metadata, rubric text or rationales.
    """
    return _md_escape(text)


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "–"
        if float(x).is_integer():  # counts and scale levels stored as float
            return str(int(x))
        return f"{x:.3f}" if abs(x) < 100 else f"{x:.0f}"
    if isinstance(x, (list, tuple)):
        return ", ".join(_fmt(v) for v in x)
    if isinstance(x, dict):
        return "; ".join(f"{k} {_fmt(v)}" for k, v in x.items())
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return str(x)


#: Column labels for the page (the table files keep the raw names).
COLUMN_LABELS = {
    "rater_id": "rater",
    "transcript_id": "transcript",
    "question_type": "question type",
    "alpha_low": "alpha 95% CI low",
    "alpha_high": "alpha 95% CI high",
    "component": "design group",
    "transcripts": "transcripts rated",
    "low": "lower level",
    "high": "higher level",
    "count": "pairs",
    "pairs_disagreeing": "disagreeing pairs",
    "pairs_total": "all pairs",
    "share_within": "share of the dimension's disagreements",
    "share_all": "share of all disagreements",
    "adjacent": "adjacent levels",
    "pairs": "rating pairs",
    "residual_ms": "dimension-specific disagreement (mean square)",
    "ratio": "vs other dimensions (ratio)",
    "disagreement_rate": "share of pairs that differ",
    "raters_needed": "raters needed",
    "current_raters": "raters now (median per transcript)",
    "reliability_now": "reliability of today's averaged scores (Phi)",
    "n_levels": "levels",
    "level": "level",
    "share": "share of ratings",
    "dimension_a": "dimension A",
    "dimension_b": "dimension B",
    "rho": "Spearman rho",
    "n_n": "ratings",
}

_FACETS = (("transcript_id", "transcript"), ("rater_id", "rater"), (",e", " + residual"))


#: Columns whose values are dimension ids; the page shows the rubric's names there.
_DIMENSION_COLUMNS = ("dimension", "dimension_a", "dimension_b")


def humanize(df: pd.DataFrame, dimension_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Page view of a table: human column labels; G-study source names in words; dimension
    ids replaced by the rubric's names when ``dimension_names`` is given.

    Example
    -------
    >>> humanize(pd.DataFrame({"rater_id": ["r1"], "n_units": [3]})).columns.tolist()
    ['rater', 'n units']
    >>> humanize(pd.DataFrame({"dimension": ["data", "all"]}), {"data": "Data"}).iloc[:, 0].tolist()
    ['Data', 'all']
    """
    out = df.copy()
    if dimension_names:
        for col in _DIMENSION_COLUMNS:
            if col in out.columns:
                out[col] = [
                    dimension_names.get(v, v) if isinstance(v, str) else v for v in out[col]
                ]
    if "source" in out.columns:
        src = out["source"].astype(str)
        for raw, word in _FACETS:
            src = src.str.replace(raw, word, regex=False)
        out["source"] = src.str.replace(" x ", " × ", regex=False)
    out.columns = [COLUMN_LABELS.get(str(c), str(c).replace("_", " ")) for c in out.columns]
    return out


def display_table(df: pd.DataFrame, max_rows: int | None) -> dict[str, Any]:
    """Formatted view of a table for a template: column names, string cells, truncation count.

    ``max_rows=None`` shows every row (flags and other tables that must never be cut).
    """
    shown = df if max_rows is None else df.head(max_rows)
    rows = [[_fmt(v) for v in row] for row in shown.itertuples(index=False, name=None)]
    return {
        "columns": [str(c) for c in df.columns],
        "rows": rows,
        "hidden": 0 if max_rows is None else max(0, len(df) - max_rows),
    }


def markdown_table(t: dict[str, Any]) -> str:
    """Pipe table from :func:`display_table` output (cells escaped)."""
    if not t["rows"]:
        return "(none)"
    head = "| " + " | ".join(md_escape(c) for c in t["columns"]) + " |"
    sep = "|" + "|".join("---" for _ in t["columns"]) + "|"
    body = ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in t["rows"]]
    extra = [f"\n*{t['hidden']} more rows in the table files.*"] if t["hidden"] else []
    return "\n".join([head, sep, *body, *extra])


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(
                lambda v: (
                    v
                    if v is None or isinstance(v, str)
                    else (
                        json.dumps(v, sort_keys=True, default=str)
                        if isinstance(v, (list, dict, tuple))
                        else str(v)
                    )
                )
            )
    return out.reset_index(drop=True)


def _clear(folder: Path, patterns: tuple[str, ...]) -> None:
    """Remove files a previous report left in ``folder`` so no stale table or figure survives."""
    for pat in patterns:
        for f in folder.glob(pat):
            if f.is_file():
                f.unlink()


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> list[str]:
    """Write each table as Parquet and CSV (deterministic bytes for identical frames)."""
    folder.mkdir(parents=True, exist_ok=True)
    _clear(folder, ("*.parquet", "*.csv"))
    names = []
    for name in sorted(tables):
        df = _parquet_safe(tables[name])
        df.to_parquet(folder / f"{name}.parquet", index=False, compression="zstd")
        # Parquet keeps raw values; the CSV is for spreadsheets: formula cells neutralised
        write_csv(df, folder / f"{name}.csv", float_format="%.10g")
        names.append(name)
    return names


def write_figures(figures: list[ReportFigure], folder: Path) -> list[str]:
    """Write each figure's SVG to ``folder/<key>.svg``."""
    folder.mkdir(parents=True, exist_ok=True)
    _clear(folder, ("*.svg",))
    for f in figures:
        (folder / f"{f.key}.svg").write_text(f.svg, encoding="utf-8")
    return [f"{f.key}.svg" for f in figures]


def write_json(obj: Any, path: Path) -> None:
    """Stable JSON: sorted keys, 2-space indent, NaN written as null, trailing newline."""
    path.write_text(
        json.dumps(_clean(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
        + "\n",
        encoding="utf-8",
    )


def _clean(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (bool, np.bool_)):
        return bool(o)
    if isinstance(o, (int, np.integer)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return None if not np.isfinite(o) else round(float(o), 6)
    if isinstance(o, Path):
        return o.as_posix()
    return o


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()

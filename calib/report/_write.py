"""Write a calibration report folder: HTML, Markdown, summary.json, figures, tables, run.json."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from calib import __version__
from calib.report._inputs import ReportInputs
from calib.report._model import ReportResults
from calib.report.render import (
    display_table,
    environment,
    humanize,
    markdown_table,
    write_figures,
    write_json,
    write_tables,
)
from calib.report.results import ReportOptions

__all__ = [
    "SUMMARY_SCHEMA_VERSION",
    "VOLATILE_COLUMNS",
    "store_fingerprint",
    "summary_dict",
    "write_report",
]

#: Version of the ``summary.json`` layout described by ``docs/summary.schema.json``.
SUMMARY_SCHEMA_VERSION = "1.0"


def summary_dict(results: ReportResults) -> dict[str, Any]:
    """The ``summary.json`` content (see ``docs/summary.schema.json``).

    Example
    -------
    >>> from calib.report._model import ReportResults
    >>> summary_dict(ReportResults({"synthetic": True}, [], [], []))["schema_version"]
    '1.0'
    """
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "kind": "calibration_report",
        **results.meta,
        "headline": list(results.headline),
        "audiences": [dict(a) for a in results.audiences],
        "sections": {
            s.key: {
                "title": s.title,
                "status": s.status,
                "takeaway": s.takeaway,
                "notes": list(s.notes),
                "not_computed": list(s.missing),
                "facts": s.facts,
                "tables": sorted(f"{s.key}__{n}" for n in s.tables),
                "figures": [f"{f.key}.svg" for f in s.figures],
            }
            for s in results.sections
        },
        "recommendations": [
            {"rank": i + 1, **r.to_dict()} for i, r in enumerate(results.recommendations)
        ],
    }


#: Columns that record *when* or *how fast* something ran (or a label derived from the time),
#: not what the data is: left out of the store fingerprints in ``run.json``.
VOLATILE_COLUMNS = ("run_id", "graded_at", "created_at", "summary_json", "latency_s", "elapsed_s")


def store_fingerprint(store: str | Path) -> dict[str, dict[str, Any]]:
    """Content fingerprint of every table of a store: ``{table: {"rows": n, "sha256": hex}}``.

    Independent of part-file names, part order and write times: each table's rows are read,
    the :data:`VOLATILE_COLUMNS` are dropped, machine ratings' ``rated_at`` (the time a grader
    ran) is blanked, the rows are sorted, and the sha256 is taken of their canonical hash. Two
    stores built from the same inputs by the same commands have the same fingerprint, so two
    identical ``calib demo`` runs write identical ``run.json`` files.

    Example
    -------
    >>> store_fingerprint("reports/demo/store")["ratings"]["rows"]  # doctest: +SKIP
    5856
    """
    import pandas as pd

    from calib.io import read_table, table_names

    out: dict[str, dict[str, Any]] = {}
    for name in table_names(store):
        df = read_table(store, name)
        df = df.drop(columns=[c for c in VOLATILE_COLUMNS if c in df.columns])
        if name == "ratings" and {"rated_at", "rater_type"} <= set(df.columns):
            df["rated_at"] = df["rated_at"].where(df["rater_type"] == "human")
        text = df.astype(str).reindex(columns=sorted(df.columns))
        text = text.sort_values(list(text.columns), kind="stable").reset_index(drop=True)
        h = hashlib.sha256(",".join(text.columns).encode("utf-8"))
        h.update(pd.util.hash_pandas_object(text, index=False).to_numpy().tobytes())
        out[name] = {"rows": int(len(df)), "sha256": h.hexdigest()}
    return out


def _store_label(store: Path, out: Path) -> str:
    """The store's path relative to the report folder when inside it (``store`` for the demo),
    else as given: no machine-specific absolute path for a store that travels with its report.
    """
    try:
        return store.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return store.as_posix()


def _with_figure_notes(results: ReportResults) -> ReportResults:
    """A copy where each figure that could not be drawn is a note of its section instead.

    The plot helpers never raise (see :mod:`calib.report.plots`); a figure with ``error`` set
    becomes "Figure not drawn: <title> (<reason>)." in its section's notes, so one bad figure
    neither takes down its section nor leaves a broken picture. The input is not modified.
    """
    if not any(f.error for s in results.sections for f in s.figures):
        return results
    sections = []
    for s in results.sections:
        failed = [f for f in s.figures if f.error]
        if not failed:
            sections.append(s)
            continue
        notes = list(s.notes) + [
            f"Figure not drawn: {f.title or f.key} ({f.error})." for f in failed
        ]
        sections.append(
            dataclasses.replace(s, figures=[f for f in s.figures if not f.error], notes=notes)
        )
    return dataclasses.replace(results, sections=sections)


def _view(results: ReportResults) -> list[dict[str, Any]]:
    out = []
    for s in results.sections:
        shown = []
        for cap, name, n, *cols in s.show:
            if name in s.tables:
                t = s.tables[name]
                if cols and callable(cols[0]):  # a display view (e.g. estimates with their CIs)
                    t = cols[0](t)
                elif cols and cols[0]:  # keep only requested columns the analysis actually returned
                    t = t[[c for c in cols[0] if c in t.columns]]
                names = results.meta.get("dimension_names")
                shown.append({"caption": cap, **display_table(humanize(t, names), n)})
        out.append({"s": s, "tables": shown})
    return out


def write_report(
    results: ReportResults,
    out: str | Path,
    inputs: ReportInputs | list[ReportInputs] | None = None,
    options: ReportOptions | None = None,
    template: str = "report",
) -> Path:
    """Write every output file of a report into ``out`` and return the HTML path.

    Parameters
    ----------
    results : ReportResults
    out : path
        Output folder (created).
    inputs : ReportInputs or list of ReportInputs, optional
        Used for ``run.json`` (store paths and input file hashes).
    options : ReportOptions, optional
        Resolved options for ``run.json``.
    template : str
        Template stem under ``calib/report/templates`` (``report``, ``feedback``, ``compare``).

    Returns
    -------
    Path
        ``out/report.html``.

    Example
    -------
    >>> from calib.report import build_results, load_inputs  # doctest: +SKIP
    >>> inputs = load_inputs("reports/demo/store")  # doctest: +SKIP
    >>> write_report(build_results(inputs), "reports/latest", inputs=inputs)  # doctest: +SKIP
    PosixPath('reports/latest/report.html')
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = _with_figure_notes(results)
    tables = {f"{s.key}__{n}": df for s in results.sections for n, df in s.tables.items()}
    write_tables(tables, out / "tables")
    figures = [f for s in results.sections for f in s.figures]
    write_figures(figures, out / "figures")
    summary = summary_dict(results)
    stores = [
        i
        for i in (inputs if isinstance(inputs, (list, tuple)) else [inputs])
        if i is not None and i.store is not None
    ]
    write_json(summary, out / "summary.json")
    run = {
        "calib_version": __version__,
        "command": template,
        "rubric": results.meta.get("rubric"),
        "options": (options or ReportOptions()).to_dict(),
        "seed": (options or ReportOptions()).seed,
        "stores": [_store_label(i.store, out) for i in stores],
        # content fingerprints, not file hashes: part names and write times vary between
        # identical runs (see store_fingerprint)
        "input_hashes": {_store_label(i.store, out): store_fingerprint(i.store) for i in stores},
        "synthetic": results.meta.get("synthetic"),
    }
    write_json(run, out / "run.json")
    env = environment()
    ctx = {
        "meta": results.meta,
        "headline": results.headline,
        "audiences": results.audiences,
        "sections": _view(results),
        "recs": [{"rank": i + 1, **r.to_dict()} for i, r in enumerate(results.recommendations)],
        "markdown_table": markdown_table,
    }
    html_path = out / "report.html"
    html_path.write_text(env.get_template(f"{template}.html.j2").render(**ctx), encoding="utf-8")
    (out / "report.md").write_text(
        env.get_template(f"{template}.md.j2").render(**ctx), encoding="utf-8"
    )
    return html_path

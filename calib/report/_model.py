"""Data model of a report: sections holding facts, tables and figures, plus recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from calib.report.plots import ReportFigure
from calib.report.recommend import Recommendation

__all__ = ["Section", "ReportResults", "NOT_COMPUTED", "COMPUTED", "PARTIAL"]

COMPUTED, PARTIAL, NOT_COMPUTED = "computed", "partial", "not computed"


@dataclass
class Section:
    """One report section.

    Attributes
    ----------
    key : str
        Stable identifier (``summary.json`` key, HTML anchor, table-file prefix).
    title : str
        Heading.
    takeaway : str
        One-line conclusion shown first.
    notes : list of str
        Plain-language notes (caveats, analysis warnings).
    missing : list of str
        Every "Not computed: <what> (<reason>)" line; drives :attr:`status`.
    facts : dict
        JSON-serialisable numbers for ``summary.json``.
    tables : dict of str to DataFrame
        Written to ``tables/<key>__<name>.parquet|csv``.
    show : list of tuple
        (caption, table name, max rows[, columns]) shown in the HTML/Markdown, in order;
        ``columns`` selects what is displayed, or is a callable returning the displayed view
        (the table files keep every column).
    figures : list of ReportFigure
    """

    key: str
    title: str
    takeaway: str = ""
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    show: list[tuple] = field(default_factory=list)
    figures: list[ReportFigure] = field(default_factory=list)

    def not_computed(self, what: str, reason: str) -> None:
        """Record that part of the section could not be computed, and why."""
        self.missing.append(f"Not computed: {what} ({reason}).")

    @property
    def status(self) -> str:
        """``computed``, ``partial`` (some parts not computed) or ``not computed``."""
        if not self.missing:
            return COMPUTED
        return PARTIAL if (self.tables or self.figures) else NOT_COMPUTED


@dataclass
class ReportResults:
    """Everything a calibration report shows.

    Attributes
    ----------
    meta : dict
        Rubric id/version/hash, counts, synthetic flag, options.
    sections : list of Section
    recommendations : list of Recommendation
    headline : list of str
        The three headline findings (also printed by ``calib demo``).
    audiences : list of dict
        The first screen of a full report: one answer per reader (``audience``,
        ``question``, ``answer``, ``section`` to read next). Empty for feedback and
        comparison reports, which show ``headline`` instead.
    """

    meta: dict[str, Any]
    sections: list[Section]
    recommendations: list[Recommendation]
    headline: list[str]
    audiences: list[dict[str, str]] = field(default_factory=list)

    def section(self, key: str) -> Section:
        """The section with ``key`` (KeyError if absent)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

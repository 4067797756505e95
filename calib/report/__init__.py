"""Calibration reports: assemble analysis results into HTML, Markdown, JSON, figures and tables.

The report reads a store, calls the analysis stages (:mod:`calib.agreement`,
:mod:`calib.raters`, :mod:`calib.graders`), adds descriptive counts of its own, applies the
recommendation rules of :mod:`calib.report.recommend`, and writes a self-contained folder.
Sections whose analysis is unavailable say "Not computed" with the reason.

Examples
--------
>>> from calib.report import load_inputs, build_results, write_report  # doctest: +SKIP
>>> inputs = load_inputs("store/")  # doctest: +SKIP
>>> html = write_report(build_results(inputs), "reports/latest", inputs=inputs)  # doctest: +SKIP
"""

from calib.report._inputs import ReportInputs, load_inputs
from calib.report._model import ReportResults, Section
from calib.report._write import SUMMARY_SCHEMA_VERSION, summary_dict, write_report
from calib.report.compare import compare_inputs
from calib.report.demo import DemoResult, run_demo
from calib.report.feedback import build_feedback
from calib.report.plots import OKABE_ITO, ReportFigure
from calib.report.recommend import THRESHOLDS, Recommendation, recommend, verdict
from calib.report.results import ReportOptions, build_results

__all__ = [
    "DemoResult",
    "OKABE_ITO",
    "SUMMARY_SCHEMA_VERSION",
    "THRESHOLDS",
    "Recommendation",
    "ReportFigure",
    "ReportInputs",
    "ReportOptions",
    "ReportResults",
    "Section",
    "build_feedback",
    "build_results",
    "compare_inputs",
    "load_inputs",
    "recommend",
    "run_demo",
    "summary_dict",
    "verdict",
    "write_report",
]

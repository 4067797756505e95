"""The ``calib`` command: a thin layer that parses options, calls the stages and prints.

Each subcommand lives in its own module under :mod:`calib.cli` and is registered in
``_COMMAND_MODULES``; a module exposes one click command (or group) named ``command``.
Exit codes: 0 success, 1 validation failure (under ``--strict``) or a calib error,
2 usage error (click's default).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import warnings

import click

from calib import __version__
from calib.errors import CalibError, CalibWarning

# command name -> (module, one-line help). Modules are imported only when their command runs,
# so `calib --help` does not pay for pandas/scipy imports. Order is the order in --help.
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("calib.cli.demo", "Run the whole pipeline on the shipped SYNTHETIC sample data."),
    "ingest": (
        "calib.cli.ingest",
        "Validate transcripts and ratings against a rubric; add them to a store.",
    ),
    "quarantine": (
        "calib.cli.quarantine",
        "List the rows a store rejected, with file, row, field and reason.",
    ),
    "rubric": ("calib.cli.rubric", "Show a rubric, or diff two rubric versions."),
    "simulate": (
        "calib.cli.simulate",
        "Write synthetic transcripts and ratings with planted rater effects.",
    ),
    "agree": ("calib.cli.agree", "Inter-rater agreement per rubric dimension, with 95% CIs."),
    "raters": (
        "calib.cli.raters",
        "Rater effects: severity, fit, halo, central tendency, drift, subgroups.",
    ),
    "grade": ("calib.cli.grade", "Grade a store's transcripts with a rule, length or LLM grader."),
    "runs": ("calib.cli.runs", "List the grader runs in a store, or drop one (--drop RUN_ID)."),
    "calibrate-grader": (
        "calib.cli.calibrate_grader",
        "Fit the rule grader's thresholds to the human consensus.",
    ),
    "train-grader": (
        "calib.cli.train_grader",
        "Fit the trained grader (per-dimension model on rule features) to human scores.",
    ),
    "validate-grader": (
        "calib.cli.validate_grader",
        "Is a grader fit to stand in for a human? Pass/fail per dimension.",
    ),
    "report": (
        "calib.cli.report",
        "Write a calibration report (HTML, Markdown, JSON) or interviewer feedback.",
    ),
    "compare": (
        "calib.cli.compare",
        "Compare two stores: reliability and rater effects before vs after.",
    ),
    "reference-set": (
        "calib.cli.reference_set",
        "Training: pick reference transcripts and scores for a calibration round.",
    ),
    "packet": (
        "calib.cli.packet",
        "Training: write the offline HTML scoring packet for a round (blind).",
    ),
    "training-report": (
        "calib.cli.training_report",
        "Training: accuracy against the reference, certification and progress.",
    ),
}

_EPILOG = """\b
Quick start (synthetic sample data shipped in datasets/sample/):
  calib demo
  calib ingest --transcripts datasets/sample/transcripts.jsonl \\
               --ratings datasets/sample/ratings.csv \\
               --rubric rubrics/ml_interview_v1.yaml --store store/
  calib agree --store store/

Run 'calib COMMAND --help' for a command's options and examples.
"""


class _Group(click.Group):
    """Lazy click group: lists commands from ``_COMMANDS``, imports one only when it runs,
    and maps :class:`CalibError` to exit code 1.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in _COMMANDS.items() if _available(module)]

    def get_command(self, ctx: click.Context, name: str):
        if name not in _COMMANDS or not _available(_COMMANDS[name][0]):
            return None
        command = importlib.import_module(_COMMANDS[name][0]).command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        with console_warnings():
            try:
                return super().invoke(ctx)
            except CalibError as exc:
                click.echo(f"error: {exc}", err=True)
                ctx.exit(1)


@contextlib.contextmanager
def console_warnings():
    """Show warnings the way a command-line user should see them, while a command runs.

    * calib's own :class:`~calib.errors.CalibWarning`: ``warning: <message>`` on one line
      (newlines folded), without a source path or code line, each distinct message once.
    * any other warning (Python, numpy, pandas, matplotlib): not printed. calib fixes such
      warnings at their source and its tests run every command with warnings turned into
      errors; set ``CALIB_SHOW_WARNINGS=1`` to see them in Python's usual format.

    Only the display hook (:func:`warnings.showwarning`) is replaced: warning *filters* are
    left alone, so ``python -W error`` or ``PYTHONWARNINGS=error`` still turn warnings into
    errors. The previous hook is restored on exit.
    """
    previous = warnings.showwarning
    seen: set[str] = set()
    show_all = os.environ.get("CALIB_SHOW_WARNINGS", "") not in ("", "0")

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, CalibWarning):
            text = " ".join(str(message).split())
            if text not in seen:
                seen.add(text)
                click.echo(f"warning: {text}", err=True)
        elif show_all:
            text = warnings.formatwarning(message, category, filename, lineno, line)
            click.echo(text, err=True, nl=False)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=_Group, epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="calib")
def cli() -> None:
    """calib: measure how consistently interview answers are scored.

    Ingest human-rated interview transcripts, grade them with rule-based or LLM graders,
    measure inter-rater agreement and rater bias per rubric dimension, and write
    calibration reports.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point for the ``calib`` console script."""
    try:
        cli.main(args=argv, prog_name="calib", standalone_mode=True)
    except SystemExit as exc:  # click exits via SystemExit; normalise the code
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

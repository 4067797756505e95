"""The ``calib`` command: a thin layer that parses options, calls the stages and prints.

Each subcommand lives in its own module under :mod:`calib.cli` and is registered in
``_COMMAND_MODULES``; a module exposes one click command (or group) named ``command``.
Exit codes: 0 success, 1 validation failure (under ``--strict``) or a calib error,
2 usage error (click's default).
"""

from __future__ import annotations

import importlib
import sys

import click

from calib import __version__
from calib.errors import CalibError

# module name -> attribute holding the click command. Order is the order in --help.
_COMMAND_MODULES: list[str] = [
    "calib.cli.demo",
    "calib.cli.ingest",
    "calib.cli.rubric",
    "calib.cli.simulate",
    "calib.cli.agree",
    "calib.cli.raters",
    "calib.cli.grade",
    "calib.cli.calibrate_grader",
    "calib.cli.validate_grader",
    "calib.cli.report",
    "calib.cli.compare",
]

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
    """Click group that lists commands in registration order and maps CalibError to exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CalibError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="calib")
def cli() -> None:
    """calib: measure how consistently interview answers are scored.

    Ingest human-rated interview transcripts, grade them with rule-based or LLM graders,
    measure inter-rater agreement and rater bias per rubric dimension, and write
    calibration reports.
    """


def _register() -> None:
    for module_name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command not built yet in this checkout
                continue
            raise
        cli.add_command(module.command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point for the ``calib`` console script."""
    try:
        cli.main(args=argv, prog_name="calib", standalone_mode=True)
    except SystemExit as exc:  # click exits via SystemExit; normalise the code
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

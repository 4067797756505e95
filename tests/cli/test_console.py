"""The CLI's warning display (issue 9 part 7): calib warnings once, on one line, no source path;
other warnings never printed (they are fixed at their source; tests run with them as errors)."""

import warnings

import click
import pytest
from click.testing import CliRunner

from calib.cli.main import console_warnings
from calib.errors import CalibWarning


def _emit():
    warnings.warn("ICC undefined; only one unit\n  rated twice", CalibWarning, stacklevel=1)
    warnings.warn("ICC undefined; only one unit\n  rated twice", CalibWarning, stacklevel=1)
    warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
    click.echo("done")


@click.command()
def _cmd():
    with console_warnings():
        _emit()


def test_calib_warning_one_line_once_no_path_and_third_party_hidden(monkeypatch):
    monkeypatch.delenv("CALIB_SHOW_WARNINGS", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the hook itself must deduplicate
        res = CliRunner().invoke(_cmd, [])
    assert res.exit_code == 0
    assert res.stderr == "warning: ICC undefined; only one unit rated twice\n"
    assert res.stdout == "done\n"


def test_show_all_warnings_on_request(monkeypatch):
    monkeypatch.setenv("CALIB_SHOW_WARNINGS", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        res = CliRunner().invoke(_cmd, [])
    assert "RuntimeWarning: Mean of empty slice" in res.stderr


def test_filters_are_left_alone():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning), console_warnings():
            warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)


def test_hook_restored():
    before = warnings.showwarning
    with console_warnings():
        assert warnings.showwarning is not before
    assert warnings.showwarning is before

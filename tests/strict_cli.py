"""Run ``calib`` commands in-process with every non-calib warning turned into an error.

Issue 9, part 7: no Python, numpy, pandas or matplotlib warning may reach the console. Under
:func:`run_strict` any such warning raised while a command runs becomes an exception (so the
command fails and the test names the source); calib's own CalibWarning stays a warning and
must appear as one ``warning: ...`` line without a source path.
"""

from __future__ import annotations

import re
import warnings

from click.testing import CliRunner, Result

from calib.cli.main import cli
from calib.errors import CalibWarning

_PATHLIKE = re.compile(r"\.py:\d+|Traceback|Warning:")


def run_strict(args: list[str], expect_exit: int = 0) -> Result:
    """Invoke ``calib ARGS`` with warnings as errors (CalibWarning excepted); check the console.

    Asserts the exit code, that no traceback or third-party warning text is printed, and that
    every calib warning is a single ``warning: ...`` line printed once.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("always", CalibWarning)
        res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)
    detail = f"calib {' '.join(map(str, args))}\n{res.output}\n{res.stderr}"
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback

        detail += "".join(traceback.format_exception(res.exception))
    assert res.exit_code == expect_exit, detail
    assert not _PATHLIKE.search(res.stderr), detail
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: ")]
    assert len(lines) == len(set(lines)), f"a warning printed twice:\n{res.stderr}"
    return res

"""The README's test command, .ci/run and the [dev] extra test what users install (issue 11.15)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    cmds = [b.strip() for b in blocks if "pytest" in b]
    assert len(cmds) == 1, cmds
    return cmds[0]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    cmd = _readme_test_command()
    assert cmd in ci.splitlines()


def test_no_oracle_pins_hold_dependencies_back():
    cmd = _readme_test_command()
    assert "--no-deps" not in cmd and "irrCAC" not in cmd
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
        # no upper bound on any dependency: CI must test today's newest releases
        assert "<" not in spec, spec
        assert not spec.lower().startswith("irrcac"), spec

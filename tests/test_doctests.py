"""The Examples in every calib module's docstrings run and print what they say.

Modules are discovered by walking the package, so a new module is covered without listing it.
Examples that need a store on disk are marked ``# doctest: +SKIP`` in their docstrings.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import calib


def _modules() -> list[str]:
    names = ["calib"]
    for info in pkgutil.walk_packages(calib.__path__, prefix="calib."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_every_subpackage_is_walked():
    for sub in ("agreement", "raters", "io", "graders", "report", "rubric", "simulate", "cli"):
        assert f"calib.{sub}" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra that is not installed
        pytest.skip(f"{name} needs an optional dependency: {exc}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0

"""The Examples in calib.agreement's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["__init__", "_alpha", "_kappa", "_icc", "_bootstrap", "_table", "_human_machine"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(
        "calib.agreement" if name == "__init__" else f"calib.agreement.{name}"
    )
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0

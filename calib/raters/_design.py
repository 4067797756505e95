"""Validate a long ratings table and encode it as integer index arrays; check connectedness.

Every rater-effect model in :mod:`calib.raters` starts here, so the validation policy (which
rows are dropped, which are errors) lives in one place.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from calib.errors import CalibWarning, DataValidationError
from calib.io import anonymous_mask

__all__ = ["connectedness", "DisconnectedDesignError", "RatersNotIdentifiedError", "NOT_IDENTIFIED"]

REQUIRED = ("transcript_id", "rater_id", "dimension", "score")

#: What every rater-effect function says when the ratings carry no rater identities.
NOT_IDENTIFIED = "not computed: raters are not identified"


class RatersNotIdentifiedError(DataValidationError):
    """The ratings are anonymous (annotation slots): rater effects cannot be computed.

    A rating is anonymous when its ``rater_id`` is missing (see docs/data-model.md):
    agreement is still computed over the ratings of each transcript, but severity, fit,
    halo, drift and the other rater effects need to know who gave which rating.
    """


def anonymous_rows(ratings: pd.DataFrame) -> pd.Series:
    """Mark ratings without a rater identity (missing ``rater_id`` or an ``anon:`` slot).

    See :data:`calib.io.ANONYMOUS_PREFIX` and docs/data-model.md.
    """
    if "rater_id" not in ratings.columns:
        return pd.Series(True, index=ratings.index)
    return pd.Series(anonymous_mask(ratings["rater_id"]).to_numpy(), index=ratings.index)


class DisconnectedDesignError(DataValidationError):
    """The rating design splits into subsets that cannot be put on one scale.

    Attributes
    ----------
    subsets : pandas.DataFrame
        The output of :func:`connectedness` (``subset``, ``facet``, ``element``).
    """

    def __init__(self, message: str, subsets: pd.DataFrame):
        self.subsets = subsets
        super().__init__(message)


@dataclass(frozen=True)
class Encoded:
    """Integer-coded ratings: one entry per usable rating, labels in sorted (stable) order."""

    frame: pd.DataFrame  # validated rows actually used (original index kept)
    t: np.ndarray
    r: np.ndarray
    d: np.ndarray
    score: np.ndarray  # float scores as given
    transcripts: np.ndarray  # labels, sorted
    raters: np.ndarray
    dimensions: np.ndarray


def _row(label) -> str:
    """Row label as the user would write it (numpy scalars unwrapped)."""
    return repr(label.item() if hasattr(label, "item") else label)


def validate_ratings(
    ratings: pd.DataFrame, *, arg: str = "ratings", extra: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Check columns, drop unscored rows (with a warning), reject duplicates.

    Returns a copy with ``transcript_id``, ``rater_id``, ``dimension`` as str and ``score`` float.
    """
    if not isinstance(ratings, pd.DataFrame):
        raise DataValidationError(
            f"{arg}: expected a pandas DataFrame, got {type(ratings).__name__}"
        )
    anon = anonymous_rows(ratings)
    if anon.any():
        raise RatersNotIdentifiedError(
            f"{arg}: {NOT_IDENTIFIED} ({int(anon.sum())} of {len(ratings)} ratings have no "
            "rater identity); agreement statistics still apply"
        )
    missing = [c for c in (*REQUIRED, *extra) if c not in ratings.columns]
    if missing:
        raise DataValidationError(f"{arg}: missing required column(s) {missing}")
    df = ratings.loc[:, [c for c in ratings.columns]].copy()
    for col in ("transcript_id", "rater_id", "dimension"):
        if df[col].isna().any():
            row = df.index[df[col].isna()][0]
            raise DataValidationError(f"{arg}: row {_row(row)}: field {col!r} is missing")
        df[col] = df[col].astype(str)
    score = pd.to_numeric(df["score"], errors="coerce")
    bad = score.isna() & df["score"].notna()
    if bad.any():
        row = df.index[bad][0]
        raise DataValidationError(
            f"{arg}: row {_row(row)}: field 'score' is not numeric ({df.loc[row, 'score']!r})"
        )
    df["score"] = score.astype("float64")
    n_nan = int(df["score"].isna().sum())
    if n_nan:
        # Machine graders leave NaN for answers they could not score: those are not ratings.
        warnings.warn(
            f"{arg}: dropped {n_nan} unscored row(s) (score is NaN)", CalibWarning, stacklevel=3
        )
        df = df[df["score"].notna()]
    if df.empty:
        raise DataValidationError(f"{arg}: no scored ratings")
    dup = df.duplicated(["transcript_id", "rater_id", "dimension"], keep=False)
    if dup.any():
        row = df.index[dup][0]
        key = tuple(df.loc[row, ["transcript_id", "rater_id", "dimension"]])
        raise DataValidationError(
            f"{arg}: row {_row(row)}: duplicate rating for (transcript_id, rater_id, dimension) = {key}"
            f"; {int(dup.sum())} rows are duplicated"
        )
    return df


def encode(df: pd.DataFrame) -> Encoded:
    """Integer-code a validated ratings frame (labels sorted so results are order-independent)."""
    t_codes, t_lab = pd.factorize(df["transcript_id"], sort=True)
    r_codes, r_lab = pd.factorize(df["rater_id"], sort=True)
    d_codes, d_lab = pd.factorize(df["dimension"], sort=True)
    return Encoded(
        frame=df,
        t=t_codes.astype(np.intp),
        r=r_codes.astype(np.intp),
        d=d_codes.astype(np.intp),
        score=df["score"].to_numpy(dtype=float),
        transcripts=np.asarray(t_lab, dtype=object),
        raters=np.asarray(r_lab, dtype=object),
        dimensions=np.asarray(d_lab, dtype=object),
    )


def _components(t: np.ndarray, r: np.ndarray, n_t: int, n_r: int) -> tuple[int, np.ndarray]:
    # Bipartite transcript-rater graph: two raters are comparable iff a path of shared
    # transcripts links them; otherwise severity is confounded with the transcripts' level.
    n = n_t + n_r
    adj = sparse.coo_matrix((np.ones(t.size), (t, n_t + r)), shape=(n, n)).tocsr()
    return connected_components(adj, directed=False)


def connectedness(ratings: pd.DataFrame) -> pd.DataFrame:
    """Split a rating design into connected subsets of transcripts and raters.

    Raters who never share a transcript (directly or through a chain of other raters) cannot be
    put on one severity scale: their difference is confounded with the level of the transcripts
    each happened to get. FACETS calls these disjoint *subsets*.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table with ``transcript_id``, ``rater_id``, ``dimension``, ``score``.

    Returns
    -------
    pandas.DataFrame
        One row per element: ``subset`` (1 = largest), ``facet`` (``"transcript"`` or
        ``"rater"``), ``element``. A connected design has a single subset.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"transcript_id": ["t1", "t1", "t2", "t2"],
    ...                    "rater_id": ["a", "b", "c", "d"],
    ...                    "dimension": "data", "score": [1, 2, 3, 4]})
    >>> connectedness(df).query("facet == 'rater'")[["subset", "element"]].values.tolist()
    [[1, 'a'], [1, 'b'], [2, 'c'], [2, 'd']]
    """
    enc = encode(validate_ratings(ratings))
    return _subset_table(enc)


def _subset_table(enc: Encoded) -> pd.DataFrame:
    n_t, n_r = enc.transcripts.size, enc.raters.size
    _, labels = _components(enc.t, enc.r, n_t, n_r)
    sizes = np.bincount(labels)
    # Stable numbering: largest subset first, ties by first element.
    first = np.full(sizes.size, labels.size)
    np.minimum.at(first, labels, np.arange(labels.size))
    order = np.lexsort((first, -sizes))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) + 1
    out = pd.DataFrame(
        {
            "subset": rank[labels],
            "facet": np.r_[np.repeat("transcript", n_t), np.repeat("rater", n_r)],
            "element": np.r_[enc.transcripts, enc.raters].astype(str),
        }
    )
    return out.sort_values(["subset", "facet", "element"], kind="stable").reset_index(drop=True)


def require_connected(enc: Encoded, what: str = "ratings") -> None:
    """Raise :class:`DisconnectedDesignError` naming the subsets when the design is split."""
    n_comp, _ = _components(enc.t, enc.r, enc.transcripts.size, enc.raters.size)
    if n_comp <= 1:
        return
    table = _subset_table(enc)
    lines = []
    for sub, grp in table[table.facet == "rater"].groupby("subset"):
        n_tr = int(((table.subset == sub) & (table.facet == "transcript")).sum())
        raters = grp.element.tolist()
        shown = ", ".join(raters[:8]) + (", ..." if len(raters) > 8 else "")
        lines.append(f"subset {sub}: raters [{shown}] with {n_tr} transcript(s)")
    raise DisconnectedDesignError(
        f"{what}: the rating design is disconnected into {n_comp} subsets that cannot be put on "
        "one scale (no chain of shared transcripts links them): "
        + "; ".join(lines)
        + ". Add linking ratings or analyse the subsets separately.",
        table,
    )

"""Generalizability theory: REML variance components, G and Phi coefficients, D-studies.

Works for crossed, nested and unbalanced designs on any long data frame. Variance components
are REML estimates of a random-effects model with one effect per G-theory source (Brennan
2001, ch. 3 and 7); for balanced data with no negative ANOVA estimate REML equals the ANOVA
(expected-mean-square) estimates Brennan tabulates.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from calib._varcomp import reml as _reml
from calib.errors import CalibWarning, DataValidationError

__all__ = ["g_study", "GStudyResult", "reliability_plan"]


@dataclass(frozen=True)
class _Source:
    name: str
    primary: tuple[str, ...]  # indices before ":" (object / crossed facets)
    nesting: tuple[str, ...]  # indices after ":" (parents of nested primaries)

    @property
    def indices(self) -> tuple[str, ...]:
        return self.primary + self.nesting


def _sources(obj: str, facets: list[str], nested: Mapping[str, str]) -> list[_Source]:
    """Enumerate G-theory sources: closures of index subsets under "child implies parent"."""
    all_idx = [obj, *facets]
    seen: dict[frozenset, _Source] = {}
    for size in range(1, len(all_idx) + 1):
        for combo in itertools.combinations(all_idx, size):
            closure = set(combo)
            changed = True
            while changed:
                changed = False
                for child in list(closure):
                    parent = nested.get(child)
                    if parent is not None and parent not in closure:
                        closure.add(parent)
                        changed = True
            key = frozenset(closure)
            if key in seen:
                continue
            parents = {nested[c] for c in closure if c in nested}
            primary = tuple(i for i in all_idx if i in closure and i not in parents)
            nesting = tuple(i for i in all_idx if i in closure and i in parents)
            name = " x ".join(primary) + (":" + ":".join(nesting) if nesting else "")
            seen[key] = _Source(name, primary, nesting)
    return sorted(
        seen.values(), key=lambda s: (len(s.indices), [all_idx.index(i) for i in s.indices])
    )


@dataclass
class GStudyResult:
    """G-study variance components.

    Attributes
    ----------
    components : pandas.DataFrame
        ``source`` (e.g. ``"Person x Rater:Task"``), ``variance``, ``percent``, ``n_levels``
        (levels in the data) and ``indices`` (tuple of the columns the source involves). The
        highest-order source is confounded with residual error and labelled with ``",e"``.
    object : str
        The object of measurement (universe scores vary over it).
    facets : list of str
    nested : dict
    """

    components: pd.DataFrame
    object: str
    facets: list[str]
    nested: dict[str, str]
    n_obs: int
    _sources: list[_Source] = field(repr=False)

    def d_study(self, n: Mapping[str, int | Iterable[int]]) -> pd.DataFrame:
        """Decision study: error variances and coefficients for a measurement design.

        Parameters
        ----------
        n : dict
            Sample size n' for every facet (values may be lists to tabulate several designs),
            e.g. ``{"Rater": 4, "Task": 3}`` or ``{"Rater": range(1, 7)}``.

        Returns
        -------
        pandas.DataFrame
            One row per design: the n' columns, ``universe_var`` (object variance),
            ``rel_error_var`` (sigma^2(delta)), ``abs_error_var`` (sigma^2(Delta)),
            ``G`` (E rho^2 = tau / (tau + delta)) and ``Phi`` (tau / (tau + Delta)).

        Notes
        -----
        Random facets, infinite universe (Brennan 2001, sec. 4.1-4.3): each source's variance is
        divided by the product of n' of the facets it involves; sigma^2(delta) sums the sources
        that involve the object and at least one facet, sigma^2(Delta) every source except the
        object itself.
        """
        missing = [f for f in self.facets if f not in n]
        if missing:
            raise DataValidationError(f"n: missing sample size for facet(s) {missing}")
        grids = {
            f: list(np.atleast_1d(list(v) if not np.isscalar(v) else v))
            for f, v in n.items()
            if f in self.facets
        }
        for f, vals in grids.items():
            if any(int(v) < 1 for v in vals):
                raise DataValidationError(f"n[{f!r}]: sample sizes must be >= 1")
        rows = []
        var = dict(zip(self.components.source, self.components.variance))
        for combo in itertools.product(*grids.values()):
            nn = dict(zip(grids, (int(v) for v in combo)))
            tau = var[self._sources[0].name]
            rel = ab = 0.0
            for src in self._sources[1:]:
                div = float(np.prod([nn[i] for i in src.indices if i != self.object]))
                contrib = max(var[src.name], 0.0) / div
                ab += contrib
                if self.object in src.indices:
                    rel += contrib
            rows.append(
                {
                    **{f"n_{f}": v for f, v in nn.items()},
                    "universe_var": tau,
                    "rel_error_var": rel,
                    "abs_error_var": ab,
                    "G": tau / (tau + rel) if tau + rel > 0 else np.nan,
                    "Phi": tau / (tau + ab) if tau + ab > 0 else np.nan,
                }
            )
        return pd.DataFrame(rows)

    def n_needed(
        self,
        facet: str,
        target: float = 0.80,
        coefficient: str = "G",
        fixed: Mapping[str, int] | None = None,
        max_n: int = 100,
    ) -> int | None:
        """Smallest n' of ``facet`` reaching ``target`` (None if not reached by ``max_n``)."""
        others = dict(fixed or {})
        for f in self.facets:
            if f != facet:
                others.setdefault(f, 1)
        table = self.d_study({**others, facet: range(1, max_n + 1)})
        hit = table[table[coefficient] >= target]
        return int(hit[f"n_{facet}"].iloc[0]) if len(hit) else None


def g_study(
    df: pd.DataFrame,
    object: str,
    facets: list[str],
    *,
    nested: Mapping[str, str] | None = None,
    score: str = "score",
) -> GStudyResult:
    """Estimate G-study variance components by REML for crossed/nested, unbalanced designs.

    Parameters
    ----------
    df : pandas.DataFrame
        Long data, one row per observation.
    object : str
        Column identifying the object of measurement (e.g. ``"Person"``, ``"transcript_id"``).
    facets : list of str
        Columns of the measurement facets, e.g. ``["Rater", "Task"]``.
    nested : dict, optional
        ``{child: parent}``, e.g. ``{"Rater": "Task"}`` for raters nested within tasks (a
        p x (r:t) design). Child labels are interpreted within their parent.
    score : str
        Column with the numeric observation.

    Returns
    -------
    GStudyResult

    Notes
    -----
    The model is ``X = mu + sum_alpha nu_alpha + e`` with one random effect per source alpha
    (all subsets of indices, closed under nesting); the highest-order source is confounded with
    e. REML (Patterson & Thompson 1971) via the lme4 parameterisation, optimised with
    ``scipy.optimize.minimize`` (L-BFGS-B, variances >= 0). For balanced data with non-negative
    ANOVA estimates this reproduces Brennan (2001). Equivalent R: ``gtheory::gstudy`` or
    ``lme4::lmer(Score ~ (1|Person) + (1|Task) + (1|Task:Rater) + (1|Person:Task))``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from calib.raters import g_study
    >>> rng = np.random.default_rng(0)   # synthetic persons x raters data
    >>> p, r = np.meshgrid(np.arange(40), np.arange(4), indexing="ij")
    >>> y = rng.normal(0, 1, 40)[p] + rng.normal(0, .5, 4)[r] + rng.normal(0, .7, p.shape)
    >>> df = pd.DataFrame({"Person": p.ravel(), "Rater": r.ravel(), "Score": y.ravel()})
    >>> g = g_study(df, object="Person", facets=["Rater"], score="Score")
    >>> list(g.components.source)
    ['Person', 'Rater', 'Person x Rater,e']
    >>> round(float(g.d_study({"Rater": 4}).G[0]), 2) > 0.8
    True
    """
    nested = dict(nested or {})
    cols = [object, *facets]
    if len(set(cols)) != len(cols):
        raise DataValidationError("facets: object and facets must be distinct columns")
    missing = [c for c in (*cols, score) if c not in df.columns]
    if missing:
        raise DataValidationError(f"df: missing column(s) {missing}")
    for child, parent in nested.items():
        if child not in facets or parent not in cols:
            raise DataValidationError(
                f"nested: {child!r}: {parent!r} must name a facet nested in another column"
            )
        if parent == object:
            raise DataValidationError(
                "nested: nesting facets within the object of measurement is not supported"
            )
    data = df[[*cols, score]].copy()
    y = pd.to_numeric(data[score], errors="coerce")
    if y.isna().any():
        n_bad = int(y.isna().sum())
        warnings.warn(
            f"df: dropped {n_bad} row(s) with missing/non-numeric {score!r}",
            CalibWarning,
            stacklevel=2,
        )
        data, y = data[y.notna()], y[y.notna()]
    if data.empty:
        raise DataValidationError("df: no observations")
    yv = y.to_numpy(dtype=float)
    srcs = _sources(object, list(facets), nested)
    # Codes per source (labels of a nested index are only meaningful within their parent).
    codes, n_levels = [], []
    for src in srcs:
        c = data.groupby(list(src.indices), sort=True).ngroup().to_numpy()
        codes.append(c)
        n_levels.append(int(c.max()) + 1)
    top = srcs[-1]
    replicated = n_levels[-1] < len(data)
    random_srcs = srcs if replicated else srcs[:-1]
    Zs, use = [], []
    for src, c, nl in zip(random_srcs, codes, n_levels):
        if nl < 2:
            warnings.warn(
                f"g_study: source {src.name!r} has a single level; its variance is "
                "not estimable (reported as NaN)",
                CalibWarning,
                stacklevel=2,
            )
            continue
        Zs.append(sparse.csr_matrix((np.ones(len(c)), (np.arange(len(c)), c)), shape=(len(c), nl)))
        use.append(src.name)
    if not Zs:
        raise DataValidationError("df: no source has more than one level")
    s2, s2e, _ = _reml(yv, Zs)
    var = {name: v for name, v in zip(use, s2)}
    rows = []
    for src, nl in zip(srcs, n_levels):
        label = src.name if (replicated or src is not top) else src.name + ",e"
        v = var.get(src.name, np.nan) if (replicated or src is not top) else s2e
        rows.append({"source": label, "variance": v, "n_levels": nl, "indices": src.indices})
    if replicated:
        rows.append({"source": "e", "variance": s2e, "n_levels": len(data), "indices": ()})
    comp = pd.DataFrame(rows)
    comp["percent"] = 100 * comp.variance / comp.variance.sum()
    comp = comp[["source", "variance", "percent", "n_levels", "indices"]]
    # Names used by d_study (the confounded top source keeps its plain name there).
    named = [
        (_Source(r.source, s.primary, s.nesting) if r.source != s.name else s)
        for r, s in zip(comp.itertuples(), srcs)
    ]
    if replicated:
        named.append(_Source("e", tuple(cols), ()))
    return GStudyResult(
        components=comp.reset_index(drop=True),
        object=object,
        facets=list(facets),
        nested=nested,
        n_obs=len(data),
        _sources=named,
    )


def reliability_plan(
    ratings: pd.DataFrame,
    *,
    n_raters: Iterable[int] = range(1, 7),
    target: float = 0.80,
    max_raters: int = 50,
) -> pd.DataFrame:
    """Per-dimension D-study: expected reliability for 1..6 raters and raters needed for 0.80.

    Runs a transcripts x raters G-study per dimension (raters crossed with transcripts but
    incomplete: each transcript is scored by a few raters), plus one on the composite (the mean
    over dimensions of each transcript x rater pair; dimensions are a fixed facet).

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table.
    n_raters : iterable of int
        Numbers of raters per transcript to tabulate.
    target : float
        Reliability to plan for (both for G and Phi).
    max_raters : int
        Search limit for the number needed.

    Returns
    -------
    pandas.DataFrame
        ``dimension`` (or ``"composite"``), ``n_raters``, ``G``, ``Phi``,
        ``var_transcript``, ``var_rater``, ``var_residual``, ``raters_needed_G``,
        ``raters_needed_Phi`` (NaN when not reached by ``max_raters``).

    Examples
    --------
    >>> from calib.simulate import simulate_dataset, SimulationConfig
    >>> ds = simulate_dataset(SimulationConfig(n_transcripts=80, seed=2))   # SYNTHETIC
    >>> plan = reliability_plan(ds.ratings)
    >>> sorted(int(n) for n in plan.n_raters.unique())
    [1, 2, 3, 4, 5, 6]
    """
    from calib.raters._design import validate_ratings  # local: keep this module standalone

    df = validate_ratings(ratings)
    comp = (
        df.groupby(["transcript_id", "rater_id"], as_index=False)
        .score.mean()
        .assign(dimension="composite")
    )
    frames = []
    ns = [int(v) for v in n_raters]
    for dim, sub in [*df.groupby("dimension", sort=True), ("composite", comp)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalibWarning)
            g = g_study(sub, object="transcript_id", facets=["rater_id"], score="score")
        table = g.d_study({"rater_id": ns})
        v = g.components.variance.to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "dimension": dim,
                    "n_raters": table["n_rater_id"],
                    "G": table["G"],
                    "Phi": table["Phi"],
                    "var_transcript": v[0],
                    "var_rater": v[1],
                    "var_residual": v[2],
                    "raters_needed_G": g.n_needed("rater_id", target, "G", max_n=max_raters),
                    "raters_needed_Phi": g.n_needed("rater_id", target, "Phi", max_n=max_raters),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    for c in ("raters_needed_G", "raters_needed_Phi"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("Float64")
    return out

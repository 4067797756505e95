"""Matplotlib figure helpers for the report (Agg backend, object API, Okabe-Ito palette).

Every helper takes tidy pandas objects and returns a :class:`ReportFigure`: the figure
serialised to SVG with dates and random ids removed (so the same input gives the same
bytes), plus its alt text. Figures are never shown; pyplot's global state is not used.

Labels are untrusted (rater ids, metadata values, rubric names): every helper draws with
``text.parse_math = False`` and ``text.usetex = False``, so a ``$`` in a label is a dollar
sign, never matplotlib mathtext (``r$\\frac{1}{$2`` used to crash the report), and no label
reaches a TeX process. And a figure can never take a report down: each helper is guarded,
and any error while drawing returns a placeholder :class:`ReportFigure` whose ``error`` says
why; :func:`calib.report.write_report` turns it into a "Figure not drawn: ..." note of its
section instead of a picture.
"""

from __future__ import annotations

import functools
import html
import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg", force=False)  # headless; the report never opens a window
import matplotlib.colors as mcolors  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = [
    "OKABE_ITO",
    "ReportFigure",
    "render",
    "forest_plot",
    "stacked_levels",
    "heatmap",
    "dstudy_plot",
    "bland_altman",
    "scatter_length",
    "drift_plot",
    "forest_grid",
]

#: Okabe & Ito (2008) colour-universal-design palette (safe for the common colour-vision types).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
_WIDTH_IN = 7.5  # ~ 720 px at 96 dpi: readable at the report's content width
_FONT = 9


@dataclass(frozen=True)
class ReportFigure:
    """A rendered figure.

    Attributes
    ----------
    key : str
        File stem under ``figures/`` (``<key>.svg``).
    title : str
        Caption shown above the figure.
    alt : str
        Alt text describing what the figure shows (for screen readers and broken images).
    svg : str
        The SVG document.
    error : str or None
        Why the figure could not be drawn (then ``svg`` is a placeholder saying so).
    """

    key: str
    title: str
    alt: str
    svg: str
    error: str | None = None


log = logging.getLogger("calib.report")

#: rcParams every report figure is drawn with: labels are plain text, never mathtext or TeX.
SAFE_TEXT_RC = {"text.parse_math": False, "text.usetex": False}


def _not_drawn(key: str, title: str, exc: BaseException) -> ReportFigure:
    """Placeholder for a figure whose drawing raised ``exc`` (escaped, one line)."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(reason) > 300:
        reason = reason[:299] + "…"
    text = html.escape(f"Figure not drawn: {reason}")
    svg = (
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="540" height="40" viewBox="0 0 540 40">'
        f'<text x="4" y="24" font-family="sans-serif" font-size="12">{text}</text></svg>\n'
    )
    return ReportFigure(key=key, title=title, alt=f"Figure not drawn: {reason}", svg=svg,
                        error=reason)  # fmt: skip


def _guarded(fn: Callable[..., ReportFigure]) -> Callable[..., ReportFigure]:
    """Draw with :data:`SAFE_TEXT_RC`; turn any drawing error into a :func:`_not_drawn` figure."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> ReportFigure:
        key = str(kwargs.get("key", fn.__name__))
        try:
            with matplotlib.rc_context(SAFE_TEXT_RC), warnings.catch_warnings():
                # labels in any script: a glyph missing from the font is drawn as a box, and
                # matplotlib's per-glyph UserWarning must not reach the console
                warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
                return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a figure must never take a report down
            log.info("figure %s not drawn: %s", key, exc)
            return _not_drawn(key, str(kwargs.get("title", "")), exc)

    return wrapper


#: y-axis titles for the row labels the report plots by (every axis carries a title).
_AXIS_NAMES = {
    "dimension": "Rubric dimension",
    "rater_id": "Human rater",
    "grader": "Automated grader",
}


def _axis_name(column: str, given: str | None) -> str:
    return given if given else _AXIS_NAMES.get(column, column.replace("_", " ").capitalize())


def _new(height: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(_WIDTH_IN, height), layout="constrained")
    ax = fig.add_subplot()
    ax.tick_params(labelsize=_FONT)
    return fig, ax


def render(fig: Figure, key: str, title: str, alt: str) -> ReportFigure:
    """Serialise ``fig`` to deterministic SVG (no date, fixed hash salt) and wrap it.

    Example
    -------
    >>> fig, ax = _new(2.0)
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> render(fig, "k", "t", "a line").svg.startswith("<?xml")
    True
    """
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "calib", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, dpi=120)
    return ReportFigure(key=key, title=title, alt=alt, svg=buf.getvalue())


@_guarded
def forest_plot(
    df: pd.DataFrame,
    *,
    label: str,
    estimate: str,
    low: str,
    high: str,
    xlabel: str,
    key: str,
    title: str,
    alt: str,
    bands: tuple[float, ...] = (),
    reference: float | None = None,
    highlight: str | None = None,
    ylabel: str | None = None,
    color: str | None = None,
) -> ReportFigure:
    """Horizontal point-and-interval plot, one row per ``label``.

    Parameters
    ----------
    bands : tuple of float
        Vertical reference lines (e.g. Krippendorff's .667 and .800) with shaded zones.
    reference : float, optional
        A dashed zero/null line.
    highlight : str, optional
        Boolean column; highlighted rows are drawn in vermillion.
    ylabel : str, optional
        Title of the row axis (default: from ``label``, e.g. "Rubric dimension").
    color : str, optional
        Column of colours per row (overrides ``highlight``), e.g. a traffic light per verdict.

    Example
    -------
    >>> d = pd.DataFrame({"dim": ["a", "b"], "est": [0.6, 0.85], "lo": [0.5, 0.8], "hi": [0.7, 0.9]})
    >>> f = forest_plot(d, label="dim", estimate="est", low="lo", high="hi", xlabel="alpha", key="k",
    ...                 title="t", alt="alpha per dimension", bands=(0.667, 0.8))
    >>> f.key, "<svg" in f.svg
    ('k', True)
    """
    d = df.reset_index(drop=True)
    fig, ax = _new(max(1.6, 0.28 * len(d) + 0.9))
    y = np.arange(len(d))[::-1]
    est = d[estimate].to_numpy(float)
    lo, hi = d[low].to_numpy(float), d[high].to_numpy(float)
    flag = d[highlight].to_numpy(bool) if highlight else np.zeros(len(d), bool)
    colors = (
        d[color].astype(str).to_numpy() if color else np.where(flag, OKABE_ITO[5], OKABE_ITO[4])
    )
    ok = ~(np.isnan(lo) | np.isnan(hi))
    ax.hlines(y[ok], lo[ok], hi[ok], colors=colors[ok], linewidth=1.6)
    ax.scatter(est, y, c=colors, s=22, zorder=3)
    if bands:
        edges = (-np.inf, *bands, np.inf)
        shades = ("#f4d6cc", "#fbeccc", "#d8eedf")  # unreliable / tentative / reliable zones
        x_min = np.nanmin(np.concatenate([lo, est, [min(bands) - 0.1]]))
        for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
            ax.axvspan(
                max(a, x_min - 1),
                min(b, 1.0),
                color=shades[min(i, 2)],
                alpha=0.6,
                zorder=0,
                linewidth=0,
            )
        for b in bands:
            ax.axvline(b, color="#555555", linewidth=0.8, linestyle=":")
            ax.text(b, len(d) - 0.4, f"{b:.3f}", fontsize=_FONT - 1, ha="center", va="bottom")
    if reference is not None:
        ax.axvline(reference, color="#333333", linewidth=0.8, linestyle="--")
    ax.set_yticks(y, d[label].astype(str).tolist(), fontsize=_FONT)
    ax.set_ylim(-0.7, len(d) - 0.1 + (0.5 if bands else 0))
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.set_ylabel(_axis_name(label, ylabel), fontsize=_FONT)
    finite = np.concatenate([est[np.isfinite(est)], lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
    if bands and finite.size:
        ax.set_xlim(min(finite.min(), min(bands)) - 0.05, max(1.0, finite.max()) + 0.02)
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    return render(fig, key, title, alt)


@_guarded
def stacked_levels(
    df: pd.DataFrame,
    *,
    label: str,
    levels: list[str],
    level_names: dict[str, str],
    key: str,
    title: str,
    alt: str,
    xlabel: str = "Share of human ratings (%)",
    ylabel: str | None = None,
) -> ReportFigure:
    """Horizontal 100% stacked bars of level shares, one bar per ``label`` row.

    Example
    -------
    >>> d = pd.DataFrame({"dim": ["a"], "1": [0.1], "2": [0.9]})
    >>> stacked_levels(d, label="dim", levels=["1", "2"], level_names={"1": "Poor"}, key="s",
    ...                title="t", alt="shares").key
    's'
    """
    d = df.reset_index(drop=True)
    fig, ax = _new(max(1.6, 0.3 * len(d) + 1.1))
    y = np.arange(len(d))[::-1]
    left = np.zeros(len(d))
    palette = (OKABE_ITO[5], OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[4], OKABE_ITO[2], OKABE_ITO[6])
    for i, lev in enumerate(levels):
        share = 100 * d[lev].fillna(0).to_numpy(float)
        ax.barh(
            y,
            share,
            left=left,
            color=palette[i % len(palette)],
            label=f"{lev} {level_names.get(lev, '')}".strip(),
            height=0.7,
            edgecolor="white",
            linewidth=0.4,
        )
        left += share
    ax.set_yticks(y, d[label].astype(str).tolist(), fontsize=_FONT)
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.set_ylabel(_axis_name(label, ylabel), fontsize=_FONT)
    ax.legend(
        ncols=len(levels),
        fontsize=_FONT - 1,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
    )
    return render(fig, key, title, alt)


@_guarded
def heatmap(
    matrix: pd.DataFrame,
    *,
    key: str,
    title: str,
    alt: str,
    xlabel: str,
    ylabel: str,
    fmt: str = "{:.0f}",
    cmap: str = "cividis",
    vmin: float | None = None,
    vmax: float | None = None,
    cbar_label: str = "",
) -> ReportFigure:
    """Annotated heatmap of a labelled matrix (cividis: perceptually uniform, CVD-safe).

    Example
    -------
    >>> m = pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=["a", "b"], columns=["a", "b"])
    >>> heatmap(m, key="h", title="t", alt="correlations", xlabel="x", ylabel="y", fmt="{:.1f}").key
    'h'
    """
    m = matrix.to_numpy(float)
    fig, ax = _new(max(2.2, 0.42 * m.shape[0] + 1.2))
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(
        np.arange(m.shape[1]),
        [str(c) for c in matrix.columns],
        fontsize=_FONT,
        rotation=30,
        ha="right",
    )
    ax.set_yticks(np.arange(m.shape[0]), [str(i) for i in matrix.index], fontsize=_FONT)
    norm = mcolors.Normalize(
        vmin=np.nanmin(m) if vmin is None else vmin, vmax=np.nanmax(m) if vmax is None else vmax
    )
    rows, cols = np.nonzero(np.isfinite(m))
    # text colour from the cell's own luminance (Rec. 709 weights): the value's position on
    # the scale says nothing about lightness for a diverging map such as PuOr
    rgba = matplotlib.colormaps[cmap](norm(m[rows, cols]))
    dark = rgba[:, :3] @ np.array([0.2126, 0.7152, 0.0722]) < 0.5
    for r, c, k in zip(rows, cols, dark):  # one label per cell: a figure has at most ~100 cells
        ax.text(
            c,
            r,
            fmt.format(m[r, c]),
            ha="center",
            va="center",
            fontsize=_FONT - 1,
            color="white" if k else "black",
        )
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.set_ylabel(ylabel, fontsize=_FONT)
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.ax.tick_params(labelsize=_FONT - 1)
    if cbar_label:
        cb.set_label(cbar_label, fontsize=_FONT)
    return render(fig, key, title, alt)


@_guarded
def dstudy_plot(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    group: str,
    key: str,
    title: str,
    alt: str,
    target: float = 0.8,
    xlabel: str = "Number of raters per transcript",
    ylabel: str = "Expected reliability",
) -> ReportFigure:
    """Lines of expected reliability vs number of raters, one line per ``group``.

    Example
    -------
    >>> d = pd.DataFrame({"n": [1, 2, 1, 2], "phi": [0.5, 0.7, 0.6, 0.8], "dim": ["a", "a", "b", "b"]})
    >>> dstudy_plot(d, x="n", y="phi", group="dim", key="d", title="t", alt="D-study").key
    'd'
    """
    fig, ax = _new(3.4)
    markers = "osD^v<>p"
    for i, (name, g) in enumerate(df.groupby(group, sort=False)):
        g = g.sort_values(x)
        ax.plot(
            g[x],
            g[y],
            marker=markers[i % len(markers)],
            markersize=3.5,
            linewidth=1.3,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=str(name),
        )
    ax.axhline(target, color="#333333", linestyle="--", linewidth=0.9)
    ax.text(df[x].min(), target, f" target {target:.2f}", va="bottom", fontsize=_FONT - 1)
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.set_ylabel(ylabel, fontsize=_FONT)
    ax.set_ylim(0, 1)
    ax.set_xticks(np.unique(df[x].to_numpy()))
    ax.legend(fontsize=_FONT - 1, ncols=2, frameon=False, loc="lower right")
    ax.grid(color="#eeeeee", linewidth=0.5)
    return render(fig, key, title, alt)


@_guarded
def bland_altman(
    mean: np.ndarray,
    diff: np.ndarray,
    *,
    key: str,
    title: str,
    alt: str,
    xlabel: str = "Mean of grader and human consensus (score points)",
    ylabel: str = "Grader minus consensus (score points)",
) -> ReportFigure:
    """Bland-Altman plot with the mean difference and 95% limits of agreement.

    Limits are mean ± 1.96 SD of the differences (Bland & Altman, 1986, Lancet 327:307-310).

    Example
    -------
    >>> bland_altman(np.array([2.0, 3.0, 2.5]), np.array([0.0, 1.0, -1.0]), key="b", title="t", alt="BA").key
    'b'
    """
    fig, ax = _new(3.2)
    rng = np.random.default_rng(0)  # fixed jitter so identical inputs give identical SVG
    jitter = rng.uniform(-0.06, 0.06, size=len(mean))
    # rasterized: thousands of points as one embedded bitmap keep the SVG small
    ax.scatter(
        mean + jitter,
        diff + jitter[::-1],
        s=8,
        alpha=0.45,
        color=OKABE_ITO[4],
        linewidths=0,
        rasterized=True,
    )
    md, sd = (
        float(np.nanmean(diff)),
        float(np.nanstd(diff, ddof=1)) if len(diff) > 1 else float("nan"),
    )
    for v, lab, ls in (
        (md, "mean", "-"),
        (md - 1.96 * sd, "-1.96 SD", "--"),
        (md + 1.96 * sd, "+1.96 SD", "--"),
    ):
        if np.isfinite(v):
            ax.axhline(v, color=OKABE_ITO[5], linestyle=ls, linewidth=0.9)
            ax.text(np.nanmax(mean) + 0.1, v, f"{lab} {v:+.2f}", va="center", fontsize=_FONT - 1)
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.set_ylabel(ylabel, fontsize=_FONT)
    ax.grid(color="#eeeeee", linewidth=0.5)
    return render(fig, key, title, alt)


@_guarded
def scatter_length(
    length: np.ndarray,
    score: np.ndarray,
    *,
    key: str,
    title: str,
    alt: str,
    xlabel: str = "Candidate words in transcript",
    ylabel: str = "Score (rubric points)",
    groups: np.ndarray | None = None,
) -> ReportFigure:
    """Score against transcript length, with a least-squares trend line per group.

    Example
    -------
    >>> scatter_length(np.array([100.0, 200, 300]), np.array([2.0, 3, 3]), key="l", title="t", alt="len").key
    'l'
    """
    fig, ax = _new(3.2)
    groups = np.asarray(groups if groups is not None else np.full(len(length), "scores"))
    rng = np.random.default_rng(0)
    for i, g in enumerate(pd.unique(groups)):
        m = (groups == g) & np.isfinite(score) & np.isfinite(length)
        if not m.any():
            continue
        c = OKABE_ITO[(4, 5, 2, 0, 6)[i % 5]]
        ax.scatter(
            length[m],
            score[m] + rng.uniform(-0.08, 0.08, m.sum()),
            s=7,
            alpha=0.4,
            color=c,
            linewidths=0,
            label=str(g),
            rasterized=True,
        )
        if m.sum() > 2 and np.ptp(length[m]) > 0:
            slope, icpt = np.polyfit(length[m], score[m], 1)
            xs = np.array([length[m].min(), length[m].max()])
            ax.plot(xs, icpt + slope * xs, color=c, linewidth=1.4)
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.set_ylabel(ylabel, fontsize=_FONT)
    ax.legend(fontsize=_FONT - 1, frameon=False)
    ax.grid(color="#eeeeee", linewidth=0.5)
    return render(fig, key, title, alt)


@_guarded
def drift_plot(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    group: str,
    highlight: list[str],
    key: str,
    title: str,
    alt: str,
    xlabel: str = "Month rated",
    ylabel: str = "Minus others' mean (points)",
) -> ReportFigure:
    """One line per group over time; ``highlight`` groups in colour, the rest in light grey.

    Example
    -------
    >>> d = pd.DataFrame({"m": pd.to_datetime(["2026-01-01", "2026-02-01"] * 2), "v": [0, .5, 0, 0],
    ...                   "r": ["a", "a", "b", "b"]})
    >>> drift_plot(d, x="m", y="v", group="r", highlight=["a"], key="dr", title="t", alt="drift").key
    'dr'
    """
    fig, ax = _new(3.0)
    for name, g in df.groupby(group, sort=True):
        g = g.sort_values(x)
        if name in highlight:
            i = sorted(highlight).index(name)
            ax.plot(
                g[x],
                g[y],
                marker="o",
                markersize=3.5,
                linewidth=1.6,
                color=OKABE_ITO[(5, 4, 2, 0, 6)[i % 5]],
                label=str(name),
                zorder=3,
            )
        else:
            ax.plot(g[x], g[y], linewidth=0.8, color="#bbbbbb", zorder=1)
    ax.axhline(0, color="#333333", linewidth=0.8, linestyle="--")
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.set_ylabel(ylabel, fontsize=_FONT)
    ax.tick_params(axis="x", labelrotation=30)
    if highlight:
        ax.legend(
            fontsize=_FONT - 1,
            frameon=False,
            title="flagged for drift (grey: other raters)",
            title_fontsize=_FONT - 1,
        )
    ax.grid(color="#eeeeee", linewidth=0.5)
    return render(fig, key, title, alt)


@_guarded
def forest_grid(
    df: pd.DataFrame,
    *,
    panel: str,
    label: str,
    estimate: str,
    low: str,
    high: str,
    key: str,
    title: str,
    alt: str,
    xlabel: str,
    highlight: str | None = None,
    reference: float | None = 0.0,
    marker: str | None = None,
    marker_label: str = "",
    ncols: int = 4,
    ylabel: str | None = None,
) -> ReportFigure:
    """Small multiples of forest plots, one panel per value of ``panel`` (shared x axis).

    ``marker`` (optional column) draws a second value per row as a hollow diamond, e.g. the
    human-human baseline next to a grader's agreement.

    Example
    -------
    >>> d = pd.DataFrame({"dim": ["a", "a", "b", "b"], "r": ["x", "y"] * 2, "e": [.1, -.2, .3, 0],
    ...                   "lo": [0, -.3, .2, -.1], "hi": [.2, -.1, .4, .1]})
    >>> forest_grid(d, panel="dim", label="r", estimate="e", low="lo", high="hi", key="g", title="t",
    ...             alt="grid", xlabel="severity").key
    'g'
    """
    panels = list(pd.unique(df[panel]))
    nrows = int(np.ceil(len(panels) / ncols))
    labels = sorted(pd.unique(df[label].astype(str)))
    per_h = max(1.3, 0.2 * len(labels) + 0.6)
    fig = Figure(figsize=(_WIDTH_IN, per_h * nrows + 0.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    y_of = {lab: i for i, lab in enumerate(labels[::-1])}
    for ax, name in zip(axes.ravel(), panels):
        d = df[df[panel] == name]
        y = d[label].astype(str).map(y_of).to_numpy(float)
        flag = d[highlight].to_numpy(bool) if highlight else np.zeros(len(d), bool)
        col = np.where(flag, OKABE_ITO[5], OKABE_ITO[4])
        ax.hlines(y, d[low].to_numpy(float), d[high].to_numpy(float), colors=col, linewidth=1.3)
        ax.scatter(d[estimate].to_numpy(float), y, c=col, s=14, zorder=3)
        if marker:
            ax.scatter(
                d[marker].to_numpy(float),
                y,
                marker="D",
                s=18,
                facecolors="none",
                edgecolors="#333333",
                zorder=4,
                label=marker_label if name == panels[0] else None,
            )
        if reference is not None:
            ax.axvline(reference, color="#333333", linewidth=0.7, linestyle="--")
        ax.set_title(str(name), fontsize=_FONT)
        ax.tick_params(labelsize=_FONT - 1)
        ax.grid(axis="x", color="#eeeeee", linewidth=0.5)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    axes[0, 0].set_yticks(list(y_of.values()), list(y_of.keys()))
    fig.supxlabel(xlabel, fontsize=_FONT)
    fig.supylabel(_axis_name(label, ylabel), fontsize=_FONT)
    if marker and marker_label:
        fig.legend(loc="outside upper right", fontsize=_FONT - 1, frameon=False)
    return render(fig, key, title, alt)

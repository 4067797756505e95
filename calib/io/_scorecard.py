"""Scorecard exports (ATS, spreadsheets) -> calib's long ratings layout.

Applied to every ratings input before validation (:func:`prepare_ratings`):

* **Columns.** ``--columns "transcript_id=Candidate,rater_id=Interviewer"`` names the columns
  that hold calib's fields (or a dimension: ``problem_framing=Framing``). Without a mapping,
  common names are recognised (:data:`ALIASES`: ``Candidate`` -> ``transcript_id``,
  ``Interviewer`` -> ``rater_id``, ``Interview Date`` -> ``rated_at``, ``Notes`` ->
  ``rationale``, ``Overall``/``Recommendation`` -> the scorecard's overall field ...). Names
  match ignoring case, spaces and punctuation.
* **Dimensions.** A column is a dimension when its name is a dimension's id or name
  (``Problem Framing``, ``problem-framing``, ``Trade-offs``); in long files the ``dimension``
  values match the same way.
* **Score cells.** A number; a number with a label (``3 - Proficient``); a label of the rubric's
  scale or of a dimension's levels (``Proficient``); a label from ``--labels`` or the rubric's
  ``labels:`` map (``Strong Hire=4``). ``N/A``, ``NA``, ``n/a``, ``-``, ``none``, ``not
  assessed`` and blank mean *not rated* (``--na-values`` replaces the list): counted, never
  a score, never quarantined.
* **Other columns.** The overall / recommendation column and every other column are kept in
  the ``scorecards`` table (one row per input row: transcript, rater, ``overall``,
  ``overall_score``, ``notes``, ``metadata`` JSON); the notes column also becomes each
  rating's ``rationale``. Columns that hold scores but match no dimension are quarantined cell
  by cell (a typo such as ``Modelling`` must not vanish).
* **Dates.** ``rated_at`` is read with ``--date-format`` (strftime) or as any common format
  (month first unless ``--dayfirst``); a value that cannot be read is dropped (one warning per
  file), the score is kept.

A file missing required columns raises one :class:`~calib.errors.DataValidationError` listing
every missing and unmatched column and the rubric's dimension ids and names.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import ConfigError, DataValidationError
from calib.io._readers import Issue
from calib.rubric import Rubric

__all__ = [
    "ALIASES",
    "DEFAULT_NA_VALUES",
    "RatingOptions",
    "PreparedRatings",
    "parse_columns_option",
    "parse_labels_option",
    "prepare_ratings",
    "parse_dates",
    "read_table_file",
]

DEFAULT_NA_VALUES = ("", "n/a", "na", "-", "–", "—", "none", "null", "not assessed", "not rated")

#: calib field -> column names recognised without --columns (normalised: lower case, no
#: spaces or punctuation), in order of preference
ALIASES: dict[str, tuple[str, ...]] = {
    "transcript_id": (
        "transcriptid",
        "transcript",
        "interviewid",
        "candidateid",
        "candidate",
        "candidatename",
        "applicantid",
        "applicant",
        "applicationid",
    ),
    "rater_id": (
        "raterid",
        "rater",
        "interviewer",
        "interviewerid",
        "interviewername",
        "reviewer",
        "evaluator",
        "assessor",
        "scorer",
        "submittedby",
    ),
    "rater_type": ("ratertype",),
    "dimension": ("dimension", "criterion", "criteria", "competency", "attribute", "skill"),
    "score": ("score", "rating", "value", "points", "grade"),
    "rated_at": (
        "ratedat",
        "interviewdate",
        "date",
        "rateddate",
        "ratingdate",
        "submittedat",
        "submitted",
        "submissiondate",
        "scoredat",
        "timestamp",
    ),
    "rationale": (
        "rationale",
        "notes",
        "note",
        "comments",
        "comment",
        "feedback",
        "remarks",
        "justification",
    ),
    "overall": (
        "overall",
        "overallscore",
        "overallrating",
        "recommendation",
        "overallrecommendation",
        "hirerecommendation",
        "hiringrecommendation",
        "finalrecommendation",
        "decision",
        "hiredecision",
        "verdict",
    ),
    "rubric_id": ("rubricid",),
    "rubric_version": ("rubricversion",),
    "run_id": ("runid",),
    "unscored_reason": ("unscoredreason",),
}
_FIELDS = tuple(ALIASES)
_RATER_TYPE_WORDS = {
    "interviewer": "human",
    "person": "human",
    "manual": "human",
    "expert": "human",
    "rater": "human",
    "rules": "rule",
    "rule-based": "rule",
    "model": "llm",
    "ai": "llm",
}


def norm_key(text: Any) -> str:
    """Name key: case-folded, without spaces, punctuation or underscores.

    Examples
    --------
    >>> norm_key("Trade-offs"), norm_key(" Problem Framing ")
    ('tradeoffs', 'problemframing')
    """
    return re.sub(r"[\W_]+", "", str(text).casefold())


def _label_key(text: Any) -> str:
    return " ".join(str(text).casefold().split())


def _split_pairs(text: str, option: str) -> list[tuple[str, str]]:
    pairs = []
    for part in re.split(r"[,\n]", text):
        if not part.strip():
            continue
        if "=" not in part:
            raise ConfigError(
                f"{option}: expected NAME=VALUE pairs separated by commas, got {part!r}"
            )
        key, value = part.split("=", 1)
        if not key.strip() or not value.strip():
            raise ConfigError(f"{option}: empty name or value in {part!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


def parse_columns_option(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"transcript_id=Candidate,rater_id=Interviewer"`` -> ``{field: column}``.

    Examples
    --------
    >>> parse_columns_option("transcript_id=Candidate, rated_at=Interview Date")
    {'transcript_id': 'Candidate', 'rated_at': 'Interview Date'}
    """
    if not text:
        return {}
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    return dict(_split_pairs(text, "--columns"))


def parse_labels_option(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """``"Strong Hire=4,Hire=3"`` -> ``{"Strong Hire": 4.0, "Hire": 3.0}``.

    Examples
    --------
    >>> parse_labels_option("Strong Hire=4,Hire=3,No Hire=2,Strong No Hire=1")["No Hire"]
    2.0
    """
    if not text:
        return {}
    pairs = text.items() if isinstance(text, Mapping) else _split_pairs(text, "--labels")
    out = {}
    for label, value in pairs:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"--labels: {label!r} must map to a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"--labels: {label!r} must map to a finite number, got {value!r}")
        out[str(label)] = number
    return out


@dataclass
class RatingOptions:
    """How to read scorecard exports (see the module docstring).

    Parameters
    ----------
    columns : dict
        calib field (or dimension id) -> column name in the file.
    labels : dict
        Score label -> score, on top of the rubric's labels.
    na_values : tuple of str
        Cell values meaning "not rated" (compared case-insensitively).
    date_format : str, optional
        strftime format of ``rated_at`` (e.g. ``%d/%m/%Y``).
    dayfirst : bool
        Read ambiguous dates such as ``03/02/2026`` as day first (3 February).
    allow_missing_transcripts : bool
        Accept ratings for transcript ids the store does not hold (when it holds some).
    """

    columns: dict[str, str] = field(default_factory=dict)
    labels: dict[str, float] = field(default_factory=dict)
    na_values: tuple[str, ...] = DEFAULT_NA_VALUES
    date_format: str | None = None
    dayfirst: bool = False
    #: accept ratings whose transcript is not in the store or the batch (counted, listed);
    #: a store with no transcripts at all always does (ratings only)
    allow_missing_transcripts: bool = False


@dataclass
class PreparedRatings:
    """A ratings frame in calib's long layout, plus what happened to the rest of the file."""

    frame: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)
    not_rated: int = 0
    scorecards: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    #: column name in the file -> what it became (for the summary)
    column_roles: dict[str, str] = field(default_factory=dict)


def parse_dates(
    values: pd.Series, date_format: str | None = None, dayfirst: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Parse date/time text to UTC timestamps; returns (timestamps, mask of unreadable values).

    ISO 8601 is always understood; ``date_format`` (strftime) is tried next, then any common
    format (month first unless ``dayfirst``). Naive times are taken as UTC. Blank values are
    NaT and not counted as unreadable.

    Examples
    --------
    >>> ts, bad = parse_dates(pd.Series(["03/02/2026", "2026-03-04", "soon"]), dayfirst=True)
    >>> ts.dt.strftime("%Y-%m-%d").tolist(), bad.tolist()
    (['2026-02-03', '2026-03-04', nan], [False, False, True])
    """
    ts, bad, _ = _parse_dates(values, date_format, dayfirst)
    return ts, bad


def _parse_dates(
    values: pd.Series, date_format: str | None, dayfirst: bool
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`parse_dates` plus the mask of values read as ISO 8601 (kept as written).

    Each distinct value is parsed once (dates repeat across the rows of a ratings file).
    """
    codes, uniq = pd.factorize(values.astype(object), use_na_sentinel=True)
    if len(uniq) < len(values):
        ts, bad, iso = _parse_dates(pd.Series(uniq, dtype=object), date_format, dayfirst)
        take = np.where(codes < 0, len(uniq), codes)
        ts = pd.concat([ts, pd.Series([pd.NaT], dtype=ts.dtype)], ignore_index=True)
        flags = np.append(bad.to_numpy(), False), np.append(iso.to_numpy(), False)
        out = ts.take(take)
        out.index = values.index
        return (
            out,
            pd.Series(flags[0][take], index=values.index),
            pd.Series(flags[1][take], index=values.index),
        )
    text = values.astype("string").str.strip()
    text = text.mask(text == "").astype(object).where(text.notna() & (text != ""), None)
    present = text.notna()
    iso = pd.Series(False, index=values.index)
    dtype = "datetime64[us, UTC]"  # the store's resolution: years 1-9999
    out = pd.Series(pd.NaT, index=values.index, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        todo = present.copy()
        attempts: list[dict] = [{"format": "ISO8601"}]
        if date_format:
            attempts.append({"format": date_format})
        attempts.append({"format": "mixed", "dayfirst": dayfirst})
        for kw in attempts:
            if not todo.any():
                break
            try:
                got = pd.to_datetime(text[todo], utc=True, errors="coerce", **kw).astype(dtype)
            except (ValueError, TypeError, OverflowError):
                got = pd.Series(
                    [_one_date(v, kw, dtype) for v in text[todo]],
                    index=text[todo].index,
                    dtype=dtype,
                )
            ok = got.notna()
            out.loc[ok[ok].index] = got[ok]
            todo.loc[ok[ok].index] = False
            if kw["format"] == "ISO8601":
                iso.loc[ok[ok].index] = True
    return out, present & out.isna(), iso


def _one_date(value: str, kw: dict, dtype: str) -> Any:
    try:
        return pd.Series([pd.to_datetime(value, utc=True, **kw)]).astype(dtype).iloc[0]
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def iter_rating_inputs(path: Any, reader: Any = None):
    """Yield ``(frame, parse issues)`` batches of a ratings input, Excel workbooks included.

    An Excel workbook (``.xlsx``/``.xlsm``, via openpyxl) is read from its first sheet, cells as
    written (numbers, text, dates); other inputs go to the CSV/JSONL/Parquet/HF readers.
    """
    from calib.io._readers import iter_ratings_frames

    if isinstance(path, (str, os.PathLike)) and str(path).lower().endswith(EXCEL_SUFFIXES):
        yield read_excel_frame(Path(path)), []
        return
    yield from (reader or iter_ratings_frames)(path)


def read_excel_frame(path: Path) -> pd.DataFrame:
    """The first sheet of an Excel workbook as a DataFrame with a 1-based ``_row``."""
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not read
            df = pd.read_excel(path, sheet_name=0, dtype=object, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - any reader failure is this file's problem
        raise DataValidationError(
            f"{path}: cannot read Excel workbook ({type(exc).__name__}: {exc})"
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    df = df.loc[
        :,
        [
            not c.startswith("Unnamed:") or df[c].astype(str).str.strip().ne("").any()
            for c in df.columns
        ],
    ]
    blank = df.map(_is_blank).all(axis=1) if len(df.columns) else pd.Series(dtype=bool)
    df["_row"] = range(1, len(df) + 1)
    return df[~blank.to_numpy(dtype=bool)].reset_index(drop=True) if len(df) else df


def read_table_file(path: Path) -> pd.DataFrame:
    """Read a CSV (delimiter sniffed), JSONL or Parquet file as a DataFrame of its rows."""
    from calib.io._readers import read_ratings_frame

    df, issues = read_ratings_frame(path)
    if issues:
        raise DataValidationError(f"{issues[0].source}:{issues[0].row}: {issues[0].reason}")
    return df


class _ScoreReader:
    """Turns score cells into numbers (labels, "3 - Proficient") or "not rated"."""

    _LEADING = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:$|[-–—:(/|]|\s+[^\d\s])")

    def __init__(self, rubric: Rubric, options: RatingOptions):
        self.na = {_label_key(v) for v in options.na_values}
        extra: dict[str, float] = {}
        for label, level in rubric.score_labels.items():
            extra[_label_key(label)] = float(level)
        for label, score in options.labels.items():
            extra[_label_key(label)] = float(score)
        # a cell of a known dimension: that dimension's scale labels and level labels first
        self.labels = {
            **{_label_key(lab): float(lv) for lv, lab in rubric.scale.labels.items()},
            **extra,
        }
        self.per_dim: dict[str, dict[str, float]] = {}
        names = {str(v) for v in rubric.scale.labels.values()}
        for d in rubric.dimensions:
            scale = rubric.scale_for(d.id)
            own = {_label_key(lab): float(lv) for lv, lab in scale.labels.items()}
            own.update({_label_key(lvl.label): float(lvl.score) for lvl in d.levels if lvl.label})
            names |= {str(v) for v in scale.labels.values()}
            self.per_dim[d.id] = {**own, **extra}
        names = {n for n in names if not _is_number(n)}
        self.known_labels = sorted(names | set(rubric.score_labels) | set(options.labels))

    def _one(self, v: Any, dim: Any) -> tuple[Any, int]:
        """One cell -> (value, state) with state 0 = keep, 1 = not rated, 2 = unreadable."""
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return v, 1
        if not isinstance(v, str):
            return v, 0  # numbers (and anything else) are validated as they are
        key = _label_key(v)
        if key in self.na:
            return v, 1
        try:
            float(key)
            return v, 0  # a number as text: validation checks the scale
        except ValueError:
            pass
        table = self.per_dim.get(dim, self.labels) if isinstance(dim, str) else self.labels
        if key in table:
            return f"{table[key]:g}", 0
        m = self._LEADING.match(v)
        if m:
            return m.group(1).replace(",", "."), 0
        return v, 2

    def convert(self, values: pd.Series, dimension: str | pd.Series | None = None):
        """Return (converted values, not-rated mask, unreadable mask); numbers pass through.

        Each distinct (value, dimension) pair is looked at once, so a column of a few score
        values costs a few dictionary look-ups, not one Python call per cell.
        """
        obj = values.astype(object)
        vcodes, vuniq = pd.factorize(obj, use_na_sentinel=True)
        if isinstance(dimension, pd.Series):
            dcodes, duniq = pd.factorize(dimension.astype(object), use_na_sentinel=True)
        else:  # one dimension (or none) for the whole column
            dcodes = (
                np.zeros(len(obj), dtype=np.int64)
                if dimension is not None
                else -np.ones(len(obj), dtype=np.int64)
            )
            duniq = np.array([dimension], dtype=object)
        pair = (vcodes.astype(np.int64) + 1) * (len(duniq) + 1) + (dcodes + 1)
        codes, upairs = pd.factorize(pair)
        results = []
        for code in upairs:
            vc, dc = divmod(int(code), len(duniq) + 1)
            v = None if vc == 0 else vuniq[vc - 1]
            d = None if dc == 0 else duniq[dc - 1]
            results.append(self._one(v, d))
        vals = np.empty(len(results), dtype=object)
        vals[:] = [r[0] for r in results]
        states = np.array([r[1] for r in results], dtype=np.int8)
        out = pd.Series(vals[codes], index=obj.index, dtype=object)
        st = states[codes]
        return out, pd.Series(st == 1, index=obj.index), pd.Series(st == 2, index=obj.index)

    def looks_like_scores(self, values: pd.Series, lo: float, hi: float) -> bool:
        conv, na, bad = self.convert(values)
        present = ~na
        if not present.any():
            return False
        nums = pd.to_numeric(conv[present & ~bad].astype(str), errors="coerce")
        ok = nums.between(lo, hi)
        return bool(ok.sum() >= 0.8 * present.sum())


def _match_columns(
    columns: list[str], rubric: Rubric, options: RatingOptions, source: str
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Map file columns to calib fields and dimension ids; returns (fields, dims, unknown map keys)."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(norm_key(c), c)
    dim_ids = {d.id for d in rubric.dimensions}
    fields: dict[str, str] = {}
    dims: dict[str, str] = {}  # column -> dimension id
    problems: list[str] = []
    value_aliases: dict[str, str] = {}  # normalised dimension value -> dimension id
    used: set[str] = set()
    for target, column in options.columns.items():
        col = column if column in columns else by_key.get(norm_key(column))
        tkey = target.strip()
        if tkey not in _FIELDS and tkey not in dim_ids:
            match = [
                d.id
                for d in rubric.dimensions
                if norm_key(d.name) == norm_key(tkey) or norm_key(d.id) == norm_key(tkey)
            ]
            if match:
                tkey = match[0]
            else:
                problems.append(
                    f"--columns names {target!r}, which is neither a calib field "
                    f"({', '.join(_FIELDS)}) nor a dimension of the rubric"
                )
                continue
        if col is None:
            if tkey in dim_ids:  # in a long file: the name its dimension column uses
                value_aliases[norm_key(column)] = tkey
                continue
            problems.append(
                f"--columns maps {target} to column {column!r}, which the file does not have"
            )
            continue
        if tkey in dim_ids:
            dims[col] = tkey
        else:
            fields[tkey] = col
        used.add(col)
    for fld, aliases in ALIASES.items():
        if fld in fields:
            continue
        for alias in (norm_key(fld), *aliases):
            col = by_key.get(alias)
            if col is not None and col not in used:
                fields[fld] = col
                used.add(col)
                break
    # dimension columns: exact id or name first, then the same without a bracketed part or a
    # trailing "score"/"rating" ("Problem Framing (1-4)", "Evaluation score"), then a unique
    # prefix of the name ("Modeling" for "Modeling choices")
    for stage in (_exact_keys, _loose_keys):
        for d in rubric.dimensions:
            if d.id in dims.values():
                continue
            targets = {norm_key(d.id), norm_key(d.name)}
            hits = [c for c in columns if c not in used and stage(c) & targets]
            if hits:
                dims[hits[0]] = d.id
                used.add(hits[0])
    for c in columns:
        if c in used:
            continue
        keys = _loose_keys(c)
        free = [d for d in rubric.dimensions if d.id not in dims.values()]
        match = [
            d for d in free if any(len(k) >= 4 and norm_key(d.name).startswith(k) for k in keys)
        ]
        if len(match) == 1 and not any(
            len(k) >= 4 and norm_key(o.name).startswith(k)
            for o in rubric.dimensions
            if o is not match[0]
            for k in keys
        ):
            dims[c] = match[0].id
            used.add(c)
    return fields, dims, problems, value_aliases


def _exact_keys(column: str) -> set[str]:
    return {norm_key(column)}


def _loose_keys(column: str) -> set[str]:
    base = re.sub(r"[\(\[].*?[\)\]]", " ", str(column))
    key = norm_key(base)
    out = {key}
    for suffix in ("score", "rating", "level", "grade"):
        if key.endswith(suffix) and len(key) > len(suffix):
            out.add(key[: -len(suffix)])
    return out


def _dimension_list(rubric: Rubric) -> str:
    return ", ".join(f"{d.id} ({d.name!r})" for d in rubric.dimensions)


def prepare_ratings(
    df: pd.DataFrame, rubric: Rubric, options: RatingOptions, source: str
) -> PreparedRatings:
    """Map a raw ratings frame (any layout, with ``_row``) to calib's long layout.

    Parameters
    ----------
    df : DataFrame
        As read from the file (values as text for CSV), with a 1-based ``_row`` column.
    rubric : Rubric
        Gives the dimensions (ids and names), the scale and its labels.
    options : RatingOptions
        ``--columns``, ``--labels``, not-rated values and date options.
    source : str
        File name for messages.

    Returns
    -------
    PreparedRatings
        ``frame``: long rows (``transcript_id``, ``rater_id``, ``dimension``, ``score`` text,
        ...) for :func:`calib.io._validate.validate_ratings`; ``issues``: cells quarantined here
        (unreadable labels, columns of scores that match no dimension); ``not_rated``: cells
        that said N/A or were blank; ``scorecards``: one row per input row with the overall,
        notes and other columns.

    Raises
    ------
    DataValidationError
        When required columns are missing: one message listing every missing or unmatched
        column and the rubric's dimension ids and names.
    """
    columns = [c for c in df.columns if c != "_row"]
    fields, dims, problems, value_aliases = _match_columns(columns, rubric, options, source)
    if value_aliases and "dimension" not in fields:
        problems += [
            f"--columns maps {dim} to column {col!r}, which the file does not have"
            for dim, col in options.columns.items()
            if norm_key(col) in value_aliases
        ]
    reader = _ScoreReader(rubric, options)
    lo = min(sc.min for sc in rubric.scales.values())
    hi = max(sc.max for sc in rubric.scales.values())
    long_layout = "dimension" in fields or ("score" in fields and not dims)
    if not long_layout:
        fields.pop("score", None)  # a "Score"/"Rating" column beside dimension columns: kept as is
    rest = [c for c in columns if c not in fields.values() and c not in dims]
    score_like = [] if long_layout else [c for c in rest if reader.looks_like_scores(df[c], lo, hi)]
    # No rater column at all: anonymous annotation slots (calib.io.ANONYMOUS_PREFIX), said below.
    missing = [f for f in ("transcript_id",) if f not in fields]
    if long_layout:
        missing += [f for f in ("dimension", "score") if f not in fields]
    elif not dims:
        missing.append("a score column per dimension (or 'dimension' and 'score' columns)")
    if missing or problems:
        parts = []
        if missing:
            looked = "; ".join(
                f"{m} (looked for: {', '.join(ALIASES[m][:6])})" if m in ALIASES else m
                for m in missing
            )
            parts.append(f"missing required column(s): {looked}")
        parts += problems
        unmatched = [c for c in rest if c not in ("_row",)]
        if unmatched:
            parts.append(
                "unmatched column(s): "
                + ", ".join(repr(c) for c in unmatched)
                + (
                    f" (of which hold scores: {', '.join(map(repr, score_like))})"
                    if score_like
                    else ""
                )
            )
        parts.append(
            f"the rubric {rubric.id} v{rubric.version} has dimensions: {_dimension_list(rubric)}"
        )
        parts.append(
            'map columns with --columns "transcript_id=COLUMN,rater_id=COLUMN,DIMENSION_ID=COLUMN"'
        )
        raise DataValidationError(f"{source}: cannot read as ratings: " + "; ".join(parts))

    result = PreparedRatings(frame=pd.DataFrame())
    for fld, col in fields.items():
        result.column_roles[col] = fld if fld != "overall" else "scorecards.overall"
    loose = []
    for col, dim in dims.items():
        result.column_roles[col] = f"dimension {dim}"
        d = rubric.dimension(dim)
        if (
            norm_key(col) not in (norm_key(d.id), norm_key(d.name))
            and col not in options.columns.values()
        ):
            loose.append(f"{col!r} -> {dim}")
    if loose:
        result.notes.append(
            f"{source}: columns matched to dimensions by a shortened name (check them; "
            f"--columns overrides): {', '.join(loose)}"
        )
    if "rater_id" not in fields:
        result.notes.append(
            f"{source}: no rater column (looked for: {', '.join(ALIASES['rater_id'][:6])}): the "
            "ratings are stored as anonymous annotation slots (rater_id anon:1, anon:2, ... per "
            "transcript and dimension); agreement is computed, rater effects are not. If the "
            "file has a rater column, map it with --columns rater_id=COLUMN"
        )
    extras = [c for c in rest if c not in score_like]
    for col in extras:
        result.column_roles[col] = "scorecards.metadata"
    for col in score_like:
        result.column_roles[col] = "quarantined: scores for no rubric dimension"

    base = pd.DataFrame({fld: df[col] for fld, col in fields.items() if fld != "overall"})
    if "rater_type" in base.columns:  # common words for a person or a model
        codes, uniq = pd.factorize(base["rater_type"].astype(object), use_na_sentinel=True)
        mapped = np.array(
            [
                _RATER_TYPE_WORDS.get(str(v).strip().lower(), v) if isinstance(v, str) else v
                for v in uniq
            ]
            + [None],
            dtype=object,
        )
        base["rater_type"] = mapped[codes]
    base["_row"] = df["_row"].to_numpy()

    # rated_at: unreadable values are dropped with one warning per file; the score is kept
    if "rated_at" in base.columns:
        stamps, bad, iso = _parse_dates(base["rated_at"], options.date_format, options.dayfirst)
        if bad.any():
            examples = ", ".join(repr(str(v)) for v in base.loc[bad, "rated_at"].unique()[:3])
            result.notes.append(
                f"{source}: {int(bad.sum())} rated_at value(s) could not be read as dates "
                f"(e.g. {examples}); the dates were dropped and the scores kept "
                "(use --date-format, e.g. '%d.%m.%Y', or --dayfirst)"
            )
        # ISO values stay as written (validation reads them); others become ISO text
        rated = base["rated_at"].astype(object).where(iso, None)
        other = stamps.notna() & ~iso
        if other.any():
            rated[other] = stamps[other].map(lambda t: t.isoformat())
        base["rated_at"] = rated

    issues: list[Issue] = []

    records: dict[Any, str] = {}

    def record_of(idx) -> str:
        # One JSON text per input row, shared by all its quarantined cells: building it per
        # cell was quadratic on wide files (10,000 unknown columns never finished).
        if idx not in records:
            from calib.io._validate import canonical_json

            row = df.loc[idx].drop(labels=["_row"])
            records[idx] = canonical_json(
                {k: (None if _is_blank(v) else v) for k, v in row.items()}
            )[:20000]
        return records[idx]

    if long_layout:
        dim_text = base["dimension"].astype(object)
        lookup = {}
        for d in rubric.dimensions:
            lookup[norm_key(d.id)] = d.id
            lookup[norm_key(d.name)] = d.id
        lookup.update(value_aliases)  # --columns "problem_framing=Problem Solving"
        codes, uniq = pd.factorize(dim_text, use_na_sentinel=True)
        mapped = np.array(
            [v if not isinstance(v, str) else lookup.get(norm_key(v), v) for v in uniq] + [None],
            dtype=object,
        )
        base["dimension"] = mapped[codes]  # code -1 (missing) takes the trailing None
        conv, na, bad = reader.convert(base["score"], base["dimension"])
        base["score"] = conv
        for idx in base.index[bad]:
            issues.append(
                _label_issue(
                    source,
                    int(base.at[idx, "_row"]),
                    "score",
                    base.at[idx, "score"],
                    reader,
                    record_of(idx),
                )
            )
        result.not_rated = int(na.sum())
        long = base[~na & ~bad]
    else:
        pieces = []
        ids = [c for c in base.columns if c != "_row"]
        for col, dim in dims.items():
            conv, na, bad = reader.convert(df[col], dim)
            result.not_rated += int(na.sum())
            for idx in df.index[bad]:
                issues.append(
                    _label_issue(
                        source,
                        int(df.at[idx, "_row"]),
                        dim,
                        df.at[idx, col],
                        reader,
                        record_of(idx),
                    )
                )
            keep = ~na & ~bad
            piece = base.loc[keep, ids + ["_row"]].copy()
            piece["dimension"] = dim
            piece["score"] = conv[keep]
            pieces.append(piece)
        for col in score_like:
            conv, na, bad = reader.convert(df[col])
            result.not_rated += int(na.sum())
            for idx in df.index[~na]:
                issues.append(
                    Issue(
                        source,
                        int(df.at[idx, "_row"]),
                        col,
                        f"column {col!r} holds scores but matches no dimension of rubric "
                        f"{rubric.id} v{rubric.version} ({_dimension_list(rubric)}); map it "
                        "with --columns or rename it",
                        record_of(idx),
                    )
                )
        long = pd.concat(pieces) if pieces else base.iloc[0:0].assign(dimension=[], score=[])
        order = {d.id: i for i, d in enumerate(rubric.dimensions)}
        long = (
            long.assign(_dim_order=long["dimension"].map(order))
            .sort_values(["_row", "_dim_order"], kind="stable")
            .drop(columns="_dim_order")
        )
    result.frame = long.reset_index(drop=True)
    result.issues = issues

    # the scorecard: overall, notes and every other column, one row per input row
    # only when the file has something beyond the ratings (the notes alone are the rationale)
    if (fields.get("overall") or extras) and "transcript_id" in fields and "rater_id" in fields:
        sc = pd.DataFrame(
            {
                "transcript_id": df[fields["transcript_id"]].astype(object),
                "rater_id": df[fields["rater_id"]].astype(object),
                "row": df["_row"].astype("int64"),
            }
        )
        if "overall" in fields:
            raw = df[fields["overall"]].astype(object)
            conv, na, bad = reader.convert(raw)
            sc["overall"] = raw.map(lambda v: None if _is_blank(v) else str(v).strip())
            nums = pd.to_numeric(conv.where(~na & ~bad).astype(object), errors="coerce")
            sc["overall_score"] = nums.astype("float64")
        else:
            sc["overall"] = None
            sc["overall_score"] = np.nan
        sc["notes"] = (
            df[fields["rationale"]].astype(object).map(lambda v: None if _is_blank(v) else str(v))
            if "rationale" in fields
            else None
        )
        sc["metadata"] = (
            [
                json.dumps(
                    {
                        c: (str(v) if not isinstance(v, (int, float, bool)) else v)
                        for c, v in zip(extras, vals, strict=False)
                        if not _is_blank(v)
                    },
                    sort_keys=True,
                    ensure_ascii=False,
                    default=str,
                )
                for vals in df[extras].itertuples(index=False, name=None)
            ]
            if extras
            else "{}"
        )
        sc = sc[
            sc["transcript_id"].map(lambda v: not _is_blank(v))
            & sc["rater_id"].map(lambda v: not _is_blank(v))
        ]
        sc["transcript_id"] = sc["transcript_id"].map(lambda v: str(v).strip())
        sc["rater_id"] = sc["rater_id"].map(lambda v: str(v).strip())
        result.scorecards = sc.reset_index(drop=True)
    return result


def _label_issue(
    source: str, row: int, fld: str, value: Any, reader: _ScoreReader, record: str
) -> Issue:
    return Issue(
        source,
        row,
        "score",
        f"score {str(value)!r} is not a number, a score label or a not-rated value ("
        + ("" if fld == "score" else f"dimension {fld}; ")
        + f"labels: {', '.join(reader.known_labels)}, or add one with --labels; "
        "not rated: N/A, NA, -, blank, or --na-values)",
        record,
    )

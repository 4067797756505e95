"""Validate raw records against the data model and the rubric.

Transcripts are nested (turns), so they are checked record by record; ratings are flat and
checked column-wise with pandas. Every rejected row becomes an :class:`Issue` with the field
and a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from calib.io._readers import Issue, _Unparsed
from calib.io._schema import (
    ANONYMOUS_PREFIX,
    RATER_TYPES,
    RATING_KEY,
    SPEAKERS,
    TRANSCRIPT_REQUIRED,
)
from calib.rubric import Rubric

__all__ = [
    "screen_raw_ratings",
    "validate_transcript",
    "validate_ratings",
    "canonical_json",
    "melt_wide_ratings",
]

_TRANSCRIPT_FIELDS = {
    "transcript_id",
    "question_id",
    "question_type",
    "interviewed_at",
    "turns",
    "metadata",
}


#: invisible characters removed from ids: zero-width space/non-joiner/joiner, word joiner,
#: zero-width no-break space (BOM), Mongolian vowel separator, soft hyphen
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad]")


def normalise_id(value: Any) -> str:
    """An id as calib stores it: text in Unicode NFC, invisible characters removed, stripped.

    Ids that differ only by normalisation (``"café"`` typed as e + combining accent) or by a
    zero-width character are the same id, so they cannot split one transcript or rater in two.

    Examples
    --------
    >>> normalise_id("cafe\u0301\u200b") == "caf\u00e9"
    True
    """
    text = str(value)
    if not text.isascii():
        text = _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text))
    return text.strip()


def _normalise_id_series(text: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_id` for a text column (only non-ASCII values are touched)."""
    odd = text.notna() & ~text.fillna("").str.isascii().astype(bool)
    if not odd.any():
        return text
    out = text.copy()
    fixed = text[odd].astype(object).map(normalise_id)
    out[odd] = fixed
    return out.mask(out == "")


def _finite(obj: Any) -> Any:
    """``obj`` with NaN as null and +/-Infinity as the strings "Infinity"/"-Infinity"."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _infinite_key(obj: Any, path: str) -> str | None:
    """Path of the first +/-Infinity inside ``obj`` (JSON cannot represent it), else None."""
    if isinstance(obj, float) and math.isinf(obj):
        return path
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = ((f"[{i}]", v) for i, v in enumerate(obj))
    else:
        return None
    for k, v in items:
        sub = f"{path}{k}" if str(k).startswith("[") else f"{path}.{k}"
        hit = _infinite_key(v, sub)
        if hit:
            return hit
    return None


def canonical_json(obj: Any) -> str:
    """Deterministic, standard JSON (sorted keys, no spaces) for hashing and quarantine records.

    Never writes the non-standard ``NaN``/``Infinity`` tokens: NaN becomes ``null`` and
    +/-Infinity the strings ``"Infinity"``/``"-Infinity"``.

    Examples
    --------
    >>> canonical_json({"b": float("nan"), "a": 1})
    '{"a":1,"b":null}'
    """
    kw = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "default": str}
    try:
        return json.dumps(obj, allow_nan=False, **kw)
    except ValueError:
        return json.dumps(_finite(obj), allow_nan=False, **kw)
    except RecursionError:
        return json.dumps("<record nested too deeply to show>")


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_timestamp(value: Any) -> datetime | None:
    """Parse an ISO 8601 timestamp (naive = UTC); raises ValueError when unparseable."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, pd.Timestamp):
        ts = value.to_pydatetime()
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    try:
        return ts.astimezone(timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise _OutOfRange(f"{value!r} is outside the years 1-9999 once converted to UTC") from None


class _OutOfRange(ValueError):
    """A valid timestamp whose UTC time is not representable (years 1-9999)."""


def validate_transcript(rec: dict, source: str, row: int) -> tuple[dict | None, list[Issue]]:
    """Check one raw transcript record; return the canonical record or the issues.

    Extra top-level keys are moved into ``metadata`` (so flat CSV columns such as
    ``seniority`` become subgroup attributes) rather than dropped.
    """

    def bad(field: str | None, reason: str) -> tuple[None, list[Issue]]:
        raw = canonical_json({k: v for k, v in rec.items() if not isinstance(v, _Unparsed)})[:20000]
        return None, [Issue(source, row, field, reason, raw)]

    for key in TRANSCRIPT_REQUIRED:
        if _blank(rec.get(key)) if key != "turns" else rec.get(key) is None:
            return bad(key, f"missing required field {key!r}")
    out: dict[str, Any] = {}
    for key in ("transcript_id", "question_id", "question_type"):
        value = rec[key]
        if isinstance(value, (dict, list, tuple, bool, np.ndarray, np.bool_)):
            # never store an object's Python text ("{'name': 't1'}") or True as an id
            kind = "true/false" if isinstance(value, (bool, np.bool_)) else type(value).__name__
            return bad(key, f"{key} must be text or a number, got {kind}")
        out[key] = normalise_id(value)
    try:
        out["interviewed_at"] = parse_timestamp(rec.get("interviewed_at"))
    except _OutOfRange as exc:
        return bad("interviewed_at", f"interviewed_at {exc}")
    except (TypeError, ValueError, OverflowError):
        return bad("interviewed_at", f"not an ISO 8601 timestamp: {rec.get('interviewed_at')!r}")

    turns = rec["turns"]
    if isinstance(turns, _Unparsed):
        return bad("turns", turns.reason)
    if isinstance(turns, np.ndarray):
        turns = turns.tolist()
    if not isinstance(turns, list) or not turns:
        return bad("turns", "turns must be a non-empty list of {speaker, text} objects")
    clean_turns = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            return bad(
                f"turns[{i}]",
                f"expected an object with speaker and text, got {type(turn).__name__}",
            )
        speaker = turn.get("speaker")
        if isinstance(speaker, str) and speaker.strip().lower() in SPEAKERS:
            speaker = speaker.strip().lower()  # roles are case-insensitive
        if speaker not in SPEAKERS:
            return bad(
                f"turns[{i}].speaker",
                f"speaker must be one of {', '.join(SPEAKERS)}, got {speaker!r}",
            )
        text = turn.get("text")
        if not isinstance(text, str):
            return bad(
                f"turns[{i}].text",
                "missing turn text" if text is None else "turn text must be a string",
            )
        if not text.strip():
            return bad(f"turns[{i}].text", "empty transcript text")
        start = turn.get("start_s")
        if _blank(start):
            start = None
        else:
            try:
                start = float(start)
            except (TypeError, ValueError):
                return bad(
                    f"turns[{i}].start_s", f"start_s must be a number of seconds, got {start!r}"
                )
            if not math.isfinite(start) or start < 0:
                return bad(
                    f"turns[{i}].start_s", f"start_s must be a non-negative number, got {start!r}"
                )
        clean = {"speaker": speaker, "text": text, "start_s": start}
        # optional: the speaker's name as the source wrote it, and the end time (seconds)
        name = turn.get("name")
        if not _blank(name) and not isinstance(name, (dict, list)):
            clean["name"] = str(name).strip()
        end = turn.get("end_s")
        if not _blank(end):
            try:
                end = float(end)
            except (TypeError, ValueError):
                end = None
            if end is not None and math.isfinite(end) and end >= 0:
                clean["end_s"] = end
        clean_turns.append(clean)
    if not any(t["speaker"] == "candidate" for t in clean_turns):
        return bad("turns", "no candidate turn: nothing to rate")
    out["turns"] = clean_turns

    metadata = rec.get("metadata")
    if isinstance(metadata, _Unparsed):
        return bad("metadata", metadata.reason)
    if _blank(metadata):
        metadata = {}
    if not isinstance(metadata, dict):
        return bad(
            "metadata", f"metadata must be an object of attributes, got {type(metadata).__name__}"
        )
    metadata = dict(metadata)
    for key, value in rec.items():
        if key not in _TRANSCRIPT_FIELDS and not key.startswith("_") and not _blank(value):
            metadata.setdefault(key, value)
    try:
        inf = _infinite_key(metadata, "metadata")
    except RecursionError:
        return bad("metadata", "metadata nested too deeply (more than ~1,000 levels)")
    if inf:
        return bad(inf, f"{inf} is Infinity, which JSON cannot represent; give a finite value")
    out["metadata"] = canonical_json(metadata)  # NaN (a missing value) is stored as null
    # Hash fields in a fixed order with unit/record separators: cheaper than canonical JSON of
    # the whole record and the same for the same transcript whatever the input format.
    parts = [
        out["transcript_id"],
        out["question_id"],
        out["question_type"],
        out["interviewed_at"].isoformat() if out["interviewed_at"] else "",
        out["metadata"],
    ]
    parts += [
        f"{t['speaker']}\x1f{t['text']}\x1f{t['start_s']}"
        # name/end only when given, so hashes of transcripts without them are unchanged
        + "".join(f"\x1f{k}={t[k]}" for k in ("name", "end_s") if k in t)
        for t in clean_turns
    ]
    out["content_hash"] = hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()
    return out, []


def melt_wide_ratings(df: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Turn wide ratings (one column per dimension id) into the long layout.

    Examples
    --------
    >>> wide = pd.DataFrame({"transcript_id": ["t1"], "rater_id": ["r1"], "structure": [3]})
    >>> melt_wide_ratings(wide, rubric)[["dimension", "score"]]  # doctest: +SKIP
    """
    dims = [d for d in rubric.dimension_ids if d in df.columns]
    id_cols = [c for c in df.columns if c not in dims]
    long = df.melt(id_vars=id_cols, value_vars=dims, var_name="dimension", value_name="score")
    # wide files leave a dimension blank when it was not rated: that is not a rating
    long = long[~long["score"].map(_blank)]
    return long.sort_values(["_row", "dimension"], kind="stable").reset_index(drop=True)


def _as_text(series: pd.Series) -> pd.Series:
    """Vectorised: values as stripped text, blanks as <NA> (string dtype)."""
    # pyarrow-backed strings: strip/compare run in Arrow compute, not a Python loop per cell
    text = series.astype("string[pyarrow]").str.strip()
    return text.mask(text == "")


def _blank_series(series: pd.Series) -> pd.Series:
    return _as_text(series).isna()


def _valid_text(scale) -> str:
    """How a score error describes the valid values: '1-4 integers', '1-7, any number'."""
    rng = f"{scale.min:g}-{scale.max:g}"
    return f"{rng}, any number" if scale.continuous else f"{rng} integers"


def validate_ratings(
    df: pd.DataFrame,
    rubric: Rubric,
    source: str,
    known_transcripts: set[str] | pd.Index | None,
    *,
    allow_unscored: bool = False,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Column-wise validation of a raw long ratings frame (must have ``_row``).

    Returns the valid rows in the store's column layout and one issue per rejected row
    (the first failing check wins). Duplicates are handled by the caller (store-aware).
    ``known_transcripts=None`` accepts any transcript id (a ratings-only store).
    """
    n = len(df)
    if "dimension" not in df.columns and any(d in df.columns for d in rubric.dimension_ids):
        df = melt_wide_ratings(df, rubric)
        n = len(df)
    reason = pd.Series([None] * n, index=df.index, dtype="object")
    field = pd.Series([None] * n, index=df.index, dtype="object")

    def flag(mask: pd.Series, fld: str, why) -> None:
        """Record the first failing check per row; ``why`` is text or a callable that builds
        the messages for the flagged rows only (so clean data pays nothing for messages).
        """
        mask = mask.fillna(False).astype(bool) & reason.isna()
        if mask.any():
            reason[mask] = why(mask) if callable(why) else why
            field[mask] = fld

    cols: dict[str, pd.Series] = {}
    if "rater_id" not in df.columns and "transcript_id" in df.columns:
        # No rater identities at all: anonymous annotation slots, numbered per transcript x
        # dimension in file order (ANONYMOUS_PREFIX; docs/data-model.md).
        keys = [df["transcript_id"].astype(str)]
        if "dimension" in df.columns:
            keys.append(df["dimension"].astype(str))
        slot = df.groupby(keys, sort=False, dropna=False).cumcount() + 1
        df = df.assign(rater_id=ANONYMOUS_PREFIX + slot.astype(str))
    for key in ("transcript_id", "rater_id", "dimension"):
        if key not in df.columns:
            raise_missing = pd.Series(True, index=df.index)
            flag(raise_missing, key, f"missing required field {key!r} (no such column)")
            cols[key] = pd.Series([None] * n, index=df.index, dtype="object")
        else:
            cols[key] = _as_text(df[key])
            if key != "dimension":
                cols[key] = _normalise_id_series(cols[key])
            flag(cols[key].isna(), key, f"missing required field {key!r}")

    if "rater_type" in df.columns:
        rt = _as_text(df["rater_type"]).fillna("human").str.lower().astype(object)
        flag(
            ~rt.isin(RATER_TYPES),
            "rater_type",
            lambda m: (
                "rater_type must be one of "
                + ", ".join(RATER_TYPES)
                + ", got "
                + rt[m].astype(str).map(repr)
            ),
        )
    else:
        rt = pd.Series("human", index=df.index, dtype="object")
    cols["rater_type"] = rt

    dims = set(rubric.dimension_ids)
    flag(
        cols["dimension"].notna() & ~cols["dimension"].isin(dims),
        "dimension",
        lambda m: (
            "unknown dimension "
            + cols["dimension"][m].astype(str).map(repr)
            + f" (rubric {rubric.id} v{rubric.version} has: "
            + ", ".join(rubric.dimension_ids)
            + ")"
        ),
    )

    if "score" not in df.columns:
        flag(
            pd.Series(True, index=df.index),
            "score",
            "missing required field 'score' (no such column)",
        )
        score = pd.Series(np.nan, index=df.index)
    else:
        raw_score = df["score"]
        score = pd.to_numeric(raw_score, errors="coerce").astype("float64")
        blank_score = _blank_series(raw_score)
        unscored_reason = (
            _as_text(df["unscored_reason"]) if "unscored_reason" in df.columns else None
        )
        if allow_unscored and unscored_reason is not None:
            may_be_blank = unscored_reason.notna() & (rt != "human")
        else:
            may_be_blank = pd.Series(False, index=df.index)
        flag(blank_score & ~may_be_blank, "score", "missing required field 'score'")
        flag(
            ~blank_score & score.isna(),
            "score",
            lambda m: "score is not a number: " + raw_score[m].astype(str).map(repr),
        )
        # each dimension's own scale (or the rubric's): range, and integers unless continuous
        scales = rubric.scales
        dim_text = cols["dimension"].astype(object)

        def pick(get):
            default = get(rubric.scale)
            return dim_text.map({d: get(sc) for d, sc in scales.items()}).fillna(default)

        lo = pick(lambda sc: sc.min).astype("float64")
        hi = pick(lambda sc: sc.max).astype("float64")
        cont = pick(lambda sc: sc.continuous).astype(bool)
        desc = pick(_valid_text)
        off = score.notna() & ((score < lo) | (score > hi) | (~cont & (score != np.round(score))))
        flag(
            off,
            "score",
            lambda m: (
                "score "
                + score[m].map("{:g}".format)
                + " is off the rubric scale ("
                + desc[m].astype(str)
                + ")"
            ),
        )
    cols["score"] = score

    for key, expected in (("rubric_id", rubric.id), ("rubric_version", rubric.version)):
        if key in df.columns:
            given = _as_text(df[key])
            given_filled = given.fillna(expected)
            flag(
                given_filled != expected,
                key,
                lambda m, g=given_filled, k=key, e=expected: (
                    f"{k} " + g[m].astype(str).map(repr) + f" does not match the rubric ({e!r}); "
                    "ratings made against another rubric version cannot be pooled"
                ),
            )
            cols[key] = given_filled
        else:
            cols[key] = pd.Series(expected, index=df.index, dtype="object")

    if "rated_at" in df.columns:
        rated_text = _as_text(df["rated_at"])
        rated = pd.to_datetime(
            rated_text.astype(object).where(rated_text.notna(), None),
            utc=True,
            errors="coerce",
            format="ISO8601",
        )
        flag(
            rated_text.notna() & rated.isna(),
            "rated_at",
            lambda m: (
                "rated_at is not an ISO 8601 timestamp: " + rated_text[m].astype(str).map(repr)
            ),
        )
        years = rated.dt.year
        flag(
            rated.notna() & ((years < 1) | (years > 9999)),
            "rated_at",
            lambda m: (
                "rated_at "
                + rated_text[m].astype(str).map(repr)
                + " is outside the years 1-9999 once converted to UTC"
            ),
        )
        cols["rated_at"] = rated
    else:
        cols["rated_at"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")

    for key in ("rationale", "run_id", "unscored_reason"):
        cols[key] = (
            _as_text(df[key])
            if key in df.columns
            else pd.Series([None] * n, index=df.index, dtype="object")
        )

    if known_transcripts is None:  # ratings-only store: any transcript id is accepted
        known = None
    else:
        known = (
            known_transcripts
            if isinstance(known_transcripts, pd.Index)
            else pd.Index(list(known_transcripts))
        )
    if known is not None:
        flag(
            cols["transcript_id"].notna() & ~cols["transcript_id"].isin(known),
            "transcript_id",
            lambda m: (
                "rating for transcript "
                + cols["transcript_id"][m].astype(str).map(repr)
                + " that does not exist (not in this batch or the store)"
            ),
        )

    out = pd.DataFrame(cols)
    bad = reason.notna()
    issues: list[Issue] = []
    if bad.any():
        raw_records = df.loc[bad].drop(columns=["_row"], errors="ignore")
        records = [
            canonical_json({k: (None if _blank(v) else v) for k, v in r.items()})
            for r in raw_records.to_dict("records")
        ]
        issues = [
            Issue(source, int(row), fld, why, rec)
            for row, fld, why, rec in zip(df.loc[bad, "_row"], field[bad], reason[bad], records)
        ]
    good = out.loc[~bad].copy()
    good["_row"] = df.loc[~bad, "_row"].to_numpy()
    return good.reset_index(drop=True), issues


_NAN_SCORE = -1e300  # stands for "unscored" when comparing scores (NaN != NaN)


def rating_key_hash(df: pd.DataFrame) -> np.ndarray:
    """64-bit hash of each row's (transcript_id, rater_id, dimension) key.

    Duplicate detection keeps only these hashes and the scores in memory, not the key strings,
    so memory stays small on millions of rows (collision odds ~n²/2⁶⁵: 3e-7 at 3.5 M rows).
    """
    keys = df[RATING_KEY].astype(object)
    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


def seen_scores(df: pd.DataFrame) -> pd.Series:
    """Scores indexed by key hash (input for :func:`split_duplicates`)."""
    return pd.Series(
        df["score"].fillna(_NAN_SCORE).to_numpy(), index=rating_key_hash(df), dtype="float64"
    )


def split_duplicates(
    new: pd.DataFrame, seen: pd.Series, source: str
) -> tuple[pd.DataFrame, list[Issue], int]:
    """Drop exact re-ratings, quarantine conflicting ones.

    A key (transcript x rater x dimension) rated more than once with *different* scores is a
    conflict: calib cannot know which score is right, so all conflicting new rows are
    quarantined. Identical repeats (re-ingesting a file) are skipped and counted.

    Parameters
    ----------
    new : DataFrame
        Validated rows (with ``_row``).
    seen : Series
        Scores of keys already accepted (the store plus earlier batches), from :func:`seen_scores`.

    Returns (rows to write, issues, number of identical duplicates skipped).
    """
    if new.empty:
        return new, [], 0
    h = rating_key_hash(new)
    score = new["score"].fillna(_NAN_SCORE).to_numpy()
    frame = pd.DataFrame({"h": h, "s": score})
    conflict = (frame.groupby("h", sort=False)["s"].transform("nunique") > 1).to_numpy()
    issues: list[Issue] = []
    for row, tid, rid, dim, sc in new.loc[conflict, ["_row", *RATING_KEY, "score"]].itertuples(
        index=False
    ):
        issues.append(
            Issue(
                source,
                int(row),
                "score",
                f"conflicting duplicate: {tid} x {rid} x {dim} is rated more than once with "
                f"different scores in this input (this row: {sc:g})",
                canonical_json(
                    {"transcript_id": tid, "rater_id": rid, "dimension": dim, "score": sc}
                ),
            )
        )
    first = ~frame["h"].duplicated(keep="first").to_numpy()
    keep_mask = ~conflict & first
    skipped = int((~conflict & ~first).sum())
    if len(seen):
        old = seen[~seen.index.duplicated()].reindex(h).to_numpy()
        present = ~np.isnan(old)
        same = present & (old == score)
        clash = keep_mask & present & ~same
        if clash.any():
            for (row, tid, rid, dim, sc), o in zip(
                new.loc[clash, ["_row", *RATING_KEY, "score"]].itertuples(index=False), old[clash]
            ):
                shown = "unscored" if o == _NAN_SCORE else f"{o:g}"
                issues.append(
                    Issue(
                        source,
                        int(row),
                        "score",
                        f"conflicting duplicate: {tid} x {rid} x {dim} was already accepted (in the store "
                        f"or earlier in this input) with score {shown}; this row says {sc:g}",
                        canonical_json(
                            {"transcript_id": tid, "rater_id": rid, "dimension": dim, "score": sc}
                        ),
                    )
                )
        skipped += int((keep_mask & same).sum())
        keep_mask &= ~present
    return new.loc[keep_mask], issues, skipped


_NESTED = (dict, list, tuple, np.ndarray)


def screen_raw_ratings(
    df: pd.DataFrame, rubric: Rubric, source: str
) -> tuple[pd.DataFrame, list[Issue]]:
    """Quarantine raw rating rows holding values no rating field can take, before any mapping.

    A rating row is flat: an object or a list in any of its cells (e.g. a JSON rater id
    ``{"name": "r1"}``) would otherwise be stored as its Python text, so the row is
    quarantined. A true/false value in ``score`` or in a column named like a rubric dimension
    (wide layout) is not a score (it used to be stored as 1.0 / 0.0). CSV input is all text,
    so only JSON, Parquet and Hugging Face inputs pay for this check.

    Returns the remaining rows and one issue per quarantined row.
    """
    score_cols = {"score"} | set(rubric.dimension_ids)
    bad = pd.Series(False, index=df.index)
    reason = pd.Series(None, index=df.index, dtype=object)
    field = pd.Series(None, index=df.index, dtype=object)
    for col in df.columns:
        if col == "_row":
            continue
        series = df[col]
        if series.dtype == bool:
            hit = pd.Series(col in score_cols, index=df.index)
            kinds = pd.Series("true/false", index=df.index)
        elif series.dtype == object:
            kinds = series.map(
                lambda v: (
                    type(v).__name__
                    if isinstance(v, _NESTED)
                    else "true/false"
                    if isinstance(v, (bool, np.bool_))
                    else ""
                )
            )
            hit = (kinds != "") & ((kinds != "true/false") | (col in score_cols))
        else:
            continue
        new = hit & ~bad
        if new.any():
            if col in score_cols:
                why = kinds[new].map(
                    lambda k, c=col: (
                        f"{c} is true/false, not a score"
                        if k == "true/false"
                        else f"{c} must be a number, got {k}"
                    )
                )
            else:
                why = kinds[new].map(lambda k, c=col: f"{c} must be text or a number, got {k}")
            reason[new] = why
            field[new] = col
            bad |= new
    if not bad.any():
        return df, []
    rows = df.loc[bad]
    issues = [
        Issue(
            source,
            int(r),
            f,
            why,
            canonical_json({k: v for k, v in rec.items() if k != "_row"})[:20000],
        )
        for r, f, why, rec in zip(rows["_row"], field[bad], reason[bad], rows.to_dict("records"))
    ]
    return df.loc[~bad].reset_index(drop=True), issues

"""Vectorised evaluation of compiled signal rules over a turns table.

Every rule runs once over *all* turns with pyarrow's RE2 kernels (no Python loop over
transcripts or turns); Python only touches the few turns that produced evidence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calib.graders.rules._schema import DimensionSignals, Matcher, Rule

__all__ = ["evaluate_dimension", "EVIDENCE_COLUMNS"]

EVIDENCE_COLUMNS = [
    "transcript_id",
    "dimension",
    "signal",
    "weight",
    "span_text",
    "turn_index",
    "start",
    "end",
    "count",
]

# Words too common to show that an answer picked up the interviewer's constraint.
_STOPWORDS = pd.Index(
    """the and for that this with what would you your have has had are was were will can could
    should about into from then than them they their there these those which when where while
    how why who its it's our out not but all any also just like some more most much very been
    being does did doing let's lets okay yeah well sure think going want need make use using
    say said now let how's what's that's thing things way really get got one two
    change changes changed changing handle handles affect affects approach design differently
    still case anything something""".split()
)
_TOKEN_RE = r"[a-z0-9]+"


class _Texts:
    """Turn texts as pyarrow arrays, sliced once per speaker."""

    def __init__(self, turns: pd.DataFrame):
        self.turns = turns
        self.all = pa.array(turns["text"].to_numpy(dtype=object), pa.string())
        self._rows: dict[str, np.ndarray] = {}
        self._arr: dict[str, pa.Array] = {}

    def rows(self, speaker: str) -> np.ndarray:
        if speaker not in self._rows:
            if speaker == "any":
                self._rows[speaker] = np.arange(len(self.turns))
            else:
                self._rows[speaker] = np.flatnonzero(self.turns["speaker"].to_numpy() == speaker)
        return self._rows[speaker]

    def arr(self, speaker: str) -> pa.Array:
        if speaker not in self._arr:
            self._arr[speaker] = self.all.take(pa.array(self.rows(speaker)))
        return self._arr[speaker]


def _count(arr: pa.Array, m: Matcher) -> np.ndarray:
    return pc.count_substring_regex(arr, m.regex).to_numpy(zero_copy_only=False).astype(np.int64)


def _spans(texts: _Texts, rows: np.ndarray, m: Matcher) -> pd.DataFrame:
    """First match of ``m`` in each given turn row: span text and character offsets."""
    if len(rows) == 0:
        return pd.DataFrame({"row": rows, "span_text": [], "start": [], "end": []})
    arr = texts.all.take(pa.array(rows))
    body = m.regex[4:] if m.regex.startswith("(?i)") else m.regex
    matched = pc.struct_field(pc.extract_regex(arr, f"(?i)(?P<m>{body})"), [0])
    found = matched.to_numpy(zero_copy_only=False)
    start = pc.find_substring_regex(arr, m.regex).to_numpy(zero_copy_only=False).astype(np.int64)
    # RE2 reports byte offsets; they equal character offsets for ASCII text. Convert the
    # (rare) non-ASCII rows in Python.
    ascii_ = pc.string_is_ascii(arr).to_numpy(zero_copy_only=False)
    if not ascii_.all():
        texts_np = arr.to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(~ascii_ & (start >= 0)):
            start[i] = len(texts_np[i].encode("utf-8")[: start[i]].decode("utf-8", "ignore"))
    lengths = pc.fill_null(pc.utf8_length(matched), 0)
    lengths = lengths.to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.DataFrame({"row": rows, "span_text": found, "start": start, "end": start + lengths})


def _evidence(
    texts: _Texts,
    rows: np.ndarray,
    counts: np.ndarray,
    m: Matcher,
    dim: str,
    signal: str,
    weight: float,
) -> pd.DataFrame:
    spans = _spans(texts, rows, m)
    t = texts.turns
    return pd.DataFrame(
        {
            "pos": t["pos"].to_numpy()[rows],
            "transcript_id": t["transcript_id"].to_numpy()[rows],
            "dimension": dim,
            "signal": signal,
            "weight": float(weight),
            "span_text": spans["span_text"].to_numpy(),
            "turn_index": t["turn_index"].to_numpy()[rows],
            "start": spans["start"].to_numpy(),
            "end": spans["end"].to_numpy(),
            "count": counts,
        }
    )


def _phrases(rule: Rule, texts: _Texts, n: int, words: np.ndarray, dim: str):
    rows = texts.rows(rule.speaker)
    counts = _count(texts.arr(rule.speaker), rule.match)
    pos = texts.turns["pos"].to_numpy()[rows]
    total = np.bincount(pos, weights=counts, minlength=n)
    if rule.count == "presence":
        value = (total > 0).astype(float)
    elif rule.count == "capped":
        value = np.minimum(total, rule.cap) / rule.cap
    else:  # per_100_words: density, so long answers do not win by length alone
        value = np.minimum(100.0 * total / np.maximum(words, 1.0), rule.cap) / rule.cap
    hit = counts > 0
    ev = _evidence(texts, rows[hit], counts[hit], rule.match, dim, rule.id, rule.weight)
    return value, ev


def _first_key(texts: _Texts, m: Matcher, n: int):
    """Position (turn_index, byte offset) of the first candidate match per transcript."""
    rows = texts.rows("candidate")
    off = pc.find_substring_regex(texts.arr("candidate"), m.regex).to_numpy(zero_copy_only=False)
    ok = off >= 0
    t = texts.turns
    key = t["turn_index"].to_numpy()[rows][ok].astype(np.float64) * 1e9 + off[ok]
    first = np.full(n, np.inf)
    np.minimum.at(first, t["pos"].to_numpy()[rows][ok], key)
    # the row of that first match, for the evidence
    best = pd.DataFrame({"pos": t["pos"].to_numpy()[rows][ok], "key": key, "row": rows[ok]})
    best = best.sort_values(["pos", "key"], kind="stable").drop_duplicates("pos")
    return first, best["row"].to_numpy()


def _before(rule: Rule, texts: _Texts, n: int, dim: str):
    first_a, rows_a = _first_key(texts, rule.first, n)
    first_b, rows_b = _first_key(texts, rule.then, n)
    value = (np.isfinite(first_a) & (first_a < first_b)).astype(float)
    ev_a = _evidence(
        texts,
        rows_a,
        np.ones(len(rows_a), np.int64),
        rule.first,
        dim,
        f"{rule.id}.first",
        rule.weight,
    )
    ev_b = _evidence(
        texts,
        rows_b,
        np.ones(len(rows_b), np.int64),
        rule.then,
        dim,
        f"{rule.id}.then",
        rule.weight,
    )
    return value, pd.concat([ev_a, ev_b], ignore_index=True)


def _tokens(arr: pa.Array, pair: np.ndarray) -> pd.DataFrame:
    split = pc.split_pattern_regex(pc.utf8_lower(arr), r"[^a-z0-9]+")
    flat = pc.list_flatten(split).to_numpy(zero_copy_only=False)
    parent = pc.list_parent_indices(split).to_numpy(zero_copy_only=False)
    tok = pd.DataFrame({"pair": pair[parent], "token": flat})
    keep = (tok["token"].str.len() >= 3) & ~tok["token"].isin(_STOPWORDS)
    return tok[keep].drop_duplicates()


def _any(arr: pa.Array, m: Matcher | None) -> np.ndarray:
    """Whether each text matches ``m`` (all False for an absent or empty matcher)."""
    if m is None or not (m.phrases or m.patterns) or len(arr) == 0:
        return np.zeros(len(arr), bool)
    return _count(arr, m) > 0


def _followup(rule: Rule, texts: _Texts, n: int, dim: str):
    t = texts.turns
    pos = t["pos"].to_numpy()
    irows = texts.rows("interviewer")
    iarr = texts.arr("interviewer")
    # wrap-up prompts ("can you summarise?") are never follow-ups, whatever else they say
    trig = (_count(iarr, rule.trigger) > 0) & ~_any(iarr, rule.unless)
    crow = texts.rows("candidate")
    # the next candidate turn after each interviewer turn, within the same transcript
    nxt_i = np.searchsorted(crow, irows + 1)
    has_next = nxt_i < len(crow)
    nxt = np.where(
        has_next, crow[np.minimum(nxt_i, max(len(crow) - 1, 0))] if len(crow) else -1, -1
    )
    has_next &= (nxt >= 0) & (pos[np.maximum(nxt, 0)] == pos[irows])
    # a constraint before the candidate has spoken is the question itself, not a follow-up
    first_cand = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_cand, pos[crow], crow)
    sel = trig & has_next & (irows > first_cand[pos[irows]])
    trig_rows, resp_rows = irows[sel], nxt[sel]
    resp_arr = texts.all.take(pa.array(resp_rows, pa.int64()))
    addressed = _any(resp_arr, rule.response)
    overlap_words = pd.Series([""] * len(trig_rows), dtype=object)
    if len(trig_rows) and rule.min_overlap > 0:
        pair = np.arange(len(trig_rows))
        a = _tokens(texts.all.take(pa.array(trig_rows)), pair)
        b = _tokens(resp_arr, pair)
        shared = a.merge(b, on=["pair", "token"])
        n_shared = np.bincount(shared["pair"].to_numpy(), minlength=len(pair))
        addressed |= n_shared >= rule.min_overlap
        overlap_words = shared.groupby("pair")["token"].agg(" ".join).reindex(pair, fill_value="")
    # "nothing changes" earns nothing even if it repeats the constraint's words; a hedged,
    # minimal change ("make it a bit smaller, keep the rest") earns half (rubric level 2)
    deflected = _any(resp_arr, rule.deflection)
    partial = _any(resp_arr, rule.partial) & ~deflected
    credit = np.where(deflected, 0.0, np.where(partial, 0.5, addressed.astype(float)))
    n_trig = np.bincount(pos[trig_rows], minlength=n)
    n_credit = np.bincount(pos[trig_rows], weights=credit, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(
            n_trig > 0,
            n_credit / np.maximum(n_trig, 1),
            np.nan if rule.if_no_trigger == "unscored" else 0.0,
        )
    ev_t = _evidence(
        texts,
        trig_rows,
        np.ones(len(trig_rows), np.int64),
        rule.trigger,
        dim,
        f"{rule.id}.trigger",
        rule.weight,
    )
    ev_r = _evidence(
        texts,
        resp_rows,
        addressed.astype(np.int64),
        rule.response,
        dim,
        f"{rule.id}.response",
        rule.weight,
    )
    # an answer that addressed the constraint only by reusing its words quotes those words
    ow = np.asarray(overlap_words.to_numpy(dtype=object))
    no_span = ev_r["span_text"].isna().to_numpy() | (ev_r["start"].to_numpy() < 0)
    if len(ev_r):
        ev_r.loc[no_span, "span_text"] = np.where(
            ow[no_span] != "", "shared words: " + ow[no_span].astype(str), None
        )
        ev_r.loc[no_span, ["start", "end"]] = -1
    # deflected / partial answers quote the words that made them so
    for mask, matcher in ((deflected, rule.deflection), (partial, rule.partial)):
        if mask.any():
            sp = _spans(texts, resp_rows[mask], matcher)
            ev_r.loc[mask, "span_text"] = sp["span_text"].to_numpy()
            ev_r.loc[mask, "start"] = sp["start"].to_numpy()
            ev_r.loc[mask, "end"] = sp["end"].to_numpy()
            ev_r.loc[mask, "count"] = 1
    ev_r["signal"] = np.select(
        [deflected, partial, addressed],
        [f"{rule.id}.deflected", f"{rule.id}.partial", f"{rule.id}.addressed"],
        f"{rule.id}.ignored",
    )
    return value, pd.concat([ev_t, ev_r], ignore_index=True), n_trig


def evaluate_dimension(signals: DimensionSignals, texts: _Texts, n: int, words: np.ndarray):
    """Evaluate all rules of one dimension.

    Returns
    -------
    values : pandas.DataFrame
        One column per rule (values in [0, 1], NaN where a follow-up rule had nothing to
        judge), one row per transcript position.
    evidence : pandas.DataFrame
    missing_trigger : numpy.ndarray of object
        Per transcript, the id of a ``if_no_trigger: unscored`` rule that found no trigger.
    """
    cols, evs = {}, []
    missing = np.full(n, None, dtype=object)
    for rule in signals.rules:
        if rule.type == "phrases":
            v, ev = _phrases(rule, texts, n, words, signals.dimension)
        elif rule.type == "before":
            v, ev = _before(rule, texts, n, signals.dimension)
        else:
            v, ev, n_trig = _followup(rule, texts, n, signals.dimension)
            if rule.if_no_trigger == "unscored":
                missing = np.where((n_trig == 0) & (missing == None), rule.id, missing)  # noqa: E711
        cols[rule.id] = v
        evs.append(ev)
    return pd.DataFrame(cols), pd.concat(evs, ignore_index=True), missing
